"""The PostgreSQL side of the test suite: one database per test process, emptied per test."""
from __future__ import annotations

import asyncio
import os

import pytest

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_reachable: bool | None = None


def _connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, connect_timeout=3, **kwargs)


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not reachable at {SERVER.rsplit('@', 1)[-1]} ({reason})")


def server_url(database: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + database


def fresh_database(name: str) -> str:
    """Create (or re-create) an empty database on the server; returns its URL."""
    global _reachable
    if _reachable is False:
        _unavailable("see the first skip")
    try:
        with _connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        _reachable = True
    except Exception as exc:  # psycopg.OperationalError, ImportError
        _reachable = False
        _unavailable(type(exc).__name__ + ": " + str(exc).strip().splitlines()[0][:120])
    return server_url(name)


def drop_database(name: str) -> None:
    with _connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_database(worker: str) -> str:
    """The test process's database, migrated to the current schema."""
    from db.database import Database

    url = fresh_database(f"sn_test_{worker}")

    async def migrate() -> None:
        db = await Database(url).open()
        await db.close()

    asyncio.run(migrate())
    return url


def truncate_all(url: str) -> None:
    """Empty every table (and restart the ids) before a test."""
    with _connect(url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
