"""Schema migrations with Alembic (db/migrate.py, db/alembic/, db/schema.py).

- On SQLite, the schema Alembic makes is the schema the twelve legacy SQL files made (compared
  with SQLite's PRAGMAs: columns, foreign keys, indexes, CHECKs, triggers).
- A legacy SQLite file is adopted: stamped when it has all twelve files, completed first when
  it has fewer.
- Upgrading twice changes nothing; an upgrade joins (and rolls back with) the caller's transaction.
- On PostgreSQL (a throw-away database on 127.0.0.1:5432) the same schema is made, and the
  triggers keep milk_pair, quiz_pair and reminder_pref exactly as on SQLite.
"""
from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db import migrate
from db.schema import metadata, utc_now_iso

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
BOOKKEEPING = {"schema_migration", "alembic_version"}
TRIGGERS = {
    "reminder_pref_for_new_mother": "mother",
    "milk_pair_on_insert": "milk_report",
    "milk_pair_on_update": "milk_report",
    "milk_pair_on_delete": "milk_report",
    "quiz_pair_on_insert": "quiz_attempt",
    "quiz_pair_on_update": "quiz_attempt",
    "quiz_pair_on_delete": "quiz_attempt",
}


# --- helpers: databases ----------------------------------------------------------------------------

def legacy_sqlite(path: Path, upto: int = 12) -> Path:
    """A SQLite file made by the legacy runner (db/database.py before Alembic), files 1..upto."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migration ("
                     " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL"
                     " DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))")
        for version, name, sql in migrate.legacy_files():
            if version <= upto:
                conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_migration(version, name) "
                                   f"VALUES ({version}, '{name}');\nCOMMIT;")
    finally:
        conn.close()
    return path


def sqlite_engine(path: Path) -> AsyncEngine:
    """An engine set up as db/database.py does: foreign keys on, transactions begun by us."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def run_upgrade(engine: AsyncEngine, revision: str = "head") -> list[str]:
    async with engine.begin() as conn:
        return await conn.run_sync(migrate.upgrade, revision)


