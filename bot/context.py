"""Our CallbackContext: `context.services`, `context.db`, `context.clock`, `context.texts`."""
from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def services(self) -> Services:
        return self.application.services  # type: ignore[attr-defined]

    @property
    def db(self):
        return self.services.db

    @property
    def clock(self):
        return self.services.clock

    @property
    def texts(self):
        return self.services.texts


__all__ = ["BotContext", "Application"]
