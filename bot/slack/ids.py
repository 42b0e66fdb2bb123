"""Every action id, callback id and block id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    ACKNOWLEDGE = "incident_acknowledge"
    PICK_SUPERVISOR = "incident_pick_supervisor"
    REFRESH_CUSTOMERS = "customers_refresh"
    RETRY_LOOKUP = "customers_retry"
    DRAFT_APOLOGY = "apology_draft"
    APPROVE_MESSAGE = "message_approve"
    REQUEST_CHANGES = "message_request_changes"
    EDIT_MESSAGE = "message_edit"
    RETRY_DELIVERY = "delivery_retry"
    CALL_TAKE = "call_take"
    POST_UPDATE = "update_post"
    SNOOZE = "reminder_snooze"  # 15 minutes
    SNOOZE_LONG = "reminder_snooze_long"  # 1 hour: Slack wants action_ids unique in a block
    CALL_DONE = "call_done"
    ADD_CUSTOMERS = "customers_add"


class CallbackId(StrEnum):
    DECLARE = "declare_incident"
    DRAFT_APOLOGY = "draft_apology"
    REQUEST_CHANGES = "request_changes"
    CALL_RESULT = "call_result"
    ADD_CUSTOMERS = "add_customers"
