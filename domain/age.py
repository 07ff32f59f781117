"""The baby's age in hours, from the delivery date, the (optional) time of birth and the
mother's own time zone. Every "day of life" rule uses this, never the calendar date alone.

`mother.birth_time` is 'HH:MM' local, a part of the day ('night' 00-06, 'morning' 06-12,
'afternoon' 12-18, 'evening' 18-24), or None when she did not say. When the time is not known
exactly we take the latest moment it can have been, so the baby is never thought older than
he may be (a rule that waits for "24 hours of life" never fires too early):

- 'HH:MM'        -> that moment;
- a part of day  -> the END of that part (a birth "in the evening" counts from 24:00);
- unknown        -> the end of the delivery day (a day's grace).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

PARTS_OF_DAY = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _field(source, name: str):
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def birth_moment(delivery_date: date | str, birth_time: str | None, zone: str) -> datetime:
    """The (latest possible) moment of birth, in UTC."""
    if isinstance(delivery_date, str):
        delivery_date = date.fromisoformat(delivery_date)
    midnight = datetime.combine(delivery_date, time(0, 0), tzinfo=ZoneInfo(zone))
    text = (birth_time or "").strip().lower()
    match = _CLOCK.match(text)
    if match:
        local = midnight + timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
    elif text in PARTS_OF_DAY:
        local = midnight + timedelta(hours=PARTS_OF_DAY[text][1])
    else:
        local = midnight + timedelta(days=1)
    return local.astimezone(timezone.utc)


def hours_of_life(mother_or_fields, now: datetime) -> float:
    """Hours since birth at `now` (never below 0). Takes a Mother or any object / mapping with
    `delivery_date`, `birth_time` and `timezone`."""
    born = birth_moment(_field(mother_or_fields, "delivery_date"), _field(mother_or_fields, "birth_time"),
                        _field(mother_or_fields, "timezone") or "Asia/Jakarta")
    return max(0.0, (now - born).total_seconds() / 3600)


def day_of_life(mother_or_fields, now: datetime) -> int:
    """Day of life by hours: the first 24 hours are day 1, hours 24-48 day 2, and so on."""
    return math.floor(hours_of_life(mother_or_fields, now) / 24) + 1
