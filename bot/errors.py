"""The one error handler: log what failed (no personal data, no token), apologise to the user."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError

from bot.i18n import pick_language
from db.database import current_unit_of_work

log = logging.getLogger("sahabat_nifas.errors")


async def on_error(update: object, context) -> None:
    error = context.error
    # The failed update's unit of work: what it wrote since its last Telegram request is undone,
    # so an error leaves no half-written rows.
    unit = current_unit_of_work()
    if unit is not None:
        await unit.rollback()
    kind = _describe(update)
    if isinstance(error, Forbidden):
        log.info("user blocked the bot while handling %s", kind)
        return
    log.error("error while handling %s: %s", kind, type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None and not isinstance(error, NetworkError):
        lang = pick_language(update.effective_user.language_code if update.effective_user else None)
        if context.user_data and context.user_data.get("lang"):
            lang = context.user_data["lang"]
        try:
            await context.bot.send_message(update.effective_chat.id, context.texts.t(lang, "common.error"))
        except Exception:  # noqa: BLE001 - the apology is best effort
            log.warning("could not send the apology")


def _describe(update: object) -> str:
    if not isinstance(update, Update):
        return "a job"
    if update.callback_query is not None:
        return f"button {str(update.callback_query.data).split(':', 1)[0]}:… (update {update.update_id})"
    if update.effective_message is not None:
        text = update.effective_message.text or ""
        return f"message {'command ' + text.split()[0] if text.startswith('/') else ''}(update {update.update_id})"
    return f"update {update.update_id}"
