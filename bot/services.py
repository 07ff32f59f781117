"""What every handler needs, created once per application: settings, database, clock, texts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Texts
from db.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts
    bot_username: str = ""
    extras: dict[str, Any] = field(default_factory=dict)  # per-feature singletons (file ids, dispatcher)

    def now_iso(self) -> str:
        from bot.clock import iso

        return iso(self.clock.now())
