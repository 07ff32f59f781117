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


class AppContext:
    """What the flows need from a handler's context (`db`, `bot`, `clock`, `texts`, `services`),
    built from the application: for jobs and the dashboard, which have no update."""

    def __init__(self, app: Application):
        self.application = app
        self.bot = app.bot
        self.services: Services = app.services  # type: ignore[attr-defined]
        self.db = self.services.db
        self.texts = self.services.texts
        self.clock = self.services.clock


__all__ = ["AppContext", "BotContext", "Application"]
