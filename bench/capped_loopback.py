"""The loopback Bot API with Telegram's flood limits, run in its own process for benchmarks.

`RateCappedBotAPI` answers a send or an edit with 429 and `retry_after` when the bot goes faster
than `cap_per_s` overall (a token bucket holding one second's worth, as Telegram tolerates short
bursts), than `paid_cap_per_s` for messages sent with `allow_paid_broadcast`, or than one message
per `chat_interval_s` to the same chat (no burst allowed: stricter than Telegram's "short bursts").
Edits count like messages, overall and per chat: Telegram's limits for editing are the same as
for sending, and shared (a TDLib maintainer, tdlib/td#2592 and #3034; "editing of the message in
question is still subject to per chat limits", tdlib/telegram-bot-api#648). Answering a button
press (answerCallbackQuery) is free. It counts the reminders each chat received, so the
benchmark can tell duplicates and losses from what actually arrived, not from what the bot says.

It also plays users (`walk`): each sends its first text, then presses the next button of its
scenario when a message offering it arrives (at once, or `think_s` later), and the time from each
update to the bot's first message after it is noted; messages and edits are logged with their
time (`while_walking`). With a webhook set (`sahabat-nifas run --webhook`), updates are
POSTed as Telegram does: up to 40 connections at once, one update of a chat at a time, each after
half the round trip, with the secret header; anything but 2xx is sent again.

`serve()` runs it in a child process (pinned to its own core when there is one), so the bot's
CPU time and memory are measured alone.
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loopback.server import ApiError, LoopbackBotAPI

SENDS = {"sendMessage", "sendPhoto", "sendAnimation", "sendDocument", "sendPoll"}
EDITS = {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}   # capped like sends
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


@dataclass
class Walk:
    """One user's way through a scenario: `steps[0]` is a text, the others are button data."""
    steps: list[str]
    pushed: list[float] = field(default_factory=list)             # when step i was handed over
    answered: list[float | None] = field(default_factory=list)    # the bot's first message after it
    sends: int = 0                                                # messages the bot sent her meanwhile
    edits: int = 0                                                # and messages it edited
    pressing: bool = False                                        # reading the next question

    def times(self) -> list[float | None]:
        return [None if a is None else a - p for p, a in zip(self.pushed, self.answered)]

    @property
    def done(self) -> bool:
        return len(self.answered) == len(self.steps) and self.answered[-1] is not None


def _buttons(markup: Any) -> list[str]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [button.get("callback_data", "") for row in (markup or {}).get("inline_keyboard", []) for button in row]


