"""Nobody drops silently out of the safety net: a user who once blocked the bot (a reminder or
an alert answered 403) is marked inactive, and any message or button from her makes her
reachable again, before any other handler runs."""
from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from db.queries import users


async def mark_reachable(update: object, context) -> None:
    if not isinstance(update, Update) or update.effective_user is None:
        return
    row = await users.get_user(context.db, update.effective_user.id)
    if row is not None and not row.active:
        await users.set_active(context.db, row.telegram_id, True)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, mark_reachable), group=-1)
