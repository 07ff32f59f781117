"""The desk dashboard (issue 11.2): the initData check, and the pages in real headless Chromium
against the real application and the loopback Bot API.

The browser (Playwright's sync API) lives in one worker thread for the whole module; each test
hands it a function to run there while the bot keeps running on the test's event loop.
"""
from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import quote

import pytest

from bot.config import Settings
from db.queries import clinics
from loopback.driver import BotDriver
from test_alerting import danger_report
from test_reports import make_clinic, mother_in, new_midwife, report
from web import auth
from web.server import dashboard_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "123456:LOOPBACK-TOKEN"


# ----------------------------------------------------------------- (1) the initData check
def test_valid_init_data_is_accepted(clock):
    now = clock.now()
    user = auth.check_init_data(auth.init_data_for(5001, "Ani", TOKEN, now - timedelta(minutes=5)), TOKEN, now)
    assert (user.id, user.first_name) == (5001, "Ani")


def test_the_documented_algorithm(clock):
    """Recomputed here step by step, as Telegram's documentation describes it."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(auth.init_data_for(5001, "Ani", TOKEN, clock.now())))
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert hmac.new(secret, check.encode(), hashlib.sha256).hexdigest() == fields["hash"]


def test_forged_hash_is_refused(clock):
    good = auth.init_data_for(5001, "Ani", TOKEN, clock.now())
    forged = re.sub(r"hash=[0-9a-f]{64}", "hash=" + "0" * 64, good)
    with pytest.raises(auth.InitDataError):
        auth.check_init_data(forged, TOKEN, clock.now())
    tampered = good.replace("5001", "5002")  # another user id, the old hash
    with pytest.raises(auth.InitDataError):
        auth.check_init_data(tampered, TOKEN, clock.now())
    with pytest.raises(auth.InitDataError):
        auth.check_init_data(good.split("&hash=")[0], TOKEN, clock.now())
    with pytest.raises(auth.InitDataError):
        auth.check_init_data(good + "&user=%7B%22id%22%3A1%7D", TOKEN, clock.now())  # a field twice


def test_expired_init_data_is_refused(clock):
    old = auth.init_data_for(5001, "Ani", TOKEN, clock.now() - timedelta(hours=1, minutes=1))
    with pytest.raises(auth.InitDataError, match="expired"):
        auth.check_init_data(old, TOKEN, clock.now())


def test_other_bots_init_data_is_refused(clock):
    other = auth.init_data_for(5001, "Ani", "654321:ANOTHER-BOT", clock.now())
    with pytest.raises(auth.InitDataError):
        auth.check_init_data(other, TOKEN, clock.now())


# ----------------------------------------------------------------- (2) in the browser
class Browser:
    """Headless Chromium in its own thread (Playwright's sync API belongs to one thread)."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self.pool.submit(self._start).result()

    def _start(self):
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

    def context(self):
        """A fresh profile (no cookies); telegram.org is unreachable here, as in many clinics."""
        ctx = self.browser.new_context(viewport={"width": 1200, "height": 900})
        ctx.route("https://telegram.org/**", lambda route: route.abort())
        return ctx

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def close(self):
        def stop():
            self.browser.close()
            self.playwright.stop()

        self.pool.submit(stop).result()
        self.pool.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium to run the browser tests")
    try:
        import playwright  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    b = Browser()
    yield b
    b.close()


@pytest.fixture
async def driver(db_url, clock):
    settings = Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                        telegram_retry_backoff_s=0.01, dashboard_url="https://dasbor.example", dashboard_port=0)
    bot = BotDriver(settings, clock=clock)
    await bot.start()
    yield bot
    await bot.stop()


def base_of(driver) -> str:
    return f"http://127.0.0.1:{dashboard_of(driver.app).port}"


def mini_app_url(base: str, init_data: str) -> str:
    """As Telegram opens a Mini App: initData in the URL fragment."""
    return f"{base}/#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"


