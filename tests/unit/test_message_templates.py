"""Customer message templates: every default passes the apology check, teams can override."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.apology import MessageKind, check_message, summarize
from bot.domain.messages import (
    PACKAGE_TEMPLATES,
    MessageContext,
    Scale,
    TemplateProblem,
    choose_scale,
    render_message,
    sentence,
    template_name,
)
from bot.domain.severity import Severity


def _context(severity: Severity, *, name: str | None = "Ana", remedy: str | None = "x",
             prevention: str | None = "x") -> MessageContext:
    return MessageContext(
        customer_name=name,
        what_happened="we printed the wrong address on the label of your order #4821",
        impact="Your parcel went to our Leeds depot, so the shelving did not reach you.",
        what_we_do="We are re-sending your order today by express delivery.",
        next_update_at_text="17:00 today (UK time)",
        remedy=("We have refunded your £12 delivery fee." if remedy == "x" else remedy),
        incident_ref="INC-42",
        team_signature="Priya, Customer Care",
        severity=severity,
        prevention=("Every label is now scanned against its order before the parcel leaves."
                    if prevention == "x" else prevention),
        status_url="https://status.example.com/inc-42",
    )


CASES = [(kind, scale, severity, remedy)
         for kind in MessageKind for scale in Scale for severity in Severity
         for remedy in ("x", None)]


@pytest.mark.parametrize(("kind", "scale", "severity", "remedy"), CASES)
def test_default_templates_pass_the_check_clean(kind: MessageKind, scale: Scale,
                                                severity: Severity, remedy: str | None) -> None:
    """Every default template, at every scale and severity, with or without a remedy."""
    text = render_message(kind, scale, context=_context(severity, remedy=remedy))
    findings = check_message(text, kind=kind, severity=severity)
    assert findings == [], summarize(findings) + "\n\n" + text
    assert "None" not in text and "\n\n\n" not in text and text.endswith("\n")
    assert "INC-42" in text and "Priya, Customer Care" in text
    if kind is not MessageKind.FOLLOW_UP:
        assert "17:00 today (UK time)" in text


def test_greeting_uses_the_name_or_a_plain_hello() -> None:
    """“Hi Ana,” for a named customer, “Hello,” otherwise."""
    named = render_message(MessageKind.APOLOGY, Scale.FEW, context=_context(Severity.MAJOR))
    anonymous = render_message(MessageKind.APOLOGY, Scale.MANY,
                               context=_context(Severity.MAJOR, name="  "))
    assert named.startswith("Hi Ana,\n") and anonymous.startswith("Hello,\n")


def test_severity_and_scale_change_the_words() -> None:
    """Critical apologies say how serious it is; few gets a call; everyone gets the status page."""
    def render(scale: Scale, severity: Severity) -> str:
        return render_message(MessageKind.APOLOGY, scale, context=_context(severity))
    assert "how serious" in render(Scale.MANY, Severity.CRITICAL)
    assert "how serious" not in render(Scale.MANY, Severity.MINOR)
    assert "call you" in render(Scale.FEW, Severity.MINOR)
    assert "call you" not in render(Scale.MANY, Severity.MINOR)
    assert "https://status.example.com/inc-42" in render(Scale.EVERYONE, Severity.MAJOR)


def test_optional_parts_leave_no_trace() -> None:
    """No remedy means no “What we offer you:” line; no prevention shows in the check."""
    text = render_message(MessageKind.APOLOGY, Scale.MANY,
                          context=_context(Severity.MINOR, remedy=None))
    assert "What we offer you" not in text
    follow_up = render_message(MessageKind.FOLLOW_UP, Scale.MANY,
                               context=_context(Severity.MINOR, prevention=None))
    rules = [f.rule.value for f in check_message(follow_up, kind=MessageKind.FOLLOW_UP,
                                                 severity=Severity.MINOR)]
    assert rules == ["missing_prevention"]


def test_team_templates_override_the_defaults(tmp_path: Path) -> None:
    """A template in the team's directory wins; the others still come from the package."""
    (tmp_path / "update.j2").write_text("{{ greeting }} Ours: {{ what_we_do | sentence }}\n")
    ctx = _context(Severity.MINOR)
    assert render_message(MessageKind.UPDATE, Scale.MANY, context=ctx, template_dir=tmp_path) \
        == "Hi Ana, Ours: We are re-sending your order today by express delivery.\n"
    apology = render_message(MessageKind.APOLOGY, Scale.MANY, context=ctx, template_dir=tmp_path)
    assert apology == render_message(MessageKind.APOLOGY, Scale.MANY, context=ctx)


def test_broken_team_templates_are_explained(tmp_path: Path) -> None:
    """Unknown variables and syntax errors raise TemplateProblem naming the template."""
    (tmp_path / "update.j2").write_text("{{ customer_phone }}\n")
    (tmp_path / "follow_up.j2").write_text("line one\n{% if %}\n")
    ctx = _context(Severity.MINOR)
    with pytest.raises(TemplateProblem, match="update.j2.*customer_phone"):
        render_message(MessageKind.UPDATE, Scale.MANY, context=ctx, template_dir=tmp_path)
    with pytest.raises(TemplateProblem, match="follow_up.j2, line 2"):
        render_message(MessageKind.FOLLOW_UP, Scale.MANY, context=ctx, template_dir=tmp_path)


def test_output_is_not_html_escaped() -> None:
    """Plain text: ampersands and angle brackets reach the customer as written."""
    ctx = _context(Severity.MINOR, remedy="We refund P&P <and> the item.")
    assert "P&P <and>" in render_message(MessageKind.APOLOGY, Scale.MANY, context=ctx)


def test_every_default_template_ships_with_the_package() -> None:
    """Each template the code can ask for exists in bot/templates, which is a package."""
    assert (PACKAGE_TEMPLATES / "__init__.py").is_file()
    for kind in MessageKind:
        for scale in Scale:
            assert (PACKAGE_TEMPLATES / template_name(kind, scale)).is_file()


@pytest.mark.parametrize(("count", "few_max", "everyone", "expected"), [
    (1, 5, False, Scale.FEW),
    (5, 5, False, Scale.FEW),
    (6, 5, False, Scale.MANY),
    (6, 10, False, Scale.FEW),
    (0, 5, False, Scale.FEW),
    (3, 5, True, Scale.EVERYONE),
    (5000, 5, False, Scale.MANY),
])
def test_choose_scale(count: int, few_max: int, everyone: bool, expected: Scale) -> None:
    """Few up to the limit, many above it, everyone when the whole base is hit."""
    assert choose_scale(count, few_max, everyone) is expected


def test_choose_scale_rejects_negative_counts() -> None:
    """A negative count is a bug upstream, not a scale."""
    with pytest.raises(ValueError, match="negative"):
        choose_scale(-1)


def test_sentence_filter() -> None:
    """Trimmed, capitalised, one space between words, ending in punctuation."""
    assert sentence("  we re-sent   it ") == "We re-sent it."
    assert sentence("Done!") == "Done!"
    assert sentence(None) == "" and sentence("   ") == ""
