"""What a midwife may see and do: the one place every midwife query goes through.

Every function takes the midwife's own Telegram id (never a clinic id), finds her clinic
itself, and reads or writes only that clinic's rows. An id from another clinic, an id that
does not exist, or a user who is not a midwife raises: the same answer for all, so a forged
button learns nothing. Handlers never build midwife SQL of their own.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.clock import iso, parse_iso
from db.database import Database
from db.queries import mothers as mothers_q
from db.queries.mothers import Mother
from db.queries import care as care_q
from db.queries.alerts import ALERT_COLUMNS, Alert, FailedDelivery, failed_midwife_deliveries, row_to_alert
from db.queries.replay import insert_once
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
        " COALESCE(SUM(CASE WHEN EXISTS(SELECT 1 FROM milk_report r WHERE r.mother_id = m.user_id"
        "  AND r.reported_at >= :since) OR EXISTS(SELECT 1 FROM massage_session s WHERE s.mother_id = m.user_id"
        "  AND s.started_at >= :since) THEN 1 ELSE 0 END), 0) AS active,"
        " CAST(COALESCE(SUM((SELECT COUNT(*) FROM massage_session s WHERE s.mother_id = m.user_id"
        "  AND s.started_at >= :since)), 0) AS INTEGER) AS sessions_week,"
        " CAST(COALESCE(SUM((SELECT COUNT(*) FROM alert a WHERE a.mother_id = m.user_id AND a.closed_at IS NULL)), 0)"
        "  AS INTEGER) AS open_alerts"
        " FROM mother m WHERE m.clinic_id = :clinic", {"since": week_ago, "clinic": scope.clinic_id})
    return Cohort(scope, row["mothers"], row["active"], row["sessions_week"], row["open_alerts"])


@dataclass(frozen=True)
class Today:
    """The clinic today, for the first screen of /ringkasan (clinic local time)."""
    scope: Scope
    followed: int                      # in nifas (delivery within 42 days), baby not died
    hospital: int                      # of those, baby in hospital
    urgent_alerts: int                 # open, urgency 'urgent'
    warning_alerts: int                # open, urgency 'warning'
    longest_untaken_min: float | None  # the oldest open urgent/warning alert nobody took
    questions_waiting: int             # unanswered questions about her clinic's mothers
    longest_question_min: float | None
    sessions_week: int                 # massage sessions started in the last 7 days
    milk_now: dict[str, int]           # latest report of each followed mother: not_out / not_smooth / smooth
    no_report: int                     # followed mothers who never reported
    month: date                        # first day of the clinic's local month
    alerts_taken: int                  # alerts opened this month and taken ("Saya tangani")
    median_take_min: float | None
    questions_answered: int            # questions asked this month and answered
    median_answer_min: float | None


def _minutes(start: str, end: datetime) -> float:
    return (end - parse_iso(start)).total_seconds() / 60


async def today(db: Database, midwife_id: int, now: datetime) -> Today:
    """Today's numbers of her clinic: whom she follows, what waits for her, the milk flow now
    and how fast alerts were taken and questions answered this month."""
    from db.queries.questions import answer_times  # questions imports this module

    scope = await scope_of(db, midwife_id)
    local = now.astimezone(ZoneInfo(scope.timezone))
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    params = {"clinic": scope.clinic_id, "week": iso(now - timedelta(days=7)), "month": iso(month),
              "nifas_from": (local.date() - timedelta(days=MAX_DAYS_AGO)).isoformat()}
    mothers = await db.fetchone(
        "SELECT COUNT(*) AS followed, COALESCE(SUM(CASE WHEN care_status = 'hospital' THEN 1 ELSE 0 END), 0) AS hospital,"
        " COALESCE(SUM(CASE WHEN flow = 'not_out' THEN 1 ELSE 0 END), 0) AS not_out, COALESCE(SUM(CASE WHEN flow = 'not_smooth' THEN 1 ELSE 0 END), 0) AS not_smooth,"
        " COALESCE(SUM(CASE WHEN flow = 'smooth' THEN 1 ELSE 0 END), 0) AS smooth, COALESCE(SUM(CASE WHEN flow IS NULL THEN 1 ELSE 0 END), 0) AS no_report"
        " FROM (SELECT m.care_status, (SELECT r.milk_flow FROM milk_report r WHERE r.mother_id = m.user_id"
        "  ORDER BY r.reported_at DESC, r.id DESC LIMIT 1) AS flow"
        "  FROM mother m WHERE m.clinic_id = :clinic AND m.care_status <> 'loss'"
        "  AND m.delivery_date >= :nifas_from) followed", params)
    alerts = await db.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN a.urgency = 'urgent' THEN 1 ELSE 0 END), 0) AS urgent, COALESCE(SUM(CASE WHEN a.urgency = 'warning' THEN 1 ELSE 0 END), 0) AS warning,"
        " MIN(CASE WHEN a.taken_at IS NULL THEN a.opened_at END) AS untaken_since"
        " FROM alert a JOIN mother m ON m.user_id = a.mother_id"
        " WHERE m.clinic_id = :clinic AND a.closed_at IS NULL AND a.urgency IN ('urgent', 'warning')", params)
    questions = await db.fetchone(
        "SELECT COUNT(*) AS waiting, MIN(q.asked_at) AS since FROM question q JOIN mother m ON m.user_id = q.mother_id"
        " WHERE m.clinic_id = :clinic AND q.answered_at IS NULL", params)
    sessions = await db.fetchval(
        "SELECT COUNT(*) FROM massage_session s JOIN mother m ON m.user_id = s.mother_id"
        " WHERE m.clinic_id = :clinic AND s.started_at >= :week", params)
    taken = [_minutes(r["opened_at"], parse_iso(r["taken_at"])) for r in await db.fetchall(
        "SELECT a.opened_at, a.taken_at FROM alert a JOIN mother m ON m.user_id = a.mother_id"
        " WHERE m.clinic_id = :clinic AND a.taken_at IS NOT NULL AND a.opened_at >= :month", params)]
    answers = await answer_times(db, midwife_id, since=month)
    return Today(
        scope, mothers["followed"], mothers["hospital"], alerts["urgent"], alerts["warning"],
        None if alerts["untaken_since"] is None else _minutes(alerts["untaken_since"], now),
        questions["waiting"], None if questions["since"] is None else _minutes(questions["since"], now),
        sessions, {flow: mothers[flow] for flow in ("not_out", "not_smooth", "smooth")}, mothers["no_report"],
        month.date(), len(taken), statistics.median(taken) if taken else None,
        answers.answered, answers.median_to_answer_min)


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
VIEWS = ("all", "urgent", "quiet", "question")   # filters of /ibu
_VIEW_REASON = {"urgent": "urgent", "quiet": "no_report", "question": "question"}
MAX_SEARCH = 30


@dataclass(frozen=True)
class MotherLine:
    mother: Mother
    urgency: str                  # one of URGENCY (the desk dashboard's label)
    open_alerts: int
    postpartum_day: int
    last_flow: str | None
    last_report_at: str | None
    sessions_3d: int
    reasons: tuple[str, ...] = ()  # why she is on today's call list (domain/call_list.REASONS), most urgent first


@dataclass(frozen=True)
class MothersPage:
    scope: Scope
    lines: list[MotherLine]
    page: int
    pages: int
    total: int                    # mothers shown by this view and search (all pages)
    view: str = "all"
    search: str = ""
    clinic_total: int = 0         # every mother of the clinic


def clean_search(text: str) -> str:
    """A typed name as searched: spaces collapsed, at most MAX_SEARCH characters."""
    return " ".join((text or "").split())[:MAX_SEARCH]


async def mothers_page(db: Database, midwife_id: int, now: datetime, page: int = 0, size: int = 8,
                       view: str = "all", search: str = "") -> MothersPage:
    """The clinic's mothers in the order of today's call list (domain/call_list: urgent alert,
    question, milk not out, few feeds, few nappies, no report; then the longest waiting), then
    the others: those with another open alert, then by name, those past the 42 days of nifas
    last. `view` keeps only the mothers with an open urgent alert (`urgent`), no report for
    2 days (`quiet`) or a question waiting (`question`); `search` keeps those whose name
    contains it (any case)."""
    from db.queries.call_list import _FACTS, _question_sql  # call_list imports this module
    from domain.call_list import MotherFacts, reasons_for

    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    scope = await scope_of(db, midwife_id)
    nifas_from = local_today(now, scope.timezone) - timedelta(days=MAX_DAYS_AGO)
    params = {"clinic": scope.clinic_id, "since3": iso(now - timedelta(days=3))}
    alerts = {r[0]: (r[1], r[2]) for r in await db.fetchall(
        "SELECT a.mother_id, MAX(CASE WHEN a.urgency = 'urgent' THEN 1 ELSE 0 END), COUNT(*) FROM alert a JOIN mother m ON m.user_id = a.mother_id"
        " WHERE m.clinic_id = :clinic AND a.closed_at IS NULL GROUP BY a.mother_id", params)}
    sessions = {r[0]: r[1] for r in await db.fetchall(
        "SELECT s.mother_id, COUNT(*) FROM massage_session s JOIN mother m ON m.user_id = s.mother_id"
        " WHERE m.clinic_id = :clinic AND s.started_at >= :since3 GROUP BY s.mother_id", params)}
    # the call list's own facts (db/queries/call_list.py), read here without building every row
    columns = ", ".join(f"m.{c.strip()}" for c in mothers_q.COLUMNS.split(","))
    rows = await db.fetchall(_FACTS.format(columns=columns, question=await _question_sql(db)), (scope.clinic_id,))
    needle = clean_search(search).casefold()
    may_be_listed = _call_list_precheck(now)
    ranked = []
    for row in rows:
        if needle and needle not in row["display_name"].casefold():
            continue
        if (view == "urgent" and row["urgent_since"] is None) or (view == "question" and row["question_since"] is None):
            continue
        mother = _mother(row)
        item = None
        if may_be_listed(row):
            item = reasons_for(MotherFacts(
                mother, _moment(row["registered_at"]), _moment(row["last_report_at"]), row["last_flow"],
                row["last_feeds"], row["last_wet"], _moment(row["urgent_since"]), row["urgent_taken_by"],
                _moment(row["question_since"])), now)
        reasons = tuple(item.reasons) if item else ()
        if view != "all" and _VIEW_REASON[view] not in reasons:
            continue
        has_urgent, n_alerts = alerts.get(mother.user_id, (0, 0))
        past = mother.delivery_date < nifas_from
        urgency = ("danger" if has_urgent else "alert" if n_alerts else "past" if past
                   else "no_report" if row["last_flow"] is None else "not_out" if row["last_flow"] == "not_out"
                   else "ok")
        if item is not None:  # exactly domain/call_list.call_list's order
            key: tuple = (0, item.rank, item.since or now, item.name, mother.user_id)
        else:
            key = (1, past, not n_alerts, mother.display_name.casefold(), mother.user_id)
        ranked.append((key, mother, urgency, n_alerts, row["last_flow"], row["last_report_at"], reasons))
    ranked.sort(key=lambda entry: entry[0])
    total = len(ranked)
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    lines = [MotherLine(mother, urgency, n_alerts, day_of(mother, now), flow, last_at, sessions.get(mother.user_id, 0),
                        reasons)
             for _, mother, urgency, n_alerts, flow, last_at, reasons in ranked[page * size:(page + 1) * size]]
    return MothersPage(scope, lines, page, pages, total, view, clean_search(search), len(rows))


def _call_list_precheck(now: datetime) -> Callable[[Any], bool]:
    """A quick look at a row of the call list's facts: False only for a mother whom
    domain/call_list.reasons_for cannot list (no urgent alert, no question, no baby reason, not
    quiet inside the nifas), so the rules themselves (hours of life ...) run for fewer mothers.
    It only ever lets through more than the rules list, never fewer."""
    from domain.alerts import FEEDS_NEEDED, wet_nappies_needed
    from domain.call_list import NIFAS_HOURS, QUIET_FOR, RECENT_REPORT

    wet_max = max(wet_nappies_needed(day) for day in range(1, NIFAS_HOURS // 24 + 2))
    recent_from, quiet_until = iso(now - RECENT_REPORT), iso(now - QUIET_FOR)
    # hours of life <= NIFAS_HOURS: born at most that long ago, counted from the end of the
    # delivery day in any zone (UTC-12 .. UTC+14): two days of slack
    born_from = (now - timedelta(hours=NIFAS_HOURS) - timedelta(days=2)).date().isoformat()

    def may_be_listed(row) -> bool:
        if row["urgent_since"] is not None or row["question_since"] is not None:
            return True
        care, last_at = row["care_status"], row["last_report_at"]
        if care == "normal" and (row["last_flow"] == "not_out" or (last_at is not None and last_at >= recent_from and (
                (row["last_feeds"] is not None and row["last_feeds"] < FEEDS_NEEDED)
                or (row["last_wet"] is not None and row["last_wet"] < wet_max)))):
            return True
        return care != "loss" and row["delivery_date"] >= born_from and (last_at or row["registered_at"]) <= quiet_until

    return may_be_listed


def _moment(text: str | None) -> datetime | None:
    """A stored UTC time ('2026-11-30T03:00:00Z'); fromisoformat is ~20x faster than strptime."""
    return None if text is None else datetime.fromisoformat(text)


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
        whom = "recipient_id IS NULL" if item.recipient_id is None else "recipient_id = ?"
        status = await db.fetchval(
            "SELECT status FROM alert_delivery WHERE alert_id = ? AND recipient_kind = 'midwife'"
            f" AND {whom} ORDER BY at DESC, id DESC LIMIT 1",
            (item.alert_id,) + (() if item.recipient_id is None else (item.recipient_id,)))
        if status != "sent":
            found[key] = Undelivered(item.alert_id, item.cause, item.name, status or "failed", item.at)
    return list(found.values())


# ----------------------------------------------------------------- notes and alerts
MAX_NOTE = 1000


async def add_note(db: Database, midwife_id: int, mother_id: int, text: str, now: datetime,
                   update_id: int | None = None) -> Mother:
    """`update_id`: the Telegram update of her note; handled again after a crash, it stores no
    second note (db/queries/replay.py)."""
    mother = await mother_of_clinic(db, midwife_id, mother_id)
    await insert_once(db, "midwife_note", {"mother_id": mother_id, "midwife_id": midwife_id,
                                           "text": text[:MAX_NOTE], "created_at": iso(now)},
                      update_id=update_id, same=("mother_id", "midwife_id"), stamp="created_at")
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


# /ekspor: the export queries (same rule: her own id, her clinic only) are in db/queries/exports.py