async def two_clinics(driver):
    """Bener (midwives Ani and Dewi; mothers Sari and Wati) and Lain (midwife Eve; mother Tuti)."""
    bener, _ = await make_clinic(driver)
    lain, _ = await make_clinic(driver, "Puskesmas Lain")
    ani = await new_midwife(driver, bener, 6001, "Ani")
    dewi = await new_midwife(driver, bener, 6002, "Dewi")
    eve = await new_midwife(driver, lain, 6003, "Eve")
    sari = await mother_in(driver, bener, 6101, "Sari")
    wati = await mother_in(driver, bener, 6102, "Wati <b>&</b>")
    tuti = await mother_in(driver, lain, 6103, "Tuti")
    return ani, dewi, eve, sari, wati, tuti


def signed(driver, user_id: int, first_name: str = "Ani", age: timedelta = timedelta(minutes=1),
           token: str | None = None) -> str:
    now = driver.app.services.clock.now()
    return auth.init_data_for(user_id, first_name, token or driver.settings.telegram_bot_token, now - age)


def open_mini_app(browser: Browser, url: str, paths: list[str]) -> dict:
    """Open the Mini App, then each path; (status, text, html) of each."""
    ctx = browser.context()
    try:
        page = ctx.new_page()
        errors: list[str] = []
        # a Content-Security-Policy violation would show here (our own style and script must pass)
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(url)
        page.wait_for_url("**/calls", timeout=5000)
        found = {}
        for path in paths:
            response = page.goto(url.split("/#")[0] + path, wait_until="domcontentloaded")
            found[path] = (response.status, page.inner_text("body"), page.content(),
                           response.headers.get("content-security-policy", ""))
        found["errors"] = errors
        return found
    finally:
        ctx.close()


async def test_midwife_sees_her_clinic_on_every_page_and_nothing_of_another(driver, browser):
    ani, _, eve, sari, wati, tuti = await two_clinics(driver)
    await report(sari, flow="not_smooth")
    await danger_report(wati, "fits")
    db = driver.app.services.db
    sari_id, tuti_id = 6101, 6103
    base = base_of(driver)
    paths = ["/calls", "/mothers", "/mothers?q=sar&sort=last", f"/mothers/{sari_id}", "/alerts", "/questions",
             "/stats", "/exports", f"/mothers/{tuti_id}"]
    found = await browser.run(open_mini_app, browser, mini_app_url(base, signed(driver, 6001)), paths)
    assert not found.pop("errors")
    for path, (status, text, html, csp) in found.items():
        assert "Tuti" not in text and "Puskesmas Lain" not in text, path
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        if path == f"/mothers/{tuti_id}":
            assert status == 404
            continue
        assert status == 200, path
        assert "Puskesmas Bener" in text
    assert "Sari" in found["/mothers"][1] and "Wati <b>&</b>" in found["/mothers"][1]
    assert "<b>&amp;</b>" not in found["/mothers"][2] and "Wati &lt;b&gt;&amp;&lt;/b&gt;" in found["/mothers"][2]
    assert "Wati" not in found["/mothers?q=sar&sort=last"][1]
    assert "Wati" in found["/alerts"][1] and "Ambil" in found["/alerts"][1]
    assert "Wati" in found["/calls"][1]
    assert "Riwayat" in found[f"/mothers/{sari_id}"][1] and "ASI keluar tapi belum lancar" in found[f"/mothers/{sari_id}"][1]
    assert 'src="/mothers/6101/chart.png"' in found[f"/mothers/{sari_id}"][2]
    # Eve of the other clinic sees Tuti and none of Bener's mothers
    found = await browser.run(open_mini_app, browser, mini_app_url(base, signed(driver, 6003, "Eve")),
                              ["/mothers", "/alerts", f"/mothers/{sari_id}", f"/mothers/{sari_id}/chart.png"])
    assert "Tuti" in found["/mothers"][1]
    for path in ("/mothers", "/alerts", f"/mothers/{sari_id}"):
        assert "Sari" not in found[path][1] and "Wati" not in found[path][1]
    assert found[f"/mothers/{sari_id}"][0] == 404 and found[f"/mothers/{sari_id}/chart.png"][0] == 404
    assert await db.fetchval("SELECT COUNT(*) FROM alert WHERE taken_by IS NOT NULL") == 0


