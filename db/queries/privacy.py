"""What we hold about one person (for /saya) and deleting it for real (for /hapus)."""
from __future__ import annotations

from typing import Any

from db.database import Database

# Every table holding personal data, with the column naming the person. Later features add
# their tables here, so /saya shows them and /hapus removes them (most go by ON DELETE CASCADE).
PERSONAL_TABLES: list[tuple[str, str]] = [
    ("app_user", "telegram_id"),
    ("mother", "user_id"),
    ("companion_invite", "mother_id"),
    ("companion_link", "mother_id"),
    ("companion_link", "companion_id"),
    ("midwife", "user_id"),
    ("massage_session", "mother_id"),
    ("massage_session", "logged_by"),
    ("quiz_attempt", "user_id"),
    ("safety_check", "mother_id"),
    ("safety_check", "checked_by"),
    ("guided_session", "mother_id"),
    ("guided_session", "user_id"),
    ("guide_progress", "user_id"),
    ("milk_report", "mother_id"),
    ("milk_report", "reported_by"),
    ("milk_pair", "mother_id"),
    ("alert", "mother_id"),
    ("alert", "closed_by"),
    ("midwife_note", "mother_id"),
    ("midwife_note", "midwife_id"),
    ("reminder_pref", "mother_id"),
    ("reminder_mute", "user_id"),
    ("reminder_delivery", "mother_id"),
    ("reminder_delivery", "recipient_id"),
    ("alert", "raised_by"),
    ("alert_delivery", "recipient_id"),
    ("mother", "care_status_by"),
    ("midwife_code", "used_by"),
    ("question", "mother_id"),
    ("question", "asked_by"),
    ("question", "taken_by"),
    ("question", "answered_by"),
    ("question_message", "sender_id"),
    ("question_copy", "recipient_id"),
]
# Rows about someone else that only name this person: on deletion the name goes, the row stays.
KEEP_WITHOUT_NAME: set[tuple[str, str]] = {("massage_session", "logged_by"), ("milk_report", "reported_by"),
                                           ("alert", "closed_by"), ("midwife_note", "midwife_id"),
                                           ("safety_check", "checked_by"), ("alert", "raised_by"),
                                           ("alert_delivery", "recipient_id"), ("mother", "care_status_by"),
                                           ("midwife_code", "used_by"), ("question", "asked_by"),
                                           ("question", "taken_by"), ("question", "answered_by"),
                                           ("question_message", "sender_id")}
# Keys, and the Telegram ids of midwives (a mother sees the notes and alerts about her, not who wrote them).
HIDDEN_COLUMNS = {"code", "pseudonym", "midwife_id", "closed_by", "taken_by", "answered_by"}
# Rows that only name her as who did something to someone else's row, and are not hers to see
# (a midwife who set a mother's care status): her id is erased on deletion, the row is not shown.
ERASE_ONLY: set[tuple[str, str]] = {("mother", "care_status_by"), ("question", "taken_by"), ("question", "answered_by")}


async def collect(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about this user, table by table (codes left out: they are keys, not data)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, column in PERSONAL_TABLES:
        if (table, column) in ERASE_ONLY:
            continue
        rows = await db.fetchall(f"SELECT * FROM {table} WHERE {column} = ?", (user_id,))
        if rows:
            found.setdefault(table, []).extend(
                {k: row[k] for k in row.keys() if k not in HIDDEN_COLUMNS} for row in rows)
    return found


async def delete_user(db: Database, user_id: int) -> list[int]:
    """Delete everything about the user; returns the companions who were unlinked from her.

    Rows that belong to her are deleted. Rows about someone else that only name her (a
    session a companion logged for the mother) stay with their owner, without her id.
    """
    async with db.transaction():
        rows = await db.fetchall("SELECT companion_id FROM companion_link WHERE mother_id = ?", (user_id,))
        companions = [row["companion_id"] for row in rows]
        for table, column in PERSONAL_TABLES:
            if (table, column) in KEEP_WITHOUT_NAME:
                await db.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} = ?", (user_id,))
        for table, column in reversed(PERSONAL_TABLES):
            if (table, column) not in KEEP_WITHOUT_NAME:
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))
        await db.execute("DELETE FROM conversation_state WHERE key = ?", (f"[{user_id}, {user_id}]",))
        await db.execute("DELETE FROM user_draft WHERE user_id = ?", (user_id,))
    await db.checkpoint()  # nothing of hers left in the WAL file either (secure_delete zeroes the pages)
    return companions
