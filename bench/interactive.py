"""How fast the bot answers many users at once (issue 9): N registered mothers send /menu at the
same moment, against the stand-in Telegram in its own process with Telegram's flood limits
(30 messages a second overall, one a second per chat) and a round trip of --latency-ms.

    python -m bench.interactive [--users 200] [--latency-ms 150] [--sequential]

The stand-in notes when it handed each update to the bot and when the bot's first answer to
that chat arrived, so the times are measured at "Telegram", not by the code under test. The
limit beside them is what Telegram itself allows: N answers at 30/s plus one round trip.
`--sequential` handles one update at a time (the behaviour before concurrent updates).
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
            ((BASE + i, f"Ibu {i}", f"M-{i:08d}", REGISTERED_AT, REGISTERED_AT) for i in range(users)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> dict:
    if args.sequential:  # one at a time, as before
        application_module.PerChatUpdateProcessor = lambda: PerChatUpdateProcessor(1)  # type: ignore
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    pin = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    server = context.Process(target=serve, args=(theirs, {
        "latency_ms": args.latency_ms, "cap_per_s": 30.0, "paid_cap_per_s": 1000.0,
        "user_ranges": [(BASE, args.users)], "cpu": 1 if pin else None}), daemon=True)
    server.start()
    if pin:
        os.sched_setaffinity(0, {0})
    address = ours.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-interactive-") as tmp:
            settings = Settings(_env_file=None, database_path=Path(tmp) / "bench.db",
                                telegram_bot_token=address["token"], telegram_api_base_url=address["base_url"],
                                reminder_poll_seconds=0)
            app = build_application(settings, clock=FakeClock())
            await app.initialize()
            await seed(app.services.db, args.users)
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                cpu_before, started = time.process_time(), time.perf_counter()
                ours.send(("burst", BASE, args.users, "/menu"))
                ours.recv()
                deadline = started + args.timeout
                while True:
                    await asyncio.sleep(0.25)
                    ours.send("answers")
                    answers = ours.recv()
                    if all(v is not None for v in answers.values()) or time.perf_counter() > deadline:
                        break
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
    return {"users": args.users, "latency_ms": args.latency_ms, "mode": "sequential" if args.sequential else
            "concurrent", "answered": len(times), "median_s": round(statistics.median(times), 2),
            "p95_s": round(percentile(times, 0.95), 2), "last_s": round(max(times), 2),
            "limit_s": round(limit, 2), "p95_vs_limit": round(percentile(times, 0.95) / limit, 2),
            "http_429": stats["http_429"], "cpu_ms_per_update": round(cpu * 1000 / args.users, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    result = asyncio.run(run(parser.parse_args()))
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
