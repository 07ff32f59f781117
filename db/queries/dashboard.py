"""What the desk dashboard reads beyond the chat's views, in the style of `clinic_scope`:
every function takes the midwife's own Telegram id, calls `clinic_scope.scope_of` first and
reads only her clinic's rows. Nothing here takes a clinic id from a request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from db.queries import clinic_scope
from db.queries.alerts import ALERT_COLUMNS, Alert, row_to_alert
from db.queries.clinic_scope import MotherLine, Scope

SORTS = ("urgency", "day", "last")


async def mothers_table(db: Database, midwife_id: int, now: datetime, search: str = "",
                        sort: str = "urgency") -> tuple[Scope, list[MotherLine], int]:
    """(scope, her clinic's mothers matching `search` in `sort` order, how many in all).

    Sorts: urgency (as /ibu), day (day of life, youngest baby first), last (latest report first,
    never reported last)."""
    everything = await clinic_scope.mothers_page(db, midwife_id, now, 0, size=1_000_000)
    lines = everything.lines
    needle = search.strip().casefold()
    if needle:
        lines = [line for line in lines if needle in line.mother.display_name.casefold()]
    if sort == "day":
        lines = sorted(lines, key=lambda line: (line.postpartum_day, line.mother.display_name.casefold()))
    elif sort == "last":
        lines = sorted(lines, key=lambda line: line.last_report_at or "", reverse=True)
    return everything.scope, lines, everything.total


@dataclass(frozen=True)
class ClinicAlert:
    alert: Alert
    mother_name: str
    taken_by: int | None
    taken_name: str | None
    taken_at: str | None


async def open_alerts(db: Database, midwife_id: int) -> tuple[Scope, list[ClinicAlert]]:
    """The open alerts of her clinic, urgent first, then the longest waiting."""
    scope = await clinic_scope.scope_of(db, midwife_id)
    columns = ", ".join("a." + c.strip() for c in ALERT_COLUMNS.split(","))
    rows = await db.fetchall(
        f"SELECT {columns}, m.display_name AS mother_name, a.taken_by, a.taken_at,"
        " w.display_name AS taken_name FROM alert a JOIN mother m ON m.user_id = a.mother_id"
        " LEFT JOIN midwife w ON w.user_id = a.taken_by"
        " WHERE m.clinic_id = ? AND a.closed_at IS NULL"
        " ORDER BY a.urgency = 'urgent' DESC, a.opened_at, a.id", (scope.clinic_id,))
    return scope, [ClinicAlert(row_to_alert(r), r["mother_name"], r["taken_by"], r["taken_name"], r["taken_at"])
                   for r in rows]


async def alerts_of_mother(db: Database, midwife_id: int, mother_id: int, limit: int = 30) -> list[Alert]:
    """Every alert of one mother of her clinic (open and closed), newest first."""
    await clinic_scope.mother_of_clinic(db, midwife_id, mother_id)
    rows = await db.fetchall(f"SELECT {ALERT_COLUMNS} FROM alert WHERE mother_id = ?"
                             " ORDER BY opened_at DESC, id DESC LIMIT ?", (mother_id, limit))
    return [row_to_alert(r) for r in rows]


async def has_questions(db: Database) -> bool:
    """Whether "Tanya bidan" (the `question` table) is installed."""
    return True  # part of the schema since the baseline


@dataclass(frozen=True)
class OpenQuestion:
    id: int
    mother_id: int
    mother_name: str
    asker_role: str
    asked_at: str
    taken_name: str | None
    text: str | None
    kind: str | None


async def open_questions(db: Database, midwife_id: int) -> tuple[Scope, list[OpenQuestion]]:
    """Unanswered questions about her clinic's mothers, the longest waiting first."""
    scope = await clinic_scope.scope_of(db, midwife_id)
    if not await has_questions(db):
        return scope, []
    rows = await db.fetchall(
        "SELECT q.id, q.mother_id, m.display_name AS mother_name, q.asker_role, q.asked_at,"
        " w.display_name AS taken_name,"
        " (SELECT p.text FROM question_message p WHERE p.question_id = q.id AND p.part = 'question'"
        "  ORDER BY p.id LIMIT 1) AS text,"
        " (SELECT p.kind FROM question_message p WHERE p.question_id = q.id AND p.part = 'question'"
        "  ORDER BY p.id LIMIT 1) AS kind"
        " FROM question q JOIN mother m ON m.user_id = q.mother_id LEFT JOIN midwife w ON w.user_id = q.taken_by"
        " WHERE m.clinic_id = ? AND q.answered_at IS NULL ORDER BY q.asked_at, q.id", (scope.clinic_id,))
    return scope, [OpenQuestion(r["id"], r["mother_id"], r["mother_name"], r["asker_role"], r["asked_at"],
                                r["taken_name"], r["text"], r["kind"]) for r in rows]


async def midwife_language(db: Database, midwife_id: int) -> str:
    return await db.fetchval("SELECT language FROM app_user WHERE telegram_id = ?", (midwife_id,)) or "id"
