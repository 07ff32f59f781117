"""The baseline (issue 10, point 5): a 'pre' milk report at registration and before the first
massage, and the explicit phase rule, with the fake clock (report and session may share a second)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.clock import iso
from db.queries import reports
from db.queries.sessions import log_session
from domain.phases import phase_of
from flows.timer import tick
from tests.test_guide import open_guide, pass_safety
from tests.test_guide_timer import answer_checks_no
from tests.test_onboarding import register_mother
from tests.test_reminders import reminders, utc, wave
from tests.test_reports import add_companion, rows

FLOW_BUTTONS = ["not_out", "not_smooth", "smooth"]
T0 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)


def datas(message) -> list[str]:
    return [b["callback_data"] for b in message.buttons]


async def to_the_minutes(person, mother_id):
    """The guide, the check before the massage, the minutes: what comes before `gd:go`."""
    replies = await open_guide(person)
    if any(d.startswith("gd:sf:") for m in replies for d in datas(m)):   # the full check, the first time
        await pass_safety(person)
    replies = await answer_checks_no(person, await person.press(f"gd:tm:{mother_id}"))
    assert any(d.startswith(f"gd:go:{mother_id}:") for m in replies for d in datas(m))


# ----------------------------------------------------------------- the rule itself
def test_the_phase_rule_compares_with_the_sessions_start():
    assert phase_of(T0, None) == "pre"                                    # no session yet
    assert phase_of(T0, T0 + timedelta(seconds=1)) == "pre"               # before the start
    assert phase_of(T0, T0) == "pre"                                      # tie, stored before: pre
    assert phase_of(T0 + timedelta(seconds=1), T0) == "post"              # made after the start
    assert phase_of(T0, T0, session_logged_before=True) == "post"         # tie, stored after: post


async def test_refresh_keeps_a_tie_stored_before_and_never_turns_post_back(db_url):
    from db.database import Database
    from db.queries import mothers, users

    db = await Database(db_url).open()
    await users.create_user(db, 1, "mother", "id", iso(T0))
    await mothers.create_mother(db, 1, "Sari", date(2026, 11, 29), True, "Asia/Makassar", None, iso(T0))
    sari = await mothers.get_mother(db, 1)

    async def add(at):
        return await reports.add_report(db, mother=sari, reported_by=1, reporter_role="mother", milk_flow="not_out",
                                        now=at)

    before = await add(T0)                                   # the baseline, T0
    during = await add(T0 + timedelta(minutes=2))            # stored before the session was logged, after its start
    await log_session(db, mother_id=1, timezone="Asia/Makassar", logged_by=1, started_at=T0,
                      now=T0 + timedelta(minutes=10))        # a timer started at T0, logged when it ended
    assert await reports.refresh_phases(db, 1) == 1
    same_second = await add(T0)                              # stored after the session was logged, same second
    assert same_second.phase == "post"
    phases = {r["id"]: r["phase"] for r in await db.fetchall("SELECT id, phase FROM milk_report")}
    assert phases == {before.id: "pre", during.id: "post", same_second.id: "post"}
    # a later session started earlier still: the baseline becomes 'post'; nothing goes back to 'pre'
    await log_session(db, mother_id=1, timezone="Asia/Makassar", logged_by=1, started_at=T0 - timedelta(hours=20),
                      now=T0 + timedelta(hours=1))
    assert await reports.refresh_phases(db, 1) == 1
    assert {r["phase"] for r in await db.fetchall("SELECT phase FROM milk_report")} == {"post"}
    assert await reports.refresh_phases(db, 1) == 0
    await db.close()


# ----------------------------------------------------------------- at registration
async def test_registration_ends_with_the_baseline_question(driver):
    sari = await register_mother(driver, 1001, "Sari")
    menu, last = sari.messages()[-2], sari.last
    assert "Menu Sahabat Nifas" in menu.body
    assert last.body.startswith("Bagaimana ASI Ibu sekarang?")
    assert datas(last) == [f"rep:o:1001:{flow}" for flow in FLOW_BUTTONS]
    replies = await sari.press_shown("rep:o:1001:not_out")
    assert "Tersimpan:\n✓ ASI belum keluar" in replies[0].body
    assert any(d == "rep:ds:none" for d in datas(replies[-1]))      # then the danger-sign question, as in /lapor
    await sari.press("rep:ds:none")
    assert await rows(driver, "SELECT mother_id, reported_by, reporter_role, phase, milk_flow FROM milk_report") == [
        {"mother_id": 1001, "reported_by": 1001, "reporter_role": "mother", "phase": "pre", "milk_flow": "not_out"}]
    # a report exists: her first massage is not asked again
    await to_the_minutes(sari, 1001)
    replies = await sari.press("gd:go:1001:10")
    assert "10 menit 0 detik" in replies[0].body


async def test_registration_in_english_asks_in_english(driver):
    joy = driver.user(1011, "Joy", language_code="en")
    await joy.send("/start")
    for data in ("ob:consent:yes", "ob:role:mother"):
        await joy.press(data)
    await joy.send("Joy")
    for data in ("ob:dd:1", "ob:bt:unknown", "ob:first:yes", "ob:tz:WIB"):
        await joy.press(data)
    if any(d == "ob:cl:none" for d in datas(joy.last)):
        await joy.press("ob:cl:none")
    assert "Sahabat Nifas menu" in joy.messages()[-2].body
    assert joy.last.body.startswith("How is your breast milk now?")
    assert datas(joy.last) == [f"rep:o:1011:{flow}" for flow in FLOW_BUTTONS]


# ----------------------------------------------------------------- before the first guided massage
async def test_first_timer_asks_first_and_a_tie_with_the_session_stays_pre(driver, clock):
    sari = await register_mother(driver, 1001, "Sari")          # the registration question left unanswered
    await to_the_minutes(sari, 1001)
    replies = await sari.press("gd:go:1001:10")
    question = replies[-1]
    assert question.body.startswith("Sebelum pijat pertama: bagaimana ASI Ibu sekarang?")
    assert datas(question) == [f"gd:bl:1001:10:{flow}" for flow in FLOW_BUTTONS] + ["gd:bl:1001:10:skip"]
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM guided_session") == 0
    answered_at = clock.now()
    replies = await sari.press("gd:bl:1001:10:not_smooth")
    assert "Tersimpan: ASI keluar tapi belum lancar" in replies[0].body
    assert "10 menit 0 detik" in replies[-1].body               # then the timer, at the same instant
    # the same button again (a double tap): nothing more
    before = len(sari.messages())
    await sari.press_data(question, "gd:bl:1001:10:smooth")
    assert len(sari.messages()) == before
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 1

    clock.advance(timedelta(minutes=10))
    await tick(driver.app, clock.now())
    session = (await rows(driver, "SELECT started_at, created_at FROM massage_session"))[0]
    report = (await rows(driver, "SELECT reported_at, phase FROM milk_report"))[0]
    assert report["reported_at"] == session["started_at"] == iso(answered_at)   # one second for both
    assert session["created_at"] > session["started_at"]                        # logged when it ended
    await sari.press("gd:who:1:husband")
    replies = await sari.press("gd:fl:1:relaxed")                # ... and the offer after the session
    assert any(d == "rep:o:1001:smooth" for m in replies for d in datas(m))
    assert (await rows(driver, "SELECT phase FROM milk_report"))[0]["phase"] == "pre"
    assert (await rows(driver, "SELECT first_pre FROM milk_pair"))[0]["first_pre"] == "not_smooth"
    await sari.press("rep:o:1001:smooth")                        # after the massage: post
    assert [r["phase"] for r in await rows(driver, "SELECT phase FROM milk_report ORDER BY id")] == ["pre", "post"]


async def test_lewati_starts_the_timer_without_a_report_and_stale_answers_do_nothing(driver, clock):
    sari = await register_mother(driver, 1001, "Sari")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await to_the_minutes(budi, 1001)
    replies = await budi.press("gd:go:1001:3")
    assert replies[-1].body.startswith("Sebelum pijat pertama: bagaimana ASI Ibu Sari sekarang?")
    question = replies[-1]
    # someone else's forged answer for her: refused, nothing stored
    eve = driver.user(3001, "Eve")
    eve_message = (await eve.send("/start"))[-1]
    await eve.press_data(eve_message, "gd:bl:1001:3:not_out")
    assert "tidak berlaku" in eve.callback_answers()[-1]["text"]
    replies = await budi.press("gd:bl:1001:3:skip")
    assert "3 menit 0 detik" in replies[-1].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 0
    await budi.press_data(question, "gd:bl:1001:3:not_out")       # the old question after all: stale
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 0
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM guided_session") == 1
    # once a session is logged, a baseline could only be 'post': not asked any more
    clock.advance(timedelta(minutes=3))
    await tick(driver.app, clock.now())
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM massage_session") == 1
    clock.advance(timedelta(minutes=40))
    await to_the_minutes(budi, 1001)
    replies = await budi.press("gd:go:1001:10")
    assert "10 menit 0 detik" in replies[0].body


async def test_a_check_grown_old_while_answering_is_asked_again(driver, clock):
    sari = await register_mother(driver, 1001, "Sari")
    await to_the_minutes(sari, 1001)
    await sari.press("gd:go:1001:10")
    clock.advance(timedelta(hours=2))                            # she answers much later
    replies = await sari.press("gd:bl:1001:10:smooth")
    assert "Tersimpan: ASI lancar" in replies[0].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM guided_session") == 0
    assert any(d.startswith("gd:sf:") for m in replies for d in datas(m))   # the check before the massage again


# ----------------------------------------------------------------- before the first "sudah dipijat"
async def test_reminder_done_asks_first_then_logs_and_the_tie_stays_pre(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 9))                          # 16:00 WIB
    clock.set(utc(0, 9, 20))
    replies = await sari.press("Sudah dipijat")
    assert replies[-1].body.startswith("Sebelum pijat pertama")
    assert datas(replies[-1]) == [f"rem:bl:1001:20261130:e:{flow}" for flow in FLOW_BUTTONS] + [
        "rem:bl:1001:20261130:e:skip"]
    assert await rows(driver, "SELECT * FROM massage_session") == []
    assert reminders(sari)[0].buttons                              # not answered yet
    replies = await sari.press("rem:bl:1001:20261130:e:not_out")
    assert "Tersimpan: ASI belum keluar" in replies[0].body and "Tercatat" in replies[-1].body
    assert not any(d.startswith("rep:o:") for m in replies for d in datas(m))   # not the same question again
    session = (await rows(driver, "SELECT started_at, created_at, logged_by FROM massage_session"))[0]
    report = (await rows(driver, "SELECT reported_at, phase FROM milk_report"))[0]
    assert report == {"reported_at": iso(utc(0, 9, 20)), "phase": "pre"}
    assert session == {"started_at": iso(utc(0, 9, 20)), "created_at": iso(utc(0, 9, 20)), "logged_by": 1001}
    assert "dicatat oleh Ibu Sari" in reminders(budi)[0].body and not reminders(budi)[0].buttons
    # a report at that same second, made after the session was logged, is 'post'
    await budi.send("/lapor")
    await budi.press("rep:f:smooth")
    assert [r["phase"] for r in await rows(driver, "SELECT phase FROM milk_report ORDER BY id")] == ["pre", "post"]


async def test_reminder_done_can_skip_the_question(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 9))
    replies = await budi.press("Sudah dipijat")
    assert replies[-1].body.startswith("Sebelum pijat pertama: bagaimana ASI Ibu Sari sekarang?")
    replies = await budi.press("rem:bl:1001:20261130:e:skip")
    assert await rows(driver, "SELECT logged_by, who FROM massage_session") == [{"logged_by": 2001, "who": "husband"}]
    assert await rows(driver, "SELECT * FROM milk_report") == []
    assert "dicatat oleh Budi" in reminders(sari)[0].body
    assert any(d.startswith("rep:o:1001:") for d in datas(sari.last))      # the usual offer after a session


async def test_not_asked_after_a_loss(driver, clock):
    from db.queries import care
    from flows import reports as report_flow

    db = driver.app.services.db
    await register_mother(driver, 1001, "Sari")
    assert await report_flow.baseline_due(db, 1001)
    await care.set_status(db, 1001, "loss", 1001, clock.now())
    assert not await report_flow.baseline_due(db, 1001)
