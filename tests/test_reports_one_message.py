"""/lapor costs one counted request per button step, end to end through the loopback Bot API.

Telegram counts an edit like a send (about one request a second per chat, about 30 a second
overall) and answering a button press not at all. So the message whose button was pressed
becomes the recap of the report so far and the next question, in one editMessageText
(flows/reports.py `_go_on`, flows/ui.py `edit_or_send`). A rule's advice stays a message of its
own, with the next question after it; a message that cannot be edited gets the old close and
send. Counted here: the requests the bot makes to the reporter's chat (`Person.requests_since`).
"""
from __future__ import annotations

from loopback.server import Fault
from test_onboarding import register_mother
from test_reports import cadre_of_two, join_midwife, log_a_session, make_clinic, mother_in, rows

EDIT = ["editMessageText"]
RECAP_THEN_ADVICE_THEN_NEXT = ["editMessageText", "sendMessage", "sendMessage"]


async def costs(person, step) -> list[str]:
    """The requests to `person`'s chat while `step` (one update) is handled."""
    mark = len(person.server.requests)
    await step
    return person.requests_since(mark)


def datas(message) -> list[str]:
    return [b["callback_data"] for b in message.buttons]


async def menu_buttons(person) -> list[str]:
    return datas((await person.send("/menu"))[-1])


async def test_a_normal_report_costs_one_request_per_button_step(driver):
    sari = await register_mother(driver, 2301, "Sari")
    assert await costs(sari, sari.send("/lapor")) == ["sendMessage"]
    question, count = sari.last, len(sari.messages())
    steps = {"rep:f:smooth": "tanda ini SEKARANG", "rep:ds:none": "bayi menyusu dalam 24 jam",
             "rep:feeds:10": "Berapa popok basah", "rep:wet:6": "Bagaimana payudara Ibu sekarang?",
             "rep:br:soft": "Laporan tersimpan. Terima kasih!"}
    for data, next_text in steps.items():
        answered = len(sari.callback_answers())
        assert await costs(sari, sari.press(data)) == EDIT, data
        assert len(sari.callback_answers()) == answered + 1  # the press is answered too (free)
        assert sari.last is question and next_text in question.body, data
    assert question.edits == 5 and len(sari.messages()) == count  # one message, nothing new
    recap = question.body
    lines = ["Tersimpan:", "✓ ASI lancar", "✓ Tanda bahaya: tidak ada", "✓ Menyusu: 10× dalam 24 jam",
             "✓ Popok basah: 6 dalam 24 jam", "✓ Payudara: Lunak", "Laporan tersimpan. Terima kasih!"]
    assert [recap.index(line) for line in lines] == sorted(recap.index(line) for line in lines)
    assert "IBU, segera" not in recap and len(recap) < 600  # the long danger list became one line
    assert datas(question) == await menu_buttons(sari)  # the end carries the main menu's buttons
    assert await rows(driver, "SELECT milk_flow, danger_signs, feeds_24h, wet_nappies_24h, breasts"
                              " FROM milk_report") == [
        {"milk_flow": "smooth", "danger_signs": "", "feeds_24h": 10, "wet_nappies_24h": 6, "breasts": "soft"}]
    assert await driver.app.services.db.fetchval(
        "SELECT COUNT(*) FROM conversation_state WHERE name = 'reports'") == 0


async def test_menu_button_mother_choice_typed_answer_and_skips(driver):
    sari, dewi, budi = await cadre_of_two(driver, 2310)
    await budi.send("/menu")
    shown = budi.last
    assert await costs(budi, budi.press("menu:reports")) == EDIT  # the menu becomes the question
    assert budi.last is shown and "ibu yang mana" in shown.body and set(datas(shown)) == {"rep:m:2311", "rep:m:2312"}
    assert await costs(budi, budi.press("rep:m:2312")) == EDIT
    assert shown.body == "Bagaimana ASI Ibu Dewi sekarang?"
    for data in ("rep:f:not_smooth", "rep:ds:none"):
        assert await costs(budi, budi.press(data)) == EDIT, data
    # a typed count: his message cannot be edited, the next question is one new message
    assert await costs(budi, budi.send("12 kali")) == ["sendMessage"]
    assert budi.last is not shown and budi.last.body.startswith("Berapa popok basah")
    for data in ("rep:wet:skip", "rep:br:skip"):
        assert await costs(budi, budi.press(data)) == EDIT, data
    recap = budi.last.body
    for line in ("Tersimpan untuk Ibu Dewi:", "✓ ASI keluar tapi belum lancar", "✓ Tanda bahaya: tidak ada",
                 "✓ Menyusu: 12× dalam 24 jam", "– Popok basah: dilewati", "– Payudara: dilewati"):
        assert line in recap, line
    assert await rows(driver, "SELECT mother_id, reported_by, feeds_24h, wet_nappies_24h, breasts FROM milk_report") == [
        {"mother_id": 2312, "reported_by": 2313, "feeds_24h": 12, "wet_nappies_24h": None, "breasts": None}]


