"""Reminder delivery under stress: 429 storms, server errors, crashes, downtime, overlapping wake-ups.

"Delivered once" is checked at the stand-in Telegram: how many sendMessage requests reached each
chat, not only what the database says.
"""
from __future__ import annotations

import asyncio
from contextlib import suppress

import pytest

from bot.config import Settings
from loopback.driver import BotDriver
from loopback.server import Fault
from reminders.dispatcher import Dispatcher
from reminders.jobs import JOB_NAME
from tests.test_onboarding import register_mother
from tests.test_reminders import add_companion, reminders, rows, utc, wave
from tests.test_reminders_planning import FakeTime


# The dispatcher sends with do_api_request on purpose (see reminders/dispatcher.py), and PTB's own
# RetryAfter warns about a future type change of `retry_after`: neither is ours to act on here.
pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]

@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                    reminder_poll_seconds=0)


def is_reminder(markup) -> bool:
    return bool(markup) and markup["inline_keyboard"][0][0].get("callback_data") == "menu:guide"


def sends_to(driver, chat_id: int) -> int:
    """Reminder requests that reached Telegram for this chat (refused ones included)."""
    return sum(1 for method, params in driver.server.requests
               if method == "sendMessage" and str(params.get("chat_id")) == str(chat_id)
               and is_reminder(params.get("reply_markup")))


def delivered_to(driver, chat_id: int) -> int:
    return sum(1 for m in driver.server.bot_messages(chat_id) if is_reminder(m.reply_markup))


def dispatcher(driver) -> Dispatcher:
    return driver.app.services.reminders


async def family(driver, mothers=3):
    """Mothers in WIB, each with a husband."""
    people = []
    for index in range(mothers):
        mother = await register_mother(driver, 1001 + index, f"Ibu{index}", zone="WIB")
        husband = await add_companion(driver, mother, 2001 + index, f"Suami{index}")
        people += [mother, husband]
    return people


async def test_429_storm_every_reminder_arrives_once(driver, clock):
    people = await family(driver, 3)
    driver.server.faults.append(Fault(code=429, method="sendMessage", times=6, retry_after=1))
    report = await wave(driver, clock, utc(0, 9))
    assert report.http_429 == 6 and report.sent == 6 and report.failed == 0
    for person in people:
        assert delivered_to(driver, person.user_id) == 1
    statuses = await rows(driver, "SELECT status, COUNT(*) AS n FROM reminder_delivery GROUP BY status")
    assert statuses == [{"status": "sent", "n": 6}]


