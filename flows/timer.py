"""A guided massage with a timer: one message shows the time left and where the thumbs go.

    gd:tm:<mother>             the check before every massage (flows/guide.py), then how long?
                               (3, 10 or 15 minutes); refused while she is on hold
    gd:go:<mother>:<minutes>   start: a `guided_session` row and the timer message; before her
                               first massage with no report yet, the baseline question first
    gd:bl:<mother>:<minutes>:<flow|skip>  its answer (a 'pre' report), then the timer
    gd:end:<session>:<done|stop>
    gd:who:<session>:<who>     who massaged (self = "I did": a companion's own relation)
    gd:fl:<session>:<feeling>  how the mother feels

The state lives in the database; a repeating job (`guide_timer`, every TICK_EVERY_S seconds)
calls `tick(app, now)`, which edits each running timer once a minute and ends it when the
time is up. Tests and the terminal demo call `tick` after moving the injected clock. The
session is logged (usecases.sessions.log_session, which closes that slot's reminders) exactly
once, when it ends: a second "done", a late tick or an old button find it ended and change
nothing. After "how do you feel" she is asked how the milk is (usecases.reports).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.jobs import in_unit_of_work
from bot.actor import Actor, load_actor
from bot.clock import iso
from db.queries import alerts as alerts_q
from db.queries import care
from db.queries import guide as guide_q
from db.queries import quiz as quiz_q
from db.queries import sessions, users
from usecases import events
from usecases import sessions as session_cases
from db.queries.guide import GuidedSession
from db.queries.mothers import Mother, get_mother
from domain.timer import TICK_EVERY_S, TimerState, cue_index, needs_edit, timer_state
from flows.guide import (FRESH_CHECK, args, first_press, full_check_due, int_arg, mother_for, show_hold, stale,
                         start_safety_check)
from flows.ui import chosen_label, close_buttons, keyboard, send

log = logging.getLogger(__name__)

JOB_NAME = "guide_timer"
# Offered on the buttons: Indonesian practice is 10-15 minutes; WHO says 2-3 minutes is enough,
# so a short one is offered too.
MINUTES_CHOICES = (3, 10, 15)
FEELINGS = ("relaxed", "same", "uncomfortable")


def _lock(app: Application) -> asyncio.Lock:
    """Ticks and the done/stop buttons take turns, so a message is never edited by both."""
    return app.services.timer_lock  # type: ignore[attr-defined]


# ----------------------------------------------------------------- texts
def running_text(texts, lang: str, state: TimerState) -> str:
    cues = texts.data(lang, "guide.timer.cues")
    return texts.t(lang, "guide.timer.running", minutes=state.minutes_left, seconds=state.seconds_left,
                   cue=cues[cue_index(state.step, len(cues))])


def running_markup(texts, lang: str, session_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(texts.t(lang, "massage.done_button"), f"gd:end:{session_id}:done"),
                      (texts.data(lang, "guide.timer.stop_button"), f"gd:end:{session_id}:stop")]])


def who_markup(texts, lang: str, session: GuidedSession) -> InlineKeyboardMarkup:
    """A mother answering herself does not get "I did": someone else massaged her back."""
    options = texts.data(lang, "guide.timer.who_question.options")
    by_mother = session.user_id == session.mother_id
    return keyboard([[(label, f"gd:who:{session.id}:{key}")] for key, label in options.items()
                     if not (by_mother and key == "self")])


def feeling_markup(texts, lang: str, session_id: int) -> InlineKeyboardMarkup:
    options = texts.data(lang, "guide.timer.feeling_question.options")
    return keyboard([[(label, f"gd:fl:{session_id}:{key}")] for key, label in options.items()])


async def _lang_of(db, user_id: int) -> str:
    row = await users.get_user(db, user_id)
    return row.language if row else "id"


# ----------------------------------------------------------------- choose and start
async def choose_minutes(update: Update, context) -> None:
    """gd:tm:<mother>: the check before the massage, then when and how long."""
    actor = await load_actor(update, context)
    mother = await mother_for(context, actor, int_arg(args(update)[0]))
    if mother is None or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update)
    await before_massage(update, context, actor, mother)


async def before_massage(update: Update, context, actor: Actor, mother: Mother) -> None:
    """Before every massage: not while she is on hold; otherwise a check (the full one when it
    is due, else the short one) unless one was just passed for this massage; then the minutes."""
    db = context.db
    if await guide_q.running_session_of(db, actor.user_id) is not None:
        await send(update, context.texts.t(actor.lang, "massage.already_running"))
        return
    if await alerts_q.on_hold(db, mother.user_id):
        await show_hold(update, context, actor, mother)
        return
    now = context.clock.now()
    if await guide_q.fresh_check(db, mother.user_id, iso(now - FRESH_CHECK)):
        await ask_minutes(update, context, actor, mother)
        return
    kind = "full" if await full_check_due(context, mother) else "short"
    await start_safety_check(update, context, actor, mother, kind, then="t")


async def ask_minutes(update: Update, context, actor: Actor, mother: Mother, intro: str | None = None) -> None:
    t, data, lang = context.texts.t, context.texts.data, actor.lang
    when = data(lang, "guide.when")
    text = f"{when['title']}\n\n{when['text']}\n\n{data(lang, 'guide.timer.choose')}"
    if intro:
        text = f"{intro}\n\n{text}"
    await send(update, text, keyboard([
        [(t(lang, "guide.timer.minutes_button", minutes=m), f"gd:go:{mother.user_id}:{m}") for m in MINUTES_CHOICES],
        [(t(lang, "massage.back_to_guide"), f"gd:hub:{mother.user_id}")],
    ]))


async def start(update: Update, context) -> None:
    """gd:go:<mother>:<minutes>: the timer message, kept up to date by `tick`. Only after a check
    passed for this massage, and never while she is on hold."""
    actor = await load_actor(update, context)
    mother_arg, minutes_arg = args(update)
    mother = await mother_for(context, actor, int_arg(mother_arg))
    minutes = int_arg(minutes_arg)
    db, lang = context.db, actor.lang
    if mother is None or minutes not in MINUTES_CHOICES:
        return await stale(update, context, lang)
    if await guide_q.running_session_of(db, actor.user_id) is None:
        if await alerts_q.on_hold(db, mother.user_id):
            if not first_press(update, context):
                return await stale(update, context, lang)
            await close_buttons(update)
            await show_hold(update, context, actor, mother)
            return
        if not await guide_q.fresh_check(db, mother.user_id, iso(context.clock.now() - FRESH_CHECK)):
            return await stale(update, context, lang)
    if not first_press(update, context):
        return await stale(update, context, lang)
    await close_buttons(update, chosen_label(update))
    if await guide_q.running_session_of(db, actor.user_id) is None and await _baseline_due(db, mother.user_id):
        await ask_baseline(update, context, actor, mother, minutes)
        return
    await _run_timer(update, context, actor, mother, minutes)


async def _baseline_due(db, mother_id: int) -> bool:
    from flows import reports  # imported here: reports is loaded after the guide's modules
    return await reports.baseline_due(db, mother_id)


async def ask_baseline(update: Update, context, actor: Actor, mother: Mother, minutes: int) -> None:
    """Her first massage and no report yet: "how is the milk now?" first (a 'pre' report), or
    "Lewati"; either answer starts the timer (`gd:bl:<mother>:<minutes>:<flow|skip>`)."""
    from flows import reports

    await reports.ask_baseline(update, context, actor, mother, f"gd:bl:{mother.user_id}:{minutes}:")


async def baseline_answer(update: Update, context) -> None:
    """gd:bl:<mother>:<minutes>:<flow|skip>: store the answer, then start as "go" would, checking
    again what may have changed meanwhile (a timer running, a hold, the check grown old)."""
    from flows import reports

    actor = await load_actor(update, context)
    mother_arg, minutes_arg, answer = args(update)
    mother = await mother_for(context, actor, int_arg(mother_arg))
    minutes = int_arg(minutes_arg)
    db, texts, lang = context.db, context.texts, actor.lang
    if (mother is None or minutes not in MINUTES_CHOICES or answer not in (*reports.FLOWS, "skip")
            or not first_press(update, context)):
        return await stale(update, context, lang)
    await close_buttons(update, texts.t(lang, "baseline.skip" if answer == "skip" else f"reports.flow.{answer}"))
    if answer != "skip" and await reports.save_baseline(update, context, actor, mother, answer):
        return  # the milk rule says go now: no massage
    if await guide_q.running_session_of(db, actor.user_id) is not None:
        await send(update, texts.t(lang, "massage.already_running"))
        return
    if await alerts_q.on_hold(db, mother.user_id):
        await show_hold(update, context, actor, mother)
        return
    if not await guide_q.fresh_check(db, mother.user_id, iso(context.clock.now() - FRESH_CHECK)):
        await before_massage(update, context, actor, mother)  # the check again, then the minutes
        return
    await _run_timer(update, context, actor, mother, minutes)


async def _run_timer(update: Update, context, actor: Actor, mother: Mother, minutes: int) -> None:
    db, texts, lang = context.db, context.texts, actor.lang
    now = context.clock.now()
    session_id = await guide_q.create_session(db, mother_id=mother.user_id, user_id=actor.user_id,
                                              chat_id=update.effective_chat.id, started_at=now, minutes=minutes)
    if session_id is None:
        await send(update, texts.t(lang, "massage.already_running"))
        return
    try:
        message = await send(update, running_text(texts, lang, timer_state(now, minutes, now)),
                             running_markup(texts, lang, session_id))
    except TelegramError:  # no timer message, no timer (and nothing logged later)
        await guide_q.drop_session(db, session_id)
        raise
    await guide_q.set_message(db, session_id, message.message_id)
    log.info("guided session %s started (%s min)", session_id, minutes)


# ----------------------------------------------------------------- ticking
async def tick(app: Application, now: datetime) -> int:
    """Bring every running timer up to `now`: edit its message when a new minute began, end it
    when the time is up. Returns how many messages were edited or ended."""
    db = app.services.db  # type: ignore[attr-defined]
    changed = 0
    async with _lock(app):
        for session in await guide_q.running_sessions(db):
            try:
                changed += await _tick_one(app, session, now)
            except TelegramError as exc:  # 5xx, network, rate limit after retries: next tick tries again
                log.warning("timer %s not updated: %s", session.id, type(exc).__name__)
    return changed


async def _tick_one(app: Application, session: GuidedSession, now: datetime) -> int:
    db, texts = app.services.db, app.services.texts  # type: ignore[attr-defined]
    state = timer_state(session.started_at, session.minutes, now)
    if state.finished:
        context = app.context_types.context(app, chat_id=session.chat_id, user_id=session.user_id)
        return int(await _end_locked(context, session, now, "done"))
    if not needs_edit(state, session.shown_step) or session.message_id is None:
        return 0
    lang = await _lang_of(db, session.user_id)
    try:
        await app.bot.edit_message_text(running_text(texts, lang, state), chat_id=session.chat_id,
                                        message_id=session.message_id,
                                        reply_markup=running_markup(texts, lang, session.id))
    except Forbidden:  # she blocked the bot: the timer stops, nothing is logged
        await users.set_active(db, session.user_id, False)
        await guide_q.abandon_session(db, session.id, iso(now))
        return 0
    except BadRequest as exc:  # the message was deleted: keep counting, ask at the end
        log.info("timer %s message not edited: %s", session.id, exc.message)
    await guide_q.shown(db, session.id, state.step, iso(now))
    return 1


async def _tick_job(context) -> None:
    await tick(context.application, context.application.services.clock.now())


async def _on_clock_advanced(app: Application) -> None:
    await tick(app, app.services.clock.now())  # type: ignore[attr-defined]


# ----------------------------------------------------------------- ending
async def end_pressed(update: Update, context) -> None:
    """gd:end:<session>:<done|stop>."""
    actor = await load_actor(update, context)
    session_arg, action = args(update)
    async with _lock(context.application):
        session = await guide_q.get_session(context.db, int(session_arg))
        if session is None or session.user_id != actor.user_id:
            return await stale(update, context, actor.lang)
        if session.status != "running":
            return await stale(update, context, actor.lang, "massage.already_ended")
        await update.callback_query.answer()
        now = context.clock.now()
        finished = timer_state(session.started_at, session.minutes, now).finished
        await _end_locked(context, session, now, "done" if action == "done" or finished else "stopped")


async def _end_locked(context, session: GuidedSession, now: datetime, status: str) -> bool:
    """End a running session once: log it, close the timer message, ask who massaged.
    The caller holds the timer lock. False if it had ended already."""
    db, texts, bot = context.db, context.texts, context.bot
    completed = status == "done"
    state = timer_state(session.started_at, session.minutes, now)
    mother = await get_mother(db, session.mother_id)
    current = await guide_q.get_session(db, session.id)
    if current is None or current.status != "running":
        return False
    # Logged first, then marked ended: after a crash in between, the next tick ends it and the
    # log only fills in (a slot counts once). A second end finds it ended (end_session changes
    # only a running session), so it is answered once.
    if mother is not None:
        await session_cases.log_session(
            context.services.deps, mother=mother, logged_by=session.user_id, started_at=session.started_at,
            duration_s=state.elapsed_s, completed=completed, source="guide")
    if not await guide_q.end_session(db, session.id, status, completed, state.elapsed_s, iso(now)):
        return False
    log.info("guided session %s %s after %s s", session.id, status, state.elapsed_s)
    lang = await _lang_of(db, session.user_id)
    final = texts.data(lang, "guide.timer.done") if completed else texts.t(lang, "massage.stopped")
    try:
        if session.message_id is not None:
            try:
                await bot.edit_message_text(final, chat_id=session.chat_id, message_id=session.message_id,
                                            reply_markup=None)
            except BadRequest as exc:
                log.info("timer %s final edit failed: %s", session.id, exc.message)
                await bot.send_message(session.chat_id, final)
        await bot.send_message(session.chat_id, texts.data(lang, "guide.timer.who_question.text"),
                               reply_markup=who_markup(texts, lang, session))
    except Forbidden:
        await users.set_active(db, session.user_id, False)
    return True


# ----------------------------------------------------------------- who and how
async def _answered_session(update: Update, context, allowed) -> tuple | None:
    actor = await load_actor(update, context)
    session_arg, key = args(update)
    session = await guide_q.get_session(context.db, int(session_arg))
    if (session is None or session.user_id != actor.user_id or session.completed is None  # running or abandoned
            or key not in allowed):
        await stale(update, context, actor.lang)
        return None
    return actor, session, key


async def who_answer(update: Update, context) -> None:
    """gd:who:<session>:<who>. "I did" from a companion is stored as her relation to the mother
    (husband, family, cadre), so `who` always says who massaged, whoever logged it."""
    found = await _answered_session(update, context, sessions.WHO)
    if found is None:
        return
    actor, session, key = found
    db, texts, lang = context.db, context.texts, actor.lang
    who = key
    if key == "self":
        who = await guide_q.relation_of(db, actor.user_id, session.mother_id)
        if who is None:  # the mother herself, or no longer linked
            return await stale(update, context, lang)
    if not await guide_q.set_answer(db, session.id, "who", who):
        return await stale(update, context, lang, "massage.already_answered")
    await close_buttons(update, chosen_label(update))
    await _fill_in(context, session, who=who)
    await send(update, texts.data(lang, "guide.timer.feeling_question.text"), feeling_markup(texts, lang, session.id))


async def feeling_answer(update: Update, context) -> None:
    """gd:fl:<session>:<feeling>: the end of a guided massage."""
    found = await _answered_session(update, context, FEELINGS)
    if found is None:
        return
    actor, session, key = found
    db, texts, lang = context.db, context.texts, actor.lang
    if not await guide_q.set_answer(db, session.id, "feeling", key):
        return await stale(update, context, lang, "massage.already_answered")
    await close_buttons(update, chosen_label(update))
    await _fill_in(context, session, feeling=key)
    if key == "uncomfortable":
        await send(update, texts.data(lang, "guide.timer.uncomfortable_tip"))
    await send(update, texts.data(lang, "guide.timer.saved"))
    await events.publish(context.services.deps, events.SessionRated(session.mother_id, session.user_id))
    await offer_posttest(update, context, actor.user_id, lang)


async def _fill_in(context, session: GuidedSession, **answers) -> None:
    """Who and how, into the session's massage_session row (log_session fills in, never adds)."""
    mother = await get_mother(context.db, session.mother_id)
    if mother is None:
        return
    await session_cases.log_session(
        context.services.deps, mother=mother, logged_by=session.user_id, started_at=session.started_at,
        duration_s=session.duration_s or 0, completed=bool(session.completed), source="guide", **answers)


