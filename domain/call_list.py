"""Whom a midwife should contact today: plain rules over what each mother's record shows.

One entry per mother, with every reason that applies, most urgent first:

1. `urgent`       an open urgent alert (🚨), taken or not, with how long it has been open;
2. `question`     a question to the midwife that nobody has answered yet;
3. `milk_not_out` her latest report says milk not out, and the baby is 72 hours or older;
4. `few_feeds`    her latest report (of the last 2 days) counted fewer than 8 feeds, from 24 hours;
5. `few_nappies`  ... fewer wet nappies than the day of life calls for, from 24 hours;
6. `no_report`    no report for 2 days (counted from registration if she never reported),
                  during the 42 days of nifas.

Baby-related reasons are left out while the baby is in hospital, and after a loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.age import hours_of_life
from domain.alerts import FEEDS_NEEDED, day_from_hours, wet_nappies_needed

REASONS = ("urgent", "question", "milk_not_out", "few_feeds", "few_nappies", "no_report")
QUIET_FOR = timedelta(days=2)
RECENT_REPORT = timedelta(days=2)
NIFAS_HOURS = 42 * 24


@dataclass(frozen=True)
class MotherFacts:
    """What the rules need to know about one mother (read by db/queries/call_list.py)."""
    mother: object                    # db.queries.mothers.Mother
    registered_at: datetime
    last_report_at: datetime | None = None
    last_flow: str | None = None
    last_feeds: int | None = None
    last_wet: int | None = None
    urgent_since: datetime | None = None      # her oldest open urgent alert
    urgent_taken_by: str | None = None
    question_since: datetime | None = None    # her oldest unanswered question


@dataclass
class CallItem:
    mother_id: int
    name: str
    reasons: list[str] = field(default_factory=list)
    since: datetime | None = None             # how long the most urgent reason has waited
    taken_by: str | None = None

    @property
    def rank(self) -> int:
        return min(REASONS.index(r) for r in self.reasons)


def reasons_for(facts: MotherFacts, now: datetime) -> CallItem | None:
    mother = facts.mother
    item = CallItem(mother.user_id, mother.display_name)
    hours = hours_of_life(mother, now)
    baby_questions = getattr(mother, "care_status", "normal") == "normal"
    if facts.urgent_since is not None:
        item.reasons.append("urgent")
        item.since, item.taken_by = facts.urgent_since, facts.urgent_taken_by
    if facts.question_since is not None:
        item.reasons.append("question")
        item.since = item.since or facts.question_since
    recent = facts.last_report_at is not None and now - facts.last_report_at <= RECENT_REPORT
    if baby_questions:
        if facts.last_flow == "not_out" and hours >= 72:
            item.reasons.append("milk_not_out")
        if recent and hours >= 24 and facts.last_feeds is not None and facts.last_feeds < FEEDS_NEEDED:
            item.reasons.append("few_feeds")
        if (recent and hours >= 24 and facts.last_wet is not None
                and facts.last_wet < wet_nappies_needed(day_from_hours(hours))):
            item.reasons.append("few_nappies")
    if getattr(mother, "care_status", "normal") != "loss" and hours <= NIFAS_HOURS:
        quiet_since = facts.last_report_at or facts.registered_at
        if now - quiet_since >= QUIET_FOR:
            item.reasons.append("no_report")
            item.since = item.since or quiet_since
    return item if item.reasons else None


def call_list(all_facts: list[MotherFacts], now: datetime) -> list[CallItem]:
    """Everyone to contact today, most urgent first (then the longest waiting)."""
    items = [item for facts in all_facts if (item := reasons_for(facts, now)) is not None]
    return sorted(items, key=lambda i: (i.rank, i.since or now, i.name))
