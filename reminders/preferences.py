"""What `/pengingat` does: a mother's schedule, changing times, pausing and resuming, what's next.

A mother's times and pauses govern every reminder of her slots (hers and her companions'); a
companion's pause silences only the companion. Plain functions over the database, no Telegram.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bot.clock import iso, parse_iso
from bot.config import Settings
from db.database import Database
from db.queries import reminders as q
from db.queries.reminders import MotherPlan
from reminders.planning import parse_utc, FOREVER, Schedule, first_slot, fits_slot, hhmm, last_day, next_check, parse_hhmm


def window_days(plan: MotherPlan, settings: Settings) -> int:
    return plan.window_days or settings.reminder_window_days


def schedule_for(plan: MotherPlan, settings: Settings) -> Schedule:
    return Schedule(
        timezone=plan.timezone,
        morning=parse_hhmm(plan.morning) or parse_hhmm(settings.reminder_morning) or time(6),
        evening=parse_hhmm(plan.evening) or parse_hhmm(settings.reminder_evening) or time(16),
        registered_at=parse_utc(plan.created_at),
        last_day=last_day(plan.delivery_date, window_days(plan, settings)),
    )


def _until(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


@dataclass(frozen=True)
class MotherView:
    plan: MotherPlan
    schedule: Schedule
    days: int
    last_day: date
    paused_until: datetime | None
    next_at: datetime | None
    window_over: bool


@dataclass(frozen=True)
class CompanionView:
    mothers: list[MotherView]
    muted_until: datetime | None
    next_at: datetime | None


async def mother_view(db: Database, settings: Settings, mother_id: int, now: datetime) -> MotherView | None:
    plan = await q.mother_plan(db, mother_id, iso(now))
    if plan is None:
        return None
    return await _view(db, settings, plan, now, mother_id)


async def _view(db: Database, settings: Settings, plan: MotherPlan, now: datetime, recipient_id: int,
                muted_until: datetime | None = None) -> MotherView:
    schedule = schedule_for(plan, settings)
    paused = _until(plan.paused_until)
    blocked_until = max([t for t in (paused, muted_until) if t is not None and t > now], default=None)
    next_at = next_check(schedule, now, blocked_until)
    waiting = await q.next_waiting(db, recipient_id)
    if waiting is not None and (next_at is None or parse_iso(waiting) < next_at):
        next_at = parse_iso(waiting)
    return MotherView(plan, schedule, window_days(plan, settings), schedule.last_day,
                      paused if paused and paused > now else None, next_at,
                      first_slot(schedule, now, inclusive=False) is None)


async def companion_view(db: Database, settings: Settings, companion_id: int, now: datetime) -> CompanionView:
    muted = _until(await q.get_mute(db, companion_id))
    muted = muted if muted and muted > now else None
    views = []
    for plan in await q.companion_mothers(db, companion_id, iso(now)):
        views.append(await _view(db, settings, plan, now, companion_id, muted))
    upcoming = [v.next_at for v in views if v.next_at is not None]
    return CompanionView(views, muted, min(upcoming) if upcoming else None)


async def change_time(db: Database, settings: Settings, mother_id: int, slot: str, value: time,
                      now: datetime) -> MotherView | None:
    """Set her morning or evening time; it applies from its next occurrence."""
    plan = await q.mother_plan(db, mother_id, iso(now))
    if plan is None:
        return None
    morning = hhmm(value) if slot == "morning" else plan.morning
    evening = hhmm(value) if slot == "evening" else plan.evening
    changed = replace(plan, morning=morning, evening=evening)
    schedule = schedule_for(changed, settings)
    pending = plan.next_check_at is not None and parse_iso(plan.next_check_at) <= now
    if pending:  # a slot is due and not yet planned: keep it, the dispatcher takes it on its next wake-up
        next_at = plan.next_check_at
    else:
        found = next_check(schedule, now, _until(plan.paused_until))
        next_at = iso(found) if found else None
    await q.set_times(db, mother_id, morning, evening, next_at, iso(now))
    return await mother_view(db, settings, mother_id, now)


async def pause(db: Database, settings: Settings, user_id: int, role: str, days: int | None,
                now: datetime) -> datetime | None:
    """Pause for `days` days (None: until resumed). A mother pauses her slots for everyone."""
    until = FOREVER if days is None else now + timedelta(days=days)
    if role == "companion":
        await q.set_mute(db, user_id, iso(until), iso(now))
        return until
    plan = await q.mother_plan(db, user_id, iso(now))
    if plan is None:
        return None
    found = next_check(schedule_for(plan, settings), now, until)
    async with db.transaction():
        await q.set_pause(db, user_id, iso(until), iso(found) if found else None, iso(now))
    return until


async def resume(db: Database, settings: Settings, user_id: int, role: str, now: datetime) -> None:
    if role == "companion":
        await q.set_mute(db, user_id, None, iso(now))
        return
    plan = await q.mother_plan(db, user_id, iso(now))
    if plan is None:
        return
    found = next_check(schedule_for(plan, settings), now)
    await q.set_pause(db, user_id, None, iso(found) if found else None, iso(now))


def is_forever(moment: datetime | None) -> bool:
    return moment is not None and moment.year >= FOREVER.year


MAX_PAUSE_DAYS = 14


@dataclass(frozen=True)
class Request:
    """What the words after /pengingat ask for."""

    action: str                  # pause, stop, resume, time, or problem
    days: int | None = None
    slot: str | None = None
    value: time | None = None
    problem: str | None = None   # the text key explaining what was wrong


def parse_request(args: list[str], words: dict[str, list[str]]) -> Request:
    """`jeda 2`, `lanjut`, `stop`, `pagi 05:30` (and the English words) → a Request."""
    lowered = [arg.lower() for arg in args]
    first, rest = lowered[0], lowered[1:]
    if first in words["pause"]:
        if not rest:
            return Request("pause", days=1)
        if rest[0].isdigit() and 1 <= int(rest[0]) <= MAX_PAUSE_DAYS:
            return Request("pause", days=int(rest[0]))
        return Request("problem", problem="reminders.settings.pause_days_invalid")
    if first in words["resume"]:
        return Request("resume")
    if first in words["stop"]:
        return Request("stop")
    for slot in ("morning", "evening"):
        if first in words[slot]:
            value = parse_hhmm(rest[0]) if rest else None
            if value is None:
                return Request("problem", problem="reminders.time.format")
            if not fits_slot(value, slot):
                return Request("problem", problem=f"reminders.time.{slot}_range")
            return Request("time", slot=slot, value=value)
    return Request("problem", problem="reminders.screen.usage")
