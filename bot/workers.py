"""`sahabat-nifas run --webhook URL --workers N`: N worker processes behind one port (issue 9).

    supervisor (this module)          worker 1..N: `python -m bot.cli run --webhook URL --workers 1`
      migrate the database once        WORKER_ID=<name>-<i>
      start N workers                  webhook server on WEBHOOK_PORT (SO_REUSEPORT: one port for all)
      a worker dies -> start it again  inbox: any worker handles any update (bot/inbox.py)
      SIGTERM/SIGINT -> to every       scheduler: the one leader runs the jobs (bot/leader.py)
      worker, wait, then SIGKILL

Several workers need PostgreSQL (`DATABASE_URL`): SQLite has one writer, and the leader election
and the claims rely on PostgreSQL's locks. And webhooks: Telegram gives each update to one
getUpdates caller, so polling has one consumer only.

Worker names: `<WORKER_ID>-<i>` if WORKER_ID is set, else `<host name>-<i>`. They stay the same
when a worker is restarted, so the new process takes back at once what the dead one held (its
inbox claims, its reminder claims). Two live processes must never share a name: run one
supervisor per host, or give each its own WORKER_ID.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# "SN", issue 9, 3: migrations (workers starting together must not migrate at the same time).
MIGRATE_LOCK_KEY = 0x534E_0009_0000_0003
STOP_GRACE_S = 30.0          # after SIGTERM, how long workers get to finish what they hold
RESTART_DELAY_S = 1.0        # first wait before restarting a worker that died ...
RESTART_DELAY_MAX_S = 30.0   # ... doubling while it keeps dying within STABLE_S of its start
STABLE_S = 30.0

NEEDS_WEBHOOK = ("--workers {n}: several workers need webhook mode (--webhook URL or WEBHOOK_URL). "
                 "Long polling allows one consumer only: Telegram gives each update to one getUpdates "
                 "caller, and a second poller gets 409 Conflict.")
NEEDS_POSTGRES = ("--workers {n}: several workers need PostgreSQL: set DATABASE_URL=postgresql://user@host/db "
                  "(SQLite has one writer: one process only; see docs/deploying.md to move the data).")


def check_workers(settings, workers: int, webhook: str | None) -> str | None:
    """Why this many workers cannot run with these settings; None when they can."""
    if workers < 1:
        return "--workers must be 1 or more"
    if workers == 1:
        return None
    if not webhook:
        return NEEDS_WEBHOOK.format(n=workers)
    from db.database import Database

    if Database(settings.database_target).dialect != "postgresql":
        return NEEDS_POSTGRES.format(n=workers)
    return None


def worker_names(settings, workers: int) -> list[str]:
    """`<WORKER_ID>-<i>` when WORKER_ID was given, else `<host>-<i>` (stable across restarts)."""
    base = settings.worker_id if "worker_id" in settings.model_fields_set else socket.gethostname()
    return [f"{base}-{i}" for i in range(1, workers + 1)]


async def prepare_database(settings) -> None:
    """Bring the database to the current schema, one process at a time (PostgreSQL: under an
    advisory lock, so workers starting together do not migrate concurrently)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from db.database import Database

    db = Database(settings.database_target)
    if db.dialect != "postgresql":
        await db.open()
        await db.close()
        return
    engine = create_async_engine(db.url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATE_LOCK_KEY})
            try:
                await db.open()
                await db.close()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATE_LOCK_KEY})
    finally:
        await engine.dispose()


def serve(settings, base_url: str, workers: int, app=None) -> int:
    """Webhook mode: this process is the worker (N = 1) or the supervisor of N workers."""
    if workers == 1:
        from bot.application import build_application
        from bot.webhook import run_webhook

        asyncio.run(prepare_database(settings))
        asyncio.run(run_webhook(app or build_application(settings), base_url))
        return 0
    asyncio.run(prepare_database(settings))
    env = {**os.environ, "DATABASE_CONNECTIONS": str(worker_connections(settings, workers))}
    return Supervisor(base_url, worker_names(settings, workers), env=env).run()


def worker_connections(settings, workers: int) -> int:
    """Each worker's share of the host's PostgreSQL connections (`DATABASE_CONNECTIONS`, 60):
    four workers that each opened up to 30 once exhausted a server's 100 under load."""
    return max(8, settings.database_connections // max(workers, 1))


# ------------------------------------------------------------------ the supervisor
@dataclass
class Worker:
    name: str
    process: subprocess.Popen | None = None
    started: float = 0.0
    restart_at: float = 0.0
    delay: float = RESTART_DELAY_S
    restarts: int = 0
    exits: list[int] = field(default_factory=list)


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the supervisor dies, even by kill -9."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the workers outlive a killed supervisor
        pass


class Supervisor:
    """Starts the workers, starts again one that died, passes SIGTERM/SIGINT on to all."""

    def __init__(self, base_url: str, names: list[str], *, command: list[str] | None = None,
                 env: dict[str, str] | None = None, stop_grace_s: float = STOP_GRACE_S):
        self.base_url = base_url
        self.workers = [Worker(name) for name in names]
        self.command = command or [sys.executable, "-m", "bot.cli", "run", "--webhook", base_url, "--workers", "1"]
        self.env = dict(os.environ if env is None else env)
        self.stop_grace_s = stop_grace_s
        self.stopping = False

    def _spawn(self, worker: Worker) -> None:
        env = {**self.env, "WORKER_ID": worker.name}
        worker.process = subprocess.Popen(self.command, env=env, preexec_fn=_die_with_parent)  # noqa: PLW1509
        worker.started = time.monotonic()
        log.info("workers: %s started (pid %d)", worker.name, worker.process.pid)

    def _on_signal(self, signum, _frame) -> None:
        if not self.stopping:
            log.info("workers: %s received, stopping the workers", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        log.info("workers: starting %d workers (%s)", len(self.workers), ", ".join(w.name for w in self.workers))
        for worker in self.workers:
            self._spawn(worker)
        while not self.stopping:
            self._watch()
            time.sleep(0.2)
        return self._stop_all()

    def _watch(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            process = worker.process
            if process is not None:
                code = process.poll()
                if code is None:
                    if now - worker.started > STABLE_S:
                        worker.delay = RESTART_DELAY_S
                    continue
                worker.exits.append(code)
                worker.process = None
                quick = now - worker.started < STABLE_S
                wait = worker.delay
                worker.delay = min(worker.delay * 2, RESTART_DELAY_MAX_S) if quick else RESTART_DELAY_S
                worker.restart_at = now + wait
                how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
                log.warning("workers: %s (pid %d) ended with %s; starting it again in %.0fs",
                            worker.name, process.pid, how, wait)
            elif now >= worker.restart_at:
                worker.restarts += 1
                self._spawn(worker)

    def _stop_all(self) -> int:
        running = [w for w in self.workers if w.process is not None and w.process.poll() is None]
        for worker in running:
            worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace_s
        for worker in running:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("workers: %s did not stop within %.0fs; killing it", worker.name, self.stop_grace_s)
                worker.process.kill()
                worker.process.wait()
        log.info("workers: all stopped")
        return 0