async def offer_posttest(update: Update, context, user_id: int, lang: str) -> None:
    """After her first guided massage: the knowledge test again (once; later on request)."""
    db = context.db
    if await quiz_q.has_attempt(db, user_id, "post") or await care.quiz_paused(db, user_id):
        return
    if not await guide_q.mark_once(db, user_id, "posttest_offered_at", context.services.now_iso()):
        return
    t = context.texts.t
    await send(update, t(lang, "quiz.post_offer"), keyboard([[(t(lang, "quiz.post_offer_start"), "qz:new:t")]]))


# ----------------------------------------------------------------- registration
def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(choose_minutes, pattern=r"^gd:tm:\d+$"))
    app.add_handler(CallbackQueryHandler(start, pattern=r"^gd:go:\d+:\d+$"))
    app.add_handler(CallbackQueryHandler(baseline_answer, pattern=r"^gd:bl:\d+:\d+:(not_out|not_smooth|smooth|skip)$"))
    app.add_handler(CallbackQueryHandler(end_pressed, pattern=r"^gd:end:\d+:(done|stop)$"))
    app.add_handler(CallbackQueryHandler(who_answer, pattern=r"^gd:who:\d+:\w+$"))
    app.add_handler(CallbackQueryHandler(feeling_answer, pattern=r"^gd:fl:\d+:\w+$"))
    app.services.clock_hooks.append(_on_clock_advanced)  # type: ignore[attr-defined]
    if app.job_queue is not None:
        app.job_queue.run_repeating(in_unit_of_work(_tick_job), interval=TICK_EVERY_S, first=TICK_EVERY_S, name=JOB_NAME)
