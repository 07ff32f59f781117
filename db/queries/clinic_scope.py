"""What a midwife may see and do: the one place every midwife query goes through.

Every function takes the midwife's own Telegram id (never a clinic id), finds her clinic
itself, and reads or writes only that clinic's rows. An id from another clinic, an id that
does not exist, or a user who is not a midwife raises: the same answer for all, so a forged
button learns nothing. Handlers never build midwife SQL of their own.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterator

from bot.clock import iso
from db.database import Database
from db.queries import mothers as mothers_q
from db.queries.mothers import Mother
from db.queries import care as care_q
from db.queries.alerts import ALERT_COLUMNS, Alert, FailedDelivery, failed_midwife_deliveries, row_to_alert
from db.queries.reports import Report, SessionEntry, _report, day_of
from domain.dates import MAX_DAYS_AGO, local_today


class NotAMidwife(PermissionError):
    """The user is not (or no longer) a midwife."""


class NotYourClinic(PermissionError):
    """Unknown, or belongs to another clinic: the midwife gets the same answer for both."""


@dataclass(frozen=True)
class Scope:
    midwife_id: int
    clinic_id: int
    clinic_name: str
    timezone: str


_SCOPE = ("SELECT w.user_id, c.id, c.name, c.timezone FROM midwife w JOIN clinic c ON c.id = w.clinic_id"
          " WHERE w.user_id = ?")


async def scope_of(db: Database, midwife_id: int) -> Scope:
    row = await db.fetchone(_SCOPE, (midwife_id,))
    if row is None:
        raise NotAMidwife(midwife_id)
    return Scope(*row)


_mother = mothers_q.row_to_mother


async def mother_of_clinic(db: Database, midwife_id: int, mother_id: int) -> Mother:
    """The mother, if she belongs to the midwife's clinic; raises otherwise."""
    scope = await scope_of(db, midwife_id)
    row = await db.fetchone(
        f"SELECT {mothers_q.COLUMNS} FROM mother"
        " WHERE user_id = ? AND clinic_id = ?", (mother_id, scope.clinic_id))
    if row is None:
        raise NotYourClinic(mother_id)
    return _mother(row)


# ----------------------------------------------------------------- /ringkasan
@dataclass(frozen=True)
class Cohort:
    scope: Scope
    mothers: int            # registered with the clinic
    active: int             # a report or a session in the last 7 days
    sessions_week: int      # sessions started in the last 7 days
    open_alerts: int


async def cohort(db: Database, midwife_id: int, now: datetime) -> Cohort:
    scope = await scope_of(db, midwife_id)
    week_ago = iso(now - timedelta(days=7))
    row = await db.fetchone(
        "SELECT COUNT(*) AS mothers,"
        " COALESCE(SUM(EXISTS(SELECT 1 FROM milk_report r WHERE r.mother_id = m.user_id AND r.reported_at >= :since)"
        "  OR EXISTS(SELECT 1 FROM massage_session s WHERE s.mother_id = m.user_id AND s.started_at >= :since)), 0)"
        "  AS active,"
        " COALESCE(SUM((SELECT COUNT(*) FROM massage_session s WHERE s.mother_id = m.user_id"
        "  AND s.started_at >= :since)), 0) AS sessions_week,"
        " COALESCE(SUM((SELECT COUNT(*) FROM alert a WHERE a.mother_id = m.user_id AND a.closed_at IS NULL)), 0)"
        "  AS open_alerts"
        " FROM mother m WHERE m.clinic_id = :clinic", {"since": week_ago, "clinic": scope.clinic_id})
    return Cohort(scope, row["mothers"], row["active"], row["sessions_week"], row["open_alerts"])


