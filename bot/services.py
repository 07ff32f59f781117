"""What every handler needs, created once per application: settings, database, clock, texts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Texts
from db.database import Database
from reminders.ratelimit import SharedBudget


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts
    bot_username: str = ""
    extras: dict[str, Any] = field(default_factory=dict)  # per-feature singletons (file ids, dispatcher)
    # The bot token's one rate budget (Telegram's 30/s, 1/s per chat, 429 pauses), shared by the
    # replies (PTB's rate limiter) and the reminder wave.
    budget: SharedBudget | None = None

    def now_iso(self) -> str:
        from bot.clock import iso

        return iso(self.clock.now())