def refused(browser: Browser, url: str) -> dict:
    ctx = browser.context()
    try:
        page = ctx.new_page()
        with page.expect_response("**/auth") as answer:
            page.goto(url)
        page.wait_for_selector("#failed", state="visible", timeout=5000)
        boot_text = page.inner_text("body")
        after = page.goto(url.split("/#")[0] + "/mothers")
        return {"auth": answer.value.status, "boot": boot_text, "mothers": (after.status, page.inner_text("body")),
                "cookies": ctx.cookies()}
    finally:
        ctx.close()


async def test_forged_expired_other_bot_and_non_midwife_init_data_get_nothing(driver, browser):
    await two_clinics(driver)
    base = base_of(driver)
    good = signed(driver, 6001)
    cases = {
        "forged": re.sub(r"hash=[0-9a-f]{64}", "hash=" + "ab" * 32, good),
        "tampered": signed(driver, 6001).replace("6001", "6003"),
        "expired": signed(driver, 6001, age=timedelta(hours=2)),
        "other bot": signed(driver, 6001, token="654321:ANOTHER-BOT"),
        "a mother": signed(driver, 6101, "Sari"),
    }
    for what, init_data in cases.items():
        result = await browser.run(refused, browser, mini_app_url(base, init_data))
        assert result["auth"] == (403 if what == "a mother" else 401), what
        assert result["mothers"][0] == 401, what
        for text in (result["boot"], result["mothers"][1]):
            assert "Sari" not in text and "Wati" not in text and "Tuti" not in text, what
        assert not result["cookies"], what


def removed_midwife(browser: Browser, url: str, remove) -> tuple:
    ctx = browser.context()
    try:
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_url("**/calls", timeout=5000)
        first = page.goto(url.split("/#")[0] + "/mothers")
        before = (first.status, page.inner_text("body"))
        remove()
        second = page.goto(url.split("/#")[0] + "/mothers")
        return before, (second.status, page.inner_text("body"))
    finally:
        ctx.close()


async def test_removed_midwife_is_refused_at_once(driver, browser):
    await two_clinics(driver)
    loop = asyncio.get_running_loop()

    def remove():  # runs in the browser's thread: hand the removal to the bot's loop
        asyncio.run_coroutine_threadsafe(clinics.remove_midwife(driver.app.services.db, 6001), loop).result(5)

    before, after = await browser.run(removed_midwife, browser, mini_app_url(base_of(driver), signed(driver, 6001)),
                                      remove)
    assert before[0] == 200 and "Sari" in before[1]
    assert after[0] == 403 and "Sari" not in after[1]


def use_link(browser: Browser, link: str) -> dict:
    ctx = browser.context()
    try:
        page = ctx.new_page()
        page.goto(link)
        page.click("button[type=submit]")
        page.wait_for_url("**/calls", timeout=5000)
        first = page.inner_text("body")
        mothers = page.goto(link.split("/login/")[0] + "/mothers")
        listed = (mothers.status, page.inner_text("body"))
    finally:
        ctx.close()
    ctx = browser.context()
    try:
        page = ctx.new_page()
        again = page.goto(link)
        return {"first": first, "mothers": listed, "again": (again.status, page.inner_text("body"))}
    finally:
        ctx.close()


async def test_one_time_login_link_works_once(driver, browser):
    ani, *_ = await two_clinics(driver)
    replies = await ani.send("/dasbor")
    message = replies[-1]
    link = re.search(r"https://dasbor\.example/login/([\w-]+)", message.body)
    assert link and len(link.group(1)) >= 22  # 128 random bits
    assert {"text": "🖥 Buka dasbor", "web_app": {"url": "https://dasbor.example/"}} in message.buttons
    stored = await driver.app.services.db.fetchval("SELECT token_hash FROM dashboard_login")
    assert link.group(1) not in stored  # only the hash is kept
    result = await browser.run(use_link, browser, f"{base_of(driver)}/login/{link.group(1)}")
    assert "Puskesmas Bener" in result["first"]
    assert result["mothers"][0] == 200 and "Sari" in result["mothers"][1]
    assert result["again"][0] == 401 and "tidak berlaku" in result["again"][1] and "Sari" not in result["again"][1]
    # a mother gets no link
    sari = driver.user(6101)
    assert "khusus untuk bidan" in (await sari.send("/dashboard"))[-1].body


