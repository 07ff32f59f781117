"""Massage sessions: the one place that logs them (guide timer, reminder button, ...)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.clock import iso
from db.database import Database
from domain.slots import slot_of

WHO = ("self", "husband", "family", "cadre")


@dataclass(frozen=True)
class Logged:
    new: bool  # False if this slot was already logged (by her or by a companion)
    slot_date: str
    slot: str


async def log_session(db: Database, *, mother_id: int, timezone: str, logged_by: int, started_at: datetime,
                      now: datetime, duration_s: int = 0, completed: bool = True, who: str | None = None,
                      source: str = "guide", feeling: str | None = None) -> Logged:
    """Record a session for the mother's slot of `started_at`; a slot counts once.

    A second log for the same slot does not add a row; it can only complete it (a session
    stopped early, then finished) and fill in who massaged and how she feels.
    """
    slot_date, slot = slot_of(started_at, timezone)
    cursor = await db.execute(
        "INSERT INTO massage_session(mother_id, logged_by, who, slot_date, slot, started_at, duration_s,"
        " completed, feeling, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(mother_id, slot_date, slot) DO NOTHING",
        (mother_id, logged_by, who, slot_date.isoformat(), slot, iso(started_at), duration_s, int(completed),
         feeling, source, iso(now)),
    )
    new = cursor.rowcount == 1
    if not new:
        await db.execute(
            "UPDATE massage_session SET completed = CASE WHEN completed > ? THEN completed ELSE ? END,"
            " duration_s = CASE WHEN duration_s > ? THEN duration_s ELSE ? END,"
            " who = COALESCE(who, ?), feeling = COALESCE(?, feeling)"
            " WHERE mother_id = ? AND slot_date = ? AND slot = ?",
            (int(completed), int(completed), duration_s, duration_s, who, feeling, mother_id, slot_date.isoformat(), slot))
    return Logged(new, slot_date.isoformat(), slot)


async def slot_logged(db: Database, mother_id: int, slot_date: str, slot: str) -> bool:
    return await db.fetchval(
        "SELECT 1 FROM massage_session WHERE mother_id = ? AND slot_date = ? AND slot = ?",
        (mother_id, slot_date, slot)) is not None


async def first_session_at(db: Database, mother_id: int) -> str | None:
    return await db.fetchval("SELECT MIN(started_at) FROM massage_session WHERE mother_id = ?", (mother_id,))


async def count_since(db: Database, mother_id: int, since_iso: str) -> int:
    return await db.fetchval(
        "SELECT COUNT(*) FROM massage_session WHERE mother_id = ? AND started_at >= ?", (mother_id, since_iso))
