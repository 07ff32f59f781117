"""The reminder dispatcher: plan what is due, claim it, send it at the allowed pace, record it.

One run (`run_once(now)`) is a wave:

1. Recover: claims a dead run left behind (untouched for `claim_lease`): `claimed` rows never
   reached Telegram and are due again; `sending` rows may have, and are due again
   (`REMINDER_RESEND_UNCERTAIN=true`, at least once) or recorded as failed (false, at most once).
2. Plan, in batches, every mother whose `next_check_at` has come: one delivery row per
   recipient (her, each active companion) and slot, `pending`, or `missed` if already later
   than the grace period. The UNIQUE key (recipient, mother, slot_date, slot) makes a second
   row for the same reminder impossible, whoever plans it.
3. Claim a batch of due rows in one transaction (`claimed`, with this run's token), settling on
   the way the ones that must not go out (too late, already logged, blocked, unlinked). The
   next batch is claimed in the background while the current one is being sent.
4. Send: one pump hands claimed rows to concurrent sender tasks, at most `cap` per second
   overall and one per `chat_interval` per chat, counted from Telegram's answer to the previous
   request, through the bot token's one `SharedBudget` (shared with the replies, which go first:
   the wave takes a slot only when no reply is waiting). Each sender has its row marked `sending` (committed
   before the request leaves), calls Telegram, and has the outcome recorded: `sent` + message
   id, `blocked` (403, and the user is marked inactive) or `failed`. A 429 pauses everyone for
   `retry_after` (only that chat if it had a message moments before: the per-chat limit) and the
   row goes again; network errors and 5xx are retried with backoff, then recorded as failed.
   Marks and outcomes are committed in groups (whatever gathered during the previous commit).
5. Stop when nothing is left. If the application is stopping, the pump stops taking rows, lets
   the requests in flight finish and releases the claims it did not start.

Runs never overlap (a lock), and the dispatcher uses its own database connection, so its
transactions never mix with a handler's on the shared one.

Several workers (issue 9, bot/leader.py): only the elected leader runs the dispatcher, but a
leader that is taking over may briefly run alongside one that lost its lock. On PostgreSQL the
claim locks its rows with `FOR UPDATE SKIP LOCKED` (another dispatcher's rows are passed over,
never claimed twice); a claim token names the worker (`<WORKER_ID>/<process>/<run>`), and a
worker restarted under the same id takes back its dead process's claims at the next run, while
other workers' claims wait out the lease.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
import warnings
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

from telegram import Bot, constants
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.clock import Clock, iso
from bot.config import Settings
from db.database import Database
from db.queries import reminders as q
from db.queries.users import set_active
from db.queries.reminders import Delivery
from reminders import messages
from reminders.http import AiohttpRequest
from reminders.planning import due_slots, next_check, parse_utc, too_late
from reminders.preferences import schedule_for
from reminders.ratelimit import Deferred, SharedBudget

log = logging.getLogger(__name__)
# The dispatcher sends with `do_api_request` on purpose (raw JSON, see `_Wave._params`); PTB asks
# callers to prefer `send_message`. Only that one notice is silenced.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

PAID_BROADCAST_RATE = constants.FloodLimit.PAID_MESSAGES_PER_SECOND  # 1000/s, with allow_paid_broadcast
# This process, in claim tokens: claims of the same worker id from another process are a dead
# predecessor's (worker ids are unique among live processes).
PROCESS = uuid.uuid4().hex[:8]


@dataclass
class WaveReport:
    """What one run did (counts only: no personal data)."""

    now: str
    planned_mothers: int = 0
    created: dict[str, int] = field(default_factory=dict)   # rows planned, by status
    settled: dict[str, int] = field(default_factory=dict)   # due rows not sent, by status
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retries: int = 0
    http_429: int = 0
    recovered: int = 0
    uncertain: int = 0
    seconds: float = 0.0
    first_send: float | None = None
    last_send: float | None = None

    def count(self, table: dict[str, int], status: str, n: int = 1) -> None:
        table[status] = table.get(status, 0) + n

    @property
    def busy(self) -> bool:
        return bool(self.planned_mothers or self.claimed or self.settled or self.recovered or self.uncertain)


@dataclass
class _Item:
    delivery: Delivery
    text: str
    markup: Any
    failures: int = 0   # network errors / 5xx so far
    refusals: int = 0   # 429s so far
    granted: float = 0.0  # when the pacing let it go (monotonic)
    follows: bool = False  # this chat had another message moments before


class Dispatcher:
    def __init__(self, settings: Settings, clock: Clock, texts, *, shared_db: Database | None = None,
                 bot_factory: Callable[[], Bot] | None = None,
                 is_stopping: Callable[[], bool] = lambda: False,
                 budget: SharedBudget | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.settings = settings
        self.clock = clock
        self.texts = texts
        self.shared_db = shared_db
        self.paid = settings.allow_paid_broadcast
        self.cap = float(PAID_BROADCAST_RATE if self.paid else settings.reminder_rate_per_s)
        self.grace = timedelta(minutes=settings.reminder_grace_minutes)
        self.snooze_minutes = settings.reminder_snooze_minutes
        self.resend_uncertain = settings.reminder_resend_uncertain
        self.batch = max(20, int(self.cap))          # rows per claim: about a second of sending
        self.plan_batch = 500                        # mothers per planning transaction
        self.max_in_flight = int(min(2000, max(32, self.cap * 5)))  # covers 5 s of latency at the cap
        self.retry_delays: tuple[float, ...] = (1.0, 4.0, 15.0)     # network errors / 5xx, then failed
        self.max_refusals = 10                       # 429s for one message before it counts as failed
        self.chat_interval = 1.1                     # Telegram: about one per second per chat (a margin for jitter)
        # A claim untouched this long belongs to a run that died: the next run recovers it. Live
        # runs touch their rows within seconds, so another process never takes a live claim.
        self.claim_lease = timedelta(minutes=5)
        # Fault injection for tests: awaited after a batch is claimed / a row is marked sending.
        self.on_claimed: Callable[[list[Delivery]], Awaitable[None]] | None = None
        self.on_sending: Callable[[Delivery, float], Awaitable[None]] | None = None
        self.is_stopping = is_stopping
        # The bot token's one rate budget, shared with the replies (set by `build_application`);
        # without one, each run paces itself alone (tools, tests with an injected clock).
        self.budget = budget
        self.last_report: WaveReport | None = None
        self._bot_factory = bot_factory or self._make_bot
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._instance = uuid.uuid4().hex[:8]
        self._runs = 0
        # Who claims (issue 9): a claim token is `<worker id>/<process>/<run>`. A worker restarted
        # under the same WORKER_ID takes back at once what its dead process held; the claims of
        # other workers wait out `claim_lease` (they may be alive, only slow or cut off).
        self.worker_id = getattr(settings, "worker_id", None) or "worker"
        self._live_prefix = f"{self.worker_id}/{PROCESS}/"
        self.finished = asyncio.Event()  # set after every run (tests and the demo may wait on it)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def _make_bot(self) -> Bot:
        return Bot(self.settings.telegram_bot_token, base_url=self.settings.api_base_url,
                   base_file_url=self.settings.file_base_url,
                   request=AiohttpRequest(connection_limit=self.max_in_flight),
                   get_updates_request=AiohttpRequest(connection_limit=1))

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Database]:
        """The bot's pooled database, or (run on its own, as in the benchmark) one for this run."""
        if self.shared_db is not None:
            yield self.shared_db
            return
        db = await Database(self.settings.database_target).open(migrate=False)
        try:
            yield db
        finally:
            await db.close()

    async def take_back_own(self) -> tuple[int, int]:
        """At a worker's start, leader or not: the claims its previous process (same WORKER_ID)
        held when it died are due again at once (`claimed`, and `sending` as `run_once` treats
        them), instead of waiting out the lease. Returns (claimed, sending) rows taken back."""
        async with self._lock:
            async with self._connection() as db:
                own = await q.recover_own(db, self.worker_id, self._live_prefix, self.resend_uncertain,
                                          iso(self.clock.now()))
        if any(own):
            log.warning("reminders: %d claim(s) this worker's previous process left are due again "
                        "(%d of them may have been sent)", sum(own), own[1])
        return own

    async def run_once(self, now: datetime | None = None) -> WaveReport:
        """Plan, claim, send and record everything due at `now` (default: the clock's time)."""
        async with self._lock:
            now = now or self.clock.now()
            self._runs += 1
            report = WaveReport(iso(now))
            started = self._monotonic()
            # only a stop that begins during the run ends it early (a tool may run it unstarted)
            stopping = (lambda: False) if self.is_stopping() else self.is_stopping
            async with self._connection() as db:
                wave = _Wave(self, db, now, f"{self._live_prefix}{self._instance}-{self._runs}", report, stopping)
                await wave.run()
            report.seconds = self._monotonic() - started
            self.last_report = report
            self.finished.set()
            if report.busy:
                log.info("reminder run: planned %d mothers, created %s, claimed %d, sent %d, failed %d, "
                         "blocked %d, settled %s, 429s %d, retries %d, recovered %d+%d, %.2fs",
                         report.planned_mothers, report.created, report.claimed, report.sent, report.failed,
                         report.blocked, report.settled, report.http_429, report.retries, report.recovered,
                         report.uncertain, report.seconds)
            return report


