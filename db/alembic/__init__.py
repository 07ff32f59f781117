"""Alembic environment of the database schema (see `db.migrate`, which runs it)."""
