"""The massage guide: which mother a user may guide, safety checks, picture file ids,
timed sessions and each user's progress through the guide."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.clock import iso, parse_iso
from db.database import Database
from db.queries.mothers import Mother, get_mother
from db.queries.replay import insert_once


# ----------------------------------------------------------------- whose guide
@dataclass(frozen=True)
class MotherChoice:
    mother_id: int
    name: str


async def mothers_of(db: Database, user_id: int, role: str | None) -> list[MotherChoice]:
    """The mothers a user may run the guide for: herself, or the mothers she accompanies."""
    if role == "mother":
        rows = await db.fetchall("SELECT user_id, display_name FROM mother WHERE user_id = ?", (user_id,))
    elif role == "companion":
        rows = await db.fetchall(
            "SELECT m.user_id, m.display_name FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
            " WHERE l.companion_id = ? ORDER BY l.created_at", (user_id,))
    else:
        rows = []
    return [MotherChoice(row[0], row[1]) for row in rows]


async def accessible_mother(db: Database, user_id: int, role: str | None, mother_id: int) -> Mother | None:
    """The mother, if this user is her or accompanies her; None otherwise (a forged button)."""
    if role == "mother" and mother_id == user_id:
        return await get_mother(db, mother_id)
    if role == "companion":
        linked = await db.fetchval(
            "SELECT 1 FROM companion_link WHERE mother_id = ? AND companion_id = ?", (mother_id, user_id))
        if linked:
            return await get_mother(db, mother_id)
    return None


async def relation_of(db: Database, companion_id: int, mother_id: int) -> str | None:
    return await db.fetchval(
        "SELECT relation FROM companion_link WHERE mother_id = ? AND companion_id = ?", (mother_id, companion_id))


# ----------------------------------------------------------------- safety check
@dataclass(frozen=True)
class SafetyCheck:
    id: int
    mother_id: int
    next_question: int
    outcome: str | None
    kind: str = "full"        # full (every caution) | short (three quick questions)


async def safety_passed_at(db: Database, mother_id: int) -> str | None:
    """When the mother's first safety check was passed (by her or a companion), or None."""
    return await db.fetchval(
        "SELECT MIN(finished_at) FROM safety_check WHERE mother_id = ? AND outcome = 'passed'", (mother_id,))


async def full_check_passed_at(db: Database, mother_id: int) -> str | None:
    """When her latest FULL safety check was passed, or None (the full one is due again after 7 days)."""
    return await db.fetchval(
        "SELECT MAX(finished_at) FROM safety_check WHERE mother_id = ? AND outcome = 'passed' AND kind = 'full'",
        (mother_id,))


async def fresh_check(db: Database, mother_id: int, since: str) -> bool:
    """A check passed at or after `since` that no guided session has used yet: one check per
    massage (a session started at or after the check's end has used it)."""
    return bool(await db.fetchval(
        "SELECT 1 FROM safety_check c WHERE c.mother_id = ? AND c.outcome = 'passed' AND c.finished_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM guided_session g WHERE g.mother_id = c.mother_id"
        " AND g.started_at >= c.finished_at) LIMIT 1", (mother_id, since)))


async def start_safety_check(db: Database, mother_id: int, user_id: int, now: str, kind: str = "full",
                             update_id: int | None = None) -> int:
    """A new check; `update_id`: the Telegram update that started it (handled again after a crash,
    it gets the check its first attempt started: db/queries/replay.py)."""
    assert kind in ("full", "short")
    check_id, _ = await insert_once(
        db, "safety_check", {"mother_id": mother_id, "checked_by": user_id, "started_at": now, "kind": kind},
        update_id=update_id, same=("mother_id", "checked_by"), stamp="started_at")
    return check_id


async def get_safety_check(db: Database, check_id: int) -> SafetyCheck | None:
    row = await db.fetchone(
        "SELECT id, mother_id, next_question, outcome, kind FROM safety_check WHERE id = ?", (check_id,))
    return None if row is None else SafetyCheck(*row)


async def running_session_of(db: Database, user_id: int) -> int | None:
    """This user's running timer, if any (one at a time per person)."""
    return await db.fetchval("SELECT id FROM guided_session WHERE user_id = ? AND status = 'running'", (user_id,))


async def answer_safety_question(db: Database, check_id: int, question: int, outcome: str | None,
                                 now: str) -> bool:
    """Record the answer to question `question`; False if it was answered already (double tap).

    `outcome` None means "no, go on"; otherwise the check ends with that outcome.
    """
    if outcome is None:
        cursor = await db.execute(
            "UPDATE safety_check SET next_question = next_question + 1"
            " WHERE id = ? AND next_question = ? AND outcome IS NULL", (check_id, question))
    else:
        cursor = await db.execute(
            "UPDATE safety_check SET next_question = next_question + 1, outcome = ?, finished_at = ?"
            " WHERE id = ? AND next_question = ? AND outcome IS NULL", (outcome, now, check_id, question))
    return cursor.rowcount == 1


# ----------------------------------------------------------------- picture file ids
async def cached_file_id(db: Database, name: str, content_hash: str) -> str | None:
    return await db.fetchval(
        "SELECT file_id FROM media_cache WHERE name = ? AND content_hash = ?", (name, content_hash))


