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
import logging
import time
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


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

    async def acquire_when_idle(self) -> float:
        """The wave's slot. In one process the replies' priority is `SharedBudget`'s (the wave
        asks only when no reply waits); the shared timeline (reminders/cluster_ratelimit.py) also
        waits for other processes' replies."""
        return await self.acquire()

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
        self._forget()

    def _forget(self) -> None:
        """Forget chats whose spacing has long passed: memory stays flat."""
        if len(self._next) > 4096 or len(self._answered) > 4096:
            now = self._monotonic()
            self._next = {chat: t for chat, t in self._next.items() if t > now}
            self._answered = {chat: t for chat, t in self._answered.items() if t + self.interval > now}

    def recently_sent(self, chat_id: int, window: float) -> bool:
        """Is a request to this chat on its way, or was one answered within `window` seconds?"""
        return chat_id in self._busy or self.answered_within(chat_id, window)

    def answered_within(self, chat_id: int, window: float) -> bool:
        last = self._answered.get(chat_id)
        return last is not None and self._monotonic() - last < window

    async def before_send(self, chat_id: int, stale_s: float = 60.0) -> None:
        while True:
            busy = self._busy.get(chat_id)
            if busy is not None:
                try:
                    await asyncio.wait_for(busy.wait(), stale_s)
                except asyncio.TimeoutError:  # never wait forever on a turn nobody gives back
                    if self._busy.get(chat_id) is busy:
                        log.warning("a chat's turn was held for %.0f s: taken over", stale_s)
                        self._busy.pop(chat_id, None)
                        busy.set()
                continue
            last = self._answered.get(chat_id)
            wait = 0.0 if last is None else last + self.interval - self._monotonic()
            if wait <= 1e-6:  # (a float residue must not loop forever)
                break
            await self._sleep(wait)
        self._busy[chat_id] = asyncio.Event()

    def answered(self, chat_id: int) -> None:
        """Another sender's request to this chat (a reply) was answered: space the next from it."""
        now = self._monotonic()
        self._answered[chat_id] = max(self._answered.get(chat_id, float("-inf")), now)
        self._next[chat_id] = max(self._next.get(chat_id, float("-inf")), now + self.interval)

    def hold(self, chat_id: int, seconds: float) -> float:
        """A per-chat 429: nothing goes to this chat for `seconds` (the wave's pump and
        `before_send` see it through `ready_at` / the answered time). Returns the end."""
        until = self._monotonic() + max(seconds, 0.0)
        self._next[chat_id] = max(self._next.get(chat_id, float("-inf")), until)
        # before_send waits `interval` after the last answer: shift it so it waits until `until`
        self._answered[chat_id] = max(self._answered.get(chat_id, float("-inf")), until - self.interval)
        return until

    def after_send(self, chat_id: int) -> None:
        now = self._monotonic()
        self._answered[chat_id] = now
        self._next[chat_id] = max(self._next.get(chat_id, float("-inf")), now + self.interval)
        busy = self._busy.pop(chat_id, None)
        if busy is not None:
            busy.set()
        self._forget()


