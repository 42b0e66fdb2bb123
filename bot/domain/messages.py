"""Customer messages from templates a team can edit (product rules 4, 5, 6 and 8).

The default templates live in `bot/templates/`; a team may put its own versions of any
of them in a directory of its own, which is searched first. Output is plain text for
helpdesk tickets and status posts, so nothing is HTML-escaped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jinja2

from bot.domain.apology.rules import MessageKind
from bot.domain.severity import Severity

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class Scale(StrEnum):
    """How many customers a mistake hit, which decides the channel (product rule 5)."""

    FEW = "few"  # a personal touch: calls plus a written message
    MANY = "many"  # a written message on every ticket
    EVERYONE = "everyone"  # a written message and a public status post


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a template may say. Text fields are whole sentences written by the team."""

    customer_name: str | None  # "Ana" → "Hi Ana,"; None → "Hello,"
    what_happened: str  # our mistake, in the first person: "We printed the wrong address."
    impact: str  # what it did to the customer: "Your parcel went to our Leeds depot."
    what_we_do: str  # the fix; for an update, the progress; for a follow-up, what we did
    next_update_at_text: str  # already formatted for the customer: "15:30 today (UK time)"
    remedy: str | None  # "We have refunded your delivery fee of £12."
    incident_ref: str  # "INC-42"
    team_signature: str  # "Priya, Customer Care"
    severity: Severity = Severity.MAJOR
    prevention: str | None = None  # follow-up: what we changed so it will not happen again
    status_url: str | None = None  # public status page, for mistakes that hit everyone

    @property
    def greeting(self) -> str:
        name = (self.customer_name or "").strip()
        return f"Hi {name}," if name else "Hello,"


class TemplateProblem(Exception):
    """A template is missing or broken (usually a team-edited one); the message says which."""


def choose_scale(customer_count: int, few_max: int = 5, everyone: bool = False) -> Scale:
    """FEW up to `few_max` customers, MANY above; EVERYONE when the whole base is hit."""
    if customer_count < 0 or few_max < 0:
        raise ValueError("customer_count and few_max cannot be negative")
    if everyone:
        return Scale.EVERYONE
    return Scale.FEW if customer_count <= few_max else Scale.MANY


def template_name(kind: MessageKind, scale: Scale) -> str:
    """Apologies differ by scale; updates and follow-ups use one template each."""
    if kind is MessageKind.APOLOGY:
        return f"apology_{scale.value}.j2"
    return f"{kind.value}.j2"


def render_message(kind: MessageKind, scale: Scale, *, context: MessageContext,
                   template_dir: Path | None = None) -> str:
    """The customer-facing text; templates in `template_dir` win over the defaults."""
    name = template_name(kind, scale)
    try:
        template = _environment(template_dir).get_template(name)
        text = template.render(
            greeting=context.greeting,
            customer_name=context.customer_name,
            what_happened=context.what_happened,
            impact=context.impact,
            what_we_do=context.what_we_do,
            next_update_at_text=context.next_update_at_text,
            remedy=context.remedy,
            incident_ref=context.incident_ref,
            team_signature=context.team_signature,
            severity=context.severity.value,
            prevention=context.prevention,
            status_url=context.status_url,
            scale=scale.value,
            kind=kind.value,
        )
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"No template named {name}.") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.name or name}, line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"{name}: {exc}") from exc
    return _tidy(text)


def sentence(value: object) -> str:
    """Template filter: a trimmed sentence with a capital letter and a full stop."""
    text = " ".join(str(value or "").split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


@functools.lru_cache(maxsize=32)
def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 -- plain text for tickets and status posts, never HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["sentence"] = sentence
    return env


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces: optional parts leave no holes."""
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"
