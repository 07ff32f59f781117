"""Alerts reach someone, whatever happens (issue 8, point 9), end to end through the loopback
Bot API: a clinic-less mother's danger report reaches an administrator; a midwife who once
blocked the bot gets the next danger alert after she writes again; an alert that cannot reach
one midwife goes to the others and the administrators; a clinic without a reachable midwife is
reported at once; urgent alerts look different from the others and tell the companions."""
from __future__ import annotations

import pytest

from bot.clock import FakeClock
from db.queries import alerts as alerts_q
from test_reports import add_companion, make_clinic, mother_in, new_midwife

from conftest import ADMIN


@pytest.fixture
def driver(admin_driver):
    """Every test here runs with an administrator configured."""
    return admin_driver


async def admin_user(driver):
    """An administrator who started the bot once (Telegram only lets a bot write to those)."""
    from db.queries import users

    await users.create_user(driver.app.services.db, ADMIN, "midwife", "id", "2026-11-30T00:00:00Z")
    return driver.user(ADMIN, "Admin")


async def danger_report(person, sign: str) -> list:
    """/lapor with one danger sign ticked, whatever order the questions come in."""
    before = len(person.messages())
    await person.send("/lapor")
    await person.press("rep:f:not_smooth")
    for _ in range(12):
        buttons = [b["callback_data"] for b in person.last.buttons]
        if f"rep:ds:{sign}" in buttons:
            await person.press(f"rep:ds:{sign}")
            await person.press("rep:ds:done")
        elif any(data.startswith("rep:ds:") for data in buttons):  # a first "any of these?" step
            await person.press(next(d for d in buttons if d in ("rep:ds:yes", "rep:ds:some", "rep:ds:mother")))
        elif any(data.endswith(":skip") for data in buttons):
            await person.press(next(d for d in buttons if d.endswith(":skip")))
        else:
            break
    return person.messages()[before:]


def bodies(messages) -> str:
    return "\n".join(m.body for m in messages)


async def test_clinic_less_mother_danger_report_reaches_an_administrator(driver):
    admin = await admin_user(driver)
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 4001)
    await driver.app.services.db.execute("UPDATE mother SET clinic_id = NULL WHERE user_id = 4001")
    await danger_report(sari, "fits")
    got = bodies(admin.messages())
    assert "🚨" in got and "Sari" in got and "belum memilih Puskesmas" in got
    row = await driver.app.services.db.fetchone("SELECT recipient_kind, status FROM alert_delivery")
    assert tuple(row) == ("admin", "sent")


async def test_midwife_who_blocked_once_gets_the_next_danger_alert_after_writing_again(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4901)
    sari = await mother_in(driver, clinic, 4002)
    db = driver.app.services.db
    driver.server.block(4901)
    await danger_report(sari, "fits")                       # blocked: recorded, she is marked inactive
    assert not await db.fetchval("SELECT active FROM app_user WHERE telegram_id = 4901")
    driver.server.block(4901, False)
    await ani.send("/ibu")                                   # she writes again: reachable
    assert await db.fetchval("SELECT active FROM app_user WHERE telegram_id = 4901")
    # a midwife closes the first alert; the next danger report reaches her
    alert_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 4002")
    await db.execute("UPDATE alert SET closed_at = '2026-11-30T03:00:00Z', closed_how = 'midwife' WHERE id = ?",
                     (alert_id,))
    before = len(ani.messages())
    await danger_report(sari, "fits")
    assert "🚨" in bodies(ani.messages()[before:])


async def test_alert_that_misses_one_midwife_goes_to_the_others_and_the_administrators(driver):
    admin = await admin_user(driver)
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4903, "Ani")
    await new_midwife(driver, clinic, 4904, "Dewi")
    sari = await mother_in(driver, clinic, 4003)
    driver.server.block(4904)
    await danger_report(sari, "fits")
    assert "🚨" in bodies(ani.messages())
    assert "tidak sampai ke salah satu bidan" in bodies(admin.messages())
    failed = await alerts_q.failed_midwife_deliveries(driver.app.services.db, 4003)
    assert [(f.recipient_id, f.name) for f in failed] == [(4904, "Dewi")]


async def test_clinic_without_reachable_midwife_is_reported_to_the_administrators_at_once(driver):
    admin = await admin_user(driver)
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 4004)
    await danger_report(sari, "fits")                        # the clinic has no midwife at all
    assert "belum punya bidan" in bodies(admin.messages())


async def test_urgent_alert_differs_from_a_warning_and_tells_companions_and_mother(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4905)
    sari = await mother_in(driver, clinic, 4005)
    budi = await add_companion(driver, sari, 4205)
    before_sari = len(sari.messages())
    await danger_report(budi, "fits")                        # the companion reports for her
    alert_text = bodies(ani.messages())
    assert "🚨 SEGERA" in alert_text and "⚠️" not in alert_text.split("SEGERA")[0]
    assert "Pendamping Ibu melaporkan tanda bahaya" in bodies(sari.messages()[before_sari:])
    assert await alerts_q.on_hold(driver.app.services.db, 4005)


