"""Updates of different users are handled concurrently; the updates of one chat in the order
they came. A bounded number are in flight at once (PTB's semaphore), so a burst after a
reminder wave cannot grow without bound in memory.

Each chat has an asyncio.Lock while it has updates waiting; locks are FIFO and the application
starts the update tasks in the order it fetched them, so one chat's updates run one after the
other, in order, while other chats go on. Conversations, drafts and "first press" guards, which
are per user and chat, stay correct.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

IN_FLIGHT = 256


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = IN_FLIGHT):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nothing more of this chat: forget its lock
                del self._waiting[key]
                del self._locks[key]

    @property
    def chats_in_flight(self) -> int:
        return len(self._locks)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
