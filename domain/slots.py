"""Reminder slots: a mother's day has a morning and an evening massage."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SLOTS = ("morning", "evening")
NOON = 12


def slot_of(moment: datetime, timezone: str) -> tuple[date, str]:
    """(local date, slot) of an instant for a mother: before noon is the morning slot."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.date(), "morning" if local.hour < NOON else "evening"