async def test_mother_joining_a_clinic_later_gets_her_open_alert_to_its_midwives(driver, clock: FakeClock):
    from flows.reports import hourly

    await admin_user(driver)
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 4006)
    db = driver.app.services.db
    await db.execute("UPDATE mother SET clinic_id = NULL WHERE user_id = 4006")
    await danger_report(sari, "fits")
    ani = await new_midwife(driver, clinic, 4906)
    await db.execute("UPDATE mother SET clinic_id = ? WHERE user_id = 4006", (clinic.id,))
    await hourly(driver.app)
    assert "🚨" in bodies(ani.messages())
    assert await db.fetchval("SELECT notified_at IS NOT NULL FROM alert WHERE mother_id = 4006")


# ----------------------------------------------------------------- taken ("Saya tangani") and escalation
async def test_first_midwife_takes_the_alert_the_others_see_it_and_the_family_is_told(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4907, "Ani")
    dewi = await new_midwife(driver, clinic, 4908, "Dewi")
    sari = await mother_in(driver, clinic, 4007)
    budi = await add_companion(driver, sari, 4207)
    await danger_report(sari, "fits")
    db = driver.app.services.db
    alert_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 4007")
    await ani.press(f"al:take:{alert_id}")
    assert await db.fetchval("SELECT taken_by FROM alert WHERE id = ?", (alert_id,)) == 4907
    dewi_copy = next(m for m in dewi.messages() if "🚨" in m.body)
    assert "Ditangani oleh Bidan Ani" in dewi_copy.body
    assert not any(b["callback_data"].startswith("al:take") for b in dewi_copy.buttons)
    assert "Bidan Ani dari Puskesmas Bener sudah melihat" in sari.last.body
    assert "Bidan Ani" in budi.last.body
    await dewi.press_data(dewi_copy, f"al:take:{alert_id}")  # too late: Ani has it
    assert any("sudah ditangani oleh Bidan Ani" in a.get("text", "") for a in dewi.callback_answers())
    assert await db.fetchval("SELECT taken_by FROM alert WHERE id = ?", (alert_id,)) == 4907


async def test_another_clinic_cannot_take_an_alert(driver):
    clinic, _ = await make_clinic(driver)
    other, _ = await make_clinic(driver, "Puskesmas Lain")
    await new_midwife(driver, clinic, 4909, "Ani")
    eve = await new_midwife(driver, other, 4910, "Eve")
    sari = await mother_in(driver, clinic, 4008)
    await danger_report(sari, "fits")
    alert_id = await driver.app.services.db.fetchval("SELECT id FROM alert WHERE mother_id = 4008")
    await eve.send("/ibu")
    await eve.press_data(eve.last, f"al:take:{alert_id}")
    assert await driver.app.services.db.fetchval("SELECT taken_by FROM alert WHERE id = ?", (alert_id,)) is None
    assert "Sari" not in "\n".join(m.body for m in eve.messages())


async def test_urgent_alert_nobody_takes_is_escalated_after_15_minutes_and_not_when_taken(driver, clock):
    from datetime import timedelta

    from usecases.alerts import escalate

    admin = await admin_user(driver)
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4911, "Ani")
    dewi = await new_midwife(driver, clinic, 4912, "Dewi")
    db = driver.app.services.db
    await db.execute("UPDATE midwife SET coordinator = 1 WHERE user_id = 4912")
    sari = await mother_in(driver, clinic, 4009)
    yuni = await mother_in(driver, clinic, 4010, "Yuni")
    await danger_report(sari, "fits")
    await danger_report(yuni, "fits")
    taken_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 4010")
    await ani.press(f"al:take:{taken_id}")
    context = driver.app.services.deps
    clock.advance(timedelta(minutes=14))
    assert await escalate(context, clock.now()) == 0
    before = {p.user_id: len(p.messages()) for p in (ani, dewi, admin)}
    clock.advance(timedelta(minutes=2))
    assert await escalate(context, clock.now()) == 1         # Sari's; Yuni's was taken
    for person in (ani, dewi, admin):
        new = "\n".join(m.body for m in person.messages()[before[person.user_id]:])
        assert "⏰" in new and "Sari" in new and "Yuni" not in new
    assert "koordinator" in "\n".join(m.body for m in dewi.messages()[before[4912]:])
    assert await escalate(context, clock.now()) == 0          # once per opening


async def test_every_advice_offers_to_ask_the_midwife(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 4913, "Ani")
    from db.queries.clinics import update_clinic

    await update_clinic(driver.app.services.db, clinic.id, phone="+62 274 123456")
    sari = await mother_in(driver, clinic, 4011)
    replies = await danger_report(sari, "breast_red")            # a "go soon" sign: advice for today
    advice = next(m for m in replies if "menu:questions" in [b["callback_data"] for b in m.buttons])
    assert "+62 274 123456" in advice.body and "112" in advice.body and "119" in advice.body
    replies = await sari.press_data(advice, "menu:questions")
    await sari.send("Payudara kiri merah sejak pagi, apa yang harus saya lakukan?")
    assert any("Payudara kiri merah" in m.body for m in ani.messages())
