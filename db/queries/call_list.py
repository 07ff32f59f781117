"""The facts behind a midwife's call list, for her own clinic only (domain/call_list.py decides)."""
from __future__ import annotations

from datetime import datetime

from domain.clock import parse_iso
from db.database import Database
from db.queries import mothers as mothers_q
from db.queries.clinic_scope import scope_of
from domain.call_list import CallItem, MotherFacts, call_list

_FACTS = (
    "SELECT {columns}, m.created_at AS registered_at,"
    " r.reported_at AS last_report_at, r.milk_flow AS last_flow, r.feeds_24h AS last_feeds,"
    " r.wet_nappies_24h AS last_wet,"
    " (SELECT MIN(a.opened_at) FROM alert a WHERE a.mother_id = m.user_id AND a.closed_at IS NULL"
    "  AND a.urgency = 'urgent') AS urgent_since,"
    " (SELECT w.display_name FROM alert a JOIN midwife w ON w.user_id = a.taken_by"
    "  WHERE a.mother_id = m.user_id AND a.closed_at IS NULL AND a.urgency = 'urgent'"
    "  ORDER BY a.opened_at LIMIT 1) AS urgent_taken_by,"
    " {question} AS question_since"
    " FROM mother m LEFT JOIN milk_report r ON r.id = (SELECT id FROM milk_report x WHERE x.mother_id = m.user_id"
    "  ORDER BY x.reported_at DESC, x.id DESC LIMIT 1)"
    " WHERE m.clinic_id = ?"
)


def _maybe(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


async def _question_sql(db: Database) -> str:
    """Her oldest unanswered question."""
    return ("(SELECT MIN(q.asked_at) FROM question q WHERE q.mother_id = m.user_id"
            " AND q.answered_at IS NULL)")


async def facts_of_clinic(db: Database, clinic_id: int) -> list[MotherFacts]:
    columns = ", ".join(f"m.{c.strip()}" for c in mothers_q.COLUMNS.split(","))
    sql = _FACTS.format(columns=columns, question=await _question_sql(db))
    facts = []
    for row in await db.fetchall(sql, (clinic_id,)):
        facts.append(MotherFacts(
            mothers_q.row_to_mother(row), parse_iso(row["registered_at"]), _maybe(row["last_report_at"]),
            row["last_flow"], row["last_feeds"], row["last_wet"], _maybe(row["urgent_since"]),
            row["urgent_taken_by"], _maybe(row["question_since"])))
    return facts


async def call_list_of(db: Database, midwife_id: int, now: datetime) -> tuple[str, str, list[CallItem]]:
    """(clinic name, clinic time zone, whom to contact today) for this midwife's own clinic."""
    scope = await scope_of(db, midwife_id)
    return scope.clinic_name, scope.timezone, call_list(await facts_of_clinic(db, scope.clinic_id), now)


async def midwives_due(db: Database) -> list[tuple[int, str, str, str | None]]:
    """(midwife id, clinic zone, clinic call-list time, date she last got it) of every midwife."""
    rows = await db.fetchall(
        "SELECT w.user_id, c.timezone, c.call_list_time, w.call_list_sent_on FROM midwife w"
        " JOIN clinic c ON c.id = w.clinic_id JOIN app_user u ON u.telegram_id = w.user_id WHERE u.active = 1")
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def mark_sent(db: Database, midwife_id: int, local_date: str) -> bool:
    cursor = await db.execute(
        "UPDATE midwife SET call_list_sent_on = ? WHERE user_id = ? AND (call_list_sent_on IS NULL"
        " OR call_list_sent_on < ?)", (local_date, midwife_id, local_date))
    return cursor.rowcount == 1
