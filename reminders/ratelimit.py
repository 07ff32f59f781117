"""Pacing a reminder wave: a global rate cap, one message per second per chat, and 429 pauses.

`RateLimiter` is a virtual-scheduling (GCRA) limiter: each caller reserves the next free slot on
an evenly spaced timeline and sleeps until it, so the rate holds exactly without drift and
without a busy loop. A short catch-up allowance (`burst_s`) lets the wave make up for a moment
the event loop spent elsewhere (a database batch), never more than `rate * burst_s` at once.
`pause(seconds)` obeys Telegram's `retry_after`: nobody starts before it ends, and callers who
had reserved a slot inside the pause take a new one after it.

Time comes from injectable `monotonic` and `sleep` functions, so tests run without waiting.
"""
from __future__ import annotations

import asyncio
import heapq
import time
from typing import Awaitable, Callable


class RateLimiter:
    def __init__(self, rate_per_s: float, *, burst_s: float = 0.1,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        if rate_per_s <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate_per_s
        self.interval = 1.0 / rate_per_s
        self.burst_s = max(burst_s, 0.0)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = float("-inf")
        self._paused_until = float("-inf")
        self.pauses = 0

    async def acquire(self) -> float:
        """Wait for a slot; returns the (monotonic) instant it was granted."""
        while True:
            now = self._monotonic()
            slot = max(self._next, now - self.burst_s, self._paused_until)
            self._next = slot + self.interval
            if slot > now:
                await self._sleep(slot - now)
            if slot >= self._paused_until:
                return max(slot, now)
            # a 429 pause began while we waited: take a new slot after it

    def pause(self, seconds: float) -> None:
        """Telegram said `retry_after`: nothing starts before `seconds` from now."""
        until = self._monotonic() + max(seconds, 0.0)
        if until > self._paused_until:
            self._paused_until = until
            self._next = max(self._next, until)
            self.pauses += 1


class ChatSpacing:
    """At most one message per `interval` seconds to the same chat (Telegram: about 1/s).

    The pump asks `ready_at` before letting a chat's next message go. The sender brackets its
    request with `before_send` / `after_send`: a chat's next request leaves only once the
    previous one was answered and `interval` has passed since. Measured from the answer, the
    gap at Telegram's end is at least `interval` however long either request spent on the way.
    """

    def __init__(self, interval: float = 1.0, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[int, float] = {}
        self._answered: dict[int, float] = {}
        self._busy: dict[int, asyncio.Event] = {}

    def ready_at(self, chat_id: int) -> float:
        """When this chat may get its next message (in the past if now)."""
        return self._next.get(chat_id, float("-inf"))

    def note(self, chat_id: int, at: float) -> None:
        self._next[chat_id] = at + self.interval
        if len(self._next) > 4096:  # forget chats whose spacing has long passed: memory stays flat
            now = self._monotonic()
            self._next = {chat: t for chat, t in self._next.items() if t > now}
            self._answered = {chat: t for chat, t in self._answered.items() if t + self.interval > now}

    def recently_sent(self, chat_id: int, window: float) -> bool:
        """Is a request to this chat on its way, or was one answered within `window` seconds?"""
        last = self._answered.get(chat_id)
        return chat_id in self._busy or (last is not None and self._monotonic() - last < window)

    async def before_send(self, chat_id: int) -> None:
        while True:
            busy = self._busy.get(chat_id)
            if busy is not None:
                await busy.wait()
                continue
            last = self._answered.get(chat_id)
            wait = 0.0 if last is None else last + self.interval - self._monotonic()
            if wait <= 1e-6:  # (a float residue must not loop forever)
                break
            await self._sleep(wait)
        self._busy[chat_id] = asyncio.Event()

    def after_send(self, chat_id: int) -> None:
        now = self._monotonic()
        self._answered[chat_id] = now
        self._next[chat_id] = max(self._next.get(chat_id, float("-inf")), now + self.interval)
        busy = self._busy.pop(chat_id, None)
        if busy is not None:
            busy.set()


class Deferred:
    """Items waiting for a moment (a chat's spacing, a retry's backoff), earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, object]] = []
        self._seq = 0

    def push(self, at: float, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, item))

    def pop_ready(self, now: float) -> object | None:
        if self._heap and self._heap[0][0] <= now:
            return heapq.heappop(self._heap)[2]
        return None

    def next_at(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
