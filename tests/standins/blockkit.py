"""Block Kit as Slack's Web API checks it, for the Slack stand-in.

    check_message_blocks(blocks)            # chat.postMessage / update / postEphemeral
    check_view(view, surface="modal")       # views.open / push / update, response_action
    check_view(view, surface="home")        # views.publish

Each raises `BlockKitError`, whose `message` is shaped like the line Slack puts in
`response_metadata.messages`: "[ERROR] <what> [json-pointer:/blocks/0/elements/1/action_id]".
The stand-in answers `invalid_blocks` for messages and `invalid_arguments` for views.

Two layers:
1. Our own walk over the raw JSON, for what slack_sdk's models do not check (or check only
   after quietly fixing the input): the number of blocks per surface; block types Slack
   knows; `block_id` unique within the message or view and at most 255 characters;
   `action_id` unique within one block and at most 255 characters; text objects are
   objects (not bare strings), of type plain_text or mrkdwn, with non-empty text, no
   `emoji` on mrkdwn, and plain_text where Slack wants it (header, button, label, hint,
   placeholder, option, view title/submit/close); option text <= 75 and value <= 150;
   at most 100 options in a select, 5 in an overflow, 10 in checkboxes/radio buttons;
   plain_text_input lengths <= 3000; modal title 1-24, submit/close <= 24, submit
   required with input blocks, private_metadata <= 3000, callback_id and external_id
   <= 255, no submit/close on a Home tab.
2. slack_sdk's own models: `Block.parse` (a missing required field, e.g. an input's label
   or a button's text, or a field the type does not have, e.g. `emoji` on mrkdwn, is a
   TypeError there), `View(**view)`, then `.validate_json()` and `.to_dict()`, which run
   the documented lengths and counts of every nested object (button text 75, value 2000,
   url 3000, section text 3000, fields 10 x 2000, header 150, context elements 10,
   actions elements 25, button style, confirm dialogs, ...).

Not copied: `action_id` unique across a whole view (Slack keys view state by block_id,
then action_id, so only uniqueness within a block is required); which block elements
each block accepts beyond what slack_sdk enforces; image URLs being reachable; rich_text
internals; mrkdwn syntax. Input blocks are accepted in messages: Slack has allowed them
there since April 2021.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

Surface = Literal["message", "modal", "home"]

BLOCK_LIMITS: dict[Surface, int] = {"message": 50, "modal": 100, "home": 100}
ID_LIMIT = 255  # block_id, action_id, callback_id, external_id
VIEW_TITLE_LIMIT = 24  # also submit and close
PRIVATE_METADATA_LIMIT = 3000
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
TEXT_INPUT_LIMIT = 3000  # plain_text_input min_length / max_length
OPTION_LIMITS = {"static_select": 100, "multi_static_select": 100, "overflow": 5,
                 "checkboxes": 10, "radio_buttons": 10}

BLOCK_TYPES = frozenset({
    "actions", "context", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "video", "table", "call", "context_actions",
})
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})

# (container type, key) -> the text object there must be plain_text (True) or either (False)
_TEXT_FIELDS: dict[str, dict[str, bool]] = {
    "section": {"text": False},
    "header": {"text": True},
    "input": {"label": True, "hint": True},
    "image": {"title": True},
    "video": {"title": True, "description": True},
    "button": {"text": True},
    "confirm": {"title": True, "text": False, "confirm": True, "deny": True},
    "option": {"text": False, "description": False},
    "option_group": {"label": True},
}


class BlockKitError(ValueError):
    """A payload Slack would refuse; `message` is Slack's "[ERROR] ..." line."""

    def __init__(self, what: str, pointer: str) -> None:
        self.what = what
        self.pointer = pointer
        self.message = f"[ERROR] {what} [json-pointer:{pointer}]"
        super().__init__(self.message)


def check_message_blocks(blocks: Any, *, pointer: str = "/blocks") -> None:
    """Raise BlockKitError if Slack would answer invalid_blocks for these message blocks."""
    _check_blocks(blocks, "message", pointer)


