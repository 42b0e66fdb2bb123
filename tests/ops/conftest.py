"""Running `amends` as a separate process, the way an operator does."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

AMENDS = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def amends_env(**values: str) -> dict[str, str]:
    """A clean environment: nothing from the developer's shell or .env leaks in."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SLACK_", "AMENDS_", "DATABASE_", "ZENDESK_", "FRESHDESK_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


async def run_amends(*args: str, cwd: Path, env: dict[str, str],
                     within: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *AMENDS, *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
