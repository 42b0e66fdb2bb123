"""`amends manifest`: the Slack app manifest per mode, with the configured command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import manifest
from bot.cli import main


def test_http_manifest_points_every_url_at_slack_events_and_turns_socket_mode_off() -> None:
    """HTTP mode: socket_mode_enabled false, command, events and interactivity at /slack/events."""
    data = yaml.safe_load(manifest.render("http", command="/sorry", url="https://bot.example.com/"))
    url = "https://bot.example.com/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["features"]["slash_commands"] == [{
        "command": "/sorry", "url": url,
        "description": "Declare and run incidents that hurt customers",
        "usage_hint": "declare [title] | list | status 12 | help", "should_escape": True}]
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert data["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened", "file_shared"]


def test_socket_manifest_has_no_urls_and_turns_socket_mode_on() -> None:
    """Socket Mode: socket_mode_enabled true and no request URL anywhere."""
    text = manifest.render("socket", command="/amends")
    data = yaml.safe_load(text)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "url" not in data["features"]["slash_commands"][0]
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert "request_url" not in data["settings"]["interactivity"]
    assert "http" not in text.split("\n", 1)[1].replace("https://api.slack.com/apps", "")


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_scopes_are_only_those_the_code_uses(mode: str) -> None:
    """Bot scopes: commands, chat:write(.public), files:write/read; no users:read or im:write."""
    data = yaml.safe_load(manifest.render(mode, url="https://b.example.com"  # type: ignore[arg-type]
                                          if mode == "http" else None))
    assert data["oauth_config"]["scopes"]["bot"] == [
        "commands", "chat:write", "chat:write.public", "files:write", "files:read"]


def test_scopes_cover_every_web_api_method_the_bot_calls() -> None:
    """Every method called in bot/slack/outbound.py has its scope listed (or needs none)."""
    source = (Path(__file__).parents[2] / "bot/slack/outbound.py").read_text()
    called = set(re.findall(r'_call\(\s*"(\w+)"', source))
    needs = {"chat_postMessage": "chat:write", "chat_update": "chat:write",
             "chat_postEphemeral": "chat:write", "files_upload_v2": "files:write",
             "views_publish": None, "views_open": None, "files_info": "files:read"}
    assert called <= set(needs), f"new Web API method(s): {called - set(needs)}"
    assert {needs[m] for m in called if needs[m]} <= set(manifest.SCOPES)


def test_cli_prints_the_manifest_with_amends_command(monkeypatch, capsys, tmp_path) -> None:
    """`amends manifest --socket` uses AMENDS_COMMAND from the settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMENDS_COMMAND", "/oops")
    assert main(["manifest", "--socket"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["features"]["slash_commands"][0]["command"] == "/oops"


def test_cli_refuses_an_http_manifest_without_a_url(monkeypatch, capsys, tmp_path) -> None:
    """`amends manifest --http notaurl` says what to pass and exits 2."""
    monkeypatch.chdir(tmp_path)
    assert main(["manifest", "--http", "bot.example.com"]) == 2
    assert "--http needs the bot's public address" in capsys.readouterr().err
