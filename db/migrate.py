"""Schema migrations with Alembic, on SQLite and PostgreSQL.

The functions here are synchronous and take a SQLAlchemy sync `Connection`; from async code run
them through `AsyncConnection.run_sync`, inside the transaction the caller began:

    async with engine.begin() as conn:
        applied_now = await conn.run_sync(db.migrate.upgrade)

Everything (legacy SQL files, the stamp, every Alembic revision) joins that transaction: it all
commits together or not at all (both databases have transactional DDL; on SQLite the caller's
connection must really begin a transaction, as `db.database` does with `BEGIN IMMEDIATE`).

Legacy SQLite files: before Alembic, `db/migrations/NNNN_name.sql` were applied in order and
recorded in `schema_migration`. Such a file (a `schema_migration` table and no `alembic_version`)
is adopted: the legacy files it misses are applied the old way, then the Alembic baseline
revision, which creates exactly the schema of all twelve files, is stamped (no DDL) and later
revisions are applied as for any database.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

BASELINE = "0001_baseline"
"""The Alembic revision that creates the schema of the legacy files 0001 … 0012."""

LEGACY_TABLE = "schema_migration"
LEGACY_VERSIONS = tuple(range(1, 13))
"""The legacy SQL files the baseline revision stands for."""

_PG_LOCK = 0x5A4E_0001  # pg_advisory_xact_lock key of schema upgrades ("SN" 1)
_LEGACY_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def script_location() -> Path:
    """The Alembic script directory (env.py, versions/), shipped inside the package."""
    return Path(__file__).resolve().parent / "alembic"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic `Config` built in code (no alembic.ini), running on `connection`."""
    config = Config()
    # ConfigParser interpolation: a literal % in the path must be doubled.
    config.set_main_option("script_location", str(script_location()).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def legacy_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of the legacy SQL migrations in db/migrations/, in order."""
    found = []
    for entry in resources.files("db.migrations").iterdir():
        match = _LEGACY_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def upgrade(connection: Connection, revision: str = "head") -> list[str]:
    """Bring the database to the newest schema (or to `revision`), in the connection's
    (caller's) transaction.

    Returns what was applied now, in order: names of legacy SQL files (only when adopting a
    legacy SQLite file that missed some) and ids of Alembic revisions. Stamping the baseline
    on a legacy file runs no DDL and is not listed. A second call returns [].

    Two upgrades of one database at once (two processes, or two tasks) wait for each other:
    on PostgreSQL through an advisory lock, on SQLite through the caller's `BEGIN IMMEDIATE`.
    Two upgrades of different databases at once in one process are refused (Alembic's
    `op` and `context` are process-wide)."""
    global _running
    if connection.dialect.name == "postgresql":
        # The second of two upgrades waits here, then finds the schema up to date. Released
        # when the caller's transaction ends.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
    if _running:
        raise RuntimeError("another schema upgrade is running in this process")
    _running = True
    try:
        return _upgrade(connection, revision)
    finally:
        _running = False


_running = False


def _upgrade(connection: Connection, revision: str) -> list[str]:
    done: list[str] = []
    if _is_legacy(connection):
        done += _apply_legacy(connection)
        command.stamp(alembic_config(connection), BASELINE)
        log.info("adopted a database of the legacy migrations: stamped %s", BASELINE)

    config = alembic_config(connection)

    def record(ctx, step, heads, run_args) -> None:
        if step.is_upgrade and not step.is_stamp:
            done.extend(step.up_revision_ids)

    config.attributes["on_version_apply"] = [record]
    command.upgrade(config, revision)
    for name in done:
        log.info("applied migration %s", name)
    return done


def applied(connection: Connection) -> list[str]:
    """Ids of the Alembic revisions applied to this database, oldest first ([] if none)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        return []
    script = ScriptDirectory.from_config(alembic_config())
    revisions = script.revision_map.iterate_revisions(heads, "base")
    return [revision.revision for revision in reversed(list(revisions))]


def revisions() -> list[str]:
    """Ids of every Alembic revision shipped with the code, oldest first (BASELINE first)."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


# --- legacy SQLite files ---------------------------------------------------------------------------

def _has_table(connection: Connection, name: str) -> bool:
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).first()
    return found is not None


def _is_legacy(connection: Connection) -> bool:
    """A SQLite file of the legacy runner, not yet under Alembic."""
    if connection.dialect.name != "sqlite":
        return False
    return _has_table(connection, LEGACY_TABLE) and not _has_table(connection, "alembic_version")


def _apply_legacy(connection: Connection) -> list[str]:
    """Apply the legacy SQL files this file misses (as the old runner did, but inside the
    caller's transaction); return their names."""
    done = {row[0] for row in connection.exec_driver_sql(f"SELECT version FROM {LEGACY_TABLE}")}
    files = legacy_files()
    unknown = done - {version for version, _, _ in files}
    if unknown:
        raise RuntimeError(f"{LEGACY_TABLE} lists versions this code does not know: {sorted(unknown)}")
    if [version for version, _, _ in files] != list(LEGACY_VERSIONS):
        raise RuntimeError("the legacy SQL files in db/migrations/ are not 0001 … 0012")
    applied_now = []
    for version, name, sql in files:
        if version in done:
            continue
        for statement in sql_statements(sql):
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"INSERT INTO {LEGACY_TABLE}(version, name) VALUES (?, ?)", (version, name))
        log.info("applied legacy migration %s", name)
        applied_now.append(name)
    return applied_now


def sql_statements(script: str) -> Iterator[str]:
    """The statements of a SQLite script, one by one (what `executescript` would run: a
    trigger's BEGIN … END is one statement; semicolons in strings and comments do not split)."""
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start:index + 1]):
            statement = script[start:index + 1]
            start = index + 1
            if _has_code(statement):
                yield statement.strip()
    if _has_code(script[start:]):
        raise ValueError(f"incomplete SQL statement at the end of a script: {script[start:].strip()[:80]!r}")


def _has_code(sql: str) -> bool:
    """Whether anything but comments, whitespace and semicolons is left."""
    stripped = re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)
    return bool(stripped.replace(";", "").strip())
