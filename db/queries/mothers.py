"""Mothers: profile, clinic membership and the pseudonym used in exports."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from db.database import Database


@dataclass(frozen=True)
class Mother:
    user_id: int
    display_name: str
    delivery_date: date
    first_child: bool
    timezone: str
    clinic_id: int | None
    pseudonym: str
    birth_time: str | None = None        # 'HH:MM', a part of the day, or None (domain/age.py)
    care_status: str = "normal"          # normal | hospital | loss
    clinic_chosen_at: str | None = None  # she chose her Puskesmas (or "not yet") at this time


def row_to_mother(row) -> Mother:
    return Mother(row["user_id"], row["display_name"], date.fromisoformat(row["delivery_date"]),
                  bool(row["first_child"]), row["timezone"], row["clinic_id"], row["pseudonym"],
                  row["birth_time"], row["care_status"], row["clinic_chosen_at"])


COLUMNS = ("user_id, display_name, delivery_date, first_child, timezone, clinic_id, pseudonym, birth_time,"
            " care_status, clinic_chosen_at")


async def get_mother(db: Database, user_id: int) -> Mother | None:
    row = await db.fetchone(f"SELECT {COLUMNS} FROM mother WHERE user_id = ?", (user_id,))
    return None if row is None else row_to_mother(row)


async def create_mother(db: Database, user_id: int, display_name: str, delivery_date: date, first_child: bool,
                        timezone: str, clinic_id: int | None, now: str) -> None:
    await db.execute(
        "INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id, pseudonym,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING",  # handled again
        (user_id, display_name, delivery_date.isoformat(), int(first_child), timezone, clinic_id,
         "M-" + secrets.token_hex(4).upper(), now),
    )


async def set_clinic(db: Database, user_id: int, clinic_id: int) -> None:
    await db.execute("UPDATE mother SET clinic_id = ? WHERE user_id = ?", (clinic_id, user_id))


async def choose_clinic(db: Database, user_id: int, clinic_id: int | None, now: str) -> None:
    """She chose her Puskesmas, or "not yet" (None): the old clinic's midwives lose her at once."""
    await db.execute("UPDATE mother SET clinic_id = ?, clinic_chosen_at = ? WHERE user_id = ?",
                     (clinic_id, now, user_id))


async def set_birth_time(db: Database, user_id: int, birth_time: str | None) -> None:
    await db.execute("UPDATE mother SET birth_time = ? WHERE user_id = ?", (birth_time, user_id))
