"""Who is talking: loaded once per update from the database (the unit of work's first step)."""
from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from bot.i18n import pick_language
from db.queries.users import get_user


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str | None  # mother, companion, midwife, or None before registration
    lang: str
    first_name: str

    @property
    def registered(self) -> bool:
        return self.role is not None


async def load_actor(update: Update, context) -> Actor:
    user = update.effective_user
    assert user is not None
    row = await get_user(context.db, user.id)
    if row is not None:
        return Actor(user.id, row.role, row.language, user.first_name or "")
    lang = context.user_data.get("lang") if context.user_data is not None else None
    return Actor(user.id, None, lang or pick_language(user.language_code), user.first_name or "")
