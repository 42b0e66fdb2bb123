"""Socket Mode as a process: health on --port, one line per failed connection, clean SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from tests.ops.conftest import AMENDS, amends_env, free_port, run_amends
from tests.standins.slack_api import SlackStandIn

TOKEN = "xoxb-socket-token"


async def _wait_for_health(port: int, process: asyncio.subprocess.Process) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError("amends exited before serving /healthz")
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError("no /healthz within 30 s")


async def test_socket_mode_serves_health_logs_reconnects_in_one_line_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """SIGTERM: exit 0 after 'stopped'; a failing connection logs one line, no traceback."""
    port = free_port()
    async with SlackStandIn(token=TOKEN) as slack:
        # The stand-in has no apps.connections.open: every connection attempt fails.
        env = amends_env(SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="xapp-1-test",
                         SLACK_API_URL=slack.base_url,
                         DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}")
        process = await asyncio.create_subprocess_exec(
            *AMENDS, "serve", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            health = await _wait_for_health(port, process)
            code, out, _err = await run_amends("health", "--port", str(port),
                                               cwd=tmp_path, env=env)
            await asyncio.sleep(0.5)  # the first connection attempt fails meanwhile
            process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert health.status_code == 200 and health.json()["ok"] is True
    assert (code, out.strip()) == (0, "/healthz: 200")
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    failures = [line for line in stderr.splitlines() if "Failed to connect" in line]
    assert len(failures) >= 1
    assert all(line.endswith("(SlackApiError)") for line in failures), failures
    assert stderr.strip().splitlines()[-1].endswith("bot.cli stopped")
    assert "shutting down" in stderr


async def test_health_says_so_when_nothing_answers(tmp_path: Path) -> None:
    """`amends health` exits 1 with one line when no server listens on the port."""
    code, _out, err = await run_amends("health", "--port", str(free_port()), cwd=tmp_path,
                                       env=amends_env())
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "nothing answers on port" in err
