"""`sahabat-nifas db copy`: a Puskesmas's SQLite file into PostgreSQL and back, checked row for
row; refusals; a changed row found; sequences and trigger-made tables right after the copy; and
`sahabat-nifas backup` on PostgreSQL (pg_dump, read back by pg_restore)."""
from __future__ import annotations

import asyncio
import io
import os
import random
import shutil
import sqlite3
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import cli
from bot.clock import FakeClock, iso
from bot.config import Settings
from db import copy as db_copy
from db.database import Database
from db.queries import guide, quiz, reminders
from db.queries.sessions import log_session
from db.schema import metadata
from loopback.driver import BotDriver
from tests.pg import drop_database, fresh_database
from tests.test_guide import open_guide, pass_safety
from tests.test_reports import add_companion, make_clinic, mother_in, new_midwife, report

ADMIN = 9001
START = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # Monday 11:00 WITA
BIG_ID = 7_123_456_789  # Telegram ids exceed 2^31


# ----------------------------------------------------------------- a realistic source
async def _play_the_app(path: Path) -> None:
    """A Puskesmas's database as the real bot leaves it: the flows through the loopback Bot API,
    plus the query functions for what the flows only do over days (timers, polls, reminders)."""
    clock = FakeClock(START)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{path}", telegram_bot_token="0:placeholder",
                        telegram_retry_backoff_s=0.01, admin_telegram_ids=[ADMIN], reminder_poll_seconds=0)
    driver = BotDriver(settings, clock=clock)
    await driver.start()
    try:
        db = driver.app.services.db
        clinic, _ = await make_clinic(driver, "Puskesmas Bener")
        other, _ = await make_clinic(driver, "Puskesmas Talise 'Palu'")
        ani = await new_midwife(driver, clinic, 3001, "Bidan Ani")
        await new_midwife(driver, clinic, 3002, "Bidan Rina")
        await new_midwife(driver, other, BIG_ID + 1, "Bidan Wulan")
        sari = await mother_in(driver, clinic, 2001, "Sari")
        dewi = await mother_in(driver, clinic, BIG_ID, "Dewi 🌸")
        lia = await mother_in(driver, other, 2003, "Lia")
        budi = await add_companion(driver, sari, 2101, "Budi")
        # reports: a danger sign (an alert, delivered), a companion's report, pre and post phases
        await report(sari, flow="not_out")
        await report(dewi, flow="not_smooth", danger=("fits",))
        await report(budi, flow="smooth")
        now = clock.now()
        await log_session(db, mother_id=2001, timezone="Asia/Makassar", logged_by=2101, started_at=now, now=now,
                          duration_s=900, who="husband", feeling="relaxed")
        clock.advance(timedelta(hours=6))
        await report(sari, flow="smooth")
        # a question, taken and answered
        await sari.send("/tanya")
        await sari.send("Apakah saya boleh minum jamu?\nBaris kedua; 100% \"penting\"")
        await ani.press("q:take:1")
        await ani.send("Boleh, tanyakan dulu jenisnya.")
        # the guide: pre-test offered and skipped, safety check, a running timer; a pre-test
        await open_guide(lia)
        await pass_safety(lia)
        attempt = await quiz.create_attempt(db, 2003, "pre", "id", ["q1", "q2"], [[0, 1, 2], [2, 1, 0]], iso(now))
        attempt = getattr(attempt, "id", attempt)
        await quiz.record_answer(db, await quiz.get_attempt(db, attempt), 0, 1, True, iso(now))
        await quiz.map_poll(db, "poll-1", attempt, 1, 2003, 55, iso(now))
        await quiz.finish_attempt(db, attempt, 50, iso(now))
        await guide.create_session(db, mother_id=2001, user_id=2001, chat_id=2001, started_at=now, minutes=15)
        await guide.store_file_id(db, "step1.jpg", "abc123", "AgAC-file-id", iso(now))
        # reminders: her own times, a companion's pause, a planned delivery
        await reminders.set_times(db, 2001, "05:30", "17:00", iso(now + timedelta(days=1)), iso(now))
        await reminders.set_mute(db, 2101, iso(now + timedelta(days=2)), iso(now))
        await reminders.insert_deliveries(db, [(2101, 2001, "2026-12-01", "morning", iso(now), "pending", None,
                                                iso(now))])
        await db.execute("INSERT INTO midwife_note(mother_id, midwife_id, text, created_at) VALUES (?, ?, ?, ?)",
                         (2001, 3001, "Sudah ditelepon; ASI mulai keluar. ✓", iso(now)))
        await db.execute("INSERT INTO dashboard_login(token_hash, midwife_id, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?)", ("ab" * 32, 3001, iso(now), iso(now + timedelta(minutes=5))))
        await db.execute("INSERT INTO clinic_voice(clinic_id, step, kind, file_id, duration_s, recorded_by,"
                         " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (clinic.id, "danger", "voice", "AwAC-voice", 42, 3001, iso(now)))
    finally:
        await driver.stop()


async def _bulk(path: Path, mothers: int, seed: int = 7) -> None:
    """Many more mothers with reports, sessions, tests and alerts, through plain SQL (fast)."""
    rng = random.Random(seed)
    db = await Database(path).open()
    try:
        clinic_id = await db.fetchval("SELECT MIN(id) FROM clinic")
        async with db.transaction():
            for n in range(mothers):
                uid = 5_000_000_000 + n
                at = iso(START - timedelta(days=rng.randint(0, 9), minutes=n))
                await db.execute("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                                 " VALUES (?, 'mother', ?, ?, ?)", (uid, rng.choice(["id", "en"]), at, at))
                await db.execute("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone,"
                                 " clinic_id, pseudonym, created_at, birth_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (uid, f"Ibu {n} ‘Ñ’", "2026-11-2" + str(n % 9), n % 2, "Asia/Jakarta",
                                  clinic_id if n % 5 else None, f"P{n:06d}", at, rng.choice([None, "05:30"])))
                for k in range(rng.randint(0, 6)):
                    phase = "pre" if k < 2 else "post"
                    await db.execute(
                        "INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day,"
                        " phase, milk_flow, feeds_24h, wet_nappies_24h, breasts, danger_signs)"
                        " VALUES (?, ?, 'mother', ?, ?, ?, ?, ?, ?, ?, ?)",
                        (uid, uid, iso(START + timedelta(hours=k * 7 + n % 3)), k + 1, phase,
                         rng.choice(["not_out", "not_smooth", "smooth"]), rng.choice([None, 8, 12]),
                         rng.choice([None, 3, 6]), rng.choice([None, "soft", "full"]), rng.choice([None, "", "fits"])))
                for slot in ("morning", "evening")[:rng.randint(0, 2)]:
                    await db.execute(
                        "INSERT INTO massage_session(mother_id, logged_by, who, slot_date, slot, started_at,"
                        " duration_s, completed, source, created_at) VALUES (?, ?, 'self', '2026-11-29', ?, ?, 600, 1,"
                        " 'guide', ?)", (uid, uid, slot, at, at))
                for kind, score in (("pre", rng.randint(0, 100)), ("post", rng.choice([None, 70, 90]))):
                    await db.execute(
                        "INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at, score)"
                        " VALUES (?, ?, 'id', '[]', ?, ?, ?)",
                        (uid, kind, at, at if score is not None else None, score))
                if n % 4 == 0:
                    await db.execute("INSERT INTO alert(mother_id, cause, urgency, detail, opened_at)"
                                     " VALUES (?, 'milk_not_out', 'warning', '4', ?)", (uid, at))
    finally:
        await db.close()


@pytest.fixture(scope="module")
def source_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("copy") / "template.db"
    asyncio.run(_play_the_app(path))
    asyncio.run(_bulk(path, mothers=120))
    return path


@pytest.fixture
def source(source_template, tmp_path) -> Path:
    path = tmp_path / "puskesmas.db"
    with sqlite3.connect(source_template) as original, sqlite3.connect(path) as copy:
        original.backup(copy)
    return path


@pytest.fixture
def pg_target():
    name = f"sn_copy_{os.getpid()}"
    url = fresh_database(name)
    yield url
    drop_database(name)


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t.name: conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] for t in metadata.sorted_tables
                if t.name not in db_copy.RUNTIME}