class SharedBudget:
    """One rate budget per bot token, shared by the replies (PTB's rate limiter,
    `bot.ratelimit.PatientRateLimiter`) and the reminder wave (`reminders.dispatcher`).

    - `overall`: Telegram's overall cap (30 messages a second unpaid); `paid`: the paid-broadcast
      cap, a separate allowance at Telegram, for sends with `allow_paid_broadcast`.
    - `spacing`: one message per `chat_interval` per chat, whoever sends it; a per-chat 429 holds
      only that chat.
    - Replies go first: while a reply waits for a slot, the wave does not take one
      (`acquire_wave` waits until no reply is queued), so a wave plus replies never asks Telegram
      for more than the cap, and the wave gets what the replies leave.
    - `space_chats`: the replies keep the per-chat limit in advance too (`before_reply` /
      `after_reply`): a request to a chat (a message or an edit: Telegram counts both) leaves
      only once the previous request to that chat, the wave's included, was answered
      `chat_interval` ago. Off, only the wave is spaced and a reply meets the limit as a 429.
    - A 429: `pause_chat` when that chat had a message within the last `chat_interval` (the
      per-chat limit), otherwise `pause_overall`; both senders obey either pause.

    Time comes from injectable `monotonic` and `sleep`, as in `RateLimiter`.
    """

    def __init__(self, rate_per_s: float = 30.0, *, paid_rate_per_s: float = 1000.0, chat_interval: float = 1.1,
                 burst_s: float = 0.1, space_chats: bool = True, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.overall = RateLimiter(rate_per_s, burst_s=burst_s, monotonic=monotonic, sleep=sleep)
        self.space_chats = space_chats
        self.paid = RateLimiter(paid_rate_per_s, burst_s=burst_s, monotonic=monotonic, sleep=sleep)
        self.spacing = ChatSpacing(chat_interval, monotonic=monotonic, sleep=sleep)
        self.chat_interval = chat_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._replies_waiting = 0
        self._no_replies = asyncio.Event()
        self._no_replies.set()
        self._replies_in_flight: dict[int, int] = {}
        self._chat_held: dict[int, float] = {}  # chat -> end of its per-chat 429 pause
        self.chat_pauses = 0
        self.replies = 0   # slots granted to replies
        self.wave = 0      # slots granted to the wave

    def limiter(self, paid: bool = False) -> RateLimiter:
        return self.paid if paid else self.overall

    @property
    def replies_waiting(self) -> int:
        return self._replies_waiting

    async def acquire_reply(self, chat_id: int | None, paid: bool = False) -> float:
        """A reply's slot: after any pause of its chat, ahead of the wave."""
        if chat_id is not None:
            await self.wait_chat(chat_id)
        self._replies_waiting += 1
        self._no_replies.clear()
        try:
            granted = await self.limiter(paid).acquire()
        finally:
            self._replies_waiting -= 1
            if not self._replies_waiting:
                self._no_replies.set()
        self.replies += 1
        return granted

    async def acquire_wave(self, paid: bool = False) -> float:
        """The wave's slot: only when no reply is waiting for one (paid broadcast has its own cap)."""
        limiter = self.limiter(paid)
        if not paid:
            while self._replies_waiting:
                await self._no_replies.wait()
        # The slot is reserved on the timeline when asked for: replies arriving while the wave
        # sleeps until it take the slots after it (one wave slot at most is ahead of them).
        granted = await (limiter.acquire_when_idle() if not paid else limiter.acquire())
        self.wave += 1
        return granted

    async def wait_chat(self, chat_id: int) -> None:
        """Until a per-chat 429 pause of this chat is over."""
        while True:
            paused = self._chat_held.get(chat_id)
            wait = (paused - self._monotonic()) if paused is not None else 0.0
            if wait <= 1e-6:
                return
            await self._sleep(wait)

    def follows(self, chat_id: int, holding_turn: bool = False) -> bool:
        """Did this chat have a message lately (or one on its way)? "Lately": within
        `chat_interval`, or twice that when requests are spaced in advance (then a 429 right after
        the spacing still most likely means this chat). `holding_turn`: the caller holds the
        chat's turn (`before_reply`), so the request on its way is its own."""
        window = self.chat_interval * (2 if self.space_chats else 1)
        if self._replies_in_flight.get(chat_id):
            return True
        if holding_turn:
            return self.spacing.answered_within(chat_id, window)
        return self.spacing.recently_sent(chat_id, window)

    async def before_reply(self, chat_id: int) -> bool:
        """With `space_chats`: wait until this chat may have its next request (the previous one,
        reply or wave, answered `chat_interval` ago; one at a time). True when the caller must
        call `after_reply` once its request is answered or failed."""
        if not self.space_chats:
            return False
        await self.spacing.before_send(chat_id)
        return True

    def after_reply(self, chat_id: int) -> None:
        self.spacing.after_send(chat_id)

    def reply_started(self, chat_id: int) -> None:
        self._replies_in_flight[chat_id] = self._replies_in_flight.get(chat_id, 0) + 1

    def reply_answered(self, chat_id: int) -> None:
        left = self._replies_in_flight.get(chat_id, 1) - 1
        if left > 0:
            self._replies_in_flight[chat_id] = left
        else:
            self._replies_in_flight.pop(chat_id, None)
        self.spacing.answered(chat_id)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """A per-chat 429: only this chat waits `seconds` (replies and the wave)."""
        until = self.spacing.hold(chat_id, seconds)
        held = self._chat_held
        if until > held.get(chat_id, float("-inf")):
            held[chat_id] = until
            self.chat_pauses += 1
        if len(held) > 4096:
            now = self._monotonic()
            self._chat_held = {chat: t for chat, t in held.items() if t > now}

    def pause_overall(self, seconds: float, paid: bool = False) -> None:
        """An overall 429: nobody (replies, wave) starts before `seconds` from now."""
        self.limiter(paid).pause(seconds)

    def pause_for(self, chat_id: int | None, seconds: float, follows: bool, paid: bool = False) -> str:
        """Pause what a 429 most likely meant; returns "chat" or "overall"."""
        if chat_id is not None and follows:
            self.pause_chat(chat_id, seconds)
            return "chat"
        self.pause_overall(seconds, paid)
        return "overall"


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
