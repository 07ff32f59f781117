"""Milk-flow reports, the alerts they raise, and a mother's own timeline.

Everything a midwife reads goes through `db.queries.clinic_scope` instead; this module is
for the mother, her companions and the bot's own rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.clock import iso, parse_iso
from db.database import Database
from db.queries import companions, mothers
from db.queries.mothers import Mother
from db.queries.replay import insert_once
from db.queries.sessions import first_session_at
from domain.dates import local_today, postpartum_day
from domain.phases import phase_of

FLOWS = ("not_out", "not_smooth", "smooth")
BREASTS = ("soft", "full", "hard_painful")
DETAILS = ("feeds_24h", "wet_nappies_24h", "breasts", "danger_signs")


@dataclass(frozen=True)
class Report:
    id: int
    mother_id: int
    reported_by: int | None
    reporter_role: str
    reported_at: str
    postpartum_day: int
    phase: str
    milk_flow: str
    feeds_24h: int | None = None
    wet_nappies_24h: int | None = None
    breasts: str | None = None
    danger_signs: tuple[str, ...] | None = None


_REPORT_COLUMNS = ("id, mother_id, reported_by, reporter_role, reported_at, postpartum_day, phase, milk_flow,"
                   " feeds_24h, wet_nappies_24h, breasts, danger_signs")


def _report(row) -> Report:
    signs = row["danger_signs"]
    return Report(row["id"], row["mother_id"], row["reported_by"], row["reporter_role"], row["reported_at"],
                  row["postpartum_day"], row["phase"], row["milk_flow"], row["feeds_24h"],
                  row["wet_nappies_24h"], row["breasts"],
                  None if signs is None else tuple(s for s in signs.split(",") if s))


def day_of(mother: Mother, moment: datetime) -> int:
    """The baby's day of life at `moment`, in the mother's own time zone."""
    return postpartum_day(mother.delivery_date, local_today(moment, mother.timezone))


# ----------------------------------------------------------------- who reports for whom
async def reportable_mothers(db: Database, user_id: int, role: str | None) -> list[Mother]:
    """The mothers this user may report for: herself, or the mothers she accompanies."""
    if role == "mother":
        mother = await mothers.get_mother(db, user_id)
        return [mother] if mother else []
    if role == "companion":
        found = []
        for link in await companions.links_of_companion(db, user_id):
            mother = await mothers.get_mother(db, link.mother_id)
            if mother is not None:
                found.append(mother)
        return found
    return []


async def may_report_for(db: Database, user_id: int, role: str | None, mother_id: int) -> Mother | None:
    for mother in await reportable_mothers(db, user_id, role):
        if mother.user_id == mother_id:
            return mother
    return None


# ----------------------------------------------------------------- reports
async def add_report(db: Database, *, mother: Mother, reported_by: int, reporter_role: str, milk_flow: str,
                     now: datetime, update_id: int | None = None) -> Report:
    """Store the milk-flow answer at once (details follow). Its phase (domain/phases.py): 'post'
    once any session of hers was logged, else 'pre' (refresh_phases corrects it later when a
    session logged afterwards turns out to have started before this report).

    `update_id`: the Telegram update that gave the answer. Handled again after a crash, it gets
    the report its first attempt stored, as it is now (db/queries/replay.py)."""
    if milk_flow not in FLOWS:
        raise ValueError(f"unknown milk flow {milk_flow!r}")
    first = await first_session_at(db, mother.user_id)
    phase = phase_of(now, parse_iso(first) if first else None, session_logged_before=first is not None)
    report_id, _ = await insert_once(
        db, "milk_report", {"mother_id": mother.user_id, "reported_by": reported_by, "reporter_role": reporter_role,
                            "reported_at": iso(now), "postpartum_day": day_of(mother, now), "phase": phase,
                            "milk_flow": milk_flow},
        update_id=update_id, same=("mother_id", "reported_by"), stamp="reported_at")
    report = await get_report(db, report_id)
    assert report is not None
    return report


async def set_detail(db: Database, report_id: int, column: str, value: int | str | None) -> Report | None:
    """Fill one optional answer of a report (feeds, wet nappies, breasts, danger signs)."""
    if column not in DETAILS:
        raise ValueError(f"not a report detail: {column!r}")
    await db.execute(f"UPDATE milk_report SET {column} = ? WHERE id = ?", (value, report_id))
    return await get_report(db, report_id)


async def get_report(db: Database, report_id: int) -> Report | None:
    row = await db.fetchone(f"SELECT {_REPORT_COLUMNS} FROM milk_report WHERE id = ?", (report_id,))
    return None if row is None else _report(row)


async def reports_of(db: Database, mother_id: int, limit: int = 50) -> list[Report]:
    """Her reports, newest first."""
    rows = await db.fetchall(
        f"SELECT {_REPORT_COLUMNS} FROM milk_report WHERE mother_id = ? ORDER BY reported_at DESC, id DESC LIMIT ?",
        (mother_id, limit))
    return [_report(row) for row in rows]


async def refresh_phases(db: Database, mother_id: int) -> int:
    """After a session was logged: the 'pre' reports (stored while no session was logged) made
    after her first session's START become 'post'; one made in the same second stays 'pre', and
    a 'post' report never goes back (domain/phases.py). Returns how many changed."""
    first = await first_session_at(db, mother_id)
    if first is None:
        return 0
    cursor = await db.execute(
        "UPDATE milk_report SET phase = 'post' WHERE mother_id = ? AND phase = 'pre' AND reported_at > ?",
        (mother_id, first))
    return cursor.rowcount


async def has_report_or_session(db: Database, mother_id: int) -> bool:
    """A report or a logged session of hers exists: no baseline question is due any more."""
    return await db.fetchval(
        "SELECT EXISTS(SELECT 1 FROM milk_report WHERE mother_id = ?)"
        " OR EXISTS(SELECT 1 FROM massage_session WHERE mother_id = ?)", (mother_id, mother_id)) == 1


@dataclass(frozen=True)
class SessionEntry:
    started_at: str
    slot_date: str
    slot: str
    duration_s: int
    completed: bool
    who: str | None


async def sessions_of(db: Database, mother_id: int, limit: int = 50) -> list[SessionEntry]:
    """Her massage sessions, newest first (read only: sessions are logged in db.queries.sessions)."""
    rows = await db.fetchall(
        "SELECT started_at, slot_date, slot, duration_s, completed, who FROM massage_session"
        " WHERE mother_id = ? ORDER BY started_at DESC LIMIT ?", (mother_id, limit))
    return [SessionEntry(r["started_at"], r["slot_date"], r["slot"], r["duration_s"], bool(r["completed"]), r["who"])
            for r in rows]


# ----------------------------------------------------------------- alerts
# (the alert rows themselves: db/queries/alerts.py)


async def close_inactivity_alert(db: Database, mother_id: int, now: datetime) -> bool:
    """She is active again: the bot closes her open inactivity alert (closed_by stays NULL)."""
    cursor = await db.execute(
        "UPDATE alert SET closed_at = ? WHERE mother_id = ? AND cause = 'inactive' AND closed_at IS NULL",
        (iso(now), mother_id))
    return cursor.rowcount == 1


@dataclass(frozen=True)
class Quiet:
    """A mother the inactivity rule looks at, with her last signs of activity."""
    mother: Mother
    clinic_reminder_days: int | None
    registered_at: datetime
    last_activity: datetime | None       # her latest report or session
    alert_opened_at: datetime | None     # her inactivity alert, if she ever had one
    alert_closed_at: datetime | None

    @property
    def alert_open(self) -> bool:
        return self.alert_opened_at is not None and self.alert_closed_at is None

    @property
    def quiet_since(self) -> datetime:
        """Start of the current silence: a closed alert waits for a new one."""
        moments = [self.registered_at, self.last_activity, self.alert_closed_at]
        return max(m for m in moments if m is not None)


def _maybe(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


async def quiet_mothers(db: Database, earliest_delivery: date) -> list[Quiet]:
    """Mothers who still use the bot, delivered on or after `earliest_delivery`."""
    rows = await db.fetchall(
        "SELECT m.user_id, m.display_name, m.delivery_date, m.first_child, m.timezone, m.clinic_id, m.pseudonym,"
        " m.created_at, c.reminder_days, a.opened_at, a.closed_at,"
        " (SELECT MAX(t) FROM (SELECT MAX(r.reported_at) AS t FROM milk_report r WHERE r.mother_id = m.user_id"
        "  UNION ALL SELECT MAX(s.started_at) FROM massage_session s WHERE s.mother_id = m.user_id) latest)"
        " AS last_activity"
        " FROM mother m JOIN app_user u ON u.telegram_id = m.user_id"
        " LEFT JOIN clinic c ON c.id = m.clinic_id"
        " LEFT JOIN alert a ON a.mother_id = m.user_id AND a.cause = 'inactive'"
        " WHERE m.delivery_date >= ? AND u.active = 1", (earliest_delivery.isoformat(),))
    return [Quiet(Mother(row["user_id"], row["display_name"], date.fromisoformat(row["delivery_date"]),
                         bool(row["first_child"]), row["timezone"], row["clinic_id"], row["pseudonym"]),
                  row["reminder_days"], parse_iso(row["created_at"]), _maybe(row["last_activity"]),
                  _maybe(row["opened_at"]), _maybe(row["closed_at"])) for row in rows]
