"""Long polling through the update inbox (replaces PTB's Updater for polling).

    getUpdates(offset, timeout) -> inbox.receive(updates), committed -> getUpdates(last + 1) ...

Telegram keeps an update until a getUpdates asks for a higher offset, so an update is confirmed
only after it is in the database: a process killed at any moment loses nothing (what it had not
stored, Telegram sends again; what it had, the inbox recognises).

One poller per bot token and per database:

* Telegram: at start a getUpdates with timeout 0, then (`POLLING_PROBE_S`) a short long poll
  that is not used for updates: another instance polling the token ends it with 409 Conflict,
  and this one refuses to start (`PollingConflict`). A running poller that meets a 409 (someone
  started later) keeps going and says so in the log.
* Database: a lock held for the process's life, released by the OS or the server when it dies
  (kill -9 too): an advisory lock on PostgreSQL, `flock` on a file next to the SQLite database.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from typing import Any

from sqlalchemy import text
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.inbox import Inbox

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "poll_answer"]
ANOTHER_POLLER = "another instance is polling this bot token; stop it or use webhooks"
ANOTHER_PROCESS = ("another process is already polling with this database ({where}); "
                   "stop it first (only one process per database polls)")
WEBHOOK_SET = "a webhook is set for this bot token; delete it or run in webhook mode"
# the PostgreSQL advisory lock of "the poller of this database" ("SN" 0009, issue 9)
POLL_LOCK_KEY = 0x534E_0009_0000_0001


class PollingConflict(RuntimeError):
    """This process must not poll: another one does (for this token or this database)."""


class PollLock:
    """Only one process per database polls. Held while the process lives; its death frees it."""

    def __init__(self, db):
        self.db = db
        self._conn = None
        self._fd: int | None = None

    @property
    def where(self) -> str:
        return f"{self.db.path}.poll-lock" if not self.db.is_postgres else "PostgreSQL advisory lock"

    async def acquire(self) -> None:
        if self.db.is_postgres:
            conn = await self.db.engine.connect()
            try:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": POLL_LOCK_KEY})).scalar()
            except BaseException:
                await conn.close()
                raise
            if not got:
                await conn.close()
                raise PollingConflict(ANOTHER_PROCESS.format(where="PostgreSQL"))
            self._conn = conn
            return
        import fcntl

        path = f"{self.db.path}.poll-lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PollingConflict(ANOTHER_PROCESS.format(where=path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    async def release(self) -> None:
        """Let go (a connection that held an advisory lock is discarded, never pooled)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the file frees the flock


