"""What we hold about one person (for /saya) and deleting it for real (for /hapus)."""
from __future__ import annotations

from dataclasses import dataclass
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
    ("clinic_voice", "recorded_by"),
]
# Rows about someone else that only name this person: on deletion the name goes, the row stays.
KEEP_WITHOUT_NAME: set[tuple[str, str]] = {("massage_session", "logged_by"), ("milk_report", "reported_by"),
                                           ("alert", "closed_by"), ("midwife_note", "midwife_id"),
                                           ("safety_check", "checked_by"), ("alert", "raised_by"),
                                           ("alert_delivery", "recipient_id"), ("mother", "care_status_by"),
                                           ("midwife_code", "used_by"), ("question", "asked_by"),
                                           ("question", "taken_by"), ("question", "answered_by"),
                                           ("question_message", "sender_id"), ("clinic_voice", "recorded_by")}
# Keys (also `update_id`: the Telegram update that wrote the row), and the Telegram ids of midwives
# (a mother sees the notes and alerts about her, not who wrote them).
HIDDEN_COLUMNS = {"code", "pseudonym", "update_id", "midwife_id", "closed_by", "taken_by", "answered_by"}
# Rows that only name her as who did something to someone else's row, and are not hers to see
# (a midwife who set a mother's care status): her id is erased on deletion, the row is not shown.
ERASE_ONLY: set[tuple[str, str]] = {("mother", "care_status_by"), ("question", "taken_by"), ("question", "answered_by")}


# Columns that name a person by Telegram id: every column of PERSONAL_TABLES, and the chat of a
# timer message (a private chat's id is its user's id). In the copy she downloads, anybody else's
# id in one of them becomes a role label ("pendamping 1", "bidan"); her own stays.
PERSON_COLUMNS: set[str] = {column for _, column in PERSONAL_TABLES} | {"chat_id", "midwife_id", "closed_by",
                                                                       "taken_by", "answered_by"}


async def collect(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about this user, table by table, each row once (a report she made about herself
    names her twice); codes and pseudonyms left out: they are keys, not data."""
    found: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple] = set()
    for table, column in PERSONAL_TABLES:
        if (table, column) in ERASE_ONLY:
            continue
        rows = await db.fetchall(f"SELECT * FROM {table} WHERE {column} = ?", (user_id,))
        for row in rows:
            key = (table, tuple(row))   # the same row found through another of her columns
            if key in seen:
                continue
            seen.add(key)
            found.setdefault(table, []).append({k: row[k] for k in row.keys() if k not in HIDDEN_COLUMNS})
    return found


@dataclass(frozen=True)
class Person:
    """Someone else named in her data: a label for the file, and a name where she knows it."""
    label_role: str            # mother | companion | midwife | admin | other
    number: int | None         # "pendamping 1", "pendamping 2"; None for midwives and the rest
    name: str | None = None    # the name she knows him or her by (a companion's, a mother's)
    relation: str | None = None


async def people_around(db: Database, user_id: int, admin_ids: set[int] | frozenset[int] = frozenset(),
                        data: dict[str, list[dict[str, Any]]] | None = None) -> dict[int, Person]:
    """Everybody else whose Telegram id appears in her rows, with the role label to show instead:
    her companions numbered in the order they joined (then former ones), the mothers a companion
    accompanies likewise, midwives and administrators by their role."""
    if data is None:
        data = await collect(db, user_id)
    people: dict[int, Person] = {}
    counters: dict[str, int] = {}

    def add(person_id: int, role: str, name: str | None = None, relation: str | None = None) -> None:
        if person_id == user_id or person_id in people:
            return
        number = None
        if role in ("mother", "companion"):
            counters[role] = number = counters.get(role, 0) + 1
        people[person_id] = Person(role, number, name, relation)

    for row in await db.fetchall("SELECT companion_id, display_name, relation FROM companion_link WHERE mother_id = ?"
                                 " ORDER BY created_at, companion_id", (user_id,)):
        add(row["companion_id"], "companion", row["display_name"] or None, row["relation"])
    for row in await db.fetchall(
            "SELECT l.mother_id, m.display_name, l.relation FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
            " WHERE l.companion_id = ? ORDER BY l.created_at, l.mother_id", (user_id,)):
        add(row["mother_id"], "mother", row["display_name"], row["relation"])
    others = sorted({value for rows in data.values() for row in rows for column, value in row.items()
                     if column in PERSON_COLUMNS and isinstance(value, int) and value != user_id
                     and value not in people})
    for person_id in others:
        role = await db.fetchval("SELECT role FROM app_user WHERE telegram_id = ?", (person_id,))
        if role is None and person_id in admin_ids:
            role = "admin"
        add(person_id, role or "other")
    return people


def without_other_ids(data: dict[str, list[dict[str, Any]]], user_id: int,
                      labels: dict[int, str], unknown: str) -> dict[str, list[dict[str, Any]]]:
    """A copy of `data` in which every other person's Telegram id is replaced by its label."""
    def clean(column: str, value: Any) -> Any:
        if column in PERSON_COLUMNS and isinstance(value, int) and value != user_id:
            return labels.get(value, unknown)
        return value

    return {table: [{column: clean(column, value) for column, value in row.items()} for row in rows]
            for table, rows in data.items()}


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
