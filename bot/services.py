"""What every handler and job needs, created once per application.

Each thing a feature keeps for the life of the process has its own typed field here (no grab
bag): the reminder dispatcher, the scheduler election, the running exports, caches.
"""
from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Texts
from db.database import Database
from reminders.ratelimit import SharedBudget
from usecases.ports import Deps, Notifier

if TYPE_CHECKING:
    from bot.inbox import Inbox
    from bot.leader import Leader
    from reminders.dispatcher import Dispatcher


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts
    bot_username: str = ""
    # The bot token's one rate budget (Telegram's 30/s, 1/s per chat, 429 pauses), shared by the
    # replies (PTB's rate limiter) and the reminder wave.
    budget: SharedBudget | None = None
    # How use cases reach people (bot.notifier.TelegramNotifier, set when the bot is built).
    notifier: Notifier | None = None
    reminders: "Dispatcher | None" = None          # the reminder wave (flows/reminders.py)
    leader: "Leader | None" = None                 # which worker runs the scheduler (bot/leader.py)
    inbox: "Inbox | None" = None                   # stored updates (bot/inbox.py), polling or webhook
    dashboard: Any = None                          # the desk dashboard's server (web/server.py)
    # Run by the terminal demo after it moves the clock: what a job would do at the new time.
    clock_hooks: list[Callable[[Any], Awaitable[Any]]] = field(default_factory=list)
    exports: dict[int, asyncio.Task] = field(default_factory=dict)  # one running export per midwife
    quiz_random: random.Random = field(default_factory=random.Random)  # shuffles quiz items
    chart_cache: OrderedDict = field(default_factory=OrderedDict)      # summary charts by their numbers
    media_files: dict = field(default_factory=dict)                    # picture bytes and digests
    timer_lock: asyncio.Lock = field(default_factory=asyncio.Lock)     # the guide timer's ticks, one at a time

    def now_iso(self) -> str:
        from bot.clock import iso

        return iso(self.clock.now())

    @property
    def deps(self) -> Deps:
        """What a use case takes (usecases/)."""
        if self.notifier is None:
            raise RuntimeError("the notifier is set when the application is built")
        return Deps(db=self.db, clock=self.clock, texts=self.texts, settings=self.settings, notifier=self.notifier)
