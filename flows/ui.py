"""Small display helpers shared by the flows: keyboards, replies, answering button presses."""
from __future__ import annotations

import logging
from typing import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

log = logging.getLogger(__name__)

Button = tuple[str, str]  # (label, callback data)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows if row]
    )


def url_keyboard(label: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


async def send(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send a new message to the chat of this update (message or button press)."""
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, reply_markup=markup)


async def close_buttons(update: Update, note: str | None = None, alert: str | None = None) -> None:
    """Answer a button press and take the buttons off its message, so it cannot be pressed twice.

    `note` is appended to the message to show what was chosen.
    """
    query = update.callback_query
    if query is None:
        return
    await query.answer(alert)
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        if note and message.text:
            await message.edit_text(f"{message.text}\n\n➜ {note}", reply_markup=None)
        elif message.reply_markup and message.reply_markup.inline_keyboard:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:  # deleted or too old to edit: the answer still counts
        log.debug("could not close buttons: %s", exc.message)


def chosen_label(update: Update) -> str | None:
    """The text of the button that was pressed."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or query.message.reply_markup is None:
        return None
    for row in query.message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None
