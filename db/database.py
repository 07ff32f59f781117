"""Storage through SQLAlchemy Core's async engine: SQLite (aiosqlite, WAL) by default, PostgreSQL
(asyncpg) when `DATABASE_URL` says so. Queries are plain SQL written for both.

`Database` keeps the small API the query modules use: `fetchone/fetchall/fetchval/execute/iterate`
and `transaction()`. A transaction belongs to the asyncio task (context) that opened it: every
statement that task runs inside it joins it, a nested `transaction()` becomes a savepoint, and
other tasks use other pooled connections. `unit_of_work()` is the same, opened lazily around a
whole update or job (see `bot.unit_of_work`).
"""
from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Mapping

from sqlalchemy import bindparam, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)
def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a path of a SQLite file."""
    value = str(target)
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        elif value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value[len("sqlite:///"):]
        return value
    return f"sqlite+aiosqlite:///{value}"


def _private_folder(folder: Path) -> None:
    """The data folder is the bot's alone (0700) when we create it."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)


def _private_files(path: str) -> None:
    """The database and its WAL files readable by the bot's user only (0600)."""
    for suffix in ("", "-wal", "-shm"):
        file = Path(path + suffix)
        if file.exists():
            file.chmod(0o600)


# --- SQL text: `?` placeholders become named ones; lists become expanding IN parameters ----------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\?")
_text_cache: dict[tuple[str, tuple[str, ...]], Any] = {}


def _statement(sql: str, params: Iterable[Any] | Mapping[str, Any] | None) -> tuple[Any, dict[str, Any]]:
    if params is None:
        params = ()
    if isinstance(params, Mapping):
        values = dict(params)
    else:
        values = {}
        counter = iter(range(10_000))
        positional = list(params)

        def number(match: re.Match) -> str:
            if match.group(0) != "?":
                return match.group(0)
            return f":p{next(counter)}"

        sql = _TOKENS.sub(number, sql)
        values = {f"p{i}": value for i, value in enumerate(positional)}
    expanding = tuple(sorted(k for k, v in values.items() if isinstance(v, (list, tuple, set, frozenset))))
    key = (sql, expanding)
    statement = _text_cache.get(key)
    if statement is None:
        statement = text(sql)
        if expanding:
            statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        if len(_text_cache) < 5000:
            _text_cache[key] = statement
    for name in expanding:
        values[name] = list(values[name])
    return statement, values


class Row:
    """A result row read by position or by column name (like sqlite3.Row)."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: tuple, index: dict[str, int]):
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values))!r})"


def _rows(result) -> list[Row]:
    index = {name: i for i, name in enumerate(result.keys())}
    return [Row(tuple(values), index) for values in result.fetchall()]


class Outcome:
    """What `execute` returns: the rows changed, and the rows of a RETURNING clause."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rowcount: int, rows: list[Row]):
        self.rowcount = rowcount
        self.rows = rows

    def __iter__(self):
        return iter(self.rows)


class _Scope:
    """The connection (and transaction) a task's statements run in, opened at the first one."""

    def __init__(self, db: "Database", lazy: bool):
        self.db = db
        self.lazy = lazy
        self.task = asyncio.current_task()
        self.shared = False            # child tasks may join (see Database.shared_with_children)
        self.lock = asyncio.Lock()     # one statement at a time on the scope's connection
        self.conn: AsyncConnection | None = None
        self.tx = None
        self.dirty = False
        self.depth = 0                 # open `transaction()` blocks (savepoints) inside it

    async def connection(self) -> AsyncConnection:
        if self.conn is None:
            self.conn = await self.db.engine.connect()
            self.tx = await self.conn.begin()
        return self.conn

    async def commit(self) -> None:
        await self._end(commit=True)

    async def rollback(self) -> None:
        await self._end(commit=False)

    async def _end(self, commit: bool) -> None:
        """End the transaction and hand the connection back (the next statement takes another)."""
        if self.conn is not None:
            try:
                await (self.tx.commit() if commit else self.tx.rollback())
            finally:
                await self.conn.close()
                self.conn = self.tx = None
        self.dirty = False


_context_scope: ContextVar[_Scope | None] = ContextVar("db_scope", default=None)
# Set only while a scope is shared: a task copies the context when it is created, so only the
# tasks started inside that window (not a background task started earlier) carry it.
_context_shared: ContextVar[_Scope | None] = ContextVar("db_scope_shared", default=None)