def check_view(view: Any, surface: Literal["modal", "home"], *,
               pointer: str = "/view") -> None:
    """Raise BlockKitError if Slack would answer invalid_arguments for this view."""
    if not isinstance(view, dict):
        raise BlockKitError("must be an object", pointer)
    if view.get("type") != surface:
        raise BlockKitError(f"must be {surface!r}", f"{pointer}/type")
    _check_blocks(view.get("blocks"), surface, f"{pointer}/blocks")
    if surface == "modal":
        if "title" not in view:
            raise BlockKitError("missing required field: title", pointer)
        for part in ("title", "submit", "close"):
            if part in view:
                text = _text_object(view[part], f"{pointer}/{part}", plain=True)
                if len(text) > VIEW_TITLE_LIMIT:
                    raise BlockKitError(f"must be less than {VIEW_TITLE_LIMIT + 1} characters",
                                        f"{pointer}/{part}/text")
        if any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"]) and (
                not view.get("submit")):
            raise BlockKitError("must provide submit when there are input blocks",
                                f"{pointer}/submit")
    else:
        for part in ("title", "submit", "close"):
            if part in view:
                raise BlockKitError(f"{part} is not allowed on a home view", f"{pointer}/{part}")
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA_LIMIT:
        raise BlockKitError(f"must be a string of at most {PRIVATE_METADATA_LIMIT} characters",
                            f"{pointer}/private_metadata")
    for key in ("callback_id", "external_id"):
        if len(str(view.get(key, ""))) > ID_LIMIT:
            raise BlockKitError(f"must be less than {ID_LIMIT + 1} characters",
                                f"{pointer}/{key}")
    _with_sdk(lambda: View(**view).to_dict(), pointer)


# -- blocks ------------------------------------------------------------------------------


def _check_blocks(blocks: Any, surface: Surface, pointer: str) -> None:
    if not isinstance(blocks, list):
        raise BlockKitError("must be an array", pointer)
    limit = BLOCK_LIMITS[surface]
    if len(blocks) > limit:
        raise BlockKitError(f"no more than {limit} items allowed", pointer)
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise BlockKitError("missing required field: type", where)
        if block["type"] not in BLOCK_TYPES:
            raise BlockKitError(f"unsupported type: {block['type']}", f"{where}/type")
        block_id = block.get("block_id")
        if block_id is not None:
            _check_id(block_id, f"{where}/block_id")
            if block_id in block_ids:
                raise BlockKitError(f"duplicate block_id: {block_id}", f"{where}/block_id")
            block_ids.add(block_id)
        _check_block(block, where)
        _with_sdk(lambda b=block: _sdk_block(b), where)


def _check_block(block: dict[str, Any], where: str) -> None:
    kind = block["type"]
    for key, plain in _TEXT_FIELDS.get(kind, {}).items():
        if key in block:
            _text_object(block[key], f"{where}/{key}", plain=plain)
    if kind == "header" and "text" not in block:
        raise BlockKitError("missing required field: text", where)
    if kind == "section":
        for j, item in enumerate(block.get("fields") or []):
            _text_object(item, f"{where}/fields/{j}", plain=False)
    if kind == "context":
        for j, item in enumerate(block.get("elements") or []):
            if isinstance(item, dict) and item.get("type") in TEXT_TYPES:
                _text_object(item, f"{where}/elements/{j}", plain=False)
    if kind == "input":
        for key in ("label", "element"):
            if key not in block:
                raise BlockKitError(f"missing required field: {key}", where)
    action_ids: dict[str, str] = {}
    for element, at in _elements(block, where):
        _check_element(element, at)
        action_id = element.get("action_id")
        if action_id is None:
            continue
        _check_id(action_id, f"{at}/action_id")
        if action_id in action_ids:
            raise BlockKitError(f"duplicate action_id {action_id!r} in one block (first at "
                                f"{action_ids[action_id]})", f"{at}/action_id")
        action_ids[action_id] = at


def _elements(block: dict[str, Any], where: str) -> Iterator[tuple[dict[str, Any], str]]:
    """The interactive elements of a block, with their pointers."""
    if block["type"] in ("actions", "context_actions"):
        for j, element in enumerate(block.get("elements") or []):
            if isinstance(element, dict):
                yield element, f"{where}/elements/{j}"
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict):
            yield element, f"{where}/{key}"


