"""Shared fixtures: the real application against the loopback Bot API, with a fake clock.

Every test that uses the database (through `db_url`, `settings` or a driver) runs twice: on
SQLite (a file in the test's folder) and on PostgreSQL (TEST_POSTGRES_URL, by default the
server every machine of the project runs at 127.0.0.1:5432). Without a reachable server the
PostgreSQL runs are skipped with one line; under CI (`CI` set) they fail instead.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from tests.pg import drop_database, postgres_database, truncate_all

# Requests to one chat are spaced about a second apart in production (TELEGRAM_CHAT_INTERVAL_S,
# bot/ratelimit.py); the tests play users on a real event loop and would wait that in real time.
# Off here (and in the bots the tests start as subprocesses, which inherit the environment);
# tests/test_rate_budget.py tests the spacing on its own clock and through the front door.
os.environ.setdefault("TELEGRAM_CHAT_INTERVAL_S", "0")

from bot.clock import FakeClock
from bot.config import Settings
from loopback.driver import BotDriver


@pytest.fixture
def clock() -> FakeClock:
    # 2026-11-30 10:00 WIB
    return FakeClock(datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def _pg_url():
    """This test process's own PostgreSQL database (made afresh and migrated once a session,
    dropped at its end; named by process, so two test runs on one machine never meet)."""
    name = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    url = postgres_database(name)
    yield url
    drop_database(f"sn_test_{name}")


@pytest.fixture
def db_url(db_kind, tmp_path, request) -> str:
    """Where this test's database is: a fresh SQLite file, or the emptied PostgreSQL database."""
    if db_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = request.getfixturevalue("_pg_url")
    truncate_all(url)
    return url


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                    telegram_retry_backoff_s=0.01)


ADMIN = 9001  # an administrator (ADMIN_TELEGRAM_IDS) in the `admin_driver` fixture


@pytest.fixture
async def admin_driver(db_url, clock):
    """The real application with one administrator configured."""
    settings = Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                        telegram_retry_backoff_s=0.01, admin_telegram_ids=[ADMIN])
    async for bot in _running(settings, clock):
        yield bot


@pytest.fixture
async def driver(settings, clock):
    async for bot in _running(settings, clock):
        yield bot


async def _running(settings, clock):
    bot = BotDriver(settings, clock=clock)
    await bot.start()
    yield bot
    await bot.stop()
    # Whatever a test did, the bot never sent a request Telegram would refuse for a bad format.
    bad = [r for r in bot.server.refusals if r[1] == 400 and not _expected(r)]
    assert not bad, f"the bot sent requests Telegram refuses: {bad}"


def _expected(refusal: tuple[str, int, str]) -> bool:
    """Refusals a test provokes on purpose (a stale query, a deleted message)."""
    return "query is too old" in refusal[2] or "message to edit not found" in refusal[2]
