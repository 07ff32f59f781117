"""The one guard for midwife handlers: load who is talking, run the handler; a refusal from
`db.queries.clinic_scope` (not a midwife, another clinic's or an unknown id) gets one clear
answer, the same for every case, so a forged button learns nothing."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ConversationHandler

from bot.actor import load_actor
from db.queries.clinic_scope import NotAMidwife, NotYourClinic
from flows.ui import send


def midwife_only(*drafts: str):
    """Decorate `handler(update, context, actor)`; on a refusal the `drafts` (user_data keys of
    the flow the handler belongs to) are dropped and the flow ends."""
    def decorate(handler):
        async def wrapped(update: Update, context) -> int | str | None:
            actor = await load_actor(update, context)
            try:
                return await handler(update, context, actor)
            except NotAMidwife:
                key = "midwife.only_midwives"
            except NotYourClinic:
                key = "midwife.not_found"
            for draft in drafts:
                context.user_data.pop(draft, None)
            text = context.texts.t(actor.lang, key)
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            await send(update, text)
            return ConversationHandler.END

        wrapped.__name__ = handler.__name__
        return wrapped

    return decorate
