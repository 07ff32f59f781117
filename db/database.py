"""One aiosqlite connection per process, WAL, foreign keys, versioned migrations."""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import aiosqlite

log = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("db.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _private_folder(folder: Path) -> None:
    """The data folder is the bot's alone (0700) when we create it."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)


def _private_files(path: str) -> None:
    """The database and its WAL files readable by the bot's user only (0600)."""
    if path == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        file = Path(path + suffix)
        if file.exists():
            file.chmod(0o600)


class Database:
    """Thin wrapper: `fetchone/fetchall/execute` and a `transaction()` that commits or rolls back.

    A single connection serialises writes, which is what SQLite wants; readers in other
    processes (a backup, the CLI) see consistent data thanks to WAL.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        # One connection is shared by handlers and jobs, which run as separate asyncio tasks.
        # A transaction belongs to one task; other tasks' statements wait until it ends, so
        # they are neither swept into it nor rolled back with it.
        self._tx_lock = asyncio.Lock()
        self._tx_owner: asyncio.Task | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self, migrate: bool = True) -> "Database":
        if self.path != ":memory:":
            _private_folder(Path(self.path).parent)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, not left in free pages (health data).
        await self._conn.execute("PRAGMA secure_delete=ON")
        _private_files(self.path)
        if migrate:
            await self.migrate()
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def migrate(self) -> list[str]:
        """Apply every migration not yet applied, each in its own transaction."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL"
            " DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
        )
        rows = await self.fetchall("SELECT version FROM schema_migration")
        done = {row["version"] for row in rows}
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            # executescript commits first; wrap the script in BEGIN/COMMIT ourselves.
            try:
                await self.conn.executescript(
                    f"BEGIN;\n{sql}\nINSERT INTO schema_migration(version, name) "
                    f"VALUES ({version}, '{name}');\nCOMMIT;"
                )
            except sqlite3.Error:
                await self.conn.execute("ROLLBACK") if self.conn.in_transaction else None
                raise
            log.info("applied migration %s", name)
            applied.append(name)
        return applied

    async def _wait_for_other_transactions(self) -> None:
        """Return once no other task holds a transaction (without yielding if none does)."""
        while self._tx_owner is not None and self._tx_owner is not asyncio.current_task():
            async with self._tx_lock:
                pass

    async def execute(self, sql: str, params: Iterable[Any] | dict = ()) -> aiosqlite.Cursor:
        await self._wait_for_other_transactions()
        return await self.conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        await self._wait_for_other_transactions()
        await self.conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Iterable[Any] | dict = ()) -> aiosqlite.Row | None:
        await self._wait_for_other_transactions()
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] | dict = ()) -> list[aiosqlite.Row]:
        await self._wait_for_other_transactions()
        async with self.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, params: Iterable[Any] | dict = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def iterate(self, sql: str, params: Iterable[Any] | dict = (), size: int = 500) -> AsyncIterator[aiosqlite.Row]:
        """Stream rows without holding them all in memory."""
        await self._wait_for_other_transactions()
        async with self.conn.execute(sql, params) as cursor:
            while True:
                batch = await cursor.fetchmany(size)
                if not batch:
                    return
                for row in batch:
                    yield row

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["Database"]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error; one task at a time. Not re-entrant."""
        task = asyncio.current_task()
        if self._tx_owner is task:
            raise RuntimeError("nested transaction")
        async with self._tx_lock:
            self._tx_owner = task
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
                else:
                    await self.conn.execute("COMMIT")
            finally:
                self._tx_owner = None

    async def checkpoint(self) -> None:
        """Write the WAL into the database file and truncate it (after a deletion, so nothing of
        the deleted person stays behind in the `-wal` file)."""
        await self._wait_for_other_transactions()
        await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def backup(self, target: str | Path) -> None:
        """Consistent online copy through SQLite's backup API."""
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(str(target))
        try:
            await self.conn.backup(dest)
        finally:
            dest.close()