async def test_the_offers_become_the_next_question_in_place(driver, clock):
    sari = await register_mother(driver, 2321, "Sari")  # registration ends with the one-tap offer
    offer = sari.last
    assert await costs(sari, sari.press("rep:o:2321:not_smooth")) == EDIT
    assert sari.last is offer and "Tersimpan:\n✓ ASI keluar tapi belum lancar" in offer.body
    assert "tanda ini SEKARANG" in offer.body and datas(offer) == ["rep:ds:none", "rep:ds:yes"]
    await sari.press("rep:ds:none")
    await log_a_session(driver, 2321)  # the offer after a massage session
    offer = sari.last
    assert await costs(sari, sari.press("rep:o:2321:smooth")) == EDIT
    assert "✓ ASI lancar" in offer.body and "tanda ini SEKARANG" in offer.body
    assert [r["phase"] for r in await rows(driver, "SELECT phase FROM milk_report ORDER BY id")] == ["pre", "post"]


async def test_advice_stays_its_own_message_and_the_next_question_comes_after_it(driver):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2331, code)
    sari = await mother_in(driver, clinic, 2332, "Sari")  # 11 hours of life
    told = len(ani.messages())
    await sari.send("/lapor")
    question = sari.last
    await sari.press("rep:f:smooth")
    assert await costs(sari, sari.press("rep:ds:yes")) == EDIT  # the list gets its tick buttons in place
    assert sari.last is question and "Ketuk nomor setiap tanda" in question.body
    assert "1. Ibu: perdarahan banyak (pembalut penuh" in question.body  # the list stays, numbered like them
    assert question.buttons[0]["text"].startswith("◻️ 1 Ibu:")
    assert await costs(sari, sari.press("rep:ds:breast_red")) == ["editMessageReplyMarkup"]
    before = len(sari.messages())

    # a danger sign to see today: the recap, the advice (its own message), then the next question
    assert await costs(sari, sari.press("rep:ds:done")) == RECAP_THEN_ADVICE_THEN_NEXT
    advice, feeds = sari.messages()[before:]
    assert question.buttons == [] and "⚠️ Tanda bahaya: Ibu: payudara merah/nyeri" in question.body
    assert "IBU, segera" not in question.body and "Ketuk nomor" not in question.body  # the list collapsed
    assert "perlu diperiksa hari ini" in advice.body and "• Ibu: payudara bengkak, merah atau nyeri" in advice.body
    assert "112" in advice.body and "119" in advice.body and "sudah kami beri tahu" in advice.body
    assert datas(advice) == ["menu:questions"]
    assert "bayi menyusu dalam 24 jam" in feeds.body and "rep:feeds:8" in datas(feeds)
    assert len(ani.messages()) == told + 1 and "Tanda bahaya" in ani.last.body  # the midwife is told

    # few feeds on the first day: its advice, then the nappies
    assert await costs(sari, sari.press("rep:feeds:5")) == RECAP_THEN_ADVICE_THEN_NEXT
    first_day, wet = sari.messages()[-2:]
    assert feeds.buttons == [] and "✓ Menyusu: 5× dalam 24 jam" in feeds.body
    assert "Di hari pertama bayi sering banyak tidur" in first_day.body
    assert wet.body.startswith("Berapa popok basah")
    assert await costs(sari, sari.press("rep:wet:6")) == EDIT  # nothing fired: one request again
    assert "Bagaimana payudara Ibu sekarang?" in wet.body

    # hard and painful breasts: the advice, then the end with the menu's buttons
    assert await costs(sari, sari.press("rep:br:hard_painful")) == RECAP_THEN_ADVICE_THEN_NEXT
    breasts_advice, end = sari.messages()[-2:]
    assert wet.buttons == [] and "✓ Payudara: Keras dan nyeri" in wet.body
    assert "Payudara penuh dan keras sering terjadi" in breasts_advice.body
    assert end.body.startswith("Laporan tersimpan. Terima kasih!") and datas(end) == await menu_buttons(sari)


