"""Coalescing look-ups by id into batched requests (Zendesk's `show_many`, ≤ 100 ids).

Callers ask for ids whenever they like (`load_many`); the loader keeps one request
"armed" while ids are pending. The armed request takes the ids pending at the moment
the rate limiter lets it go (the requester calls `take()` then), so when requests
are being paced, batches fill up while they wait, and when they are not, nobody
waits for a batch to fill. Results (and "not found") are cached for a while, so the
same organization is fetched once per look-up, not once per page of tickets.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

V = TypeVar("V")
Take = Callable[[], list[str]]
FetchBatch = Callable[[Take], Awaitable[dict[str, V]]]

_MISSING = object()


class BatchLoader(Generic[V]):
    def __init__(
        self,
        fetch: FetchBatch[V],
        *,
        max_batch: int = 100,
        ttl: float = 300.0,
        max_cached: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.max_batch = max_batch
        self.ttl = ttl
        self.max_cached = max_cached
        self.clock = clock
        self._pending: OrderedDict[str, asyncio.Future[V | None]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[V | None]] = {}
        self._cache: OrderedDict[str, tuple[float, V | None]] = OrderedDict()
        self._armed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0

    def _cached(self, key: str) -> object:
        entry = self._cache.get(key)
        if entry is None:
            return _MISSING
        expires, value = entry
        if expires < self.clock():
            del self._cache[key]
            return _MISSING
        return value

    def _remember(self, key: str, value: V | None) -> None:
        self._cache[key] = (self.clock() + self.ttl, value)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    async def load_many(self, keys: Iterable[str]) -> dict[str, V]:
        """The values found for `keys` (missing ones are left out)."""
        loop = asyncio.get_running_loop()
        results: dict[str, V] = {}
        waiting: dict[str, asyncio.Future[V | None]] = {}
        for key in dict.fromkeys(keys):
            hit = self._cached(key)
            if hit is not _MISSING:
                if hit is not None:
                    results[key] = hit  # type: ignore[assignment]  # _cached returns V or the sentinel
                continue
            future = self._pending.get(key) or self._inflight.get(key)
            if future is None:
                future = loop.create_future()
                self._pending[key] = future
            waiting[key] = future
        self._arm()
        if waiting:
            values = await asyncio.gather(*(asyncio.shield(f) for f in waiting.values()))
            for key, value in zip(waiting, values, strict=True):
                if value is not None:
                    results[key] = value
        return results

    def _arm(self) -> None:
        if self._pending and not self._armed:
            self._armed = True
            task = asyncio.get_running_loop().create_task(self._run_batch())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_batch(self) -> None:
        taken: dict[str, asyncio.Future[V | None]] = {}
        took = False

        def take() -> list[str]:
            nonlocal took
            if not took:
                took = True
                self._armed = False
                while self._pending and len(taken) < self.max_batch:
                    key, future = self._pending.popitem(last=False)
                    taken[key] = future
                    self._inflight[key] = future
                self._arm()  # more pending than one batch holds: arm the next
            return list(taken)

        try:
            found = await self.fetch(take)
        except BaseException as error:
            if not took:  # failed before its slot: fail what is pending, disarm
                self._armed = False
                taken.update(self._pending)
                self._pending.clear()
            failure = error if isinstance(error, Exception) else asyncio.CancelledError()
            for future in taken.values():
                if not future.done():
                    future.set_exception(failure)
                    future.exception()  # retrieved here; callers still get it
            if not isinstance(error, Exception):
                raise
        else:
            self.batches += 1
            for key, future in taken.items():
                value = found.get(key)
                self._remember(key, value)
                if not future.done():
                    future.set_result(value)
        finally:
            for key in taken:
                self._inflight.pop(key, None)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