class RateCappedBotAPI(LoopbackBotAPI):
    def __init__(self, *, cap_per_s: float = 30.0, paid_cap_per_s: float = 1000.0, chat_interval_s: float = 1.0,
                 chat_tolerance_s: float = 0.05, webhook_connections: int = 40, **kwargs: Any):
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
        self.arrivals: list[tuple[float, str]] = []  # (when, "reminder" | "message" | "edit") accepted
        self.walks: dict[int, Walk] = {}   # chat -> the user playing a scenario there
        self.think_s = 0.0
        self.webhook_connections = webhook_connections
        self.webhook_posts = 0             # webhook deliveries tried, and those not answered 2xx
        self.webhook_failed = 0

    async def _handle(self, request):  # type: ignore[override]
        _ARRIVED.set(time.monotonic())  # limits count from arrival, before the simulated latency
        return await super()._handle(request)

    async def _dispatch(self, method: str, raw: dict, uploads: dict) -> Any:
        if method in SENDS or method in EDITS:
            self._check_flood(raw)
        result = await super()._dispatch(method, raw, uploads)
        if method in SENDS:
            self.accepted += 1
            self.arrivals.append((time.monotonic(), "reminder" if self._count(raw) else "message"))
            self._walk_on(int(raw.get("chat_id", 0)), raw.get("reply_markup"))
        elif method in EDITS:
            self.accepted += 1
            self.arrivals.append((time.monotonic(), "edit"))
            if str(raw.get("chat_id", "")).isdigit():
                self._walk_on(int(raw["chat_id"]), raw.get("reply_markup"), edited=int(raw.get("message_id", 0)))
        if len(self.requests) > 1000:  # the benchmark does not read them: keep memory flat
            self.requests.clear()
            self.messages = {chat: self.messages[chat][-4:] for chat in self.walks if chat in self.messages}
        return result

    # ------------------------------------------------------------ playing users
    def walk(self, first: int, count: int, steps: list[str], spread_s: float = 0.0, think_s: float = 0.0) -> None:
        """Users first .. first+count-1 start `steps`: all now, or one after the other, evenly
        over `spread_s` seconds; each presses a button `think_s` after it arrived."""
        loop = asyncio.get_running_loop()
        self.think_s = think_s
        for i, user_id in enumerate(range(first, first + count)):
            self.walks[user_id] = Walk(list(steps))
            if spread_s:
                loop.call_later(spread_s * i / count, self._set_out, user_id)
            else:
                self._set_out(user_id)

    def _set_out(self, user_id: int) -> None:
        walk = self.walks[user_id]
        walk.pushed.append(time.monotonic())
        walk.answered.append(None)
        self.send_text(user_id, walk.steps[0])

    def _walk_on(self, chat: int, markup: Any, edited: int | None = None) -> None:
        """A message to a walking user, or one edited (`edited`: its id): the answer to her last
        step, and her next press if it offers it."""
        walk = self.walks.get(chat)
        if walk is None or not walk.pushed:
            return
        now = time.monotonic()
        if edited is None:
            walk.sends += 1
        else:
            walk.edits += 1
        if walk.answered[-1] is None:
            walk.answered[-1] = now
        step = len(walk.pushed)
        if step < len(walk.steps) and walk.steps[step] in _buttons(markup) and not walk.pressing:
            walk.pressing = True
            message = self.messages[chat][-1] if edited is None else next(
                m for m in reversed(self.messages[chat]) if m.message_id == edited)
            if self.think_s:
                asyncio.get_running_loop().call_later(self.think_s, self._press_next, chat, message)
            else:
                self._press_next(chat, message)

    def _press_next(self, chat: int, message) -> None:
        walk = self.walks[chat]
        walk.pressing = False
        walk.pushed.append(time.monotonic())
        walk.answered.append(None)
        self.press(chat, message, walk.steps[len(walk.pushed) - 1])

    def walk_times(self) -> dict:
        return {chat: {"times": walk.times(), "done": walk.done, "sends": walk.sends, "edits": walk.edits,
                        "end": walk.answered[-1] - walk.pushed[0] if walk.done else None}
                for chat, walk in self.walks.items()}

    # ------------------------------------------------------------ webhook, as Telegram delivers
    async def _deliver_by_webhook(self) -> None:  # type: ignore[override]
        import aiohttp

        busy: set[int] = set()         # chats with an update on the way
        on_the_way: set[int] = set()   # update ids
        free = asyncio.Semaphore(self.webhook_connections)

        async def post(session, update: dict, chat: int) -> None:
            hook = self.webhook or {}
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
            try:
                await asyncio.sleep(self.latency_ms / 2000)  # Telegram -> the bot: half a round trip
                async with session.post(hook["url"], data=json.dumps(update), headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=10)) as response:
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError, KeyError):
                status = 0
            self.webhook_posts += 1
            if 200 <= status < 300:
                self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
            else:
                self.webhook_failed += 1
                await asyncio.sleep(0.5)  # then it is sent again
            busy.discard(chat)
            on_the_way.discard(update["update_id"])
            free.release()
            self._webhook_wake.set()

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0)) as session:
            tasks: set[asyncio.Task] = set()
            while self.webhook is not None:
                update = next((u for u in self._updates
                               if u["update_id"] not in on_the_way and _chat_of(u) not in busy), None)
                if update is None:
                    self._webhook_wake.clear()
                    await self._webhook_wake.wait()
                    continue
                await free.acquire()
                chat = _chat_of(update)
                busy.add(chat)
                on_the_way.add(update["update_id"])
                task = asyncio.create_task(post(session, update, chat))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            for task in list(tasks):
                task.cancel()

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

    def _count(self, raw: dict) -> bool:
        """Count a reminder (True), by its chat and its button."""
        for data in _buttons(raw.get("reply_markup")):
            if data.startswith("rem:done:"):
                self.reminders[(int(raw["chat_id"]), data)] += 1
                return True
        return False

    def while_walking(self) -> dict:
        """What arrived from the first walk's first update to the last walk's last answer, by kind."""
        walks = [w for w in self.walks.values() if w.pushed]
        if not walks:
            return {}
        start = min(w.pushed[0] for w in walks)
        end = max((a for w in walks for a in w.answered if a is not None), default=start)
        inside = Counter(kind for at, kind in self.arrivals if start <= at <= end)
        return {"seconds": end - start, "reminder": inside["reminder"], "message": inside["message"],
                "edit": inside["edit"]}

    def stats(self) -> dict:
        return {"accepted": self.accepted, "http_429": self.http_429, "reminders": dict(self.reminders),
                "http_429_chat": self.refused_chat, "http_429_overall": self.refused_overall,
                "server_cpu_s": time.process_time(), "webhook_set": self.webhook is not None,
                "webhook_posts": self.webhook_posts, "webhook_failed": self.webhook_failed,
                "while_walking": self.while_walking()}


def _chat_of(update: dict) -> int:
    body = update.get("message") or update.get("callback_query") or {}
    return int((body.get("chat") or body.get("from") or {}).get("id", 0))


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
            elif isinstance(command, tuple) and command[0] == "walk":  # ("walk", first, count, steps, spread, think)
                server.walk(*command[1:])
                conn.send(command[2])
            elif command == "answers":  # per walking chat: seconds from each step to its answer
                conn.send(server.walk_times())
            else:
                break
        await server.stop()

    asyncio.run(main())
