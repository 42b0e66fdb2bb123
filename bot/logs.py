"""Logging for `amends serve`: our own messages, and libraries kept quiet.

Nothing with customer data or secrets may reach the log at any level. Our own messages
carry ids, counts and error codes only. Several libraries log what passes through them:

    httpx, httpcore   every request line at INFO, query string included
                      ("GET …/search?query=requester%3Aana%40example.com")
    slack_sdk         request and response bodies at DEBUG (messages to customers, names)
    slack_bolt        request bodies at DEBUG and INFO
    aiosqlite         every statement with its parameters at DEBUG
    sqlalchemy        statements with parameters at INFO when echo is on

so they log warnings and errors only, whatever level the rest runs at.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("httpx", "httpcore", "slack_sdk", "slack_bolt", "aiosqlite", "sqlalchemy", "aiohttp")


def quiet_libraries() -> None:
    """Raise the libraries that log bodies, URLs or SQL parameters to WARNING."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    quiet_libraries()
