"""Benchmark of the midwife's /ringkasan and /ekspor at clinic scale, end to end.

    python -m bench.summary            # 10,000 mothers, 200,000 milk reports
    python -m bench.summary --quick    # 1,000 mothers, 20,000 milk reports

Builds a clinic in a fresh SQLite file (plus a smaller second clinic that must never show up),
starts the real application against the loopback Bot API over HTTP on 127.0.0.1, registers a
midwife through /start, and times what she experiences: from sending the command until the
bot has sent every message (summary) or every file (export). Prints one JSON object.

Memory: the process already holds python-telegram-bot, SciPy and matplotlib (about 165 MB RSS
before any work), so the export is judged by what it adds: the peak resident memory while it
runs minus the resident memory just before (sampled every 5 ms), and, in a second run of the three
exports (Puskesmas register, research files, FHIR of the last 30 days), the
peak of Python allocations (tracemalloc). Both include the copy of each file that the loopback
server keeps in this same process, as Telegram would keep it on its side.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psutil

from bot.clock import FakeClock, iso
from bot.config import Settings
from db.database import Database
from db.queries import clinics
from flows import exports as exports_flow
from flows import midwife as midwife_flow
from loopback.driver import BotDriver

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
FLOWS = ("not_out", "not_smooth", "smooth")
SUMMARY_TARGET_MS = 300
EXPORT_PEAK_TARGET_MB = 150
MIDWIFE_ID = 99_000_001
# /ekspor: (kind, FHIR range, files sent); all three run one after the other under one RSS sampler
EXPORTS = (("register", None, 1), ("research", None, 4), ("fhir", "d30", None))   # FHIR: 1 file per 5,000 reports


def _mother_rows(clinic_id: int, first_id: int, count: int, rng: random.Random):
    for i in range(count):
        delivery = (NOW.date() - timedelta(days=rng.randint(0, 60))).isoformat()
        yield (first_id + i, f"Ibu {first_id + i}", delivery, rng.randint(0, 1), "Asia/Makassar", clinic_id,
               f"M-{first_id + i:08X}", iso(NOW - timedelta(days=61)))


def seed(path: Path, clinic_id: int, first_id: int, mothers: int, reports_each: int, rng: random.Random) -> dict:
    """Bulk rows straight into SQLite (streamed from generators, as a large clinic would have)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    stamp = iso(NOW - timedelta(days=61))
    ids = range(first_id, first_id + mothers)
    companions = range(first_id + 5_000_000, first_id + 5_000_000 + mothers // 2)
    with conn:
        conn.executemany("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                         " VALUES (?, 'mother', 'id', ?, ?)", ((i, stamp, stamp) for i in ids))
        conn.executemany("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone, clinic_id,"
                         " pseudonym, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         _mother_rows(clinic_id, first_id, mothers, rng))
        conn.executemany("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                         " VALUES (?, 'companion', 'id', ?, ?)", ((c, stamp, stamp) for c in companions))
        conn.executemany("INSERT INTO companion_link(mother_id, companion_id, relation, display_name, created_at)"
                         " VALUES (?, ?, 'husband', 'Suami', ?)",
                         ((first_id + 2 * k, c, stamp) for k, c in enumerate(companions)))
        deliveries = dict(conn.execute("SELECT user_id, delivery_date FROM mother WHERE clinic_id = ?", (clinic_id,)))

        def sessions():
            for mother_id in ids:
                born = date.fromisoformat(deliveries[mother_id])
                for k in range(10):  # days 2-6, morning and evening
                    day = born + timedelta(days=1 + k // 2)
                    hour = 23 if k % 2 == 0 else 9  # 07:00 and 17:00 WITA
                    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=hour)
                    if k % 2 == 0:
                        start -= timedelta(days=1)
                    yield (mother_id, mother_id, "husband", day.isoformat(), ("morning", "evening")[k % 2],
                           iso(start), 900, iso(start))

        conn.executemany("INSERT INTO massage_session(mother_id, logged_by, who, slot_date, slot, started_at,"
                         " duration_s, completed, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'guide', ?)",
                         sessions())

        def reports():
            for mother_id in ids:
                born = datetime.combine(date.fromisoformat(deliveries[mother_id]), datetime.min.time(), timezone.utc)
                first_session = born + timedelta(days=1) - timedelta(hours=1)
                for k in range(reports_each):
                    at = born + timedelta(hours=2 + k * 11)
                    day = (at + timedelta(hours=8)).date().toordinal() - born.date().toordinal() + 1
                    level = min(2, max(0, int(rng.gauss(k / reports_each * 3, 0.8))))
                    yield (mother_id, mother_id, "mother", iso(at), day, "pre" if at < first_session else "post",
                           FLOWS[level], rng.randint(4, 14), rng.randint(0, 8), "full", "")

        conn.executemany("INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day,"
                         " phase, milk_flow, feeds_24h, wet_nappies_24h, breasts, danger_signs)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reports())

        def quiz():
            for person in list(ids) + list(companions):
                if rng.random() < 0.7:
                    yield (person, "pre", iso(NOW - timedelta(days=20)), rng.randint(20, 80))
                    if rng.random() < 0.85:
                        yield (person, "post", iso(NOW - timedelta(days=15)), rng.randint(40, 100))

        conn.executemany("INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at, score)"
                         " VALUES (?, ?, 'id', '[]', ?, ?, ?)", ((u, k, t, t, s) for u, k, t, s in quiz()))
        conn.executemany("INSERT INTO alert(mother_id, cause, detail, opened_at, notified_at) VALUES (?, ?, '', ?, ?)",
                         ((m, "milk_not_out", stamp, stamp) for m in ids if m % 20 == 0))
    conn.execute("ANALYZE")
    counts = {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
              for table in ("mother", "milk_report", "massage_session", "quiz_attempt", "companion_link")}
    conn.close()
    return counts


class RssSampler:
    """Peak resident memory of this process while it runs (sampled every 5 ms)."""

    def __init__(self):
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def _mb(n: float) -> float:
    return round(n / 1e6, 1)


def _file_key(name: str) -> str:
    """sahabat-nifas-20261130-0300-sessions.csv -> sessions.csv; the workbooks and the Bundle by kind."""
    if name.startswith("register-"):
        return "register.xlsx"
    if name.startswith("fhir-"):   # fhir-laporan-asi-20261130-0300[-2].json
        part = name.removesuffix(".json").split("-")[5:]
        return f"fhir-{part[0]}.json" if part else "fhir.json"
    return "research.xlsx" if name.endswith(".xlsx") else name.rsplit("-", 1)[-1]


async def measure_exports(app, midwife, heap: bool) -> dict:
    """The three exports of /ekspor one after the other, each timed from the command until its
    files arrived; the resident memory they add at peak, and (second run) the Python heap peak."""

    async def export(kind: str, fhir_range: str | None = None) -> tuple[float, list]:
        before = len([m for m in midwife.messages() if m.kind == "document"])
        begin = time.perf_counter()
        await midwife.send("/ekspor")
        await midwife.press(f"ex:k:{kind}")
        if fhir_range:
            await midwife.press(f"ex:f:{fhir_range}")
        await exports_flow.wait_for_exports(app)
        seconds = time.perf_counter() - begin
        return seconds, [m for m in midwife.messages() if m.kind == "document"][before:]

    exports: dict[str, dict] = {}
    with RssSampler() as rss:
        for kind, fhir_range, expected in EXPORTS:
            seconds, docs = await export(kind, fhir_range)
            assert len(docs) == expected if expected else docs, f"{kind} export incomplete"
            exports[kind] = {"seconds": round(seconds, 1), "files_mb": {
                _file_key(d.file_name): _mb(d.file_size) for d in docs}}
    heap_peak = None
    if heap:
        tracemalloc.start()
        for kind, fhir_range, _ in EXPORTS:
            await export(kind, fhir_range)
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    growth = rss.peak - rss.before
    return {**exports,
            "rss_before_mb": _mb(rss.before), "rss_peak_mb": _mb(rss.peak), "rss_growth_mb": _mb(growth),
            "python_heap_peak_mb": None if heap_peak is None else _mb(heap_peak),
            "target_mb": EXPORT_PEAK_TARGET_MB,
            "within_target": growth / 1e6 < EXPORT_PEAK_TARGET_MB and (
                heap_peak is None or heap_peak / 1e6 < EXPORT_PEAK_TARGET_MB)}


async def _start(mothers: int, reports_each: int):
    """Seed a clinic (and a smaller other one), start the real application against the stand-in
    and join its midwife: (driver, midwife, row counts, seconds to seed)."""
    rng = random.Random(20261130)
    db_path = Path(tempfile.mkdtemp(prefix="sn-bench-")) / "bench.db"
    db = await Database(db_path).open()
    clinic, code = await clinics.create_clinic(db, "Puskesmas Benchmark", "Asia/Makassar", iso(NOW))
    other, _ = await clinics.create_clinic(db, "Puskesmas Lain", "Asia/Makassar", iso(NOW))
    await db.close()
    started = time.perf_counter()
    counts = seed(db_path, clinic.id, 10_000_000, mothers, reports_each, rng)
    seed(db_path, other.id, 30_000_000, max(10, mothers // 20), reports_each, rng)
    seed_s = time.perf_counter() - started
    # no reminder wave in the background: it has its own benchmark (bench.reminders)
    settings = Settings(_env_file=None, database_path=db_path, telegram_bot_token="0:placeholder",
                        reminder_poll_seconds=0)
    driver = BotDriver(settings, clock=FakeClock(NOW))
    driver.server.keep_file_bytes = False  # the stand-in counts the files; memory measured is the bot's
    await driver.start()
    midwife = driver.user(MIDWIFE_ID, "Bidan")
    await midwife.send(f"/start w_{code}")
    await midwife.press("ob:consent:yes")
    return driver, midwife, counts, seed_s


async def run_exports_only(mothers: int, reports_each: int, heap: bool) -> dict:
    """`--export-only`: the same data and application, the exports alone (no summary timings)."""
    driver, midwife, counts, seed_s = await _start(mothers, reports_each)
    try:
        export = await measure_exports(driver.app, midwife, heap)
    finally:
        await asyncio.wait_for(driver.stop(), 30)
    return {"benchmark": "bench.summary --export-only",
            "data": {"mothers": counts["mother"], "milk_reports": counts["milk_report"],
                     "sessions": counts["massage_session"], "quiz_attempts": counts["quiz_attempt"],
                     "companion_links": counts["companion_link"], "seed_s": round(seed_s, 1)},
            "export": export,
            "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                        "cpu": platform.processor() or platform.machine(), "cpus": psutil.cpu_count()}}


async def run(mothers: int, reports_each: int, summary_runs: int, heap: bool) -> dict:
    driver, midwife, counts, seed_s = await _start(mothers, reports_each)
    try:
        app = driver.app

        async def timed(command: str) -> float:
            begin = time.perf_counter()
            replies = await midwife.send(command)
            elapsed = (time.perf_counter() - begin) * 1000
            assert replies, f"no answer to {command}"
            return elapsed

        async def timed_stats() -> float:
            """The Statistik button: the before/after analysis and the chart."""
            await midwife.send("/ringkasan")  # a fresh button to press (pressing takes it off)
            begin = time.perf_counter()
            replies = await midwife.press("mw:stats")
            elapsed = (time.perf_counter() - begin) * 1000
            assert replies and replies[-1].kind == "photo", "statistics incomplete"
            return elapsed

        today = [await timed("/ringkasan") for _ in range(summary_runs)]  # today's counts, one message
        first = await timed_stats()  # includes importing SciPy and matplotlib
        drawn, cached = [], []
        for _ in range(summary_runs):
            app.services.chart_cache.clear()
            drawn.append(await timed_stats())
        for _ in range(summary_runs):
            cached.append(await timed_stats())
        pages = [await timed("/ibu") for _ in range(summary_runs)]

        export = await measure_exports(app, midwife, heap)
    finally:
        await asyncio.wait_for(driver.stop(), 30)

    summary_median = statistics.median(drawn)
    return {
        "benchmark": "bench.summary",
        "data": {"mothers": counts["mother"], "milk_reports": counts["milk_report"],
                 "sessions": counts["massage_session"], "quiz_attempts": counts["quiz_attempt"],
                 "companion_links": counts["companion_link"], "seed_s": round(seed_s, 1)},
        "summary_ms": {"today_median": round(statistics.median(today), 1),
                       "first_call_with_imports": round(first, 1), "median_chart_drawn": round(summary_median, 1),
                       "max_chart_drawn": round(max(drawn), 1),
                       "median_chart_cached": round(statistics.median(cached), 1), "runs": summary_runs,
                       "target": SUMMARY_TARGET_MS, "within_target": summary_median < SUMMARY_TARGET_MS},
        "mothers_page_ms": {"median": round(statistics.median(pages), 1), "max": round(max(pages), 1)},
        "export": export,
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpu": platform.processor() or platform.machine(), "cpus": psutil.cpu_count()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 mothers and 20,000 reports")
    parser.add_argument("--runs", type=int, default=5, help="timed /ringkasan runs (default 5)")
    parser.add_argument("--no-heap", action="store_true", help="skip the second, traced export")
    parser.add_argument("--export-only", action="store_true", help="time the three /ekspor exports only")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="If 'per_message=False'")
    mothers = 1_000 if args.quick else 10_000
    if args.export_only:
        result = asyncio.run(run_exports_only(mothers, 20, heap=not args.no_heap))
    else:
        result = asyncio.run(run(mothers, 20, args.runs, heap=not args.no_heap))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
