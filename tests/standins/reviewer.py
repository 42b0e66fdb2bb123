"""A stand-in for an OpenAI-compatible chat completions server (the optional reviewer
model): a real HTTP server on 127.0.0.1, `POST /v1/chat/completions`, answering what the
test scripts, and recording every request.

    async with ReviewerStandIn(api_key="sk-test") as reviewer:
        reviewer.findings = [{"rule": "blame", "quote": "our courier", ...}]  # a good answer
        reviewer.content = "this is not JSON"      # the model's reply, verbatim, instead
        reviewer.hang = True                       # never answer (until the stand-in stops)
        reviewer.status = 503                      # answer with this status
        ...
        assert reviewer.requests[-1]["model"] == "test-model"
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web


class ReviewerStandIn:
    def __init__(self, *, api_key: str | None = None, host: str = "127.0.0.1") -> None:
        self.api_key = api_key
        self.host = host
        self.port: int | None = None
        self.findings: list[dict[str, Any]] = []
        self.content: str | None = None  # the reply verbatim, when set
        self.hang = False
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("ReviewerStandIn is not started")
        return f"http://{self.host}:{self.port}/v1"

    async def __aenter__(self) -> ReviewerStandIn:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)
        if self.hang:
            await self._release.wait()
            return web.json_response({}, status=503)
        if self.status != 200:
            return web.json_response({"error": {"message": "scripted"}}, status=self.status)
        if not isinstance(body.get("messages"), list) or "model" not in body:
            return web.json_response({"error": {"message": "bad request"}}, status=400)
        content = self.content if self.content is not None else json.dumps(
            {"findings": self.findings})
        return web.json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
        })
