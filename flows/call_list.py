"""The midwife's daily call list: whom to contact today (domain/call_list.py has the rules).

Sent each morning at the clinic's `call_list_time` (07:00 by default) in the clinic's zone,
once a day per midwife (also after a restart or downtime), and shown on demand with
/hubungi (/calls) or from her menu. Each mother has a button to her record.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.jobs import in_unit_of_work
from bot.actor import load_actor
from db.queries import call_list as call_q
from db.queries import users
from db.queries.clinic_scope import NotAMidwife
from domain.age import day_of_life
from domain.call_list import CallItem
from flows import menu
from flows.commands import names
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)
COMMANDS = names("calls")
MAX_SHOWN = 20
CHECK_EVERY = timedelta(minutes=5)
ICONS = {"urgent": "🚨", "question": "❓", "milk_not_out": "🟠", "few_feeds": "🍼", "few_nappies": "🍼",
         "no_report": "❔"}


def _waited(since: datetime | None, now: datetime, texts, lang: str) -> str:
    if since is None:
        return ""
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 120:
        return texts.t(lang, "call_list.minutes", n=minutes)
    if minutes < 48 * 60:
        return texts.t(lang, "call_list.hours", n=minutes // 60)
    return texts.t(lang, "call_list.days", n=minutes // 1440)


def render(texts, lang: str, clinic: str, zone: str, items: list[CallItem], facts_day, now: datetime):
    """The list as one message and its buttons (one per mother shown)."""
    t = texts.t
    today = now.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y")
    if not items:
        return t(lang, "call_list.empty", clinic=clinic, date=today), None
    lines = [t(lang, "call_list.title", clinic=clinic, date=today, n=len(items))]
    for number, item in enumerate(items[:MAX_SHOWN], 1):
        reasons = ", ".join(t(lang, f"call_list.reasons.{r}") for r in item.reasons)
        waited = _waited(item.since, now, texts, lang)
        taken = t(lang, "call_list.taken_by", midwife=item.taken_by) if item.taken_by else ""
        lines.append(t(lang, "call_list.line", n=number, icon=ICONS[item.reasons[0]], name=item.name,
                       day=facts_day(item.mother_id), reasons=reasons,
                       waited=f" ({waited})" if waited else "", taken=taken))
    if len(items) > MAX_SHOWN:
        lines.append(t(lang, "call_list.more", n=len(items) - MAX_SHOWN))
    buttons = [[(f"{n}. {item.name}", f"mw:rec:{item.mother_id}")] for n, item in enumerate(items[:MAX_SHOWN], 1)]
    return "\n".join(lines), keyboard(buttons)


async def _build(db, texts, lang: str, midwife_id: int, now: datetime):
    clinic, zone, items = await call_q.call_list_of(db, midwife_id, now)
    mothers = {}
    for facts in await call_q.facts_of_clinic(db, await db.fetchval(
            "SELECT clinic_id FROM midwife WHERE user_id = ?", (midwife_id,))):
        mothers[facts.mother.user_id] = day_of_life(facts.mother, now)
    return render(texts, lang, clinic, zone, items, lambda mother_id: mothers.get(mother_id, "?"), now)


async def show(update: Update, context) -> None:
    """/hubungi, or the menu button: the list now."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    try:
        text, markup = await _build(context.db, context.texts, actor.lang, actor.user_id, context.clock.now())
    except NotAMidwife:
        await send(update, context.texts.t(actor.lang, "midwife.only_midwives"))
        return
    await send(update, text, markup)


async def send_due(app: Application, now: datetime) -> int:
    """Each midwife whose clinic's morning time has come today and who has not had today's list."""
    db, texts, sent = app.services.db, app.services.texts, 0
    for midwife_id, zone, at, sent_on in await call_q.midwives_due(db):
        local = now.astimezone(ZoneInfo(zone))
        today = local.date().isoformat()
        if (sent_on or "") >= today or local.strftime("%H:%M") < at:
            continue
        row = await users.get_user(db, midwife_id)
        if row is None or not await call_q.mark_sent(db, midwife_id, today):
            continue
        try:
            text, markup = await _build(db, texts, row.language, midwife_id, now)
            await app.bot.send_message(midwife_id, text, reply_markup=markup)
            sent += 1
        except NotAMidwife:
            continue
        except Forbidden:
            await users.set_active(db, midwife_id, False)
        except TelegramError as exc:  # try again at the next check
            log.warning("call list not sent: %s", type(exc).__name__)
            await db.execute("UPDATE midwife SET call_list_sent_on = ? WHERE user_id = ?", (sent_on, midwife_id))
    return sent


async def _job(context) -> None:
    await send_due(context.application, context.application.services.clock.now())


async def _on_clock_advanced(app: Application) -> None:
    await send_due(app, app.services.clock.now())


def register(app: Application) -> None:
    app.add_handler(CommandHandler(COMMANDS, show))
    app.add_handler(CallbackQueryHandler(show, pattern=r"^menu:call_list$"))
    menu.add_menu_items("midwife", ["call_list"], 0)
    app.services.clock_hooks.append(_on_clock_advanced)
    if app.job_queue is not None:
        app.job_queue.run_repeating(in_unit_of_work(_job), interval=CHECK_EVERY, first=timedelta(seconds=10), name="call_list")
