"""Milk-flow reports: /lapor (the report flow), /riwayat (her history), the offer after a
massage session, the inactivity check, and the alerts these raise.

The milk-flow answer is stored the moment it is given; the danger-sign checklist comes right
after it (so nobody who stops early is unscreened), then the optional answers (feeds, wet
nappies, breasts) fill in the same report, so nothing is lost if she stops half way. Each rule
that fires gives the reporter advice at once and tells the clinic's midwives once
(domain/alerts.py has the rules, db/queries/reports.py the rows).

One message, edited as she answers: Telegram counts an edit like a send (about one request a
second per chat, about 30 a second overall; answering a button press is free), so each button
step costs one request. The message whose button was pressed becomes a short recap of what is
saved ("Tersimpan: ✓ ASI lancar, ✓ Tanda bahaya: tidak ada, ...", the danger list collapsed into
one line) and the next question with its buttons; at the end, the recap, the thanks and the
menu's buttons (`_go_on`, with `edit_or_send` of flows/ui.py). Advice of a rule that fired is a
message of its own: then the pressed message becomes the recap alone, the advice follows, and
the next question (or the end) comes last, as new messages. A typed count cannot be edited: the
next question is sent. A message that cannot be edited (too old, deleted, a photo, unchanged
when an update is handled again) gets its buttons closed and the step as a new message.
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.jobs import in_unit_of_work
from bot.actor import Actor, load_actor
from bot.clock import iso, parse_iso
from db.queries import care, mothers, reports
from db.queries.mothers import Mother
from db.queries.reports import FLOWS, Report
from domain import alerts
from domain.alerts import Cause
from flows import menu
from usecases import alerts as alert_cases
from usecases.contacts import contact_block_for_mother
from flows.global_commands import flow_fallbacks
from flows.ui import answer_press, close_buttons, edit_or_send, keyboard, send
from flows.commands import names
from usecases import reports as report_cases

log = logging.getLogger(__name__)

WHICH, FLOW, FEEDS, WET, BREASTS, DANGER = "which", "flow", "feeds", "wet", "breasts", "danger"
END = ConversationHandler.END
DRAFT = "report"                       # key of the draft in user_data
DRAFT_LIFETIME = timedelta(hours=6)    # an abandoned report stops catching her messages after this
REPORT_COMMANDS = names("report")
HISTORY_COMMANDS = names("history")
FEED_BUTTONS = list(range(0, 17))     # 0-16 as buttons; any 0-40 may be typed
FEED_ROW = 6
WET_BUTTONS = list(range(0, 6))
SIX_OR_MORE = 6
MAX_FEEDS, MAX_WET = 40, 30
INACTIVITY_CHECK_EVERY = timedelta(hours=1)
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(x|×|kali|times)?\s*$", re.IGNORECASE)
_chart_lock = threading.Lock()


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, key, **values)


# ----------------------------------------------------------------- the draft
def _draft(context) -> dict | None:
    draft = context.user_data.get(DRAFT) if context.user_data is not None else None
    if not isinstance(draft, dict):
        return None
    if context.clock.now() - parse_iso(draft["at"]) > DRAFT_LIFETIME:
        return None
    return draft


def _new_draft(context, mother_id: int | None, report_id: int | None = None) -> dict:
    draft = {"mother": mother_id, "id": report_id, "danger": [], "at": iso(context.clock.now())}
    context.user_data[DRAFT] = draft
    return draft


async def _draft_report(context) -> tuple[dict, Report, Mother] | None:
    draft = _draft(context)
    if draft is None or draft.get("id") is None:
        return None
    report = await reports.get_report(context.db, draft["id"])
    mother = await mothers.get_mother(context.db, draft["mother"])
    if report is None or mother is None:
        return None
    return draft, report, mother


async def _lost_draft(update: Update, context, actor: Actor) -> int:
    """The draft is gone (expired, deleted, another flow cleared it): say so, back to the menu."""
    context.user_data.pop(DRAFT, None)
    if update.callback_query is not None:
        await close_buttons(update, alert=_t(context, actor.lang, "common.stale_button_short"))
    await send(update, _t(context, actor.lang, "reports.expired"))
    await menu.show_menu(update, context, actor)
    return END


# ----------------------------------------------------------------- questions
Question = tuple[str, InlineKeyboardMarkup]     # a question's text and its buttons
Advice = tuple[str, InlineKeyboardMarkup | None]  # a rule's advice, a message of its own


def flow_markup(texts, lang: str, data_prefix: str, extra_rows: list | None = None) -> InlineKeyboardMarkup:
    """The three milk-flow answers as buttons `<data_prefix><flow>` (and any rows after them)."""
    return keyboard(list(report_cases.flow_buttons(texts, lang, data_prefix)) + list(extra_rows or []))


def flow_question(context, actor: Actor, mother: Mother) -> Question:
    if actor.user_id == mother.user_id:
        question = _t(context, actor.lang, "reports.flow_question_self")
    else:
        question = _t(context, actor.lang, "reports.flow_question", mother=mother.display_name)
    return question, flow_markup(context.texts, actor.lang, "rep:f:")


def feeds_question(context, actor: Actor) -> Question:
    numbers = [(str(n), f"rep:feeds:{n}") for n in FEED_BUTTONS]
    rows = [numbers[i:i + FEED_ROW] for i in range(0, len(numbers), FEED_ROW)]
    rows.append([(_t(context, actor.lang, "reports.skip"), "rep:feeds:skip")])
    return _t(context, actor.lang, "reports.feeds_question"), keyboard(rows)


def wet_question(context, actor: Actor) -> Question:
    numbers = [(str(n), f"rep:wet:{n}") for n in WET_BUTTONS]
    rows = [numbers[:3], numbers[3:],
            [(_t(context, actor.lang, "reports.six_or_more"), f"rep:wet:{SIX_OR_MORE}")],
            [(_t(context, actor.lang, "reports.skip"), "rep:wet:skip")]]
    return _t(context, actor.lang, "reports.wet_question"), keyboard(rows)


def breasts_question(context, actor: Actor) -> Question:
    rows = [[(_t(context, actor.lang, f"reports.breasts.{b}"), f"rep:br:{b}")] for b in reports.BREASTS]
    rows.append([(_t(context, actor.lang, "reports.skip"), "rep:br:skip")])
    return _t(context, actor.lang, "reports.breasts_question"), keyboard(rows)


async def ask_flow(update: Update, context, actor: Actor, mother: Mother) -> str:
    await send(update, *flow_question(context, actor, mother))
    return FLOW


async def ask_feeds(update: Update, context, actor: Actor) -> str:
    await send(update, *feeds_question(context, actor))
    return FEEDS


async def ask_wet(update: Update, context, actor: Actor) -> str:
    await send(update, *wet_question(context, actor))
    return WET


async def ask_breasts(update: Update, context, actor: Actor) -> str:
    await send(update, *breasts_question(context, actor))
    return BREASTS


DANGER_GROUPS = (("mother", "now"), ("mother", "soon"), ("baby", "now"), ("baby", "soon"))
DANGER_ROW = 2


def _danger_items(texts, lang: str) -> list[dict]:
    """The checklist in display order: mother go-now, mother soon, baby go-now, baby soon."""
    items = texts.data(lang, "reports.danger_signs")
    return [item for who, urgency in DANGER_GROUPS for item in items
            if item["who"] == who and item["urgency"] == urgency]


def urgent_sign_ids(texts, lang: str = "id") -> set[str]:
    return {item["id"] for item in texts.data(lang, "reports.danger_signs") if item["urgency"] == "now"}


def danger_list_text(texts, lang: str) -> str:
    """The whole checklist as numbered lines under four headings (the question's text)."""
    parts, number = [], 0
    for who, urgency in DANGER_GROUPS:
        lines = [texts.t(lang, f"reports.danger_groups.{who}_{urgency}")]
        for item in texts.data(lang, "reports.danger_signs"):
            if item["who"] == who and item["urgency"] == urgency:
                number += 1
                lines.append(f"{number}. {item['label']}")
        parts.append("\n".join(lines))
    return texts.t(lang, "reports.danger_question", signs="\n\n".join(parts))


def _gate_markup(texts, lang: str) -> InlineKeyboardMarkup:
    return keyboard([[(texts.t(lang, "reports.danger_none"), "rep:ds:none"),
                      (texts.t(lang, "reports.danger_yes"), "rep:ds:yes")]])


def _danger_markup(texts, lang: str, chosen: list[str]) -> InlineKeyboardMarkup:
    buttons = [(("☑️ " if item["id"] in chosen else "◻️ ") + f"{number} {item['button']}", f"rep:ds:{item['id']}")
               for number, item in enumerate(_danger_items(texts, lang), start=1)]
    rows = [buttons[i:i + DANGER_ROW] for i in range(0, len(buttons), DANGER_ROW)]
    rows.append([(texts.t(lang, "reports.danger_none"), "rep:ds:none"),
                 (texts.t(lang, "reports.danger_done"), "rep:ds:done")])
    return keyboard(rows)


def danger_question(context, actor: Actor) -> Question:
    """The list with "none" / "yes"; after "yes" (or when asked again later) the list stays above
    the tick buttons, numbered like them."""
    draft = _draft(context) or {}
    text = danger_list_text(context.texts, actor.lang)
    if draft.get("picking"):
        return (f"{text}\n\n{_t(context, actor.lang, 'reports.danger_pick')}",
                _danger_markup(context.texts, actor.lang, draft.get("danger", [])))
    return text, _gate_markup(context.texts, actor.lang)


async def ask_danger(update: Update, context, actor: Actor) -> str:
    await send(update, *danger_question(context, actor))
    return DANGER


ASK = {FEEDS: ask_feeds, WET: ask_wet, BREASTS: ask_breasts, DANGER: ask_danger}
QUESTION = {FEEDS: feeds_question, WET: wet_question, BREASTS: breasts_question, DANGER: danger_question}


# ----------------------------------------------------------------- the recap
def recap_text(texts, lang: str, report: Report, skipped=(), mother_name: str | None = None) -> str:
    """What is stored so far, one short line per answer (`skipped`: steps answered "skip"), under
    "Saved:" (with the mother's name when a companion reports). A danger-sign answer is one line."""
    t = texts.t
    lines = [t(lang, "reports.recap.title") if mother_name is None
             else t(lang, "reports.recap.title_other", mother=mother_name),
             t(lang, "reports.recap.flow", flow=t(lang, f"reports.flow.{report.milk_flow}"))]
    if report.danger_signs is not None:
        if report.danger_signs:
            buttons = {item["id"]: item["button"] for item in _danger_items(texts, lang)}
            lines.append(t(lang, "reports.recap.danger",
                           signs="; ".join(buttons.get(s, s) for s in report.danger_signs)))
        else:
            lines.append(t(lang, "reports.recap.danger_none"))
    answers = ((FEEDS, report.feeds_24h, lambda n: t(lang, "reports.recap.feeds", n=n)),
               (WET, report.wet_nappies_24h, lambda n: t(lang, "reports.recap.wet", n=n)),
               (BREASTS, report.breasts,
                lambda b: t(lang, "reports.recap.breasts", breasts=t(lang, f"reports.breasts.{b}"))))
    for step, value, line in answers:
        if value is not None:
            lines.append(line(value))
        elif step in skipped:
            lines.append(t(lang, "reports.recap.skipped", what=t(lang, f"reports.recap.what.{step}")))
    return "\n".join(lines)


def _recap(context, actor: Actor, mother: Mother, report: Report) -> str:
    draft = _draft(context) or {}
    name = None if actor.user_id == mother.user_id else mother.display_name
    return recap_text(context.texts, actor.lang, report, draft.get("skipped", ()), name)


def _skipped(context, step: str) -> None:
    draft = _draft(context)
    if draft is not None and step not in draft.setdefault("skipped", []):
        draft["skipped"].append(step)


async def _go_on(update: Update, context, actor: Actor, mother: Mother, report: Report, note: str,
                 advice: list[Advice], next_step: str | None, urgent: bool = False) -> str | int:
    """An answer is stored (and the press answered, `answer_press`): show what is saved and what
    comes next (`next_step`; None: the end, `urgent` when a go-now rule cut it short).

    Telegram counts an edit like a send, per chat and overall, so the normal case costs one
    request: the message whose button was pressed becomes the recap and the next question (or,
    at the end, the thanks with the menu's buttons). Advice of a rule that fired must be read as
    its own message: then that message becomes the recap alone, the advice follows, and the next
    question (or the end) comes last, as new messages. A typed answer cannot be edited: the
    advice and the next question are sent (`note` is what `close_buttons` would append when the
    edit fails, see flows/ui.py)."""
    recap = _recap(context, actor, mother, report)
    if next_step is None:
        context.user_data.pop(DRAFT, None)
        text = _t(context, actor.lang, "reports.urgent_stop" if urgent else "reports.done")
        markup = menu.menu_markup(context.texts, actor)
    else:
        text, markup = QUESTION[next_step](context, actor)
    if update.callback_query is None:
        for said, buttons in advice:
            await send(update, said, buttons)
        await send(update, text, markup)
    elif not advice:
        await edit_or_send(update, f"{recap}\n\n{text}", markup, note, answered=True)
    else:
        await edit_or_send(update, recap, None, note, answered=True)
        for said, buttons in advice:
            await send(update, said, buttons)
        await send(update, text, markup)
    return END if next_step is None else next_step


# ----------------------------------------------------------------- entry
async def start(update: Update, context) -> str | int:
    """/lapor or the menu button: which mother (for a companion of several), then milk flow.
    The menu's message becomes the question (one request; /lapor sends it)."""
    actor = await load_actor(update, context)
    context.user_data.pop(DRAFT, None)
    found = await reports.reportable_mothers(context.db, actor.user_id, actor.role)
    if not found:
        await close_buttons(update)
        key = "reports.no_mothers" if actor.role == "companion" else "reports.not_allowed"
        await send(update, _t(context, actor.lang, key))
        return END
    if len(found) > 1:
        _new_draft(context, None)
        await edit_or_send(update, *which_question(context, actor, found))
        return WHICH
    _new_draft(context, found[0].user_id)
    await edit_or_send(update, *flow_question(context, actor, found[0]))
    return FLOW


def which_question(context, actor: Actor, found: list[Mother]) -> Question:
    """A companion of several mothers: for which one is this report?"""
    return (_t(context, actor.lang, "reports.choose_mother"),
            keyboard([[(m.display_name, f"rep:m:{m.user_id}")] for m in found]))


async def ask_which(update: Update, context, actor: Actor) -> str:
    found = await reports.reportable_mothers(context.db, actor.user_id, actor.role)
    await send(update, *which_question(context, actor, found))
    return WHICH


async def mother_chosen(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    mother = await reports.may_report_for(context.db, actor.user_id, actor.role, _last_int(update))
    if mother is None:
        return await _refuse(update, context, actor)
    _new_draft(context, mother.user_id)
    await edit_or_send(update, *flow_question(context, actor, mother), note=mother.display_name)
    return FLOW


async def flow_chosen(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    draft = _draft(context)
    mother = await mothers.get_mother(context.db, draft["mother"]) if draft and draft["mother"] else None
    if mother is None or draft.get("id") is not None:
        return await _lost_draft(update, context, actor)
    flow = update.callback_query.data.rsplit(":", 1)[1]
    return await _save_flow(update, context, actor, mother, flow)


async def offer_chosen(update: Update, context) -> str | int:
    """One tap on the offer after a session or on the check-in: `rep:o:<mother id>:<flow>`."""
    actor = await load_actor(update, context)
    _, _, mother_id, flow = update.callback_query.data.split(":")
    mother = await reports.may_report_for(context.db, actor.user_id, actor.role, int(mother_id))
    if mother is None:
        return await _refuse(update, context, actor)
    context.user_data.pop(DRAFT, None)
    return await _save_flow(update, context, actor, mother, flow)


async def _refuse(update: Update, context, actor: Actor) -> int:
    """A button for a mother this user may not report for (forged, or the link was removed)."""
    await close_buttons(update, alert=_t(context, actor.lang, "common.stale_button_short"))
    context.user_data.pop(DRAFT, None)
    await menu.show_menu(update, context, actor)
    return END


async def _save_flow(update: Update, context, actor: Actor, mother: Mother, flow: str) -> str | int:
    """The milk-flow answer of /lapor or an offer: stored, judged, then the danger signs."""
    await answer_press(update)  # before the alert to the midwives, which may take a moment
    report = await _store_flow(context, actor, mother, flow, update.update_id)
    _new_draft(context, mother.user_id, report.id)
    judged = await report_cases.judge_flow(context.services.deps, mother, report, actor.user_id)
    return await _go_on(update, context, actor, mother, report, _t(context, actor.lang, f"reports.flow.{flow}"),
                        await _advice(context, actor, mother, judged), DANGER)


async def _store_flow(context, actor: Actor, mother: Mother, flow: str, update_id: int | None = None) -> Report:
    return await report_cases.file_report(context.services.deps, mother=mother, reported_by=actor.user_id,
                                          flow=flow, update_id=update_id)  # once per update


async def _flow_stored(update: Update, context, actor: Actor, mother: Mother, report: Report) -> bool:
    """The baseline's answer: say it is saved, then the milk rule's advice and alert; True when
    it says go now. (/lapor shows "saved" in its recap instead, see `_go_on`.)"""
    await send(update, _t(context, actor.lang, "reports.flow_saved",
                          flow=_t(context, actor.lang, f"reports.flow.{report.milk_flow}")))
    judged = await report_cases.judge_flow(context.services.deps, mother, report, actor.user_id)
    return await _advise(update, context, actor, mother, judged)


async def save_baseline(update: Update, context, actor: Actor, mother: Mother, flow: str) -> bool:
    """The one-tap answer to "before the first massage: how is the milk now?" (flows/timer.py,
    flows/reminders.py): stored and judged like the first answer of /lapor, without the questions
    after it, so the massage goes on at once. Its phase is 'pre' (no session logged yet; see
    domain/phases.py). True when the milk rule says go now (then no massage)."""
    report = await _store_flow(context, actor, mother, flow, update.update_id)
    return await _flow_stored(update, context, actor, mother, report)


async def baseline_due(db, mother_id: int) -> bool:
    """No report and no session of hers yet (a baseline can still be 'pre'), and her baby is
    alive (after a loss no milk report is asked for)."""
    return not await reports.has_report_or_session(db, mother_id) and not await care.is_loss(db, mother_id)


async def ask_baseline(update: Update, context, actor: Actor, mother: Mother, data_prefix: str) -> None:
    """"Before the first massage: how is the milk now?" with the three answers and "Lewati"
    (`<data_prefix><flow|skip>`); the caller goes on with the massage once it is answered."""
    texts, lang = context.texts, actor.lang
    question = (texts.t(lang, "baseline.before_first_self") if actor.user_id == mother.user_id
                else texts.t(lang, "baseline.before_first_other", mother=mother.display_name))
    await send(update, question, flow_markup(texts, lang, data_prefix,
                                             [[(texts.t(lang, "baseline.skip"), f"{data_prefix}skip")]]))


# ----------------------------------------------------------------- optional answers
async def feeds_button(update: Update, context) -> str | int:
    return await _number_answer(update, context, "feeds_24h", update.callback_query.data.rsplit(":", 1)[1])


async def feeds_typed(update: Update, context) -> str | int:
    return await _number_answer(update, context, "feeds_24h", update.message.text, typed=True)


async def wet_button(update: Update, context) -> str | int:
    return await _number_answer(update, context, "wet_nappies_24h", update.callback_query.data.rsplit(":", 1)[1])


async def wet_typed(update: Update, context) -> str | int:
    return await _number_answer(update, context, "wet_nappies_24h", update.message.text, typed=True)


def parse_count(text: str | None, most: int) -> int | None:
    """A count typed by hand: '8', '8x', '8 kali'; None if it is not one."""
    match = _NUMBER.match(text or "")
    if not match or int(match.group(1)) > most:
        return None
    return int(match.group(1))


async def _number_answer(update: Update, context, column: str, raw: str, typed: bool = False) -> str | int:
    actor = await load_actor(update, context)
    state = FEEDS if column == "feeds_24h" else WET
    found = await _draft_report(context)
    if found is None:
        return await _lost_draft(update, context, actor)
    _, report, mother = found
    value = None
    if raw != "skip":
        value = parse_count(raw, MAX_FEEDS if state == FEEDS else MAX_WET)
        if value is None:
            await send(update, _t(context, actor.lang, "reports.number_invalid"))
            return await ASK[state](update, context, actor)
    else:
        _skipped(context, state)
    await answer_press(update)  # before the alert to the midwives, which may take a moment
    label = _t(context, actor.lang, "reports.skip") if value is None else (
        _t(context, actor.lang, "reports.six_or_more") if state == WET and value == SIX_OR_MORE else str(value))
    deps = context.services.deps
    if state == FEEDS:
        judged = await report_cases.record_feeds(deps, mother, report, value, actor.user_id)
        advice = await _advice(context, actor, mother, judged)
        if judged.cause is None and value is not None and value < alerts.FEEDS_NEEDED:  # the first day of life
            advice.append((_t(context, actor.lang, "reports.advice.few_feeds_first_day.text"), None))
        if judged.urgent:
            return await _go_on(update, context, actor, mother, judged.report, label, advice, None, urgent=True)
        return await _go_on(update, context, actor, mother, judged.report, label, advice, WET)
    judged = await report_cases.record_wet_nappies(deps, mother, report, value, actor.user_id)
    return await _go_on(update, context, actor, mother, judged.report, label,
                        await _advice(context, actor, mother, judged), BREASTS)


async def breasts_chosen(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    found = await _draft_report(context)
    if found is None:
        return await _lost_draft(update, context, actor)
    _, report, mother = found
    choice = update.callback_query.data.rsplit(":", 1)[1]
    value = None if choice == "skip" else choice
    if value is None:
        _skipped(context, BREASTS)
    await answer_press(update)
    report = await report_cases.record_breasts(context.services.deps, report, value)
    advice = [(_t(context, actor.lang, "reports.advice.hard_painful.text"), None)] if value == "hard_painful" else []
    note = _t(context, actor.lang, "reports.skip" if value is None else f"reports.breasts.{value}")
    return await _go_on(update, context, actor, mother, report, note, advice, None)


async def danger_yes(update: Update, context) -> str | int:
    """"Yes, there is": the same message becomes the tick buttons, numbered like the list."""
    actor = await load_actor(update, context)
    found = await _draft_report(context)
    if found is None:
        return await _lost_draft(update, context, actor)
    draft, report, mother = found
    draft["picking"] = True
    text, markup = danger_question(context, actor)
    await edit_or_send(update, f"{_recap(context, actor, mother, report)}\n\n{text}", markup,
                       _t(context, actor.lang, "reports.danger_yes"))
    return DANGER


async def danger_toggled(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    found = await _draft_report(context)
    sign = update.callback_query.data.rsplit(":", 1)[1]
    known = {item["id"] for item in _danger_items(context.texts, actor.lang)}
    if found is None or sign not in known:
        return await _lost_draft(update, context, actor)
    draft = found[0]
    draft["picking"] = True
    chosen = draft.setdefault("danger", [])
    chosen.remove(sign) if sign in chosen else chosen.append(sign)
    await update.callback_query.answer()
    try:
        await update.callback_query.edit_message_reply_markup(_danger_markup(context.texts, actor.lang, chosen))
    except BadRequest as exc:  # an older copy of the checklist: the choice still counts
        log.debug("could not update the checklist: %s", exc.message)
    return DANGER


async def danger_finished(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    found = await _draft_report(context)
    if found is None:
        return await _lost_draft(update, context, actor)
    draft, report, mother = found
    order = [item["id"] for item in _danger_items(context.texts, actor.lang)]
    none = update.callback_query.data.endswith(":none")
    chosen = [] if none else [s for s in order if s in draft.get("danger", [])]
    if not none and not chosen:  # "Done" with nothing ticked: ask to tick, or press "None"
        await update.callback_query.answer(_t(context, actor.lang, "reports.danger_pick_empty"), show_alert=True)
        return DANGER
    await answer_press(update)  # before the alerts, which may take a moment
    labels = _sign_labels(context.texts, actor.lang, chosen)
    note = ", ".join(labels) if chosen else _t(context, actor.lang, "reports.danger_none")
    judged = await report_cases.record_danger_signs(context.services.deps, mother, report, chosen,
                                                    urgent_sign_ids(context.texts), actor.user_id)
    draft.pop("picking", None)
    advice = await _advice(context, actor, mother, judged)
    if judged.urgent:  # go now: no more questions
        return await _go_on(update, context, actor, mother, judged.report, note, advice, None, urgent=True)
    after = FEEDS if await care.baby_questions_apply(context.db, mother.user_id) else BREASTS  # hospital
    return await _go_on(update, context, actor, mother, judged.report, note, advice, after)


# ----------------------------------------------------------------- rules: advice and alerts
def _sign_labels(texts, lang: str, signs: list[str] | tuple[str, ...]) -> list[str]:
    labels = {item["id"]: item["label"] for item in _danger_items(texts, lang)}
    return [labels.get(sign, sign) for sign in signs]


def advice_text(texts, lang: str, cause: Cause, day: int) -> str:
    """What the reporter reads at once when a rule fires; `day` is the day of life of the report."""
    if cause.cause == "danger_sign":
        signs = [s for s in cause.detail.split(",") if s]
        parts = []
        if "self_harm" in signs:  # its own advice: stay with her, 119 now, her midwife
            parts.append(texts.t(lang, "reports.advice.self_harm.text"))
            signs.remove("self_harm")
        if signs:
            urgent = urgent_sign_ids(texts, lang)
            key = "danger_now" if urgent & set(signs) else "danger_soon"
            bullets = "\n".join(f"• {label}" for label in _sign_labels(texts, lang, signs))
            parts.append(texts.t(lang, f"reports.advice.{key}.text", signs=bullets))
        return "\n\n".join(parts)
    if cause.cause == "milk_not_out":
        return texts.t(lang, "reports.advice.milk_not_out.text", day=day)
    if cause.cause == "few_wet_nappies":
        wet, needed = cause.detail.split("/")
        return texts.t(lang, "reports.advice.few_wet_nappies.text", day=day, wet=wet, needed=needed)
    if cause.cause in ("few_feeds", "not_feeding"):
        return texts.t(lang, f"reports.advice.{cause.cause}.text", feeds=cause.detail, day=day)
    raise ValueError(f"no advice for {cause.cause}")


async def _advice(context, actor: Actor, mother: Mother, judged: report_cases.Judged) -> list[Advice]:
    """The advice of the rule that fired (its alert is raised already), as the message to send:
    none when no rule fired."""
    if judged.cause is None:
        return []
    text = advice_text(context.texts, actor.lang, judged.cause, judged.day)
    # every advice carries her Puskesmas's number and 112 / 119 (usecases/contacts.py)
    text += "\n\n" + await contact_block_for_mother(context.db, context.texts, actor.lang, mother.user_id)
    if judged.told:
        text += "\n\n" + _t(context, actor.lang, "reports.clinic_told")
    # every advice carries the way to ask the midwife (flows/questions.py)
    return [(text, keyboard([[(_t(context, actor.lang, "questions.menu_label"), "menu:questions")]]))]


async def _advise(update: Update, context, actor: Actor, mother: Mother, judged: report_cases.Judged) -> bool:
    """Send the advice of the rule that fired; True when it says go now."""
    for text, markup in await _advice(context, actor, mother, judged):
        await send(update, text, markup)
    return judged.urgent


async def resend_untold_alerts(app: Application, now: datetime) -> int:
    """Open alerts no midwife has received yet: try again (usecases/alerts.py)."""
    return await alert_cases.resend_untold(app.services.deps, now)


# ----------------------------------------------------------------- wrong input
def _reask(state: str):
    async def handler(update: Update, context) -> str | int:
        actor = await load_actor(update, context)
        draft = _draft(context)
        mother = await mothers.get_mother(context.db, draft["mother"]) if draft and draft["mother"] else None
        if draft is None or (state != WHICH and mother is None):
            return await _lost_draft(update, context, actor)
        if update.callback_query is not None:
            await update.callback_query.answer(_t(context, actor.lang, "common.stale_button_short"))
        await send(update, _t(context, actor.lang, "reports.use_buttons"))
        if state == FLOW:
            return await ask_flow(update, context, actor, mother)
        if state == WHICH:
            return await ask_which(update, context, actor)
        return await ASK[state](update, context, actor)

    return handler


def _stay(state: str) -> list:
    """Anything else in this state: a stale `rep:` button, a sticker, text where a button was
    expected. Other buttons and commands fall through to their own handlers."""
    return [CallbackQueryHandler(_reask(state), pattern=r"^rep:"),
            MessageHandler(filters.ALL & ~filters.COMMAND, _reask(state))]


def _leaving(callback):
    async def handler(update: Update, context) -> int:
        context.user_data.pop(DRAFT, None)
        await callback(update, context)
        return END

    return handler


def build() -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler(REPORT_COMMANDS, start),
                      CallbackQueryHandler(start, pattern=r"^menu:reports$"),
                      CallbackQueryHandler(offer_chosen, pattern=r"^rep:o:\d+:(not_out|not_smooth|smooth)$")],
        states={
            WHICH: [CallbackQueryHandler(mother_chosen, pattern=r"^rep:m:\d+$"), *_stay(WHICH)],
            FLOW: [CallbackQueryHandler(flow_chosen, pattern=r"^rep:f:(not_out|not_smooth|smooth)$"), *_stay(FLOW)],
            FEEDS: [CallbackQueryHandler(feeds_button, pattern=r"^rep:feeds:(\d+|skip)$"),
                    MessageHandler(text, feeds_typed), *_stay(FEEDS)],
            WET: [CallbackQueryHandler(wet_button, pattern=r"^rep:wet:(\d+|skip)$"),
                  MessageHandler(text, wet_typed), *_stay(WET)],
            BREASTS: [CallbackQueryHandler(breasts_chosen, pattern=r"^rep:br:(soft|full|hard_painful|skip)$"),
                      *_stay(BREASTS)],
            DANGER: [CallbackQueryHandler(danger_finished, pattern=r"^rep:ds:(none|done)$"),
                     CallbackQueryHandler(danger_yes, pattern=r"^rep:ds:yes$"),
                     CallbackQueryHandler(danger_toggled, pattern=r"^rep:ds:\w+$"), *_stay(DANGER)],
        },
        fallbacks=[CommandHandler(HISTORY_COMMANDS, _leaving(history)), *flow_fallbacks()],
        name="reports",
        persistent=True,
        allow_reentry=True,
    )


# ----------------------------------------------------------------- /riwayat
async def history(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    found = await reports.reportable_mothers(context.db, actor.user_id, actor.role)
    if not found:
        key = "reports.no_mothers" if actor.role == "companion" else "reports.not_allowed"
        await send(update, _t(context, actor.lang, key))
        return
    if len(found) > 1:
        await send(update, _t(context, actor.lang, "reports.history.choose_mother"),
                   keyboard([[(m.display_name, f"rep:h:{m.user_id}")] for m in found]))
        return
    await show_history(update, context, actor, found[0])


async def history_chosen(update: Update, context) -> None:
    actor = await load_actor(update, context)
    mother = await reports.may_report_for(context.db, actor.user_id, actor.role, _last_int(update))
    if mother is None:
        await _refuse(update, context, actor)
        return
    await close_buttons(update, mother.display_name)
    await show_history(update, context, actor, mother)


HISTORY_LINES = 10


async def show_history(update: Update, context, actor: Actor, mother: Mother) -> None:
    lang, zone = actor.lang, ZoneInfo(mother.timezone)
    found = await reports.reports_of(context.db, mother.user_id, limit=200)
    if not found:
        await send(update, _t(context, lang, "reports.history.empty", mother=mother.display_name))
        return
    lines = [_t(context, lang, "reports.history.title", mother=mother.display_name)]
    for report in found[:HISTORY_LINES]:
        when = parse_iso(report.reported_at).astimezone(zone).strftime("%d/%m %H:%M")
        lines.append(_t(context, lang, "reports.history.line", day=report.postpartum_day, when=when,
                        flow=_t(context, lang, f"reports.flow.{report.milk_flow}"),
                        phase=_t(context, lang, f"reports.history.phase.{report.phase}")))
    if len(found) > HISTORY_LINES:
        lines.append(_t(context, lang, "reports.history.more", n=len(found) - HISTORY_LINES))
    sessions = await reports.sessions_of(context.db, mother.user_id, limit=200)
    lines.append("")
    lines.append(_t(context, lang, "reports.history.sessions", count=len(sessions)))
    await send(update, "\n".join(lines))
    png = await _history_chart(context, lang, mother, found, sessions)
    await update.effective_chat.send_photo(png)


def _fraction_day(mother: Mother, moment: str) -> float:
    local = parse_iso(moment).astimezone(ZoneInfo(mother.timezone))
    return (local.date() - mother.delivery_date).days + 1 + (local.hour * 60 + local.minute) / 1440


async def _history_chart(context, lang: str, mother: Mother, found: list[Report], sessions) -> bytes:
    from analysis.chart import milk_history_chart_png  # matplotlib loads only when a chart is drawn

    points = [(_fraction_day(mother, r.reported_at), FLOWS.index(r.milk_flow) + 1) for r in reversed(found)]
    session_days = [_fraction_day(mother, s.started_at) for s in sessions]
    words = dict(context.texts.data(lang, "reports.history.chart"))
    words["title"] = words["title"].format(mother=mother.display_name)

    def draw() -> bytes:
        with _chart_lock:
            return milk_history_chart_png(points, session_days, words)

    return await asyncio.to_thread(draw)


# ----------------------------------------------------------------- after a session; silence



async def check_inactivity(app: Application, now: datetime) -> int:
    """The silence rule, for every mother inside her reminder window; returns alerts opened.

    Called by the hourly job (with the injected clock's time), by the terminal demo after it
    moves the clock, and by tests. An open inactivity alert closes itself once she is active.
    """
    deps = app.services.deps  # type: ignore[attr-defined]
    db, settings = deps.db, deps.settings
    longest = max(settings.reminder_window_days, await db.fetchval("SELECT MAX(reminder_days) FROM clinic") or 0)
    earliest = now.date() - timedelta(days=longest + 1)
    opened = 0
    for quiet in await reports.quiet_mothers(db, earliest):
        if await care.is_loss(db, quiet.mother.user_id):  # the baby has died: no check-in
            continue
        if quiet.alert_open:
            if quiet.last_activity is not None and quiet.last_activity >= quiet.alert_opened_at:
                await reports.close_inactivity_alert(db, quiet.mother.user_id, now)
            continue
        window = quiet.clinic_reminder_days or settings.reminder_window_days
        day = reports.day_of(quiet.mother, now)
        if not alerts.is_inactive(now, quiet.quiet_since, day, window):
            continue
        raised = await alert_cases.raise_alert(deps, quiet.mother, Cause("inactive"), now=now, day=day)
        if raised.alert is None:
            continue
        opened += 1
        await report_cases.send_flow_buttons(deps, quiet.mother.user_id, quiet.mother,
                                             "reports.checkin.text", "reports.checkin.text")
    return opened


async def hourly(app: Application) -> None:
    """The periodic job: the silence rule, then alerts that did not reach a midwife yet."""
    now = app.services.clock.now()  # type: ignore[attr-defined]
    await check_inactivity(app, now)
    await resend_untold_alerts(app, now)


async def _hourly_job(context) -> None:
    await hourly(context.application)


# ----------------------------------------------------------------- wiring
def _last_int(update: Update) -> int:
    return int(update.callback_query.data.rsplit(":", 1)[1])


def register(app: Application) -> None:
    app.add_handler(build())
    app.add_handler(CommandHandler(HISTORY_COMMANDS, history))
    app.add_handler(CallbackQueryHandler(history, pattern=r"^menu:reports\.history$"))
    app.add_handler(CallbackQueryHandler(history_chosen, pattern=r"^rep:h:\d+$"))
    for role in ("mother", "companion"):
        menu.add_menu_items(role, ["reports", "reports.history"], 0)
    app.services.clock_hooks.append(hourly)  # type: ignore[attr-defined]
    if app.job_queue is not None:
        app.job_queue.run_repeating(in_unit_of_work(_hourly_job), interval=INACTIVITY_CHECK_EVERY,
                                    first=INACTIVITY_CHECK_EVERY, name="reports.inactivity")
