"""Alert rows: opening (once per mother and cause), who was sent one and whether it arrived,
the mother's "hold" (an open urgent alert pauses her massage), and closing them.

A midwife reads alerts through `db.queries.clinic_scope`; this module serves the bot's rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import iso
from db.database import Database
from db.queries import mothers as mothers_q
from db.queries.mothers import Mother


@dataclass(frozen=True)
class Alert:
    id: int
    mother_id: int
    cause: str
    detail: str
    opened_at: str
    closed_at: str | None
    urgency: str = "warning"          # urgent (🚨, go now) | warning (⚠️, today) | info
    report_day: int | None = None     # the day of life the report was about
    raised_by: int | None = None      # the mother or companion who reported it; None: the bot's rules
    notified_at: str | None = None    # when a midwife of her clinic got it

    @property
    def urgent(self) -> bool:
        return self.urgency == "urgent"


ALERT_COLUMNS = "id, mother_id, cause, detail, opened_at, closed_at, urgency, report_day, raised_by, notified_at"


def row_to_alert(row) -> Alert:
    return Alert(*(row[k] for k in ("id", "mother_id", "cause", "detail", "opened_at", "closed_at", "urgency",
                                    "report_day", "raised_by", "notified_at")))


async def get_alert(db: Database, alert_id: int) -> Alert | None:
    row = await db.fetchone(f"SELECT {ALERT_COLUMNS} FROM alert WHERE id = ?", (alert_id,))
    return None if row is None else row_to_alert(row)


async def open_alert(db: Database, mother_id: int, cause: str, detail: str, report_id: int | None,
                     now: datetime, *, urgency: str = "warning", report_day: int | None = None,
                     raised_by: int | None = None) -> Alert | None:
    """Open the alert for this cause; returns it only if it is new (the midwives must be told).

    Nothing happens while the same cause is open already (an alert is sent once), except that
    an open warning becomes urgent when the new event is. A closed alert opens again: this is a
    new event after the last one was dealt with.
    """
    cursor = await db.execute(
        "INSERT INTO alert(mother_id, cause, urgency, detail, report_id, report_day, raised_by, opened_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(mother_id, cause) DO UPDATE SET urgency = excluded.urgency, detail = excluded.detail,"
        " report_id = excluded.report_id, report_day = excluded.report_day, raised_by = excluded.raised_by,"
        " opened_at = excluded.opened_at, closed_at = NULL, closed_by = NULL, closed_how = NULL, outcome = NULL,"
        " notified_at = NULL, taken_at = NULL, taken_by = NULL, escalated_at = NULL"
        " WHERE alert.closed_at IS NOT NULL OR (alert.urgency <> 'urgent' AND excluded.urgency = 'urgent')",
        (mother_id, cause, urgency, detail, report_id, report_day, raised_by, iso(now)))
    if cursor.rowcount != 1:
        return None
    row = await db.fetchone(f"SELECT {ALERT_COLUMNS} FROM alert WHERE mother_id = ? AND cause = ?",
                            (mother_id, cause))
    return row_to_alert(row)


async def opened_by_report(db: Database, mother_id: int, cause: str, report_id: int) -> Alert | None:
    """Her open alert of this cause if this report opened it (or made it urgent): the report's
    update is being handled again after a crash, and `open_alert` found it open."""
    row = await db.fetchone(f"SELECT {ALERT_COLUMNS} FROM alert WHERE mother_id = ? AND cause = ?"
                            " AND report_id = ? AND closed_at IS NULL", (mother_id, cause, report_id))
    return None if row is None else row_to_alert(row)


async def mark_notified(db: Database, alert_id: int, now: datetime) -> None:
    await db.execute("UPDATE alert SET notified_at = ? WHERE id = ?", (iso(now), alert_id))


async def record_delivery(db: Database, alert_id: int, recipient_id: int, kind: str, status: str,
                          message_id: int | None, now: datetime) -> None:
    await db.execute(
        "INSERT INTO alert_delivery(alert_id, recipient_id, recipient_kind, status, message_id, at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (alert_id, recipient_id, kind, status, message_id, iso(now)))


async def admins_told_since(db: Database, alert_id: int, since: str) -> bool:
    return bool(await db.fetchval(
        "SELECT 1 FROM alert_delivery WHERE alert_id = ? AND recipient_kind = 'admin' AND status = 'sent'"
        " AND at >= ? LIMIT 1", (alert_id, since)))


@dataclass(frozen=True)
class FailedDelivery:
    alert_id: int
    cause: str
    recipient_id: int | None
    name: str
    at: str


async def failed_midwife_deliveries(db: Database, mother_id: int) -> list[FailedDelivery]:
    """Open alerts of this mother that did not reach one of her clinic's midwives (for her record)."""
    rows = await db.fetchall(
        "SELECT d.alert_id, a.cause, d.recipient_id, COALESCE(w.display_name, '') AS name, d.at"
        " FROM alert_delivery d JOIN alert a ON a.id = d.alert_id"
        " LEFT JOIN midwife w ON w.user_id = d.recipient_id"
        " WHERE a.mother_id = ? AND a.closed_at IS NULL AND d.recipient_kind = 'midwife'"
        " AND d.status <> 'sent' AND d.at >= a.opened_at ORDER BY d.at", (mother_id,))
    return [FailedDelivery(r["alert_id"], r["cause"], r["recipient_id"], r["name"], r["at"]) for r in rows]