async def test_server_errors_are_retried_then_recorded_as_failed(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    ayu = await register_mother(driver, 1002, "Ayu", zone="WIB")
    dispatcher(driver).retry_delays = (0.01, 0.01)
    driver.server.faults.append(Fault(code=502, method="sendMessage", chat_id=1001, times=2))
    driver.server.faults.append(Fault(code=500, method="sendMessage", chat_id=1002, times=5))
    report = await wave(driver, clock, utc(0, 9))
    assert (report.sent, report.failed, report.retries) == (1, 1, 4)
    assert delivered_to(driver, 1001) == 1 and delivered_to(driver, 1002) == 0
    failed = await rows(driver, "SELECT recipient_id, status, reason, attempts FROM reminder_delivery WHERE status = 'failed'")
    assert failed == [{"recipient_id": 1002, "status": "failed", "reason": "network", "attempts": 3}]
    assert reminders(sari) and not reminders(ayu)


async def test_kill_between_claim_and_send_then_restart(driver, clock):
    people = await family(driver, 2)
    reached, never = asyncio.Event(), asyncio.Event()

    async def crash_here(claimed):
        reached.set()
        await never.wait()

    dispatcher(driver).on_claimed = crash_here
    clock.set(utc(0, 9))
    run = asyncio.create_task(dispatcher(driver).run_once(utc(0, 9)))
    await asyncio.wait_for(reached.wait(), 5)
    assert await rows(driver, "SELECT DISTINCT status FROM reminder_delivery") == [{"status": "claimed"}]
    run.cancel()  # the process dies here: the claims are committed, nothing was sent
    with suppress(asyncio.CancelledError):
        await run
    await driver.restart(graceful=False)

    clock.set(utc(0, 9, 1))  # back within a minute: the dead run's claims are still within their lease
    assert (await dispatcher(driver).run_once()).sent == 0
    clock.set(utc(0, 9, 6))
    report = await dispatcher(driver).run_once()
    assert report.recovered == 4 and report.sent == 4
    for person in people:
        assert sends_to(driver, person.user_id) == 1 and delivered_to(driver, person.user_id) == 1


@pytest.mark.parametrize("resend", [True, False])
async def test_crash_while_sending(driver, clock, resend):
    """A crash after a row is marked `sending`: at least once resends it, at most once does not."""
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    reached, never = asyncio.Event(), asyncio.Event()

    async def crash_here(delivery, granted_at):
        reached.set()
        await never.wait()

    dispatcher(driver).on_sending = crash_here
    clock.set(utc(0, 9))
    run = asyncio.create_task(dispatcher(driver).run_once(utc(0, 9)))
    await asyncio.wait_for(reached.wait(), 5)
    run.cancel()
    with suppress(asyncio.CancelledError):
        await run
    assert (await rows(driver, "SELECT status FROM reminder_delivery"))[0]["status"] == "sending"
    driver.base_settings = driver.base_settings.model_copy(update={"reminder_resend_uncertain": resend})
    await driver.restart(graceful=False)
    report = await wave(driver, clock, utc(0, 9, 10))
    row = (await rows(driver, "SELECT status, reason FROM reminder_delivery"))[0]
    assert report.uncertain == 1
    if resend:
        assert (row["status"], row["reason"]) == ("sent", "uncertain") and delivered_to(driver, 1001) == 1
    else:
        assert (row["status"], row["reason"]) == ("failed", "uncertain") and delivered_to(driver, 1001) == 0
    assert sends_to(driver, 1001) == (1 if resend else 0)
    assert len(reminders(sari)) == (1 if resend else 0)


async def test_overlapping_wakeups_and_a_second_dispatcher(driver, clock):
    people = await family(driver, 4)
    services = driver.app.services
    other = Dispatcher(driver.settings, services.clock, services.texts, shared_db=services.db)
    clock.set(utc(0, 9))
    reports = await asyncio.gather(dispatcher(driver).run_once(), dispatcher(driver).run_once(), other.run_once())
    assert sum(r.sent for r in reports) == 8
    for person in people:
        assert sends_to(driver, person.user_id) == 1


async def test_downtime_of_one_hour_is_caught_up_by_the_start_wakeup(settings, clock, tmp_path):
    bot = BotDriver(settings.model_copy(update={"reminder_poll_seconds": 30}), clock=clock)
    await bot.start()
    try:
        sari = await register_mother(bot, 1001, "Sari", zone="WIB")
        assert len(bot.app.job_queue.get_jobs_by_name(JOB_NAME)) == 1
        await bot.stop_app()
        clock.set(utc(0, 10))  # 17:00 WIB: the 16:00 reminder is an hour late
        await bot.start_app()
        await asyncio.wait_for(dispatcher(bot).finished.wait(), 10)  # the wake-up at start
        assert len(reminders(sari)) == 1 and dispatcher(bot).last_report.sent == 1
    finally:
        await bot.stop()


async def test_downtime_of_five_hours_is_recorded_as_missed(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await driver.stop_app()
    clock.set(utc(0, 14))  # 21:00 WIB: the 16:00 reminder is five hours late
    await driver.start_app()
    report = await dispatcher(driver).run_once()
    assert report.sent == 0 and report.created == {"missed": 2}
    assert reminders(sari) == [] and reminders(budi) == []
    await wave(driver, clock, utc(0, 23))  # the next morning comes as usual
    assert len(reminders(sari)) == 1 and len(reminders(budi)) == 1


async def test_snoozed_reminder_due_during_downtime_is_missed(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    await wave(driver, clock, utc(0, 9))
    await sari.press("Tunda 30 menit")
    await driver.restart()
    await wave(driver, clock, utc(0, 12))  # 19:00 WIB: the 16:30 repeat is 2.5 hours late
    assert len(reminders(sari)) == 1
    row = (await rows(driver, "SELECT status, reason FROM reminder_delivery"))[0]
    assert (row["status"], row["reason"]) == ("missed", "late")


async def test_one_message_per_second_per_chat(driver, clock):
    """A posyandu cadre accompanying three mothers gets her three reminders a second apart."""
    mothers = [await register_mother(driver, 1001 + i, f"Ibu{i}", zone="WIB") for i in range(3)]
    cadre = None
    for mother in mothers:
        link = next(m.body for m in mother.messages() if "start=c_" in m.body)
        cadre = driver.user(3001, "Kader")
        await cadre.open_link(link)
        if mother is mothers[0]:
            await cadre.press("ob:consent:yes")
        await cadre.press("ob:rel:cadre")
    fake = FakeTime()
    d = dispatcher(driver)
    d._monotonic, d._sleep = fake.monotonic, fake.sleep
    sent_at: list[tuple[int, float]] = []

    async def note(delivery, granted_at):
        sent_at.append((delivery.recipient_id, granted_at))

    d.on_sending = note
    report = await wave(driver, clock, utc(0, 9))
    assert report.sent == 6 and delivered_to(driver, 3001) == 3
    cadre_times = [t for chat, t in sent_at if chat == 3001]
    assert all(b - a >= 1.0 for a, b in zip(cadre_times, cadre_times[1:]))
    others = [t for chat, t in sent_at if chat != 3001]
    assert max(others) - min(others) < 1.0  # the mothers did not wait for the cadre


async def test_clock_hook_for_the_demo(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    hooks = driver.app.services.clock_hooks
    clock.set(utc(0, 9, 1))
    for hook in hooks:
        await hook(driver.app)
    assert len(reminders(sari)) == 1
