"""An update handled again after a crash stores nothing twice and tells nobody twice.

A handler commits its rows before each Telegram request; its flow state and the inbox row's
`done` commit when the update ends (docs/crash-consistency.md). A kill in between leaves the rows
and the update still claimed: after the restart it is handled again. `handled_twice` plays that
through the real application against the loopback Bot API: the update is handled, the database is
put back as such a kill leaves it (the flow state from before the update, the inbox row claimed by
this worker), and the bot restarts and handles it a second time. On SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from bot.inbox import now_iso
from db.database import Database
from test_baseline import to_the_minutes
from test_guide import pass_safety
from test_onboarding import register_mother
from test_reports import add_companion, join_midwife, make_clinic, mother_in, new_midwife, rows, texts_of

CLINIC_TOLD = "Bidan di Puskesmas Ibu sudah kami beri tahu."


async def handled_twice(driver, make_update: Callable[[], int]) -> int:
    """`make_update()` puts an update into the stand-in and returns its id. Handled once, killed
    after its rows were committed and before the update ended, handled again; returns its id."""
    db = driver.app.services.db
    states = [tuple(r) for r in await db.fetchall("SELECT name, key, state FROM conversation_state")]
    drafts = [tuple(r) for r in await db.fetchall("SELECT user_id, data FROM user_draft")]
    update_id = make_update()
    await driver.deliver(update_id)
    worker = driver.app.services.inbox.worker
    await driver.kill_app()
    db = await Database(driver.settings.database_url).open(migrate=False)
    try:
        async with db.transaction():  # what the kill leaves: the flow state of before, not done
            await db.execute("DELETE FROM conversation_state")
            await db.execute("DELETE FROM user_draft")
            await db.executemany("INSERT INTO conversation_state(name, key, state) VALUES (?, ?, ?)", states)
            await db.executemany("INSERT INTO user_draft(user_id, data) VALUES (?, ?)", drafts)
            assert (await db.execute(
                "UPDATE update_inbox SET status = 'claimed', claimed_by = ?, claimed_at = ?"
                " WHERE update_id = ? AND status = 'done'", (worker, now_iso(), update_id))).rowcount == 1
    finally:
        await db.close()
    refused = len(driver.server.refusals)
    await driver.start_app()
    await driver.deliver(update_id)
    # The first attempt's edits did arrive here (in a real crash they may have): the same edit again
    # is refused as "not modified", which the flows ignore; nothing else may be refused.
    again = [r for r in driver.server.refusals[refused:] if r[1] == 400]
    assert all("message is not modified" in r[2] or "query is too old" in r[2] for r in again), again
    driver.server.refusals[refused:] = [r for r in driver.server.refusals[refused:] if r[1] != 400]
    db = driver.app.services.db
    assert await db.fetchval("SELECT status FROM update_inbox WHERE update_id = ?", (update_id,)) == "done"
    assert driver.app.services.inbox.redelivered == 1
    return update_id


def press(driver, person, data: str) -> Callable[[], int]:
    def make() -> int:
        message, _ = person.find_button(data)
        return driver.server.press(person.user_id, message, data)
    return make


def say(driver, person, text: str) -> Callable[[], int]:
    return lambda: driver.server.send_text(person.user_id, text)


async def count(driver, sql: str, params=()) -> int:
    return await driver.app.services.db.fetchval(sql, params)


# ----------------------------------------------------------------- reports
async def test_her_milk_answer_handled_again_is_one_report_and_one_alert(driver, clock):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2101, code)
    sari = await mother_in(driver, clinic, 2102, "Sari")
    clock.advance(timedelta(days=3))  # 83 hours of life: day 4, milk not out yet is an alert
    await sari.send("/lapor")
    told, before = len(ani.messages()), len(sari.messages())

    update_id = await handled_twice(driver, press(driver, sari, "rep:f:not_out"))

    assert await rows(driver, "SELECT mother_id, milk_flow, update_id FROM milk_report") == [
        {"mother_id": 2102, "milk_flow": "not_out", "update_id": update_id}]
    assert await rows(driver, "SELECT cause, closed_at FROM alert") == [{"cause": "milk_not_out", "closed_at": None}]
    assert await count(driver, "SELECT COUNT(*) FROM alert_delivery") == 1
    assert len(ani.messages()) == told + 1  # the midwife was told once
    # she got the advice each time (replies are sent at least once), the second time saying, as the
    # first, that her midwife knows; then the next question, and the report goes on
    replies = sari.messages()[before:]
    advice = [m.body for m in replies if "hari ke-4 dan ASI belum keluar" in m.body]
    assert len(advice) == 2 and all(CLINIC_TOLD in body for body in advice)
    assert "tanda ini SEKARANG" in sari.last.body
    for data in ("rep:ds:none", "rep:feeds:9", "rep:wet:6"):
        await sari.press(data)
    replies = await sari.press_shown("rep:br:full")
    assert "Laporan tersimpan" in texts_of(replies)
    assert await rows(driver, "SELECT milk_flow, danger_signs, feeds_24h, breasts FROM milk_report") == [
        {"milk_flow": "not_out", "danger_signs": "", "feeds_24h": 9, "breasts": "full"}]
    assert await count(driver, "SELECT COUNT(*) FROM alert") == 1


async def test_an_urgent_sign_handled_again_tells_the_midwife_and_the_family_once(driver):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2111, code)
    sari = await mother_in(driver, clinic, 2112, "Sari")
    budi = await add_companion(driver, sari, 2113)
    await sari.send("/lapor")
    for data in ("rep:f:smooth", "rep:ds:yes", "rep:ds:bleeding"):
        await sari.press(data)
    told, family, before = len(ani.messages()), len(budi.messages()), len(sari.messages())

    await handled_twice(driver, press(driver, sari, "rep:ds:done"))

    assert await count(driver, "SELECT COUNT(*) FROM milk_report") == 1
    assert await rows(driver, "SELECT cause, urgency FROM alert") == [{"cause": "danger_sign", "urgency": "urgent"}]
    assert await rows(driver, "SELECT recipient_id, recipient_kind, status FROM alert_delivery ORDER BY id") == [
        {"recipient_id": 2111, "recipient_kind": "midwife", "status": "sent"},
        {"recipient_id": 2113, "recipient_kind": "companion", "status": "sent"}]
    assert (len(ani.messages()), len(budi.messages())) == (told + 1, family + 1)
    stops = [m for m in sari.messages()[before:] if "Pertanyaan lainnya kami lewati" in m.body]
    assert len(stops) == 2  # the report ends early, as it did the first time


async def test_the_offer_and_the_baseline_before_the_first_massage_store_one_report_each(driver):
    sari = await register_mother(driver, 2121, "Sari")  # registration ends with the offer
    offer = await handled_twice(driver, press(driver, sari, "rep:o:2121:not_smooth"))
    assert "tanda ini SEKARANG" in sari.last.body
    await sari.press("rep:ds:none")
    assert await rows(driver, "SELECT milk_flow, update_id FROM milk_report") == [
        {"milk_flow": "not_smooth", "update_id": offer}]

    # the one-tap answer before the first massage (flows/timer.py and flows/reminders.py both
    # store it with reports.save_baseline)
    dewi = await register_mother(driver, 2122, "Dewi")
    await to_the_minutes(dewi, 2122)
    await dewi.press("gd:go:2122:10")
    baseline = await handled_twice(driver, press(driver, dewi, "gd:bl:2122:10:smooth"))
    assert await rows(driver, "SELECT milk_flow, update_id FROM milk_report WHERE mother_id = 2122") == [
        {"milk_flow": "smooth", "update_id": baseline}]
    assert await count(driver, "SELECT COUNT(*) FROM guided_session WHERE user_id = 2122") == 1


# ----------------------------------------------------------------- questions, notes, safety checks
async def test_a_question_handled_again_is_one_question_sent_once(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 2131, "Bidan Ani")
    sari = await mother_in(driver, clinic, 2132, "Sari")
    await sari.send("/tanya")
    told, before = len(ani.messages()), len(sari.messages())

    await handled_twice(driver, say(driver, sari, "Apakah saya boleh minum jamu?"))

    assert await count(driver, "SELECT COUNT(*) FROM question") == 1
    assert await rows(driver, "SELECT part, text FROM question_message") == [
        {"part": "question", "text": "Apakah saya boleh minum jamu?"}]
    assert len(ani.messages()) == told + 1  # her header once, no "addition" of the same text
    assert await count(driver, "SELECT COUNT(*) FROM question_copy") == 1
    assert [m.body for m in sari.messages()[before:]].count(sari.last.body) == 2
    assert "terkirim ke bidan" in sari.last.body

    # an addition handled again: one part more (sent again: at least once)
    await handled_twice(driver, say(driver, sari, "Jamu kunyit asam."))
    assert [r["part"] for r in await rows(driver, "SELECT part FROM question_message ORDER BY id")] == [
        "question", "addition"]

    # the midwife's answer handled again: one answer, delivered, not refused as "answered already"
    await ani.press("q:take:1")
    before = len(ani.messages())
    await handled_twice(driver, say(driver, ani, "Boleh, asal tidak terlalu manis."))
    assert [r["part"] for r in await rows(driver, "SELECT part FROM question_message ORDER BY id")] == [
        "question", "addition", "answer"]
    assert await count(driver, "SELECT COUNT(*) FROM question WHERE answered_by = 2131") == 1
    replies = [m.body for m in ani.messages()[before:]]
    assert sum("terkirim kepada: Sari" in body for body in replies) == 2
    assert not any("sudah dijawab" in body for body in replies)
    # delivered by each attempt (at least once): the first may not have reached her before a crash
    assert sum("Boleh, asal tidak terlalu manis." in m.body for m in sari.messages()) == 2


async def test_a_midwife_note_handled_again_is_stored_once(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 2141, "Bidan Ani")
    await mother_in(driver, clinic, 2142, "Sari")
    await ani.press_data(ani.last, "mw:rec:2142")
    await ani.press("mw:note:2142")

    await handled_twice(driver, say(driver, ani, "Sudah ditelepon."))

    assert await rows(driver, "SELECT mother_id, midwife_id, text FROM midwife_note") == [
        {"mother_id": 2142, "midwife_id": 2141, "text": "Sudah ditelepon."}]
    assert "Catatan untuk Ibu Sari tersimpan" in texts_of(ani.messages()[-4:])


async def test_a_safety_check_started_again_is_the_same_check(driver):
    sari = await register_mother(driver, 2151, "Sari")
    replies = await sari.send("/pijat")
    assert any(b["callback_data"] == "gd:skip" for m in replies for b in m.buttons)

    await handled_twice(driver, press(driver, sari, "gd:skip"))

    assert await count(driver, "SELECT COUNT(*) FROM safety_check") == 1
    check_id = await count(driver, "SELECT id FROM safety_check")
    assert all(b["callback_data"].startswith(f"gd:sf:{check_id}:") for b in sari.last.buttons)
    await pass_safety(sari)
    assert await rows(driver, "SELECT outcome FROM safety_check") == [{"outcome": "passed"}]


async def test_a_report_step_handled_again_sends_nothing_more(driver):
    """A /lapor step is one edit of the pressed message. Handled again after a crash, the same
    edit is refused as "message is not modified": it shows the step already, so nothing more goes
    to her (no second question, the buttons stay), and the report goes on from it."""
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 2191, "Sari")
    await sari.send("/lapor")
    await sari.press("rep:f:smooth")
    count_before = len(sari.messages())
    question = sari.last

    await handled_twice(driver, press(driver, sari, "rep:ds:none"))

    assert len(sari.messages()) == count_before                   # no message sent anew
    assert sari.last.message_id == question.message_id
    assert any(b["callback_data"] == "rep:feeds:9" for b in sari.last.buttons)   # still to be pressed
    for data in ("rep:feeds:9", "rep:wet:6"):
        await sari.press(data)
    replies = await sari.press_shown("rep:br:full")
    assert "Laporan tersimpan" in texts_of(replies)
    assert await rows(driver, "SELECT danger_signs, feeds_24h, breasts FROM milk_report") == [
        {"danger_signs": "", "feeds_24h": 9, "breasts": "full"}]
