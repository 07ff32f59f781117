"""Alembic environment: runs on the connection `db.migrate` passes in
`config.attributes["connection"]` (a sync `Connection`, e.g. the one `AsyncConnection.run_sync`
hands over). When that connection is already in a transaction (the usual case), the migrations
join it: PostgreSQL and SQLite both have transactional DDL, so the whole upgrade commits or rolls
back with the caller's transaction.

Offline (`--sql`) mode needs `config.attributes["dialect_name"]` ("sqlite" or "postgresql").
"""
from __future__ import annotations

from alembic import context

from db.schema import metadata

config = context.config

# Tables of the legacy migration runner, kept in adopted SQLite files but not in the metadata.
LEGACY_TABLES = frozenset({"schema_migration"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name in LEGACY_TABLES:
        return False
    if type_ == "table" and name.startswith("sqlite_"):
        return False
    return True


def _options(dialect_name: str) -> dict:
    callbacks = config.attributes.get("on_version_apply") or []
    return {
        "target_metadata": metadata,
        "render_as_batch": dialect_name == "sqlite",
        "include_object": include_object,
        "compare_type": True,
        "on_version_apply": list(callbacks),
    }


def run_offline() -> None:
    dialect_name = config.attributes.get("dialect_name") or "sqlite"
    context.configure(dialect_name=dialect_name, literal_binds=True, **_options(dialect_name))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through db.migrate (it passes the connection to use)")
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
