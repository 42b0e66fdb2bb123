"""HTTP mode: one ASGI app serving Slack's requests and a health check."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from storage.db import ping

log = logging.getLogger(__name__)


def create_asgi_app(make_runtime: Callable[[], Awaitable[Runtime]]) -> Starlette:
    state: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        runtime = await make_runtime()
        await runtime.start()
        state["runtime"] = runtime
        state["handler"] = AsyncSlackRequestHandler(runtime.app)  # type: ignore[assignment]
        try:
            yield
        finally:
            await runtime.close()

    async def slack_events(request: Request) -> Response:
        return await state["handler"].handle(request)  # type: ignore[attr-defined]

    async def healthz(_request: Request) -> Response:
        try:
            await ping(state["runtime"].engine)
        except Exception:  # noqa: BLE001 - any failure means unhealthy; details go to the log
            log.exception("health check failed")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
