"""One row per Telegram update, also when the update is handled again after a crash.

A handler's rows are committed before each of its Telegram requests, the inbox row's `done` only
when the update ends (docs/crash-consistency.md). After a crash in between the same update is
handled again: an insert keyed by its `update_id` (a unique column, Alembic 0003_update_keys)
then finds the row the first attempt stored and returns it instead of adding a second one, and
the caller goes on as if it had just stored it.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping, Sequence

from db.database import Database
from domain.clock import iso, parse_iso

REPLAY_WINDOW = timedelta(days=7)
"""Telegram numbers updates one after the other, and picks a random number only after a week
without any update: a row keyed with this id that is older than that (or of someone else) was
written by another update. Its key is then cleared and the new row stored."""


async def insert_once(db: Database, table: str, values: Mapping[str, Any], *, update_id: int | None,
                      same: Sequence[str], stamp: str) -> tuple[int, bool]:
    """INSERT `values` into `table` (an `id` table with an `update_id` column); returns (id, new).

    Without `update_id` a plain insert. With it, at most one row per update: when the row of this
    update is there already (the same `same` columns, its `stamp` time within `REPLAY_WINDOW` of
    this one's), its id and False."""
    row = dict(values)
    if update_id is not None:
        row["update_id"] = update_id
    columns = ", ".join(row)
    holes = ", ".join(f":{name}" for name in row)
    insert = f"INSERT INTO {table}({columns}) VALUES ({holes})"
    if update_id is None:
        return (await db.execute(insert + " RETURNING id", row)).rows[0]["id"], True
    for _ in range(3):
        stored = (await db.execute(insert + " ON CONFLICT (update_id) DO NOTHING RETURNING id", row)).rows
        if stored:
            return stored[0]["id"], True
        found = await db.fetchone(f"SELECT * FROM {table} WHERE update_id = ?", (update_id,))
        if found is None:
            continue  # deleted in between (her account): store it again
        if (all(found[name] == row[name] for name in same)
                and found[stamp] >= iso(parse_iso(row[stamp]) - REPLAY_WINDOW)):
            return found["id"], False  # this update's own row: it is being handled again
        await db.execute(f"UPDATE {table} SET update_id = NULL WHERE id = ?", (found["id"],))
    raise RuntimeError(f"could not store a {table} row for update {update_id}")
