"""Telegram's overall cap shared by every process of one bot token (PostgreSQL).

Each process paces itself with `RateLimiter`'s timeline; with several workers (bot/workers.py)
each would take the whole cap. `ClusterRateLimiter` keeps the same evenly spaced timeline in the
database instead (table `rate_timeline`, by the server's clock): a send reserves the next free
slot with one short autocommit UPDATE on its own connection (never inside an update's unit of
work, so no lock is held), then sleeps until it. A 429's pause is written there too, so every
worker obeys it. If the database cannot be reached the process falls back to its own timeline
(logged), so a send is delayed, never lost.

Replies go before the wave inside each process (`SharedBudget`) and across processes: the wave
takes a slot only while the shared timeline is nearly idle (`acquire_when_idle`: no more than two
slots reserved ahead of now), so replies any worker queued go first and the wave gets what they
leave.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reminders.ratelimit import RateLimiter

log = logging.getLogger(__name__)

_RESERVE = text(
    "UPDATE rate_timeline SET next_at = GREATEST(next_at, paused_until,"
    " EXTRACT(EPOCH FROM clock_timestamp()) - :burst) + :interval"
    " WHERE name = :name RETURNING next_at - :interval, EXTRACT(EPOCH FROM clock_timestamp())")
_RESERVE_IF_IDLE = text(
    "UPDATE rate_timeline SET next_at = GREATEST(next_at, paused_until,"
    " EXTRACT(EPOCH FROM clock_timestamp()) - :burst) + :interval"
    " WHERE name = :name AND next_at <= EXTRACT(EPOCH FROM clock_timestamp()) + :slack"
    " RETURNING next_at - :interval, EXTRACT(EPOCH FROM clock_timestamp())")
_BACKLOG = text("SELECT next_at - EXTRACT(EPOCH FROM clock_timestamp()) FROM rate_timeline WHERE name = :name")
_PAUSE = text(
    "UPDATE rate_timeline SET paused_until = GREATEST(paused_until, EXTRACT(EPOCH FROM clock_timestamp()) + :s),"
    " next_at = GREATEST(next_at, EXTRACT(EPOCH FROM clock_timestamp()) + :s) WHERE name = :name")
_ENSURE = text("INSERT INTO rate_timeline(name) VALUES (:name) ON CONFLICT (name) DO NOTHING")


class ClusterRateLimiter(RateLimiter):
    def __init__(self, rate_per_s: float, url: str, *, name: str = "overall", burst_s: float = 0.1,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        super().__init__(rate_per_s, burst_s=burst_s, monotonic=monotonic, sleep=sleep)
        self.url, self.name = url, name
        self._engine: AsyncEngine | None = None
        self._ready = False
        self._pausing: set[asyncio.Task] = set()
        self.fallbacks = 0

    def _connect(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_async_engine(self.url, pool_size=1, max_overflow=2, isolation_level="AUTOCOMMIT")
        return self._engine

    async def _ensure(self, conn) -> None:
        """The timeline's row, made once per process."""
        if not self._ready:
            await conn.execute(_ENSURE, {"name": self.name})
            self._ready = True

    async def reserve(self) -> tuple[float, float]:
        """The next slot of the shared timeline and the server's now (seconds since the epoch)."""
        async with self._connect().connect() as conn:
            await self._ensure(conn)
            row = (await conn.execute(_RESERVE, {"name": self.name, "burst": self.burst_s,
                                                 "interval": self.interval})).one()
        return float(row[0]), float(row[1])

    async def reserve_if_idle(self) -> tuple[float, float] | float:
        """The next slot and the server's now, if no more than two slots are reserved ahead of
        now; otherwise how many seconds are reserved ahead (the backlog)."""
        async with self._connect().connect() as conn:
            await self._ensure(conn)
            row = (await conn.execute(_RESERVE_IF_IDLE, {"name": self.name, "burst": self.burst_s,
                                                         "interval": self.interval,
                                                         "slack": 2 * self.interval})).first()
            if row is not None:
                return float(row[0]), float(row[1])
            return float((await conn.execute(_BACKLOG, {"name": self.name})).scalar_one())

    async def acquire_when_idle(self) -> float:
        """The wave's slot: only behind what every worker's replies reserved (they go first)."""
        while True:
            try:
                found = await self.reserve_if_idle()
            except Exception as exc:  # noqa: BLE001 - the database is away: pace this process alone
                self.fallbacks += 1
                log.warning("shared rate budget unreachable (%s): pacing this process alone", type(exc).__name__)
                return await super().acquire()
            if isinstance(found, tuple):
                return await self._until(*found)
            await self._sleep(max(found - 2 * self.interval, self.interval))  # the replies' backlog drains

    async def acquire(self) -> float:
        try:
            slot, now = await self.reserve()
        except Exception as exc:  # noqa: BLE001 - the database is away: pace this process alone
            self.fallbacks += 1
            log.warning("shared rate budget unreachable (%s): pacing this process alone", type(exc).__name__)
            return await super().acquire()
        return await self._until(slot, now)

    async def _until(self, slot: float, now: float) -> float:
        if slot > now:
            await self._sleep(slot - now)
        local_pause = self._paused_until - self._monotonic()  # a 429 seen here, not yet written
        if local_pause > 0:
            await self._sleep(local_pause)
        return self._monotonic()

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        task = asyncio.get_running_loop().create_task(self._pause_everywhere(seconds))
        self._pausing.add(task)
        task.add_done_callback(self._pausing.discard)

    async def _pause_everywhere(self, seconds: float) -> None:
        try:
            async with self._connect().connect() as conn:
                await conn.execute(_PAUSE, {"name": self.name, "s": max(seconds, 0.0)})
        except Exception as exc:  # noqa: BLE001 - this process still pauses (super().pause)
            log.warning("could not share a 429 pause (%s)", type(exc).__name__)

    async def close(self) -> None:
        if self._pausing:
            await asyncio.gather(*self._pausing, return_exceptions=True)
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
