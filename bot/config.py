"""Settings from the environment, then `.env`, then defaults (pydantic-settings).

A missing or malformed setting stops start-up with one line per variable that
names it and says what it should hold.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.remedies import ApprovalPolicy, parse_thresholds, parse_types
from integrations.helpdesk.settings import validate_base_url

SLACK_API_DEFAULT = "https://slack.com/api/"

HINTS = {
    "SLACK_BOT_TOKEN": "the app's Bot User OAuth Token (xoxb-…), from OAuth & Permissions",
    "SLACK_SIGNING_SECRET": "the app's Signing Secret, from Basic Information → App Credentials",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, for Socket Mode",
    "SLACK_API_URL": "an http(s) URL ending in /api/, e.g. https://slack.com/api/",
    "DATABASE_URL": "a SQLAlchemy URL, e.g. sqlite+aiosqlite:///amends.db or postgresql://…",
    "DATABASE_POOL_SIZE": "a whole number of PostgreSQL connections kept open, 1 to 100",
    "DATABASE_MAX_OVERFLOW": "a whole number of extra PostgreSQL connections at peaks, 0 to 100",
    "DATABASE_POOL_TIMEOUT": "seconds to wait for a free PostgreSQL connection, 1 to 300",
    "AMENDS_INCIDENT_CHANNEL": "a Slack channel ID such as C0123456789 (not a #name)",
    "AMENDS_ESCALATION_TIMEOUT_MINUTES": "a whole number of minutes between 1 and 1440",
    "AMENDS_COMMAND": "the slash command's name, starting with /, e.g. /amends",
    "AMENDS_ADMIN_USERS": "comma-separated Slack user IDs, e.g. U012AB3CD,U045EF6GH",
    "ZENDESK_URL": "your Zendesk address, https://yourcompany.zendesk.com",
    "ZENDESK_EMAIL": "the e-mail of the Zendesk agent whose API token is used",
    "ZENDESK_API_TOKEN": "a Zendesk API token (Admin Center → Apps and integrations → APIs)",
    "FRESHDESK_URL": "your Freshdesk address, https://yourcompany.freshdesk.com",
    "FRESHDESK_API_KEY": "a Freshdesk API key (Profile settings → View API key)",
    "ZENDESK_WEBHOOK_SECRET": "the signing secret of the Zendesk webhook that posts to "
                              "/webhooks/zendesk (Admin Center → Webhooks → Signing secret)",
    "FRESHDESK_WEBHOOK_SECRET": "a long random string, also sent by the Freshdesk automation "
                                "as the X-Amends-Webhook-Secret header",
    "HELPDESK_MAX_CONCURRENCY": "a whole number of parallel requests between 1 and 32",
    "AMENDS_UPDATES_NEED_APPROVAL": "true or false",
    "AMENDS_CHASE_POLL_MINUTES": "minutes between polls for chases (0 = never)",
    "AMENDS_TEAM_TIMEZONE": "an IANA time zone such as Europe/London",
    "AMENDS_ONCALL_HANDOVER": "a weekday and a 24-hour time, e.g. monday 09:00",
    "AMENDS_ONCALL_PERIOD_DAYS": "a whole number of days between 1 and 60",
    "AMENDS_TEMPLATE_DIR": "a folder of .j2 message templates (copies of bot/templates)",
    "AMENDS_LOG_FORMAT": "plain (one readable line per event) or json (one JSON object a line)",
    "AMENDS_FOLLOW_UP_WITHIN_DAYS": "a whole number of days between 1 and 60",
    "AMENDS_REVIEW_CATEGORIES": "comma-separated words, e.g. billing,shipping,outage,data",
    "AMENDS_REMEDY_APPROVAL_ABOVE": "CURRENCY:AMOUNT pairs, e.g. EUR:100,USD:120 (optionally "
                                    "%:20 for discounts and *:50 for any other currency)",
    "AMENDS_REMEDY_APPROVAL_TYPES": "comma-separated remedy types, e.g. refund,replacement "
                                    "(refund, discount, credit, expedited, replacement, "
                                    "waived_fee, nothing)",
    "FRESHDESK_EMAIL_CONFIG_ID": "the ID of the Freshdesk mailbox that outbound tickets are "
                                 "sent from (Admin → Email), a whole number",
    "STATUSPAGE_API_KEY": "an Atlassian Statuspage API key (your avatar → API info)",
    "STATUSPAGE_PAGE_ID": "the Statuspage page ID (API info)",
    "STATUSPAGE_COMPONENTS": "comma-separated Statuspage component IDs that incidents affect",
    "STATUSPAGE_URL": "the Statuspage API address, https://api.statuspage.io",
    "AMENDS_PUBLIC_STATUS": "true or false: serve the built-in status page at /status",
    "AMENDS_PUBLIC_STATUS_TITLE": "the name shown on the built-in status page (1-100 characters)",
    "AMENDS_PUBLIC_URL": "the address people reach amends at, e.g. https://amends.example.com",
    "AMENDS_STATUS_URL": "the public status page customers are pointed to, an https URL",
    "AMENDS_REVIEWER_URL": "an OpenAI-compatible API base, e.g. https://api.openai.com/v1 or "
                           "http://127.0.0.1:8000/v1 for a local server",
    "AMENDS_REVIEWER_MODEL": "the model name the reviewer server knows, e.g. gpt-4o-mini",
    "AMENDS_REVIEWER_API_KEY": "the reviewer server's API key (empty for a local server "
                               "without one)",
    "AMENDS_REVIEWER_TIMEOUT_SECONDS": "seconds to wait for the reviewer, 0.5 to 10",
}


class ConfigError(Exception):
    """Start-up configuration is missing or malformed; str() is fit to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_DEFAULT
    database_url: str = "sqlite+aiosqlite:///amends.db"
    # PostgreSQL, per replica: replicas × (pool_size + max_overflow) < max_connections.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    database_max_overflow: int = Field(default=10, ge=0, le=100)
    database_pool_timeout: float = Field(default=30.0, ge=1, le=300)
    # Background work (jobs, timers, customer messages) has its own, smaller pool, so
    # Slack's requests always find a connection: add it to the sum above.
    database_background_pool_size: int = Field(default=4, ge=1, le=50)
    # Background workers per replica: Slack-side jobs (cards, DMs, Home tabs) and
    # helpdesk look-ups, each their own lane so that a slow look-up never holds a card back.
    amends_background_workers: int = Field(default=4, ge=1, le=64)
    amends_lookup_workers: int = Field(default=4, ge=1, le=64)
    amends_incident_channel: str | None = None
    amends_escalation_timeout_minutes: int = Field(default=15, ge=1, le=1440)
    amends_command: str = "/amends"
    amends_admin_users: str = ""
    amends_scheduler_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # A slash command's answer goes in the ack when ready this soon; else the ack says
    # "Looking…" and the answer follows through the response_url (Slack allows 3 s).
    amends_command_answer_within_seconds: float = Field(default=0.25, gt=0, le=2.5)
    zendesk_url: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    freshdesk_url: str | None = None
    freshdesk_api_key: SecretStr | None = None
    zendesk_webhook_secret: SecretStr | None = None
    freshdesk_webhook_secret: SecretStr | None = None
    amends_chase_poll_minutes: float = Field(default=5, ge=0, le=1440)
    helpdesk_max_concurrency: int = Field(default=8, ge=1, le=32)
    amends_template_dir: Path | None = None
    amends_updates_need_approval: bool = False
    amends_team_timezone: str = "UTC"
    amends_oncall_handover: str = "monday 09:00"
    amends_oncall_period_days: int = Field(default=7, ge=1, le=60)
    amends_log_format: Literal["plain", "json"] = "plain"
    amends_follow_up_within_days: int = Field(default=3, ge=1, le=60)
    amends_review_categories: str = "billing,shipping,outage,data,communication,other"

    @field_validator("amends_review_categories")
    @classmethod
    def _categories(cls, value: str) -> str:
        words = [w.strip().lower() for w in value.split(",") if w.strip()]
        if not words or any(not re.fullmatch(r"[a-z0-9][a-z0-9 _-]{0,47}", w) for w in words):
            raise ValueError("not a list of categories")
        return ",".join(dict.fromkeys(words))

    @property
    def review_categories(self) -> tuple[str, ...]:
        return tuple(self.amends_review_categories.split(","))

    amends_remedy_approval_above: str = ""
    amends_remedy_approval_types: str = ""

    @field_validator("amends_remedy_approval_above")
    @classmethod
    def _remedy_above(cls, value: str) -> str:
        parse_thresholds(value)
        return value

    @field_validator("amends_remedy_approval_types")
    @classmethod
    def _remedy_types(cls, value: str) -> str:
        parse_types(value)
        return value

    @property
    def remedy_policy(self) -> ApprovalPolicy:
        return ApprovalPolicy(parse_thresholds(self.amends_remedy_approval_above),
                              parse_types(self.amends_remedy_approval_types))

    @property
    def remedy_currency(self) -> str:
        """The currency the remedy form starts with: the first one given a threshold."""
        codes = [c for c in parse_thresholds(self.amends_remedy_approval_above)
                 if c not in ("%", "*")]
        return codes[0] if codes else "EUR"

    # Outbound tickets on Freshdesk are sent from this mailbox (issue 14).
    freshdesk_email_config_id: int | None = Field(default=None, ge=1)
    # Everyone affected: Atlassian Statuspage, and/or the built-in page at /status.
    statuspage_api_key: SecretStr | None = None
    statuspage_page_id: str | None = None
    statuspage_components: str = ""
    statuspage_url: str = "https://api.statuspage.io"
    amends_public_status: bool = False
    amends_public_status_title: str = Field(default="Service status", min_length=1,
                                            max_length=100)
    amends_public_url: str | None = None
    amends_status_url: str | None = None

    @field_validator("statuspage_url", "amends_public_url", "amends_status_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("not a URL")
        return value.rstrip("/")

    @property
    def status_page_components(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.statuspage_components.split(",") if c.strip())

    @field_validator("freshdesk_email_config_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # The optional reviewer model (off unless the URL is set: drafts would leave the company).
    amends_reviewer_url: str | None = None
    amends_reviewer_model: str | None = None
    amends_reviewer_api_key: SecretStr | None = None
    amends_reviewer_timeout_seconds: float = Field(default=4.0, ge=0.5, le=10)

    @field_validator("amends_reviewer_url")
    @classmethod
    def _reviewer_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("not a URL")
        return value.rstrip("/")

    @field_validator("amends_team_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone") from None
        return value

    @field_validator("amends_oncall_handover")
    @classmethod
    def _handover(cls, value: str) -> str:
        if not re.fullmatch(r"(?i)(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
                            r" ([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("not a weekday and time")
        return value.strip().lower()

    @field_validator("amends_template_dir")
    @classmethod
    def _template_dir(cls, value: Path | None) -> Path | None:
        if value in (None, Path("")):
            return None
        if not value.is_dir():
            raise ValueError("not a folder")
        return value

    @field_validator("zendesk_url", "freshdesk_url")
    @classmethod
    def _helpdesk_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        return validate_base_url(str(info.field_name).split("_")[0], value)

    def incomplete_helpdesks(self) -> list[str]:
        """Variables a half-configured helpdesk still needs."""
        missing = []
        if self.zendesk_url and not self.zendesk_email:
            missing.append("ZENDESK_EMAIL")
        if self.zendesk_url and not self.zendesk_api_token:
            missing.append("ZENDESK_API_TOKEN")
        if self.freshdesk_url and not self.freshdesk_api_key:
            missing.append("FRESHDESK_API_KEY")
        if self.amends_reviewer_url and not self.amends_reviewer_model:
            missing.append("AMENDS_REVIEWER_MODEL")
        return missing

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("not a URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("amends_incident_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[CG][A-Z0-9]{6,}", value):
            raise ValueError("not a channel ID")
        return value

    @field_validator("amends_command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError("not a slash command")
        return value

    @field_validator("amends_admin_users")
    @classmethod
    def _admins(cls, value: str) -> str:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        if any(not re.fullmatch(r"[UW][A-Z0-9]+", i) for i in ids):
            raise ValueError("not user IDs")
        return ",".join(ids)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        return async_database_url(value)

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(filter(None, self.amends_admin_users.split(",")))

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def missing_slack_credentials(self) -> list[str]:
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if not self.slack_signing_secret and not self.socket_mode:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


def async_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the async driver."""
    if "://" not in url:
        raise ValueError("not a database URL")
    scheme, rest = url.split("://", 1)
    drivers = {
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
    }
    if scheme in drivers:
        return f"{drivers[scheme]}://{rest}"
    if scheme in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        return url
    raise ValueError("unsupported database")


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Settings, or ConfigError with one line per bad variable."""
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]  # _env_file is pydantic-settings' init-only argument
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            hint = HINTS.get(name, "a valid value")
            lines.append(f"{name} is not valid: it should be {hint}.")
        raise ConfigError("\n".join(lines)) from None
    missing = settings.incomplete_helpdesks()
    if missing:
        raise ConfigError("\n".join(f"{name} is not set: it should be {HINTS[name]}."
                                    for name in missing))
    return settings