@dataclass(frozen=True)
class Untold:
    alert: Alert
    mother: Mother


async def untold_alerts(db: Database) -> list[Untold]:
    """Open alerts no midwife has received yet (Telegram down, no reachable midwife, no clinic)."""
    rows = await db.fetchall(
        f"SELECT {', '.join('a.' + c.strip() for c in ALERT_COLUMNS.split(','))},"
        f" {', '.join('m.' + c.strip() + ' AS m_' + c.strip() for c in mothers_q.COLUMNS.split(','))}"
        " FROM alert a JOIN mother m ON m.user_id = a.mother_id"
        " WHERE a.closed_at IS NULL AND a.notified_at IS NULL ORDER BY a.opened_at")
    found = []
    for row in rows:
        mother_row = {k[2:]: row[k] for k in row.keys() if k.startswith("m_")}
        found.append(Untold(row_to_alert(row), mothers_q.row_to_mother(mother_row)))
    return found


# ----------------------------------------------------------------- the hold
async def open_urgent(db: Database, mother_id: int) -> list[Alert]:
    """Her open urgent alerts: while there is one, her massage reminders and the timer are paused."""
    rows = await db.fetchall(f"SELECT {ALERT_COLUMNS} FROM alert WHERE mother_id = ? AND closed_at IS NULL"
                             " AND urgency = 'urgent' ORDER BY opened_at", (mother_id,))
    return [row_to_alert(r) for r in rows]


async def on_hold(db: Database, mother_id: int) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM alert WHERE mother_id = ? AND closed_at IS NULL"
                                  " AND urgency = 'urgent' LIMIT 1", (mother_id,)))


async def confirm_seen(db: Database, mother_id: int, now: datetime) -> int:
    """She (or a companion) says she has been examined: her urgent alerts close as 'seen'."""
    cursor = await db.execute(
        "UPDATE alert SET closed_at = ?, closed_how = 'seen' WHERE mother_id = ? AND closed_at IS NULL"
        " AND urgency = 'urgent'", (iso(now), mother_id))
    return cursor.rowcount


async def resolve(db: Database, mother_id: int, cause: str, now: datetime) -> bool:
    """The bot closes an open alert whose cause a later report no longer shows."""
    cursor = await db.execute(
        "UPDATE alert SET closed_at = ?, closed_how = 'resolved' WHERE mother_id = ? AND cause = ?"
        " AND closed_at IS NULL", (iso(now), mother_id, cause))
    return cursor.rowcount == 1


