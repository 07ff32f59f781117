"""The safety loop around the massage (issue 8, points 4 and 5), end to end through the loopback
Bot API with an injected clock: a check before every massage (the full one the first time and
weekly, the short one otherwise), a "yes" that raises an urgent alert whoever answers, the hold
that pauses the timer and the reminders until she has been seen, loss, and a blocked mother who
comes back.

The clock starts at 2026-11-30 03:00 UTC (11:00 WITA); the mothers live in WITA, so their
reminders are due at 08:00 UTC (16:00) and 22:00 UTC (06:00 the next day).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Settings
from flows.timer import tick
from tests.test_guide import open_guide, pass_safety
from tests.test_guide_timer import answer_checks_no
from tests.test_onboarding import skip_baseline
from tests.test_reminders import reminders, utc, wave
from tests.test_reports import add_companion, make_clinic, mother_in, new_midwife

pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]

PHONE = "+62 411 555123"


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                    telegram_retry_backoff_s=0.01, reminder_poll_seconds=0)


async def clinic_with_midwife(driver):
    clinic, _ = await make_clinic(driver)
    await driver.app.services.db.execute("UPDATE clinic SET phone = ? WHERE id = ?", (PHONE, clinic.id))
    midwife = await new_midwife(driver, clinic, 5901)
    return clinic, midwife


async def rows(driver, sql, params=()):
    return [dict(r) for r in await driver.app.services.db.fetchall(sql, params)]


def questions(replies) -> list[str]:
    return [m.body for m in replies if m.body.startswith("Pertanyaan")]


def checkins(person) -> list:
    return [m for m in person.messages() if "Sudahkah Ibu diperiksa" in m.body]


async def timed_massage(driver, clock, person, mother_id, minutes=3):
    """Start a timer (the check before it answered "no"), let it run out."""
    await skip_baseline(person, await person.press(f"gd:go:{mother_id}:{minutes}"))
    clock.advance(timedelta(minutes=minutes))
    await tick(driver.app, clock.now())


# ----------------------------------------------------------------- the check before every massage
async def test_short_check_before_each_massage_and_the_full_one_weekly(driver, clock):
    clinic, _ = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    await open_guide(sari)
    await pass_safety(sari)                                    # the first time: the full check (8)
    replies = await sari.press("gd:tm:5001")                  # just passed: straight to the minutes
    assert "3 menit" in str(replies[0].buttons) and "Pilih 3, 10 atau 15 menit" in replies[0].body
    await timed_massage(driver, clock, sari, 5001)

    # the second massage: the short check, three questions (danger signs now, fever, calf)
    await sari.send("/pijat")
    replies = await sari.press("gd:tm:5001")
    assert "Cek singkat" in replies[0].body and "Pertanyaan 1 dari 3" in replies[-1].body
    assert "Bayi" in replies[-1].body                          # the mother's and the baby's signs
    replies = await sari.press("Tidak")
    assert "demam (suhu di atas 37,7 °C)" in replies[-1].body
    replies = await sari.press("Tidak")
    assert "betis" in replies[-1].body
    replies = await sari.press("Tidak")
    assert any(b["callback_data"] == "gd:go:5001:10" for b in replies[-1].buttons)
    await timed_massage(driver, clock, sari, 5001, 10)

    # a reminder's "start" goes through the same short check
    await wave(driver, clock, utc(0, 8))
    replies = await sari.press("menu:guide")
    assert questions(replies) and "dari 3" in questions(replies)[-1]
    replies = await answer_checks_no(sari, replies)
    await timed_massage(driver, clock, sari, 5001, 10)

    # 7 days after the last full check: the full one again
    clock.set(utc(7, 4))
    replies = await sari.send("/pijat")
    assert "Cek keamanan" in replies[0].body and "Pertanyaan 1 dari 8" in replies[-1].body
    await answer_checks_no(sari, replies)
    replies = await sari.press("gd:tm:5001")                  # just checked: straight to the minutes
    assert "Pilih 3, 10 atau 15 menit" in replies[0].body
    kinds = [r["kind"] for r in await rows(driver, "SELECT kind FROM safety_check WHERE outcome = 'passed' ORDER BY id")]
    assert kinds == ["full", "short", "short", "full"]
    assert await rows(driver, "SELECT * FROM alert") == []


async def test_a_companions_yes_alerts_the_midwife_and_tells_the_mother(driver, clock):
    clinic, midwife = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    budi = await add_companion(driver, sari, 5002, "Budi")
    await open_guide(budi)
    await pass_safety(budi)
    clock.advance(timedelta(hours=1))                          # that check was for another massage
    await budi.send("/pijat")
    replies = await budi.press("gd:tm:5001")
    assert "Pertanyaan 1 dari 3" in replies[-1].body
    await budi.press("Tidak")
    replies = await budi.press("Ya")                           # fever (above 37.7 °C)
    seen = "\n".join(m.body for m in replies)
    assert "Jangan pijat sekarang" in seen and "TANDA BAHAYA" in seen
    assert PHONE in seen and "112" in seen and "119" in seen  # her clinic's number on the danger screen
    assert "Bidan Puskesmas sudah kami beri tahu" in seen
    alert = (await rows(driver, "SELECT cause, detail, urgency, raised_by, closed_at FROM alert"))[0]
    assert alert == {"cause": "danger_sign", "detail": "fever", "urgency": "urgent", "raised_by": 5002,
                     "closed_at": None}
    to_midwife = midwife.messages()[-1].body
    assert "🚨" in to_midwife and "Sari" in to_midwife and "demam (suhu di atas 37,7 °C)" in to_midwife
    to_mother = sari.messages()[-1].body
    assert "🚨 Pendamping Ibu melaporkan tanda bahaya" in to_mother and PHONE in to_mother
    # the massage waits, for him and for her
    await budi.send("/pijat")
    replies = await budi.press("gd:tm:5001")
    assert "Pijat ditunda dulu" in replies[0].body
    await open_guide(sari)
    replies = await sari.press("gd:tm:5001")
    assert "Pijat ditunda dulu" in replies[0].body and PHONE in replies[0].body


async def test_danger_screen_button_and_a_midwife_sees_the_generic_numbers(driver):
    clinic, midwife = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    await sari.send("/menu")
    replies = await sari.press("menu:danger")
    assert PHONE in replies[0].body and "Ada tanda ini sekarang" in str(replies[0].buttons)
    replies = await sari.press("gd:now:5001")
    assert "Jangan menunggu" in replies[0].body and "sudah kami beri tahu" in replies[0].body
    assert PHONE in replies[0].body
    assert (await rows(driver, "SELECT detail, urgency FROM alert"))[0] == {"detail": "danger_screen",
                                                                            "urgency": "urgent"}
    assert "🚨" in midwife.messages()[-1].body
    # a midwife reads the danger screen: the generic lines, no button to report
    replies = await midwife.send("/pijat")
    replies = await midwife.press("gd:info:danger")
    assert "Hubungi bidan atau Puskesmas terdekat" in replies[0].body and "112" in replies[0].body
    assert not replies[0].buttons


# ----------------------------------------------------------------- the hold and the reminders
async def test_hold_pauses_reminders_morning_checkin_and_seen_resumes(driver, clock):
    clinic, midwife = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    budi = await add_companion(driver, sari, 5002, "Budi")
    await wave(driver, clock, utc(0, 8))                      # 16:00 WITA: the usual reminders
    assert len(reminders(sari)) == 1 and len(reminders(budi)) == 1

    # a danger sign at 16:30: the hold begins
    clock.set(utc(0, 8, 30))
    await sari.send("/menu")
    await sari.press("menu:danger")
    await sari.press("gd:now:5001")
    # the reminder's "start" and the timer refuse, with the numbers and "Sudah diperiksa"
    replies = await sari.press("menu:guide")
    assert "Pijat ditunda dulu" in replies[-1].body and PHONE in replies[-1].body
    assert "gd:seen:5001" in str(replies[-1].buttons)
    replies = await budi.press("menu:guide")
    assert "Pijat ditunda dulu" in replies[-1].body
    # the steps can still be read
    await open_guide(sari)
    replies = await sari.press("gd:st:5001:0")
    assert replies[0].kind == "photo"

    # the next morning: no reminder, a check-in for her; nothing for him
    await wave(driver, clock, utc(0, 22))
    assert len(reminders(sari)) == 1 and len(reminders(budi)) == 1
    assert len(checkins(sari)) == 1 and checkins(budi) == []
    checkin = checkins(sari)[0]
    assert [b["callback_data"] for b in checkin.buttons] == ["gd:seen:5001", "gd:no:5001"]
    morning = await rows(driver, "SELECT recipient_id, status, reason FROM reminder_delivery"
                                 " WHERE slot_date = '2026-12-01' AND slot = 'morning' ORDER BY recipient_id")
    assert morning == [{"recipient_id": 5001, "status": "sent", "reason": "checkin"},
                       {"recipient_id": 5002, "status": "skipped", "reason": "hold"}]
    replies = await sari.press_data(checkin, "gd:no:5001")   # not yet: go now, whom to call
    assert "jangan menunggu" in replies[0].body and PHONE in replies[0].body and "119" in replies[0].body

    screen = (await sari.send("/pengingat"))[-1]
    assert "berhenti dulu sampai Ibu diperiksa" in screen.body
    screen = (await budi.send("/pengingat"))[-1]
    assert "Ibu Sari: pengingat pijat berhenti dulu" in screen.body

    # the evening: skipped for both, and recorded so
    await wave(driver, clock, utc(1, 8))
    assert len(reminders(sari)) == 1 and len(reminders(budi)) == 1
    evening = await rows(driver, "SELECT status, reason FROM reminder_delivery"
                                 " WHERE slot_date = '2026-12-01' AND slot = 'evening'")
    assert evening == [{"status": "skipped", "reason": "hold"}] * 2
    # the second morning: a check-in again; "Sudah diperiksa" ends the hold
    await wave(driver, clock, utc(1, 22))
    assert len(checkins(sari)) == 2
    clock.set(utc(1, 23))
    replies = await sari.press_data(checkins(sari)[-1], "gd:seen:5001")
    assert "bisa dilanjutkan" in replies[0].body
    assert (await rows(driver, "SELECT closed_how FROM alert"))[0]["closed_how"] == "seen"
    # reminders are back from the next slot, for both
    await wave(driver, clock, utc(2, 8))
    assert len(reminders(sari)) == 2 and len(reminders(budi)) == 2
    assert len(checkins(sari)) == 2


async def test_hold_closed_by_the_midwife_also_resumes(driver, clock):
    from db.queries import alerts as alerts_q
    from usecases.alerts import raise_alert
    from db.queries.mothers import get_mother
    from domain.alerts import Cause

    clinic, _ = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    db = driver.app.services.db
    await raise_alert(driver.app.services.deps, await get_mother(db, 5001), Cause("danger_sign", "calf", urgency="urgent"),
                      raised_by=5001)
    assert await alerts_q.on_hold(db, 5001)
    await wave(driver, clock, utc(0, 8))
    assert reminders(sari) == []
    await db.execute("UPDATE alert SET closed_at = ?, closed_how = 'midwife'", ("2026-11-30T09:00:00Z",))
    await wave(driver, clock, utc(0, 22))
    assert len(reminders(sari)) == 1 and checkins(sari) == []


async def test_loss_skips_massage_reminders_and_hospital_does_not(driver, clock):
    clinic, _ = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    budi = await add_companion(driver, sari, 5002, "Budi")
    ayu = await mother_in(driver, clinic, 5003, "Ayu")
    db = driver.app.services.db
    await db.execute("UPDATE mother SET care_status = 'loss' WHERE user_id = 5001")
    await db.execute("UPDATE mother SET care_status = 'hospital' WHERE user_id = 5003")
    report = await wave(driver, clock, utc(0, 8))
    assert reminders(sari) == [] and reminders(budi) == []
    assert len(reminders(ayu)) == 1
    assert report.settled == {"skipped": 2}
    assert await rows(driver, "SELECT status, reason FROM reminder_delivery WHERE mother_id = 5001") == [
        {"status": "skipped", "reason": "loss"}] * 2


# ----------------------------------------------------------------- nobody drops out
async def test_blocked_mother_gets_reminders_again_once_she_writes(driver, clock):
    clinic, _ = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    driver.server.block(5001)
    report = await wave(driver, clock, utc(0, 8))
    assert report.blocked == 1
    assert (await rows(driver, "SELECT active FROM app_user WHERE telegram_id = 5001"))[0]["active"] == 0
    assert (await rows(driver, "SELECT next_check_at FROM reminder_pref"))[0]["next_check_at"] is not None
    driver.server.block(5001, False)
    await sari.send("/menu")                                   # any message makes her reachable again
    assert (await rows(driver, "SELECT active FROM app_user WHERE telegram_id = 5001"))[0]["active"] == 1
    await wave(driver, clock, utc(0, 22))
    assert len(reminders(sari)) == 1 and "Selamat pagi" in reminders(sari)[0].body


async def test_only_her_mother_or_companion_may_say_she_was_seen(driver, clock):
    clinic, _ = await clinic_with_midwife(driver)
    sari = await mother_in(driver, clinic, 5001)
    budi = await add_companion(driver, sari, 5002, "Budi")
    ayu = await mother_in(driver, clinic, 5003, "Ayu")
    await budi.send("/menu")
    await budi.press("menu:danger")
    await budi.press("gd:now:5001")                            # he reports for her: she is told
    assert "🚨 Pendamping Ibu melaporkan" in sari.messages()[-1].body
    # another mother forges Sari's "Sudah diperiksa": refused, the hold stays
    assert await ayu.press_data(ayu.last, "gd:seen:5001") == []
    assert "tidak berlaku" in ayu.callback_answers()[-1]["text"]
    assert (await rows(driver, "SELECT closed_at FROM alert"))[0]["closed_at"] is None
    # her companion may say so
    await open_guide(budi)
    replies = await budi.press("gd:tm:5001")
    assert "Pijat ditunda dulu" in replies[0].body
    replies = await budi.press("gd:seen:5001")
    assert "bisa dilanjutkan" in replies[0].body
    assert (await rows(driver, "SELECT closed_how FROM alert"))[0]["closed_how"] == "seen"
    replies = await budi.press("gd:tm:5001")                  # the timer is available again
    assert "Pertanyaan 1 dari 8" in replies[-1].body          # her first check: the full one
