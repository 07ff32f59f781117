"""Telegram's command menu: the list per language, and a midwife's own list in her chat."""
from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat
from telegram.ext import Application

from bot.i18n import LANGUAGES
from flows.commands import LISTED, MIDWIFE_LISTED, command_name


def command_list(texts, lang: str, actions: list[str]) -> list[BotCommand]:
    return [BotCommand(command_name(action, lang), texts.t(lang, f"commands.{action}")) for action in actions]


async def register_commands(app: Application) -> None:
    """Telegram's command menu, per language (Indonesian is also the default)."""
    texts = app.services.texts  # type: ignore[attr-defined]
    for lang in LANGUAGES:
        commands = command_list(texts, lang, LISTED)
        await app.bot.set_my_commands(commands, language_code=lang)
        if lang == "id":
            await app.bot.set_my_commands(commands)


async def register_midwife_commands(bot, texts, chat_id: int, lang: str) -> None:
    """A midwife's own chat lists her commands (summary, mothers, export)."""
    await bot.set_my_commands(command_list(texts, lang, MIDWIFE_LISTED), scope=BotCommandScopeChat(chat_id))
