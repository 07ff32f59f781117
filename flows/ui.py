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
    await _take_buttons_off(query.message, note)


async def _take_buttons_off(message, note: str | None) -> None:
    if not isinstance(message, Message):
        return
    try:
        if note and message.text:
            await message.edit_text(f"{message.text}\n\n➜ {note}", reply_markup=None)
        elif message.reply_markup and message.reply_markup.inline_keyboard:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:  # deleted or too old to edit: the answer still counts
        log.debug("could not close buttons: %s", exc.message)


async def answer_press(update: Update) -> None:
    """Stop the spinner of a pressed button now, before slow work (answering is free: Telegram
    does not count it against the limits). Too late to answer is no error: the work goes on."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except BadRequest as exc:
        log.debug("could not answer the button press: %s", exc.message)


async def edit_or_send(update: Update, text: str, markup: InlineKeyboardMarkup | None = None,
                       note: str | None = None, *, answered: bool = False) -> bool:
    """Show `text` with `markup` (its buttons, or none) as the next step after a button press:
    the message the button was on becomes it, in one request. True when it was edited in place.

    Telegram counts an edit like a send (about one request a second per chat, 30 a second
    overall), while answering the press is free; `close_buttons` + `send` cost two. Without a
    button press (a typed answer, a command), or when that message cannot become `text` (a photo,
    deleted, too old), it falls back to `close_buttons` (appending `note`) and sends `text` as a
    new message: nothing is lost. "Message is not modified" (an update handled again after a
    crash) means it shows `text` already: nothing more is sent. `answered`: the caller answered
    the press already (`answer_press`).
    """
    query = update.callback_query
    if query is None:
        await send(update, text, markup)
        return False
    if not answered:
        await answer_press(update)
    message = query.message
    if isinstance(message, Message) and message.text:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return True
        except BadRequest as exc:
            if "not modified" in exc.message:  # handled again: it shows this already
                return True
            log.debug("could not edit the pressed message, sending anew: %s", exc.message)
    await _take_buttons_off(message, note)
    await send(update, text, markup)
    return False


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