async def test_login_link_expires_after_10_minutes(driver, clock):
    await two_clinics(driver)
    db = driver.app.services.db
    token = await auth.new_login_token(db, 6001, clock.now())
    clock.advance(timedelta(minutes=10, seconds=1))
    assert await auth.use_login_token(db, token, clock.now()) is None


def take_from_page(browser: Browser, url: str) -> tuple[str, int]:
    ctx = browser.context()
    try:
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_url("**/calls", timeout=5000)
        page.goto(url.split("/#")[0] + "/alerts")
        page.click("form[action$='/take'] button")
        page.wait_for_url("**/alerts", timeout=5000)
        text = page.inner_text("body")
        # forged: a CSRF-less post from the page's own origin is refused
        status = page.evaluate("fetch('/alerts/1/take', {method: 'POST'}).then(r => r.status)")
        return text, status
    finally:
        ctx.close()


async def test_taking_an_alert_on_the_page_shows_in_the_chat_like_the_button(driver, browser):
    ani, dewi, eve, sari, wati, tuti = await two_clinics(driver)
    await danger_report(sari, "fits")
    db = driver.app.services.db
    alert_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 6101")
    text, forged = await browser.run(take_from_page, browser, mini_app_url(base_of(driver), signed(driver, 6001)))
    assert "Anda menangani peringatan ini" in text and "Ditangani Ani" in text
    assert forged == 403
    assert await db.fetchval("SELECT taken_by FROM alert WHERE id = ?", (alert_id,)) == 6001
    dewi_copy = next(m for m in dewi.messages() if "🚨" in m.body)
    assert "Ditangani oleh Bidan Ani" in dewi_copy.body
    assert not any(b.get("callback_data", "").startswith("al:take") for b in dewi_copy.buttons)
    assert "Bidan Ani dari Puskesmas Bener sudah melihat" in sari.last.body
    await dewi.press_data(dewi_copy, f"al:take:{alert_id}")  # too late: Ani has it
    assert any("sudah ditangani oleh Bidan Ani" in a.get("text", "") for a in dewi.callback_answers())
    assert not any("Sari" in m.body for m in eve.messages())


async def test_without_dashboard_url_the_command_says_it_is_off_and_no_server_runs(settings, clock):
    bot = BotDriver(settings, clock=clock)
    await bot.start()
    try:
        bener, _ = await make_clinic(bot)
        ani = await new_midwife(bot, bener, 6001, "Ani")
        assert "belum diaktifkan" in (await ani.send("/dasbor"))[-1].body
        assert dashboard_of(bot.app) is None
    finally:
        await bot.stop()


def download_all(browser: Browser, url: str, paths: list[str]) -> dict:
    """Open the Mini App, then fetch each download with its session; (status, type, body)."""
    ctx = browser.context()
    try:
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_url("**/calls", timeout=5000)
        base = url.split("/#")[0]
        links = page.goto(base + "/exports").ok and page.content()
        found = {"page": links}
        for path in paths:
            response = ctx.request.get(base + path)
            found[path] = (response.status, response.headers.get("content-type", ""), response.body())
        return found
    finally:
        ctx.close()


async def test_register_and_fhir_downloads_from_the_page(driver, browser):
    import io
    import json

    import openpyxl

    await two_clinics(driver)
    await report(driver.user(6101, "Sari"), flow="not_smooth")
    base = base_of(driver)
    found = await browser.run(download_all, browser, mini_app_url(base, signed(driver, 6001)),
                              ["/exports/register", "/exports/fhir?range=d7", "/exports/fhir?range=year"])
    assert 'href="/exports/register"' in found["page"] and 'href="/exports/fhir?range=d30"' in found["page"]
    status, kind, body = found["/exports/register"]
    assert status == 200 and "spreadsheetml" in kind
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True)["Ibu"]
    names = {str(cell.value) for row in sheet.iter_rows() for cell in row}
    assert "Sari" in names and "Tuti" not in names
    status, kind, body = found["/exports/fhir?range=d7"]
    bundle = json.loads(body)
    assert status == 200 and bundle["resourceType"] == "Bundle"
    assert "Tuti" not in body.decode()
    assert found["/exports/fhir?range=year"][0] == 404
