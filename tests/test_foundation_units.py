"""Plain functions of the foundation: dates, names, settings, log redaction, migrations."""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.logs import RedactTokens
from db.database import Database
from db.migrate import legacy_files as migration_files
from domain.dates import DateProblem, local_today, parse_delivery_date, postpartum_day
from domain.names import clean_name

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize("text, expected", [
    ("29-11-2026", date(2026, 11, 29)),
    ("29/11/2026", date(2026, 11, 29)),
    (" 1-11-2026 ", date(2026, 11, 1)),
    ("30.11.2026", date(2026, 11, 30)),
    ("19-10-2026", date(2026, 10, 19)),  # exactly 42 days ago
    ("18-10-2026", DateProblem("too_old")),
    ("01-12-2026", DateProblem("future")),
    ("29-02-2026", DateProblem("impossible")),
    ("31-04-2026", DateProblem("impossible")),
    ("2026-11-29", DateProblem("format")),
    ("kemarin", DateProblem("format")),
    ("", DateProblem("format")),
])
def test_parse_delivery_date(text, expected):
    assert parse_delivery_date(text, TODAY) == expected


def test_local_today_differs_across_zones_near_midnight():
    moment = datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)  # 23:30 WIB, 00:30 WITA, 01:30 WIT
    assert local_today(moment, "Asia/Jakarta") == date(2026, 11, 30)
    assert local_today(moment, "Asia/Makassar") == date(2026, 12, 1)
    assert local_today(moment, "Asia/Jayapura") == date(2026, 12, 1)


def test_postpartum_day_counts_birth_day_as_one():
    assert postpartum_day(date(2026, 11, 30), TODAY) == 1
    assert postpartum_day(date(2026, 11, 27), TODAY) == 4


@pytest.mark.parametrize("text, expected", [
    ("Sari", "Sari"), ("  Ibu   Sari ", "Sari"), ("/start", None), ("12345", None), ("", None),
    ("x" * 41, None), ("🙂", None), ("Siti Nur'aini", "Siti Nur'aini"),
    # an honorific typed with the name is not doubled ("Ibu Bu Sari")
    ("Bu Sari", "Sari"), ("ibu  Siti Aminah", "Siti Aminah"), ("Mbak Ayu", "Ayu"), ("Bunda Rina", "Rina"),
    ("Ny. Dewi", "Dewi"), ("Kak Lia", "Lia"), ("Bu", "Bu"), ("Ibunda", "Ibunda"), ("Budi", "Budi"),
])
def test_clean_name(text, expected):
    assert clean_name(text) == expected


def test_settings_are_validated_with_clear_errors():
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(_env_file=None, default_timezone="Jakarta")
    with pytest.raises(ValidationError, match="HH:MM"):
        Settings(_env_file=None, reminder_morning="6 pagi")
    settings = Settings(_env_file=None, admin_telegram_ids="1, 2", reminder_evening="16:5",
                        telegram_api_base_url="http://127.0.0.1:8081")
    assert settings.admin_telegram_ids == [1, 2]
    assert settings.reminder_evening == "16:05"
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"
    assert "123456:" not in repr(Settings(_env_file=None, telegram_bot_token="123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def test_log_lines_never_carry_a_token():
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "POST https://api.telegram.org/bot%s/sendMessage", ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",), None)
    RedactTokens().filter(record)
    assert "AAHdq" not in record.getMessage() and "<token>" in record.getMessage()


async def test_migrations_are_versioned_and_idempotent(db_url):
    versions = [version for version, _, _ in migration_files()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    db = await Database(db_url).open()
    assert await db.migrate() == []  # second run applies nothing
    if db.dialect == "sqlite":
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
    await db.close()


async def test_transaction_rolls_back_on_error(db_url):
    db = await Database(db_url).open()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("INSERT INTO clinic(name, timezone, mother_code, created_at) VALUES ('A','Asia/Jakarta','c','t')")
            raise RuntimeError
    assert await db.fetchval("SELECT COUNT(*) FROM clinic") == 0
    await db.close()


async def test_a_transaction_is_not_joined_by_another_task(db_url):
    """A job's transaction and a handler's statement (another task) stay apart: the job's
    rollback does not take the handler's row with it."""
    import asyncio

    db = await Database(db_url).open()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def job():
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO clinic(name, timezone, mother_code, created_at)"
                                 " VALUES ('job', 'Asia/Jakarta', 'j', 't')")
                inside.set()
                await release.wait()
                raise RuntimeError("job fails, its transaction rolls back")

    async def handler():
        await inside.wait()
        waiting = asyncio.ensure_future(db.execute(
            "INSERT INTO clinic(name, timezone, mother_code, created_at) VALUES ('handler', 'Asia/Jakarta', 'h', 't')"))
        await asyncio.sleep(0)
        release.set()
        await waiting

    await asyncio.gather(job(), handler())
    assert [row[0] for row in await db.fetchall("SELECT name FROM clinic")] == ["handler"]
    await db.close()
