"""Delivery dates and postpartum days, in the mother's own time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_AGO = 42  # the postpartum period (nifas)
_DATE = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})\s*$")


@dataclass(frozen=True)
class DateProblem:
    reason: str  # format, impossible, future, too_old


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def parse_delivery_date(text: str, today: date) -> date | DateProblem:
    """`DD-MM-YYYY` or `DD/MM/YYYY` (dots too), not in the future, at most 42 days ago."""
    match = _DATE.match(text or "")
    if not match:
        return DateProblem("format")
    day, month, year = (int(part) for part in match.groups())
    try:
        value = date(year, month, day)
    except ValueError:
        return DateProblem("impossible")
    return check_delivery_date(value, today)


def check_delivery_date(value: date, today: date) -> date | DateProblem:
    if value > today:
        return DateProblem("future")
    if value < today - timedelta(days=MAX_DAYS_AGO):
        return DateProblem("too_old")
    return value


def postpartum_day(delivery: date, today: date) -> int:
    """Day of life of the baby, counting the day of birth as day 1."""
    return (today - delivery).days + 1
