"""Telegram's overall cap is per bot token: on PostgreSQL every process reserves its sends on one
timeline in the database (reminders/cluster_ratelimit.py)."""
from __future__ import annotations

import asyncio

import pytest

from db.database import Database
from reminders.cluster_ratelimit import ClusterRateLimiter


@pytest.fixture
def db_kind() -> str:
    """PostgreSQL only: one SQLite process paces itself (reminders/ratelimit.py)."""
    return "postgresql"


@pytest.fixture
async def pg_url(db_url):
    database = await Database(db_url).open()  # migrated: rate_timeline exists
    await database.execute("DELETE FROM rate_timeline")
    await database.close()
    return db_url


async def test_two_workers_share_one_timeline(pg_url):
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:  # the reservations are what is checked, not waiting
        slept.append(seconds)

    a = ClusterRateLimiter(30, pg_url, burst_s=0, sleep=no_sleep)
    b = ClusterRateLimiter(30, pg_url, burst_s=0, sleep=no_sleep)
    try:
        slots = await asyncio.gather(*[(a if i % 2 else b).reserve() for i in range(60)])
        starts = sorted(slot for slot, _ in slots)
        gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
        assert min(gaps) == pytest.approx(1 / 30, abs=1e-6) and max(gaps) == pytest.approx(1 / 30, abs=1e-6)
        last_now = max(now for _, now in slots)
        assert starts[-1] - last_now > 1.5  # 60 sends at 30/s: the last one two seconds out, for both

        # a 429 seen by one worker pauses the other too
        a.pause(5.0)
        await asyncio.gather(*a._pausing)
        slot, now = await b.reserve()
        assert slot - now >= 4.9
        await b.acquire()
        assert slept[-1] >= 4.9  # b slept through the pause a was told about
    finally:
        await a.close()
        await b.close()


async def test_without_the_database_a_worker_paces_itself(pg_url):
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    limiter = ClusterRateLimiter(10, "postgresql+asyncpg://postgres@127.0.0.1:1/none", burst_s=0, sleep=no_sleep)
    try:
        for _ in range(3):
            await limiter.acquire()
        assert limiter.fallbacks == 3 and len(slept) == 2 and slept[-1] > 0.15  # its own 10/s timeline
    finally:
        await limiter.close()


async def test_the_wave_goes_behind_every_workers_replies(pg_url):
    """Replies first across workers too: worker A has replies reserved 1.5 s ahead on the shared
    timeline; worker B's wave takes its slot only behind them, and A's next reply is no more than
    two slots behind the wave's."""
    a = ClusterRateLimiter(20, pg_url, burst_s=0)
    b = ClusterRateLimiter(20, pg_url, burst_s=0)
    try:
        replies = [slot for slot, _ in [await a.reserve() for _ in range(30)]]   # 1.5 s of replies
        found = await b.reserve_if_idle()
        assert not isinstance(found, tuple) and found > 2 * b.interval   # busy: nothing reserved, the backlog told
        await b.acquire_when_idle()                            # waits the replies out (real time, < 1.5 s)
        wave_slot = (await b.reserve())[0] - b.interval        # the slot it took was just before this one
        assert wave_slot >= max(replies) - 1e-6
        next_reply, now = await a.reserve()
        assert next_reply - now <= 3 * a.interval + 0.05
    finally:
        await a.close()
        await b.close()
