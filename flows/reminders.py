"""/pengingat (/reminders): times, pause and resume; the reminder's buttons; the dispatcher's wiring.

Massage reminders are not sent while she is on hold (an open urgent alert: a danger sign, not yet
seen; her morning slot asks "Sudahkah Ibu diperiksa?" instead, answered by flows/guide.py's
`gd:seen` / `gd:no`) nor after the loss of her baby: both are decided when the dispatcher claims
a row (db/queries/reminders.py `claim`), so nothing needs resetting when the hold ends.

Buttons (callback data):
- on a reminder: `menu:guide` (the guided massage), `rem:done|snz|skip:<mother id>:<yyyymmdd>:<m|e>`;
- on the settings screen: `rem:time:<m|e>`, `rem:set:<m|e>:<HHMM>`, `rem:pause:<0|1|3>`, `rem:resume`.
The presser is always the recipient whose reminder row the button names, so a forged or old
button can only touch the presser's own reminder, and then only if it is still open.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor, load_actor
from bot.clock import iso, parse_iso
from db.queries import alerts as alerts_q
from db.queries import mothers
from db.queries import reminders as q
from db.queries.users import get_user, set_active
from domain.slots import slot_of
from flows import menu
from flows.commands import names
from flows.global_commands import flow_fallbacks
from flows.ui import close_buttons, keyboard, send
from reminders import jobs, messages, preferences
from reminders.dispatcher import Dispatcher
from usecases import sessions as session_cases
from reminders.planning import (SLOT_CODES, SLOT_NAMES, hhmm, parse_hhmm, slot_from_code, snooze_until, Slot,
                                fits_slot, zone_label)

log = logging.getLogger(__name__)

TIME = "rem_time"
END = ConversationHandler.END
PRESETS = {"morning": ("05:00", "05:30", "06:00", "06:30", "07:00", "08:00"),
           "evening": ("15:00", "16:00", "16:30", "17:00", "18:00", "19:00")}
MAX_SNOOZES = 3
REMINDER_BUTTON = r"^rem:(done|snz|skip):\d+:\d{8}:[me]$"
BASELINE_BUTTON = r"^rem:bl:\d+:\d{8}:[me]:(not_out|not_smooth|smooth|skip)$"


def register(app) -> None:
    services = app.services
    dispatcher = Dispatcher(services.settings, services.clock, services.texts, shared_db=services.db,
                            is_stopping=lambda: not app.running)
    services.reminders = dispatcher
    services.clock_hooks.append(_clock_advanced)

    app.add_handler(ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_time, pattern=r"^rem:time:[me]$")],
        states={TIME: [CallbackQueryHandler(preset_chosen, pattern=r"^rem:set:[me]:\d{4}$"),
                       CallbackQueryHandler(ask_time, pattern=r"^rem:time:[me]$"),
                       MessageHandler(filters.ALL & ~filters.COMMAND, time_typed)]},
        fallbacks=[CommandHandler(names("reminders"), _leaving(show))] + flow_fallbacks(),
        name="reminders", persistent=True))
    app.add_handler(CommandHandler(names("reminders"), show))
    app.add_handler(CallbackQueryHandler(show, pattern=r"^menu:reminders$"))
    app.add_handler(CallbackQueryHandler(reminder_button, pattern=REMINDER_BUTTON))
    app.add_handler(CallbackQueryHandler(baseline_button, pattern=BASELINE_BUTTON))
    app.add_handler(CallbackQueryHandler(preset_chosen, pattern=r"^rem:set:[me]:\d{4}$"))
    app.add_handler(CallbackQueryHandler(pause_chosen, pattern=r"^rem:pause:[013]$"))
    app.add_handler(CallbackQueryHandler(resume_chosen, pattern=r"^rem:resume$"))
    menu.add_menu_items("mother", ["reminders"], 1)
    menu.add_menu_items("companion", ["reminders"], 1)
    jobs.schedule(app, dispatcher, services.settings.reminder_poll_seconds)


async def _clock_advanced(app) -> None:
    """The demo moved the clock: deliver what is due at the new time."""
    await app.services.reminders.run_once(app.services.clock.now())


def _leaving(callback):
    async def handler(update: Update, context) -> int:
        context.user_data.pop("rem_slot", None)
        await callback(update, context)
        return END

    return handler


# ----------------------------------------------------------------- the settings screen
async def show(update: Update, context) -> None:
    """/pengingat [words], or the menu entry: the reminder settings of a mother or a companion."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    if actor.role not in ("mother", "companion"):
        await send(update, context.texts.t(actor.lang, "reminders.screen.not_for_role"))
        await menu.show_menu(update, context, actor)
        return
    await _reactivate(context, actor)
    args = context.args if update.message is not None else None
    if args:
        words = context.texts.data(actor.lang, "reminders.words")
        request = preferences.parse_request(args, words)
        if request.action == "problem":
            await send(update, context.texts.t(actor.lang, request.problem))
        elif request.action == "time":
            await _save_time(update, context, actor, request.slot, request.value)
            return
        elif request.action in ("pause", "stop"):
            await _pause(update, context, actor, request.days if request.action == "pause" else None)
            return
        elif request.action == "resume":
            await _resume(update, context, actor)
            return
    await _send_screen(update, context, actor)


