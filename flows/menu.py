"""The menu per role, and messages to other people (mother, companions, midwives)."""
from __future__ import annotations

import logging

from telegram import Update

from bot.actor import Actor
from flows.ui import keyboard, send

log = logging.getLogger(__name__)

# role -> rows of menu items; each item `x` is the button `menu:x`, labelled by text `menu.x`.
MENU: dict[str | None, list[list[str]]] = {
    "mother": [["companions"], ["mydata", "language"], ["help"]],
    "companion": [["my_mothers"], ["mydata", "language"], ["help"]],
    "midwife": [["mydata", "language"], ["help"]],
    None: [["register"], ["language", "help"]],
}


def add_menu_items(role: str, row: list[str], position: int = 0) -> None:
    """Features add their entries here when they are registered."""
    if row not in MENU[role]:
        MENU[role].insert(position, row)


def label(texts, lang: str, item: str) -> str:
    """`menu.<item>` for the basic entries; a feature's own `<item>.menu_label` otherwise."""
    try:
        return texts.t(lang, f"menu.{item}")
    except KeyError:
        return texts.t(lang, f"{item}.menu_label")


def menu_markup(texts, actor: Actor):
    return keyboard([[(label(texts, actor.lang, item), f"menu:{item}") for item in row]
                     for row in MENU[actor.role]])


async def show_menu(update: Update, context, actor: Actor, intro_key: str = "menu.title") -> None:
    await send(update, context.texts.t(actor.lang, intro_key), menu_markup(context.texts, actor))


async def notify(context, user_id: int, key: str, markup=None, **values) -> bool:
    """Send a text to another user in her own language; values ending in `_key` are texts too.

    A user who blocked the bot is marked inactive; False tells the caller it did not arrive
    (the notifier port, bot/notifier.py, is the one place for that).
    """
    return await context.services.notifier.notify(user_id, key, markup, **values)
