"""The update inbox: every update is in the database before Telegram is told it arrived, and is
handled exactly once, also across a crash (docs/crash-consistency.md).

    poller (bot/polling.py)            Inbox                               BotApplication
    getUpdates -> receive(payloads) -> INSERT ... ON CONFLICT DO NOTHING
                  (committed; only then the next getUpdates confirms them)
                                       loop: claim (oldest per chat, none of
                                       that chat claimed) -> update_queue -> process_update:
                                                                            one unit of work: the
                                                                            handler's rows, the flow
                                                                            state, and `done`

A claim is held by a worker id (`WORKER_ID`). At start a worker takes back at once what it held
when it died; a claim of another worker untouched for `INBOX_LEASE_S` is taken back too (live
workers renew theirs). An update claimed `INBOX_MAX_ATTEMPTS` times without ever finishing (it
crashed the process each time) is given up, and logged by its id only. A handler's exception
does not make the update go round again: PTB's error handler answers the user, and the row is
done.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from telegram import Update
from telegram.error import BadRequest

from bot.updates import IN_FLIGHT, chat_key
from db.queries import inbox as q

log = logging.getLogger(__name__)

KEEP_DONE = 10_000                 # done rows kept for recognising a resend: the newest ...
KEEP_DONE_FOR = timedelta(days=1)  # ... and none older than this
PRUNE_EVERY_S = 600.0


def now_iso(moment: datetime | None = None) -> str:
    """Wall-clock time (the inbox is operations, not the bot's clock), as stored elsewhere."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kind(payload: dict) -> str:
    """What an update is (message, callback_query, ...): for logs, without its content."""
    return next((key for key in payload if key != "update_id"), "empty")


class Inbox:
    """Attached as `app.services.inbox`; started after `app.start()`."""

    def __init__(self, app, *, worker_id: str | None = None, lease_s: float | None = None,
                 max_attempts: int | None = None, capacity: int = IN_FLIGHT, idle_s: float = 1.0):
        settings = app.services.settings
        self.app = app
        self.worker = worker_id or settings.worker_id
        self.lease = timedelta(seconds=lease_s if lease_s is not None else settings.inbox_lease_s)
        self.max_attempts = max_attempts or settings.inbox_max_attempts
        self.capacity = capacity
        self.idle_s = idle_s
        self._held: dict[int, Update] = {}   # handed to the application, not yet settled
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._renewed = 0.0
        self._pruned = 0.0
        # counts, for tests and logs (no personal data)
        self.received = 0
        self.resent = 0           # updates Telegram sent again that were already stored
        self.handed = 0
        self.redelivered = 0      # handled again after a crash
        self.given_up = 0
        self.reclaimed = 0

    @property
    def db(self):
        return self.app.services.db

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Take back this worker's claims (it died holding them), then start claiming."""
        own = await q.reclaim_own(self.db, self.worker)
        if own:
            log.warning("inbox: %d update(s) this worker (%s) held when it stopped go round again", own, self.worker)
        self.reclaimed += own
        await self._maintain(force=True)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="inbox")

    async def stop(self) -> None:
        """Stop claiming (the updates handed over are still being handled)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            await asyncio.gather(task, return_exceptions=True)

    async def release(self) -> None:
        """After the application stopped: what is still claimed goes back to `new` (not counted)."""
        try:
            count = await q.release(self.db, self.worker)
        except Exception:  # noqa: BLE001 - the next start takes them back anyway
            log.warning("inbox: could not release the claims at stop", exc_info=True)
            return
        if count:
            log.info("inbox: %d claimed update(s) released at stop", count)

    def abort(self) -> None:
        """A crash, simulated (tests): stop at once, write nothing."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # ------------------------------------------------------------------ receiving
    async def receive(self, payloads: Iterable[dict[str, Any]]) -> int:
        """Store updates (committed when this returns); one Telegram sent again is ignored.
        Returns how many were new."""
        rows = []
        for payload in payloads:
            try:
                chat = chat_key(Update.de_json(payload, None))
            except Exception:  # noqa: BLE001 - stored all the same; handling will tell
                chat = None
            rows.append((int(payload["update_id"]), chat, json.dumps(payload, ensure_ascii=False)))
        if not rows:
            return 0
        async with self.db.transaction():
            new = await q.store(self.db, rows, now_iso())
        self.received += new
        self.resent += len(rows) - new
        if new:
            self._wake.set()
        return new

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self._claim()
                await self._maintain()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup: the rows wait, nothing is lost
                log.warning("inbox: claiming failed; again in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if claimed and len(self._held) < self.capacity:
                continue  # there may be more
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_s)
            except asyncio.TimeoutError:
                pass

    async def _claim(self) -> int:
        room = self.capacity - len(self._held)
        if room <= 0:
            return 0
        claimed = await q.claim(self.db, self.worker, now_iso(), room)
        for row in claimed:
            if row.attempts > self.max_attempts:
                await self._give_up(row.update_id, row.attempts - 1, _kind(row.payload))
                continue
            bot = self.app.bot if row.attempts == 1 else _RedeliveredBot(self.app.bot)
            try:
                update = Update.de_json(row.payload, bot)
            except Exception:  # noqa: BLE001
                await self._give_up(row.update_id, row.attempts, "unreadable")
                continue
            if row.attempts > 1:
                self.redelivered += 1
                log.info("inbox: update %d (%s) handled again, attempt %d", row.update_id, _kind(row.payload),
                         row.attempts)
            self._held[row.update_id] = update
            self.handed += 1
            self.app.update_queue.put_nowait(update)
        return len(claimed)

    async def _give_up(self, update_id: int, attempts: int, kind: str) -> None:
        async with self.db.transaction():
            await q.finish(self.db, update_id, self.worker)
        self.given_up += 1
        log.error("inbox: update %d (%s) given up after %d attempt(s) that never finished", update_id, kind, attempts)

    async def _maintain(self, force: bool = False) -> None:
        """Renew our live claims; take back claims of workers that died; prune done rows."""
        now = time.monotonic()
        if force or now - self._renewed >= self.lease.total_seconds() / 4:
            self._renewed = now
            wall = datetime.now(timezone.utc)
            if self._held:
                await q.renew(self.db, self.worker, now_iso(wall))
            stale = await q.reclaim_stale(self.db, now_iso(wall - self.lease))
            if stale:
                self.reclaimed += stale
                log.warning("inbox: %d update(s) claimed by a worker silent for %ds go round again",
                            stale, self.lease.total_seconds())
        if force or now - self._pruned >= PRUNE_EVERY_S:
            self._pruned = now
            await q.prune(self.db, now_iso(datetime.now(timezone.utc) - KEEP_DONE_FOR), KEEP_DONE)

    # ------------------------------------------------------------------ the application's side
    def holds(self, update: object) -> bool:
        """Whether this update object came from this inbox and is not settled yet."""
        return isinstance(update, Update) and self._held.get(update.update_id) is update

    async def finish(self, update: Update) -> None:
        """Mark it done, inside the update's unit of work (so it commits with the handler's rows
        and the flow state it left, or not at all)."""
        if not await q.finish(self.db, update.update_id, self.worker):
            log.warning("inbox: update %d was no longer ours when it finished (its claim expired)", update.update_id)

    async def failed(self, update: Update) -> None:
        """Handling broke off before it could finish (the unit of work rolled back): claimable
        again, the next claim counting as another attempt."""
        try:
            async with self.db.transaction():
                await q.unclaim(self.db, update.update_id, self.worker)
        except Exception:  # noqa: BLE001 - still claimed: taken back at the next start or after the lease
            log.warning("inbox: could not put update %d back", update.update_id, exc_info=True)

    def settle(self, update: Update) -> None:
        """The update's task is over: its chat may have the next one."""
        if self._held.get(update.update_id) is update:
            del self._held[update.update_id]
            self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._held)


class _RedeliveredBot:
    """The bot as seen by an update handled again after a crash. The first attempt may have
    answered the button press already, and Telegram refuses a second answer ("query is too old");
    that must not fail the handler, which has the real work to do again. Everything else is the
    application's bot."""

    def __init__(self, bot):
        self._bot = bot

    def __getattr__(self, name: str):
        return getattr(self._bot, name)

    async def answer_callback_query(self, *args, **kwargs):
        try:
            return await self._bot.answer_callback_query(*args, **kwargs)
        except BadRequest as exc:
            text = exc.message.lower()
            if "query is too old" in text or "query id is invalid" in text:
                log.info("inbox: the button press was answered before the restart")
                return True
            raise

    answerCallbackQuery = answer_callback_query
