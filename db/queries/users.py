"""Users, their roles and language."""
from __future__ import annotations

from dataclasses import dataclass

from db.database import Database


@dataclass(frozen=True)
class UserRow:
    telegram_id: int
    role: str
    language: str
    active: bool


async def get_user(db: Database, telegram_id: int) -> UserRow | None:
    row = await db.fetchone(
        "SELECT telegram_id, role, language, active FROM app_user WHERE telegram_id = ?", (telegram_id,)
    )
    return None if row is None else UserRow(row["telegram_id"], row["role"], row["language"], bool(row["active"]))


async def create_user(db: Database, telegram_id: int, role: str, language: str, now: str) -> None:
    await db.execute(
        "INSERT INTO app_user(telegram_id, role, language, consent_at, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (telegram_id) DO NOTHING",  # an update handled again after a crash
        (telegram_id, role, language, now, now),
    )


async def set_language(db: Database, telegram_id: int, language: str) -> None:
    await db.execute("UPDATE app_user SET language = ? WHERE telegram_id = ?", (language, telegram_id))


async def set_active(db: Database, telegram_id: int, active: bool) -> None:
    await db.execute("UPDATE app_user SET active = ? WHERE telegram_id = ?", (int(active), telegram_id))