async def _reactivate(context, actor: Actor) -> None:
    """Someone who blocked the bot and is back talking to it gets reminders again."""
    row = await get_user(context.db, actor.user_id)
    if row is not None and not row.active:
        await set_active(context.db, actor.user_id, True)


async def _send_screen(update: Update, context, actor: Actor) -> None:
    text, markup = await _screen(context, actor)
    await send(update, text, markup)


async def _screen(context, actor: Actor):
    t, lang, now = context.texts.t, actor.lang, context.clock.now()
    settings = context.services.settings
    if actor.role == "mother":
        view = await preferences.mother_view(context.db, settings, actor.user_id, now)
        if view is None:
            return t(lang, "reminders.screen.not_for_role"), None
        zone = view.plan.timezone
        lines = [t(lang, "reminders.screen.title_mother"),
                 t(lang, "reminders.screen.times", morning=hhmm(view.schedule.morning),
                   evening=hhmm(view.schedule.evening), zone=zone_label(zone))]
        lines += await _held_lines(context, lang, actor.user_id)
        if view.window_over:
            lines.append(t(lang, "reminders.screen.window_over", days=view.days, date=_day(view.last_day)))
        else:
            if preferences.is_forever(view.paused_until):
                lines.append(t(lang, "reminders.screen.stopped"))
            elif view.paused_until is not None:
                lines.append(t(lang, "reminders.screen.paused", when=_when(context, lang, view.paused_until, zone)))
            if view.next_at is not None:
                lines.append(t(lang, "reminders.screen.next", when=_when(context, lang, view.next_at, zone)))
            lines.append(t(lang, "reminders.screen.window", days=view.days, date=_day(view.last_day)))
        rows = [[(t(lang, "reminders.settings.change_morning"), "rem:time:m"),
                 (t(lang, "reminders.settings.change_evening"), "rem:time:e")]]
        rows += _pause_rows(t, lang, view.paused_until is not None)
        return "\n".join(lines), keyboard(rows)
    view = await preferences.companion_view(context.db, settings, actor.user_id, now)
    if not view.mothers:
        return t(lang, "reminders.screen.companion_none"), None
    lines = [t(lang, "reminders.screen.title_companion")]
    for mother in view.mothers:
        name, zone = await _mother_name(context, mother.plan.mother_id), mother.plan.timezone
        if mother.window_over:
            lines.append(t(lang, "reminders.screen.companion_mother_over", mother=name))
        elif await _held_lines(context, lang, mother.plan.mother_id):
            lines.append(t(lang, "reminders.screen.companion_mother_held", mother=name))
        elif preferences.is_forever(mother.paused_until):
            lines.append(t(lang, "reminders.screen.companion_mother_stopped", mother=name))
        elif mother.paused_until is not None:
            lines.append(t(lang, "reminders.screen.companion_mother_paused", mother=name,
                           when=_when(context, lang, mother.paused_until, zone)))
        else:
            lines.append(t(lang, "reminders.screen.companion_mother", mother=name,
                           morning=hhmm(mother.schedule.morning), evening=hhmm(mother.schedule.evening),
                           zone=zone_label(zone)))
    first_zone = view.mothers[0].plan.timezone
    if preferences.is_forever(view.muted_until):
        lines.append(t(lang, "reminders.screen.stopped"))
    elif view.muted_until is not None:
        lines.append(t(lang, "reminders.screen.paused", when=_when(context, lang, view.muted_until, first_zone)))
    if view.next_at is not None:
        lines.append(t(lang, "reminders.screen.next", when=_when(context, lang, view.next_at, first_zone)))
    lines.append(t(lang, "reminders.screen.companion_own"))
    return "\n".join(lines), keyboard(_pause_rows(t, lang, view.muted_until is not None))


