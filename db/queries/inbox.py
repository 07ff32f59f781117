"""The update inbox (`update_inbox`): store, claim, finish, recover and prune Telegram updates.

Portable SQL for SQLite and PostgreSQL. Every status change is conditional on the status it
comes from (and, for a claim's end, on who holds it), so two workers can never both win.

A claim takes, per chat, only the OLDEST unfinished update and only while no update of that chat
is claimed by anyone: one person's updates are handled one after the other, in order, even with
several processes on one database. On PostgreSQL the candidates are locked `FOR UPDATE SKIP
LOCKED` (two workers claiming at once skip each other's rows instead of waiting); on SQLite the
claim's transaction holds the write lock from its start (BEGIN IMMEDIATE).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from db.database import Database

NEW, CLAIMED, DONE = "new", "claimed", "done"


@dataclass(frozen=True)
class Claimed:
    update_id: int
    chat_id: int | None
    payload: dict
    attempts: int  # claims so far, this one included


async def store(db: Database, rows: Sequence[tuple[int, int | None, str]], now: str) -> int:
    """Insert (update_id, chat_id, payload json) rows as `new`; an update already there (Telegram
    sent it again) is left as it is. Returns how many were new."""
    if not rows:
        return 0
    values, params = [], {"now": now}
    for index, (update_id, chat_id, payload) in enumerate(rows):
        values.append(f"(:u{index}, :c{index}, :p{index}, :now, 'new', 0)")
        params.update({f"u{index}": update_id, f"c{index}": chat_id, f"p{index}": payload})
    outcome = await db.execute(
        "INSERT INTO update_inbox(update_id, chat_id, payload, received_at, status, attempts) VALUES "
        + ", ".join(values) + " ON CONFLICT(update_id) DO NOTHING", params)
    return outcome.rowcount


_CANDIDATES = (
    "SELECT i.update_id FROM update_inbox i"
    " WHERE i.status = 'new'"
    "   AND NOT EXISTS (SELECT 1 FROM update_inbox o WHERE o.chat_id = i.chat_id"
    "                   AND o.update_id < i.update_id AND o.status <> 'done')"
    "   AND NOT EXISTS (SELECT 1 FROM update_inbox c WHERE c.chat_id = i.chat_id AND c.status = 'claimed')"
    " ORDER BY i.update_id LIMIT :limit")


async def claim(db: Database, worker: str, now: str, limit: int) -> list[Claimed]:
    """Claim up to `limit` updates for `worker` (one transaction); attempts + 1 each."""
    if limit <= 0:
        return []
    async with db.transaction():
        sql = _CANDIDATES + (" FOR UPDATE OF i SKIP LOCKED" if db.is_postgres else "")
        ids = [row[0] for row in await db.fetchall(sql, {"limit": limit})]
        if not ids:
            return []
        rows = (await db.execute(
            "UPDATE update_inbox SET status = 'claimed', claimed_by = :worker, claimed_at = :now,"
            " attempts = attempts + 1 WHERE update_id IN :ids AND status = 'new'"
            " RETURNING update_id, chat_id, payload, attempts",
            {"worker": worker, "now": now, "ids": ids})).rows
    claimed = [Claimed(row["update_id"], row["chat_id"], json.loads(row["payload"]), row["attempts"]) for row in rows]
    return sorted(claimed, key=lambda c: c.update_id)


async def finish(db: Database, update_id: int, worker: str) -> bool:
    """The update is handled: `done` (in the caller's unit of work). False if `worker` no longer
    held it (its claim expired and another worker took it)."""
    outcome = await db.execute(
        "UPDATE update_inbox SET status = 'done' WHERE update_id = ? AND status = 'claimed' AND claimed_by = ?",
        (update_id, worker))
    return outcome.rowcount == 1


async def unclaim(db: Database, update_id: int, worker: str) -> bool:
    """Back to `new` (handling failed before it could finish; the next claim counts again)."""
    outcome = await db.execute(
        "UPDATE update_inbox SET status = 'new', claimed_by = NULL, claimed_at = NULL"
        " WHERE update_id = ? AND status = 'claimed' AND claimed_by = ?", (update_id, worker))
    return outcome.rowcount == 1


async def release(db: Database, worker: str) -> int:
    """A graceful stop: `worker`'s claims go back to `new`, the claim not counted as an attempt."""
    outcome = await db.execute(
        "UPDATE update_inbox SET status = 'new', claimed_by = NULL, claimed_at = NULL,"
        " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
        " WHERE status = 'claimed' AND claimed_by = ?", (worker,))
    return outcome.rowcount


async def reclaim_own(db: Database, worker: str) -> int:
    """At start: what this worker had claimed when it died goes back to `new` at once."""
    outcome = await db.execute(
        "UPDATE update_inbox SET status = 'new', claimed_by = NULL, claimed_at = NULL"
        " WHERE status = 'claimed' AND claimed_by = ?", (worker,))
    return outcome.rowcount


async def reclaim_stale(db: Database, before: str) -> int:
    """Claims untouched since `before` (their worker died: live workers renew theirs) -> `new`."""
    outcome = await db.execute(
        "UPDATE update_inbox SET status = 'new', claimed_by = NULL, claimed_at = NULL"
        " WHERE status = 'claimed' AND claimed_at < ?", (before,))
    return outcome.rowcount


async def renew(db: Database, worker: str, now: str) -> int:
    """A live worker keeps its claims (the ones still being handled) from looking stale."""
    outcome = await db.execute(
        "UPDATE update_inbox SET claimed_at = ? WHERE status = 'claimed' AND claimed_by = ?", (now, worker))
    return outcome.rowcount


async def prune(db: Database, older_than: str, keep: int) -> int:
    """Forget `done` rows received before `older_than`, and any beyond the newest `keep`."""
    cutoff = await db.fetchval(
        "SELECT received_at FROM update_inbox WHERE status = 'done'"
        " ORDER BY received_at DESC, update_id DESC LIMIT 1 OFFSET :keep", {"keep": keep})
    if cutoff is not None and cutoff > older_than:
        older_than = cutoff  # more than `keep` within the day: keep only the newest ones
        outcome = await db.execute(
            "DELETE FROM update_inbox WHERE status = 'done' AND received_at <= ?", (older_than,))
    else:
        outcome = await db.execute(
            "DELETE FROM update_inbox WHERE status = 'done' AND received_at < ?", (older_than,))
    return outcome.rowcount


async def counts(db: Database) -> dict[str, int]:
    """Rows by status (for tests, the logs and the health of the inbox)."""
    rows = await db.fetchall("SELECT status, COUNT(*) AS n FROM update_inbox GROUP BY status")
    return {row["status"]: row["n"] for row in rows}

