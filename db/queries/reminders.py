"""Reminders: preferences, planning, claiming and recording deliveries (the one place for their SQL).

Every change of a delivery's status is conditional on the status it comes from, so two actors
(a dispatcher run, a button press, a session logged by the guide) can never both win: the
claim, the `sending` mark and the record each check the row is still where they expect it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from db.database import Database

OPEN = ("pending", "snoozed")            # waiting to be sent
IN_FLIGHT = ("claimed", "sending")       # reserved by a dispatcher run
LIVE = ("sent", "snoozed")               # a message with buttons the recipient may press


@dataclass(frozen=True)
class MotherPlan:
    mother_id: int
    timezone: str
    delivery_date: date
    created_at: str
    window_days: int | None   # the clinic's override, if any
    morning: str | None
    evening: str | None
    paused_until: str | None
    next_check_at: str | None
    active: bool


@dataclass(frozen=True)
class Delivery:
    id: int
    recipient_id: int
    mother_id: int
    slot_date: str
    slot: str
    due_at: str
    status: str
    message_id: int | None
    snoozes: int
    language: str
    mother_name: str
    timezone: str
    relation: str | None      # None when the recipient is the mother herself
    checkin: bool = False     # she is on hold: this morning slot asks "have you been seen?" instead

    @property
    def to_mother(self) -> bool:
        return self.recipient_id == self.mother_id


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    """Ids for an `IN ?` parameter (expanded into one placeholder each)."""
    return tuple(values)


# ----------------------------------------------------------------- preferences
_PLAN = ("SELECT p.mother_id, m.timezone, m.delivery_date, m.created_at, c.reminder_days, p.morning,"
         " p.evening, p.paused_until, p.next_check_at, u.active"
         " FROM reminder_pref p JOIN mother m ON m.user_id = p.mother_id"
         " JOIN app_user u ON u.telegram_id = p.mother_id"
         " LEFT JOIN clinic c ON c.id = m.clinic_id")


def _plan(row) -> MotherPlan:
    return MotherPlan(row["mother_id"], row["timezone"], date.fromisoformat(row["delivery_date"]),
                      row["created_at"], row["reminder_days"], row["morning"], row["evening"],
                      row["paused_until"], row["next_check_at"], bool(row["active"]))


async def mother_plan(db: Database, mother_id: int, now: str) -> MotherPlan | None:
    """Her reminder settings (created with defaults if missing), or None if she is no mother."""
    await db.execute(
        "INSERT INTO reminder_pref(mother_id, next_check_at, updated_at)"
        " SELECT user_id, ?, ? FROM mother WHERE user_id = ? ON CONFLICT DO NOTHING", (now, now, mother_id))
    row = await db.fetchone(_PLAN + " WHERE p.mother_id = ?", (mother_id,))
    return None if row is None else _plan(row)


async def companion_mothers(db: Database, companion_id: int, now: str) -> list[MotherPlan]:
    rows = await db.fetchall("SELECT mother_id FROM companion_link WHERE companion_id = ? ORDER BY created_at",
                             (companion_id,))
    plans = [await mother_plan(db, row["mother_id"], now) for row in rows]
    return [plan for plan in plans if plan is not None]


async def set_times(db: Database, mother_id: int, morning: str | None, evening: str | None,
                    next_check_at: str | None, now: str) -> None:
    await db.execute(
        "UPDATE reminder_pref SET morning = ?, evening = ?, next_check_at = ?, updated_at = ? WHERE mother_id = ?",
        (morning, evening, next_check_at, now, mother_id))


async def set_pause(db: Database, mother_id: int, paused_until: str | None, next_check_at: str | None,
                    now: str) -> int:
    """Pause (or resume, with None) her reminders; waiting ones of her slots are skipped."""
    await db.execute(
        "UPDATE reminder_pref SET paused_until = ?, next_check_at = ?, updated_at = ? WHERE mother_id = ?",
        (paused_until, next_check_at, now, mother_id))
    if paused_until is None:
        return 0
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'skipped', reason = 'paused', updated_at = ?"
        " WHERE mother_id = ? AND status IN ('pending', 'snoozed', 'claimed') AND due_at < ?",
        (now, mother_id, paused_until))
    return cursor.rowcount


async def get_mute(db: Database, user_id: int) -> str | None:
    return await db.fetchval("SELECT until FROM reminder_mute WHERE user_id = ?", (user_id,))


async def set_mute(db: Database, user_id: int, until: str | None, now: str) -> None:
    """A companion pauses (or, with None, resumes) only his or her own reminders."""
    if until is None:
        await db.execute("DELETE FROM reminder_mute WHERE user_id = ?", (user_id,))
        return
    await db.execute(
        "INSERT INTO reminder_mute(user_id, until, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET until = excluded.until, updated_at = excluded.updated_at",
        (user_id, until, now))
    await db.execute(
        "UPDATE reminder_delivery SET status = 'skipped', reason = 'paused', updated_at = ?"
        " WHERE recipient_id = ? AND status IN ('pending', 'snoozed', 'claimed') AND due_at < ?",
        (now, user_id, until))


async def next_waiting(db: Database, recipient_id: int) -> str | None:
    """The earliest reminder already planned for her and still waiting (a snoozed one)."""
    return await db.fetchval(
        "SELECT MIN(due_at) FROM reminder_delivery WHERE recipient_id = ? AND status IN ('pending', 'snoozed')",
        (recipient_id,))


# ----------------------------------------------------------------- planning
async def due_for_planning(db: Database, now: str, limit: int) -> list[MotherPlan]:
    rows = await db.fetchall(
        _PLAN + " WHERE p.next_check_at IS NOT NULL AND p.next_check_at <= ? ORDER BY p.next_check_at LIMIT ?",
        (now, limit))
    return [_plan(row) for row in rows]


async def companions_of(db: Database, mother_ids: Sequence[int]) -> dict[int, list[tuple[int, str | None]]]:
    """Active companions of these mothers: mother → [(companion id, muted until)]."""
    rows = await db.fetchall(
        "SELECT l.mother_id, l.companion_id, r.until FROM companion_link l"
        " JOIN app_user u ON u.telegram_id = l.companion_id AND u.active = 1"
        " LEFT JOIN reminder_mute r ON r.user_id = l.companion_id"
        " WHERE l.mother_id IN ? ORDER BY l.created_at",
        (_ids(mother_ids),))
    found: dict[int, list[tuple[int, str | None]]] = {}
    for row in rows:
        found.setdefault(row["mother_id"], []).append((row["companion_id"], row["until"]))
    return found


async def insert_deliveries(db: Database, rows: Sequence[tuple]) -> None:
    """(recipient, mother, slot_date, slot, due_at, status, reason, now) rows; one per key, ever."""
    await db.executemany(
        "INSERT INTO reminder_delivery(recipient_id, mother_id, slot_date, slot, due_at, status,"
        " reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)


async def set_next_checks(db: Database, rows: Sequence[tuple[str | None, str, int]]) -> None:
    """(next_check_at, now, mother_id) rows."""
    await db.executemany("UPDATE reminder_pref SET next_check_at = ?, updated_at = ? WHERE mother_id = ?", rows)


# ----------------------------------------------------------------- dispatching
async def recover_stale(db: Database, resend_uncertain: bool, stale_before: str, now: str) -> tuple[int, int]:
    """Claims left by a run that died (untouched since `stale_before`, so never a live run's).

    `claimed` rows never reached Telegram: due again. `sending` rows may have: due again if
    `resend_uncertain` (at least once), else recorded as failed (at most once).
    """
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'pending', claim_token = NULL, updated_at = ?"
        " WHERE status = 'claimed' AND updated_at < ?", (now, stale_before))
    reclaimed = cursor.rowcount
    if resend_uncertain:
        cursor = await db.execute(
            "UPDATE reminder_delivery SET status = 'pending', reason = 'uncertain', claim_token = NULL,"
            " updated_at = ? WHERE status = 'sending' AND updated_at < ?", (now, stale_before))
    else:
        cursor = await db.execute(
            "UPDATE reminder_delivery SET status = 'failed', reason = 'uncertain', updated_at = ?"
            " WHERE status = 'sending' AND updated_at < ?", (now, stale_before))
    return reclaimed, cursor.rowcount


_SESSION_LOGGED = ("EXISTS (SELECT 1 FROM massage_session s WHERE s.mother_id = reminder_delivery.mother_id"
                   " AND s.slot_date = reminder_delivery.slot_date AND s.slot = reminder_delivery.slot)")
_INACTIVE = "(SELECT active FROM app_user WHERE telegram_id = reminder_delivery.recipient_id) = 0"
_UNLINKED = ("(recipient_id != mother_id AND NOT EXISTS (SELECT 1 FROM companion_link l"
             " WHERE l.mother_id = reminder_delivery.mother_id AND l.companion_id = reminder_delivery.recipient_id))")
# The baby has died: no massage reminder at all (content-facts section 8).
_LOSS = "(SELECT care_status FROM mother WHERE user_id = reminder_delivery.mother_id) = 'loss'"
# On hold: an open urgent alert (a danger sign) pauses her massage until she has been seen.
# Derived at every claim, so the reminders come back by themselves with the next slot.
_HOLD = ("EXISTS (SELECT 1 FROM alert a WHERE a.mother_id = reminder_delivery.mother_id"
         " AND a.closed_at IS NULL AND a.urgency = 'urgent')")
# ... and her own morning slot asks her whether she has been seen instead.
_CHECKIN = f"(recipient_id = mother_id AND slot = 'morning' AND {_HOLD})"
_NOT_CHECKIN = "(reason IS NULL OR reason <> 'checkin')"  # portable (SQLite's `IS NOT` is not PostgreSQL's)

_DELIVERY = ("SELECT d.id, d.recipient_id, d.mother_id, d.slot_date, d.slot, d.due_at, d.status, d.message_id,"
             " d.snoozes, u.language, m.display_name AS mother_name, m.timezone, l.relation,"
             " CASE WHEN d.reason = 'checkin' THEN 1 ELSE 0 END AS checkin"
             " FROM reminder_delivery d JOIN app_user u ON u.telegram_id = d.recipient_id"
             " JOIN mother m ON m.user_id = d.mother_id"
             " LEFT JOIN companion_link l ON l.mother_id = d.mother_id AND l.companion_id = d.recipient_id")


def _delivery(row) -> Delivery:
    return Delivery(*row[:-1], checkin=bool(row[-1]))


def _skip_locked(db: Database) -> str:
    """PostgreSQL: several dispatchers (a leader and one that is taking over) may claim at once;
    each locks the rows it picks and passes over the rows another one has locked, so no row is
    claimed twice and nobody waits. SQLite has one writer at a time (BEGIN IMMEDIATE): as is."""
    return " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""


def claim_owner(token: str | None) -> str | None:
    """The worker id a claim token names (`<worker id>/<process>/<run>`), None for older tokens."""
    if not token or "/" not in token:
        return None
    return token.rsplit("/", 2)[0]


async def recover_own(db: Database, worker: str, live_prefix: str, resend_uncertain: bool,
                      now: str) -> tuple[int, int]:
    """Claims of an earlier process of this same worker (`worker`, a token not starting with
    `live_prefix`, this process's): it died holding them, so they are taken back at once, without
    waiting out the lease (another worker's claims still wait). Like `recover_stale` otherwise."""
    mine = "substr(claim_token, 1, :wlen) = :wprefix AND substr(claim_token, 1, :llen) != :live"
    params = {"now": now, "wlen": len(worker) + 1, "wprefix": worker + "/", "llen": len(live_prefix),
              "live": live_prefix}
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'pending', claim_token = NULL, updated_at = :now"
        f" WHERE status = 'claimed' AND {mine}", params)
    reclaimed = cursor.rowcount
    if resend_uncertain:
        cursor = await db.execute(
            "UPDATE reminder_delivery SET status = 'pending', reason = 'uncertain', claim_token = NULL,"
            f" updated_at = :now WHERE status = 'sending' AND {mine}", params)
    else:
        cursor = await db.execute(
            "UPDATE reminder_delivery SET status = 'failed', reason = 'uncertain', updated_at = :now"
            f" WHERE status = 'sending' AND {mine}", params)
    return reclaimed, cursor.rowcount


async def claim(db: Database, now: str, cutoff: str, limit: int, token: str,
                stamp: str | None = None) -> tuple[list[Delivery], dict[str, int]]:
    """Reserve up to `limit` due reminders for this run. Call inside a transaction.

    Due rows that must not be sent are settled on the way: more than the grace period late
    (missed), the baby has died (skipped, 'loss'), the recipient blocked the bot or was
    unlinked, she is on hold (skipped, 'hold'; her own morning slot becomes the check-in,
    reason 'checkin'), the slot already logged (done).
    """
    rows = await db.fetchall(
        "UPDATE reminder_delivery SET"
        " status = CASE WHEN due_at <= :cutoff THEN 'missed'"
        f"  WHEN {_LOSS} THEN 'skipped' WHEN {_INACTIVE} THEN 'blocked' WHEN {_UNLINKED} THEN 'skipped'"
        f"  WHEN {_CHECKIN} THEN 'claimed' WHEN {_HOLD} THEN 'skipped'"
        f"  WHEN {_SESSION_LOGGED} THEN 'done' ELSE 'claimed' END,"
        " reason = CASE WHEN due_at <= :cutoff THEN 'late'"
        f"  WHEN {_LOSS} THEN 'loss' WHEN {_INACTIVE} THEN 'inactive' WHEN {_UNLINKED} THEN 'unlinked'"
        f"  WHEN {_CHECKIN} THEN 'checkin' WHEN {_HOLD} THEN 'hold'"
        f"  WHEN {_SESSION_LOGGED} THEN 'logged' WHEN reason = 'checkin' THEN NULL ELSE reason END,"
        " claim_token = :token, claimed_at = :stamp, updated_at = :stamp"
        " WHERE id IN (SELECT id FROM reminder_delivery WHERE status IN ('pending', 'snoozed')"
        f"  AND due_at <= :now ORDER BY due_at, id LIMIT :limit{_skip_locked(db)})"
        "  AND status IN ('pending', 'snoozed')"
        " RETURNING id, status",
        {"now": now, "cutoff": cutoff, "limit": limit, "token": token, "stamp": stamp or now})
    settled: dict[str, int] = {}
    claimed = []
    for row in rows:
        if row["status"] == "claimed":
            claimed.append(row["id"])
        else:
            settled[row["status"]] = settled.get(row["status"], 0) + 1
    if not claimed:
        return [], settled
    details = await db.fetchall(_DELIVERY + " WHERE d.id IN ? ORDER BY d.due_at, d.id",
                                (_ids(claimed),))
    return [_delivery(row) for row in details], settled


async def mark_sending(db: Database, delivery_id: int, token: str, now: str) -> bool:
    """Just before the request leaves; False if the row was settled meanwhile (logged, paused)."""
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'sending', attempts = attempts + 1, updated_at = ?"
        " WHERE id = ? AND claim_token = ? AND status IN ('claimed', 'sending')", (now, delivery_id, token))
    return cursor.rowcount == 1


async def mark_sending_many(db: Database, ids: Sequence[int], token: str, now: str) -> set[int]:
    """`mark_sending` for a group in one statement; returns the ids that were marked."""
    rows = await db.fetchall(
        "UPDATE reminder_delivery SET status = 'sending', attempts = attempts + 1, updated_at = ?"
        " WHERE id IN ? AND claim_token = ? AND status IN ('claimed', 'sending')"
        " RETURNING id", (now, _ids(ids), token))
    return {row["id"] for row in rows}


async def record_many(db: Database, outcomes: Sequence[tuple[int, str, int | None, str | None]], token: str,
                      now: str) -> set[int]:
    """`record` for a group: (id, status, message id, reason). One outcome is one statement; a
    group is one transaction. Returns the ids recorded `sent` whose slot had been logged
    meanwhile: they are `done` now."""
    if len(outcomes) == 1:
        delivery_id, status, message_id, reason = outcomes[0]
        stored = await record(db, delivery_id, token, status, now, message_id, reason)
        return {delivery_id} if stored == "done" else set()
    async with db.transaction():
        await db.executemany(
            "UPDATE reminder_delivery SET status = ?, message_id = COALESCE(?, message_id),"
            " reason = COALESCE(?, reason), updated_at = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
            " WHERE id = ? AND claim_token = ? AND status = 'sending'",
            [(status, message_id, reason, now, status, now, delivery_id, token)
             for delivery_id, status, message_id, reason in outcomes])
        sent = [delivery_id for delivery_id, status, _, _ in outcomes if status == "sent"]
        if not sent:
            return set()
        rows = await db.fetchall(
            "UPDATE reminder_delivery SET status = 'done', reason = 'logged', updated_at = ?"
            f" WHERE id IN ? AND status = 'sent' AND {_NOT_CHECKIN}"
            f" AND {_SESSION_LOGGED} RETURNING id",
            (now, _ids(sent)))
    return {row["id"] for row in rows}


async def unmark_sending(db: Database, delivery_id: int, token: str, now: str) -> None:
    """Telegram refused the request (429): it certainly did not arrive, so it is only claimed again."""
    await db.execute(
        "UPDATE reminder_delivery SET status = 'claimed', updated_at = ?"
        " WHERE id = ? AND claim_token = ? AND status = 'sending'", (now, delivery_id, token))


async def record(db: Database, delivery_id: int, token: str, status: str, now: str,
                 message_id: int | None = None, reason: str | None = None) -> str | None:
    """The outcome of a send; returns the stored status ('done' if the slot was logged meanwhile)."""
    rows = await db.fetchall(  # one round trip to the database thread
        "UPDATE reminder_delivery SET"
        f" status = CASE WHEN :status = 'sent' AND {_NOT_CHECKIN} AND {_SESSION_LOGGED} THEN 'done'"
        " ELSE :status END,"
        " message_id = COALESCE(:message_id, message_id), reason = COALESCE(:reason, reason), updated_at = :now,"
        " sent_at = CASE WHEN :status = 'sent' THEN :now ELSE sent_at END"
        " WHERE id = :id AND claim_token = :token AND status = 'sending' RETURNING status",
        {"status": status, "message_id": message_id, "reason": reason, "now": now, "id": delivery_id,
         "token": token})
    return rows[0]["status"] if rows else None


async def release(db: Database, ids: Sequence[int], token: str, now: str) -> None:
    """Claims this run will not send after all (it is stopping): due again for the next run."""
    await db.execute(
        "UPDATE reminder_delivery SET status = 'pending', claim_token = NULL, updated_at = ?"
        " WHERE id IN ? AND claim_token = ? AND status = 'claimed'",
        (now, _ids(ids), token))


# ----------------------------------------------------------------- buttons and logged sessions
async def find_delivery(db: Database, recipient_id: int, mother_id: int, slot_date: str, slot: str) -> Delivery | None:
    row = await db.fetchone(
        _DELIVERY + " WHERE d.recipient_id = ? AND d.mother_id = ? AND d.slot_date = ? AND d.slot = ?",
        (recipient_id, mother_id, slot_date, slot))
    return None if row is None else _delivery(row)


async def snooze(db: Database, delivery_id: int, until: str, now: str) -> bool:
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'snoozed', due_at = ?, snoozes = snoozes + 1, claim_token = NULL,"
        " updated_at = ? WHERE id = ? AND status = 'sent'", (until, now, delivery_id))
    return cursor.rowcount == 1


