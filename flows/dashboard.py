"""/dasbor (/dashboard): the midwife's way into the desk dashboard (web/, docs/dashboard.md).

She gets a button that opens the Mini App inside Telegram, and a one-time login link for a
desktop browser (valid 10 minutes, single use; only its hash is stored). Anyone who is not a
midwife gets the usual "midwives only" answer; without DASHBOARD_URL the bot says it is off.
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.ext import Application, CommandHandler

from bot.actor import load_actor
from db.queries import clinic_scope
from db.queries.clinic_scope import NotAMidwife
from flows.commands import names
from flows.ui import close_buttons, send
from web.auth import new_login_token

COMMANDS = names("dashboard")


async def show(update: Update, context) -> None:
    actor = await load_actor(update, context)
    t = context.texts.t
    await close_buttons(update)
    try:
        scope = await clinic_scope.scope_of(context.db, actor.user_id)
    except NotAMidwife:
        await send(update, t(actor.lang, "midwife.only_midwives"))
        return
    base = context.services.settings.dashboard_url
    if not base:
        await send(update, t(actor.lang, "dashboard.chat.disabled"))
        return
    token = await new_login_token(context.db, actor.user_id, context.clock.now())
    link = f"{base}/login/{token}"
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(t(actor.lang, "dashboard.chat.open"), web_app=WebAppInfo(f"{base}/"))],
        [InlineKeyboardButton(t(actor.lang, "dashboard.chat.browser"), url=link)],
    ])
    await send(update, t(actor.lang, "dashboard.chat.message", clinic=scope.clinic_name, link=link), markup)


def register(app: Application) -> None:
    app.add_handler(CommandHandler(COMMANDS, show))