async def milk_flow_pairs(db: Database, midwife_id: int) -> tuple[list[tuple[str, str]], int]:
    """(first pre, latest post) milk flow per mother of the clinic; and how many have only one.

    Mothers whose baby has died (care_status 'loss') are left out: their reports say nothing about
    the massage (`loss_excluded` counts them, for the summary). The pairs are kept per mother by
    triggers on milk_report (table milk_pair, migration 0005)."""
    scope = await scope_of(db, midwife_id)
    rows = await db.fetchall(
        "SELECT p.first_pre AS pre, p.latest_post AS post, COUNT(*) AS n FROM mother m"
        " JOIN milk_pair p ON p.mother_id = m.user_id WHERE m.clinic_id = ? AND m.care_status <> 'loss'"
        " AND (p.first_pre IS NOT NULL OR p.latest_post IS NOT NULL) GROUP BY 1, 2", (scope.clinic_id,))
    pairs: list[tuple[str, str]] = []
    excluded = 0
    for row in rows:
        if row["pre"] is None or row["post"] is None:
            excluded += row["n"]
        else:
            pairs.extend([(row["pre"], row["post"])] * row["n"])
    return pairs, excluded


async def loss_excluded(db: Database, midwife_id: int) -> int:
    """Mothers of the clinic with milk-flow reports who are left out of the before/after
    comparison because their baby has died."""
    scope = await scope_of(db, midwife_id)
    return await db.fetchval(
        "SELECT COUNT(*) FROM mother m JOIN milk_pair p ON p.mother_id = m.user_id"
        " WHERE m.clinic_id = ? AND m.care_status = 'loss'"
        " AND (p.first_pre IS NOT NULL OR p.latest_post IS NOT NULL)", (scope.clinic_id,))


async def quiz_pairs(db: Database, midwife_id: int) -> tuple[list[tuple[float, float]], int]:
    """(first pre, latest post) finished quiz score per person of the clinic (its mothers and
    their companions); and how many have only one. Kept per person by triggers (quiz_pair)."""
    scope = await scope_of(db, midwife_id)
    rows = await db.fetchall(
        "SELECT p.first_pre AS pre, p.latest_post AS post FROM mother m JOIN quiz_pair p ON p.user_id = m.user_id"
        " WHERE m.clinic_id = :clinic"
        " UNION ALL SELECT p.first_pre, p.latest_post FROM quiz_pair p WHERE p.user_id IN ("
        "  SELECT l.companion_id FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
        "  WHERE m.clinic_id = :clinic)", {"clinic": scope.clinic_id})
    pairs = [(float(r["pre"]), float(r["post"])) for r in rows if r["pre"] is not None and r["post"] is not None]
    return pairs, sum(1 for r in rows if (r["pre"] is None) != (r["post"] is None))


# ----------------------------------------------------------------- /ibu
URGENCY = ("danger", "alert", "no_report", "not_out", "ok", "past")


@dataclass(frozen=True)
class MotherLine:
    mother: Mother
    urgency: str
    open_alerts: int
    postpartum_day: int
    last_flow: str | None
    last_report_at: str | None
    sessions_3d: int


@dataclass(frozen=True)
class MothersPage:
    scope: Scope
    lines: list[MotherLine]
    page: int
    pages: int
    total: int


async def mothers_page(db: Database, midwife_id: int, now: datetime, page: int = 0,
                       size: int = 8) -> MothersPage:
    """The clinic's mothers, most urgent first: open alerts (danger signs first), no report
    yet, milk still not out, the others, and last those past the 42 days of nifas."""
    scope = await scope_of(db, midwife_id)
    total = await db.fetchval("SELECT COUNT(*) FROM mother WHERE clinic_id = ?", (scope.clinic_id,))
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    today = local_today(now, scope.timezone)
    rows = await db.fetchall(
        "SELECT *, CASE"
        "  WHEN alert_rank IS NOT NULL THEN alert_rank"
        "  WHEN delivery_date < :nifas_from THEN 5"
        "  WHEN last_flow IS NULL THEN 2"
        "  WHEN last_flow = 'not_out' THEN 3 ELSE 4 END AS urgency"
        " FROM (SELECT m.*,"
        "  (SELECT MIN(CASE a.urgency WHEN 'urgent' THEN 0 ELSE 1 END) FROM alert a"
        "   WHERE a.mother_id = m.user_id AND a.closed_at IS NULL) AS alert_rank,"
        "  (SELECT COUNT(*) FROM alert a WHERE a.mother_id = m.user_id AND a.closed_at IS NULL) AS open_alerts,"
        "  (SELECT r.milk_flow FROM milk_report r WHERE r.mother_id = m.user_id"
        "   ORDER BY r.reported_at DESC, r.id DESC LIMIT 1) AS last_flow,"
        "  (SELECT MAX(r.reported_at) FROM milk_report r WHERE r.mother_id = m.user_id) AS last_report_at,"
        "  (SELECT COUNT(*) FROM massage_session s WHERE s.mother_id = m.user_id AND s.started_at >= :since3)"
        "   AS sessions_3d"
        "  FROM mother m WHERE m.clinic_id = :clinic)"
        " ORDER BY urgency, delivery_date, user_id LIMIT :size OFFSET :offset",
        {"clinic": scope.clinic_id, "since3": iso(now - timedelta(days=3)), "size": size, "offset": page * size,
         "nifas_from": (today - timedelta(days=MAX_DAYS_AGO)).isoformat()})
    lines = []
    for row in rows:
        mother = _mother(row)
        lines.append(MotherLine(mother, URGENCY[row["urgency"]], row["open_alerts"], day_of(mother, now),
                                row["last_flow"], row["last_report_at"], row["sessions_3d"]))
    return MothersPage(scope, lines, page, pages, total)


