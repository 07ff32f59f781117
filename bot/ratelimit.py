"""Telegram's flood limits for every request the bot makes, and patience with server errors.

The replies share the bot token's one `SharedBudget` (reminders/ratelimit.py) with the reminder
wave: a request to a chat takes a slot of the overall cap (30 a second; ahead of the wave, which
only takes a slot when no reply is waiting) and waits out a 429 pause of its chat or of
everyone. Unlike PTB's AIORateLimiter, one 429 does not stop every chat: if that chat had a
message within the last second it is the per-chat limit and only that chat waits `retry_after`;
otherwise the whole budget does (the wave too, being the same object).

Telegram's limits count edits like messages, per chat and overall. So every request with a chat
takes an overall slot, and a reply that makes or changes a message (`send*`, `edit*`, `copy*`,
`forward*`, `stopPoll`, `deleteMessage`) in the chat being answered leaves only once that chat's
previous request (reply or reminder) was answered `chat_interval` (1.1 s) ago, unless the
budget's `space_chats` is off: two messages of one answer go one after the other instead of the
second meeting a 429 (`TELEGRAM_CHAT_INTERVAL_S`, 0 switches this off). Notices to other chats
and jobs' sends are not spaced in advance: a per-chat 429 holds that chat as before.

A 5xx or a dropped connection is retried with capped exponential backoff (`backoff_s`, doubling,
at most `max_backoff_s`) for up to `retry_window_s`, so a reply that met a Telegram outage is sent
when Telegram is back (a notice to another chat, or a job's send, gives up after `notice_retries`
quick tries: those have their own re-send). Refusals (400, 403) and timeouts (the send may have arrived) are not
retried.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from datetime import timedelta
from typing import Any, Awaitable, Callable

from db.database import current_unit_of_work
from telegram.error import NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from reminders.ratelimit import SharedBudget

log = logging.getLogger(__name__)
# The chat whose update is being handled (set by BotApplication.process_update): a request to it
# is a reply, patient through an outage. Notices to other chats and jobs' sends have their own
# durable re-send (alerts hourly, the next timer tick), so they give up after a few quick retries.
replying_to: contextvars.ContextVar[int | None] = contextvars.ContextVar("replying_to", default=None)
_MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
_NOT_MESSAGES = {"sendChatAction"}


def counts_per_chat(endpoint: str) -> bool:
    """Does this request make or change a message in the chat (Telegram's one a second per chat)?"""
    return (endpoint.startswith(_MESSAGE_PREFIXES) or endpoint in ("stopPoll", "deleteMessage")) \
        and endpoint not in _NOT_MESSAGES


class PatientRateLimiter(AIORateLimiter):
    def __init__(self, *, budget: SharedBudget | None = None, backoff_s: float = 0.5, max_backoff_s: float = 8.0,
                 retry_window_s: float = 60.0, max_retries: int = 5, notice_retries: int = 3,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, **kwargs: Any):
        super().__init__(max_retries=max_retries, **kwargs)
        self.budget = budget or SharedBudget(monotonic=monotonic, sleep=sleep)
        self.backoff_s = backoff_s
        self.max_backoff_s = max(max_backoff_s, backoff_s)
        self.retry_window_s = retry_window_s
        self.notice_retries = notice_retries
        self.max_refusals = max_retries
        self._monotonic = monotonic
        self._sleep = sleep
        self.server_error_retries = 0  # counts, for tests and logs
        self.http_429 = 0

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        # What the update wrote so far is committed before Telegram hears of it: no lock is held
        # across the network, and the user never sees a result the database has not kept.
        unit = current_unit_of_work()
        if unit is not None:
            await unit.commit()
        chat = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat = int(chat)
        if not isinstance(chat, int):
            chat = None  # a channel's @name, or no chat at all (getUpdates, answerCallbackQuery)
        limited = "chat_id" in data and endpoint != "getUpdates"
        paid = bool(data.get("allow_paid_broadcast", False))
        max_refusals = rate_limit_args or self.max_refusals
        started = self._monotonic()
        delay = self.backoff_s
        refusals = failures = 0
        reply = chat is not None and chat == replying_to.get()
        while True:
            follows = False
            try:
                if not limited:
                    return await callback(*args, **kwargs)
                if chat is None:
                    await self.budget.acquire_reply(chat, paid)
                    return await callback(*args, **kwargs)
                # the chat's turn first (one a second per chat), then a slot of the overall cap
                spaced = reply and counts_per_chat(endpoint) and await self.budget.before_reply(chat)
                try:
                    await self.budget.acquire_reply(chat, paid)
                    follows = self.budget.follows(chat, holding_turn=spaced)
                    self.budget.reply_started(chat)
                    try:
                        return await callback(*args, **kwargs)
                    finally:
                        self.budget.reply_answered(chat)
                finally:
                    if spaced:
                        self.budget.after_reply(chat)
            except RetryAfter as exc:
                refusals += 1
                self.http_429 += 1
                if refusals > max_refusals:
                    log.warning("%s: rate limited %d times; giving up", endpoint, refusals)
                    raise
                wait = _seconds(exc) + 0.1
                scope = self.budget.pause_for(chat, wait, follows, paid)
                log.info("%s: 429, pausing %s for %.1fs", endpoint, scope, wait)
            except NetworkError as exc:
                # BadRequest, Forbidden... and TimedOut are NetworkErrors too: a refusal is final,
                # and a timed-out send may have arrived, so only plain server/connection errors retry.
                if type(exc) is not NetworkError or endpoint == "getUpdates":
                    raise
                elapsed = self._monotonic() - started
                failures += 1
                if (elapsed + delay > self.retry_window_s) if reply else failures > self.notice_retries:
                    log.warning("%s failed (%s) %d times in %.0fs; giving up", endpoint, exc.message, failures, elapsed)
                    raise
                self.server_error_retries += 1
                log.warning("%s failed (%s); retrying in %.1fs", endpoint, exc.message, delay)
                await self._sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)


def _seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
