"""Milk-flow reports end to end through the loopback Bot API: the flow, phases, alerts, history."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.context import BotContext

from bot.clock import iso
from db.queries import clinics
from db.queries import mothers
from usecases import reports as report_cases
from usecases import sessions as session_cases
from flows import reports as report_flow
from loopback.server import Fault
from test_onboarding import register_mother

NOW = "2026-11-30T00:00:00Z"


# ----------------------------------------------------------------- helpers (also used by test_midwife*)
async def make_clinic(driver, name="Puskesmas Bener", tz="Asia/Makassar"):
    return await clinics.create_clinic(driver.app.services.db, name, tz, NOW)


async def join_midwife(driver, user_id, code, name="Bidan Ani", language_code="id"):
    midwife = driver.user(user_id, name, language_code=language_code)
    await midwife.send(f"/start w_{code}")
    await midwife.press("ob:consent:yes")
    assert await driver.app.services.db.fetchval("SELECT clinic_id FROM midwife WHERE user_id = ?", (user_id,))
    return midwife


async def new_midwife(driver, clinic, user_id, name="Bidan Ani"):
    code = await clinics.new_midwife_code(driver.app.services.db, clinic.id, NOW)
    return await join_midwife(driver, user_id, code, name)


async def mother_in(driver, clinic, user_id, name="Sari", when="Kemarin"):
    return await register_mother(driver, user_id, name, when=when, start=f"/start m_{clinic.mother_code}")


async def cadre_of_two(driver, base: int):
    """Two mothers of one clinic (`base + 1`, `base + 2`) and a cadre linked to both (`base + 3`)."""
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, base + 1, "Sari")
    dewi = await mother_in(driver, clinic, base + 2, "Dewi")
    budi = await add_companion(driver, sari, base + 3, "Budi", "cadre")
    await add_companion(driver, dewi, base + 3, "Budi", "cadre")
    return sari, dewi, budi


async def add_companion(driver, mother, user_id, name="Budi", relation="husband"):
    invite = next(m.body for m in reversed(mother.messages()) if "start=c_" in m.body)
    companion = driver.user(user_id, name)
    replies = await companion.open_link(invite)
    if any(b["callback_data"] == "ob:consent:yes" for m in replies for b in m.buttons):
        await companion.press("ob:consent:yes")
    await companion.press(f"ob:rel:{relation}")
    return companion


async def report(person, flow="smooth", feeds="9", wet="6", breasts="full", danger=(), mother_id=None):
    """Play a whole report (milk flow, danger signs, feeds, nappies, breasts); returns every
    message the bot sent meanwhile. An urgent answer ends the report early: the questions left
    are then not asked (and not pressed)."""
    before = len(person.messages())
    await person.send("/lapor")
    if mother_id is not None:
        await person.press(f"rep:m:{mother_id}")
    await person.press(f"rep:f:{flow}")
    if danger:
        await person.press("rep:ds:yes")
        for sign in danger:
            await person.press(f"rep:ds:{sign}")
    await person.press("rep:ds:done" if danger else "rep:ds:none")
    for data in (f"rep:feeds:{feeds}", f"rep:wet:{wet}", f"rep:br:{breasts}"):
        if not asks(person, data):
            break
        await person.press(data)
    return person.messages()[before:]


def asks(person, data: str) -> bool:
    """Does the bot's last message offer this button (i.e. is that question being asked)?"""
    prefix = data.rsplit(":", 1)[0] + ":"
    return any(b["callback_data"].startswith(prefix) for b in person.last.buttons)


def texts_of(messages) -> str:
    return "\n".join(m.body for m in messages)


async def rows(driver, sql, params=()):
    return [dict(r) for r in await driver.app.services.db.fetchall(sql, params)]


def app_context(driver):
    return BotContext(driver.app)


async def log_a_session(driver, mother_id, tz="Asia/Makassar", logged_by=None, offset=timedelta(0)):
    """What the guide's timer does when a session ends: log it (and its follow-ups), then offer
    a report."""
    deps, now = driver.app.services.deps, driver.app.services.clock.now()
    mother = dataclasses.replace(await mothers.get_mother(deps.db, mother_id), timezone=tz)
    await session_cases.log_session(deps, mother=mother, logged_by=logged_by or mother_id,
                                    started_at=now + offset, source="guide")
    await report_cases.offer_after_session(driver.app.services.deps, mother_id, logged_by=logged_by)


