"""Telegram's flood limits for every request the bot makes, and patience with server errors.

PTB's AIORateLimiter keeps the bot under Telegram's limits and waits out a 429's
`retry_after`; this subclass also retries a 5xx or a dropped connection a few times with
backoff, so a reply is not lost to a passing hiccup. Refusals (400, 403) are not retried.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)


class PatientRateLimiter(AIORateLimiter):
    def __init__(self, *, server_error_retries: int = 3, backoff_s: float = 0.5, **kwargs: Any):
        super().__init__(**kwargs)
        self.server_error_retries = server_error_retries
        self.backoff_s = backoff_s

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        delay = self.backoff_s
        for attempt in range(self.server_error_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except NetworkError as exc:
                # BadRequest and TimedOut are NetworkErrors too: a refusal is final, and a
                # timed-out send may have arrived, so only plain server/connection errors retry.
                if type(exc) is not NetworkError or endpoint == "getUpdates" or attempt == self.server_error_retries:
                    raise
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, exc.message, attempt + 1, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