# ----------------------------------------------------------------- one mother's record
@dataclass(frozen=True)
class CompanionLine:
    name: str
    relation: str


@dataclass(frozen=True)
class QuizLine:
    who: str               # "mother" or the companion's name
    relation: str | None
    kind: str
    score: int
    finished_at: str


@dataclass(frozen=True)
class Note:
    text: str
    created_at: str


@dataclass
class Record:
    scope: Scope
    mother: Mother
    postpartum_day: int
    companions: list[CompanionLine] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    sessions: list[SessionEntry] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)     # open ones, urgent first
    failed: list["Undelivered"] = field(default_factory=list)  # open alerts a midwife did not get
    care_status_at: str | None = None
    notes: list[Note] = field(default_factory=list)
    quiz: list[QuizLine] = field(default_factory=list)


async def mother_record(db: Database, midwife_id: int, mother_id: int, now: datetime, limit: int = 12) -> Record:
    scope = await scope_of(db, midwife_id)
    mother = await mother_of_clinic(db, midwife_id, mother_id)
    record = Record(scope, mother, day_of(mother, now))
    rows = await db.fetchall("SELECT display_name, relation FROM companion_link WHERE mother_id = ?"
                             " ORDER BY created_at", (mother_id,))
    record.companions = [CompanionLine(r["display_name"], r["relation"]) for r in rows]
    rows = await db.fetchall(
        "SELECT id, mother_id, reported_by, reporter_role, reported_at, postpartum_day, phase, milk_flow,"
        " feeds_24h, wet_nappies_24h, breasts, danger_signs FROM milk_report WHERE mother_id = ?"
        " ORDER BY reported_at DESC, id DESC LIMIT ?", (mother_id, limit))
    record.reports = [_report(r) for r in rows]
    rows = await db.fetchall(
        "SELECT started_at, slot_date, slot, duration_s, completed, who FROM massage_session WHERE mother_id = ?"
        " ORDER BY started_at DESC LIMIT ?", (mother_id, limit))
    record.sessions = [SessionEntry(r["started_at"], r["slot_date"], r["slot"], r["duration_s"],
                                    bool(r["completed"]), r["who"]) for r in rows]
    rows = await db.fetchall(
        f"SELECT {ALERT_COLUMNS} FROM alert WHERE mother_id = ?"
        " AND closed_at IS NULL ORDER BY urgency = 'urgent' DESC, opened_at", (mother_id,))
    record.alerts = [row_to_alert(r) for r in rows]
    record.failed = await _undelivered(db, mother_id)
    record.care_status_at = await db.fetchval("SELECT care_status_at FROM mother WHERE user_id = ?", (mother_id,))
    rows = await db.fetchall("SELECT text, created_at FROM midwife_note WHERE mother_id = ?"
                             " ORDER BY created_at DESC, id DESC LIMIT 5", (mother_id,))
    record.notes = [Note(r["text"], r["created_at"]) for r in rows]
    rows = await db.fetchall(
        "SELECT 'mother' AS who, NULL AS relation, q.kind, q.score, q.finished_at, 0 AS ord FROM quiz_attempt q"
        " WHERE q.user_id = :m AND q.kind IN ('pre', 'post') AND q.finished_at IS NOT NULL AND q.score IS NOT NULL"
        " UNION ALL"
        " SELECT l.display_name, l.relation, q.kind, q.score, q.finished_at, 1 FROM quiz_attempt q"
        " JOIN companion_link l ON l.companion_id = q.user_id AND l.mother_id = :m"
        " WHERE q.kind IN ('pre', 'post') AND q.finished_at IS NOT NULL AND q.score IS NOT NULL"
        " ORDER BY ord, who, finished_at", {"m": mother_id})
    record.quiz = [QuizLine(r["who"], r["relation"], r["kind"], r["score"], r["finished_at"]) for r in rows]
    return record


