"""Screenshots of the desk dashboard for the README: docs/screenshots/dashboard-*.png.

    .venv/bin/python tools/dashboard_screenshots.py [--out docs/screenshots] [--lang id|en]

Runs the real application against the loopback Bot API with a throw-away database, plays a
demo clinic through the chat (a midwife, mothers with reports, a danger sign), then opens the
Mini App in headless Chromium (/usr/bin/chromium, driven by Playwright) with a correctly
signed initData and photographs each page at phone width and desk width.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the tests' chat helpers play the demo clinic

PAGES = [("calls", "/calls"), ("mothers", "/mothers"), ("record", "/mothers/7101"), ("alerts", "/alerts"),
         ("stats", "/stats")]


async def build(folder: Path):
    from bot.clock import FakeClock
    from bot.config import Settings
    from db.queries.sessions import log_session
    from loopback.driver import BotDriver
    from test_alerting import danger_report
    from test_reports import make_clinic, mother_in, new_midwife, report

    clock = FakeClock(datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc))
    settings = Settings(_env_file=None, database_path=folder / "demo.db", telegram_bot_token="0:placeholder",
                        dashboard_url="https://dasbor.example", dashboard_port=0, reminder_poll_seconds=0)
    driver = BotDriver(settings, clock=clock)
    await driver.start()
    clinic, _ = await make_clinic(driver, "Puskesmas Bener", "Asia/Jakarta")
    await new_midwife(driver, clinic, 7001, "Rina")
    await new_midwife(driver, clinic, 7002, "Dewi")
    db = driver.app.services.db
    names = ["Sari", "Wati", "Ayu", "Nur", "Lestari", "Dian"]
    mothers = [await mother_in(driver, clinic, 7101 + i, name, when=("Kemarin", "Hari ini")[i % 2])
               for i, name in enumerate(names)]
    for i, mother in enumerate(mothers[:4]):
        await report(mother, flow=("not_out", "not_smooth")[i % 2], feeds="6", wet="3")
        clock.advance(timedelta(hours=3))
        await log_session(db, mother_id=7101 + i, timezone="Asia/Jakarta", logged_by=7101 + i,
                          started_at=clock.now(), now=clock.now())
        clock.advance(timedelta(hours=3))
        await report(mother, flow=("smooth", "not_smooth", "smooth")[i % 3])
    await danger_report(mothers[4], "fits")
    clock.advance(timedelta(days=2, minutes=20))
    await danger_report(mothers[1], "bleeding")
    return driver


def shoot(base: str, init_data: str, out: Path, lang: str) -> list[Path]:
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        for width, suffix in ((1280, "desk"), (412, "phone")):
            ctx = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            ctx.route("https://telegram.org/**", lambda route: route.abort())
            page = ctx.new_page()
            page.goto(f"{base}/?lang={lang}#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0")
            page.wait_for_url("**/calls")
            for name, path in PAGES:
                page.goto(base + path)
                target = out / f"dashboard-{name}-{suffix}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            ctx.close()
        browser.close()
    return written


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=["id", "en"], default="id")
    args = parser.parse_args(argv)
    if not Path("/usr/bin/chromium").exists():
        print("needs /usr/bin/chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    from web.auth import init_data_for
    from web.server import dashboard_of

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        driver = await build(Path(folder))
        try:
            base = f"http://127.0.0.1:{dashboard_of(driver.app).port}"
            init_data = init_data_for(7001, "Rina", driver.settings.telegram_bot_token, driver.app.services.clock.now())
            written = await asyncio.to_thread(shoot, base, init_data, args.out, args.lang)
        finally:
            await driver.stop()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
