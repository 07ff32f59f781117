"""News about the baby end to end (flows/care_status.py): the loss switch stops every
baby-related message, hospital pauses the baby questions and offers expressing support, the
midwife sets and undoes both from the record (her clinic only), and a loss is left out of the
before/after milk-flow comparison."""
from __future__ import annotations

from datetime import timedelta

import pytest

from db.queries import care, clinic_scope
from db.queries import exports as export_queries
from flows import reports as report_flow
from usecases import reports as report_cases
from test_midwife import hand_computed_clinic, plain
from test_reports import add_companion, join_midwife, make_clinic, mother_in, new_midwife, rows, texts_of


def datas(messages) -> list[str]:
    return [b["callback_data"] for m in messages for b in m.buttons]


async def status_of(driver, mother_id):
    return dict((await rows(driver, "SELECT care_status, care_status_by FROM mother WHERE user_id = ?",
                            (mother_id,)))[0])


async def family(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 5901, "Ani")
    sari = await mother_in(driver, clinic, 5001, "Sari")
    budi = await add_companion(driver, sari, 5101, "Budi")
    return clinic, ani, sari, budi


async def open_care(person):
    await person.send("/menu")
    return await person.press("Kabar tentang bayi")


# ----------------------------------------------------------------- loss
async def test_loss_needs_a_confirmation_and_then_stops_every_baby_message(driver, clock):
    db = driver.app.services.db
    _, ani, sari, budi = await family(driver)
    replies = await open_care(sari)
    buttons = datas(replies)
    assert "care:set:5001:hospital" in buttons and "care:ask:5001" in buttons
    assert "care:set:5001:loss" not in buttons  # one tap never records a loss
    replies = await sari.press("care:ask:5001")
    assert "benarkah bayi Ibu telah meninggal" in replies[-1].body
    assert (await status_of(driver, 5001))["care_status"] == "normal"
    before_ani = len(ani.messages())
    replies = await sari.press("Ya, benar")
    assert await status_of(driver, 5001) == {"care_status": "loss", "care_status_by": 5001}
    said = texts_of(replies)
    assert "turut berduka" in said and "112" in said and "bidan" in said.lower()
    assert "perdarahan makin banyak" in said  # her own danger signs stay
    assert "Bidan Puskesmas Bener sudah kami beri tahu" in said
    to_ani = texts_of(ani.messages()[before_ani:])
    assert "Sari" in to_ani and "bayinya meninggal" in to_ani
    alert = (await rows(driver, "SELECT cause, urgency, closed_at FROM alert WHERE mother_id = 5001"))[0]
    assert alert == {"cause": "baby_died", "urgency": "warning", "closed_at": None}

    # the report is replaced by a gentle answer: no milk or baby questions, nothing stored
    replies = await sari.send("/lapor")
    assert "tidak perlu melapor" in texts_of(replies) and "112" in texts_of(replies)
    assert not any(d.startswith("rep:") for d in datas(replies))
    await sari.send("/menu")
    replies = await sari.press("menu:reports")
    assert "tidak perlu melapor" in texts_of(replies)
    old_offer = next(m for m in sari.messages() if m.buttons)
    replies = await sari.press_data(old_offer, "rep:o:5001:smooth")  # an offer from before
    assert "tidak perlu melapor" in texts_of(replies)
    assert await db.fetchval("SELECT COUNT(*) FROM milk_report") == 0
    # the companion too
    replies = await budi.send("/lapor")
    assert "tidak perlu melapor" in texts_of(replies) and not any(d.startswith("rep:") for d in datas(replies))
    # no offer after a session, no quiz, no massage guide, no inactivity check-in
    before = (len(sari.messages()), len(budi.messages()))
    await report_cases.offer_after_session(driver.app.services.deps, 5001, logged_by=5101)
    assert (len(sari.messages()), len(budi.messages())) == before
    for person in (sari, budi):
        replies = await person.send("/kuis")
        assert "tidak kami tawarkan" in texts_of(replies) and not any(d.startswith("qz:") for d in datas(replies))
        replies = await person.send("/pijat")
        assert "bidan" in texts_of(replies) and not any(d.startswith(("gd:", "qz:")) for d in datas(replies))
    clock.advance(timedelta(days=3))
    before = len(sari.messages())
    assert await report_flow.check_inactivity(driver.app, clock.now()) == 0
    assert len(sari.messages()) == before
    assert await db.fetchval("SELECT COUNT(*) FROM alert WHERE cause = 'inactive'") == 0

    # she cannot undo it herself (forged button): only a midwife can
    replies = await open_care(sari)
    assert "turut berduka" in texts_of(replies) and not any(d.startswith("care:set") for d in datas(replies))
    await sari.press_data(sari.last, "care:set:5001:normal")
    assert (await status_of(driver, 5001))["care_status"] == "loss"


