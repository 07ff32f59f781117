"""python-telegram-bot persistence backed by our database (SQLite or PostgreSQL).

Stores conversation states and per-user drafts (`user_data`), nothing else. The
application flushes after every update (see `bot.application.BotApplication`), so a
user in the middle of a flow continues where she was after a restart or a crash.

The database, not the process, holds a user's flow: every update reads that user's draft
(`refresh_user_data`, called by PTB) and conversation states (`bot.flow_state`) before its
handlers run, so with several workers any of them can take a user's next step.
"""
from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from db.database import Database


def _key_json(key: tuple) -> str:
    """A conversation key as stored: `(chat, user)` -> "[chat, user]"."""
    return json.dumps(list(key))


class DatabasePersistence(BasePersistence):
    def __init__(self, db: Database):
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=60,
        )
        self.db = db

    # user_data: drafts of answers inside a flow
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        # Nothing is loaded at start: each update reads its user's draft (refresh_user_data), so
        # a worker holds only the users it served, and never a stale copy.
        return {}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        if not data:
            await self.db.execute("DELETE FROM user_draft WHERE user_id = ?", (user_id,))
            return
        await self.db.execute(
            "INSERT INTO user_draft(user_id, data) VALUES (?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET data = excluded.data",
            (user_id, json.dumps(data, default=str)),
        )

    async def drop_user_data(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM user_draft WHERE user_id = ?", (user_id,))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Per update, before its handlers (PTB calls it when it builds the update's context):
        the stored draft replaces, in place, whatever this process held for the user, which
        another worker may have changed since."""
        row = await self.db.fetchone("SELECT data FROM user_draft WHERE user_id = ?", (user_id,))
        user_data.clear()
        if row is not None:
            user_data.update(json.loads(row["data"]))

    # conversations
    async def get_conversations(self, name: str) -> dict:
        # Nothing is loaded at start: each update reads its key (bot/flow_state.py).
        return {}

    async def get_conversation_states(self, keys: dict[str, tuple]) -> dict[str, object]:
        """The stored state of one key in each of several conversations ({name: key}), in one
        query; a conversation without a row for its key is left out."""
        wanted = {name: _key_json(key) for name, key in keys.items()}
        if not wanted:
            return {}
        rows = await self.db.fetchall(
            "SELECT name, key, state FROM conversation_state WHERE name IN ? AND key IN ?",
            (sorted(wanted), sorted(set(wanted.values()))),
        )
        return {row["name"]: json.loads(row["state"]) for row in rows if wanted.get(row["name"]) == row["key"]}

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        key_json = _key_json(key)
        if new_state is None:
            await self.db.execute("DELETE FROM conversation_state WHERE name = ? AND key = ?", (name, key_json))
        else:
            await self.db.execute(
                "INSERT INTO conversation_state(name, key, state) VALUES (?, ?, ?) "
                "ON CONFLICT(name, key) DO UPDATE SET state = excluded.state",
                (name, key_json, json.dumps(new_state)),
            )

    async def drop_user_everywhere(self, user_id: int) -> None:
        """Forget every conversation state of a user (after /hapus)."""
        await self.db.execute(
            "DELETE FROM conversation_state WHERE key LIKE ?", (f"[{user_id}, {user_id}]",)
        )
        await self.drop_user_data(user_id)

    # not stored
    async def get_bot_data(self) -> dict:
        return {}

    async def update_bot_data(self, data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return None

    async def get_chat_data(self) -> dict:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: object) -> None:
        return None

    async def flush(self) -> None:
        return None