class Poller:
    def __init__(self, app, inbox: Inbox, *, timeout_s: int | None = None, probe_s: float | None = None,
                 allowed_updates: list[str] | None = None, conflict_retry_s: float = 0.5):
        settings = app.services.settings
        self.app = app
        self.inbox = inbox
        self.timeout_s = settings.polling_timeout_s if timeout_s is None else timeout_s
        self.probe_s = settings.polling_probe_s if probe_s is None else probe_s
        self.allowed_updates = allowed_updates or ALLOWED_UPDATES
        self.conflict_retry_s = conflict_retry_s
        self.lock = PollLock(app.services.db)
        self.offset = 0
        self.task: asyncio.Task | None = None
        self._unconfirmed = False
        self._last_conflict_log = 0.0
        self.conflicts = 0   # 409s met while running (someone else polled)
        self.polls = 0

    # ------------------------------------------------------------------ start
    async def open(self) -> None:
        """Take the database's poll lock, and make sure nobody else polls this token."""
        await self.lock.acquire()
        try:
            await self._check_telegram()
        except BaseException:
            await self.lock.release()
            raise

    async def _check_telegram(self) -> None:
        bot = self.app.bot
        await bot.delete_webhook(drop_pending_updates=False)  # as PTB's polling does
        # Neither call stores or confirms anything (offset 0): should this process refuse, the
        # updates stay with Telegram for the instance that keeps polling.
        await self._probe(0)
        deadline = time.monotonic() + self.probe_s
        while (remaining := deadline - time.monotonic()) > 0:
            if await self._probe(max(1, int(remaining + 0.999))):
                await asyncio.sleep(min(0.25, remaining))  # updates waiting: do not spin

    async def _probe(self, timeout: int) -> list:
        try:
            return await self._get_updates(0, timeout, limit=1)
        except Conflict as exc:
            raise PollingConflict(WEBHOOK_SET if "webhook" in exc.message.lower() else ANOTHER_POLLER) from None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="poller")

    # ------------------------------------------------------------------ the loop
    async def _get_updates(self, offset: int, timeout: int, limit: int = 100) -> list[dict[str, Any]]:
        """The updates as JSON (what the inbox stores; unknown fields kept)."""
        updates = await self.app.bot.get_updates(
            offset=offset or None, limit=limit, timeout=timeout, allowed_updates=self.allowed_updates,
            read_timeout=timeout + 10, write_timeout=10, connect_timeout=10, pool_timeout=10)
        return [update.to_dict() for update in updates]

    async def _loop(self) -> None:
        backoff = 0.5
        while True:
            try:
                updates = await self._get_updates(self.offset, self.timeout_s)
                self.polls += 1
                self._unconfirmed = False
                backoff = 0.5
            except Conflict as exc:
                self.conflicts += 1
                if time.monotonic() - self._last_conflict_log > 60:
                    self._last_conflict_log = time.monotonic()
                    log.warning("getUpdates: 409 %s (%s); this instance keeps polling",
                                exc.message, WEBHOOK_SET if "webhook" in exc.message.lower() else ANOTHER_POLLER)
                await asyncio.sleep(self.conflict_retry_s if "webhook" not in exc.message.lower() else 10)
                continue
            except InvalidToken:
                log.critical("getUpdates: the bot token was refused; polling stops")
                raise
            except RetryAfter as exc:
                wait = getattr(exc, "_retry_after", None) or exc.retry_after
                await asyncio.sleep(wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait))
                continue
            except (TimedOut, NetworkError) as exc:  # Telegram or the network: patience
                log.warning("getUpdates failed (%s); again in %.1fs", exc.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if not updates:
                continue
            await self._store(updates)
            self.offset = max(int(u["update_id"]) for u in updates) + 1  # the next poll confirms them
            self._unconfirmed = True

    async def _store(self, updates: list[dict]) -> None:
        """Into the inbox, committed; a database hiccup is waited out (the offset stays)."""
        delay = 0.5
        while True:
            try:
                await self.inbox.receive(updates)
                return
            except Exception:  # noqa: BLE001
                log.warning("storing %d update(s) failed; again in %.1fs", len(updates), delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    # ------------------------------------------------------------------ stop
    async def stop(self) -> None:
        """Graceful: no more polling or claiming, the updates in hand are finished (the
        application stops), what was left claimed is released, Telegram is told what is stored."""
        if self.task is not None:
            task, self.task = self.task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._unconfirmed:
            with contextlib.suppress(Exception):
                await self._get_updates(self.offset, 0, limit=1)  # confirms; what it returns stays with Telegram
        await self.inbox.stop()
        if self.app.running:
            await self.app.stop()
        await self.inbox.release()
        await self.lock.release()

    async def abort(self) -> None:
        """A crash, simulated (tests): polling and claiming end at once, nothing more is written,
        and the database lock is freed as the dying process's would be."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
            self.task = None
        self.inbox.abort()
        await self.lock.release()


async def start_polling(app, *, timeout_s: int | None = None, probe_s: float | None = None) -> Poller:
    """Attach an inbox to an initialised application, make sure this process may poll (raises
    `PollingConflict`), start the application if it is not running, then claim and poll."""
    inbox = Inbox(app)
    app.services.inbox = inbox
    poller = Poller(app, inbox, timeout_s=timeout_s, probe_s=probe_s)
    await poller.open()
    try:
        if not app.running:
            await app.start()
        await inbox.start()
    except BaseException:
        await poller.lock.release()
        raise
    poller.start()
    return poller


async def run_polling(app, ready=None) -> None:
    """`sahabat-nifas run` in polling mode: until SIGINT/SIGTERM (or polling fails for good).
    Raises `PollingConflict` when another instance polls; `ready()` is called once polling."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    try:
        poller = await start_polling(app)
        log.info("polling as worker %s", poller.inbox.worker)
        if ready is not None:
            ready()
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, poller.task}, return_when=asyncio.FIRST_COMPLETED)
        failed = poller.task if poller.task is not None and poller.task.done() else None
        stopping.cancel()
        await poller.stop()
        if failed is not None and not failed.cancelled() and failed.exception() is not None:
            raise failed.exception()
    finally:
        await app.shutdown()