# ----------------------------------------------------------------- the flow
async def test_mother_reports_everything_and_it_is_stored(driver):
    sari = await register_mother(driver, 2001, "Sari")
    replies = await sari.send("/lapor")
    assert "Bagaimana ASI Ibu sekarang?" in replies[-1].body
    assert [b["callback_data"] for b in replies[-1].buttons] == ["rep:f:not_out", "rep:f:not_smooth", "rep:f:smooth"]
    replies = await sari.press_shown("ASI keluar tapi belum lancar")
    stored = await rows(driver, "SELECT * FROM milk_report")
    assert len(stored) == 1 and stored[0]["milk_flow"] == "not_smooth"  # saved before the other questions
    assert "Tersimpan:\n✓ ASI keluar tapi belum lancar" in replies[-1].body
    assert "tanda ini SEKARANG" in replies[-1].body  # the danger signs come right after
    await sari.press("rep:ds:none")
    assert "menyusu dalam 24 jam" in sari.last.body
    assert [b["callback_data"] for b in sari.last.buttons][:17] == [f"rep:feeds:{n}" for n in range(17)]
    replies = await sari.send("9 kali")  # typed instead of a button
    assert "popok basah" in replies[-1].body
    await sari.press("rep:wet:2")
    await sari.press("Penuh")
    report_row = (await rows(driver, "SELECT * FROM milk_report"))[0]
    assert isinstance(report_row["update_id"], int)  # the update of her answer (stored once per update)
    assert report_row | {"id": 0, "update_id": 0} == {
        "id": 0, "mother_id": 2001, "reported_by": 2001, "reporter_role": "mother",
        "reported_at": iso(driver.app.services.clock.now()), "postpartum_day": 2, "phase": "pre",
        "milk_flow": "not_smooth", "feeds_24h": 9, "wet_nappies_24h": 2, "breasts": "full", "danger_signs": "",
        "update_id": 0}
    assert "Laporan tersimpan" in texts_of(sari.messages()[-3:])
    assert await rows(driver, "SELECT * FROM alert") == []  # day 2: 2 wet nappies is enough
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM conversation_state WHERE name='reports'") == 0


async def test_skipping_and_bad_input_are_answered_and_nothing_is_lost(driver):
    sari = await register_mother(driver, 2002, "Sari")
    await sari.send("/lapor")
    replies = await sari.send("lancar kok")  # text where a button was expected
    assert "pilih salah satu tombol" in replies[0].body
    assert replies[-1].buttons[0]["callback_data"] == "rep:f:not_out"
    replies = await sari.send_other("sticker")
    assert replies and "rep:f:smooth" in [b["callback_data"] for b in replies[-1].buttons]
    await sari.press("rep:f:smooth")
    replies = await sari.send("banyak")  # text where the danger-sign buttons were expected
    assert "pilih salah satu tombol" in replies[0].body and "tanda ini SEKARANG" in replies[-1].body
    await sari.press("rep:ds:none")
    replies = await sari.send("banyak")  # not a number
    assert "satu angka" in replies[0].body
    replies = await sari.send("99")  # not a plausible count
    assert "satu angka" in replies[0].body
    await sari.press("rep:feeds:skip")
    await driver.restart(graceful=False)  # a crash in the middle: the flow goes on
    old_feeds = next(m for m in sari.messages() if any(b["callback_data"] == "rep:feeds:8" for b in m.buttons))
    replies = await sari.press_data(old_feeds, "rep:feeds:8")  # a stale button of an earlier question
    assert "pilih salah satu tombol" in texts_of(replies)
    await sari.press("rep:wet:skip")
    await sari.press("rep:br:skip")
    row = (await rows(driver, "SELECT milk_flow, feeds_24h, wet_nappies_24h, breasts, danger_signs FROM milk_report"))[0]
    assert row == {"milk_flow": "smooth", "feeds_24h": None, "wet_nappies_24h": None, "breasts": None,
                   "danger_signs": ""}
    replies = await sari.press_data(old_feeds, "rep:feeds:8")  # after the end: a clear stale answer
    assert "tidak berlaku" in texts_of(replies)


async def test_abandoned_report_stops_catching_messages(driver, clock):
    sari = await register_mother(driver, 2003, "Sari")
    await sari.send("/lapor")
    await sari.press("rep:f:not_smooth")
    clock.advance(timedelta(hours=7))
    replies = await sari.send("halo")
    assert "sudah tersimpan" in replies[0].body and "Menu" in replies[-1].body
    replies = await sari.send("halo lagi")  # the flow has ended: the general answer
    assert "belum mengerti" in replies[0].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 1


