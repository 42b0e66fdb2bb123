"""What several listeners share: opening a form, answering only the person who acted."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck
from slack_bolt.response import BoltResponse

from bot.domain.errors import Refusal
from bot.domain.notices import Notice
from bot.domain.notices.escalation import BotNote
from bot.inflight import Pressure
from bot.services.context import Deps
from bot.services.ports import SlackDeliveryError

log = logging.getLogger(__name__)

AFTER_ACK_WAIT = 1.0  # seconds, at most: under a steady stream there is no quiet moment

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

SORRY = ("Something went wrong on my side and I logged it. Anything you saved is kept; "
         "please try again in a minute.")

# A form's private_metadata and state come back from Slack as we wrote them; anything else
# (an old version of the form, or a request we did not make) is answered, never a 500.
STALE_FORM = (KeyError, ValueError, TypeError, AttributeError)
OUT_OF_DATE = "This form is out of date. Close it and open it again from the thread."


async def open_form(deps: Deps, trigger_id: str, form: Notice) -> None:
    try:
        await deps.slack.open_view(trigger_id, form)
    except SlackDeliveryError:
        raise Refusal("Slack did not let me open the form in time; click again.") from None


async def tell(deps: Deps, body: object, text: str) -> None:
    """Tell only the person who acted, where they acted (their DM as a fall-back)."""
    user_id = _id(body, "user")
    if not user_id:
        return
    channel = _id(body, "channel") or user_id
    try:
        await deps.slack.ephemeral(channel, user_id, f":no_entry: {text}")
    except SlackDeliveryError:
        try:
            await deps.slack.dm(user_id, BotNote(f":no_entry: {text}"))
        except SlackDeliveryError:
            return  # nowhere left to say it; the log has the Slack error


def _id(body: object, what: str) -> str | None:
    """`body[what]["id"]` (interactions) or `body[what + "_id"]` (commands), if a string;
    the error handler must not fail on a body of an unexpected shape."""
    if not isinstance(body, dict):
        return None
    nested = body.get(what)
    value = nested.get("id") if isinstance(nested, dict) else body.get(f"{what}_id")
    return value if isinstance(value, str) and value else None


def listener(deps: Deps, function: F) -> F:
    """A listener as Bolt should run it: tracked for shutdown, and with what it raises
    after its ack answered here (`answer_error`), never handed back to Bolt.

    Why not Bolt's error handler for those: when a listener raises after acking, Bolt's
    runner sets the ack's response back to None after the handler ran, and its loop, which
    polls every 10 ms for the ack, may not have seen it yet: it then waits out the
    3 seconds and answers 404 ("didn't call ack()"). A refusal that comes back quickly (an
    "Already acknowledged" after a double click) did exactly that under load."""

    @functools.wraps(function)
    async def answered(*args: Any, **kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        if ack is not None:
            kwargs["ack"] = _AckFirst(ack, deps.pressure)
        try:
            return await function(*args, **kwargs)
        except Exception as error:
            if ack is None or ack.response is None:
                raise  # not acked yet: Bolt answers the request and calls `answer_error`
            await answer_error(deps, error, kwargs.get("body", kwargs.get("command")))
            return None

    return deps.in_flight.track(answered)  # type: ignore[return-value]  # same signature


class _AckFirst:
    """A listener's `ack`, after which the listener goes on only once every Slack request
    waiting for its ack has had it (up to `AFTER_ACK_WAIT` seconds): in a burst of 100
    clicks, the first clicks' transactions and messages would otherwise share the event
    loop with the other clicks' acks and push the last ones back."""

    def __init__(self, ack: AsyncAck, pressure: Pressure) -> None:
        self._ack, self._pressure = ack, pressure

    @property
    def response(self) -> BoltResponse | None:
        return self._ack.response

    @response.setter
    def response(self, response: BoltResponse | None) -> None:
        # An answer serialised beforehand (a shared list page), given as the ack as is.
        self._ack.response = response

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await self._ack(*args, **kwargs)
        await self._pressure.quiet(within=AFTER_ACK_WAIT)
        return response


async def answer_error(deps: Deps, error: Exception, body: object) -> None:
    """The one place a use case's refusal becomes an answer to whoever acted; anything
    else is logged and answered with an apology (never a stack trace)."""
    if isinstance(error, Refusal):
        await tell(deps, body, str(error))
        return
    log.exception("unhandled error in a Slack listener", exc_info=error)
    try:
        await tell(deps, body, SORRY)
    except Exception:  # noqa: BLE001 - already in the error path; the log has it
        log.warning("could not tell user about the error")
