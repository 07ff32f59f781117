"""News about the baby (content-facts section 8): "my baby is in hospital", "the baby is home",
"my baby has died" — from the mother, or from a companion for the mother he accompanies.

    menu:care                        the entry ("💬 Kabar tentang bayi")
    care:m:<mother>                  a companion of several mothers chose one
    care:ask:<mother>                "has died": asks to confirm (one tap never records a loss)
    care:set:<mother>:<status>       hospital | normal (baby home) | loss (only on the confirmation)
    care:no                          the confirmation's "No"

Loss (`care_status = 'loss'`): set at once; the midwives of her clinic get a `baby_died` alert
(a warning: a midwife should call her; no massage hold). Every baby-related message stops:
the report (/lapor, the menu button, old one-tap offers) and the massage guide are replaced by a
gentle answer with her own danger signs and her clinic's number (the `_gate` below, in handler
group -2, before the features run), quizzes are not offered (flows/quiz.py), and the report
offers, check-ins and reminders ask `db.queries.care` first. Only a midwife can undo it (the
mother's record). Hospital: the feeds / nappies questions pause and she gets expressing support;
she, a companion or the midwife sets it back to normal ("the baby is home").
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler

from bot.actor import Actor, load_actor
from db.queries import alerts as alerts_q
from db.queries import care as care_q
from db.queries import companions, mothers
from db.queries.mothers import Mother
from db.queries.reports import day_of
from domain.alerts import Cause
from flows import menu, reachability
from usecases import alerts as alert_cases
from flows.commands import names
from usecases.contacts import contact_block_for_mother, mother_clinic
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)

ITEM = "care"


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, key, **values)


# ----------------------------------------------------------------- who may speak for whom
async def mothers_of(context, actor: Actor) -> list[Mother]:
    """The mothers this user may give news for: herself, or the mothers he accompanies."""
    if actor.role == "mother":
        mother = await mothers.get_mother(context.db, actor.user_id)
        return [mother] if mother else []
    if actor.role == "companion":
        found = []
        for link in await companions.links_of_companion(context.db, actor.user_id):
            mother = await mothers.get_mother(context.db, link.mother_id)
            if mother is not None:
                found.append(mother)
        return found
    return []


async def _allowed(context, actor: Actor, mother_id: int) -> Mother | None:
    return next((m for m in await mothers_of(context, actor) if m.user_id == mother_id), None)


def _own(actor: Actor, mother: Mother) -> bool:
    return actor.user_id == mother.user_id


async def _stale(update: Update, context, actor: Actor) -> None:
    await close_buttons(update, alert=_t(context, actor.lang, "common.stale_button_short"))
    await menu.show_menu(update, context, actor)


# ----------------------------------------------------------------- the menu entry
async def open_care(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    found = await mothers_of(context, actor)
    if not found:
        key = "care.no_mothers" if actor.role == "companion" else "care.not_allowed"
        await send(update, _t(context, actor.lang, key))
        return
    if len(found) > 1:
        await send(update, _t(context, actor.lang, "care.choose_mother"),
                   keyboard([[(m.display_name, f"care:m:{m.user_id}")] for m in found]))
        return
    await _choices(update, context, actor, found[0])


async def mother_chosen(update: Update, context) -> None:
    actor = await load_actor(update, context)
    mother = await _allowed(context, actor, int(update.callback_query.data.rsplit(":", 1)[1]))
    if mother is None:
        return await _stale(update, context, actor)
    await close_buttons(update, mother.display_name)
    await _choices(update, context, actor, mother)


async def _choices(update: Update, context, actor: Actor, mother: Mother) -> None:
    lang, who = actor.lang, "self" if _own(actor, mother) else "other"
    m = mother.user_id
    if mother.care_status == "loss":
        await _send_loss_care(update, context, actor, mother, "care.loss.already")
        return
    rows = []
    if mother.care_status == "hospital":
        intro = _t(context, lang, f"care.intro_hospital_{who}", mother=mother.display_name)
        rows.append([(_t(context, lang, "care.options.home"), f"care:set:{m}:normal")])
    else:
        intro = _t(context, lang, f"care.intro_{who}", mother=mother.display_name)
        rows.append([(_t(context, lang, f"care.options.hospital_{who}"), f"care:set:{m}:hospital")])
    rows.append([(_t(context, lang, f"care.options.loss_{who}"), f"care:ask:{m}")])
    rows.append([(_t(context, lang, "care.options.back"), "care:no")])
    await send(update, intro, keyboard(rows))


async def ask_loss(update: Update, context) -> None:
    """The confirmation step: "has the baby died?" — Yes is a different button on a new message."""
    actor = await load_actor(update, context)
    mother = await _allowed(context, actor, int(update.callback_query.data.rsplit(":", 1)[1]))
    if mother is None:
        return await _stale(update, context, actor)
    await close_buttons(update)
    who = "self" if _own(actor, mother) else "other"
    await send(update, _t(context, actor.lang, f"care.confirm_loss_{who}", mother=mother.display_name), keyboard([
        [(_t(context, actor.lang, "care.confirm_yes"), f"care:set:{mother.user_id}:loss")],
        [(_t(context, actor.lang, "care.confirm_no"), "care:no")]]))


async def cancelled(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    await menu.show_menu(update, context, actor, "care.cancelled")


# ----------------------------------------------------------------- setting the status
async def set_status(update: Update, context) -> None:
    actor = await load_actor(update, context)
    _, _, mother_id, status = update.callback_query.data.split(":")
    mother = await _allowed(context, actor, int(mother_id))
    if mother is None:
        return await _stale(update, context, actor)
    await close_buttons(update)
    if mother.care_status == "loss":  # only a midwife undoes a loss (from the mother's record)
        key = "care.loss.already" if status == "loss" else "care.home.not_from_loss"
        await _send_loss_care(update, context, actor, mother, key)
        return
    if status == "loss":
        await _loss(update, context, actor, mother)
    elif status == "hospital":
        await _hospital(update, context, actor, mother)
    else:
        await _home(update, context, actor, mother)


async def _tell_midwives(context, actor: Actor, mother: Mother, cause: Cause) -> str:
    """Raise the alert; the line saying whether a midwife has it now (in the actor's language)."""
    now = context.clock.now()
    raised = await alert_cases.raise_alert(context.services.deps, mother, cause, raised_by=actor.user_id, now=now,
                                        day=day_of(mother, now))
    clinic = await mother_clinic(context.db, mother.user_id)
    if (raised.told or raised.alert is None) and clinic is not None:
        return _t(context, actor.lang, "care.told", clinic=clinic.name)
    return _t(context, actor.lang, "care.not_told")


async def _loss(update: Update, context, actor: Actor, mother: Mother) -> None:
    now = context.clock.now()
    await care_q.set_status(context.db, mother.user_id, "loss", actor.user_id, now)
    told = await _tell_midwives(context, actor, mother, Cause("baby_died", urgency="warning"))
    who = "self" if _own(actor, mother) else "other"
    text = _t(context, actor.lang, f"care.loss.{who}", mother=mother.display_name, told=told)
    await _send_loss_care(update, context, actor, mother, None, intro=text)
    if not _own(actor, mother):
        contacts = await contact_block_for_mother(context.db, context.texts, await _lang_of(context, mother),
                                                  mother.user_id)
        if await menu.notify(context, mother.user_id, "care.loss.to_mother", companion=actor.first_name or "-"):
            await _notify_care(context, mother, contacts)


async def _hospital(update: Update, context, actor: Actor, mother: Mother) -> None:
    now = context.clock.now()
    before = await care_q.set_status(context.db, mother.user_id, "hospital", actor.user_id, now)
    if before == "hospital":
        await send(update, _t(context, actor.lang, "care.hospital.already"))
        return
    told = await _tell_midwives(context, actor, mother, Cause("baby_hospital", urgency="info"))
    who = "self" if _own(actor, mother) else "other"
    await send(update, _t(context, actor.lang, f"care.hospital.{who}", mother=mother.display_name, told=told))
    await send(update, _t(context, actor.lang, "care.hospital.expressing.text"))
    if not _own(actor, mother):
        await menu.notify(context, mother.user_id, "care.hospital.to_mother", companion=actor.first_name or "-")
        await menu.notify(context, mother.user_id, "care.hospital.expressing.text")
    await menu.show_menu(update, context, actor)


async def _home(update: Update, context, actor: Actor, mother: Mother) -> None:
    now = context.clock.now()
    await care_q.set_status(context.db, mother.user_id, "normal", actor.user_id, now)
    await alerts_q.resolve(context.db, mother.user_id, "baby_hospital", now)
    who = "self" if _own(actor, mother) else "other"
    await send(update, _t(context, actor.lang, f"care.home.{who}", mother=mother.display_name))
    await menu.show_menu(update, context, actor)


async def _lang_of(context, mother: Mother) -> str:
    row = await context.db.fetchone("SELECT language FROM app_user WHERE telegram_id = ?", (mother.user_id,))
    return row["language"] if row else "id"


async def _send_loss_care(update: Update, context, actor: Actor, mother: Mother, key: str | None,
                          intro: str | None = None) -> None:
    """After a loss: a few words, her breasts (say less: her midwife), her own danger signs, the numbers."""
    lang = actor.lang
    parts = [intro if intro is not None else _t(context, lang, key, mother=mother.display_name),
             _t(context, lang, "care.loss.breasts.text"),
             _t(context, lang, "care.loss.own_care.text"),
             await contact_block_for_mother(context.db, context.texts, lang, mother.user_id)]
    await send(update, "\n\n".join(parts))


async def _notify_care(context, mother: Mother, contacts: str) -> None:
    """The mother, when a companion recorded the loss: her own care and the numbers too."""
    lang = await _lang_of(context, mother)
    text = "\n\n".join([_t(context, lang, "care.loss.breasts.text"), _t(context, lang, "care.loss.own_care.text"),
                        contacts])
    try:
        await context.bot.send_message(mother.user_id, text)
    except TelegramError as exc:  # blocked or gone since a moment ago: nothing more to do
        log.info("loss care not delivered: %s", type(exc).__name__)


# ----------------------------------------------------------------- the gate (group -2)
async def _gate(update: Update, context) -> None:
    """Before the features: after a loss, /lapor, the report offers and the massage guide are
    replaced by a gentle answer. Lets everything else through untouched."""
    if update.effective_user is None:
        return
    actor = await load_actor(update, context)
    if actor.role not in ("mother", "companion"):
        return
    query = update.callback_query
    data = (query.data or "") if query is not None else ""
    if data.startswith(("rep:o:", "rep:m:", "gd:m:")):
        kind = "report" if data.startswith("rep:") else "massage"
        mother = await _allowed(context, actor, int(data.split(":")[2]))
        if mother is None or mother.care_status != "loss":
            return
    else:
        if query is None:
            command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
            kind = "report" if command in names("report") else "massage"
        else:
            kind = "report" if data == "menu:reports" else "massage"
        found = await mothers_of(context, actor)
        if not found or any(m.care_status != "loss" for m in found):
            return
        mother = found[0]
    await reachability.mark_reachable(update, context)  # group -1 does not run after a stop
    await close_buttons(update)
    key = "care.loss.paused_report" if kind == "report" else "care.loss.paused_massage"
    await _send_loss_care(update, context, actor, mother, key)
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    gate = -2  # before reachability (-1) and the features (0)
    app.add_handler(CommandHandler(names("report"), _gate), group=gate)
    app.add_handler(CommandHandler(names("massage"), _gate), group=gate)
    app.add_handler(CallbackQueryHandler(_gate, pattern=r"^(menu:(reports|massage|guide)|rep:[om]:\d+|gd:m:\d+)(:|$)"),
                    group=gate)
    app.add_handler(CallbackQueryHandler(open_care, pattern=rf"^menu:{ITEM}$"))
    app.add_handler(CallbackQueryHandler(mother_chosen, pattern=r"^care:m:\d+$"))
    app.add_handler(CallbackQueryHandler(ask_loss, pattern=r"^care:ask:\d+$"))
    app.add_handler(CallbackQueryHandler(set_status, pattern=r"^care:set:\d+:(hospital|normal|loss)$"))
    app.add_handler(CallbackQueryHandler(cancelled, pattern=r"^care:no$"))
    for role in ("mother", "companion"):
        rows = menu.MENU[role]
        position = next((i for i, row in enumerate(rows) if "mydata" in row), len(rows))
        menu.add_menu_items(role, [ITEM], position)
