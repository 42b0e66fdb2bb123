"""HTTP mode: one ASGI app serving Slack's requests, helpdesk webhooks and the operator's
endpoints.

Every POST body is read up to a cap and its signature checked before anything parses it
(bot/inbound.py); Bolt sees only signed requests whose body it can read.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from pydantic import SecretStr
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import inbound, ops, public_status, webhooks
from bot.runtime import Runtime
from bot.services import chases

log = logging.getLogger(__name__)


def create_asgi_app(
    make_runtime: Callable[[], Awaitable[Runtime]], *, public_status_page: bool = False
) -> Starlette:
    state: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        runtime = await make_runtime()
        await runtime.start()
        state["runtime"] = runtime
        try:
            yield
        finally:
            await runtime.close()

    async def slack_events(request: Request) -> Response:
        runtime = state["runtime"]
        body = await inbound.read_body(request, inbound.SLACK_MAX_BODY)
        if body is None:
            return _too_large()
        secret = _secret(runtime.settings.slack_signing_secret)
        headers = dict(request.headers.items())  # once: each lookup in Headers is a scan
        if not inbound.slack_signed(secret, headers, body, now=runtime.deps.clock.now()):
            return JSONResponse({"ok": False, "error": "bad signature"}, status_code=401)
        slack_request = inbound.slack_request(body, headers, request.query_params)
        if slack_request is None:
            return JSONResponse({"ok": False, "error": "unreadable body"}, status_code=400)
        # Straight to Bolt's dispatch: the body is parsed once (Bolt's own adapter would
        # read and parse it again), which is a tenth of an ack's time under a burst.
        return to_starlette_response(await runtime.app.async_dispatch(slack_request))

    async def zendesk_webhook(request: Request) -> Response:
        runtime = state["runtime"]
        secret = _secret(runtime.settings.zendesk_webhook_secret)
        if not secret:
            return Response(status_code=404)  # chase detection by webhook is off
        body = await inbound.read_body(request, webhooks.MAX_BODY)
        if body is None:
            return _too_large()
        if not webhooks.zendesk_signed(secret, request.headers.get(webhooks.ZENDESK_TIMESTAMP),
                                       body, request.headers.get(webhooks.ZENDESK_SIGNATURE),
                                       now=runtime.deps.clock.now()):
            return JSONResponse({"ok": False, "error": "bad signature"}, status_code=401)
        return await _comment(runtime, "zendesk", body)

    async def freshdesk_webhook(request: Request) -> Response:
        runtime = state["runtime"]
        secret = _secret(runtime.settings.freshdesk_webhook_secret)
        if not secret:
            return Response(status_code=404)
        body = await inbound.read_body(request, webhooks.MAX_BODY)
        if body is None:
            return _too_large()
        if not webhooks.shared_secret_ok(secret, request.headers.get(webhooks.FRESHDESK_HEADER)):
            return JSONResponse({"ok": False, "error": "bad secret"}, status_code=401)
        return await _comment(runtime, "freshdesk", body)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/webhooks/zendesk", zendesk_webhook, methods=["POST"]),
            Route("/webhooks/freshdesk", freshdesk_webhook, methods=["POST"]),
            # --- operator endpoints (bot/ops.py): /healthz, /readyz, /metrics ---
            *ops.routes(lambda: state["runtime"]),
            # --- the built-in status page (bot/public_status.py), when it is on ---
            *(public_status.routes(lambda: state["runtime"]) if public_status_page else []),
        ],
        middleware=[Middleware(ops.RequestIdMiddleware)],  # X-Request-Id into the logs
        lifespan=lifespan,
    )


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


def _too_large() -> Response:
    return JSONResponse({"ok": False, "error": "too large"}, status_code=413)


async def _comment(runtime: Runtime, helpdesk: str, body: bytes) -> Response:
    """Record a chase (if it is one) and answer at once; Slack hears about it afterwards."""
    try:
        comment = webhooks.parse_comment(body)
    except webhooks.BadPayload as error:
        return JSONResponse({"ok": False, "error": str(error)}, status_code=400)
    chase_id = await chases.receive(runtime.deps, helpdesk, comment)  # Slack hears it later
    return JSONResponse({"ok": True, "chase": chase_id is not None})
