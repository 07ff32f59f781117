"""Clinics (Puskesmas), their mother links and one-time midwife codes."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from db.database import Database


def new_code() -> str:
    """An unguessable code for deep links (96 random bits, URL-safe)."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Clinic:
    id: int
    name: str
    timezone: str
    mother_code: str
    district: str | None = None
    phone: str | None = None       # shown as a number to call (danger screen, advice, /bantuan)
    whatsapp: str | None = None


class PhoneProblem(ValueError):
    """A phone number that cannot be stored; the message says why, for the command line."""


_PHONE = re.compile(r"^[+0][\d\s-]*$")


def normalise_phone(text: str) -> str:
    """A number to show and tap: digits grouped by spaces, in international form.

    Digits, spaces and dashes, starting with + or 0; an Indonesian 0-prefixed number becomes
    +62 (0274 123456 -> +62 274 123456), because Telegram makes international numbers tappable.
    """
    value = " ".join(text.replace("-", " ").split())
    if not _PHONE.match(value):
        raise PhoneProblem(f"phone number {text!r}: use digits, spaces or dashes, starting with 0 or +"
                           " (e.g. 0274 123456 or +62 274 123456)")
    digits = re.sub(r"\D", "", value)
    if not 6 <= len(digits) <= 15:
        raise PhoneProblem(f"phone number {text!r}: {len(digits)} digits; a phone number has 6 to 15")
    if value.startswith("0"):
        value = "+62 " + value[1:].lstrip()
    elif value.startswith("+62"):  # a trunk 0 after the country code does not belong there
        rest = value[3:].lstrip()
        value = "+62 " + (rest[1:].lstrip() if rest.startswith("0") else rest)
    else:
        value = "+" + value[1:].lstrip()
    return value.rstrip()


async def create_clinic(db: Database, name: str, timezone: str, now: str, district: str | None = None,
                        phone: str | None = None, whatsapp: str | None = None) -> tuple[Clinic, str]:
    """Create a clinic; returns it and a fresh one-time midwife code. Numbers as normalise_phone gives."""
    async with db.transaction():
        cursor = await db.execute(
            "INSERT INTO clinic(name, timezone, mother_code, created_at, district, phone, whatsapp)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (name, timezone, new_code(), now, district, phone, whatsapp),
        )
        clinic_id = cursor.rows[0]["id"]
        midwife_code = await _insert_midwife_code(db, clinic_id, now)
    clinic = await get_clinic(db, clinic_id)
    assert clinic is not None
    return clinic, midwife_code


async def _insert_midwife_code(db: Database, clinic_id: int, now: str) -> str:
    code = new_code()
    await db.execute("INSERT INTO midwife_code(code, clinic_id, created_at) VALUES (?, ?, ?)", (code, clinic_id, now))
    return code


async def new_midwife_code(db: Database, clinic_id: int, now: str) -> str:
    return await _insert_midwife_code(db, clinic_id, now)


async def get_clinic(db: Database, clinic_id: int) -> Clinic | None:
    row = await db.fetchone("SELECT id, name, timezone, mother_code, district, phone, whatsapp FROM clinic"
                            " WHERE id = ?", (clinic_id,))
    return None if row is None else Clinic(row["id"], row["name"], row["timezone"], row["mother_code"],
                                            row["district"], row["phone"], row["whatsapp"])


async def clinic_by_mother_code(db: Database, code: str) -> Clinic | None:
    row = await db.fetchone("SELECT id FROM clinic WHERE mother_code = ?", (code,))
    return None if row is None else await get_clinic(db, row["id"])


CLINIC_FIELDS = ("name", "district", "phone", "whatsapp", "timezone", "hours_open", "hours_close", "hours_days",
                 "escalate_urgent_minutes", "escalate_warning_hours", "call_list_time")


