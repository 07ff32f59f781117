"""The loopback Bot API with Telegram's flood limits, run in its own process for benchmarks.

`RateCappedBotAPI` answers a send with 429 and `retry_after` when the bot goes faster than
`cap_per_s` overall (a token bucket holding one second's worth, as Telegram tolerates short
bursts), than `paid_cap_per_s` for messages sent with `allow_paid_broadcast`, or than one message
per `chat_interval_s` to the same chat. It counts the reminders each chat received, so the
benchmark can tell duplicates and losses from what actually arrived, not from what the bot says.

`serve()` runs it in a child process (pinned to its own core when there is one), so the bot's
CPU time and memory are measured alone.
"""
from __future__ import annotations

import asyncio
import contextvars
import math
import os
import time
from collections import Counter
from typing import Any

from loopback.server import ApiError, LoopbackBotAPI

SENDS = {"sendMessage", "sendPhoto", "sendAnimation", "sendDocument", "sendPoll"}
_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("arrived")


class TokenBucket:
    def __init__(self, rate: float, capacity: float | None = None):
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, now: float) -> float:
        """0 if a token was taken, else the seconds until one is free."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateCappedBotAPI(LoopbackBotAPI):
    def __init__(self, *, cap_per_s: float = 30.0, paid_cap_per_s: float = 1000.0, chat_interval_s: float = 1.0,
                 chat_tolerance_s: float = 0.05, **kwargs: Any):
        super().__init__(**kwargs)
        self.buckets = {False: TokenBucket(cap_per_s), True: TokenBucket(paid_cap_per_s)}
        self.chat_interval_s = chat_interval_s
        self.chat_tolerance_s = chat_tolerance_s
        self.last_send: dict[int, float] = {}
        self.http_429 = 0
        self.refused_chat = 0      # 429s for going faster than one message per second to a chat
        self.refused_overall = 0   # 429s for going over the overall cap
        self.accepted = 0
        self.reminders: Counter = Counter()  # (chat, button key) -> how many arrived
        self.pushed_at: dict[int, float] = {}    # chat -> when its update was handed to the bot
        self.answered_at: dict[int, float] = {}  # chat -> when the bot's first answer arrived

    async def _handle(self, request):  # type: ignore[override]
        _ARRIVED.set(time.monotonic())  # limits count from arrival, before the simulated latency
        return await super()._handle(request)

    async def _dispatch(self, method: str, raw: dict, uploads: dict) -> Any:
        if method in SENDS:
            self._check_flood(raw)
        result = await super()._dispatch(method, raw, uploads)
        if method in SENDS:
            self.accepted += 1
            self._count(raw)
            chat = int(raw.get("chat_id", 0))
            if chat in self.pushed_at and chat not in self.answered_at:
                self.answered_at[chat] = time.monotonic()
        if len(self.requests) > 1000:  # the benchmark does not read them: keep memory flat
            self.requests.clear()
            self.messages.clear()
        return result

    def _check_flood(self, raw: dict) -> None:
        now = _ARRIVED.get(time.monotonic())
        paid = raw.get("allow_paid_broadcast") in (True, "true", "True", "1", 1)
        chat = int(raw.get("chat_id", 0))
        last = self.last_send.get(chat)
        if last is not None and now - last < self.chat_interval_s - self.chat_tolerance_s:
            self.refused_chat += 1
            self._refuse(self.chat_interval_s - (now - last))
        wait = self.buckets[paid].take(now)
        if wait:
            self.refused_overall += 1
            self._refuse(wait)
        self.last_send[chat] = now

    def _refuse(self, wait_s: float) -> None:
        self.http_429 += 1
        retry_after = max(1, math.ceil(wait_s))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _count(self, raw: dict) -> None:
        markup = raw.get("reply_markup")
        if isinstance(markup, str):
            import json

            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data", "")
                if data.startswith("rem:done:"):
                    self.reminders[(int(raw["chat_id"]), data)] += 1
                    return

    def stats(self) -> dict:
        return {"accepted": self.accepted, "http_429": self.http_429, "reminders": dict(self.reminders),
                "http_429_chat": self.refused_chat, "http_429_overall": self.refused_overall,
                "server_cpu_s": time.process_time()}


def serve(conn, config: dict) -> None:
    """Child process: run the capped server until told to stop; answer `stats` on the pipe."""
    cpu = config.get("cpu")
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})

    async def main() -> None:
        server = RateCappedBotAPI(latency_ms=config["latency_ms"], cap_per_s=config["cap_per_s"],
                                  paid_cap_per_s=config["paid_cap_per_s"])
        for first, count in config["user_ranges"]:
            for user_id in range(first, first + count):
                server.add_user(user_id, "U")
        await server.start()
        conn.send({"base_url": server.base_url, "token": server.token})
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stats":
                conn.send(server.stats())
            elif isinstance(command, tuple) and command[0] == "burst":  # ("burst", first id, count, text)
                _, first, count, text = command
                for user_id in range(first, first + count):
                    server.pushed_at[user_id] = time.monotonic()
                    server.send_text(user_id, text)
                conn.send(count)
            elif command == "answers":  # seconds from each update to its first answer (None: none yet)
                conn.send({chat: (server.answered_at[chat] - at if chat in server.answered_at else None)
                           for chat, at in server.pushed_at.items()})
            else:
                break
        await server.stop()

    asyncio.run(main())