@dataclass(frozen=True)
class Undelivered:
    alert_id: int
    cause: str
    name: str          # the midwife's name ('' once she deleted her data)
    status: str        # failed | blocked (her latest attempt for this alert)
    at: str


async def _undelivered(db: Database, mother_id: int) -> list[Undelivered]:
    """Open alerts of the mother that did not reach one of the midwives (latest attempt per
    midwife and alert; one that arrived later is not shown). Called after the clinic check."""
    failed: list[FailedDelivery] = await failed_midwife_deliveries(db, mother_id)
    found: dict[tuple[int, int | None], Undelivered] = {}
    for item in failed:
        key = (item.alert_id, item.recipient_id)
        if key in found:
            continue
        status = await db.fetchval(
            "SELECT status FROM alert_delivery WHERE alert_id = ? AND recipient_kind = 'midwife'"
            " AND recipient_id IS ? ORDER BY at DESC, id DESC LIMIT 1", (item.alert_id, item.recipient_id))
        if status != "sent":
            found[key] = Undelivered(item.alert_id, item.cause, item.name, status or "failed", item.at)
    return list(found.values())


# ----------------------------------------------------------------- notes and alerts
MAX_NOTE = 1000


async def add_note(db: Database, midwife_id: int, mother_id: int, text: str, now: datetime) -> Mother:
    mother = await mother_of_clinic(db, midwife_id, mother_id)
    await db.execute("INSERT INTO midwife_note(mother_id, midwife_id, text, created_at) VALUES (?, ?, ?, ?)",
                     (mother_id, midwife_id, text[:MAX_NOTE], iso(now)))
    return mother


OUTCOMES = ("seen", "referred", "unreachable")


async def alert_of_clinic(db: Database, midwife_id: int, alert_id: int) -> Alert:
    """The alert, if its mother belongs to the midwife's clinic; raises otherwise."""
    scope = await scope_of(db, midwife_id)
    row = await db.fetchone(
        f"SELECT {', '.join('a.' + c.strip() for c in ALERT_COLUMNS.split(','))} FROM alert a"
        " JOIN mother m ON m.user_id = a.mother_id WHERE a.id = ? AND m.clinic_id = ?", (alert_id, scope.clinic_id))
    if row is None:
        raise NotYourClinic(alert_id)
    return row_to_alert(row)


