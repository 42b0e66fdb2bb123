"""Group commit: requests that arrive together share one transaction.

Used for declares (one write for a burst of them) and for `/amends list` (one read for
everyone asking at the same moment).

Under a burst, each declare's own transaction is a handful of round trips to the database
and a commit, and every round trip waits for a turn of a busy event loop. Here callers hand
their item in and wait; one writer takes everything waiting, writes it in one transaction
and answers each caller. While a batch is being written the next one gathers, so there is
no timer: a lone request goes at once, and the busier it gets, the bigger the batches.

Every batch is written (or read) after all of its items arrived, so no caller is answered
from a transaction that began before it asked. One bad item must not fail the others: if a
batch fails, its items are written again one by one, so only the item that fails again
gets the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *,
                 most: int = 100) -> None:
        self._write_batch = write
        self._most = most  # a bound on one transaction's size (and its statements' length)
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Items waiting for the next batch (not those being written now)."""
        return len(self._waiting)

    async def submit(self, item: T) -> R:
        """`item` written (with whatever else is waiting); `write`'s answer for it."""
        return await self.enqueue(item)

    def enqueue(self, item: T) -> asyncio.Future[R]:
        """`submit` as a future, for a caller that waits with a time limit: waiting on
        the future itself takes fewer turns of the event loop than on a task around
        `submit`. Cancelling the future gives up waiting; the write goes on."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
            self._writer.add_done_callback(self._abandon)
        return future

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[:self._most]
            del self._waiting[:self._most]
            await self._write(batch)

    def _abandon(self, writer: asyncio.Task[None]) -> None:
        """The writer was cancelled (shutting down), perhaps before it began: nobody may
        wait for ever. Unless a newer writer has taken over what is waiting."""
        if writer.cancelled() and self._writer is writer:
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = list(await self._write_batch([item for item, _ in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} answers for {len(batch)} items")
        except Exception as error:
            if len(batch) == 1:
                if not batch[0][1].done():  # done: its caller gave up (cancelled)
                    batch[0][1].set_exception(error)
                return
            for one in batch:  # the transaction rolled back: find the one that fails
                await self._write([one])
            return
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # done: its caller gave up; the write stands, as a retry finds
                future.set_result(result)


async def through(commit: GroupCommit[T, R] | None,
                  write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], item: T) -> R:
    """`item` through `commit` (the runtime sets one), or written alone with `write`
    when there is none (use cases called without a runtime, as in storage tests)."""
    if commit is None:
        return (await write([item]))[0]
    return await commit.submit(item)
