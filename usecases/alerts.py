"""Raising an alert, from any path (a report, the safety check, the danger screen, the bot's
own rules), and getting it to someone: the one place for who is told what.

- the midwives of her clinic, every one that can be reached: 🚨 for urgent (go now), ⚠️ for the
  others, with a button to her record; each attempt is recorded in `alert_delivery`;
- the administrators (`ADMIN_TELEGRAM_IDS`) when she has no clinic yet, when no midwife of her
  clinic could be reached, or when one of them could not (so nobody drops out silently);
- for an urgent alert: her companions, and the mother herself when a companion reported it.
  An open urgent alert also puts her "on hold": massage reminders and the timer pause until a
  midwife closes it or she confirms she has been seen (`db.queries.alerts.on_hold`).

An alert that reached no midwife is tried again by the hourly job (`resend_untold`); one nobody
took in time is escalated (`escalate`). "Saya tangani" (`take_alert`) is the same in the chat and
the desk dashboard. Handlers and jobs call these with `Deps` (usecases/ports.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from db.queries import alerts as alerts_q
from db.queries import clinics, companions, users
from db.queries import mothers as mothers_q
from db.queries.alerts import Alert
from db.queries.clinics import Clinic
from db.queries.mothers import Mother
from domain.alerts import Cause
from domain.clock import iso, parse_iso
from usecases.contacts import contact_block
from usecases.ports import Deps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Raised:
    alert: Alert | None   # the alert opened now; None when the same cause was open already
    told: bool            # a midwife (or, failing that, an administrator) was told now
    urgent: bool


def _when(moment: str, zone: str) -> str:
    return parse_iso(moment).astimezone(ZoneInfo(zone)).strftime("%d/%m %H:%M")


def sign_labels(texts, lang: str, detail: str) -> list[str]:
    """Labels of the danger-sign ids in an alert's detail (checklist items or other sources)."""
    labels = {item["id"]: item["label"] for item in texts.data(lang, "reports.danger_signs")}
    extra = texts.data(lang, "alerting.sources")
    return [labels.get(sign) or extra.get(sign, sign) for sign in detail.split(",") if sign]


def cause_text(texts, lang: str, cause: str, detail: str, day: int | None) -> str:
    """One line saying why: the danger signs by name, or the rule with its numbers."""
    if cause == "danger_sign":
        return texts.t(lang, "midwife.causes.danger_sign", signs=", ".join(sign_labels(texts, lang, detail)))
    if cause == "few_wet_nappies":
        wet, _, needed = detail.partition("/")
        return texts.t(lang, "midwife.causes.few_wet_nappies", wet=wet, needed=needed, day=day)
    if cause == "milk_not_out":
        return texts.t(lang, "midwife.causes.milk_not_out", day=day or detail)
    if cause in ("few_feeds", "not_feeding"):
        return texts.t(lang, f"alerting.causes.{cause}", feeds=detail, day=day)
    try:
        return texts.t(lang, f"midwife.causes.{cause}")
    except KeyError:
        return texts.t(lang, f"alerting.causes.{cause}")


# ----------------------------------------------------------------- sending
async def _deliver(deps: Deps, alert: Alert, recipient_id: int, kind: str, text_of, buttons_of=None) -> str:
    """Send one message in the recipient's language; record and return sent / failed / blocked."""
    delivery = await deps.notifier.deliver(recipient_id, text_of, buttons_of)
    if delivery.status == "failed" and await users.get_user(deps.db, recipient_id) is None:
        return "failed"  # nobody to record it for
    await alerts_q.record_delivery(deps.db, alert.id, recipient_id, kind, delivery.status, delivery.message_id,
                                   deps.clock.now())
    return delivery.status