async def run_applied(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(migrate.applied)


ALL = migrate.revisions()  # BASELINE, then the revisions after it
assert ALL[0] == migrate.BASELINE
LATER = ALL[1:]


async def alembic_sqlite(path: Path, revision: str = "head") -> Path:
    """A new SQLite file made by Alembic (up to `revision`)."""
    engine = sqlite_engine(path)
    try:
        expected = ALL if revision == "head" else ALL[:ALL.index(revision) + 1]
        assert await run_upgrade(engine, revision) == expected
    finally:
        await engine.dispose()
    return path


# --- helpers: the schema of a SQLite file, through PRAGMAs -------------------------------------------

def _affinity(declared: str) -> str:
    """SQLite's type affinity rules (https://sqlite.org/datatype3.html#determination_of_column_affinity)."""
    declared = declared.upper()
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not declared or "BLOB" in declared:
        return "BLOB"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _squash(sql: str | None) -> str | None:
    return None if sql is None else re.sub(r"\s+", " ", sql).strip().lower()


def _default(value: str | None) -> str | None:
    """A default as SQLite reports it, without redundant outer parentheses."""
    while value is not None and value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    return value


def _checks(create_sql: str) -> list[str]:
    """The expressions of every CHECK in a CREATE TABLE statement, without whitespace."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", create_sql, re.I):
        depth, start = 1, match.end()
        index = start
        while depth:
            depth += {"(": 1, ")": -1}.get(create_sql[index], 0)
            index += 1
        found.append(re.sub(r"\s+", "", create_sql[start:index - 1]).lower())
    return sorted(found)


def describe(path: Path) -> dict:
    """Tables (columns, foreign keys, indexes, CHECKs) and triggers of a SQLite file."""
    conn = sqlite3.connect(path)
    try:
        tables = {}
        for name, create_sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
            if name in BOOKKEEPING:
                continue
            columns = [
                # a primary-key column never holds NULL (an INTEGER one is the rowid; a TEXT one
                # is NOT NULL on PostgreSQL and in the new schema): compare the effective NOT NULL
                (col, _affinity(declared), bool(notnull or pk), _default(default), pk)
                for _cid, col, declared, notnull, default, pk in conn.execute(f"PRAGMA table_info('{name}')")]
            foreign_keys = sorted(
                (ref_table, src, dest, on_update, on_delete, match)
                for _id, _seq, ref_table, src, dest, on_update, on_delete, match
                in conn.execute(f"PRAGMA foreign_key_list('{name}')"))
            indexes = {}
            for _seq, index_name, unique, origin, partial in conn.execute(f"PRAGMA index_list('{name}')"):
                index_columns = tuple(row[2] for row in conn.execute(f"PRAGMA index_info('{index_name}')"))
                if origin == "c":  # CREATE INDEX: by name, with its WHERE
                    index_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index_name,)).fetchone()[0]
                    where = _squash(index_sql.split(" WHERE ", 1)[1]) if partial else None
                    indexes[("c", index_name)] = (bool(unique), index_columns, bool(partial), where)
                else:  # UNIQUE / PRIMARY KEY constraints: sqlite_autoindex_* names, by columns
                    indexes[(origin, index_columns)] = (bool(unique), bool(partial))
            tables[name] = {"columns": columns, "foreign_keys": foreign_keys, "indexes": indexes,
                            "checks": _checks(create_sql)}
        triggers = {name: (table, _squash(sql)) for name, table, sql in conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")}
        return {"tables": tables, "triggers": triggers}
    finally:
        conn.close()


def assert_same_schema(expected: dict, actual: dict) -> None:
    assert sorted(actual["tables"]) == sorted(expected["tables"])
    for table, shape in expected["tables"].items():
        for part in ("columns", "foreign_keys", "indexes", "checks"):
            assert actual["tables"][table][part] == shape[part], f"{table}: {part} differ"
    assert actual["triggers"] == expected["triggers"]


@pytest.fixture(scope="module")
def legacy_schema(tmp_path_factory) -> dict:
    """The schema of the twelve legacy SQL files."""
    return describe(legacy_sqlite(tmp_path_factory.mktemp("legacy") / "legacy.db"))


@pytest.fixture(scope="module")
def head_schema(tmp_path_factory) -> dict:
    """The schema of a new SQLite file after every Alembic revision."""
    return describe(asyncio.run(alembic_sqlite(tmp_path_factory.mktemp("head") / "head.db")))


# --- (a) Alembic's schema is the legacy schema ---------------------------------------------------------

async def test_alembic_schema_equals_the_legacy_sql_files(tmp_path, legacy_schema, head_schema):
    made = describe(await alembic_sqlite(tmp_path / "new.db", migrate.BASELINE))
    assert_same_schema(legacy_schema, made)
    # the comparison itself is not empty, and db/schema.py covers every table
    assert set(legacy_schema["tables"]) <= set(metadata.tables) == set(head_schema["tables"])
    assert set(made["triggers"]) == set(TRIGGERS)
    assert {name: table for name, (table, _) in made["triggers"].items()} == TRIGGERS
    assert legacy_schema["tables"]["reminder_delivery"]["indexes"][("c", "reminder_delivery_due")] == (
        False, ("due_at",), True, "status in ('pending', 'snoozed')")
    assert len(legacy_schema["tables"]["milk_report"]["checks"]) == 6


async def test_metadata_matches_the_migrations_on_sqlite(tmp_path):
    engine = sqlite_engine(await alembic_sqlite(tmp_path / "m.db"))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff, False)
        assert diff == []
    finally:
        await engine.dispose()


def _diff(sync_conn, compare_server_default: bool) -> list:
    context = MigrationContext.configure(sync_conn, opts={
        "compare_type": True, "compare_server_default": compare_server_default,
        "include_object": lambda obj, name, type_, reflected, other: not (
            type_ == "table" and name in BOOKKEEPING)})
    return compare_metadata(context, metadata)


def test_utc_now_iso_per_dialect():
    statement = select(utc_now_iso())
    assert "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" in str(statement.compile(dialect=sqlite.dialect()))
    assert "to_char(now() AT TIME ZONE 'UTC'" in str(statement.compile(dialect=postgresql.dialect()))


# --- (b) legacy files are adopted ----------------------------------------------------------------------

async def test_legacy_file_with_all_twelve_is_stamped(tmp_path, head_schema):
    path = legacy_sqlite(tmp_path / "old.db")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO app_user VALUES (7000000000, 'mother', 'id', 't', 1, 't')")
        conn.execute("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, pseudonym,"
                     " created_at) VALUES (7000000000, 'Siti', '2026-11-28', 1, 'Asia/Jakarta', 'P1', 't0')")
    engine = sqlite_engine(path)
    try:
        assert await run_upgrade(engine) == LATER  # the baseline stamped (no DDL), the rest applied
        assert await run_applied(engine) == ALL
        assert await run_upgrade(engine) == []
    finally:
        await engine.dispose()
    assert_same_schema(head_schema, describe(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(ALL[-1],)]
        assert conn.execute("SELECT mother_id, next_check_at FROM reminder_pref").fetchall() == [(7000000000, "t0")]
        assert conn.execute("SELECT COUNT(*) FROM schema_migration").fetchone() == (12,)


async def test_legacy_file_with_six_is_completed_then_stamped(tmp_path, head_schema):
    path = legacy_sqlite(tmp_path / "old6.db", upto=6)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO clinic(id, name, timezone, mother_code, created_at) VALUES (1, 'A', 'Asia/Jakarta', 'c', 't')")
        conn.execute("INSERT INTO app_user VALUES (5, 'mother', 'id', 't', 1, 't')")
        conn.execute("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id,"
                     " pseudonym, created_at) VALUES (5, 'Siti', '2026-11-28', 1, 'Asia/Jakarta', 1, 'P1', 't0')")
        conn.execute("INSERT INTO milk_report(id, mother_id, reporter_role, reported_at, postpartum_day, phase,"
                     " milk_flow) VALUES (1, 5, 'mother', 't1', 2, 'pre', 'not_out')")
        conn.execute("INSERT INTO alert(mother_id, cause, detail, report_id, opened_at) VALUES"
                     " (5, 'danger_sign', 'fever', 1, 't1')")
    engine = sqlite_engine(path)
    try:
        names = [name for _, name, _ in migrate.legacy_files()][6:]
        assert await run_upgrade(engine) == names + LATER
        assert await run_applied(engine) == ALL
        assert await run_upgrade(engine) == []
    finally:
        await engine.dispose()
    assert_same_schema(head_schema, describe(path))
    with sqlite3.connect(path) as conn:
        assert [row[0] for row in conn.execute("SELECT version FROM schema_migration ORDER BY version")] == list(range(1, 13))
        # the data migrations of 0007 ran: her clinic choice, the rebuilt alert
        assert conn.execute("SELECT clinic_chosen_at, care_status FROM mother").fetchone() == ("t0", "normal")
        assert conn.execute("SELECT cause, urgency, detail FROM alert").fetchone() == ("danger_sign", "urgent", "fever")
        assert conn.execute("SELECT first_pre FROM milk_pair").fetchone() == ("not_out",)


async def test_a_failed_legacy_completion_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = legacy_sqlite(tmp_path / "old3.db", upto=3)
    before = describe(path)
    files = migrate.legacy_files()
    broken = [(v, n, sql + "\nSELECT * FROM no_such_table;" if v == 8 else sql) for v, n, sql in files]
    monkeypatch.setattr(migrate, "legacy_files", lambda: broken)
    engine = sqlite_engine(path)
    try:
        with pytest.raises(Exception, match="no_such_table"):
            await run_upgrade(engine)
    finally:
        await engine.dispose()
    assert describe(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_migration").fetchone() == (3,)


def test_sql_statements_splits_like_executescript():
    script = ("-- a; comment\nCREATE TABLE t(x TEXT DEFAULT ';');\n"
              "CREATE TRIGGER g AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 'a;b';\nEND;\n-- end\n")
    assert list(migrate.sql_statements(script)) == [
        "-- a; comment\nCREATE TABLE t(x TEXT DEFAULT ';');",
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 'a;b';\nEND;"]
    for _, _, sql in migrate.legacy_files():
        for statement in migrate.sql_statements(sql):
            assert sqlite3.complete_statement(statement)


# --- (c) idempotent, and inside the caller's transaction ----------------------------------------------

async def test_upgrade_twice_is_a_no_op(tmp_path):
    path = await alembic_sqlite(tmp_path / "twice.db")
    before = describe(path)
    engine = sqlite_engine(path)
    try:
        assert await run_upgrade(engine) == []
        assert await run_applied(engine) == ALL
    finally:
        await engine.dispose()
    assert describe(path) == before


async def test_upgrade_rolls_back_with_the_callers_transaction(tmp_path):
    path = tmp_path / "rollback.db"
    engine = sqlite_engine(path)
    try:
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                assert await conn.run_sync(migrate.upgrade) == ALL
                raise RuntimeError("abort")
        assert await run_applied(engine) == []
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
        assert await run_upgrade(engine) == ALL
    finally:
        await engine.dispose()


async def test_two_upgrades_at_once_wait_for_each_other_on_sqlite(tmp_path):
    first, second = sqlite_engine(tmp_path / "two.db"), sqlite_engine(tmp_path / "two.db")
    try:
        results = await asyncio.gather(run_upgrade(first), run_upgrade(second))
        assert sorted(results) == [[], ALL]
    finally:
        await first.dispose()
        await second.dispose()


# --- the triggers, the same on every database ---------------------------------------------------------

MOTHER = 7_000_000_000  # a Telegram id beyond 2^31


async def trigger_scenario(engine: AsyncEngine) -> list:
    """Reports and attempts inserted, changed and removed; what milk_pair, quiz_pair and
    reminder_pref hold after each step."""
    seen = []

    async with engine.begin() as conn:
        async def run(sql: str, **params) -> None:
            await conn.execute(text(sql), params)

        async def snapshot(label: str) -> None:
            milk = (await conn.execute(text(
                "SELECT mother_id, first_pre, latest_post FROM milk_pair ORDER BY mother_id"))).all()
            quiz = (await conn.execute(text(
                "SELECT user_id, first_pre, latest_post FROM quiz_pair ORDER BY user_id"))).all()
            seen.append((label, [tuple(row) for row in milk], [tuple(row) for row in quiz]))

        await run("INSERT INTO app_user(telegram_id, role, consent_at, created_at) VALUES (:id, 'mother', 't', 't')",
                  id=MOTHER)
        await run("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, pseudonym,"
                  " created_at) VALUES (:id, 'Siti', '2026-11-28', 1, 'Asia/Jakarta', 'P-1',"
                  " '2026-11-29T01:00:00Z')", id=MOTHER)
        pref = (await conn.execute(text(
            "SELECT mother_id, morning, next_check_at, updated_at FROM reminder_pref"))).all()
        seen.append(("reminder_pref", [tuple(row) for row in pref]))
        language, active = (await conn.execute(text("SELECT language, active FROM app_user"))).one()
        seen.append(("defaults", language, active))

        report = ("INSERT INTO milk_report(mother_id, reporter_role, reported_at, postpartum_day, phase, milk_flow)"
                  " VALUES (:m, 'mother', :at, 2, :phase, :flow)")
        await run(report, m=MOTHER, at="2026-11-29T05:00:00Z", phase="pre", flow="not_out")
        await snapshot("first pre")
        await run(report, m=MOTHER, at="2026-11-29T03:00:00Z", phase="pre", flow="not_smooth")
        await snapshot("earlier pre")
        # two reports in one statement (PostgreSQL fires its row triggers after the statement)
        await run("INSERT INTO milk_report(mother_id, reporter_role, reported_at, postpartum_day, phase, milk_flow)"
                  " VALUES (:m, 'mother', '2026-11-30T05:00:00Z', 3, 'post', 'smooth'),"
                  " (:m, 'mother', '2026-11-30T09:00:00Z', 3, 'post', 'not_smooth')", m=MOTHER)
        await snapshot("two posts")
        await run("UPDATE milk_report SET reported_at = '2026-11-30T10:00:00Z' WHERE milk_flow = 'smooth'")
        await snapshot("post moved later")
        await run("UPDATE milk_report SET phase = 'post' WHERE reported_at = '2026-11-29T03:00:00Z'")
        await snapshot("pre became post")
        await run("DELETE FROM milk_report WHERE reported_at = '2026-11-30T10:00:00Z'")
        await snapshot("latest post deleted")
        await run("DELETE FROM milk_report WHERE phase = 'pre'")
        await snapshot("pre deleted")

        attempt = ("INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at, score)"
                   " VALUES (:u, :kind, 'id', '[]', 't', :fin, :score)")
        await run(attempt, u=MOTHER, kind="pre", fin=None, score=None)
        await snapshot("unfinished pre")
        await run("UPDATE quiz_attempt SET finished_at = '2026-11-29T06:00:00Z', score = 40 WHERE kind = 'pre'")
        await snapshot("pre finished")
        await run(attempt, u=MOTHER, kind="pre", fin="2026-11-29T07:00:00Z", score=90)
        await run(attempt, u=MOTHER, kind="post", fin="2026-12-01T06:00:00Z", score=70)
        await run(attempt, u=MOTHER, kind="post", fin="2026-12-02T06:00:00Z", score=80)
        await run(attempt, u=MOTHER, kind="practice", fin="2026-12-03T06:00:00Z", score=10)
        await snapshot("posts")
        await run("UPDATE quiz_attempt SET kind = 'practice' WHERE score = 80")
        await snapshot("latest post became practice")
        await run("DELETE FROM quiz_attempt WHERE score = 40")
        await snapshot("first pre deleted")

        # surrogate ids: given by the database, or explicit
        await run("INSERT INTO clinic(name, timezone, mother_code, created_at) VALUES ('A', 'Asia/Jakarta', 'a', 't')")
        await run("INSERT INTO clinic(id, name, timezone, mother_code, created_at)"
                  " VALUES (100, 'B', 'Asia/Jakarta', 'b', 't')")
        clinics = (await conn.execute(text("SELECT id, name, hours_days, escalate_urgent_minutes FROM clinic"
                                           " ORDER BY id"))).all()
        seen.append(("clinics", [tuple(row) for row in clinics]))
        # guided_session: chat and message ids are Telegram's too
        await run("INSERT INTO guided_session(mother_id, user_id, chat_id, message_id, started_at, minutes,"
                  " last_edit_at) VALUES (:m, :m, :m, 9000000000, 't', 5, 't')", m=MOTHER)
        session = (await conn.execute(text("SELECT chat_id, message_id, status, shown_step FROM guided_session"))).one()
        seen.append(("guided_session", tuple(session)))

        # her account removed: everything of hers goes, the triggers do not get in the way
        await run("DELETE FROM app_user WHERE telegram_id = :id", id=MOTHER)
        await snapshot("account deleted")
        left = (await conn.execute(text("SELECT COUNT(*) FROM milk_report"))).scalar_one()
        seen.append(("reports left", left))
    return seen


EXPECTED_SCENARIO = [
    ("reminder_pref", [(MOTHER, None, "2026-11-29T01:00:00Z", "2026-11-29T01:00:00Z")]),
    ("defaults", "id", 1),
    ("first pre", [(MOTHER, "not_out", None)], []),
    ("earlier pre", [(MOTHER, "not_smooth", None)], []),
    ("two posts", [(MOTHER, "not_smooth", "not_smooth")], []),
    ("post moved later", [(MOTHER, "not_smooth", "smooth")], []),
    ("pre became post", [(MOTHER, "not_out", "smooth")], []),
    ("latest post deleted", [(MOTHER, "not_out", "not_smooth")], []),
    ("pre deleted", [(MOTHER, None, "not_smooth")], []),
    ("unfinished pre", [(MOTHER, None, "not_smooth")], [(MOTHER, None, None)]),
    ("pre finished", [(MOTHER, None, "not_smooth")], [(MOTHER, 40, None)]),
    ("posts", [(MOTHER, None, "not_smooth")], [(MOTHER, 40, 80)]),
    ("latest post became practice", [(MOTHER, None, "not_smooth")], [(MOTHER, 40, 70)]),
    ("first pre deleted", [(MOTHER, None, "not_smooth")], [(MOTHER, 90, 70)]),
    ("clinics", [(1, "A", "123456", 15), (100, "B", "123456", 15)]),
    ("guided_session", (MOTHER, 9_000_000_000, "running", 0)),
    ("account deleted", [], []),
    ("reports left", 0),
]


async def test_triggers_on_sqlite_as_in_the_legacy_files(tmp_path):
    for path in (await alembic_sqlite(tmp_path / "new.db"), legacy_sqlite(tmp_path / "legacy.db")):
        engine = sqlite_engine(path)
        try:
            assert await trigger_scenario(engine) == EXPECTED_SCENARIO, path.name
        finally:
            await engine.dispose()


# --- (d) PostgreSQL -----------------------------------------------------------------------------------

@pytest.fixture
async def pg_database():
    """A fresh throw-away database on the local PostgreSQL server, dropped afterwards."""
    server = create_async_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    name = f"mig_{uuid.uuid4().hex[:12]}"
    try:
        async with server.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        await server.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc!r}) and CI is set")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    engine = create_async_engine(f"{PG_SERVER}/{name}")
    try:
        yield engine
    finally:
        await engine.dispose()
        async with server.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await server.dispose()


async def test_postgresql_schema_and_triggers(pg_database):
    engine = pg_database
    assert await run_upgrade(engine) == ALL
    assert await run_upgrade(engine) == []
    assert await run_applied(engine) == ALL

    async with engine.connect() as conn:
        assert await conn.run_sync(_diff, True) == []  # the database is db/schema.py, defaults included
        types = dict((await conn.execute(text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'"))).all())
        triggers = set((await conn.execute(text(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"))).all())
        now = (await conn.execute(select(utc_now_iso()))).scalar_one()
    assert types["app_user.telegram_id"] == types["mother.user_id"] == types["guided_session.chat_id"] == "bigint"
    assert types["question_copy.message_id"] == types["alert.taken_by"] == "bigint"
    assert types["clinic.id"] == types["mother.first_child"] == "integer"
    assert types["clinic.created_at"] == "text"
    assert triggers == set(TRIGGERS.items())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now)

    assert await trigger_scenario(engine) == EXPECTED_SCENARIO


async def test_postgresql_upgrade_rolls_back_with_the_callers_transaction(pg_database):
    engine = pg_database
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade)
            raise RuntimeError("abort")
    async with engine.connect() as conn:
        count = (await conn.execute(text(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"))).scalar_one()
    assert count == 0
    assert await run_applied(engine) == []


async def test_postgresql_two_upgrades_at_once_apply_it_once(pg_database):
    results = await asyncio.gather(run_upgrade(pg_database), run_upgrade(pg_database))
    assert sorted(results) == [[], ALL]
    assert await run_applied(pg_database) == ALL
