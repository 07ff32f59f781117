"""Choosing her Puskesmas: search by part of the name or district, pick a button, or "not yet".

The search-and-pick is shared with onboarding (callback prefix `ob:cl`); here it is the /menu
entry "Puskesmas saya" that changes it later (prefix `clc`): `clc:<clinic id>`, `clc:none`,
`clc:keep`. Changing `mother.clinic_id` is all it takes: every midwife query filters by it, so
the old clinic loses her at once.
"""
from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot.actor import load_actor
from db.queries import clinics, mothers
from flows import menu
from flows.commands import is_global_command
from flows.ui import close_buttons, keyboard, send

SEARCH = "clinic_search"
END = ConversationHandler.END
LIMIT = 8


# ----------------------------------------------------------------- shared with onboarding
async def search_reply(db, texts, lang: str, typed: str, prefix: str, extra_rows=()) -> tuple[str, object]:
    """The answer to a typed search: matching clinics as buttons `<prefix>:<id>`, or "none found";
    always with "not yet" (`<prefix>:none`) and any extra rows."""
    found = await clinics.search_clinics(db, typed, LIMIT + 1)
    if not found:
        text = texts.t(lang, "clinic_choice.none_found", text=typed.strip()[:40])
    else:
        text = texts.t(lang, "clinic_choice.matches_more" if len(found) > LIMIT else "clinic_choice.matches")
    rows = [[(clinic_label(clinic), f"{prefix}:{clinic.id}")] for clinic in found[:LIMIT]]
    return text, keyboard([*rows, *extra_rows, not_yet_row(texts, lang, prefix)])


def not_yet_row(texts, lang: str, prefix: str) -> list:
    return [(texts.t(lang, "clinic_choice.not_yet"), f"{prefix}:none")]


def clinic_label(clinic: clinics.Clinic) -> str:
    return f"{clinic.name} ({clinic.district})" if clinic.district else clinic.name


async def clinic_nudge(db, texts, lang: str, user_id: int) -> str | None:
    """One line for /menu: a mother who was never asked for her Puskesmas (registered before the
    question existed) while there is one to choose."""
    mother = await mothers.get_mother(db, user_id)
    if mother is None or mother.clinic_id is not None or mother.clinic_chosen_at is not None:
        return None
    if await clinics.count_clinics(db) == 0:
        return None
    return texts.t(lang, "clinic_choice.nudge")


# ----------------------------------------------------------------- changing it later
async def _current(context, user_id: int) -> clinics.Clinic | None:
    mother = await mothers.get_mother(context.db, user_id)
    if mother is None or mother.clinic_id is None:
        return None
    return await clinics.get_clinic(context.db, mother.clinic_id)


def _keep_rows(texts, lang: str, current: clinics.Clinic | None) -> list:
    return [] if current is None else [[(texts.t(lang, "clinic_choice.keep", clinic=current.name), "clc:keep")]]


async def start(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    if actor.role != "mother":
        await close_buttons(update, alert=context.texts.t(actor.lang, "clinic_choice.only_mother"))
        return END
    await close_buttons(update)
    t = context.texts.t
    current = await _current(context, actor.user_id)
    text = (t(actor.lang, "clinic_choice.ask_change", clinic=current.name) if current
            else t(actor.lang, "clinic_choice.ask_change_none"))
    await send(update, text, keyboard([*_keep_rows(context.texts, actor.lang, current),
                                       not_yet_row(context.texts, actor.lang, "clc")]))
    return SEARCH


async def typed(update: Update, context) -> str:
    actor = await load_actor(update, context)
    current = await _current(context, actor.user_id)
    text, markup = await search_reply(context.db, context.texts, actor.lang, update.message.text, "clc",
                                      _keep_rows(context.texts, actor.lang, current))
    await send(update, text, markup)
    return SEARCH


async def picked(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    choice = update.callback_query.data.split(":", 1)[1]
    t = context.texts.t
    if actor.role != "mother":
        await close_buttons(update, alert=t(actor.lang, "clinic_choice.only_mother"))
        return END
    old = await _current(context, actor.user_id)
    if choice == "keep":
        await close_buttons(update, t(actor.lang, "clinic_choice.keep", clinic=old.name if old else "-"))
        await send(update, t(actor.lang, "clinic_choice.kept", clinic=old.name if old else "-"))
    elif choice == "none":
        await close_buttons(update, t(actor.lang, "clinic_choice.not_yet"))
        await mothers.choose_clinic(context.db, actor.user_id, None, context.services.now_iso())
        await send(update, t(actor.lang, "clinic_choice.no_clinic_yet"))
    else:
        clinic = await clinics.get_clinic(context.db, int(choice))
        if clinic is None:  # removed meanwhile, or a forged button
            await close_buttons(update, alert=t(actor.lang, "common.stale_button_short"))
            await send(update, t(actor.lang, "clinic_choice.type_hint"))
            return SEARCH
        await close_buttons(update, clinic_label(clinic))
        await mothers.choose_clinic(context.db, actor.user_id, clinic.id, context.services.now_iso())
        if old is not None and old.id != clinic.id:
            await send(update, t(actor.lang, "clinic_choice.changed", clinic=clinic.name, old=old.name))
        else:
            await send(update, t(actor.lang, "clinic_choice.chosen", clinic=clinic.name))
    await menu.show_menu(update, context, actor)
    return END


async def reask(update: Update, context) -> str:
    actor = await load_actor(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer(context.texts.t(actor.lang, "common.stale_button_short"))
    await send(update, context.texts.t(actor.lang, "clinic_choice.type_hint"))
    return SEARCH


def build() -> ConversationHandler:
    from flows.global_commands import flow_fallbacks  # it imports account, which imports this module

    return ConversationHandler(
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:clinic_choice$")],
        states={SEARCH: [MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
                         CallbackQueryHandler(picked, pattern=r"^clc:(\d+|none|keep)$"),
                         MessageHandler(filters.ALL & ~is_global_command(), reask),
                         CallbackQueryHandler(reask)]},
        fallbacks=flow_fallbacks(),
        name="clinic_choice",
        persistent=True,
        allow_reentry=True,
    )


def register(app) -> None:
    app.add_handler(build())
    # a button from an earlier search, pressed after the flow ended, still works
    app.add_handler(CallbackQueryHandler(picked, pattern=r"^clc:(\d+|none|keep)$"))
    menu.add_menu_items("mother", ["clinic_choice"], 1)