async def store_file_id(db: Database, name: str, content_hash: str, file_id: str, now: str) -> None:
    await db.execute(
        "INSERT INTO media_cache(name, content_hash, file_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(name, content_hash) DO UPDATE SET file_id = excluded.file_id, created_at = excluded.created_at",
        (name, content_hash, file_id, now))


async def forget_file_id(db: Database, name: str, content_hash: str) -> None:
    await db.execute("DELETE FROM media_cache WHERE name = ? AND content_hash = ?", (name, content_hash))


# ----------------------------------------------------------------- progress
async def _progress_row(db: Database, user_id: int) -> None:
    await db.execute("INSERT INTO guide_progress(user_id) VALUES (?) ON CONFLICT DO NOTHING", (user_id,))


async def mark_once(db: Database, user_id: int, column: str, now: str) -> bool:
    """Set a progress time once; True the first time (offer the pre-test once, ...)."""
    assert column in ("pretest_offered_at", "steps_finished_at", "posttest_offered_at")
    await _progress_row(db, user_id)
    cursor = await db.execute(
        f"UPDATE guide_progress SET {column} = ? WHERE user_id = ? AND {column} IS NULL", (now, user_id))
    return cursor.rowcount == 1


async def progress_time(db: Database, user_id: int, column: str) -> str | None:
    assert column in ("pretest_offered_at", "steps_finished_at", "posttest_offered_at")
    return await db.fetchval(f"SELECT {column} FROM guide_progress WHERE user_id = ?", (user_id,))


async def guide_completed(db: Database, user_id: int) -> bool:
    """She has been through the guide: read it to the last step, or finished a timed massage."""
    if await progress_time(db, user_id, "steps_finished_at"):
        return True
    return await db.fetchval(
        "SELECT 1 FROM guided_session WHERE user_id = ? AND status != 'running' LIMIT 1", (user_id,)) is not None


# ----------------------------------------------------------------- timed sessions
@dataclass(frozen=True)
class GuidedSession:
    id: int
    mother_id: int
    user_id: int
    chat_id: int
    message_id: int | None
    started_at: datetime
    minutes: int
    status: str
    shown_step: int
    duration_s: int | None
    completed: bool | None
    who: str | None
    feeling: str | None


_SESSION = ("SELECT id, mother_id, user_id, chat_id, message_id, started_at, minutes, status, shown_step,"
            " duration_s, completed, who, feeling FROM guided_session")


def _session(row) -> GuidedSession:
    return GuidedSession(row["id"], row["mother_id"], row["user_id"], row["chat_id"], row["message_id"],
                         parse_iso(row["started_at"]), row["minutes"], row["status"], row["shown_step"],
                         row["duration_s"], None if row["completed"] is None else bool(row["completed"]),
                         row["who"], row["feeling"])


async def create_session(db: Database, *, mother_id: int, user_id: int, chat_id: int, started_at: datetime,
                         minutes: int) -> int | None:
    """A running session; None if this user has one running already (one timer per person)."""
    cursor = await db.execute(
        "INSERT INTO guided_session(mother_id, user_id, chat_id, started_at, minutes, last_edit_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id", (mother_id, user_id, chat_id, iso(started_at), minutes, iso(started_at)))
    return cursor.rows[0]["id"] if cursor.rows else None


async def set_message(db: Database, session_id: int, message_id: int) -> None:
    await db.execute("UPDATE guided_session SET message_id = ? WHERE id = ?", (message_id, session_id))


async def drop_session(db: Database, session_id: int) -> None:
    """Its message could not be sent: the timer never started."""
    await db.execute("DELETE FROM guided_session WHERE id = ? AND status = 'running'", (session_id,))


async def get_session(db: Database, session_id: int) -> GuidedSession | None:
    row = await db.fetchone(_SESSION + " WHERE id = ?", (session_id,))
    return None if row is None else _session(row)


async def running_sessions(db: Database) -> list[GuidedSession]:
    rows = await db.fetchall(_SESSION + " WHERE status = 'running' ORDER BY id")
    return [_session(row) for row in rows]


async def shown(db: Database, session_id: int, step: int, now: str) -> None:
    await db.execute("UPDATE guided_session SET shown_step = ?, last_edit_at = ? WHERE id = ?",
                     (step, now, session_id))


async def end_session(db: Database, session_id: int, status: str, completed: bool, duration: int,
                      now: str) -> bool:
    """running → done/stopped; False if it had ended already (a second "stop", a late tick)."""
    cursor = await db.execute(
        "UPDATE guided_session SET status = ?, completed = ?, duration_s = ?, ended_at = ?"
        " WHERE id = ? AND status = 'running'", (status, int(completed), duration, now, session_id))
    return cursor.rowcount == 1


async def abandon_session(db: Database, session_id: int, now: str) -> None:
    """Ended without an answer from anyone (she blocked the bot): not logged, `completed` NULL."""
    await db.execute("UPDATE guided_session SET status = 'stopped', ended_at = ? WHERE id = ? AND status = 'running'",
                     (now, session_id))


async def set_answer(db: Database, session_id: int, column: str, value: str) -> bool:
    """Who massaged / how she feels, once per ended session; False for a second answer."""
    assert column in ("who", "feeling")
    cursor = await db.execute(
        f"UPDATE guided_session SET {column} = ? WHERE id = ? AND status != 'running' AND {column} IS NULL",
        (value, session_id))
    return cursor.rowcount == 1