async def _held_lines(context, lang: str, mother_id: int) -> list[str]:
    """Why no massage reminder comes now, whatever the settings: she is on hold (a danger sign,
    not yet seen), or her baby has died."""
    mother = await mothers.get_mother(context.db, mother_id)
    if mother is not None and mother.care_status == "loss":
        return [context.texts.t(lang, "reminders.screen.loss")]
    if await alerts_q.on_hold(context.db, mother_id):
        return [context.texts.t(lang, "reminders.screen.hold")]
    return []


def _pause_rows(t, lang: str, paused: bool) -> list:
    if paused:
        return [[(t(lang, "reminders.settings.resume"), "rem:resume")]]
    return [[(t(lang, "reminders.settings.pause_1"), "rem:pause:1"), (t(lang, "reminders.settings.pause_3"), "rem:pause:3")],
            [(t(lang, "reminders.settings.stop"), "rem:pause:0")]]


async def _mother_name(context, mother_id: int) -> str:
    mother = await mothers.get_mother(context.db, mother_id)
    return mother.display_name if mother else ""


def _day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def _when(context, lang: str, moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    today = context.clock.now().astimezone(ZoneInfo(zone)).date()
    key = {today: "when_today", today + timedelta(days=1): "when_tomorrow"}.get(local.date(), "when_date")
    return context.texts.t(lang, f"reminders.screen.{key}", time=local.strftime("%H:%M"),
                           date=_day(local.date()), zone=zone_label(zone))


# ----------------------------------------------------------------- changing a time
async def ask_time(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    if actor.role != "mother":
        await close_buttons(update, alert=context.texts.t(actor.lang, "reminders.settings.only_mother"))
        return END
    slot = SLOT_NAMES[update.callback_query.data.rsplit(":", 1)[1]]
    await close_buttons(update)
    context.user_data["rem_slot"] = slot
    code = SLOT_CODES[slot]
    buttons = [(value, f"rem:set:{code}:{value.replace(':', '')}") for value in PRESETS[slot]]
    await send(update, context.texts.t(actor.lang, f"reminders.time.ask_{slot}"),
               keyboard([buttons[:3], buttons[3:]]))
    return TIME


async def time_typed(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    slot = context.user_data.get("rem_slot", "morning")
    value = parse_hhmm(update.message.text if update.message else None)
    if value is None:
        await send(update, context.texts.t(actor.lang, "reminders.time.format"))
        return TIME
    if not fits_slot(value, slot):
        await send(update, context.texts.t(actor.lang, f"reminders.time.{slot}_range"))
        return TIME
    context.user_data.pop("rem_slot", None)
    await _save_time(update, context, actor, slot, value)
    return END


async def preset_chosen(update: Update, context) -> int:
    actor = await load_actor(update, context)
    _, _, code, digits = update.callback_query.data.split(":")
    slot, value = SLOT_NAMES[code], parse_hhmm(f"{digits[:2]}:{digits[2:]}")
    if actor.role != "mother" or value is None or not fits_slot(value, slot):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return END
    await close_buttons(update, hhmm(value))
    context.user_data.pop("rem_slot", None)
    await _save_time(update, context, actor, slot, value)
    return END


async def _save_time(update: Update, context, actor: Actor, slot: str, value) -> None:
    if actor.role != "mother":
        await send(update, context.texts.t(actor.lang, "reminders.settings.only_mother"))
        return await _send_screen(update, context, actor)
    view = await preferences.change_time(context.db, context.services.settings, actor.user_id, slot, value,
                                         context.clock.now())
    zone = view.plan.timezone if view else ""
    await send(update, context.texts.t(actor.lang, f"reminders.time.saved_{slot}", time=hhmm(value),
                                       zone=zone_label(zone)))
    await _send_screen(update, context, actor)


# ----------------------------------------------------------------- pause and resume
async def _button_actor(update: Update, context) -> Actor | None:
    """The mother or companion pressing a settings button; anyone else gets a short answer."""
    actor = await load_actor(update, context)
    if actor.role not in ("mother", "companion"):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return None
    return actor


async def pause_chosen(update: Update, context) -> None:
    actor = await _button_actor(update, context)
    if actor is None:
        return
    days = int(update.callback_query.data.rsplit(":", 1)[1]) or None
    await close_buttons(update)
    await _pause(update, context, actor, days)


async def _pause(update: Update, context, actor: Actor, days: int | None) -> None:
    now = context.clock.now()
    until = await preferences.pause(context.db, context.services.settings, actor.user_id, actor.role, days, now)
    t, lang = context.texts.t, actor.lang
    who = "mother" if actor.role == "mother" else "companion"
    if days is None:
        await send(update, t(lang, f"reminders.settings.stopped_{who}"))
    elif until is not None:
        await send(update, t(lang, f"reminders.settings.paused_{who}",
                             when=_when(context, lang, until, await _zone_of(context, actor))))
    await _send_screen(update, context, actor)


async def resume_chosen(update: Update, context) -> None:
    actor = await _button_actor(update, context)
    if actor is None:
        return
    await close_buttons(update)
    await _resume(update, context, actor)


async def _resume(update: Update, context, actor: Actor) -> None:
    await preferences.resume(context.db, context.services.settings, actor.user_id, actor.role, context.clock.now())
    await send(update, context.texts.t(actor.lang, "reminders.settings.resumed"))
    await _send_screen(update, context, actor)


async def _zone_of(context, actor: Actor) -> str:
    """The zone to show times in: hers, or (for a companion) the first mother's."""
    if actor.role == "mother":
        mother = await mothers.get_mother(context.db, actor.user_id)
    else:
        plans = await q.companion_mothers(context.db, actor.user_id, context.services.now_iso())
        mother = await mothers.get_mother(context.db, plans[0].mother_id) if plans else None
    return mother.timezone if mother else context.services.settings.default_timezone


# ----------------------------------------------------------------- the reminder's buttons
async def reminder_button(update: Update, context) -> None:
    """`rem:done|snz|skip:<mother>:<yyyymmdd>:<m|e>` on a reminder the presser received."""
    actor = await load_actor(update, context)
    query = update.callback_query
    _, action, mother_text, date_text, code = query.data.split(":")
    parsed = slot_from_code(date_text, code)
    delivery = None
    if parsed is not None:
        delivery = await q.find_delivery(context.db, actor.user_id, int(mother_text), parsed[0].isoformat(), parsed[1])
    if delivery is None or not (delivery.to_mother or delivery.relation is not None):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return
    if action == "done":
        await _done(update, context, actor, delivery)
    elif action == "snz":
        await _snooze(update, context, actor, delivery)
    else:
        await _skip(update, context, actor, delivery)


async def _done(update: Update, context, actor: Actor, delivery, baseline: str | None = None) -> None:
    """"Sudah dipijat": log the session. Her first one with no report yet asks the baseline first
    (`rem:bl:...`); `baseline` is that answer (a flow or "skip"), already stored."""
    from flows import reports  # imported here: reports may use this module too

    mother = await mothers.get_mother(context.db, delivery.mother_id)
    if mother is None:
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return
    if baseline is None and await reports.baseline_due(context.db, mother.user_id):
        await update.callback_query.answer()
        await _ask_baseline(update, context, actor, mother, delivery)
        return
    now = context.clock.now()
    reminded_at = parse_iso(delivery.due_at)
    # Pressed within the reminder's slot: the massage was just now. Later: it was done after the reminder.
    slot_date, slot = slot_of(now, mother.timezone)
    started_at = now if (slot_date.isoformat(), slot) == (delivery.slot_date, delivery.slot) else reminded_at
    # logged, and its follow-ups (the slot's reminders say so; phases; usecases/follow_ups.py)
    # how is the milk now? is asked, unless she has just said so before the session
    logged = await session_cases.log_session(
        context.services.deps, mother=mother, logged_by=actor.user_id, started_at=started_at, source="reminder",
        who=None if delivery.to_mother else delivery.relation, offer_report=baseline in (None, "skip"))
    key = "reminders.answers.done" if logged.new else "reminders.answers.already_done"
    if baseline is None:
        await update.callback_query.answer(context.texts.t(actor.lang, key))
    else:  # the press was answered with the question
        await send(update, context.texts.t(actor.lang, key))


async def _ask_baseline(update: Update, context, actor: Actor, mother, delivery) -> None:
    """Before her first logged massage, with no report yet: how is the milk now (a 'pre'
    report), or "Lewati"; either answer then logs the session (`rem:bl:...:<flow|skip>`)."""
    from flows import reports

    prefix = f"rem:bl:{mother.user_id}:{delivery.slot_date.replace('-', '')}:{SLOT_CODES[delivery.slot]}:"
    await reports.ask_baseline(update, context, actor, mother, prefix)


async def baseline_button(update: Update, context) -> None:
    """`rem:bl:<mother>:<yyyymmdd>:<m|e>:<flow|skip>`: the baseline answer, then "sudah dipijat"
    goes on. The reminder must still be the presser's; a second tap finds the buttons used."""
    from flows import reports
    from flows.guide import first_press

    actor = await load_actor(update, context)
    _, _, mother_text, date_text, code, answer = update.callback_query.data.split(":")
    parsed = slot_from_code(date_text, code)
    delivery = None
    if parsed is not None:
        delivery = await q.find_delivery(context.db, actor.user_id, int(mother_text), parsed[0].isoformat(), parsed[1])
    mother = await mothers.get_mother(context.db, int(mother_text))
    if (delivery is None or mother is None or not (delivery.to_mother or delivery.relation is not None)
            or not first_press(update, context)):
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        return
    texts, lang = context.texts, actor.lang
    await close_buttons(update, texts.t(lang, "baseline.skip" if answer == "skip" else f"reports.flow.{answer}"))
    if answer != "skip":
        await reports.save_baseline(update, context, actor, mother, answer)
    await _done(update, context, actor, delivery, baseline=answer)


async def _snooze(update: Update, context, actor: Actor, delivery) -> None:
    t, lang = context.texts.t, actor.lang
    if delivery.status != "sent":
        await close_buttons(update, alert=t(lang, _closed_answer(delivery)))
        return
    plan = await q.mother_plan(context.db, delivery.mother_id, context.services.now_iso())
    schedule = preferences.schedule_for(plan, context.services.settings)
    now = context.clock.now()
    slot = Slot(date.fromisoformat(delivery.slot_date), delivery.slot, parse_iso(delivery.due_at))
    until = snooze_until(schedule, slot, now, context.services.settings.reminder_snooze_minutes)
    if until is None or delivery.snoozes >= MAX_SNOOZES:
        await update.callback_query.answer(t(lang, "reminders.answers.snooze_too_late"), show_alert=True)
        return
    if not await q.snooze(context.db, delivery.id, iso(until), context.services.now_iso()):
        await close_buttons(update, alert=t(lang, "reminders.answers.already_answered"))
        return
    await update.callback_query.answer(t(lang, "reminders.answers.snoozed", time=until.astimezone(
        ZoneInfo(delivery.timezone)).strftime("%H:%M")))
    note = messages.snoozed_note(context.texts, delivery, until)
    await _edit(context, delivery, messages.answered(context.texts, delivery, note), update)


async def _skip(update: Update, context, actor: Actor, delivery) -> None:
    t, lang = context.texts.t, actor.lang
    if not await q.skip(context.db, delivery.id, context.services.now_iso()):
        await close_buttons(update, alert=t(lang, _closed_answer(delivery)))
        return
    await update.callback_query.answer(t(lang, "reminders.answers.skipped"))
    note = messages.skipped_note(context.texts, delivery)
    await _edit(context, delivery, messages.answered(context.texts, delivery, note), update)


def _closed_answer(delivery) -> str:
    return "reminders.answers.already_done" if delivery.status == "done" else "reminders.answers.already_answered"


async def _edit(context, delivery, text: str, update: Update | None = None) -> None:
    """Replace a reminder's text (and take its buttons off)."""
    message = update.callback_query.message if update is not None and update.callback_query else None
    chat_id = delivery.recipient_id
    message_id = message.message_id if message is not None else delivery.message_id
    await context.services.notifier.edit(chat_id, message_id, text)
