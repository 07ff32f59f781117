"""How fast the bot answers many users at once (issue 9): N registered mothers send /menu at the
same moment, against the stand-in Telegram in its own process with Telegram's flood limits
(30 messages a second overall, one a second per chat) and a round trip of --latency-ms.

    python -m bench.interactive [--users 200] [--latency-ms 150] [--sequential] [--wave N]

The stand-in notes when it handed each update to the bot and when the bot's first answer to
that chat arrived, so the times are measured at "Telegram", not by the code under test. The
limit beside them is what Telegram itself allows: N answers at 30/s plus one round trip.
`--sequential` handles one update at a time (the behaviour before concurrent updates).
`--wave N` also seeds N mothers (and companions, as bench.reminders does) and runs their 16:00
reminder wave (`Dispatcher.run_once`) during the burst: the replies and the wave share the bot
token's one rate budget, replies first. Printed: the wave's rate against the cap the replies
left (30/s minus the replies' rate), and lost / duplicated reminders counted at "Telegram".
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench import reminders as reminders_bench
from bench.capped_loopback import serve
from bot import application as application_module
from bot.application import build_application
from bot.clock import FakeClock
from bot.config import Settings
from bot.updates import PerChatUpdateProcessor

BASE = 7_000_000
REGISTERED_AT = "2026-11-29T00:00:00Z"


async def seed(db, users: int) -> None:
    async with db.transaction():
        await db.executemany(
            "INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
            " VALUES (?, 'mother', 'id', ?, ?)", ((BASE + i, REGISTERED_AT, REGISTERED_AT) for i in range(users)))
        await db.executemany(
            "INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id, pseudonym,"
            " created_at, clinic_chosen_at) VALUES (?, ?, '2026-11-29', 1, 'Asia/Jakarta', NULL, ?, ?, ?)",
            ((BASE + i, f"Ibu {i}", f"C-{i:08d}", REGISTERED_AT, REGISTERED_AT) for i in range(users)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> dict:
    if args.sequential:  # one at a time, as before
        application_module.PerChatUpdateProcessor = lambda: PerChatUpdateProcessor(1)  # type: ignore
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    pin = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
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
        with tempfile.TemporaryDirectory(prefix="bench-interactive-") as tmp:
            settings = Settings(_env_file=None, database_path=Path(tmp) / "bench.db",
                                telegram_bot_token=address["token"], telegram_api_base_url=address["base_url"],
                                reminder_poll_seconds=0)
            app = build_application(settings, clock=FakeClock(reminders_bench.WAVE_AT) if population else FakeClock())
            await app.initialize()
            await seed(app.services.db, args.users)
            if population:
                await reminders_bench.seed(app.services.db, population)
            wave_task = None
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                cpu_before, started = time.process_time(), time.perf_counter()
                if population:  # the wave first (it is under way when the users write)
                    wave_task = asyncio.create_task(app.services.extras["reminders"].run_once(reminders_bench.WAVE_AT))
                    await asyncio.sleep(args.wave_lead)
                burst_at = time.perf_counter()
                app.services.budget.wave_at_burst = app.services.budget.wave
                ours.send(("burst", BASE, args.users, "/menu"))
                ours.recv()
                deadline = started + args.timeout
                while True:
                    await asyncio.sleep(0.25)
                    ours.send("answers")
                    answers = ours.recv()
                    if all(v is not None for v in answers.values()) or time.perf_counter() > deadline:
                        break
                replies_done = time.perf_counter()
                budget = app.services.budget
                wave_during = budget.wave
                replies_s = replies_done - burst_at
                if wave_task is not None:
                    report = await wave_task
                    wave_wall = time.perf_counter() - started
                cpu = time.process_time() - cpu_before
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
        ours.send("stats")
        stats = ours.recv()
    finally:
        ours.send("stop")
        server.join(10)
    times = [v for v in answers.values() if v is not None]
    limit = args.users / 30 + 2 * args.latency_ms / 1000
    extra = {}
    if population:
        arrived = stats["reminders"]
        expected = reminders_bench.expected_keys(population)
        delivered = sum(arrived.values())
        reply_rate = args.users / replies_s
        # replies and the wave during the burst (a reply is one message per user here)
        extra = {"wave_messages": len(expected), "reminders_arrived": delivered, "lost": len(expected - set(arrived)),
                 "duplicated": delivered - len(set(arrived)), "wave_wall_s": round(wave_wall, 1),
                 "wave_rate_per_s": round(delivered / wave_wall, 1),
                 "during_burst_s": round(replies_s, 1), "reply_rate_per_s": round(reply_rate, 1),
                 "wave_rate_during_burst_per_s": round(wave_during_burst(budget, wave_during, args, replies_s), 1),
                 "cap_left_per_s": round(max(0.0, 30 - reply_rate), 1),
                 "wave_429": report.http_429, "http_429_chat": stats["http_429_chat"],
                 "http_429_overall": stats["http_429_overall"]}
    return {"users": args.users, "latency_ms": args.latency_ms, "mode": "sequential" if args.sequential else
            "concurrent", "answered": len(times), "median_s": round(statistics.median(times), 2),
            "p95_s": round(percentile(times, 0.95), 2), "last_s": round(max(times), 2),
            "limit_s": round(limit, 2), "p95_vs_limit": round(percentile(times, 0.95) / limit, 2),
            "http_429": stats["http_429"], "cpu_ms_per_update": round(cpu * 1000 / args.users, 1), **extra}


def wave_during_burst(budget, wave_slots_at_end: int, args, seconds: float) -> float:
    """The wave's slots granted between the burst and the last answer, per second."""
    return (wave_slots_at_end - budget.wave_at_burst) / seconds if seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--wave", type=int, default=0, help="also run a reminder wave for N registered users")
    parser.add_argument("--wave-lead", type=float, default=3.0, help="seconds the wave runs before the burst")
    result = asyncio.run(run(parser.parse_args()))
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