# ----------------------------------------------------------------- tests
def test_the_source_has_rows_in_every_table(source):
    empty = [name for name, count in counts(source).items() if count == 0]
    assert not empty, f"the test database leaves these tables empty: {empty}"
    # rows the app's updates wrote carry their update's id (Alembic 0003): copied like any column
    with sqlite3.connect(source) as conn:
        for table in ("milk_report", "question_message", "safety_check"):
            assert conn.execute(f"SELECT COUNT(update_id) FROM {table}").fetchone()[0] > 0, table


def table_rows(conn, table) -> list[tuple]:
    """Every row of a table (sqlite3 or psycopg connection), sorted, for an independent comparison."""
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    return sorted((tuple(row) for row in conn.execute(f'SELECT {columns} FROM "{table.name}"')), key=repr)


def pg_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_to_postgres_and_back_checked_row_for_row(source, pg_target, tmp_path, capsys):
    code, out, err = run_cli(capsys, "db", "copy", str(source), pg_target)
    assert code == 0, err
    assert "MISMATCH" not in out and out.rstrip().endswith("OK")
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[-1:] in (["OK"], ["MISMATCH"])}
    for table, count in counts(source).items():
        assert lines[table][1:] == [str(count), str(count), "OK"], lines[table]
    assert "rows/s" in out

    # independently of the checksum: the same rows on both sides
    with sqlite3.connect(source) as lite, pg_connect(pg_target) as pg:
        for table in metadata.sorted_tables:
            assert table_rows(pg, table) == table_rows(lite, table), table.name

    # and back: PostgreSQL -> a new SQLite file, checked again
    back = tmp_path / "back" / "puskesmas.db"
    code, out, err = run_cli(capsys, "db", "copy", pg_target, f"sqlite:///{back}")
    assert code == 0, err
    assert "MISMATCH" not in out
    with sqlite3.connect(source) as lite, sqlite3.connect(back) as again:
        for table in metadata.sorted_tables:
            assert table_rows(again, table) == table_rows(lite, table), table.name
        assert again.execute("SELECT version_num FROM alembic_version").fetchall() \
            == lite.execute("SELECT version_num FROM alembic_version").fetchall()
    assert mode(back) == 0o600