def _midwife_text(deps: Deps, mother: Mother, clinic: Clinic, alert: Alert, day: int | None, lang: str) -> str:
    t = deps.texts.t
    by = ""
    if alert.raised_by is not None and alert.raised_by != mother.user_id:
        by = t(lang, "midwife.alert.by_companion")
    key = "alerting.midwife.urgent" if alert.urgent else "midwife.alert.message"
    return t(lang, key, name=mother.display_name, day=day if day is not None else "?", clinic=clinic.name,
             reason=cause_text(deps.texts, lang, alert.cause, alert.detail, day),
             when=_when(alert.opened_at, clinic.timezone), by=by)


def _alert_buttons(deps: Deps, mother: Mother, alert: Alert, lang: str, taken: bool = False):
    """ "Saya tangani" (until someone took it) and the way to her record."""
    t = deps.texts.t
    rows = [] if taken else [[(t(lang, "alerting.take.button"), f"al:take:{alert.id}")]]
    rows.append([(t(lang, "midwife.alert.open_record", name=mother.display_name), f"mw:rec:{mother.user_id}")])
    return rows


def _record_button(deps: Deps, mother: Mother, alert: Alert):
    return lambda lang: _alert_buttons(deps, mother, alert, lang)


async def tell_clinic(deps: Deps, mother: Mother, alert: Alert, now: datetime) -> bool:
    """Every reachable midwife of her clinic; the administrators when she has no clinic or a
    midwife could not be reached. True when a midwife (or, failing that, an admin) has it."""
    clinic = await clinics.get_clinic(deps.db, mother.clinic_id) if mother.clinic_id else None
    day = alert.report_day
    midwife_ok = False
    trouble = None
    if clinic is None:
        trouble = "no_clinic"
    else:
        all_midwives = await clinics.clinic_all_midwife_ids(deps.db, clinic.id)
        # An urgent alert is tried even with a midwife who once blocked the bot: she may be back.
        targets = all_midwives if alert.urgent else await clinics.clinic_midwife_ids(deps.db, clinic.id)
        results = [await _deliver(deps, alert, midwife_id, "midwife",
                                  lambda lang: _midwife_text(deps, mother, clinic, alert, day, lang),
                                  _record_button(deps, mother, alert))
                   for midwife_id in targets]
        midwife_ok = "sent" in results
        if not all_midwives:
            trouble = "no_midwife"
        elif not midwife_ok:
            trouble = "unreachable"
        elif len(results) < len(all_midwives) or any(r != "sent" for r in results):
            trouble = "some_unreachable"
    if midwife_ok:
        await alerts_q.mark_notified(deps.db, alert.id, now)
    admin_ok = False
    if trouble is not None and (alert.urgency == "urgent" or trouble != "some_unreachable"):
        admin_ok = await _tell_admins(deps, mother, clinic, alert, day, trouble)
    return midwife_ok or admin_ok


async def _tell_admins(deps: Deps, mother: Mother, clinic: Clinic | None, alert: Alert, day: int | None,
                       trouble: str) -> bool:
    if await alerts_q.admins_told_since(deps.db, alert.id, alert.opened_at):
        return True
    t = deps.texts.t

    def text(lang: str) -> str:
        head = t(lang, f"alerting.admin.{trouble}", clinic=clinic.name if clinic else "")
        body = _midwife_text(deps, mother, clinic or Clinic(0, "-", mother.timezone, ""), alert, day, lang)
        return f"{head}\n\n{body}"

    told = False
    for admin_id in deps.settings.admin_telegram_ids:
        if await users.get_user(deps.db, admin_id) is None:
            continue  # an administrator who never started the bot cannot be written to
        told |= await _deliver(deps, alert, admin_id, "admin", text) == "sent"
    if not told:
        log.error("alert %s reached nobody (%s)", alert.id, trouble)
    return told


