"""How fast the bot answers many users at once (issue 9), against the stand-in Telegram in its own
process with Telegram's flood limits (30 messages a second overall, one a second per chat) and a
round trip of --latency-ms.

    python -m bench.interactive [--users 200] [--flow menu|report] [--database postgresql://...]
    python -m bench.interactive --workers 4 --database postgresql://postgres@127.0.0.1:5432/test
    python -m bench.interactive --users 500 --flow report --spread 300 --think 2 --wave 10000

`--flow menu`: each registered mother sends /menu. `--flow report`: each walks /lapor to its end
(milk flow, no danger signs, feeds, wet nappies, breasts: six updates), pressing the next button
the moment the bot offers it (or `--think` seconds later). All start at the same moment, or
spread evenly over `--spread` seconds. The stand-in notes when it handed over each update and
when the bot's first message after it arrived, so the times are measured at "Telegram".

Printed: the time from each user's first update to the answer of her last step (median, 95th
percentile, last) beside the limit, which is what Telegram itself allows: the messages and edits
(Telegram counts both, and so does the stand-in) that arrived until the last answer at 30/s (but
one a second to a chat), plus one round trip; the requests per user; the time per step (to the
bot's first message or edit after it);
CPU milliseconds per update; the 1-minute load average before and after the run, and how many
cores other processes used meanwhile (a run with load > 2 was disturbed: run it again).

The bot runs in this process and polls (`bot/polling.py`, as `sahabat-nifas run` does; pinned to
one core, the stand-in to the other), or, with `--workers N`, as the real
`sahabat-nifas run --webhook URL --workers N` in its own processes, the stand-in POSTing each
update to the webhook as Telegram does; then CPU is the sum over the bot's processes, and peak
resident memory is given per worker. `--database`: a PostgreSQL server (the URL of any database
on it); a throw-away database `bench_interactive_<pid>` is created there and dropped after, and
its server processes' CPU is printed too. Without it: a SQLite file in a temporary folder.
`--sequential` handles one update at a time.

`--wave N` (in this process) also seeds N mothers and companions (as bench.reminders does) and
runs their 16:00 reminder wave while the users chat: the replies and the wave share the bot
token's one rate budget, replies first. Printed: lost / duplicated reminders counted at
"Telegram"; the wave's rate while the users chat against the cap their replies left (30/s minus
their messages and edits, at "Telegram"), and the slots of the bot's budget the replies and the wave took.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import psutil

from bench import reminders as reminders_bench
from bench.capped_loopback import serve
from bot.clock import FakeClock, iso

BASE = 7_000_000
ROOT = Path(__file__).resolve().parent.parent  # the project (the workers import it from there)
FLOWS = {
    "menu": ["/menu"],
    "report": ["/lapor", "rep:f:smooth", "rep:ds:none", "rep:feeds:10", "rep:wet:6", "rep:br:soft"],
}


async def seed(db, users: int, registered_at: str) -> None:
    async with db.transaction():
        await db.executemany(
            "INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
            " VALUES (?, 'mother', 'id', ?, ?)", ((BASE + i, registered_at, registered_at) for i in range(users)))
        await db.executemany(
            "INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id, pseudonym,"
            " created_at, clinic_chosen_at) VALUES (?, ?, ?, 1, 'Asia/Jakarta', NULL, ?, ?, ?)",
            ((BASE + i, f"Ibu {i}", registered_at[:10], f"C-{i:08d}", registered_at, registered_at)
             for i in range(users)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# ------------------------------------------------------------------ measuring
def cpu_seconds(processes) -> dict[int, float]:
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            found[process.pid] = times.user + times.system
    return found


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots (a process new since counts from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def database_backends(name: str | None) -> list[psutil.Process]:
    """The PostgreSQL server processes serving database `name` (their title names it)."""
    if not name:
        return []
    return [p for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and p.info["cmdline"][0].startswith("postgres:")
            and f" {name} " in " ".join(p.info["cmdline"])]


def peak_rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


class Meter:
    """CPU of the bot's processes, of its database's server processes and of everything on the
    machine (so what the other processes used shows), over one run; the load average around it."""

    def __init__(self, bot_processes, database: str | None):
        self.bot_processes, self.database = bot_processes, database

    def __enter__(self) -> "Meter":
        self.load_start = os.getloadavg()[0]
        self.bot = cpu_seconds(self.bot_processes())
        self.db = cpu_seconds(database_backends(self.database))
        self.machine = self._busy()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.started
        self.bot_s = used(self.bot, cpu_seconds(self.bot_processes()))
        self.db_s = used(self.db, cpu_seconds(database_backends(self.database)))
        self.machine_s = self._busy() - self.machine
        self.load_end = os.getloadavg()[0]

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


# ------------------------------------------------------------------ databases
@contextlib.contextmanager
def throwaway_database(server: str | None):
    """(URL, name) of a new PostgreSQL database on `server`, dropped afterwards; (None, None)
    without a server (the bot then uses a SQLite file)."""
    if not server:
        yield None, None
        return
    import psycopg

    name = f"bench_interactive_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name, name
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def wait_for_answers(ours, deadline: float) -> dict:
    while True:
        await asyncio.sleep(0.25)
        ours.send("answers")
        walks = ours.recv()
        if all(w["done"] for w in walks.values()) or time.perf_counter() > deadline:
            return walks


# ------------------------------------------------------------------ the bot in this process
async def run_in_process(args, ours, address: dict, tmp: str, db_url: str | None, db_name: str | None) -> dict:
    from bot import application as application_module
    from bot.application import build_application
    from bot.config import Settings
    from bot.polling import start_polling
    from bot.updates import PerChatUpdateProcessor

    if args.sequential:  # one at a time, as before concurrent updates
        application_module.PerChatUpdateProcessor = lambda: PerChatUpdateProcessor(1)  # type: ignore
    population = reminders_bench.plan_population(args.wave, 0.2) if args.wave else None
    clock = FakeClock(reminders_bench.WAVE_AT) if population else FakeClock()
    settings = Settings(_env_file=None, database_path=Path(tmp) / "bench.db", database_url=db_url or "",
                        telegram_bot_token=address["token"], telegram_api_base_url=address["base_url"],
                        reminder_poll_seconds=0, worker_id="bench")
    app = build_application(settings, clock=clock)
    await app.initialize()
    await seed(app.services.db, args.users, iso(clock.now()))
    if population:
        await reminders_bench.seed(app.services.db, population)
    poller = await start_polling(app, timeout_s=1, probe_s=0)
    extra: dict = {}
    try:
        me = psutil.Process()
        with Meter(lambda: [me], db_name) as meter:
            wave_task = None
            if population:  # the wave first (it is under way when the users write)
                wave_task = asyncio.create_task(app.services.reminders.run_once(reminders_bench.WAVE_AT))
                await asyncio.sleep(args.wave_lead)
            budget = app.services.budget
            replies_before, wave_before, chat_started = budget.replies, budget.wave, time.perf_counter()
            ours.send(("walk", BASE, args.users, FLOWS[args.flow], args.spread, args.think))
            ours.recv()
            walks = await wait_for_answers(ours, time.perf_counter() + args.spread + args.timeout)
            chat_s = time.perf_counter() - chat_started
            replies, wave = budget.replies - replies_before, budget.wave - wave_before  # slots taken meanwhile
            if wave_task is not None:
                report = await wave_task
                extra = {"reply_slots_per_s": round(replies / chat_s, 1), "wave_slots_per_s": round(wave / chat_s, 1),
                         "wave_wall_s": round(time.perf_counter() - meter.started, 1), "wave_429": report.http_429}
    finally:
        await poller.stop()
        await app.shutdown()
    return {"walks": walks, "meter": meter, "population": population, **extra}


# ------------------------------------------------------------------ the real `run --webhook --workers N`
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def run_workers(args, ours, address: dict, tmp: str, db_url: str | None, db_name: str | None) -> dict:
    from db.database import Database

    target = db_url or str(Path(tmp) / "bench.db")
    db = await Database(target).open()  # migrated
    try:
        await seed(db, args.users, iso(datetime.now(timezone.utc)))  # the workers keep real time
    finally:
        await db.close()
    port = free_port()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": address["token"], "TELEGRAM_API_BASE_URL": address["base_url"],
           "DATABASE_URL": db_url or "", "DATABASE_PATH": target, "WEBHOOK_LISTEN": "127.0.0.1",
           "WEBHOOK_PORT": str(port), "WEBHOOK_SECRET": "", "WORKER_ID": "bench", "REMINDER_POLL_SECONDS": "0",
           "DASHBOARD_URL": "", "LOG_LEVEL": "INFO",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log_path = Path(tmp) / "bot.log"
    with open(log_path, "w") as log:
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--webhook", f"http://127.0.0.1:{port}",
                                "--workers", str(args.workers)], env=env, cwd=tmp, stdout=log, stderr=log)
    root = psutil.Process(bot.pid)
    try:
        deadline = time.monotonic() + 90
        while True:  # every worker listening, and the leader has set the webhook
            time.sleep(0.25)
            ours.send("stats")
            if ours.recv()["webhook_set"] and log_path.read_text().count("listening on") >= args.workers:
                break
            if bot.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bot did not start:\n" + log_path.read_text()[-3000:])
        workers = [root] if args.workers == 1 else root.children()
        with Meter(lambda: [root, *root.children(recursive=True)], db_name) as meter:
            ours.send(("walk", BASE, args.users, FLOWS[args.flow], args.spread, args.think))
            ours.recv()
            walks = await wait_for_answers(ours, time.perf_counter() + args.spread + args.timeout)
        peaks = [peak_rss_mb(w.pid) for w in workers]
        restarted = {w.pid for w in workers} != {w.pid for w in ([root] if args.workers == 1 else root.children())}
    finally:
        bot.terminate()  # SIGTERM: the supervisor stops its workers
        try:
            bot.wait(60)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
    problems = [line for line in log_path.read_text().splitlines() if " ERROR " in line or "Traceback" in line]
    if problems:  # the first one in full, for whoever reads the run
        lines = log_path.read_text().splitlines()
        first = next(i for i, line in enumerate(lines) if " ERROR " in line or "Traceback" in line)
        print("bot log:\n" + "\n".join(line[:300] for line in lines[max(first - 3, 0):first + 40]), file=sys.stderr)
    return {"walks": walks, "meter": meter, "population": None, "peak_rss_mb_per_worker": peaks,
            "workers_restarted": restarted, "bot_log_errors": len(problems)}


# ------------------------------------------------------------------ one run
async def run(args: argparse.Namespace) -> dict:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    in_process = not args.workers
    pin = in_process and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    population = reminders_bench.plan_population(args.wave, 0.2) if args.wave else None
    ranges = [(BASE, args.users)]
    if population:
        ranges += [(reminders_bench.MOTHER_BASE, population["mothers"]),
                   (reminders_bench.COMPANION_BASE, population["companions"])]
    server = context.Process(target=serve, args=(theirs, {
        "latency_ms": args.latency_ms, "cap_per_s": 30.0, "paid_cap_per_s": 1000.0,
        "user_ranges": ranges, "cpu": 1 if pin else None}), daemon=True)
    server.start()
    if pin:
        os.sched_setaffinity(0, {0})
    address = ours.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-interactive-") as tmp, \
                throwaway_database(args.database) as (db_url, db_name):
            ours.send("stats")
            server_cpu_before = ours.recv()["server_cpu_s"]
            runner = run_in_process if in_process else run_workers
            result = await runner(args, ours, address, tmp, db_url, db_name)
        ours.send("stats")
        stats = ours.recv()
    finally:
        ours.send("stop")
        server.join(10)
    return summarize(args, result, stats, stats["server_cpu_s"] - server_cpu_before)


def summarize(args, result: dict, stats: dict, server_cpu_s: float) -> dict:
    walks, meter = result["walks"], result["meter"]
    steps = len(FLOWS[args.flow])
    ends = [w["end"] for w in walks.values() if w["done"]]  # from her first update to the last answer
    step_times = [t for w in walks.values() for t in w["times"] if t is not None]
    # What Telegram allows: the messages and edits (Telegram counts both) that arrived before the
    # last answer at 30/s, but one a second to a chat; plus a round trip.
    window = stats["while_walking"]
    sends, edits = window["message"], window["edit"]
    most = max((w["sends"] + w["edits"] for w in walks.values()), default=1)
    limit = max((sends + edits) / 30, most - 1) + 2 * args.latency_ms / 1000 if not args.spread else None
    updates = sum(len(w["times"]) for w in walks.values())
    out = {
        "flow": args.flow, "users": args.users, "steps": steps, "spread_s": args.spread, "think_s": args.think,
        "bot": f"{args.workers} worker(s), webhook" if args.workers else
        ("one update at a time, polling" if args.sequential else "concurrent, polling"),
        "database": "PostgreSQL" if args.database else "SQLite", "latency_ms": args.latency_ms,
        "done": f"{len(ends)}/{args.users}", "messages": sends, "edits": edits,
        "requests_per_user": round((sends + edits) / max(args.users, 1), 2),
        "median_s": round(statistics.median(ends), 2) if ends else None,
        "p95_s": round(percentile(ends, 0.95), 2) if ends else None,
        "last_s": round(max(ends), 2) if ends else None,
        "limit_s": round(limit, 2) if limit else None,
        "p95_vs_limit": round(percentile(ends, 0.95) / limit, 2) if ends and limit else None,
    }
    if steps > 1:
        out |= {"step_median_s": round(statistics.median(step_times), 2),
                "step_p95_s": round(percentile(step_times, 0.95), 2)}
    out |= {
        "http_429": stats["http_429"], "http_429_chat": stats["http_429_chat"],
        "cpu_ms_per_update": None if args.wave else round(meter.bot_s * 1000 / max(updates, 1), 1),
        "db_server_cpu_ms_per_update": round(meter.db_s * 1000 / max(updates, 1), 1) if args.database else None,
        "stand_in_cpu_s": round(server_cpu_s, 1), "wall_s": round(meter.wall, 1),
        "load_1m_start": round(meter.load_start, 2), "load_1m_end": round(meter.load_end, 2),
        "other_processes_cores": round(max(0.0, meter.machine_s - meter.bot_s - meter.db_s - server_cpu_s)
                                       / meter.wall, 2),
    }
    if args.workers:
        out |= {"rate_budget_per_worker": float(os.environ.get("REMINDER_RATE_PER_S", 30)),  # each its own
                "peak_rss_mb_per_worker": result["peak_rss_mb_per_worker"],
                "workers_restarted": result["workers_restarted"], "bot_log_errors": result["bot_log_errors"],
                "webhook_posts": stats["webhook_posts"], "webhook_not_2xx": stats["webhook_failed"]}
    population = result["population"]
    if population:
        arrived = stats["reminders"]
        expected = reminders_bench.expected_keys(population) | {  # the chatting mothers get one too
            (BASE + i, f"rem:done:{BASE + i}:{reminders_bench.WAVE_KEY}") for i in range(args.users)}
        delivered = sum(arrived.values())
        # at "Telegram", while the users chat
        replies_per_s = (window["message"] + window["edit"]) / window["seconds"]  # edits count too
        wave_per_s = window["reminder"] / window["seconds"]
        cap_left = max(0.0, 30 - replies_per_s)
        out |= {"wave_messages": len(expected), "reminders_arrived": delivered,
                "lost": len(expected - set(arrived)), "duplicated": delivered - len(set(arrived)),
                "chat_s": round(window["seconds"], 1), "replies_per_s": round(replies_per_s, 1),
                "cap_left_per_s": round(cap_left, 1), "wave_while_chatting_per_s": round(wave_per_s, 1),
                "wave_vs_cap_left": round(wave_per_s / cap_left, 2) if cap_left else None,
                "bot_reply_slots_per_s": result["reply_slots_per_s"], "bot_wave_slots_per_s": result["wave_slots_per_s"],
                "wave_wall_s": result["wave_wall_s"], "wave_rate_per_s": round(delivered / result["wave_wall_s"], 1),
                "wave_429": result["wave_429"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--flow", choices=sorted(FLOWS), default="menu")
    parser.add_argument("--spread", type=float, default=0.0, help="start the users evenly over this many seconds")
    parser.add_argument("--think", type=float, default=0.0, help="seconds a user takes to press the next button")
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--database", help="a PostgreSQL server, as postgresql://user@host:port/any_database")
    parser.add_argument("--workers", type=int, default=0, help="run `sahabat-nifas run --webhook --workers N`")
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--timeout", type=float, default=300, help="seconds after the last user set out")
    parser.add_argument("--wave", type=int, default=0, help="also run a reminder wave for N registered users")
    parser.add_argument("--wave-lead", type=float, default=3.0, help="seconds the wave runs before the users write")
    args = parser.parse_args()
    if args.workers and (args.wave or args.sequential):
        parser.error("--wave and --sequential run the bot in this process (no --workers)")
    if args.workers > 1 and not args.database:
        parser.error("several workers need PostgreSQL (--database postgresql://...)")
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="If 'per_message=False'")  # the flows' handlers, not ours
    result = asyncio.run(run(args))
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