def test_postgres_after_the_copy_takes_new_rows_and_keeps_the_derived_tables(source, pg_target):
    from db.queries import clinics, mothers, users

    with sqlite3.connect(source) as lite:
        # rows the triggers would NOT make by themselves: the copy must keep the source's
        lite.execute("UPDATE reminder_pref SET next_check_at = NULL, morning = '04:45' WHERE mother_id = ?", (BIG_ID,))
        lite.execute("DELETE FROM reminder_pref WHERE mother_id = 5000000003")
        lite.execute("UPDATE quiz_pair SET first_pre = 99 WHERE user_id = 5000000001")  # a legacy backfill
        lite.execute("DELETE FROM milk_pair WHERE mother_id = 5000000002")
    assert db_copy.command("copy", str(source), pg_target, out=io.StringIO()) == 0

    with sqlite3.connect(source) as lite, pg_connect(pg_target) as pg:
        for name in ("milk_pair", "quiz_pair", "reminder_pref"):
            table = metadata.tables[name]
            assert table_rows(pg, table) == table_rows(lite, table), name
        assert pg.execute("SELECT first_pre FROM quiz_pair WHERE user_id = 5000000001").fetchone() == (99,)
        assert pg.execute("SELECT 1 FROM reminder_pref WHERE mother_id = 5000000003").fetchone() is None
    with db_copy._engine(pg_target).connect() as conn:
        assert db_copy._trigger_written_tables(conn) == set(db_copy.DERIVED)
        highest = {t.name: lite.execute(f"SELECT MAX(id) FROM {t.name}").fetchone()[0]
                   for t in metadata.sorted_tables if "id" in t.c and t.c.id.identity is not None}

    async def new_rows():
        db = await Database(pg_target).open()
        try:
            clinic, _ = await clinics.create_clinic(db, "Puskesmas Baru", "Asia/Jayapura", iso(START))
            await users.create_user(db, 8001, "mother", "id", iso(START))
            await mothers.create_mother(db, 8001, "Nia", START.date(), True, "Asia/Jayapura", clinic.id, iso(START))
            report_id = (await db.execute(
                "INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day, phase,"
                " milk_flow) VALUES (8001, 8001, 'mother', ?, 1, 'pre', 'not_out') RETURNING id",
                (iso(START),))).rows[0]["id"]
            ids = {}
            for name in highest:
                ids[name] = await db.fetchval(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id'))")
            pref = await db.fetchone("SELECT next_check_at FROM reminder_pref WHERE mother_id = 8001")
            pair = await db.fetchone("SELECT first_pre, latest_post FROM milk_pair WHERE mother_id = 8001")
            return clinic.id, report_id, ids, pref, pair
        finally:
            await db.close()

    clinic_id, report_id, ids, pref, pair = asyncio.run(new_rows())
    assert clinic_id == highest["clinic"] + 1 and report_id == highest["milk_report"] + 1
    for name, top in highest.items():  # every identity sequence is past the copied ids
        assert ids[name] > (top or 0), name
    assert pref is not None and tuple(pair) == ("not_out", None)  # the triggers work as before


def test_a_target_with_rows_is_refused_and_left_alone(source, pg_target, tmp_path, capsys):
    assert db_copy.command("copy", str(source), pg_target, out=io.StringIO()) == 0
    with pg_connect(pg_target) as pg:
        before = pg.execute("SELECT COUNT(*) FROM mother").fetchone()[0]
    code, out, err = run_cli(capsys, "db", "copy", str(source), pg_target)
    assert code == 2
    assert "is not empty: app_user (" in err and "copy only into a new, empty database" in err
    with pg_connect(pg_target) as pg:
        assert pg.execute("SELECT COUNT(*) FROM mother").fetchone()[0] == before


def test_sqlite_refusals(source, tmp_path, capsys):
    """A filled target, the same file, a missing file, a source of another schema."""
    other = tmp_path / "other.db"
    shutil.copy(source, other)
    code, _, err = run_cli(capsys, "db", "copy", str(source), str(other))
    assert code == 2 and "is not empty" in err
    code, _, err = run_cli(capsys, "db", "copy", str(source), f"sqlite:///{source}")
    assert code == 2 and "the same database" in err
    code, _, err = run_cli(capsys, "db", "copy", str(tmp_path / "nothing.db"), str(tmp_path / "new.db"))
    assert code == 2 and "no SQLite database at" in err
    with sqlite3.connect(other) as conn:
        conn.execute("ALTER TABLE clinic DROP COLUMN call_list_time")
    code, _, err = run_cli(capsys, "db", "copy", str(other), str(tmp_path / "new.db"))
    assert code == 2 and "column clinic.call_list_time is missing" in err and "sahabat-nifas migrate" in err


def test_a_changed_row_is_a_mismatch_with_exit_code_1(source, tmp_path, capsys):
    target = tmp_path / "copy.db"  # SQLite to SQLite works as well (no server needed)
    code, out, _ = run_cli(capsys, "db", "copy", str(source), str(target))
    assert code == 0 and "MISMATCH" not in out
    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE mother SET display_name = 'Sari!' WHERE user_id = 2001")
        conn.execute("UPDATE milk_report SET feeds_24h = '8' WHERE id = 1")  # text, not the int 8
        conn.execute("DELETE FROM question_copy WHERE id = 2")
    code, out, _ = run_cli(capsys, "db", "check", str(source), str(target))
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "MISMATCH  (rows differ, key 2001)" in rows["mother"]
    assert rows["question_copy"].split()[1:4] == ["2", "1", "MISMATCH"] and "key 2" in rows["question_copy"]
    assert "MISMATCH" in rows["milk_report"] and "key 1)" in rows["milk_report"]
    assert rows["clinic"].endswith("OK") and "MISMATCH in 3 tables" in rows["total"]


def test_the_tables_triggers_write_are_the_derived_ones(source, tmp_path):
    with db_copy._engine(source, read_only=True).connect() as conn:
        assert db_copy._trigger_written_tables(conn) == set(db_copy.DERIVED)


def test_checksum_normalises_values_and_ignores_order():
    assert db_copy.row_digest((5, "a", None)) == db_copy.row_digest((5, "a", None))
    assert db_copy.row_digest((5,)) != db_copy.row_digest(("5",))
    assert db_copy.row_digest((None,)) != db_copy.row_digest(("",))
    assert db_copy.row_digest((True,)) == db_copy.row_digest((1,))
    assert db_copy.row_digest(("a", "bc")) != db_copy.row_digest(("ab", "c"))
    order = db_copy.copy_order()
    names = [t.name for t in order]
    assert names[-3:] == sorted(db_copy.DERIVED, key=names.index) and set(names) == set(metadata.tables)
    for position, table in enumerate(order):  # parents before children
        for key in table.foreign_keys:
            assert names.index(key.column.table.name) < position or key.column.table is table


def test_backup_on_postgres_is_a_pg_dump_that_pg_restore_reads(source, pg_target, tmp_path, monkeypatch, capsys):
    assert db_copy.command("copy", str(source), pg_target, out=io.StringIO()) == 0
    monkeypatch.chdir(tmp_path)  # no stray .env
    secret = "s3cret-Passw0rd"  # trust authentication ignores it; it must never be shown
    monkeypatch.setenv("DATABASE_URL", pg_target.replace("postgres@", f"postgres:{secret}@"))
    dump = tmp_path / "backups" / "puskesmas.dump"
    code, out, err = run_cli(capsys, "backup", str(dump))
    assert code == 0, err
    assert f"backup written to {dump}" in out and secret not in out + err
    assert mode(dump) == 0o600
    pg_restore = db_copy.find_pg_dump("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "TABLE DATA public mother" in listing and "TABLE DATA public milk_report" in listing

    # restored into a new database, it is the same database again
    name = f"sn_copy_restore_{os.getpid()}"
    restored = fresh_database(name)
    try:
        subprocess.run([pg_restore, "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)], check=True,
                       capture_output=True)
        assert db_copy.command("check", pg_target, restored, out=io.StringIO()) == 0
    finally:
        drop_database(name)

    # no pg_dump on the machine: a clear error, still without the password
    monkeypatch.setattr(db_copy, "find_pg_dump", lambda program="pg_dump": None)
    code, out, err = run_cli(capsys, "backup", str(tmp_path / "again.dump"))
    assert code == 2 and "pg_dump not found" in err and "postgresql-client" in err and secret not in out + err
    # a server that refuses: pg_dump's message, without the password
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody:{secret}@127.0.0.1:5432/sn_no_such_database")
    code, out, err = run_cli(capsys, "backup", str(tmp_path / "again.dump"))
    assert code == 2 and "pg_dump of postgresql://nobody:***@127.0.0.1:5432/sn_no_such_database failed" in err
    assert secret not in out + err and not (tmp_path / "again.dump").exists()


def test_backup_on_sqlite_is_a_private_copy(source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(source))
    target = tmp_path / "backups" / "copy.db"
    code, out, err = run_cli(capsys, "backup", str(target))
    assert code == 0, err
    assert mode(target) == 0o600
    assert db_copy.command("check", str(source), str(target), out=io.StringIO()) == 0
    code, _, err = run_cli(capsys, "backup", str(source))
    assert code == 2 and "is the database itself" in err


def test_a_table_both_have_outside_the_metadata_is_copied_too(source, tmp_path, capsys):
    """A table a newer migration added before db/schema.py describes it: copied and checked;
    one only the source has is named as not copied."""
    target = tmp_path / "target.db"

    async def migrated():
        db = await Database(target).open()
        await db.close()

    asyncio.run(migrated())
    for path in (source, target):
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE x_extra (id INTEGER PRIMARY KEY, note TEXT, mother_id INTEGER"
                         " REFERENCES mother(user_id))")
    with sqlite3.connect(source) as conn:
        conn.executemany("INSERT INTO x_extra(id, note, mother_id) VALUES (?, ?, ?)",
                         [(1, "satu", 2001), (2, None, BIG_ID), (3, "tiga 🌸", None)])
        conn.execute("CREATE TABLE x_source_only (id INTEGER PRIMARY KEY)")
    code, out, err = run_cli(capsys, "db", "copy", str(source), str(target))
    assert code == 0, err
    assert "not copied (not in the current schema): x_source_only" in out
    line = next(line for line in out.splitlines() if line.startswith("x_extra "))
    assert line.split()[1:] == ["3", "3", "OK"]
    with sqlite3.connect(source) as lite, sqlite3.connect(target) as copy:
        query = "SELECT * FROM x_extra ORDER BY id"
        assert copy.execute(query).fetchall() == lite.execute(query).fetchall()
