"""Notices: plain records of what the bot tells people in Slack, one class per kind of
message, form or Home view. Use cases build them from records and hand them to the
Slack port; the Slack adapter draws each with its view (`bot/slack/render.py` says
which). Nothing here knows Block Kit, and every text field holds what a person or a
helpdesk wrote, unescaped: the views escape it.

One module per surface: `escalation`, `apology`, `calls`, `customers`, `reminders`,
`chases`, `home`, `replies`.
"""

from __future__ import annotations


class Notice:
    """Base of every notice (a marker: the Slack port takes nothing else)."""

    __slots__ = ()