async def _tell_family(deps: Deps, mother: Mother, alert: Alert) -> None:
    """An urgent alert: her companions are told, and she is when a companion reported it."""
    clinic = await clinics.get_clinic(deps.db, mother.clinic_id) if mother.clinic_id else None
    t = deps.texts.t
    for companion_id in await companions.companion_ids(deps.db, mother.user_id):
        if companion_id == alert.raised_by:
            continue
        await _deliver(deps, alert, companion_id, "companion", lambda lang: t(
            lang, "alerting.family.companion", mother=mother.display_name,
            reason=cause_text(deps.texts, lang, alert.cause, alert.detail, alert.report_day),
            contacts=contact_block(deps.texts, lang, clinic)))
    if alert.raised_by is not None and alert.raised_by != mother.user_id:
        await _deliver(deps, alert, mother.user_id, "mother", lambda lang: t(
            lang, "alerting.family.mother",
            reason=cause_text(deps.texts, lang, alert.cause, alert.detail, alert.report_day),
            contacts=contact_block(deps.texts, lang, clinic)))


# ----------------------------------------------------------------- the entry points
async def raise_alert(deps: Deps, mother: Mother, cause: Cause, *, report=None, raised_by: int | None = None,
                      now: datetime | None = None, day: int | None = None) -> Raised:
    """Open the alert for this cause and, if it is new, tell whoever must know.

    `report` (a milk report)
    gives the day of life and the reporter; otherwise pass `day` and `raised_by`.
    """
    now = now or deps.clock.now()
    if report is not None:
        raised_by = report.reported_by if raised_by is None else raised_by
        day = report.postpartum_day if day is None else day
    urgent = cause.urgency == "urgent"
    alert = await alerts_q.open_alert(deps.db, mother.user_id, cause.cause, cause.detail,
                                      report.id if report is not None else None, now, urgency=cause.urgency,
                                      report_day=day, raised_by=raised_by)
    if alert is None:  # open already: its people were told when it opened
        if report is not None:  # by this very report (its update handled again after a crash)?
            earlier = await alerts_q.opened_by_report(deps.db, mother.user_id, cause.cause, report.id)
            if earlier is not None:  # then say what was done then; nobody is told twice
                told = earlier.notified_at is not None or await alerts_q.admins_told_since(
                    deps.db, earlier.id, earlier.opened_at)
                return Raised(None, told, urgent)
        return Raised(None, False, urgent)
    told = await tell_clinic(deps, mother, alert, now)
    if alert.urgent:
        await _tell_family(deps, mother, alert)
    return Raised(alert, told, urgent)


async def resend_untold(deps: Deps, now: datetime) -> int:
    """Open alerts no midwife has yet (Telegram was down, nobody reachable, no clinic, a mother
    who joined a clinic later): try again. Returns how many reached a midwife now."""
    sent = 0
    for untold in await alerts_q.untold_alerts(deps.db):
        await tell_clinic(deps, untold.mother, untold.alert, now)
        sent += bool(await deps.db.fetchval("SELECT notified_at IS NOT NULL FROM alert WHERE id = ?",
                                               (untold.alert.id,)))
    return sent


# ----------------------------------------------------------------- taking an alert
async def take_alert(deps: Deps, midwife_id: int, alert_id: int, now: datetime,
                     fallback_name: str = "") -> tuple[bool, str | None]:
    """The midwife takes an alert of her clinic: the one place for "Saya tangani", whether
    pressed in the chat or in the desk dashboard. On success the other midwives' copies show
    who took it and the mother and her companions learn that a midwife has seen it.

    Returns (True, her name) when she took it now; (False, the taker's name) when another
    midwife had; (False, None) when it is closed already. Raises NotAMidwife / NotYourClinic
    for anyone but a midwife of the mother's clinic (also for an alert that does not exist)."""
    from db.queries.clinic_scope import NotYourClinic, mother_of_clinic

    alert = await alerts_q.get_alert(deps.db, alert_id)
    if alert is None:
        raise NotYourClinic(alert_id)
    mother = await mother_of_clinic(deps.db, midwife_id, alert.mother_id)
    if alert.closed_at is not None:
        return False, None
    if not await alerts_q.take(deps.db, alert.id, midwife_id, now):
        _, name = await alerts_q.taker(deps.db, alert.id)
        return False, name or "-"
    midwife_name = await deps.db.fetchval("SELECT display_name FROM midwife WHERE user_id = ?",
                                             (midwife_id,)) or fallback_name or "-"
    await _show_taken(deps, mother, alert, midwife_name, now)
    await _tell_family_taken(deps, mother, alert, midwife_name)
    return True, midwife_name


