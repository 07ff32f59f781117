"""Companion invites (one live code per mother) and companion links."""
from __future__ import annotations

from dataclasses import dataclass

from db.database import Database
from db.queries.clinics import new_code


@dataclass(frozen=True)
class Link:
    mother_id: int
    companion_id: int
    relation: str
    mother_name: str
    companion_name: str


async def current_invite(db: Database, mother_id: int, now: str) -> str:
    """The mother's live invite code, created if she has none."""
    code = await db.fetchval(
        "SELECT code FROM companion_invite WHERE mother_id = ? AND revoked_at IS NULL"
        " ORDER BY created_at DESC LIMIT 1", (mother_id,))
    if code is None:
        code = new_code()
        await db.execute("INSERT INTO companion_invite(code, mother_id, created_at) VALUES (?, ?, ?)",
                         (code, mother_id, now))
    return code


async def revoke_and_renew(db: Database, mother_id: int, now: str) -> str:
    async with db.transaction():
        await db.execute("UPDATE companion_invite SET revoked_at = ? WHERE mother_id = ? AND revoked_at IS NULL",
                         (now, mother_id))
        code = new_code()
        await db.execute("INSERT INTO companion_invite(code, mother_id, created_at) VALUES (?, ?, ?)",
                         (code, mother_id, now))
    return code


async def mother_for_invite(db: Database, code: str) -> int | None:
    return await db.fetchval(
        "SELECT mother_id FROM companion_invite WHERE code = ? AND revoked_at IS NULL", (code,))


async def link(db: Database, mother_id: int, companion_id: int, relation: str, display_name: str, now: str) -> bool:
    """Link a companion to a mother; False if they were linked already."""
    cursor = await db.execute(
        "INSERT INTO companion_link(mother_id, companion_id, relation, display_name, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (mother_id, companion_id, relation, display_name, now))
    return cursor.rowcount == 1


async def unlink(db: Database, mother_id: int, companion_id: int) -> bool:
    cursor = await db.execute("DELETE FROM companion_link WHERE mother_id = ? AND companion_id = ?",
                              (mother_id, companion_id))
    return cursor.rowcount == 1


_LINKS = ("SELECT l.mother_id, l.companion_id, l.relation, m.display_name AS mother_name,"
          " l.display_name AS companion_name FROM companion_link l JOIN mother m ON m.user_id = l.mother_id")


async def links_of_mother(db: Database, mother_id: int) -> list[Link]:
    rows = await db.fetchall(_LINKS + " WHERE l.mother_id = ? ORDER BY l.created_at", (mother_id,))
    return [Link(*row) for row in rows]


async def links_of_companion(db: Database, companion_id: int) -> list[Link]:
    rows = await db.fetchall(_LINKS + " WHERE l.companion_id = ? ORDER BY l.created_at", (companion_id,))
    return [Link(*row) for row in rows]


async def companion_ids(db: Database, mother_id: int) -> list[int]:
    """Her companions who can be written to (they did not block the bot)."""
    rows = await db.fetchall(
        "SELECT l.companion_id FROM companion_link l JOIN app_user u ON u.telegram_id = l.companion_id"
        " WHERE l.mother_id = ? AND u.active = 1 ORDER BY l.created_at", (mother_id,))
    return [row["companion_id"] for row in rows]