async def test_a_companion_can_record_a_loss_and_the_mother_is_told_gently(driver):
    _, ani, sari, budi = await family(driver)
    await open_care(budi)
    replies = await budi.press("care:ask:5001")
    assert "Ibu Sari" in replies[-1].body
    before = len(sari.messages())
    await budi.press("Ya, benar")
    assert await status_of(driver, 5001) == {"care_status": "loss", "care_status_by": 5101}
    to_sari = texts_of(sari.messages()[before:])
    assert "Budi memberi tahu kami" in to_sari and "turut berduka" in to_sari and "112" in to_sari
    assert await care.quiz_paused(driver.app.services.db, 5101)
    # someone who is neither her nor her companion cannot (forged button)
    stranger = await mother_in(driver, (await make_clinic(driver, "Puskesmas Lain"))[0], 5002, "Dewi")
    await stranger.send("/menu")
    await stranger.press_data(stranger.last, "care:set:5001:hospital")
    await stranger.press_data(stranger.last, "care:ask:5001")
    assert (await status_of(driver, 5001))["care_status"] == "loss"
    assert not any("benarkah" in m.body for m in stranger.messages())


# ----------------------------------------------------------------- hospital
async def test_hospital_pauses_the_baby_questions_and_offers_expressing_support(driver):
    _, ani, sari, budi = await family(driver)
    before_sari, before_ani = len(sari.messages()), len(ani.messages())
    await open_care(budi)
    replies = await budi.press("care:set:5001:hospital")
    assert await status_of(driver, 5001) == {"care_status": "hospital", "care_status_by": 5101}
    said = texts_of(replies)
    assert "memerah ASI secara teratur" in said and "Pijat oksitosin mungkin membantu" in said
    assert "memerah ASI secara teratur" in texts_of(sari.messages()[before_sari:])
    assert "Bayi dirawat di rumah sakit" in texts_of(ani.messages()[before_ani:])
    assert (await rows(driver, "SELECT cause, urgency FROM alert WHERE mother_id = 5001")) == [
        {"cause": "baby_hospital", "urgency": "info"}]

    # the report: milk flow and danger signs, then the breasts; no feeds, no nappies
    await sari.send("/lapor")
    await sari.press("rep:f:smooth")
    replies = await sari.press_shown("rep:ds:none")
    asked = datas(replies)
    assert any(d.startswith("rep:br:") for d in asked)
    assert not any(d.startswith(("rep:feeds:", "rep:wet:")) for d in asked)
    await sari.press("rep:br:full")
    row = (await rows(driver, "SELECT milk_flow, feeds_24h, wet_nappies_24h, breasts FROM milk_report"))[0]
    assert row == {"milk_flow": "smooth", "feeds_24h": None, "wet_nappies_24h": None, "breasts": "full"}

    # "the baby is home": back to normal by the mother herself, the questions come back
    replies = await open_care(sari)
    assert "care:set:5001:normal" in datas(replies) and "care:set:5001:hospital" not in datas(replies)
    replies = await sari.press("Bayi sudah pulang")
    assert "sudah pulang" in texts_of(replies)
    assert (await status_of(driver, 5001))["care_status"] == "normal"
    assert await driver.app.services.db.fetchval(
        "SELECT closed_at IS NOT NULL FROM alert WHERE mother_id = 5001 AND cause = 'baby_hospital'")
    await sari.send("/lapor")
    await sari.press("rep:f:smooth")
    replies = await sari.press_shown("rep:ds:none")
    assert any(d.startswith("rep:feeds:") for d in datas(replies))