class _ScopeVar:
    """The scope of the *task* that opened it: a task started from inside it (which copies the
    context) does not join it, so it cannot write into, or outlive, a transaction not its own."""

    @staticmethod
    def get() -> _Scope | None:
        scope = _context_scope.get()
        if scope is not None and scope.task is not asyncio.current_task():
            if not (scope.shared and _context_shared.get() is scope):
                return None
        return scope

    @staticmethod
    def set(scope: _Scope):
        return _context_scope.set(scope)

    @staticmethod
    def reset(token) -> None:
        _context_scope.reset(token)


_scope = _ScopeVar()


class Database:
    """The pooled engine plus the small API the query modules use."""

    def __init__(self, target: str | Path, *, pool_size: int | None = None, connections: int = 30):
        self.url = database_url(target)
        self.connections = max(connections, 3)  # PostgreSQL: pool + overflow of this process
        parsed = make_url(self.url)
        self.dialect = "postgresql" if parsed.get_backend_name() == "postgresql" else "sqlite"
        self.path = parsed.database if self.dialect == "sqlite" else None
        self._pool_size = pool_size
        self._engine: AsyncEngine | None = None

    def _kept(self) -> int:
        """PostgreSQL: connections kept open between uses (the rest of `connections` on demand)."""
        return self._pool_size or max(2, min(10, self.connections // 3))

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database is not open")
        return self._engine

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def open(self, migrate: bool = True) -> "Database":
        if self.dialect == "sqlite":
            if not self.path or self.path == ":memory:":
                raise ValueError("a SQLite database needs a file (several connections share it)")
            _private_folder(Path(self.path).parent)
            self._engine = create_async_engine(
                self.url, pool_size=self._pool_size or 8, max_overflow=8, pool_timeout=60,
                connect_args={"timeout": 60})
            _sqlite_pragmas(self._engine)
        else:
            self._engine = create_async_engine(
                self.url, pool_size=self._kept(), max_overflow=max(1, self.connections - self._kept()),
                pool_timeout=60,
                pool_pre_ping=False)
        if migrate:
            await self.migrate()
        elif self.dialect == "sqlite":
            async with self.engine.connect():
                pass
        if self.dialect == "sqlite":
            _private_files(self.path)
        return self

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def migrate(self) -> list[str]:
        """Apply every Alembic revision not yet applied (one transaction)."""
        from db import migrate as migrations

        async with self.engine.begin() as conn:
            return await conn.run_sync(migrations.upgrade)

    async def applied_migrations(self) -> list[str]:
        from db import migrate as migrations

        async with self.engine.connect() as conn:
            return await conn.run_sync(migrations.applied)

    # --- statements ----------------------------------------------------------------------------
    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """The task's open scope, or a pooled connection in autocommit for this one statement."""
        scope = _scope.get()
        if scope is not None and scope.db is self:
            scope.dirty = True
            async with scope.lock:
                yield await scope.connection()
            return
        async with self.engine.connect() as conn:
            yield await self._autocommit(conn)

    async def _autocommit(self, conn: AsyncConnection) -> AsyncConnection:
        """Each statement commits on its own. SQLite: the driver already runs so (isolation_level
        None, set once at connect), the begin hook is only told to emit no BEGIN; SQLAlchemy's own
        AUTOCOMMIT level is not used there, because handing the connection back resets pysqlite to
        its implicit transactions, which then collide with our `BEGIN IMMEDIATE`."""
        if self.dialect == "sqlite":
            return await conn.execution_options(**{_SQLITE_BEGIN: "none"})
        return await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def execute(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> Outcome:
        statement, values = _statement(sql, params)
        async with self._connection() as conn:
            result = await conn.execute(statement, values)
            rows = _rows(result) if result.returns_rows else []
            return Outcome(result.rowcount if not result.returns_rows else len(rows), rows)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any] | Mapping[str, Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        statement, _ = _statement(sql, rows[0])
        values = [_statement(sql, row)[1] for row in rows]
        async with self._connection() as conn:
            await conn.execute(statement, values)

    async def fetchone(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> Row | None:
        rows = (await self.execute(sql, params)).rows
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> list[Row]:
        return (await self.execute(sql, params)).rows

    async def fetchval(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def iterate(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = (),
                      size: int = 500) -> AsyncIterator[Row]:
        """Stream rows without holding them all in memory (its own connection)."""
        statement, values = _statement(sql, params)
        async with self.engine.connect() as conn:
            if self.dialect == "sqlite":  # a read snapshot, not the write lock
                conn = await conn.execution_options(**{_SQLITE_BEGIN: "read"})
            result = await conn.stream(statement.execution_options(yield_per=size), values)
            index = {name: i for i, name in enumerate(result.keys())}
            async for values_row in result:
                yield Row(tuple(values_row), index)

    # --- transactions --------------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["Database"]:
        """Commit on success, roll back on error. Inside another transaction (or a unit of work)
        of the same task it is a savepoint: rolled back alone, committed with the outer one."""
        scope = _scope.get()
        if scope is not None and scope.db is self:
            conn = await scope.connection()
            scope.dirty = True
            scope.depth += 1
            try:
                async with conn.begin_nested():
                    yield self
            finally:
                scope.depth -= 1
            return
        async with self._own_scope(lazy=False) as scope:
            await scope.connection()
            yield self

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator["UnitOfWork"]:
        """Everything this task writes until the end commits together (or not at all). The
        connection is taken at the first statement; `commit()` ends the current transaction early
        (before a Telegram request, so no lock is held across the network) and the next statement
        opens the next one."""
        outer = _scope.get()
        if outer is not None and outer.db is self:
            yield UnitOfWork(outer)
            return
        async with self._own_scope(lazy=True) as scope:
            yield UnitOfWork(scope)

    @asynccontextmanager
    async def _own_scope(self, lazy: bool) -> AsyncIterator[_Scope]:
        """A new scope for this task: committed at the end, rolled back on an error."""
        scope = _Scope(self, lazy=lazy)
        token = _scope.set(scope)
        try:
            try:
                yield scope
            except BaseException:
                await scope.rollback()
                raise
            else:
                await scope.commit()
        finally:
            _scope.reset(token)

    @asynccontextmanager
    async def shared_with_children(self) -> AsyncIterator[None]:
        """Tasks this task starts and awaits meanwhile (an `asyncio.gather`, as PTB's persistence
        update does) join its transaction instead of waiting for its lock (SQLite) forever."""
        scope = _scope.get()
        if scope is None or scope.db is not self:
            yield
            return
        scope.shared = True
        token = _context_shared.set(scope)
        try:
            yield
        finally:
            _context_shared.reset(token)
            scope.shared = False

    # --- maintenance ---------------------------------------------------------------------------
    async def checkpoint(self) -> None:
        """SQLite: write the WAL into the database file and truncate it (after a deletion, so
        nothing of the deleted person stays behind in the `-wal` file). PostgreSQL: nothing."""
        if self.dialect != "sqlite":
            return
        scope = _scope.get()
        if scope is not None and scope.db is self:
            if not scope.lazy:
                return  # inside a transaction: the caller checkpoints after it
            await scope.commit()  # the deletion itself first (a checkpoint waits for open writers)
        async with self.engine.connect() as conn:
            conn = await self._autocommit(conn)
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def backup(self, target: str | Path) -> None:
        """SQLite: a consistent online copy through SQLite's backup API. (PostgreSQL: `pg_dump`,
        see `bot.backup`.)"""
        if self.dialect != "sqlite":
            raise RuntimeError("backup() copies SQLite files; PostgreSQL is backed up with pg_dump")
        import sqlite3

        Path(target).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            aio = raw.driver_connection
            dest = sqlite3.connect(str(target))
            try:
                await aio.backup(dest)
            finally:
                dest.close()


class UnitOfWork:
    """Handle on the current unit of work: `commit()` ends its current transaction early."""

    def __init__(self, scope: _Scope):
        self._scope = scope

    async def commit(self) -> None:
        """(Not inside a `transaction()` block: that one commits whole or not at all.)"""
        if self._scope.lazy and self._scope.depth == 0:
            await self._scope.commit()

    async def rollback(self) -> None:
        """Undo what the unit wrote since its last commit (a handler failed)."""
        if self._scope.lazy:
            await self._scope.rollback()


def current_unit_of_work() -> UnitOfWork | None:
    scope = _scope.get()
    return UnitOfWork(scope) if scope is not None and scope.lazy else None


_SQLITE_BEGIN = "sn_sqlite_begin"  # execution option: "write" (default), "read" or "none"


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """Every pooled SQLite connection: WAL, foreign keys, a generous busy wait, secure delete;
    transactions begin IMMEDIATE (the write lock at once, no deadlock of two upgrading readers)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=60000", "synchronous=NORMAL",
                       "secure_delete=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection, _record, _proxy) -> None:
        if dbapi_connection.isolation_level is not None:  # never pysqlite's implicit BEGINs
            dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "write")
        if mode == "write":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif mode == "read":
            conn.exec_driver_sql("BEGIN")