async def close_alert(db: Database, midwife_id: int, alert_id: int, now: datetime,
                      outcome: str | None = None) -> tuple[Mother, Alert, bool]:
    """Close an alert of her clinic (closed_how 'midwife'; a danger alert with its outcome:
    seen / referred / unreachable); (mother, alert, closed now?) — False if already closed."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    alert = await alert_of_clinic(db, midwife_id, alert_id)
    cursor = await db.execute(
        "UPDATE alert SET closed_at = ?, closed_by = ?, closed_how = 'midwife', outcome = ?"
        " WHERE id = ? AND closed_at IS NULL", (iso(now), midwife_id, outcome, alert_id))
    mother = await mother_of_clinic(db, midwife_id, alert.mother_id)
    return mother, alert, cursor.rowcount == 1


async def reopen_alert(db: Database, midwife_id: int, alert_id: int) -> tuple[Mother, Alert, bool]:
    """Undo a midwife's closing (any midwife of the same clinic): open again, outcome cleared.
    False when it is open already (or was closed by the bot or by the mother, not by a midwife)."""
    alert = await alert_of_clinic(db, midwife_id, alert_id)
    cursor = await db.execute(
        "UPDATE alert SET closed_at = NULL, closed_by = NULL, closed_how = NULL, outcome = NULL"
        " WHERE id = ? AND closed_at IS NOT NULL AND closed_how = 'midwife'", (alert_id,))
    mother = await mother_of_clinic(db, midwife_id, alert.mother_id)
    return mother, alert, cursor.rowcount == 1


async def set_care_status(db: Database, midwife_id: int, mother_id: int, status: str,
                          now: datetime) -> tuple[Mother, str | None]:
    """The midwife sets (or undoes) a mother's care status from her record: (mother, status before)."""
    await mother_of_clinic(db, midwife_id, mother_id)
    before = await care_q.set_status(db, mother_id, status, midwife_id, now)
    if before == "hospital" and status != "hospital":  # the baby is home: that alert is dealt with
        await db.execute("UPDATE alert SET closed_at = ?, closed_by = ?, closed_how = 'midwife'"
                         " WHERE mother_id = ? AND cause = 'baby_hospital' AND closed_at IS NULL",
                         (iso(now), midwife_id, mother_id))
    return await mother_of_clinic(db, midwife_id, mother_id), before


# ----------------------------------------------------------------- /ekspor
@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: Callable[[], Iterator[tuple]]   # a fresh stream of rows each call


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
    " CAST(julianday(s.slot_date) - julianday(m.delivery_date) AS INTEGER) + 1,"
    " s.started_at, s.duration_s, s.completed, s.who, s.feeling, s.source"
    " FROM mother m JOIN massage_session s ON s.mother_id = m.user_id WHERE m.clinic_id = ?"
    " ORDER BY m.pseudonym, s.started_at, s.id")
_EXPORT_QUIZ = (
    "WITH here AS (SELECT user_id, pseudonym FROM mother WHERE clinic_id = ?),"
    " comp AS (SELECT l.companion_id AS uid, h.pseudonym AS mother, l.relation,"
    "   ROW_NUMBER() OVER (PARTITION BY l.companion_id ORDER BY l.created_at, l.mother_id) AS pick,"
    "   ROW_NUMBER() OVER (PARTITION BY l.mother_id ORDER BY l.created_at, l.companion_id) AS n"
    "   FROM companion_link l JOIN here h ON h.user_id = l.mother_id),"
    " people AS (SELECT user_id AS uid, pseudonym AS participant, 'mother' AS role, pseudonym AS mother,"
    "   NULL AS relation FROM here"
    "   UNION ALL SELECT uid, mother || '-C' || n, 'companion', mother, relation FROM comp WHERE pick = 1)"
    " SELECT q.id, p.participant, p.role, p.mother, p.relation, q.kind, q.lang, q.started_at, q.finished_at,"
    " q.score FROM people p JOIN quiz_attempt q ON q.user_id = p.uid ORDER BY p.participant, q.started_at, q.id")


def export_tables(conn: sqlite3.Connection, midwife_id: int) -> tuple[Scope, list[Table]]:
    """The clinic's reports, sessions and quiz attempts, streamed from a plain sqlite3
    connection (the export runs in a worker thread). Mothers appear only by pseudonym."""
    row = conn.execute(_SCOPE, (midwife_id,)).fetchone()
    if row is None:
        raise NotAMidwife(midwife_id)
    scope = Scope(*row)

    def stream(sql: str) -> Callable[[], Iterator[tuple]]:
        def rows() -> Iterator[tuple]:
            cursor = conn.execute(sql, (scope.clinic_id,))
            try:
                while batch := cursor.fetchmany(1000):
                    yield from batch
            finally:
                cursor.close()
        return rows

    return scope, [Table("milk_reports", REPORT_COLUMNS, stream(_EXPORT_REPORTS)),
                   Table("sessions", SESSION_COLUMNS, stream(_EXPORT_SESSIONS)),
                   Table("quiz_attempts", QUIZ_COLUMNS, stream(_EXPORT_QUIZ))]