async def update_clinic(db: Database, clinic_id: int, **changes: str | None) -> Clinic | None:
    """Change some of a clinic's fields (CLINIC_FIELDS); None if there is no such clinic."""
    fields = {key: value for key, value in changes.items() if key in CLINIC_FIELDS}
    if fields:
        sets = ", ".join(f"{key} = ?" for key in fields)
        await db.execute(f"UPDATE clinic SET {sets} WHERE id = ?", (*fields.values(), clinic_id))
    return await get_clinic(db, clinic_id)


async def count_clinics(db: Database) -> int:
    return await db.fetchval("SELECT COUNT(*) FROM clinic")


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_clinics(db: Database, text: str, limit: int = 8) -> list[Clinic]:
    """Clinics whose name or district contain every typed word (any case), by name."""
    words = text.lower().split()[:5]
    if not words:
        return []
    where = " AND ".join(["lower(name || ' ' || coalesce(district, '')) LIKE ? ESCAPE '\\'"] * len(words))
    rows = await db.fetchall(f"SELECT id FROM clinic WHERE {where} ORDER BY name, id LIMIT ?",
                             (*[_like(w) for w in words], limit))
    return [clinic for row in rows if (clinic := await get_clinic(db, row["id"])) is not None]


async def list_clinics(db: Database) -> list[dict]:
    rows = await db.fetchall(
        "SELECT c.id, c.name, c.district, c.phone, c.whatsapp, c.timezone, c.mother_code,"
        " (SELECT COUNT(*) FROM mother m WHERE m.clinic_id = c.id) AS mothers,"
        " (SELECT COUNT(*) FROM midwife w WHERE w.clinic_id = c.id) AS midwives"
        " FROM clinic c ORDER BY c.id"
    )
    return [dict(row) for row in rows]


async def claim_midwife_code(db: Database, code: str, telegram_id: int, now: str) -> int | None:
    """Use a one-time code; returns the clinic id, or None if unknown or already used."""
    cursor = await db.execute(
        "UPDATE midwife_code SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        (telegram_id, now, code),
    )
    if cursor.rowcount != 1:
        return None
    return await db.fetchval("SELECT clinic_id FROM midwife_code WHERE code = ?", (code,))


async def add_midwife(db: Database, telegram_id: int, clinic_id: int, display_name: str, now: str) -> None:
    await db.execute(
        "INSERT INTO midwife(user_id, clinic_id, display_name, joined_at) VALUES (?, ?, ?, ?)",
        (telegram_id, clinic_id, display_name, now),
    )


async def midwife_clinic(db: Database, telegram_id: int) -> int | None:
    return await db.fetchval("SELECT clinic_id FROM midwife WHERE user_id = ?", (telegram_id,))


async def list_midwives(db: Database, clinic_id: int | None = None) -> list[dict]:
    sql = ("SELECT w.user_id, w.display_name, w.joined_at, c.id AS clinic_id, c.name AS clinic"
           " FROM midwife w JOIN clinic c ON c.id = w.clinic_id")
    params: tuple = ()
    if clinic_id is not None:
        sql += " WHERE c.id = ?"
        params = (clinic_id,)
    return [dict(row) for row in await db.fetchall(sql + " ORDER BY c.id, w.joined_at", params)]


async def clinic_midwife_ids(db: Database, clinic_id: int) -> list[int]:
    rows = await db.fetchall(
        "SELECT w.user_id FROM midwife w JOIN app_user u ON u.telegram_id = w.user_id"
        " WHERE w.clinic_id = ? AND u.active = 1", (clinic_id,))
    return [row["user_id"] for row in rows]


async def remove_midwife(db: Database, telegram_id: int) -> bool:
    cursor = await db.execute("DELETE FROM app_user WHERE telegram_id = ? AND role = 'midwife'", (telegram_id,))
    return cursor.rowcount == 1


async def clinic_all_midwife_ids(db: Database, clinic_id: int) -> list[int]:
    """Every midwife of the clinic, reachable or not (she may have blocked the bot)."""
    rows = await db.fetchall("SELECT user_id FROM midwife WHERE clinic_id = ? ORDER BY joined_at", (clinic_id,))
    return [row["user_id"] for row in rows]
