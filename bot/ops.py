"""The operator's endpoints, served in both modes:

    GET /healthz   live: the process answers and its scheduler runs (cheap, no I/O)
    GET /readyz    ready: the database answers SELECT 1 and Slack accepts the token
    GET /metrics   Prometheus exposition of the runtime's own registry

HTTP mode mounts `routes()` next to /slack/events; Socket Mode has no other HTTP server,
so `serve_socket_mode` runs `create_ops_app()` on --port for the health check and scrapes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot import logs, preflight
from bot.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from bot.runtime import Runtime

SLACK_CHECK_SECONDS = 30.0  # /readyz asks Slack at most this often (probes come every few s)


def routes(get_runtime: Callable[[], Runtime]) -> list[Route]:
    slack_ok: dict[str, float] = {}  # monotonic time of the last good auth.test

    async def healthz(_request: Request) -> Response:
        runtime = get_runtime()
        running = runtime.scheduler.running
        body = {"ok": running, "replica": runtime.timers.owner,
                "scheduler": "running" if running else "stopped"}
        return JSONResponse(body, status_code=200 if running else 503)

    async def readyz(_request: Request) -> Response:
        runtime = get_runtime()
        checks: dict[str, str] = {}
        try:
            await preflight.check_database(runtime.engine)
            checks["database"] = "ok"
        except preflight.StartupError as error:
            checks["database"] = str(error)
        now = time.monotonic()
        if now - slack_ok.get("at", -SLACK_CHECK_SECONDS) < SLACK_CHECK_SECONDS:
            checks["slack"] = "ok"
        else:
            try:
                await preflight.check_slack(runtime.app.client,
                                            runtime.settings.slack_api_url)
                slack_ok["at"] = now
                checks["slack"] = "ok"
            except preflight.StartupError as error:
                checks["slack"] = str(error)
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)

    async def metrics(_request: Request) -> Response:
        runtime = get_runtime()
        await runtime.metrics.refresh(runtime.deps.sessions)
        return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def create_ops_app(runtime: Runtime) -> Starlette:
    """Socket Mode's small HTTP server: the operator's endpoints (and the built-in status
    page, when AMENDS_PUBLIC_STATUS is on)."""
    from bot import public_status  # late: public_status reads storage, ops stays light

    extra = (public_status.routes(lambda: runtime)
             if runtime.settings.amends_public_status else [])
    return Starlette(routes=[*routes(lambda: runtime), *extra])


class RequestIdMiddleware:
    """Puts the request's X-Request-Id (from the load balancer, or a new one) into the logs
    and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope.get("headers") or () if k == b"x-request-id"), b"")
        value = incoming.decode("latin-1")[:64] or secrets.token_hex(6)
        token = logs.request_id.set(value)

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", value.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)
