"""Start-up's objects are frozen, so the collector's full passes do not pause the loop."""

from __future__ import annotations

import gc
from pathlib import Path

from bot.config import load_settings
from bot.runtime import Runtime


async def test_start_freezes_what_start_up_built_and_close_lets_it_go(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, slack_bot_token="xoxb-test",
                             slack_signing_secret="s" * 32,
                             database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    runtime = await Runtime.create(settings)
    await runtime.start(schedule=False)
    try:
        # Unfrozen, a full collection walks every one of these (about 90 ms on 2 cores);
        # the pause itself is measured in bench/ack.py, not here.
        assert gc.get_freeze_count() > len(gc.get_objects()), "most of the heap is frozen"
    finally:
        await runtime.close()
    assert gc.get_freeze_count() == 0
