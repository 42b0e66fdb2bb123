"""The call list in the thread, one row per customer, and the call-result modal."""

from __future__ import annotations

import json

from bot.domain.notices.calls import CallList, CallResultForm, CallsNotTaken
from bot.domain.records import CallStatus, CallTaskRecord
from bot.domain.remedies import Response
from bot.slack.blocks.text import Block, button, context, esc, plain, section, user
from bot.slack.ids import ActionId, CallbackId
from bot.slack.render import Message, message_view, surface_view

OPEN, TAKEN, CALLED = CallStatus.OPEN, CallStatus.TAKEN, CallStatus.CALLED
REMEDY_RESPONSE = "remedy_response"


@message_view(CallList)
def call_list(notice: CallList) -> Message:
    tasks = notice.tasks
    done = sum(1 for t in tasks if t.status == CALLED)
    head = (f":telephone_receiver: *Call list* — {len(tasks)} customer"
            f"{'s' if len(tasks) != 1 else ''} to call personally ({done} called). "
            "The written message goes out too.")
    blocks: list[Block] = [section(head)]
    for task in tasks[:45]:  # 50 blocks per message
        blocks.append(_row(task))
    if len(tasks) > 45:
        blocks.append(context(f"…and {len(tasks) - 45} more in the CSV above."))
    return head, blocks


def _row(task: CallTaskRecord) -> Block:
    contact = (" · ".join(esc(x) for x in (task.phone, task.email) if x)
               or "no phone or e-mail on file")
    star = ":star: " if task.vip else ""
    text = f"{star}*{esc(task.name)}* — {contact}"
    if task.remedy:
        answer = f" · {task.remedy_response.value}" if task.remedy_response else ""
        text += f"\n:gift: Offer: {esc(task.remedy)}{answer}"
    if task.status == TAKEN:
        text += f"\n:telephone: {user(task.assignee_id)} is calling"
    elif task.status == CALLED:
        text += f"\n:white_check_mark: Called by {user(task.assignee_id)}: {esc(task.result)}"
    row = section(text, block_id=f"call:{task.id}")
    if task.status == OPEN:
        row["accessory"] = button("I'll call", ActionId.CALL_TAKE, str(task.id))
    elif task.status == TAKEN:
        row["accessory"] = button("Called", ActionId.CALL_DONE, str(task.id), "primary")
    return row


@message_view(CallsNotTaken)
def not_taken(notice: CallsNotTaken) -> Message:
    tasks = notice.tasks
    names = ", ".join(esc(t.name) for t in tasks[:10])
    text = (f":telephone_receiver: Nobody has taken {len(tasks)} call"
            f"{'s' if len(tasks) != 1 else ''} after 30 min: {names}. Click *I'll call* above.")
    return text, [section(text)]


@surface_view(CallResultForm)
def result_modal(form: CallResultForm) -> Block:
    task = form.task
    blocks: list[Block] = [
        context(f"{esc(task.name)} · {esc(task.phone or task.email or '')}"),
        {"type": "input", "block_id": "result", "label": plain("Result of the call"),
         "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                     "max_length": 1000,
                     "placeholder": plain("e.g. Reached her; she accepts the refund.")}},
    ]
    if task.remedy:
        options = [{"text": plain(text), "value": answer.value} for answer, text in (
            (Response.ACCEPTED, "Accepted it"), (Response.DECLINED, "Declined it"))]
        blocks.append({
            "type": "input", "block_id": REMEDY_RESPONSE, "optional": True,
            "label": plain(f"We offer: {task.remedy}"[:2000]),
            "element": {"type": "radio_buttons", "action_id": "value", "options": options}})
    return {
        "type": "modal", "callback_id": CallbackId.CALL_RESULT,
        "private_metadata": json.dumps({"t": task.id}),
        "title": plain("How did the call go?"), "submit": plain("Save"),
        "close": plain("Cancel"), "blocks": blocks,
    }
