"""When a milk report or a silence alerts the clinic: our own rules, plain functions.

These rules are ours (content-facts sections 3 and 4 suggest them; they are not a clinical
standard). Every rule about the baby's age uses hours of life (domain/age.py), never the
calendar date alone, so a baby born at 23:00 is not "day 2" an hour later:

- any danger sign ticked: `danger_sign`, urgent when a "go now" sign (or thoughts of self-harm)
  is among them, otherwise a warning ("see someone today");
- milk still "not out" from 72 hours of life: `milk_not_out` (milk usually comes in on days 2-4);
- fewer wet nappies than the day of life calls for, from 24 hours of life: `few_wet_nappies`;
- from 24 hours of life (a whole day to count): 0-2 feeds in 24 hours is `not_feeding`
  (urgent: "not feeding" is a go-now sign), 3-7 is `few_feeds` (a warning: "baby, go soon");
- no report and no session for 2 days while inside the reminder window: `inactive`.

A later report that no longer shows `milk_not_out`, `few_wet_nappies` or `few_feeds` closes
that alert by itself (`*_cleared`). Urgent alerts are never closed by a report.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

CAUSES = ("danger_sign", "not_feeding", "milk_not_out", "few_wet_nappies", "few_feeds", "inactive")
URGENCIES = ("urgent", "warning")
NOT_OUT_FROM_HOURS = 72              # milk usually comes in on days 2-4 [Kecukupan]: day 4 = from 72 h
NAPPIES_FROM_HOURS = 24              # no nappy rule in the first 24 hours of life
FEEDS_FROM_HOURS = 24                # "feeds in the last 24 hours" needs a whole day of life
FEEDS_NEEDED = 8                     # 8-12 feeds in 24 hours [Kecukupan]; fewer than 8: go soon [PCPNC]
NOT_FEEDING_AT_MOST = 2              # 0-2 feeds in 24 hours: "not feeding", go now [PCPNC][HEAT]
INACTIVE_AFTER = timedelta(days=2)
WET_NAPPIES_AFTER_DAY_5 = 6          # 1 on day 1 ... 5 on day 5, then 6+ [HSE][WHO-MC]
RESOLVABLE = ("milk_not_out", "few_wet_nappies", "few_feeds")


@dataclass(frozen=True)
class Cause:
    cause: str
    detail: str = ""
    urgency: str = "warning"   # "urgent": go now (🚨, pauses the massage) | "warning": today (⚠️)

    @property
    def urgent(self) -> bool:
        return self.urgency == "urgent"


SELF_HARM = "self_harm"


def alert_causes(cause: Cause) -> list[Cause]:
    """The alerts one rule raises: thoughts of harming herself or the baby are an urgent alert
    of their own (so a danger alert already open cannot swallow them); other signs stay one."""
    if cause.cause != "danger_sign" or SELF_HARM not in cause.detail.split(","):
        return [cause]
    others = [s for s in cause.detail.split(",") if s and s != SELF_HARM]
    found = [Cause(SELF_HARM, SELF_HARM, "urgent")]
    if others:
        found.append(Cause("danger_sign", ",".join(others), cause.urgency))
    return found


def day_from_hours(hours: float) -> int:
    """Day of life from hours of life: the first 24 hours are day 1."""
    return int(max(0.0, hours) // 24) + 1


def wet_nappies_needed(day_of_life: int) -> int:
    """The fewest wet nappies in 24 hours expected on this day of life (first 24 hours = day 1)."""
    return max(1, min(day_of_life, WET_NAPPIES_AFTER_DAY_5))


def danger_cause(danger_signs: Collection[str] | None, urgent_signs: Collection[str] | None = None) -> Cause | None:
    """Any ticked sign. `urgent_signs` are the "go now" ids of the checklist; None treats every
    sign as urgent (when in doubt, the safer side)."""
    if not danger_signs:
        return None
    urgent = urgent_signs is None or any(sign in urgent_signs for sign in danger_signs)
    return Cause("danger_sign", ",".join(danger_signs), "urgent" if urgent else "warning")


def milk_cause(milk_flow: str, hours: float) -> Cause | None:
    if milk_flow == "not_out" and hours >= NOT_OUT_FROM_HOURS:
        return Cause("milk_not_out", str(day_from_hours(hours)))
    return None


def milk_cleared(milk_flow: str | None) -> bool:
    return milk_flow in ("not_smooth", "smooth")


def nappies_cause(wet_nappies: int | None, hours: float) -> Cause | None:
    if wet_nappies is None or hours < NAPPIES_FROM_HOURS:
        return None
    needed = wet_nappies_needed(day_from_hours(hours))
    if wet_nappies < needed:
        return Cause("few_wet_nappies", f"{wet_nappies}/{needed}")
    return None


def nappies_cleared(wet_nappies: int | None, hours: float) -> bool:
    return wet_nappies is not None and hours >= NAPPIES_FROM_HOURS and nappies_cause(wet_nappies, hours) is None


def feeds_cause(feeds: int | None, hours: float) -> Cause | None:
    if feeds is None or hours < FEEDS_FROM_HOURS:
        return None
    if feeds <= NOT_FEEDING_AT_MOST:
        return Cause("not_feeding", str(feeds), "urgent")
    if feeds < FEEDS_NEEDED:
        return Cause("few_feeds", str(feeds))
    return None


def feeds_cleared(feeds: int | None) -> bool:
    return feeds is not None and feeds >= FEEDS_NEEDED


def report_causes(*, milk_flow: str, hours: float, wet_nappies: int | None = None, feeds: int | None = None,
                  danger_signs: Collection[str] | None = None,
                  urgent_signs: Collection[str] | None = None) -> list[Cause]:
    """Every rule a report breaks, urgent ones first."""
    found = [danger_cause(danger_signs, urgent_signs), feeds_cause(feeds, hours), milk_cause(milk_flow, hours),
             nappies_cause(wet_nappies, hours)]
    causes = [cause for cause in found if cause is not None]
    return sorted(causes, key=lambda c: not c.urgent)


def in_window(postpartum_day: int, window_days: int) -> bool:
    return 1 <= postpartum_day <= window_days


def is_inactive(now: datetime, quiet_since: datetime, postpartum_day: int, window_days: int) -> bool:
    """No report and no session since `quiet_since` for 2 days, inside the reminder window.

    `quiet_since` is the latest of: registration, last report, last session, and the moment
    a midwife closed the previous inactivity alert (so a closed alert waits for a new silence).
    """
    return in_window(postpartum_day, window_days) and now - quiet_since >= INACTIVE_AFTER
