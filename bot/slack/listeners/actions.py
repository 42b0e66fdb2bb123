"""Buttons and selects in the thread and in DMs."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import customers, escalation, home, incidents
from bot.services.context import Deps
from bot.slack.ids import ActionId
from bot.slack.outbound import SlackDeliveryError


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_acknowledge(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = body["user"]["id"]
        try:
            incident = await escalation.acknowledge(deps, int(action["value"]), user_id)
        except escalation.Refusal as refusal:
            await refuse(deps, body, str(refusal))
            return
        await incidents.refresh_card(deps, incident.id)
        await incidents.offer_apology(deps, incident)
        await home.refresh(deps, _people(incident))

    async def on_pick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        incident_id = int(action["block_id"].split(":", 1)[1])
        try:
            await escalation.pick_supervisor(deps, incident_id, body["user"]["id"],
                                             action["selected_user"])
        except escalation.Refusal as refusal:
            await refuse(deps, body, str(refusal))
            return
        await incidents.refresh_card(deps, incident_id)

    async def on_lookup_again(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        try:
            lookup_id = await customers.again(deps, int(action["value"]), body["user"]["id"])
        except customers.LookupRefused as refusal:
            await refuse(deps, body, str(refusal))
            return
        await customers.run(deps, lookup_id)

    app.action(ActionId.ACKNOWLEDGE.value)(deps.in_flight.track(on_acknowledge))
    app.action(ActionId.REFRESH_CUSTOMERS.value)(deps.in_flight.track(on_lookup_again))
    app.action(ActionId.RETRY_LOOKUP.value)(deps.in_flight.track(on_lookup_again))
    app.action(ActionId.PICK_SUPERVISOR.value)(deps.in_flight.track(on_pick))


def _people(incident: Any) -> list[str | None]:
    return [incident.declarer_id, incident.supervisor_id, incident.backup_supervisor_id]


async def refuse(deps: Deps, body: dict[str, Any], text: str) -> None:
    """Tell only the person who clicked, where they clicked."""
    channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
    try:
        await deps.slack.ephemeral(channel, body["user"]["id"], f":no_entry: {text}")
    except SlackDeliveryError:
        await deps.slack.dm(body["user"]["id"], text, [])
