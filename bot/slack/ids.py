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
    REMEDIES = "remedies_open"
    APPROVE_REMEDIES = "remedies_approve"
    ADD_CUSTOMERS = "customers_add"
    EDIT_INCIDENT = "incident_edit"


class CallbackId(StrEnum):
    DECLARE = "declare_incident"
    DRAFT_APOLOGY = "draft_apology"
    REQUEST_CHANGES = "request_changes"
    CALL_RESULT = "call_result"
    REMEDIES = "remedies"
    APPROVE_REMEDIES = "remedies_approve"
    ADD_CUSTOMERS = "add_customers"
    EDIT_INCIDENT = "edit_incident"


class CloseLoopActionId(StrEnum):
    """Closing the loop: resolve, reopen, follow-up, review, actions, close (issue 12)."""

    RESOLVE = "incident_resolve"
    REOPEN = "incident_reopen"
    WRITE_FOLLOW_UP = "follow_up_write"
    SKIP_FOLLOW_UP = "follow_up_skip"  # no affected customer: nobody to follow up
    START_REVIEW = "review_start"
    CLOSE = "incident_close"
    ACTION_DONE = "review_action_done"
    ACTION_SNOOZE = "review_action_snooze"


class CloseLoopCallbackId(StrEnum):
    RESOLVE = "resolve_incident"
    REOPEN = "reopen_incident"
    FOLLOW_UP = "follow_up"
    REVIEW = "review_incident"
