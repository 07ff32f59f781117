"""Shared fixtures: the real application against the loopback Bot API, with a fake clock."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.clock import FakeClock
from bot.config import Settings
from loopback.driver import BotDriver


@pytest.fixture
def clock() -> FakeClock:
    # 2026-11-30 10:00 WIB
    return FakeClock(datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, database_path=tmp_path / "test.db", telegram_bot_token="0:placeholder",
                    telegram_retry_backoff_s=0.01)


ADMIN = 9001  # an administrator (ADMIN_TELEGRAM_IDS) in the `admin_driver` fixture


@pytest.fixture
async def admin_driver(tmp_path, clock):
    """The real application with one administrator configured."""
    settings = Settings(_env_file=None, database_path=tmp_path / "test.db", telegram_bot_token="0:placeholder",
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
