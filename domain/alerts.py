"""When a milk report or a silence alerts the clinic: our own rules, plain functions.

These rules are ours (content-facts section 4 suggests them; they are not a clinical
standard): any danger sign; milk still "not out" on postpartum day 4 or later; fewer wet
nappies than the baby's day of life calls for; no report and no session for 2 days while
the mother is inside the reminder window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CAUSES = ("danger_sign", "milk_not_out", "few_wet_nappies", "inactive")
NOT_OUT_FROM_DAY = 4                 # milk usually comes in on days 2-4 [Kecukupan]
INACTIVE_AFTER = timedelta(days=2)
WET_NAPPIES_AFTER_DAY_5 = 6          # 1 on day 1 ... 5 on day 5, then 6+ [HSE][WHO-MC]


@dataclass(frozen=True)
class Cause:
    cause: str
    detail: str = ""


def wet_nappies_needed(postpartum_day: int) -> int:
    """The fewest wet nappies in 24 hours expected on this day of life (day of birth = 1)."""
    return max(1, min(postpartum_day, WET_NAPPIES_AFTER_DAY_5))


def danger_cause(danger_signs: list[str] | tuple[str, ...] | None) -> Cause | None:
    if not danger_signs:
        return None
    return Cause("danger_sign", ",".join(danger_signs))


def milk_cause(milk_flow: str, postpartum_day: int) -> Cause | None:
    if milk_flow == "not_out" and postpartum_day >= NOT_OUT_FROM_DAY:
        return Cause("milk_not_out", str(postpartum_day))
    return None


def nappies_cause(wet_nappies: int | None, postpartum_day: int) -> Cause | None:
    if wet_nappies is None:
        return None
    needed = wet_nappies_needed(postpartum_day)
    if wet_nappies < needed:
        return Cause("few_wet_nappies", f"{wet_nappies}/{needed}")
    return None


def report_causes(*, milk_flow: str, postpartum_day: int, wet_nappies: int | None = None,
                  danger_signs: list[str] | None = None) -> list[Cause]:
    """Every rule a report breaks, in order of urgency."""
    found = [danger_cause(danger_signs), milk_cause(milk_flow, postpartum_day),
             nappies_cause(wet_nappies, postpartum_day)]
    return [cause for cause in found if cause is not None]


def in_window(postpartum_day: int, window_days: int) -> bool:
    return 1 <= postpartum_day <= window_days


def is_inactive(now: datetime, quiet_since: datetime, postpartum_day: int, window_days: int) -> bool:
    """No report and no session since `quiet_since` for 2 days, inside the reminder window.

    `quiet_since` is the latest of: registration, last report, last session, and the moment
    a midwife closed the previous inactivity alert (so a closed alert waits for a new silence).
    """
    return in_window(postpartum_day, window_days) and now - quiet_since >= INACTIVE_AFTER
