"""The real bot in a process of its own, for tests that kill it with SIGKILL (tests/test_crash.py).

    python -m tests.crashbot

Everything comes from the environment, as for `sahabat-nifas run`: TELEGRAM_API_BASE_URL (a
loopback stand-in running in the test process), TELEGRAM_BOT_TOKEN, DATABASE_URL, WORKER_ID,
REMINDER_POLL_SECONDS, POLLING_TIMEOUT_S, POLLING_PROBE_S, ... (no .env file is read). Besides:

    CRASHBOT_CLOCK   a file holding the bot's "now" (ISO-8601, UTC); the test moves time by
                     rewriting it. Unset: the real clock.

Prints `ready <pid>` on stdout once it polls; refuses with exit code 1 (and the reason on
stderr) when another instance polls.
"""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.application import build_application
from bot.clock import Clock
from bot.config import Settings
from bot.logs import setup_logging
from bot.polling import PollingConflict, run_polling


class FileClock(Clock):
    """The time written in a file (re-read when the file changes)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._stamp: int | None = None
        self._now = datetime.now(timezone.utc)

    def now(self) -> datetime:
        stamp = self.path.stat().st_mtime_ns
        if stamp != self._stamp:
            text = self.path.read_text().strip()
            self._now = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
            self._stamp = stamp
        return self._now


def main() -> int:
    settings = Settings(_env_file=None)
    setup_logging(settings.log_level)
    clock = FileClock(os.environ["CRASHBOT_CLOCK"]) if os.environ.get("CRASHBOT_CLOCK") else Clock()
    app = build_application(settings, clock=clock)

    def ready() -> None:
        print(f"ready {os.getpid()}", flush=True)

    try:
        asyncio.run(run_polling(app, ready=ready))
    except PollingConflict as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