async def _show_taken(deps: Deps, mother: Mother, alert: Alert, midwife_name: str, now: datetime) -> None:
    clinic = await clinics.get_clinic(deps.db, mother.clinic_id)
    for midwife_id, message_id in await alerts_q.midwife_copies(deps.db, alert.id):
        row = await users.get_user(deps.db, midwife_id)
        if row is None or clinic is None:
            continue
        lang = row.language
        text = _midwife_text(deps, mother, clinic, alert, alert.report_day, lang) + "\n\n" + deps.texts.t(
            lang, "alerting.take.note", midwife=midwife_name, when=_when(iso(now), clinic.timezone))
        await deps.notifier.edit(midwife_id, message_id, text, _alert_buttons(deps, mother, alert, lang, taken=True))


async def _tell_family_taken(deps: Deps, mother: Mother, alert: Alert, midwife_name: str) -> None:
    clinic = await clinics.get_clinic(deps.db, mother.clinic_id) if mother.clinic_id else None
    t = deps.texts.t
    people = [mother.user_id, *await companions.companion_ids(deps.db, mother.user_id)]
    for person in people:
        await _deliver(deps, alert, person, "mother" if person == mother.user_id else "companion",
                       lambda lang: t(lang, "alerting.family.taken", midwife=midwife_name,
                                      clinic=clinic.name if clinic else "", mother=mother.display_name,
                                      contacts=contact_block(deps.texts, lang, clinic)))


# ----------------------------------------------------------------- escalation
async def escalate(deps: Deps, now: datetime) -> int:
    """Alerts nobody took in time go again to every midwife of the clinic (also those who once
    blocked the bot), its coordinator and the administrators. Returns how many were escalated."""
    escalated = 0
    for alert in await alerts_q.due_for_escalation(deps.db, now):
        if not await alerts_q.mark_escalated(deps.db, alert.id, now):
            continue
        escalated += 1
        mother = await mothers_q.get_mother(deps.db, alert.mother_id)
        if mother is None:
            continue
        clinic = await clinics.get_clinic(deps.db, mother.clinic_id) if mother.clinic_id else None
        t = deps.texts.t
        minutes, hours = await alerts_q.escalation_delays(deps.db, mother.clinic_id)

        def text(lang: str) -> str:
            head = t(lang, "alerting.escalation.urgent" if alert.urgent else "alerting.escalation.warning",
                     minutes=minutes, hours=hours)
            body = _midwife_text(deps, mother, clinic or Clinic(0, "-", mother.timezone, ""), alert,
                                 alert.report_day, lang)
            return f"{head}\n\n{body}"

        recipients: list[tuple[int, str]] = []
        coordinators: set[int] = set()
        if clinic is not None:
            recipients += [(m, "midwife") for m in await clinics.clinic_all_midwife_ids(deps.db, clinic.id)]
            coordinators = set(await alerts_q.coordinator_ids(deps.db, clinic.id))
        recipients += [(a, "admin") for a in deps.settings.admin_telegram_ids
                       if await users.get_user(deps.db, a) is not None and (a, "midwife") not in recipients]
        for recipient, kind in recipients:
            words = text if recipient not in coordinators else (
                lambda lang: t(lang, "alerting.escalation.coordinator") + "\n" + text(lang))
            await _deliver(deps, alert, recipient, kind, words, _record_button(deps, mother, alert))
    return escalated