async def test_an_urgent_sign_ends_the_report_after_its_advice(driver):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 2341, code)
    sari = await mother_in(driver, clinic, 2342, "Sari")
    told = len(ani.messages())
    await sari.send("/lapor")
    question = sari.last
    for data in ("rep:f:smooth", "rep:ds:yes", "rep:ds:fits"):
        await sari.press(data)
    before = len(sari.messages())
    assert await costs(sari, sari.press("rep:ds:done")) == RECAP_THEN_ADVICE_THEN_NEXT
    advice, stop = sari.messages()[before:]
    assert question.buttons == [] and "⚠️ Tanda bahaya: Ibu: kejang" in question.body
    assert "Ini tanda bahaya" in advice.body and "• Ibu: kejang" in advice.body
    assert "112" in advice.body and "119" in advice.body and "sudah kami beri tahu" in advice.body
    assert "Pertanyaan lainnya kami lewati" in stop.body and datas(stop) == await menu_buttons(sari)
    assert not any("rep:feeds:" in d for m in sari.messages() for d in datas(m))  # no more questions
    assert len(ani.messages()) == told + 1 and "🚨" in ani.last.body
    assert await rows(driver, "SELECT cause, urgency FROM alert") == [{"cause": "danger_sign", "urgency": "urgent"}]


async def test_a_message_that_cannot_be_edited_gets_the_step_as_a_new_message(driver):
    sari = await register_mother(driver, 2351, "Sari")
    await sari.send("/lapor")
    question = sari.last
    refused = len(driver.server.refusals)
    driver.server.faults.append(Fault(code=400, method="editMessageText", chat_id=2351, times=2,
                                      description="Bad Request: message can't be edited"))
    # the edit is refused, and so is closing its buttons; the step arrives as a new message
    assert await costs(sari, sari.press("rep:f:smooth")) == ["editMessageText", "editMessageText", "sendMessage"]
    assert [r[2] for r in driver.server.refusals[refused:]] == ["Bad Request: message can't be edited"] * 2
    del driver.server.refusals[refused:]  # provoked on purpose
    step = sari.last
    assert step is not question and "Tersimpan:\n✓ ASI lancar" in step.body and "tanda ini SEKARANG" in step.body
    assert datas(step) == ["rep:ds:none", "rep:ds:yes"]
    assert await rows(driver, "SELECT milk_flow FROM milk_report") == [{"milk_flow": "smooth"}]
    # the new message goes on in place
    for data in ("rep:ds:none", "rep:feeds:9", "rep:wet:6", "rep:br:full"):
        assert await costs(sari, sari.press(data)) == EDIT, data
    assert sari.last is step and "✓ Payudara: Penuh" in step.body and "Laporan tersimpan" in step.body

    # a button under a message without text (a photo): no edit is tried, its buttons are taken off
    photo = driver.server._new_message(  # noqa: SLF001 - a photo with the offer's buttons
        2351, True, kind="photo", caption="Bagaimana ASI Ibu sekarang?", file_id="P1",
        reply_markup={"inline_keyboard": [[{"text": "ASI lancar", "callback_data": "rep:o:2351:smooth"}]]})
    assert await costs(sari, sari.press_data(photo, "rep:o:2351:smooth")) == ["editMessageReplyMarkup", "sendMessage"]
    assert photo.buttons == [] and "✓ ASI lancar" in sari.last.body and "tanda ini SEKARANG" in sari.last.body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM milk_report") == 2


def test_the_longest_step_fits_one_message():
    """Every sign ticked, every answer given, a long name: the recap stays one short message, and
    the tick list (recap, the whole checklist, the instruction) fits too."""
    from bot.i18n import Texts
    from db.queries.reports import Report
    from flows.reports import _danger_items, danger_list_text, recap_text

    texts = Texts.load()
    for lang in ("id", "en"):
        signs = tuple(item["id"] for item in _danger_items(texts, lang))
        full = Report(1, 1, 2, "companion", "2026-11-30T03:00:00Z", 2, "pre", "not_smooth", 40, 30,
                      "hard_painful", signs)
        recap = recap_text(texts, lang, full, mother_name="N" * 64)
        assert len(f"{recap}\n\n{texts.t(lang, 'reports.done')}") < 1500, lang
        first = recap_text(texts, lang, Report(1, 1, 2, "companion", "", 2, "pre", "smooth"), mother_name="N" * 64)
        tick_list = f"{first}\n\n{danger_list_text(texts, lang)}\n\n{texts.t(lang, 'reports.danger_pick')}"
        assert len(tick_list.encode("utf-16-le")) // 2 < 2500, lang