def _check_element(element: dict[str, Any], at: str) -> None:
    kind = element.get("type")
    if not isinstance(kind, str):
        raise BlockKitError("missing required field: type", at)
    if kind == "button":
        if "text" not in element:
            raise BlockKitError("missing required field: text", at)
        _text_object(element["text"], f"{at}/text", plain=True)
    if "placeholder" in element:
        _text_object(element["placeholder"], f"{at}/placeholder", plain=True)
    if isinstance(element.get("confirm"), dict):
        for key, plain in _TEXT_FIELDS["confirm"].items():
            if key in element["confirm"]:
                _text_object(element["confirm"][key], f"{at}/confirm/{key}", plain=plain)
    if kind == "plain_text_input":
        for key in ("min_length", "max_length"):
            value = element.get(key)
            if value is not None and not (isinstance(value, int) and
                                          0 <= value <= TEXT_INPUT_LIMIT):
                raise BlockKitError(f"must be between 0 and {TEXT_INPUT_LIMIT}", f"{at}/{key}")
    options = element.get("options")
    if options is not None:
        limit = OPTION_LIMITS.get(kind, 100)
        if not isinstance(options, list) or not options or len(options) > limit:
            raise BlockKitError(f"must have between 1 and {limit} items", f"{at}/options")
        for j, option in enumerate(options):
            _check_option(option, f"{at}/options/{j}")
    for g, group in enumerate(element.get("option_groups") or []):
        _text_object(group.get("label"), f"{at}/option_groups/{g}/label", plain=True)
        for j, option in enumerate(group.get("options") or []):
            _check_option(option, f"{at}/option_groups/{g}/options/{j}")


def _check_option(option: Any, at: str) -> None:
    if not isinstance(option, dict):
        raise BlockKitError("must be an object", at)
    for key in ("text", "value"):
        if key not in option:
            raise BlockKitError(f"missing required field: {key}", at)
    text = _text_object(option["text"], f"{at}/text", plain=False)
    if len(text) > OPTION_TEXT_LIMIT:
        raise BlockKitError(f"must be less than {OPTION_TEXT_LIMIT + 1} characters",
                            f"{at}/text/text")
    if "description" in option:
        text = _text_object(option["description"], f"{at}/description", plain=False)
        if len(text) > OPTION_TEXT_LIMIT:
            raise BlockKitError(f"must be less than {OPTION_TEXT_LIMIT + 1} characters",
                                f"{at}/description/text")
    value = option["value"]
    if not isinstance(value, str) or not value or len(value) > OPTION_VALUE_LIMIT:
        raise BlockKitError(f"must be a string of 1 to {OPTION_VALUE_LIMIT} characters",
                            f"{at}/value")


# -- composition -------------------------------------------------------------------------


def _text_object(obj: Any, at: str, *, plain: bool) -> str:
    """Check one text object; return its text."""
    if not isinstance(obj, dict):
        raise BlockKitError("must be a text object", at)
    kind = obj.get("type")
    if kind not in TEXT_TYPES:
        raise BlockKitError("must be one of plain_text, mrkdwn", f"{at}/type")
    if plain and kind != "plain_text":
        raise BlockKitError("must be plain_text", f"{at}/type")
    if kind == "mrkdwn" and "emoji" in obj:
        raise BlockKitError("emoji is only allowed on plain_text", f"{at}/emoji")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise BlockKitError("must be a non-empty string", f"{at}/text")
    return text


def _check_id(value: Any, at: str) -> None:
    if not isinstance(value, str) or not value:
        raise BlockKitError("must be a non-empty string", at)
    if len(value) > ID_LIMIT:
        raise BlockKitError(f"must be less than {ID_LIMIT + 1} characters", at)


def _sdk_block(block: dict[str, Any]) -> None:
    parsed = Block.parse(dict(block))
    if parsed is None:
        raise SlackObjectFormationError(f"unsupported type: {block.get('type')}")
    parsed.validate_json()
    parsed.to_dict()  # validates every nested element and composition object


def _with_sdk(check: Any, at: str) -> None:
    """Run a slack_sdk model check; its refusals become BlockKitError at `at`."""
    try:
        check()
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
        raise BlockKitError(str(exc), at) from exc


__all__ = [
    "BLOCK_LIMITS",
    "BlockKitError",
    "Surface",
    "check_message_blocks",
    "check_view",
]
