"""Settings: defaults, normalisation, and one clear line per bad variable."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def test_defaults_need_nothing_but_slack_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no environment, the database is a local SQLite file and 15 minutes is the timeout."""
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///amends.db"
    assert settings.amends_escalation_timeout_minutes == 15
    assert settings.missing_slack_credentials() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]


def test_postgres_urls_get_the_async_driver() -> None:
    """postgres:// and postgresql:// are accepted as people paste them."""
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert load_settings(env_file=None, database_url=url).database_url == (
            "postgresql+asyncpg://u@h/db")


@pytest.mark.parametrize(("name", "value"), [
    ("AMENDS_ESCALATION_TIMEOUT_MINUTES", "soon"),
    ("AMENDS_ESCALATION_TIMEOUT_MINUTES", "0"),
    ("AMENDS_INCIDENT_CHANNEL", "#incidents"),
    ("SLACK_API_URL", "slack dot com"),
    ("DATABASE_URL", "mysql://x"),
    ("AMENDS_REVIEWER_URL", "localhost:8000"),
    ("AMENDS_REVIEWER_TIMEOUT_SECONDS", "60"),
])
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """A malformed variable stops start-up with a line naming it and what it should hold."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert str(caught.value).startswith(f"{name} is not valid: it should be")
    assert "\n" not in str(caught.value)


def test_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values in .env are used when the environment does not set them."""
    monkeypatch.delenv("AMENDS_ESCALATION_TIMEOUT_MINUTES", raising=False)
    env = tmp_path / ".env"
    env.write_text("AMENDS_ESCALATION_TIMEOUT_MINUTES=7\nSLACK_BOT_TOKEN=xoxb-1\n")
    settings = load_settings(env_file=env)
    assert settings.amends_escalation_timeout_minutes == 7
    assert settings.slack_bot_token is not None and "xoxb" not in repr(settings)


def test_serve_without_tokens_says_what_to_set_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`amends serve` with no Slack tokens prints what to set and where to get them."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "Signing Secret" in err and "manifest" in err


def test_reviewer_is_off_by_default_and_needs_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reviewer unless AMENDS_REVIEWER_URL is set; a URL without a model stops start-up."""
    for name in ("AMENDS_REVIEWER_URL", "AMENDS_REVIEWER_MODEL", "AMENDS_REVIEWER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(env_file=None)
    assert settings.amends_reviewer_url is None and settings.amends_reviewer_timeout_seconds == 4
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, amends_reviewer_url="http://127.0.0.1:8000/v1/")
    assert str(caught.value).startswith("AMENDS_REVIEWER_MODEL is not set")
    ok = load_settings(env_file=None, amends_reviewer_url="http://127.0.0.1:8000/v1/",
                       amends_reviewer_model="m")
    assert ok.amends_reviewer_url == "http://127.0.0.1:8000/v1"
