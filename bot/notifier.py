"""The Telegram side of the use cases' notifier port (`usecases.ports.Notifier`).

The one place where a message to someone other than the update's sender meets Telegram's
answers: 403 (she blocked the bot) marks her inactive, a message that can no longer be edited
is logged and skipped. 429s never reach here: the rate limiter (`bot.ratelimit`) waits them out
against the bot's one rate budget and tries again.
"""
from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from db.database import Database
from db.queries import users
from usecases.ports import Buttons, ButtonsFor, Delivery

log = logging.getLogger(__name__)


def markup(buttons: Buttons | InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    if not buttons or isinstance(buttons, InlineKeyboardMarkup):  # (a handler's own markup passes through)
        return buttons or None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons if row])


class TelegramNotifier:
    def __init__(self, bot: Bot, db: Database, texts):
        self.bot, self.db, self.texts = bot, db, texts

    async def notify(self, user_id: int, key: str, buttons: ButtonsFor = None, **values) -> bool:
        row = await users.get_user(self.db, user_id)
        if row is None or not row.active:
            return False
        lang = row.language
        resolved = {k.removesuffix("_key"): (self.texts.t(lang, v) if k.endswith("_key") else v)
                    for k, v in values.items()}
        rows = buttons(lang) if callable(buttons) else buttons
        return await self.send(user_id, self.texts.t(lang, key, **resolved), rows)

    async def deliver(self, user_id: int, text_of, buttons: ButtonsFor = None) -> Delivery:
        row = await users.get_user(self.db, user_id)
        if row is None:
            return Delivery("failed")
        rows = buttons(row.language) if callable(buttons) else buttons
        try:
            message = await self.bot.send_message(user_id, text_of(row.language), reply_markup=markup(rows))
        except Forbidden:
            await users.set_active(self.db, user_id, False)
            return Delivery("blocked")
        except TelegramError as exc:  # 5xx after the retries, network, chat not found
            log.warning("message not delivered: %s", type(exc).__name__)
            return Delivery("failed")
        if not row.active:  # it arrived: she is reachable again
            await users.set_active(self.db, user_id, True)
        return Delivery("sent", message.message_id)

    async def send(self, chat_id: int, text: str, buttons: Buttons | None = None) -> bool:
        try:
            await self.bot.send_message(chat_id, text, reply_markup=markup(buttons))
        except Forbidden:
            await users.set_active(self.db, chat_id, False)
            return False
        except BadRequest as exc:
            log.warning("message not sent: %s", exc.message)
            return False
        return True

    async def edit(self, chat_id: int, message_id: int, text: str, buttons: ButtonsFor = None) -> bool:
        if callable(buttons):
            row = await users.get_user(self.db, chat_id)
            if row is None:
                return False
            buttons = buttons(row.language)
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                             reply_markup=markup(buttons))
        except Forbidden:
            await users.set_active(self.db, chat_id, False)
            return False
        except TelegramError as exc:  # deleted, too old, or already showing this; 5xx after the retries
            log.debug("message not edited: %s", type(exc).__name__)
            return False
        return True