class _Wave:
    """The state of one run: its queue, the requests in flight, the pacing."""

    def __init__(self, dispatcher: Dispatcher, db: Database, now: datetime, token: str, report: WaveReport,
                 stopping: Callable[[], bool]):
        self.d = dispatcher
        self.stopping = stopping
        self.db = db
        self.now = now
        self.token = token
        self.report = report
        self.db_lock = asyncio.Lock()  # one statement or transaction at a time on this connection
        shared = dispatcher.budget
        if shared is not None and shared._monotonic is not dispatcher._monotonic:
            shared = None  # a clock injected into the dispatcher (tests): one budget keeps one clock
        self.budget = shared or SharedBudget(
            dispatcher.cap, paid_rate_per_s=dispatcher.cap, chat_interval=dispatcher.chat_interval,
            monotonic=dispatcher._monotonic, sleep=dispatcher._sleep)
        self.spacing = self.budget.spacing
        self.deferred = Deferred()
        self.queue: deque[_Item] = deque()
        self.in_flight: set[asyncio.Task] = set()
        self.changed = asyncio.Event()
        self.blocked_chats: set[int] = set()
        self.bot: Bot | None = None
        self._bot_lock = asyncio.Lock()
        self.refill: asyncio.Task | None = None  # the next batch being planned and claimed
        # Group commit: senders queue their `sending` marks and outcomes; one writer task commits
        # whatever has gathered while the previous commit ran, and wakes the senders after.
        self._marks: list[tuple[int, asyncio.Future]] = []
        self._outcomes: list[tuple[tuple, asyncio.Future]] = []
        self._write = asyncio.Event()
        self.writer: asyncio.Task | None = None

    def stamp(self) -> str:
        return iso(self.d.clock.now())

    async def run(self) -> None:
        killed = False
        try:
            async with self.db_lock:
                stale_before = iso(self.d.clock.now() - self.d.claim_lease)
                own = await q.recover_own(self.db, self.d.worker_id, self.d._live_prefix,
                                          self.d.resend_uncertain, self.stamp())
                stale = await q.recover_stale(self.db, self.d.resend_uncertain, stale_before, self.stamp())
                self.report.recovered, self.report.uncertain = own[0] + stale[0], own[1] + stale[1]
                if any(own):
                    log.warning("reminders: %d claim(s) this worker's previous process left are due again "
                                "(%d of them may have been sent)", sum(own), own[1])
            self.writer = asyncio.create_task(self._writer())
            await self._pump()
        except asyncio.CancelledError:  # killed: nothing more is written; the next run recovers
            killed = True
            for task in [*([self.writer] if self.writer else []), *self.in_flight,
                         *([self.refill] if self.refill else [])]:
                task.cancel()
            raise
        finally:
            pending = [*self.in_flight, *([self.refill] if self.refill else [])]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            if not killed:
                await self._release_unstarted()
            if self.writer is not None:
                self.writer.cancel()
                await asyncio.gather(self.writer, return_exceptions=True)
            if self.bot is not None:
                await self.bot.shutdown()

    # ------------------------------------------------------------------ pump
    async def _pump(self) -> None:
        exhausted = False
        low_water = max(1, self.d.batch)  # claim the next batch while one second's worth remains
        while not self.stopping():
            if not exhausted and self.refill is None and len(self.queue) < low_water:
                self.refill = asyncio.create_task(self._refill())
            if self.refill is not None and self.refill.done():
                exhausted = not self.refill.result()
                self.refill = None
                continue
            moment = self.d._monotonic()
            item = self.deferred.pop_ready(moment)
            if item is None and self.queue:
                item = self.queue.popleft()
            if item is None:
                if self.refill is not None:
                    await self._wait(self.deferred.next_at())  # the refill sets `changed` when done
                    continue
                if not exhausted:
                    continue  # the last batch was all settled (late, logged...): claim the next
                if not self.deferred and not self.in_flight:
                    return
                await self._wait(self.deferred.next_at())
                continue
            chat = item.delivery.recipient_id
            if self.spacing.ready_at(chat) > moment:
                self.deferred.push(self.spacing.ready_at(chat), item)
                continue
            while len(self.in_flight) >= self.d.max_in_flight:
                await self._wait(None)
            item.granted = await self.budget.acquire_wave(self.d.paid)  # after any reply waiting
            self.spacing.note(chat, item.granted)
            task = asyncio.create_task(self._deliver(item))
            self.in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        self.changed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("reminder sender crashed", exc_info=task.exception())

    async def _wait(self, until: float | None) -> None:
        """Until a sender finishes or a deferred row is ready, whichever comes first."""
        self.changed.clear()
        waiters = {asyncio.ensure_future(self.changed.wait())}
        if until is not None:
            waiters.add(asyncio.ensure_future(self.d._sleep(max(0.0, until - self.d._monotonic()))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _refill(self) -> bool:
        """Plan the next mothers and claim the next batch; False when nothing at all was due."""
        try:
            return await self._refill_batch()
        finally:
            self.changed.set()  # the pump waits for this, also when the refill failed

    async def _refill_batch(self) -> bool:
        now_iso, cutoff = iso(self.now), iso(self.now - self.d.grace)
        async with self.db_lock:
            async with self.db.transaction():
                planned = await self._plan()
            async with self.db.transaction():
                claimed, settled = await q.claim(self.db, now_iso, cutoff, self.d.batch, self.token, self.stamp())
        for status, n in settled.items():
            self.report.count(self.report.settled, status, n)
        self.report.claimed += len(claimed)
        if claimed and self.d.on_claimed is not None:
            await self.d.on_claimed(claimed)
        texts, minutes = self.d.texts, self.d.snooze_minutes
        for delivery in claimed:
            self.queue.append(_Item(delivery, messages.text(texts, delivery), messages.markup(texts, delivery, minutes)))
        self.changed.set()
        return bool(planned or claimed or settled)

    async def _plan(self) -> int:
        """One delivery row per recipient and due slot, for the next batch of mothers."""
        now, now_iso = self.now, iso(self.now)
        plans = await q.due_for_planning(self.db, now_iso, self.d.plan_batch)
        if not plans:
            return 0
        companions = await q.companions_of(self.db, [plan.mother_id for plan in plans])
        rows, checks = [], []
        for plan in plans:
            schedule = schedule_for(plan, self.d.settings)
            paused = parse_utc(plan.paused_until) if plan.paused_until else None
            for slot in due_slots(schedule, parse_utc(plan.next_check_at), now):
                if paused is not None and slot.at < paused:
                    continue
                late = too_late(slot.at, now, self.d.grace)
                status, reason = ("missed", "late") if late else ("pending", None)
                recipients = [plan.mother_id] if plan.active else []
                recipients += [companion for companion, muted in companions.get(plan.mother_id, [])
                               if muted is None or parse_utc(muted) <= slot.at]
                for recipient in recipients:
                    rows.append((recipient, plan.mother_id, slot.date.isoformat(), slot.name, iso(slot.at),
                                 status, reason, now_iso))
                    self.report.count(self.report.created, status)
            following = next_check(schedule, now, paused)
            checks.append((iso(following) if following else None, now_iso, plan.mother_id))
        await q.insert_deliveries(self.db, rows)
        await q.set_next_checks(self.db, checks)
        self.report.planned_mothers += len(plans)
        return len(plans)

    async def _release_unstarted(self) -> None:
        """Claims this run did not start (it was stopped): due again for the next run."""
        ids = [item.delivery.id for item in self.queue]
        while (item := self.deferred.pop_ready(float("inf"))) is not None:
            ids.append(item.delivery.id)
        self.queue.clear()
        if ids:
            async with self.db_lock:
                await q.release(self.db, ids, self.token, self.stamp())

    # ------------------------------------------------------------------ senders
    async def _get_bot(self) -> Bot:
        async with self._bot_lock:
            if self.bot is None:
                bot = self.d._bot_factory()
                await bot.initialize()
                self.bot = bot
        return self.bot

    async def _deliver(self, item: _Item) -> None:
        delivery = item.delivery
        if not await self._queue_write(self._marks, delivery.id):
            self.report.count(self.report.settled, "changed")
            return  # logged, paused or skipped since the claim
        if self.d.on_sending is not None:
            await self.d.on_sending(delivery, item.granted)
        if delivery.recipient_id in self.blocked_chats:
            await self._record(delivery, "blocked", reason="forbidden")
            return
        chat = delivery.recipient_id
        item.follows = self.budget.follows(chat) or self.spacing.recently_sent(chat, 2 * self.d.chat_interval)
        try:
            bot = await self._get_bot()
            await self.spacing.before_send(chat)
            try:
                message = await bot.do_api_request("sendMessage", api_kwargs=self._params(item))
            finally:
                self.spacing.after_send(chat)
        except RetryAfter as exc:
            await self._refused(item, _retry_after(exc))
        except Forbidden:
            self.blocked_chats.add(delivery.recipient_id)
            await self._record(delivery, "blocked", reason="forbidden")
            async with self.db_lock:
                await set_active(self.db, delivery.recipient_id, False)
        except BadRequest as exc:  # our request is wrong, or the chat is gone: retrying will not help
            log.warning("reminder refused by Telegram: %s", exc.message)
            await self._record(delivery, "failed", reason="bad_request")
        except NetworkError:  # timeouts, 5xx, connection errors: maybe transient
            await self._retry_later(item)
        except TelegramError as exc:
            log.warning("reminder failed: %s", type(exc).__name__)
            await self._record(delivery, "failed", reason="error")
        else:
            moment = self.d._monotonic()
            self.report.first_send = self.report.first_send or moment
            self.report.last_send = moment
            status = await self._record(delivery, "sent", message_id=message["message_id"])
            if status == "done":  # the massage was logged while this was on its way
                await self._mark_done(bot, delivery, message["message_id"])

    def _params(self, item: _Item) -> dict:
        """The sendMessage parameters as Bot API JSON: at 1000 messages a second, building and
        parsing PTB objects (the keyboard, the returned Message) was a third of the CPU time."""
        params = {"chat_id": item.delivery.recipient_id, "text": item.text, "reply_markup": item.markup}
        if self.d.paid:
            params["allow_paid_broadcast"] = True
        return params

    async def _record(self, delivery: Delivery, status: str, message_id: int | None = None,
                      reason: str | None = None) -> str:
        stored = await self._queue_write(self._outcomes, (delivery.id, status, message_id, reason))
        if stored in ("sent", "done"):
            self.report.sent += 1
        elif stored == "blocked":
            self.report.blocked += 1
        elif stored == "failed":
            self.report.failed += 1
        return stored

    async def _queue_write(self, queue: list, entry):
        future = asyncio.get_running_loop().create_future()
        queue.append((entry, future))
        self._write.set()
        return await future

    async def _writer(self) -> None:
        """Commit queued `sending` marks (before their requests leave) and outcomes, in groups."""
        while True:
            await self._write.wait()
            self._write.clear()
            marks, self._marks = self._marks, []
            outcomes, self._outcomes = self._outcomes, []
            try:
                async with self.db_lock:
                    stamp = self.stamp()
                    if marks:
                        marked = await q.mark_sending_many(self.db, [i for i, _ in marks], self.token, stamp)
                    if outcomes:
                        done = await q.record_many(self.db, [o for o, _ in outcomes], self.token, stamp)
            except Exception as exc:  # noqa: BLE001 - every waiting sender must hear of it
                for _, future in marks + outcomes:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for delivery_id, future in marks:
                if not future.done():
                    future.set_result(delivery_id in marked)
            for (delivery_id, status, _, _), future in outcomes:
                if not future.done():
                    future.set_result("done" if delivery_id in done else status)

    async def _refused(self, item: _Item, retry_after: float) -> None:
        """429: Telegram did not take it; the row goes again after `retry_after`. Everyone waits,
        unless this chat had a message moments before: then it is the per-chat limit, and only
        this chat waits (a wave of a thousand a second must not stop for one busy cadre)."""
        self.report.http_429 += 1
        # the budget is the replies' too: an overall pause holds them, a chat's only that chat
        self.budget.pause_for(item.delivery.recipient_id, retry_after, item.follows, self.d.paid)
        item.refusals += 1
        if item.refusals > self.d.max_refusals:
            await self._record(item.delivery, "failed", reason="rate_limited")
            return
        async with self.db_lock:
            await q.unmark_sending(self.db, item.delivery.id, self.token, self.stamp())
        self.deferred.push(self.d._monotonic() + retry_after, item)
        self.changed.set()

    async def _retry_later(self, item: _Item) -> None:
        item.failures += 1
        if item.failures > len(self.d.retry_delays):
            await self._record(item.delivery, "failed", reason="network")
            return
        self.report.retries += 1
        self.deferred.push(self.d._monotonic() + self.d.retry_delays[item.failures - 1], item)
        self.changed.set()

    async def _mark_done(self, bot: Bot, delivery: Delivery, message_id: int) -> None:
        async with self.db_lock:
            by_id, by_name = await q.logged_by(self.db, delivery.mother_id, delivery.slot_date, delivery.slot)
        note = messages.done_note(self.d.texts, delivery, by_id, by_name)
        try:
            await bot.edit_message_text(messages.answered(self.d.texts, delivery, note),
                                        chat_id=delivery.recipient_id, message_id=message_id)
        except TelegramError as exc:
            log.debug("could not mark a reminder done: %s", type(exc).__name__)


def _retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (read without PTB's int/timedelta deprecation warning)."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