async def test_companion_reports_for_the_mother_she_chooses(driver):
    sari, dewi, budi = await cadre_of_two(driver, 2010)
    replies = await budi.send("/lapor")
    assert "ibu yang mana" in replies[-1].body
    assert {b["text"] for b in replies[-1].buttons} == {"Sari", "Dewi"}
    replies = await budi.send("Dewi")  # typed instead of pressed
    assert "pilih salah satu tombol" in replies[0].body and "ibu yang mana" in replies[-1].body
    replies = await budi.press_data(replies[-1], "rep:f:smooth")  # a button of another step
    assert "ibu yang mana" in replies[-1].body
    replies = await budi.press_shown("rep:m:2012")
    assert "Bagaimana ASI Ibu Dewi sekarang?" in replies[-1].body
    await budi.press("rep:f:smooth")
    await budi.press("rep:ds:none")
    await budi.press("rep:feeds:10")
    await budi.press("rep:wet:6")
    await budi.press("Lunak")
    row = (await rows(driver, "SELECT mother_id, reported_by, reporter_role FROM milk_report"))[0]
    assert row == {"mother_id": 2012, "reported_by": 2013, "reporter_role": "companion"}
    # a forged choice of a mother he does not accompany is refused
    outsider = await register_mother(driver, 2014, "Rina")
    await budi.send("/lapor")
    replies = await budi.press_data(budi.last, "rep:m:2014")
    assert "Bagaimana ASI Ibu Rina" not in texts_of(replies)
    assert any("tidak berlaku" in (a.get("text") or "") for a in budi.callback_answers())
    replies = await outsider.press_data(outsider.last, "rep:o:2012:smooth")  # another mother's offer
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 1
    # /riwayat for the companion asks which mother, then shows hers only
    replies = await budi.send("/riwayat")
    replies = await budi.press("rep:h:2012")
    assert "Riwayat ASI Ibu Dewi" in replies[0].body and "ASI lancar" in replies[0].body
    assert replies[-1].kind == "photo"


async def test_non_users_and_midwives_cannot_report(driver):
    clinic, code = await make_clinic(driver)
    stranger = driver.user(2021, "Tono")
    replies = await stranger.send("/lapor")
    assert "/start" in replies[0].body
    midwife = await join_midwife(driver, 2022, code)
    replies = await midwife.send("/report")
    assert "ibu atau pendampingnya" in replies[0].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 0


# ----------------------------------------------------------------- phases
async def test_phases_pre_until_the_first_session_then_post(driver, clock):
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 2031, "Sari")
    budi = await add_companion(driver, sari, 2032, "Budi")
    await report(sari, flow="not_out")
    clock.advance(timedelta(hours=3))
    await log_a_session(driver, 2031, logged_by=2032)
    offer = sari.last
    assert "Bagaimana ASI Ibu sekarang" in offer.body
    assert [b["callback_data"] for b in offer.buttons] == [
        "rep:o:2031:not_out", "rep:o:2031:not_smooth", "rep:o:2031:smooth"]
    assert "Bagaimana ASI Ibu Sari sekarang" in budi.last.body  # the companion who logged it
    clock.advance(timedelta(minutes=1))
    replies = await sari.press_shown("rep:o:2031:not_smooth")  # one tap from the offer
    assert "Tersimpan:\n✓ ASI keluar tapi belum lancar" in replies[0].body
    await sari.press("rep:ds:none")
    phases = await rows(driver, "SELECT milk_flow, phase FROM milk_report ORDER BY id")
    assert phases == [{"milk_flow": "not_out", "phase": "pre"}, {"milk_flow": "not_smooth", "phase": "post"}]
    clock.advance(timedelta(minutes=1))
    await budi.press("rep:o:2031:smooth")  # the companion answers his own offer
    assert (await rows(driver, "SELECT phase, reporter_role FROM milk_report ORDER BY id DESC LIMIT 1"))[0] == {
        "phase": "post", "reporter_role": "companion"}


async def test_a_session_logged_later_with_an_earlier_time_moves_reports_to_post(driver, clock):
    sari = await register_mother(driver, 2033, "Sari")
    await report(sari)
    clock.advance(timedelta(hours=2))
    await report(sari)
    # the session happened an hour after the first report, but is logged only now
    await log_a_session(driver, 2033, offset=timedelta(hours=-1))
    phases = [r["phase"] for r in await rows(driver, "SELECT phase FROM milk_report ORDER BY id")]
    assert phases == ["pre", "post"]


