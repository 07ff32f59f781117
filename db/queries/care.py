"""A mother's care status: `normal`, `hospital` (the baby is in hospital: the questions about
feeds and nappies pause) or `loss` (the baby has died: every baby-related message stops).

Other features ask here before they send anything about the baby:

- `baby_questions_apply(db, mother_id)`: the report's feeds / nappies questions (normal only);
- `is_loss(db, mother_id)`: no report offer, no check-in, no quiz offer, no massage reminder;
- `quiz_paused(db, user_id)`: a mother in loss, or a companion all of whose mothers are.

A midwife changes the status through `db.queries.clinic_scope.set_care_status` (her clinic only);
the mother or her companion through `flows/care_status.py`, which calls `set_status` here.
"""
from __future__ import annotations

from datetime import datetime

from domain.clock import iso
from db.database import Database

STATUSES = ("normal", "hospital", "loss")


async def care_status(db: Database, mother_id: int) -> str:
    """Her status; `normal` for a user who is not (or no longer) a mother."""
    return await db.fetchval("SELECT care_status FROM mother WHERE user_id = ?", (mother_id,)) or "normal"


async def is_loss(db: Database, mother_id: int) -> bool:
    return await care_status(db, mother_id) == "loss"


async def baby_questions_apply(db: Database, mother_id: int) -> bool:
    """Ask about the baby's feeds and wet nappies? Not while the baby is in hospital, never after a loss."""
    return await care_status(db, mother_id) == "normal"


async def quiz_paused(db: Database, user_id: int) -> bool:
    """No quiz (nor an offer of one) for a mother whose baby has died, nor for a companion
    every one of whose mothers is in that case."""
    row = await db.fetchone(
        "SELECT (SELECT care_status FROM mother WHERE user_id = :u) AS own,"
        " (SELECT COUNT(*) FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
        "  WHERE l.companion_id = :u) AS linked,"
        " (SELECT COUNT(*) FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
        "  WHERE l.companion_id = :u AND m.care_status = 'loss') AS lost", {"u": user_id})
    if row["own"] is not None:
        return row["own"] == "loss"
    return row["linked"] > 0 and row["linked"] == row["lost"]


async def set_status(db: Database, mother_id: int, status: str, by: int | None, now: datetime) -> str | None:
    """Set her status; returns the previous one (None: no such mother). Unchanged is a no-op."""
    if status not in STATUSES:
        raise ValueError(f"unknown care status {status!r}")
    before = await db.fetchval("SELECT care_status FROM mother WHERE user_id = ?", (mother_id,))
    if before is None or before == status:
        return before
    await db.execute("UPDATE mother SET care_status = ?, care_status_at = ?, care_status_by = ? WHERE user_id = ?",
                     (status, iso(now), by, mother_id))
    return before
