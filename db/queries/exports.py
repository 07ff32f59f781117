"""The export queries: what a midwife may take out of the bot, for her own clinic only.

Like every midwife query (see `db.queries.clinic_scope`) each function takes the midwife's own
Telegram id, never a clinic id, finds her clinic itself and reads only that clinic's mothers;
anyone who is not a midwife raises `NotAMidwife`. The exports run in a worker thread, so these
functions take a plain (read-only) `sqlite3` connection and return *streams*: each `rows()`
call runs its query again and yields rows in batches, so no table is ever held in memory.

Three exports use them:

- the research export (`research_tables`): milk reports, sessions and quiz attempts with the
  mothers only by pseudonym, times in UTC and category codes (`not_out` ...);
- the Puskesmas register (`register_streams`): the clinic's own record, with names, for the
  workbook that `exports.register` writes in Bahasa Indonesia and local time;
- the FHIR export (`fhir_reports`): the milk reports of a time range, for `exports.fhir`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

from db.reader import ReadOnlyConnection
from domain.clock import iso
from db.queries.clinic_scope import NotAMidwife, Scope

Rows = Callable[[], Iterator[tuple]]   # a fresh stream of rows each call

_SCOPE = ("SELECT w.user_id, c.id, c.name, c.timezone FROM midwife w JOIN clinic c ON c.id = w.clinic_id"
          " WHERE w.user_id = ?")


def scope_of(conn: ReadOnlyConnection, midwife_id: int) -> Scope:
    """Her clinic (the only clinic whose rows she may export); raises `NotAMidwife` otherwise."""
    row = conn.execute(_SCOPE, (midwife_id,)).fetchone()
    if row is None:
        raise NotAMidwife(midwife_id)
    return Scope(*row)


def _stream(conn: ReadOnlyConnection, sql: str, params: tuple | dict) -> Rows:
    sql = _dialect_sql(conn.dialect, sql)

    def rows() -> Iterator[tuple]:
        cursor = conn.execute(sql, params)
        try:
            while batch := cursor.fetchmany(1000):
                yield from batch
        finally:
            cursor.close()
    return rows


# What SQLite and PostgreSQL spell differently: a session's day of life, the companions joined.
_DIALECT = {
    "sqlite": {"{SLOT_DAY}": "CAST(julianday(s.slot_date) - julianday(m.delivery_date) AS INTEGER) + 1",
               "{COMPANIONS}": "(SELECT GROUP_CONCAT(x.display_name || '|' || x.relation, char(31)) FROM"
                               " (SELECT l.display_name, l.relation FROM companion_link l"
                               " WHERE l.mother_id = m.user_id ORDER BY l.created_at, l.companion_id) x)"},
    "postgresql": {"{SLOT_DAY}": "(CAST(s.slot_date AS date) - CAST(m.delivery_date AS date)) + 1",
                   "{COMPANIONS}": "(SELECT string_agg(l.display_name || '|' || l.relation, chr(31)"
                                   " ORDER BY l.created_at, l.companion_id) FROM companion_link l"
                                   " WHERE l.mother_id = m.user_id)"},
}


def _dialect_sql(dialect: str, sql: str) -> str:
    for marker, spelling in _DIALECT[dialect].items():
        sql = sql.replace(marker, spelling)
    return sql


# ----------------------------------------------------------------- research export (pseudonymous)
@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: Rows


REPORT_COLUMNS = ["report_id", "mother", "reported_at", "postpartum_day", "phase", "reporter", "milk_flow",
                  "feeds_24h", "wet_nappies_24h", "breasts", "danger_signs", "care_status"]
SESSION_COLUMNS = ["session_id", "mother", "slot_date", "slot", "postpartum_day", "started_at", "duration_s",
                   "completed", "who", "feeling", "source"]
QUIZ_COLUMNS = ["attempt_id", "participant", "role", "mother", "relation", "kind", "lang", "started_at",
                "finished_at", "score"]

_EXPORT_REPORTS = (
    "SELECT r.id, m.pseudonym, r.reported_at, r.postpartum_day, r.phase, r.reporter_role, r.milk_flow,"
    " r.feeds_24h, r.wet_nappies_24h, r.breasts,"
    " CASE WHEN r.danger_signs = '' THEN 'none' ELSE REPLACE(r.danger_signs, ',', ';') END, m.care_status"
    " FROM mother m JOIN milk_report r ON r.mother_id = m.user_id WHERE m.clinic_id = ?"
    " ORDER BY m.pseudonym, r.reported_at, r.id")
_EXPORT_SESSIONS = (
    "SELECT s.id, m.pseudonym, s.slot_date, s.slot,"
    " {SLOT_DAY},"
    " s.started_at, s.duration_s, s.completed, s.who, s.feeling, s.source"
    " FROM mother m JOIN massage_session s ON s.mother_id = m.user_id WHERE m.clinic_id = ?"
    " ORDER BY m.pseudonym, s.started_at, s.id")
# a companion of several mothers of the clinic appears once, under the first mother he joined
_PEOPLE = (
    "here AS (SELECT user_id, pseudonym, display_name FROM mother WHERE clinic_id = :clinic),"
    " comp AS (SELECT l.companion_id AS uid, h.pseudonym AS mother, h.display_name AS mother_name, l.relation,"
    "   l.display_name AS name,"
    "   ROW_NUMBER() OVER (PARTITION BY l.companion_id ORDER BY l.created_at, l.mother_id) AS pick,"
    "   ROW_NUMBER() OVER (PARTITION BY l.mother_id ORDER BY l.created_at, l.companion_id) AS n"
    "   FROM companion_link l JOIN here h ON h.user_id = l.mother_id),"
    " people AS (SELECT user_id AS uid, pseudonym AS participant, 'mother' AS role, pseudonym AS mother,"
    "   NULL AS relation, display_name AS name, display_name AS mother_name FROM here"
    "   UNION ALL SELECT uid, mother || '-C' || n, 'companion', mother, relation, name, mother_name"
    "   FROM comp WHERE pick = 1)")
_EXPORT_QUIZ = (
    f"WITH {_PEOPLE}"
    " SELECT q.id, p.participant, p.role, p.mother, p.relation, q.kind, q.lang, q.started_at, q.finished_at,"
    " q.score FROM people p JOIN quiz_attempt q ON q.user_id = p.uid ORDER BY p.participant, q.started_at, q.id")


def research_tables(conn: ReadOnlyConnection, midwife_id: int) -> tuple[Scope, list[Table]]:
    """The clinic's reports, sessions and quiz attempts for research: mothers only by pseudonym
    (companions as pseudonym + -C1, -C2), never by name or Telegram id."""
    scope = scope_of(conn, midwife_id)
    clinic = {"clinic": scope.clinic_id}
    return scope, [Table("milk_reports", REPORT_COLUMNS, _stream(conn, _EXPORT_REPORTS, (scope.clinic_id,))),
                   Table("sessions", SESSION_COLUMNS, _stream(conn, _EXPORT_SESSIONS, (scope.clinic_id,))),
                   Table("quiz_attempts", QUIZ_COLUMNS, _stream(conn, _EXPORT_QUIZ, clinic))]


export_tables = research_tables   # the name it had in clinic_scope


# ----------------------------------------------------------------- the Puskesmas register (with names)
@dataclass(frozen=True)
class RegisterStreams:
    """Raw rows for the register workbook; `exports.register` turns them into local times and
    Indonesian words. Column order is given by the SELECTs below (documented there)."""
    scope: Scope
    mothers: Rows
    reports: Rows
    sessions: Rows
    quizzes: Rows
    alerts: Rows
    questions: Rows


# user_id, display_name, pseudonym, delivery_date, birth_time, timezone, clinic_chosen_at, care_status,
# care_status_at, created_at, companions ("name|relation" joined by char(31), oldest first)
_REG_MOTHERS = (
    "SELECT m.user_id, m.display_name, m.pseudonym, m.delivery_date, m.birth_time, m.timezone,"
    " m.clinic_chosen_at, m.care_status, m.care_status_at, m.created_at,"
    " {COMPANIONS}"
    " FROM mother m WHERE m.clinic_id = :clinic ORDER BY LOWER(m.display_name), m.user_id")
# id, mother name, pseudonym, timezone, reported_at, postpartum_day, phase, reporter_role, reporter name
# (the companion's, '' for the mother), milk_flow, feeds_24h, wet_nappies_24h, breasts, danger_signs
_REG_REPORTS = (
    "SELECT r.id, m.display_name, m.pseudonym, m.timezone, r.reported_at, r.postpartum_day, r.phase,"
    " r.reporter_role, CASE WHEN r.reporter_role = 'companion' THEN COALESCE((SELECT l.display_name"
    "   FROM companion_link l WHERE l.mother_id = r.mother_id AND l.companion_id = r.reported_by), '') END,"
    " r.milk_flow, r.feeds_24h, r.wet_nappies_24h, r.breasts, r.danger_signs"
    " FROM mother m JOIN milk_report r ON r.mother_id = m.user_id WHERE m.clinic_id = :clinic"
    " ORDER BY r.reported_at, r.id")
# id, mother name, pseudonym, timezone, slot_date, slot, postpartum_day, started_at, duration_s, completed,
# who, feeling, source
_REG_SESSIONS = (
    "SELECT s.id, m.display_name, m.pseudonym, m.timezone, s.slot_date, s.slot,"
    " {SLOT_DAY},"
    " s.started_at, s.duration_s, s.completed, s.who, s.feeling, s.source"
    " FROM mother m JOIN massage_session s ON s.mother_id = m.user_id WHERE m.clinic_id = :clinic"
    " ORDER BY s.started_at, s.id")
# id, participant name, role, relation, mother name, mother pseudonym, timezone, kind, started_at,
# finished_at, score
_REG_QUIZZES = (
    f"WITH {_PEOPLE}"
    " SELECT q.id, p.name, p.role, p.relation, p.mother_name, p.mother, m.timezone, q.kind, q.started_at,"
    " q.finished_at, q.score FROM people p JOIN quiz_attempt q ON q.user_id = p.uid"
    " JOIN mother m ON m.pseudonym = p.mother ORDER BY q.started_at, q.id")
# id, mother name, pseudonym, timezone, cause, urgency, detail, report_day, opened_at, notified_at,
# taken_at, taken by (name), closed_at, closed_how, closed by (name), outcome
_REG_ALERTS = (
    "SELECT a.id, m.display_name, m.pseudonym, m.timezone, a.cause, a.urgency, a.detail, a.report_day,"
    " a.opened_at, a.notified_at, a.taken_at, t.display_name, a.closed_at, a.closed_how, c.display_name,"
    " a.outcome FROM mother m JOIN alert a ON a.mother_id = m.user_id"
    " LEFT JOIN midwife t ON t.user_id = a.taken_by LEFT JOIN midwife c ON c.user_id = a.closed_by"
    " WHERE m.clinic_id = :clinic ORDER BY a.opened_at, a.id")
# id, mother name, pseudonym, timezone, asker_role, asker name, asked_day, outside_hours, asked_at,
# taken_at, taken by (name), answered_at, answered by (name)
_REG_QUESTIONS = (
    "SELECT q.id, m.display_name, m.pseudonym, m.timezone, q.asker_role,"
    " CASE WHEN q.asker_role = 'mother' THEN m.display_name ELSE COALESCE((SELECT l.display_name"
    "   FROM companion_link l WHERE l.mother_id = q.mother_id AND l.companion_id = q.asked_by), '') END,"
    " q.asked_day, q.outside_hours, q.asked_at, q.taken_at, t.display_name, q.answered_at, a.display_name"
    " FROM mother m JOIN question q ON q.mother_id = m.user_id"
    " LEFT JOIN midwife t ON t.user_id = q.taken_by LEFT JOIN midwife a ON a.user_id = q.answered_by"
    " WHERE m.clinic_id = :clinic ORDER BY q.asked_at, q.id")


def register_streams(conn: ReadOnlyConnection, midwife_id: int) -> RegisterStreams:
    """The clinic's own record for its register: mothers with names and companions, reports,
    sessions, quizzes, alerts and questions with who took them and when. Times stay UTC here."""
    scope = scope_of(conn, midwife_id)
    clinic = {"clinic": scope.clinic_id}
    return RegisterStreams(scope, *(_stream(conn, sql, clinic) for sql in (
        _REG_MOTHERS, _REG_REPORTS, _REG_SESSIONS, _REG_QUIZZES, _REG_ALERTS, _REG_QUESTIONS)))


# ----------------------------------------------------------------- FHIR (a bounded time range)
# mother: user_id, display_name, pseudonym, timezone, delivery_date; report: id, reported_at,
# postpartum_day, reporter_role, relation of the companion who reported (or NULL), milk_flow,
# feeds_24h, wet_nappies_24h, breasts, danger_signs. Ordered by mother, so each mother's rows follow
# one another (her Patient resource is written once, before her first report).
_FHIR_REPORTS = (
    "SELECT m.user_id, m.display_name, m.pseudonym, m.timezone, m.delivery_date,"
    " r.id, r.reported_at, r.postpartum_day, r.reporter_role,"
    " CASE WHEN r.reporter_role = 'companion' THEN (SELECT l.relation FROM companion_link l"
    "   WHERE l.mother_id = r.mother_id AND l.companion_id = r.reported_by) END,"
    " r.milk_flow, r.feeds_24h, r.wet_nappies_24h, r.breasts, r.danger_signs"
    " FROM mother m JOIN milk_report r ON r.mother_id = m.user_id"
    " WHERE m.clinic_id = :clinic AND r.reported_at >= :start AND r.reported_at <= :end"
    " ORDER BY m.pseudonym, r.reported_at, r.id")


def fhir_reports(conn: ReadOnlyConnection, midwife_id: int, start: datetime, end: datetime) -> tuple[Scope, Rows]:
    """The clinic's milk reports made in [start, end] (UTC), with their mothers, for FHIR."""
    scope = scope_of(conn, midwife_id)
    return scope, _stream(conn, _FHIR_REPORTS, {"clinic": scope.clinic_id, "start": iso(start), "end": iso(end)})