async def test_history_shows_timeline_and_chart(driver, clock):
    sari = await register_mother(driver, 2041, "Sari")
    replies = await sari.send("/riwayat")
    assert "Belum ada laporan" in replies[0].body
    await report(sari, flow="not_out")
    clock.advance(timedelta(hours=12))
    await log_a_session(driver, 2041, tz="Asia/Makassar")
    clock.advance(timedelta(hours=12))
    await report(sari, flow="smooth")
    replies = await sari.send("/history")
    text = replies[0].body
    assert text.index("ASI lancar (sesudah pijat)") < text.index("ASI belum keluar (sebelum pijat)")
    assert "Hari ke-3" in text and "Sesi pijat tercatat: 1" in text
    assert replies[1].kind == "photo" and replies[1].file_bytes.startswith(b"\x89PNG")


# ----------------------------------------------------------------- alerts
async def test_danger_sign_advises_at_once_and_alerts_only_her_clinic_once(driver):
    clinic, code = await make_clinic(driver, "Puskesmas Bener")
    other, other_code = await make_clinic(driver, "Puskesmas Talise")
    ani = await join_midwife(driver, 2051, code, "Ani")
    eka = await new_midwife(driver, clinic, 2052, "Eka")
    tia = await join_midwife(driver, 2053, other_code, "Tia")
    sari = await mother_in(driver, clinic, 2054, "Sari")
    budi = await add_companion(driver, sari, 2055, "Budi")
    counts = {p.user_id: len(p.messages()) for p in (ani, eka, tia)}

    replies = await report(budi, danger=("bleeding", "sadness"))
    advice = texts_of(replies)
    assert "Ini tanda bahaya" in advice and "112" in advice and "119" in advice
    assert "Ibu: perdarahan banyak (pembalut penuh lebih dari 1 dalam 1 jam" in advice
    assert "Ibu: rasa sedih yang berat" in advice
    assert "Berapa kali bayi menyusu" not in advice  # a go-now sign ends the report: no more questions
    assert "sudah kami beri tahu" in advice
    for midwife in (ani, eka):
        new = midwife.messages()[counts[midwife.user_id]:]
        assert len(new) == 1
        assert "Ibu Sari" in new[0].body and "Tanda bahaya" in new[0].body and "pendamping" in new[0].body
        assert {"text": "Buka catatan Ibu Sari", "callback_data": "mw:rec:2054"} in new[0].buttons
    assert len(tia.messages()) == counts[2053]  # another clinic's midwife hears nothing

    replies = await report(sari, danger=("fits",))  # the same cause again while it is open
    assert "Ini tanda bahaya" in texts_of(replies)  # she still gets the advice at once
    assert "sudah kami beri tahu" not in texts_of(replies)
    assert len(ani.messages()) == counts[2051] + 1  # but the midwives are not told twice
    alert = (await rows(driver, "SELECT cause, detail, closed_at FROM alert"))
    assert alert == [{"cause": "danger_sign", "detail": "bleeding,sadness", "closed_at": None}]


async def test_soon_signs_get_the_see_today_advice(driver):
    sari = await register_mother(driver, 2056, "Sari")
    replies = await report(sari, danger=("breast_red",))
    advice = texts_of(replies)
    assert "perlu diperiksa hari ini" in advice and "Ini tanda bahaya" not in advice
    assert (await rows(driver, "SELECT cause FROM alert")) == [{"cause": "danger_sign"}]  # no clinic: stored only


async def test_milk_not_out_alerts_from_day_4_once(driver, clock):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2061, code)
    sari = await mother_in(driver, clinic, 2062, "Sari")  # born yesterday, time unknown: 11 hours of life
    start = len(ani.messages())
    replies = await report(sari, flow="not_out", wet="2")
    assert "hubungi bidan hari ini" not in texts_of(replies)
    assert len(ani.messages()) == start
    clock.advance(timedelta(days=2))  # 59 hours: day 3, not yet
    await report(sari, flow="not_out", wet="6")
    assert len(ani.messages()) == start
    clock.advance(timedelta(days=1))  # 83 hours: day 4
    replies = await report(sari, flow="not_out", wet="6")
    assert "bayi berada di hari ke-4 dan ASI belum keluar" in texts_of(replies)
    assert "ASI masih belum keluar pada hari ke-4" in ani.last.body
    clock.advance(timedelta(days=1))
    await report(sari, flow="not_out", wet="6")
    assert len(ani.messages()) == start + 1


