"""Which reminder slots fall due for a mother, and when: plain logic, no Telegram, no database.

A mother's day has two slots, `morning` (a local time before 12:00) and `evening` (from 12:00),
the same split `domain.slots.slot_of` uses when a session is logged, so a reminder and the
session it asks for always name the same slot. Reminders run from her registration up to and
including postpartum day N (the day of birth is day 1), at her local times, in her zone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from bot.config import ZONES
from domain.slots import NOON, SLOTS

SLOT_CODES = {"morning": "m", "evening": "e"}
SLOT_NAMES = {code: name for name, code in SLOT_CODES.items()}
FOREVER = datetime(9999, 12, 31, tzinfo=timezone.utc)
_HHMM = re.compile(r"^\s*(\d{1,2})(?:\s*[:.]\s*(\d{2}))?\s*$")
_ZONE_LABELS = {zone: label for label, zone in ZONES.items()}


@dataclass(frozen=True)
class Schedule:
    """Everything that decides when a mother's reminders fall."""

    timezone: str
    morning: time
    evening: time
    registered_at: datetime  # no slot before this instant
    last_day: date           # last local date with reminders

    def time_of(self, slot: str) -> time:
        return self.morning if slot == "morning" else self.evening


@dataclass(frozen=True)
class Slot:
    date: date     # the mother's local date
    name: str      # morning / evening
    at: datetime   # the instant (UTC) the reminder is due

    @property
    def code(self) -> str:
        return SLOT_CODES[self.name]


def parse_utc(text: str) -> datetime:
    """`2026-11-30T09:00:00Z` (as stored) → an aware datetime; fast, as planning parses many."""
    return datetime.fromisoformat(text)


def parse_hhmm(text: str | None) -> time | None:
    """`06:00`, `6:00`, `6.30`, `6` → a time; anything else → None."""
    match = _HHMM.match(text or "")
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def fits_slot(value: time, slot: str) -> bool:
    """A morning reminder is before noon, an evening one from noon on."""
    return (value.hour < NOON) if slot == "morning" else (value.hour >= NOON)


def last_day(delivery: date, window_days: int) -> date:
    """The last local date with reminders: postpartum day `window_days` (birth = day 1)."""
    return delivery + timedelta(days=window_days - 1)


def slot_at(schedule: Schedule, local_date: date, slot: str) -> datetime:
    local = datetime.combine(local_date, schedule.time_of(slot), tzinfo=ZoneInfo(schedule.timezone))
    return local.astimezone(timezone.utc)


def slots_from(schedule: Schedule, start: datetime, inclusive: bool = True) -> Iterator[Slot]:
    """Every slot due at or after `start` (after, if not inclusive), in order, to the window's end."""
    start = max(start, schedule.registered_at)
    day = start.astimezone(ZoneInfo(schedule.timezone)).date() - timedelta(days=1)
    while day <= schedule.last_day:
        for name in SLOTS:
            at = slot_at(schedule, day, name)
            if at > start or (inclusive and at == start):
                yield Slot(day, name, at)
        day += timedelta(days=1)


def due_slots(schedule: Schedule, since: datetime, now: datetime) -> list[Slot]:
    """Slots due in [since, now]: what a planning step must record."""
    found = []
    for slot in slots_from(schedule, since):
        if slot.at > now:
            break
        found.append(slot)
    return found


def first_slot(schedule: Schedule, start: datetime, inclusive: bool = True) -> Slot | None:
    return next(slots_from(schedule, start, inclusive), None)


def next_check(schedule: Schedule, now: datetime, paused_until: datetime | None = None) -> datetime | None:
    """When this mother must be looked at again: her first slot after `now` (and not paused)."""
    if paused_until is not None and paused_until > now:
        slot = first_slot(schedule, paused_until, inclusive=True)
    else:
        slot = first_slot(schedule, now, inclusive=False)
    return slot.at if slot else None


def too_late(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """A reminder due `grace` or longer ago is recorded as missed, never sent late."""
    return now - due_at >= grace


def snooze_until(schedule: Schedule, slot: Slot, now: datetime, minutes: int) -> datetime | None:
    """The snoozed reminder's new time, or None if it would fall outside the slot's half-day."""
    until = now + timedelta(minutes=minutes)
    local = until.astimezone(ZoneInfo(schedule.timezone))
    if local.date() != slot.date:
        return None
    if slot.name == "morning" and local.hour >= NOON:
        return None
    return until


def zone_label(zone: str) -> str:
    """WIB / WITA / WIT for Indonesia's zones, else the zone's name."""
    return _ZONE_LABELS.get(zone, zone)


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def slot_from_code(date_code: str, slot_code: str) -> tuple[date, str] | None:
    """`20261130`, `m` (from a button) → (date, 'morning'); None if malformed."""
    if slot_code not in SLOT_NAMES or len(date_code) != 8 or not date_code.isdigit():
        return None
    try:
        return date(int(date_code[:4]), int(date_code[4:6]), int(date_code[6:])), SLOT_NAMES[slot_code]
    except ValueError:
        return None