# ----------------------------------------------------------------- the midwife's record
async def test_the_midwife_sets_and_undoes_both_from_the_record_her_clinic_only(driver):
    clinic, ani, sari, budi = await family(driver)
    other, _ = await make_clinic(driver, "Puskesmas Talise")
    tia = await new_midwife(driver, other, 5902, "Tia")
    await ani.send("/ibu")
    replies = await ani.press("mw:rec:5001")
    assert {"mw:care:5001:hospital", "mw:care:5001:loss"} <= set(datas(replies))

    # loss asks to confirm; then the record says so and offers "back to normal"
    replies = await ani.press("mw:care:5001:loss")
    assert "Catat bahwa bayi Ibu Sari telah meninggal?" in replies[-1].body
    assert (await status_of(driver, 5001))["care_status"] == "normal"
    replies = await ani.press("mw:carey:5001:loss")
    assert await status_of(driver, 5001) == {"care_status": "loss", "care_status_by": 5901}
    assert "Bayi telah meninggal" in texts_of(replies) and "mw:care:5001:normal" in datas(replies[-1:])
    replies = await budi.send("/lapor")
    assert "tidak perlu melapor" in texts_of(replies)

    # another clinic's midwife: forged buttons are refused and change nothing
    await tia.send("/ibu")
    for forged in ("mw:care:5001:normal", "mw:care:5001:hospital", "mw:carey:5001:loss", "mw:care:5001:loss"):
        replies = await tia.press_data(tia.last, forged)
        assert replies[-1].body == "Data ini tidak ada atau bukan dari Puskesmas Anda.", forged
        assert "Sari" not in texts_of(replies)
    assert (await status_of(driver, 5001))["care_status"] == "loss"
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.set_care_status(driver.app.services.db, 5902, 5001, "normal",
                                           driver.app.services.clock.now())

    # undo: back to normal; then hospital and normal again
    replies = await ani.press("mw:care:5001:normal")
    assert (await status_of(driver, 5001))["care_status"] == "normal"
    replies = await ani.press("mw:care:5001:hospital")
    assert (await status_of(driver, 5001))["care_status"] == "hospital"
    assert "Bayi dirawat di rumah sakit" in ani.messages()[-1].body
    await ani.press("mw:care:5001:normal")
    assert (await status_of(driver, 5001))["care_status"] == "normal"
    replies = await sari.send("/lapor")
    assert any(d.startswith("rep:f:") for d in datas(replies))


# ----------------------------------------------------------------- statistics
async def test_a_loss_is_left_out_of_the_milk_flow_comparison(driver):
    db = driver.app.services.db
    a, code_a, _, _ = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 5910, code_a)
    pairs, _ = await clinic_scope.milk_flow_pairs(db, 5910)
    assert len(pairs) == 4
    await care.set_status(db, 3001, "loss", 5910, driver.app.services.clock.now())
    pairs, excluded = await clinic_scope.milk_flow_pairs(db, 5910)
    assert len(pairs) == 3 and ("not_out", "smooth") not in pairs
    assert await clinic_scope.loss_excluded(db, 5910) == 1
    await ani.send("/ringkasan")
    replies = await ani.press("mw:stats")
    summary = plain(replies[0])
    assert "1 ibu tidak dihitung dalam perbandingan ini karena bayinya meninggal" in summary
    assert "n = 3" in replies[-1].body or "3" in replies[-1].body
    # the export says which mothers are in loss, so an analysis of it can leave them out
    _, tables = export_queries.research_tables(_ro(db.url), 5910)
    report_rows = list(tables[0].rows())
    status = {row[1]: row[-1] for row in report_rows}
    pseudonym = await db.fetchval("SELECT pseudonym FROM mother WHERE user_id = 3001")
    assert status[pseudonym] == "loss" and set(status.values()) == {"loss", "normal"}


def _ro(url):
    from db.reader import connect_read_only
    return connect_read_only(url)
