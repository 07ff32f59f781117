"""Milk-flow reports: filing one and judging each answer by the rules (domain/alerts.py), and
the "how is the milk now?" offer other features start. The flow that asks the questions is
flows/reports.py; this is what each answer does.
"""
from __future__ import annotations

from dataclasses import dataclass

from db.queries import alerts as alerts_q
from db.queries import mothers as mothers_q
from db.queries import reports as reports_q
from db.queries.mothers import Mother
from db.queries.reports import FLOWS, Report
from domain import alerts
from domain.age import day_of_life, hours_of_life
from domain.alerts import Cause
from domain.clock import parse_iso
from usecases import alerts as alert_cases
from usecases.events import SessionLogged, SessionRated
from usecases.ports import Buttons, Deps


@dataclass(frozen=True)
class Judged:
    """What an answer of a report led to: the rule that fired (its advice is shown at once),
    whether the clinic was told, and whether it says go now (no more questions then)."""
    report: Report
    cause: Cause | None = None
    day: int = 0
    told: bool = False

    @property
    def urgent(self) -> bool:
        return self.cause is not None and self.cause.urgent


async def file_report(deps: Deps, *, mother: Mother, reported_by: int, flow: str,
                      update_id: int | None = None) -> Report:
    """The milk-flow answer, stored the moment it is given (once per update: a replayed update
    finds its row); a report counts as activity, so an open "no news from her" alert closes."""
    now = deps.clock.now()
    role = "mother" if reported_by == mother.user_id else "companion"
    report = await reports_q.add_report(deps.db, mother=mother, reported_by=reported_by, reporter_role=role,
                                        milk_flow=flow, now=now, update_id=update_id)
    await reports_q.close_inactivity_alert(deps.db, mother.user_id, now)
    return report


def _hours(mother: Mother, report: Report) -> float:
    """Hours of life at the moment of the report (not now: a late answer keeps its report's age)."""
    return hours_of_life(mother, parse_iso(report.reported_at))


async def judge_flow(deps: Deps, mother: Mother, report: Report, raised_by: int) -> Judged:
    """The milk rule: "not out" from day 4 raises an alert; milk that flows closes an open one."""
    if alerts.milk_cleared(report.milk_flow):
        await alerts_q.resolve(deps.db, mother.user_id, "milk_not_out", deps.clock.now())
    return await _judge(deps, mother, report, alerts.milk_cause(report.milk_flow, _hours(mother, report)), raised_by)


async def record_danger_signs(deps: Deps, mother: Mother, report: Report, signs: list[str],
                              urgent_signs: set[str], raised_by: int) -> Judged:
    report = await reports_q.set_detail(deps.db, report.id, "danger_signs", ",".join(signs))
    return await _judge(deps, mother, report, alerts.danger_cause(signs, urgent_signs), raised_by)


async def record_feeds(deps: Deps, mother: Mother, report: Report, feeds: int | None, raised_by: int) -> Judged:
    report = await reports_q.set_detail(deps.db, report.id, "feeds_24h", feeds)
    if alerts.feeds_cleared(feeds):
        await alerts_q.resolve(deps.db, mother.user_id, "few_feeds", deps.clock.now())
    return await _judge(deps, mother, report, alerts.feeds_cause(feeds, _hours(mother, report)), raised_by)


async def record_wet_nappies(deps: Deps, mother: Mother, report: Report, wet: int | None, raised_by: int) -> Judged:
    report = await reports_q.set_detail(deps.db, report.id, "wet_nappies_24h", wet)
    hours = _hours(mother, report)
    if alerts.nappies_cleared(wet, hours):
        await alerts_q.resolve(deps.db, mother.user_id, "few_wet_nappies", deps.clock.now())
    return await _judge(deps, mother, report, alerts.nappies_cause(wet, hours), raised_by)


async def record_breasts(deps: Deps, report: Report, breasts: str | None) -> Report:
    return await reports_q.set_detail(deps.db, report.id, "breasts", breasts)


async def _judge(deps: Deps, mother: Mother, report: Report, cause: Cause | None, raised_by: int) -> Judged:
    """The alert(s) of a rule that fired (thoughts of self-harm are an alert of their own)."""
    if cause is None:
        return Judged(report)
    day = day_of_life(mother, parse_iso(report.reported_at))
    told = False
    for each in alerts.alert_causes(cause):
        raised = await alert_cases.raise_alert(deps, mother, each, report=report, raised_by=raised_by, day=day)
        told |= raised.told
    return Judged(report, cause, day, told)


def flow_buttons(texts, lang: str, data_prefix: str) -> Buttons:
    """The three milk-flow answers as buttons `<data_prefix><flow>`."""
    return [[(texts.t(lang, f"reports.flow.{flow}"), f"{data_prefix}{flow}")] for flow in FLOWS]


async def note_activity(deps: Deps, event: SessionLogged) -> None:
    """A session counts as activity: before/after phases follow it, and an open "no news from
    her" alert closes."""
    await reports_q.refresh_phases(deps.db, event.mother_id)
    await reports_q.close_inactivity_alert(deps.db, event.mother_id, deps.clock.now())


async def send_flow_buttons(deps: Deps, user_id: int, mother: Mother, key_self: str, key_other: str) -> bool:
    """"How is the milk?" with one-tap answers that start a report, in the recipient's language."""
    key = key_self if user_id == mother.user_id else key_other
    return await deps.notifier.notify(
        user_id, key, lambda lang: flow_buttons(deps.texts, lang, f"rep:o:{mother.user_id}:"),
        mother=mother.display_name)


async def offer_after_logging(deps: Deps, event: SessionLogged) -> None:
    if event.new and event.offer_report:
        await offer_after_session(deps, event.mother_id)


async def offer_after_rating(deps: Deps, event: SessionRated) -> None:
    await offer_after_session(deps, event.mother_id, logged_by=event.logged_by)


async def offer_after_session(deps: Deps, mother_id: int, logged_by: int | None = None) -> None:
    """After a logged massage: asks the mother (and the companion who logged it, if any) "how is
    the milk now?". Not after the loss of her baby (flows/care_status.py)."""
    mother = await mothers_q.get_mother(deps.db, mother_id)
    if mother is None or mother.care_status == "loss":
        return
    await send_flow_buttons(deps, mother_id, mother, "reports.offer.text_self", "reports.offer.text")
    if logged_by is not None and logged_by != mother_id:
        if await reports_q.may_report_for(deps.db, logged_by, "companion", mother_id) is not None:
            await send_flow_buttons(deps, logged_by, mother, "reports.offer.text_self", "reports.offer.text")
