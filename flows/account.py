"""Everyday commands: /menu, /bantuan, /saya, /hapus, /batal, /bahasa, and the fallbacks."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ConversationHandler

from bot.actor import load_actor
from bot.i18n import LANGUAGES
from db.queries import companions, privacy, users
from flows import clinic_choice, contacts, menu
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)


async def show_menu(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    nudge = None
    if actor.role == "mother":  # never asked for her Puskesmas (registered before the question)
        nudge = await clinic_choice.clinic_nudge(context.db, context.texts, actor.lang, actor.user_id)
    if nudge is None:
        await menu.show_menu(update, context, actor)
        return
    await send(update, context.texts.t(actor.lang, "menu.title") + "\n\n" + nudge,
               menu.menu_markup(context.texts, actor))


async def help_cmd(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    role = actor.role or "new"
    text = context.texts.t(actor.lang, f"help.{role}")
    numbers = await _help_contacts(context, actor)
    await send(update, f"{text}\n\n{numbers}" if numbers else text)
    await menu.show_menu(update, context, actor)


async def _help_contacts(context, actor) -> str | None:
    """Whom to call: her Puskesmas (for a companion, each mother's) and always 112 / 119."""
    db, texts, lang = context.db, context.texts, actor.lang
    if actor.role == "mother":
        return texts.t(lang, "help.contacts_title") + "\n" + await contacts.contact_block_for_mother(
            db, texts, lang, actor.user_id)
    if actor.role == "companion":
        links = await companions.links_of_companion(db, actor.user_id)
        if not links:
            return texts.t(lang, "help.contacts_title") + "\n" + contacts.contact_block(texts, lang, None)
        blocks = [texts.t(lang, "help.contacts_for_mother", mother=link.mother_name) + "\n"
                  + await contacts.contact_block_for_mother(db, texts, lang, link.mother_id) for link in links]
        return "\n\n".join(blocks)
    return None


async def register(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    await send(update, context.texts.t(actor.lang, "onboarding.press_start"))


async def cancel_in_flow(update: Update, context) -> int:
    """/batal inside a flow: forget the flow's draft and leave it."""
    return await _cancel(update, context, "common.cancelled")


async def cancel_outside(update: Update, context) -> None:
    await _cancel(update, context, "common.nothing_to_cancel")


async def _cancel(update: Update, context, key: str) -> int:
    actor = await load_actor(update, context)
    await close_buttons(update)
    context.user_data.clear()
    if not actor.registered:
        context.user_data["lang"] = actor.lang
    await send(update, context.texts.t(actor.lang, key))
    await menu.show_menu(update, context, actor)
    return ConversationHandler.END


# ----------------------------------------------------------------- /saya
def render_my_data(texts, lang: str, data: dict[str, list[dict]]) -> str:
    if not data:
        return texts.t(lang, "mydata.nothing")
    lines = [texts.t(lang, "mydata.title")]
    for table, rows in data.items():
        lines.append("")
        lines.append(f"▪ {texts.t(lang, f'mydata.tables.{table}')} ({len(rows)})")
        for row in rows[:20]:
            lines.append("  – " + "; ".join(f"{_field(texts, lang, k)}: {v}" for k, v in row.items() if v is not None))
        if len(rows) > 20:
            lines.append("  " + texts.t(lang, "mydata.more", n=len(rows) - 20))
    lines.append("")
    lines.append(texts.t(lang, "mydata.footer"))
    return "\n".join(lines)


def _field(texts, lang: str, column: str) -> str:
    """A column's readable name (`mydata.fields.<column>`), or the column name in words."""
    try:
        return texts.t(lang, f"mydata.fields.{column}")
    except KeyError:
        return column.replace("_", " ")


def split_message(text: str, limit: int = 4000) -> list[str]:
    """Split on line breaks so that each part fits in one Telegram message."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            parts.append(current) if current else None
            current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) + 1 > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts


async def my_data(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    data = await privacy.collect(context.db, actor.user_id)
    for part in split_message(render_my_data(context.texts, actor.lang, data)):
        await send(update, part)


# ----------------------------------------------------------------- /hapus
async def delete_ask(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    if not actor.registered:
        context.user_data.clear()
        await send(update, context.texts.t(actor.lang, "delete.nothing"))
        return
    t = context.texts.t
    await send(update, t(actor.lang, f"delete.confirm_{actor.role}"), keyboard([
        [(t(actor.lang, "delete.yes"), "del:yes")], [(t(actor.lang, "delete.no"), "del:no")]]))


async def delete_answer(update: Update, context) -> None:
    actor = await load_actor(update, context)
    t = context.texts.t
    if update.callback_query.data == "del:no":
        await close_buttons(update, t(actor.lang, "delete.no"))
        await menu.show_menu(update, context, actor)
        return
    await close_buttons(update, t(actor.lang, "delete.yes"))
    if not actor.registered:
        await send(update, t(actor.lang, "delete.nothing"))
        return
    mother_name = await context.db.fetchval("SELECT display_name FROM mother WHERE user_id = ?", (actor.user_id,))
    unlinked = await privacy.delete_user(context.db, actor.user_id)
    context.application.drop_user_data(actor.user_id)
    for feature_hook in context.services.extras.get("on_delete", []):
        await feature_hook(context, actor.user_id)
    for companion_id in unlinked:
        await menu.notify(context, companion_id, "companions.mother_left_notice", mother=mother_name or "")
    log.info("user data deleted (role=%s)", actor.role)
    await send(update, t(actor.lang, "delete.done"))


# ----------------------------------------------------------------- /bahasa
async def language_ask(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    await send(update, context.texts.t(actor.lang, "language.question"),
               keyboard([[(context.texts.t(lang, "language.name"), f"lang:{lang}") for lang in LANGUAGES]]))


async def language_set(update: Update, context) -> None:
    lang = update.callback_query.data.split(":", 1)[1]
    actor = await load_actor(update, context)
    await close_buttons(update, context.texts.t(lang, "language.name"))
    if actor.registered:
        await users.set_language(context.db, actor.user_id, lang)
    else:
        context.user_data["lang"] = lang
    actor = await load_actor(update, context)
    await send(update, context.texts.t(lang, "language.changed"))
    await menu.show_menu(update, context, actor)


# ----------------------------------------------------------------- anything else
async def unknown_message(update: Update, context) -> None:
    actor = await load_actor(update, context)
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        key = "fallback.unknown_command"
    elif message is not None and message.text:
        key = "fallback.text"
    else:
        key = "fallback.media"
    await send(update, context.texts.t(actor.lang, key))
    await menu.show_menu(update, context, actor)


async def stale_button(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
    await send(update, context.texts.t(actor.lang, "fallback.stale_button"))
    await menu.show_menu(update, context, actor)
