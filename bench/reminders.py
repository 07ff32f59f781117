"""Benchmark: one reminder wave against the loopback Bot API with Telegram's flood limits.

    python -m bench.reminders                    # 10,000 users, 150 ms latency, 30/s (about 6 minutes)
    python -m bench.reminders --quick            # 400 users (under 30 seconds)
    python -m bench.reminders --paid             # allow_paid_broadcast: 1000/s
    python -m bench.reminders --paid --users 100000   # memory with 100,000 registered users

The real application is built and initialised (not polled), its database seeded with mothers
(WIB) and companions (a few of them posyandu cadres accompanying three mothers each), and the
dispatcher runs the 16:00 wave once, exactly as the scheduler would. The stand-in Telegram runs
in its own process (`bench.capped_loopback`), answers after `--latency-ms` and refuses with 429
whatever exceeds its caps; it counts what arrived, so `duplicates` and `lost` are measured at
"Telegram". The bot process is pinned to one core (when the machine has two or more), and CPU
time and peak memory are the bot process's alone. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from bench.capped_loopback import serve
from bot.application import build_application
from bot.clock import FakeClock, iso
from bot.config import Settings
from db.queries.reminders import status_counts
from reminders.dispatcher import PAID_BROADCAST_RATE

MOTHER_BASE, COMPANION_BASE = 10_000_000, 20_000_000
WAVE_AT = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)          # 16:00 WIB
REGISTERED_AT = iso(datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc))
CADRE_EVERY = 100   # one companion in a hundred is a cadre accompanying three mothers


def plan_population(users: int, companion_share: float) -> dict:
    companions = int(users * companion_share)
    mothers = users - companions
    cadres = companions // CADRE_EVERY
    links = []  # (mother index, companion index)
    for c in range(companions):
        if c < cadres:
            links += [((c * 3 + k) % mothers, c) for k in range(3)]
        else:
            links.append(((cadres * 3 + c) % mothers, c))
    return {"mothers": mothers, "companions": companions, "cadres": cadres, "links": links}


async def seed(db, population: dict) -> None:
    """Straight into the tables, as onboarding would have left them (the trigger adds prefs)."""
    mothers, companions = population["mothers"], population["companions"]
    async with db.transaction():
        await db.executemany(
            "INSERT INTO app_user(telegram_id, role, language, consent_at, created_at) VALUES (?, ?, ?, ?, ?)",
            ((MOTHER_BASE + i, "mother", "en" if i % 10 == 0 else "id", REGISTERED_AT, REGISTERED_AT)
             for i in range(mothers)))
        await db.executemany(
            "INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id, pseudonym,"
            " created_at) VALUES (?, ?, '2026-11-29', 1, 'Asia/Jakarta', NULL, ?, ?)",
            ((MOTHER_BASE + i, f"Ibu {i}", f"M-{i:08d}", REGISTERED_AT) for i in range(mothers)))
        await db.executemany(
            "INSERT INTO app_user(telegram_id, role, language, consent_at, created_at) VALUES (?, 'companion', 'id', ?, ?)",
            ((COMPANION_BASE + c, REGISTERED_AT, REGISTERED_AT) for c in range(companions)))
        await db.executemany(
            "INSERT INTO companion_link(mother_id, companion_id, relation, display_name, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((MOTHER_BASE + m, COMPANION_BASE + c, "cadre" if c < population["cadres"] else "husband", f"P{c}",
              REGISTERED_AT) for m, c in population["links"]))


WAVE_KEY = "20261130:e"   # the 16:00 reminder of WAVE_AT's day


def expected_keys(population: dict) -> set[tuple[int, str]]:
    key = WAVE_KEY
    found = {(MOTHER_BASE + i, f"rem:done:{MOTHER_BASE + i}:{key}") for i in range(population["mothers"])}
    found |= {(COMPANION_BASE + c, f"rem:done:{MOTHER_BASE + m}:{key}") for m, c in population["links"]}
    return found


async def run(args: argparse.Namespace) -> dict:
    population = plan_population(args.users, args.companion_share)
    cap = float(PAID_BROADCAST_RATE if args.paid else args.cap)
    pin = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity") and not args.no_pin
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve, args=(theirs, {
        "latency_ms": args.latency_ms, "cap_per_s": args.cap, "paid_cap_per_s": PAID_BROADCAST_RATE,
        "user_ranges": [(MOTHER_BASE, population["mothers"]), (COMPANION_BASE, population["companions"])],
        "cpu": 1 if pin else None}), daemon=True)
    server.start()
    if pin:
        os.sched_setaffinity(0, {0})
    address = ours.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
            settings = Settings(_env_file=None, database_path=Path(tmp) / "bench.db",
                                telegram_bot_token=address["token"], telegram_api_base_url=address["base_url"],
                                reminder_poll_seconds=0, allow_paid_broadcast=args.paid, reminder_rate_per_s=args.cap)
            clock = FakeClock(WAVE_AT)
            app = build_application(settings, clock=clock)
            await app.initialize()
            try:
                await seed(app.services.db, population)
                dispatcher = app.services.reminders
                cpu_before, started = time.process_time(), time.perf_counter()
                report = await dispatcher.run_once(WAVE_AT)
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu_before
                peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the checking below
                statuses = await status_counts(app.services.db)
            finally:
                await app.shutdown()
        ours.send("stats")
        stats = ours.recv()
    finally:
        ours.send("stop")
        server.join(10)
    arrived = stats["reminders"]
    expected = expected_keys(population)
    delivered = sum(arrived.values())
    unique = {key for key in arrived}
    send_window = (report.last_send - report.first_send) if report.first_send and report.last_send else 0.0
    return {
        "users": args.users,
        "mothers": population["mothers"],
        "companions": population["companions"],
        "messages_expected": len(expected),
        "latency_ms": args.latency_ms,
        "cap_per_s": cap,
        "paid_broadcast": args.paid,
        "sent": delivered,
        "duplicates": delivered - len(unique),
        "lost": len(expected - unique),
        "unexpected": len(unique - expected),
        "http_429": stats["http_429"],
        "http_429_per_chat": stats["http_429_chat"],
        "rate_per_s": round(delivered / wall, 1) if wall else 0.0,
        "rate_vs_cap": round(delivered / wall / cap, 3) if wall else 0.0,
        "send_window_rate_per_s": round((delivered - 1) / send_window, 1) if send_window else None,
        "wall_s": round(wall, 2),
        "cpu_ms_per_message": round(cpu * 1000 / max(delivered, 1), 3),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "pinned_to_one_core": pin,
        "db_statuses": statuses,
        "server_cpu_s": round(stats["server_cpu_s"], 2),
        "retries": report.retries,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=None, help="registered users (default 10000; --quick: 400)")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="added to every Bot API request")
    parser.add_argument("--cap", type=float, default=30.0, help="messages per second, overall (unpaid)")
    parser.add_argument("--paid", action="store_true", help="allow_paid_broadcast: 1000 messages per second")
    parser.add_argument("--companion-share", type=float, default=0.2, help="share of users who are companions")
    parser.add_argument("--quick", action="store_true", help="a small wave, under 30 seconds")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the bot to one core")
    args = parser.parse_args(argv)
    if args.users is None:
        args.users = (4000 if args.paid else 400) if args.quick else 10_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="If 'per_message=False'")  # the flows' handlers, not ours
    result = asyncio.run(run(args))
    print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