async def skip(db: Database, delivery_id: int, now: str) -> bool:
    cursor = await db.execute(
        "UPDATE reminder_delivery SET status = 'skipped', reason = 'user', updated_at = ?"
        " WHERE id = ? AND status IN ('sent', 'snoozed')", (now, delivery_id))
    return cursor.rowcount == 1


async def close_slot(db: Database, mother_id: int, slot_date: str, slot: str, now: str) -> list[Delivery]:
    """The slot's massage was logged: its open reminders are done. Returns those with a message
    to update (sent, or snoozed after being sent); one being sent right now is settled by its record."""
    rows = await db.fetchall(
        "UPDATE reminder_delivery SET status = 'done', reason = 'logged', updated_at = ?"
        " WHERE mother_id = ? AND slot_date = ? AND slot = ? AND status IN ('pending', 'claimed', 'snoozed', 'sent')"
        f" AND {_NOT_CHECKIN} RETURNING id, message_id", (now, mother_id, slot_date, slot))
    ids = [row["id"] for row in rows if row["message_id"] is not None]
    if not ids:
        return []
    details = await db.fetchall(_DELIVERY + " WHERE d.id IN ? ORDER BY d.id",
                                (_ids(ids),))
    return [_delivery(row) for row in details]


async def logged_by(db: Database, mother_id: int, slot_date: str, slot: str) -> tuple[int | None, str | None]:
    """(who logged the slot's session, the name the mother gave the companion)."""
    row = await db.fetchone(
        "SELECT s.logged_by, l.display_name FROM massage_session s"
        " LEFT JOIN companion_link l ON l.mother_id = s.mother_id AND l.companion_id = s.logged_by"
        " WHERE s.mother_id = ? AND s.slot_date = ? AND s.slot = ?", (mother_id, slot_date, slot))
    return (None, None) if row is None else (row["logged_by"], row["display_name"])


async def status_counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, COUNT(*) AS n FROM reminder_delivery GROUP BY status")
    return {row["status"]: row["n"] for row in rows}
