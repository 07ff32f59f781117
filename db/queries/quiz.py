"""Knowledge quiz attempts and answers (pre-test, post-test, practice polls)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from db.database import Database

TESTS = ("pre", "post")


@dataclass(frozen=True)
class Attempt:
    id: int
    user_id: int
    kind: str
    item_ids: list[str]
    option_orders: list[list[int]]
    finished: bool
    score: int | None

    @property
    def total(self) -> int:
        return len(self.item_ids)


def _attempt(row) -> Attempt:
    return Attempt(row["id"], row["user_id"], row["kind"], json.loads(row["item_order"]),
                   json.loads(row["option_order"]), row["finished_at"] is not None, row["score"])


_ATTEMPT = "SELECT id, user_id, kind, item_order, option_order, finished_at, score FROM quiz_attempt"


async def create_attempt(db: Database, user_id: int, kind: str, lang: str, item_ids: list[str],
                         option_orders: list[list[int]], now: str) -> int:
    cursor = await db.execute(
        "INSERT INTO quiz_attempt(user_id, kind, lang, item_order, option_order, started_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (user_id, kind, lang, json.dumps(item_ids), json.dumps(option_orders), now))
    return cursor.rows[0]["id"]


async def get_attempt(db: Database, attempt_id: int) -> Attempt | None:
    row = await db.fetchone(_ATTEMPT + " WHERE id = ?", (attempt_id,))
    return None if row is None else _attempt(row)


async def open_attempt(db: Database, user_id: int, kind: str) -> Attempt | None:
    """Her latest unfinished attempt of this kind (to go on with it rather than start again)."""
    row = await db.fetchone(_ATTEMPT + " WHERE user_id = ? AND kind = ? AND finished_at IS NULL"
                            " ORDER BY id DESC LIMIT 1", (user_id, kind))
    return None if row is None else _attempt(row)


async def has_attempt(db: Database, user_id: int, kind: str) -> bool:
    return await db.fetchval("SELECT 1 FROM quiz_attempt WHERE user_id = ? AND kind = ? LIMIT 1",
                             (user_id, kind)) is not None


async def answered_count(db: Database, attempt_id: int) -> int:
    return await db.fetchval("SELECT COUNT(*) FROM quiz_answer WHERE attempt_id = ?", (attempt_id,))


async def record_answer(db: Database, attempt: Attempt, position: int, chosen: int, correct: bool,
                        now: str) -> bool:
    """Store the answer to the item at `position`; False unless it is the one being asked now
    (a double tap, an old button, an old poll: nothing stored, nothing skipped)."""
    if attempt.finished or not 0 <= position < attempt.total:
        return False
    # Updates are handled one at a time, so nothing answers between the count and the insert;
    # the primary key (attempt, item) refuses a second answer in any case.
    if await answered_count(db, attempt.id) != position:
        return False
    cursor = await db.execute(
        "INSERT INTO quiz_answer(attempt_id, item_id, chosen, correct, answered_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (attempt.id, attempt.item_ids[position], chosen, int(correct), now))
    return cursor.rowcount == 1


async def correct_count(db: Database, attempt_id: int) -> int:
    return await db.fetchval("SELECT COALESCE(SUM(correct), 0) FROM quiz_answer WHERE attempt_id = ?",
                             (attempt_id,))


async def finish_attempt(db: Database, attempt_id: int, score: int, now: str) -> bool:
    cursor = await db.execute(
        "UPDATE quiz_attempt SET finished_at = ?, score = ? WHERE id = ? AND finished_at IS NULL",
        (now, score, attempt_id))
    return cursor.rowcount == 1


async def latest_score(db: Database, user_id: int, kind: str, before_id: int | None = None) -> int | None:
    """Score of her latest finished attempt of this kind (before attempt `before_id`)."""
    return await db.fetchval(
        "SELECT score FROM quiz_attempt WHERE user_id = ? AND kind = ? AND finished_at IS NOT NULL"
        " AND id < ? ORDER BY id DESC LIMIT 1", (user_id, kind, before_id if before_id is not None else 2**62))


# ----------------------------------------------------------------- practice polls
@dataclass(frozen=True)
class PollTarget:
    attempt_id: int
    position: int
    chat_id: int


async def map_poll(db: Database, poll_id: str, attempt_id: int, position: int, chat_id: int, message_id: int,
                   now: str) -> None:
    await db.execute(
        "INSERT INTO quiz_poll(poll_id, attempt_id, position, chat_id, message_id, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id) DO UPDATE SET attempt_id = excluded.attempt_id,"
        " position = excluded.position, chat_id = excluded.chat_id, message_id = excluded.message_id,"
        " sent_at = excluded.sent_at", (poll_id, attempt_id, position, chat_id, message_id, now))


async def poll_target(db: Database, poll_id: str) -> PollTarget | None:
    row = await db.fetchone("SELECT attempt_id, position, chat_id FROM quiz_poll WHERE poll_id = ?", (poll_id,))
    return None if row is None else PollTarget(*row)
