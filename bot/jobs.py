"""Scheduled jobs run like updates: each run is one unit of work.

What a run writes commits with it, or (on an error) what it wrote since its last Telegram
request is rolled back, before PTB hands the error to `bot.errors.on_error`. The reminder wave
(`reminders/jobs.py`) is the exception: it claims and records in its own short transactions,
batch by batch, so that a wave of ten thousand never holds one open.
"""
from __future__ import annotations

import functools
from typing import Awaitable, Callable


def in_unit_of_work(callback: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(callback)
    async def run(context) -> None:
        async with context.application.services.db.unit_of_work():
            await callback(context)

    return run