# ----------------------------------------------------------------- taking and escalating
async def take(db: Database, alert_id: int, midwife_id: int, now: datetime) -> bool:
    """The first midwife of the clinic to press "Saya tangani" takes it; False if someone had."""
    cursor = await db.execute(
        "UPDATE alert SET taken_at = ?, taken_by = ? WHERE id = ? AND taken_at IS NULL AND closed_at IS NULL",
        (iso(now), midwife_id, alert_id))
    return cursor.rowcount == 1


async def taker(db: Database, alert_id: int) -> tuple[int | None, str | None]:
    row = await db.fetchone("SELECT a.taken_by, w.display_name FROM alert a LEFT JOIN midwife w"
                            " ON w.user_id = a.taken_by WHERE a.id = ?", (alert_id,))
    return (row["taken_by"], row["display_name"]) if row else (None, None)


async def midwife_copies(db: Database, alert_id: int) -> list[tuple[int, int]]:
    """(midwife id, message id) of every copy of this alert a midwife received since it opened."""
    rows = await db.fetchall(
        "SELECT d.recipient_id, d.message_id FROM alert_delivery d JOIN alert a ON a.id = d.alert_id"
        " WHERE d.alert_id = ? AND d.recipient_kind = 'midwife' AND d.status = 'sent'"
        " AND d.message_id IS NOT NULL AND d.at >= a.opened_at", (alert_id,))
    return [(r["recipient_id"], r["message_id"]) for r in rows]


async def due_for_escalation(db: Database, now: datetime) -> list[Alert]:
    """Open alerts nobody took in time: urgent ones after the clinic's minutes (15), the others
    after its hours (24); each escalated once per opening."""
    rows = await db.fetchall(
        f"SELECT {', '.join('a.' + c.strip() for c in ALERT_COLUMNS.split(','))},"
        " COALESCE(c.escalate_urgent_minutes, 15) AS urgent_minutes,"
        " COALESCE(c.escalate_warning_hours, 24) AS warning_hours FROM alert a"
        " JOIN mother m ON m.user_id = a.mother_id LEFT JOIN clinic c ON c.id = m.clinic_id"
        " WHERE a.closed_at IS NULL AND a.taken_at IS NULL AND a.escalated_at IS NULL AND a.urgency <> 'info'"
        " AND a.opened_at <= :now ORDER BY a.opened_at", {"now": iso(now)})

    def due(row) -> bool:
        wait = (timedelta(minutes=row["urgent_minutes"]) if row["urgency"] == "urgent"
                else timedelta(hours=row["warning_hours"]))
        return row["opened_at"] <= iso(now - wait)
    return [row_to_alert(r) for r in rows if due(r)]


async def mark_escalated(db: Database, alert_id: int, now: datetime) -> bool:
    cursor = await db.execute("UPDATE alert SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL",
                              (iso(now), alert_id))
    return cursor.rowcount == 1


async def coordinator_ids(db: Database, clinic_id: int) -> list[int]:
    rows = await db.fetchall("SELECT user_id FROM midwife WHERE clinic_id = ? AND coordinator = 1", (clinic_id,))
    return [r["user_id"] for r in rows]


async def escalation_delays(db: Database, clinic_id: int | None) -> tuple[int, int]:
    """(minutes for an urgent alert, hours for the others) before nobody-took-it escalation."""
    row = await db.fetchone("SELECT escalate_urgent_minutes, escalate_warning_hours FROM clinic WHERE id = ?",
                            (clinic_id,)) if clinic_id is not None else None
    return (row[0], row[1]) if row else (15, 24)


async def set_coordinator(db: Database, midwife_id: int, on: bool) -> bool:
    """Mark a midwife as her clinic's coordinator (escalated alerts name her), or not."""
    cursor = await db.execute("UPDATE midwife SET coordinator = ? WHERE user_id = ?", (int(on), midwife_id))
    return cursor.rowcount == 1
