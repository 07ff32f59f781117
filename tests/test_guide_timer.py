"""The guided massage with a timer: an injected clock, `tick` called directly (no sleeping)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.timer import cue_index, needs_edit, timer_state
from flows.timer import JOB_NAME, tick
from tests.test_account import link_companion
from tests.test_guide import open_guide, pass_safety, ready_mother
from tests.test_onboarding import register_mother, skip_baseline
from usecases import reports as report_cases
from usecases.events import SessionLogged
from usecases.follow_ups import FOLLOW_UPS


@pytest.fixture
def hooks(monkeypatch):
    """Records what the timer announces (the real follow-ups still run): sessions logged (the
    new ones), and report offers after "how do you feel"."""
    calls: dict[str, list] = {"logged": [], "offer": []}

    async def record_logged(deps, event):
        if event.new:
            calls["logged"].append((event.mother_id, event.slot_date, event.slot))

    offer = report_cases.offer_after_session

    async def record_offer(deps, mother_id, logged_by=None):
        calls["offer"].append((mother_id, logged_by))
        await offer(deps, mother_id, logged_by=logged_by)

    monkeypatch.setitem(FOLLOW_UPS, SessionLogged, FOLLOW_UPS[SessionLogged] + (record_logged,))
    monkeypatch.setattr(report_cases, "offer_after_session", record_offer)
    return calls


async def advance(driver, clock, **delta):
    clock.advance(timedelta(**delta))
    return await tick(driver.app, clock.now())


async def answer_checks_no(person, replies):
    """Answer "no" to the check before the massage (short or full), if one is asked."""
    while replies and any(b["callback_data"].startswith("gd:sf:") for b in replies[-1].buttons):
        data = next(b["callback_data"] for b in replies[-1].buttons if ":n" in b["callback_data"])
        replies = await person.press(data)
    return replies


async def start_timer(person, mother_id, minutes):
    replies = await answer_checks_no(person, await person.press(f"gd:tm:{mother_id}"))
    replies = [m for m in replies if "menit" in m.body or "minutes" in m.body] or replies
    assert "10–15 menit" in replies[0].body or "10–15 minutes" in replies[0].body
    replies = await skip_baseline(person, await person.press(f"gd:go:{mother_id}:{minutes}"))
    return replies[0]


async def sessions(driver):
    return await driver.app.services.db.fetchall("SELECT * FROM massage_session")


# ----------------------------------------------------------------- plain rules
def test_timer_arithmetic():
    start = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    state = timer_state(start, 10, start + timedelta(seconds=61))
    assert (state.minutes_left, state.seconds_left, state.step, state.finished) == (8, 59, 1, False)
    assert timer_state(start, 10, start + timedelta(minutes=11)).finished
    assert timer_state(start, 10, start - timedelta(seconds=5)).left_s == 600  # clock went back
    assert needs_edit(timer_state(start, 10, start + timedelta(seconds=125)), shown_step=1)
    assert not needs_edit(timer_state(start, 10, start + timedelta(seconds=119)), shown_step=1)
    assert [cue_index(step, 9) for step in (0, 8, 9, 14)] == [0, 8, 0, 5]


# ----------------------------------------------------------------- end to end
async def test_timed_session_by_a_companion_of_two_mothers(driver, clock, hooks):
    texts = driver.app.services.texts
    assert driver.app.job_queue.get_jobs_by_name(JOB_NAME), "the ticking job is scheduled"
    sari = await register_mother(driver, 1001, "Sari")
    ani = await register_mother(driver, 1002, "Ani")
    budi = await link_companion(driver, sari, 2001, "Budi", "husband")
    invite = next(m.body for m in reversed(ani.messages()) if "start=c_" in m.body)
    await budi.open_link(invite)
    await budi.press("ob:rel:family")

    replies = await open_guide(budi)
    assert "untuk siapa" in replies[-1].body
    replies = await budi.press("Ibu Sari")
    assert "Untuk Ibu Sari" in replies[0].body  # the safety check is about the mother he accompanies
    await pass_safety(budi)
    timer = await start_timer(budi, 1001, 10)
    cues = texts.data("id", "guide.timer.cues")
    assert "Sisa waktu: 10 menit 0 detik" in timer.body and cues[0] in timer.body
    assert {b["text"] for b in timer.buttons} == {"✅ Sudah selesai", "⏹ Berhenti"}

    # one edit per minute, each with less time left and the next cue; no edit without change
    assert await advance(driver, clock, seconds=30) == 0
    assert await advance(driver, clock, seconds=30) == 1
    assert "9 menit 0 detik" in timer.body and cues[1] in timer.body and timer.edits == 1
    assert await advance(driver, clock, seconds=0) == 0
    assert await advance(driver, clock, seconds=59) == 0
    assert await advance(driver, clock, seconds=1) == 1
    assert "8 menit 0 detik" in timer.body and cues[2] in timer.body and timer.edits == 2
    assert timer.buttons, "the edit keeps the buttons"
    await advance(driver, clock, minutes=3, seconds=30)
    assert "4 menit 30 detik" in timer.body and timer.edits == 3
    assert await sessions(driver) == []

    # the end: the message says so, the who question follows, the session is logged
    assert await advance(driver, clock, minutes=4, seconds=30) == 1
    assert timer.body == texts.data("id", "guide.timer.done") and not timer.buttons
    who = budi.last
    assert who.body == "Siapa yang memijat tadi?"
    assert [b["text"] for b in who.buttons] == ["Saya sendiri", "Suami", "Keluarga", "Kader posyandu"]
    assert await advance(driver, clock, minutes=1) == 0  # a later tick does nothing
    rows = await sessions(driver)
    assert len(rows) == 1
    assert (rows[0]["mother_id"], rows[0]["logged_by"], rows[0]["duration_s"], rows[0]["completed"],
            rows[0]["slot_date"], rows[0]["slot"], rows[0]["source"]) == (
        1001, 2001, 600, 1, "2026-11-30", "morning", "guide")
    assert hooks["logged"] == [(1001, "2026-11-30", "morning")]

    # "done" pressed after the end, twice: a short answer, still one row
    for _ in range(2):
        assert await budi.press_data(timer, f"gd:end:{rows[0]['id']}:done") == []
    assert budi.callback_answers()[-1]["text"] == "Sesi pijat ini sudah selesai dan sudah dicatat."
    assert len(await sessions(driver)) == 1

    # who and how: "I did" from Budi is stored as his relation to Sari
    replies = await budi.press("Saya sendiri")
    assert "Bagaimana perasaan Ibu" in replies[0].body
    replies = await budi.press("Tidak nyaman")
    bodies = [m.body for m in replies]
    assert texts.data("id", "guide.timer.uncomfortable_tip") in bodies
    assert texts.data("id", "guide.timer.saved") in bodies
    assert any("tes akhir" in b["text"] for b in replies[-1].buttons)  # the post-test is offered
    row = (await sessions(driver))[0]
    assert (row["who"], row["feeling"]) == ("husband", "uncomfortable")
    assert hooks["offer"] == [(1001, 2001)]
    # the same answer again: nothing changes
    assert await budi.press_data(who, "gd:who:1:family") == []
    assert (await sessions(driver))[0]["who"] == "husband"


async def test_mother_stops_early_and_presses_twice(driver, clock, hooks):
    sari = await ready_mother(driver)
    timer = await start_timer(sari, 1001, 15)
    assert "15 menit 0 detik" in timer.body
    await advance(driver, clock, minutes=3)
    assert "12 menit 0 detik" in timer.body
    data = next(b["callback_data"] for b in timer.buttons if "Berhenti" in b["text"])
    replies = await sari.press_data(timer, data)
    assert timer.body == "⏹ Pijat dihentikan." and not timer.buttons
    # a mother answering herself is not offered "I did"
    assert [b["text"] for b in replies[-1].buttons] == ["Suami", "Keluarga", "Kader posyandu"]
    # stop again, done, and a tick long after: still one row, stopped early after 3 minutes
    assert await sari.press_data(timer, data) == []
    assert await sari.press_data(timer, data.replace("stop", "done")) == []
    assert await advance(driver, clock, minutes=30) == 0
    rows = await sessions(driver)
    assert len(rows) == 1
    assert (rows[0]["completed"], rows[0]["duration_s"], rows[0]["logged_by"]) == (0, 180, 1001)
    assert len(hooks["logged"]) == 1
    await sari.press("Suami")
    await sari.press("Lebih rileks")
    row = (await sessions(driver))[0]
    assert (row["who"], row["feeling"]) == ("husband", "relaxed")
    # one timer at a time per person, and a new one in the evening slot is a new session
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc))  # 17:00 WITA
    await sari.send("/pijat")
    timer = await start_timer(sari, 1001, 10)
    await sari.send("/pijat")
    replies = await sari.press("gd:tm:1001")
    assert "masih berjalan" in replies[0].body
    done = next(b["callback_data"] for b in timer.buttons if "selesai" in b["text"])
    await advance(driver, clock, minutes=4)
    await sari.press_data(timer, done)
    await sari.press_data(timer, done)
    rows = await sessions(driver)
    assert [(r["slot"], r["completed"], r["duration_s"]) for r in rows] == [("morning", 0, 180), ("evening", 1, 240)]


async def test_restart_while_the_timer_runs(driver, clock, hooks):
    sari = await ready_mother(driver)
    timer = await start_timer(sari, 1001, 10)
    await advance(driver, clock, minutes=2)
    assert "8 menit 0 detik" in timer.body
    await driver.restart(graceful=False)  # a crash
    assert driver.app.job_queue.get_jobs_by_name(JOB_NAME)
    assert await advance(driver, clock, minutes=1) == 1
    assert "7 menit 0 detik" in timer.body and timer.edits == 2  # one edit per tick, not per minute missed
    await driver.restart(graceful=True)
    # the end came while the bot was away: the first tick ends it
    clock.advance(timedelta(minutes=20))
    assert await tick(driver.app, clock.now()) == 1
    assert timer.body.startswith("Selesai!")
    rows = await sessions(driver)
    assert len(rows) == 1 and rows[0]["duration_s"] == 600 and rows[0]["completed"] == 1
    # buttons from before the restarts still work
    replies = await sari.press("Keluarga")
    assert "Bagaimana perasaan" in replies[0].body


async def test_blocked_user_stops_the_timer_quietly(driver, clock, hooks):
    sari = await ready_mother(driver)
    await start_timer(sari, 1001, 10)
    driver.server.block(1001)
    await advance(driver, clock, minutes=1)
    db = driver.app.services.db
    assert await db.fetchval("SELECT status FROM guided_session") == "stopped"
    assert await db.fetchval("SELECT active FROM app_user WHERE telegram_id = 1001") == 0
    assert await sessions(driver) == []
    assert await advance(driver, clock, minutes=1) == 0
    # back again, a forged answer to that session logs nothing
    driver.server.block(1001, False)
    await sari.send("/menu")
    assert await sari.press_data(sari.last, "gd:who:1:husband") == []
    assert await sessions(driver) == []


async def test_telegram_trouble_during_a_tick_is_retried(driver, clock, hooks):
    from loopback.server import Fault

    sari = await ready_mother(driver)
    timer = await start_timer(sari, 1001, 10)
    driver.server.faults.append(Fault(code=502, method="editMessageText", times=4))
    assert await advance(driver, clock, minutes=1) == 0
    assert timer.edits == 0
    assert await advance(driver, clock, seconds=5) == 1
    assert "8 menit 55 detik" in timer.body


async def test_no_timer_without_its_message(driver, clock, hooks):
    from loopback.server import Fault

    db = driver.app.services.db
    sari = await ready_mother(driver)
    await sari.press("gd:tm:1001")
    driver.server.faults.append(Fault(code=502, method="sendMessage", times=4))
    await sari.press("gd:go:1001:10")
    assert await db.fetchval("SELECT COUNT(*) FROM guided_session") == 0
    assert await advance(driver, clock, minutes=11) == 0
    assert await sessions(driver) == []
    # she tries again and it works
    await sari.send("/pijat")
    timer = await start_timer(sari, 1001, 10)
    assert "10 menit 0 detik" in timer.body
    assert await db.fetchval("SELECT status FROM guided_session") == "running"
