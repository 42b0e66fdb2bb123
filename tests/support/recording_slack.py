"""The Slack port as a recording fake: every notice the services hand it is kept, in order,
and every call answers as Slack would on success (for service tests and benchmarks that
read no thread through the Slack stand-in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.notices import Notice
from bot.services.ports import Posted, SharedFile, SharedFileInfo, SlackDeliveryError


@dataclass
class RecordingSlack:
    posted: list[tuple[str, Notice]] = field(default_factory=list)
    files: dict[str, SharedFile] = field(default_factory=dict)

    async def post(self, channel: str, notice: Notice, thread_ts: str | None = None) -> Posted:
        self.posted.append((channel, notice))
        return Posted(channel, f"{len(self.posted)}.0")

    async def dm(self, user_id: str, notice: Notice) -> Posted:
        return await self.post(user_id, notice)

    async def update(self, channel: str, ts: str, notice: Notice) -> None:
        self.posted.append((channel, notice))

    async def ephemeral(self, channel: str, user_id: str, text: str) -> None:
        return None

    async def open_view(self, trigger_id: str, notice: Notice) -> None:
        return None

    async def publish_home(self, user_id: str, notice: Notice) -> None:
        return None

    async def upload(self, *, channel: str, thread_ts: str | None, filename: str, title: str,
                     content: str) -> None:
        return None

    async def file_info(self, file_id: str) -> SharedFileInfo:
        if file_id not in self.files:
            raise SlackDeliveryError(code="file_not_found", channel=None)
        shared = self.files[file_id]
        return SharedFileInfo(file_id, shared.name, "csv", "text/csv", len(shared.content),
                              "U0DECLARER")

    async def fetch_file(self, file_id: str, *, max_bytes: int) -> SharedFile:
        if file_id not in self.files:
            raise SlackDeliveryError(code="file_not_found", channel=None)
        return self.files[file_id]
