"""Rule 5 in Slack: the call list for few customers or VIPs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.notices import Notice
from bot.domain.records import CallTaskRecord


@dataclass(frozen=True, slots=True)
class CallList(Notice):
    tasks: tuple[CallTaskRecord, ...]


@dataclass(frozen=True, slots=True)
class CallsNotTaken(Notice):
    tasks: tuple[CallTaskRecord, ...]


@dataclass(frozen=True, slots=True)
class CallResultForm(Notice):
    task: CallTaskRecord
