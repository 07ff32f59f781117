"""Which worker runs the scheduled jobs (issue 9): the leader, chosen through the database.

Every worker answers updates; only the leader runs PTB's JobQueue (the reminder wave's wake-up,
the guide timer's tick, the daily call list, alert escalation, the inactivity check). The other
workers start their JobQueue paused and resume it if they become leader.

PostgreSQL: the leader holds a session-level advisory lock (`pg_try_advisory_lock(LOCK_KEY)`) on
a connection of its own, outside the pool. The lock lives exactly as long as that session:

* the leader dies (kill -9 too): the OS closes its socket, the server ends the session and the
  lock is free at once; a follower takes it at its next try, every `LEADER_CHECK_SECONDS`;
* the leader's host or network goes away: the session is idle, and the server ends it after
  `idle_session_timeout` (4 checks, at least 20 s; PostgreSQL 14+), freeing the lock;
* the leader checks its connection every `LEADER_CHECK_SECONDS` (the lock still in `pg_locks`,
  within a timeout): when it fails, it pauses its jobs, stops a running reminder wave and drops
  the connection, and becomes a follower that tries again. It notices (within 2 checks) before
  the server can free the lock (4 checks), so two leaders never run jobs at the same time in
  practice; if they briefly did, nothing is sent twice: reminders are claimed row by row
  (`FOR UPDATE SKIP LOCKED`, db/queries/reminders.py), and the other jobs' writes are
  conditional on the rows' state.

The election connection's `application_name` is `sahabat-nifas <WORKER_ID>`, so who leads can
be seen in the database too (`LEADER_QUERY`).

SQLite: one process only (it has one writer); that process is always the leader.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# "SN", issue 9, 2: the scheduler (bot/polling.py's poll lock is ..._0001). Below 2^63.
LOCK_KEY = 0x534E_0009_0000_0002
APPLICATION_NAME = "sahabat-nifas "
# Who holds the lock, by the `application_name` of its session (`<prefix><WORKER_ID>`).
LEADER_QUERY = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database"
    " WHERE datname = current_database()) AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
    " AND l.objsubid = 1")
_HELD = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
         " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1")


class Leader:
    """The scheduler election of one application (started by `BotApplication.initialize`)."""

    def __init__(self, app, *, check_seconds: float | None = None, worker_id: str | None = None,
                 key: int = LOCK_KEY):
        settings = app.services.settings
        self.app = app
        self.db = app.services.db
        self.worker = worker_id or settings.worker_id
        self.check_s = float(check_seconds or settings.leader_check_seconds)
        self.key = key
        self.leading = False
        self.terms = 0                     # how often this worker became leader
        self.leader_name: str | None = None  # who leads, as far as this worker knows
        self.changed = asyncio.Event()     # set at every change of `leading` (tests)
        self._task: asyncio.Task | None = None
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._on_lead: list[Callable[[], Awaitable[None]]] = []
        self._callbacks: set[asyncio.Task] = set()
        self._stopped = False

    @property
    def postgres(self) -> bool:
        return self.db.dialect == "postgresql"

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Before `Application.start()`: gate the JobQueue, try to lead once, then keep trying."""
        self._gate_jobs()
        self._gate_dispatcher()
        if not self.postgres:
            self.leading = True
            self.terms = 1
            self.leader_name = self.worker
            log.info("scheduler: SQLite, one process: this worker (%s) runs the scheduled jobs", self.worker)
            return
        await self._try()
        if not self.leading:
            await self._who_leads()
        self._task = asyncio.create_task(self._loop(), name="leader-election")

    async def stop(self) -> None:
        """At shutdown: stop trying, let go of the lock (closing its connection)."""
        self._stopped = True
        for task in [*([self._task] if self._task else []), *self._callbacks]:
            task.cancel()
        await asyncio.gather(*([self._task] if self._task else []), *self._callbacks, return_exceptions=True)
        self._task = None
        was = self.leading
        self.leading = False
        await self._drop_connection()
        if was and self.postgres:
            log.info("scheduler: worker %s stops leading (shutting down)", self.worker)

    def on_lead(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await `callback()` whenever this worker becomes leader (now, if it leads already)."""
        self._on_lead.append(callback)
        if self.leading:
            self._background(callback)

    def _background(self, callback: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.get_running_loop().create_task(self._call(callback), name="leader-callback")
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def wait_leading(self, timeout: float) -> bool:
        """For tests: until this worker leads (True) or `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while not self.leading:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    # ------------------------------------------------------------------ the JobQueue and the wave
    def _gate_jobs(self) -> None:
        """`Application.start()` starts the JobQueue: paused unless this worker leads. (APScheduler
        drops its jobs at shutdown, so leadership pauses and resumes it instead.)"""
        queue = getattr(self.app, "_job_queue", None)
        if queue is None or not self.postgres:
            return
        scheduler = queue.scheduler
        start = scheduler.start

        def gated_start(*args, paused: bool = False, **kwargs):
            return start(*args, paused=paused or not self.leading, **kwargs)

        scheduler.start = gated_start  # this application's scheduler only (JobQueue.start calls it)

    def _gate_dispatcher(self) -> None:
        """A reminder wave running when leadership is lost winds down (its unsent claims go back)."""
        dispatcher = self.app.services.reminders
        if dispatcher is None or not self.postgres:
            return
        stopping = dispatcher.is_stopping
        dispatcher.is_stopping = lambda: stopping() or not self.leading

    def _resume_jobs(self) -> None:
        queue = getattr(self.app, "_job_queue", None)
        if queue is not None and queue.scheduler.running:
            queue.scheduler.resume()

    def _pause_jobs(self) -> None:
        queue = getattr(self.app, "_job_queue", None)
        if queue is not None and queue.scheduler.running:
            queue.scheduler.pause()  # jobs already running finish; no new run starts

    # ------------------------------------------------------------------ the election
    async def _loop(self) -> None:
        try:
            await self._elect()
        finally:  # cancelled (the event loop ends with the application never shut down): let go
            await self._drop_connection()

    async def _elect(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.check_s)
            if self.db._engine is None:  # the application's database was closed: it is gone
                self._stopped = True
                await self._lose("the application stopped")
                return
            try:
                if self.leading:
                    await self._check()
                else:
                    await self._try()
                    if not self.leading:
                        await self._who_leads()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database is away: a follower waits for it
                if self.leading:
                    await self._lose(f"{type(exc).__name__}")
                else:
                    await self._drop_connection()
                    log.debug("scheduler: election try failed (%s)", type(exc).__name__)

    async def _connection(self) -> AsyncConnection:
        if self._conn is not None:
            return self._conn
        if self._engine is None:
            name = (APPLICATION_NAME + self.worker)[:63]
            self._engine = create_async_engine(self.db.url, poolclass=NullPool,
                                               connect_args={"server_settings": {"application_name": name}})
        conn = await asyncio.wait_for(self._engine.connect(), self._timeout)
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # A leader whose host vanished leaves an idle session: the server ends it (freeing the
        # lock) after 4 checks. Live workers use their session at every check.
        idle_ms = int(max(4 * self.check_s, 20) * 1000)
        for setting in (f"SET idle_session_timeout = {idle_ms}", "SET tcp_keepalives_idle = 10",
                        "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3"):
            try:
                await conn.exec_driver_sql(setting)
            except Exception:  # noqa: BLE001 - an older server: the lock still dies with the session
                log.debug("scheduler: %s not supported", setting.split(" = ")[0])
        self._conn = conn
        return conn

    @property
    def _timeout(self) -> float:
        return max(self.check_s, 5.0)

    @property
    def _key_parts(self) -> dict[str, int]:
        return {"hi": self.key >> 32, "lo": self.key & 0xFFFF_FFFF}

    async def _try(self) -> None:
        if self._stopped or self.db._engine is None:
            return
        try:
            conn = await self._connection()
            got = (await asyncio.wait_for(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}), self._timeout)).scalar()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            await self._drop_connection()
            log.warning("scheduler: cannot reach the database to elect a leader (%s); again in %.0fs",
                        type(exc).__name__, self.check_s)
            return
        if got:
            await self._become()

    async def _check(self) -> None:
        """The leader's connection is alive and still holds the lock (or raises)."""
        conn = self._conn
        if conn is None:
            raise ConnectionError("no election connection")
        held = (await asyncio.wait_for(conn.execute(text(_HELD), self._key_parts), self._timeout)).scalar()
        if not held:
            raise ConnectionError("the lock is gone")

    async def _who_leads(self) -> None:
        """Log the leader's name when it changes (a follower's view)."""
        conn = self._conn
        if conn is None:
            return
        try:
            row = (await asyncio.wait_for(conn.execute(text(LEADER_QUERY), self._key_parts), self._timeout)).first()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - only for the log
            return
        name = row[0] if row is not None else None
        if name is not None and name.startswith(APPLICATION_NAME):
            name = name[len(APPLICATION_NAME):]
        if name != self.leader_name:
            self.leader_name = name
            if name is None:
                log.info("scheduler: no worker leads at the moment; this worker (%s) tries every %.0fs",
                         self.worker, self.check_s)
            else:
                log.info("scheduler: worker %s leads; this worker (%s) answers updates and stands by",
                         name, self.worker)

    async def _become(self) -> None:
        self.leading = True
        self.terms += 1
        self.leader_name = self.worker
        self.changed.set()
        log.info("scheduler: this worker (%s) leads now and runs the scheduled jobs", self.worker)
        self._resume_jobs()
        for callback in list(self._on_lead):  # in the background: the checks must go on meanwhile
            self._background(callback)

    async def _call(self, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except Exception:  # noqa: BLE001
            log.exception("scheduler: a task for the new leader failed")

    async def _lose(self, why: str) -> None:
        was = self.leading
        self.leading = False
        if was:
            self.leader_name = None
            self.changed.set()
            self._pause_jobs()
            log.warning("scheduler: this worker (%s) no longer leads (%s); its jobs are paused", self.worker, why)
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        """Close the election connection (its session, and with it the lock, ends)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
        if self._stopped and self._engine is not None:
            engine, self._engine = self._engine, None
            with contextlib.suppress(Exception):
                await engine.dispose()