async def test_few_wet_nappies_for_the_day_of_life_alert_once(driver, clock):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2071, code)
    sari = await mother_in(driver, clinic, 2072, "Sari")
    start = len(ani.messages())
    await report(sari, wet="2")  # day 2: 2 is enough
    assert len(ani.messages()) == start
    clock.advance(timedelta(days=4))  # 107 hours of life: day 5, needs 5
    replies = await report(sari, wet="4")
    assert "sedikitnya 5 popok" in texts_of(replies) and "yang Anda laporkan 4" in texts_of(replies)
    assert "Popok basah 4 dalam 24 jam; pada hari ke-5 biasanya sedikitnya 5" in ani.last.body
    await report(sari, wet="3")
    assert len(ani.messages()) == start + 1
    assert (await rows(driver, "SELECT cause, detail FROM alert")) == [{"cause": "few_wet_nappies", "detail": "4/5"}]


async def test_inactivity_alerts_once_inside_the_window(driver, clock, settings):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2081, code)
    sari = await mother_in(driver, clinic, 2082, "Sari")
    dewi = await register_mother(driver, 2083, "Dewi")  # no clinic: only her own check-in
    await report(sari)
    app = driver.app
    clock.advance(timedelta(days=1, hours=23))
    assert await report_flow.check_inactivity(app, clock.now()) == 0
    start = len(ani.messages())
    clock.advance(timedelta(hours=1))
    assert await report_flow.check_inactivity(app, clock.now()) == 2
    assert "Tidak ada laporan atau sesi pijat selama 2 hari" in ani.last.body
    assert len(ani.messages()) == start + 1
    assert "belum mendengar kabar dari Ibu" in sari.last.body
    assert [b["callback_data"] for b in sari.last.buttons][0] == "rep:o:2082:not_out"
    assert "belum mendengar kabar dari Ibu" in dewi.last.body
    clock.advance(timedelta(hours=5))
    assert await report_flow.check_inactivity(app, clock.now()) == 0  # once per cause
    assert len(ani.messages()) == start + 1
    # she answers the check-in: her open inactivity alert closes by itself
    await sari.press("rep:o:2082:smooth")
    assert (await rows(driver, "SELECT closed_at IS NOT NULL AS closed FROM alert WHERE mother_id = 2082")) == [
        {"closed": 1}]
    # two more quiet days: a new silence, a new alert; past the window (day > 10): none
    clock.advance(timedelta(days=2))
    assert await report_flow.check_inactivity(app, clock.now()) == 1
    await driver.app.services.db.execute("UPDATE alert SET closed_at = ? WHERE mother_id = 2082", (iso(clock.now()),))
    clock.advance(timedelta(days=8))
    assert await report_flow.check_inactivity(app, clock.now()) == 0


async def test_alert_that_did_not_reach_a_midwife_is_sent_again(driver, clock):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2091, code)
    sari = await mother_in(driver, clinic, 2092, "Sari")
    start = len(ani.messages())
    driver.server.faults.append(Fault(code=502, method="sendMessage", chat_id=2091, times=4))
    replies = await report(sari, danger=("fits",))
    assert "Ini tanda bahaya" in texts_of(replies)  # she is not left without advice
    assert len(ani.messages()) == start
    await report_flow.hourly(driver.app)
    assert "Ibu: kejang" in ani.last.body
    await report_flow.hourly(driver.app)
    assert len(ani.messages()) == start + 1


async def test_blocked_midwife_is_marked_inactive_and_the_report_goes_on(driver):
    clinic, code = await make_clinic(driver)
    await join_midwife(driver, 2093, code)
    sari = await mother_in(driver, clinic, 2094, "Sari")
    driver.server.block(2093)
    replies = await report(sari, danger=("fits",))
    assert "Laporan tersimpan" in texts_of(replies)
    assert await driver.app.services.db.fetchval("SELECT active FROM app_user WHERE telegram_id = 2093") == 0


# ----------------------------------------------------------------- privacy
async def test_mydata_and_delete_cover_reports(driver):
    clinic, _ = await make_clinic(driver)
    sari = await mother_in(driver, clinic, 2101, "Sari")
    budi = await add_companion(driver, sari, 2102, "Budi")
    await report(budi, danger=("fits",))
    replies = await sari.send("/saya")
    assert "Laporan ASI (1)" in texts_of(replies) and "Peringatan untuk bidan (1)" in texts_of(replies)
    replies = await budi.send("/saya")
    assert "Laporan ASI (1)" in texts_of(replies)
    # the companion leaves: the report stays with the mother, without his id
    await budi.send("/hapus")
    await budi.press("del:yes")
    assert (await rows(driver, "SELECT mother_id, reported_by, reporter_role FROM milk_report")) == [
        {"mother_id": 2101, "reported_by": None, "reporter_role": "companion"}]
    await sari.send("/hapus")
    await sari.press("del:yes")
    for table in ("milk_report", "alert", "midwife_note"):
        assert await driver.app.services.db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0
