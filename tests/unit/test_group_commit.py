"""Group commit: callers that arrive together share one write; a bad item fails only itself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.services.group_commit import GroupCommit


class Writes:
    """A stand-in transaction: records each batch; `held` keeps the current one open."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.failing = failing
        self.held = asyncio.Event()
        self.held.set()

    async def write(self, batch: Sequence[int]) -> list[str]:
        self.batches.append(list(batch))
        await self.held.wait()
        if self.failing & set(batch):
            raise ValueError(f"bad item in {list(batch)}")
        return [f"saved {n}" for n in batch]


async def test_a_lone_caller_is_written_at_once_alone() -> None:
    writes = Writes()
    assert await GroupCommit(writes.write).submit(1) == "saved 1"
    assert writes.batches == [[1]]


async def test_callers_arriving_during_a_write_share_the_next_one_in_order() -> None:
    writes = Writes()
    commit = GroupCommit(writes.write)
    writes.held.clear()
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)  # the writer has taken [1] and holds it open
    later = [asyncio.create_task(commit.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    writes.held.set()
    assert await first == "saved 1"
    assert [await task for task in later] == ["saved 2", "saved 3", "saved 4"]
    assert writes.batches == [[1], [2, 3, 4]]


async def test_a_batch_is_no_larger_than_most() -> None:
    writes = Writes()
    commit = GroupCommit(writes.write, most=2)
    writes.held.clear()
    tasks = [asyncio.create_task(commit.submit(n)) for n in range(5)]
    await asyncio.sleep(0)
    writes.held.set()
    await asyncio.gather(*tasks)
    assert writes.batches == [[0, 1], [2, 3], [4]]


async def test_one_bad_item_fails_only_its_own_caller() -> None:
    writes = Writes(failing=frozenset({3}))
    commit = GroupCommit(writes.write)
    writes.held.clear()
    tasks = [asyncio.create_task(commit.submit(n)) for n in (1, 2, 3, 4)]
    await asyncio.sleep(0)
    writes.held.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == ["saved 1", "saved 2"] and results[3] == "saved 4"
    assert isinstance(results[2], ValueError)
    assert writes.batches == [[1, 2, 3, 4], [1], [2], [3], [4]]  # rolled back, then alone


async def test_a_caller_that_gives_up_does_not_stop_the_write_or_the_others() -> None:
    writes = Writes()
    commit = GroupCommit(writes.write)
    writes.held.clear()
    tasks = [asyncio.create_task(commit.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    tasks[0].cancel()
    writes.held.set()
    assert await tasks[1] == "saved 2"
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    assert writes.batches == [[1, 2]]  # written all the same: a retry finds it


async def test_callers_waiting_when_the_writer_is_cancelled_are_not_left_hanging() -> None:
    writes = Writes()
    commit = GroupCommit(writes.write)
    writes.held.clear()
    tasks = [asyncio.create_task(commit.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    assert commit._writer is not None
    commit._writer.cancel()  # the process shutting down mid-write
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def test_callers_waiting_when_the_writer_is_cancelled_mid_write_are_not_left_hanging(
) -> None:
    writes = Writes()
    commit = GroupCommit(writes.write)
    writes.held.clear()
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the writer is inside the write of [1]
    second = asyncio.create_task(commit.submit(2))
    await asyncio.sleep(0)
    assert writes.batches == [[1]] and commit._writer is not None
    commit._writer.cancel()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def test_a_caller_arriving_as_the_writer_finishes_is_still_written() -> None:
    writes = Writes()
    commit = GroupCommit(writes.write)
    assert await commit.submit(1) == "saved 1"
    # The writer is done, but its done-callback may not have run yet: not a reason to wait.
    assert await asyncio.wait_for(commit.submit(2), 5) == "saved 2"


async def test_an_enqueued_future_waited_on_with_a_limit_gives_up_alone() -> None:
    """`enqueue` hands back the future itself; a caller whose time limit passes stops
    waiting (its future cancelled), and the batch is still written for the others."""
    writes = Writes()
    commit = GroupCommit(writes.write)
    writes.held.clear()
    impatient, patient = commit.enqueue(1), commit.enqueue(2)
    done, _ = await asyncio.wait({impatient}, timeout=0)
    assert not done
    impatient.cancel()
    writes.held.set()
    assert await patient == "saved 2"
    assert writes.batches == [[1, 2]] and impatient.cancelled()
