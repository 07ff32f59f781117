"""A synchronous, read-only connection for work done in a worker thread (the exports stream
rows to files there without blocking the bot): SQLite through the standard library in
read-only mode, PostgreSQL through psycopg in a read-only transaction. `execute` takes the same
SQL and parameters as `Database` (`?` or `:name`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from db.database import _statement, database_url


class _Cursor:
    def __init__(self, result):
        self._result = result

    def fetchone(self) -> tuple | None:
        row = self._result.fetchone()
        return None if row is None else tuple(row)

    def fetchmany(self, size: int) -> list[tuple]:
        return [tuple(row) for row in self._result.fetchmany(size)]

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self._result.fetchall()]

    def __iter__(self):
        return (tuple(row) for row in self._result)

    def close(self) -> None:
        self._result.close()


class ReadOnlyConnection:
    def __init__(self, target: str | Path):
        url = make_url(database_url(target))
        if url.get_backend_name() == "postgresql":
            self.dialect = "postgresql"
            self._engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
            self._conn = self._engine.connect().execution_options(postgresql_readonly=True)
        else:
            self.dialect = "sqlite"
            path = Path(url.database).resolve()
            self._engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
            self._conn = self._engine.connect()
        self._conn.begin()

    def execute(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> _Cursor:
        statement, values = _statement(sql, params)
        return _Cursor(self._conn.execution_options(stream_results=True, yield_per=1000).execute(statement, values))

    def close(self) -> None:
        try:
            self._conn.rollback()
            self._conn.close()
        finally:
            self._engine.dispose()


def connect_read_only(target: str | Path) -> ReadOnlyConnection:
    return ReadOnlyConnection(target)
