"""Tanya bidan end to end through the loopback Bot API: a question (text, photo, voice note) from a
mother or a companion reaches the midwives of HER clinic, the first to take it answers (button or
reply in Telegram), the others see who took it, additions, hours, refusals, times and privacy."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import iso
from db.queries import questions as q_db
from db.queries.clinic_scope import NotAMidwife, NotYourClinic
from test_reports import add_companion, make_clinic, mother_in, new_midwife, report, rows

from conftest import ADMIN  # noqa: E402


def headers(person):
    """The question messages with their buttons, as the midwife has them now."""
    return [m for m in person.messages() if m.body.startswith("❓ Pertanyaan untuk bidan")
            or "❓ Pertanyaan untuk bidan" in m.body.split("\n\n", 1)[-1][:40]]


def header(person, question_id=1):
    found = [m for m in person.messages() if f"Pertanyaan untuk bidan #{question_id}" in m.body]
    assert found, [m.body[:80] for m in person.messages()]
    return found[-1]


def texts(messages) -> str:
    return "\n".join(m.body for m in messages)


async def question_row(driver, question_id=1):
    return (await rows(driver, "SELECT * FROM question WHERE id = ?", (question_id,)))[0]


async def clinic_with_two_midwives(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 3001, "Bidan Ani")
    rina = await new_midwife(driver, clinic, 3002, "Rina")
    return clinic, ani, rina


# ----------------------------------------------------------------- the round trip
async def test_text_question_answered_round_trip(driver):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await report(sari, flow="not_smooth")
    replies = await sari.send("/tanya")
    assert "Tulis pertanyaan Ibu untuk bidan" in replies[-1].body
    replies = await sari.send("Apakah saya boleh minum jamu?")
    assert "terkirim ke bidan Puskesmas Bener" in replies[-1].body
    assert "di luar jam layanan" not in replies[-1].body  # Monday 11:00 WITA: open

    for midwife in (ani, rina):
        got = header(midwife)
        assert "Dari: Ibu Sari" in got.body and "Hari ke-2 setelah melahirkan" in got.body
        assert "Laporan ASI terakhir: ASI keluar tapi belum lancar (30/11 11:00)" in got.body
        assert "Apakah saya boleh minum jamu?" in got.body
        assert [b["callback_data"] for b in got.buttons] == ["q:take:1", "mw:rec:2001"]

    replies = await ani.press("q:take:1")
    assert "sekarang milik Anda" in replies[-1].body
    assert "Diambil oleh Bidan Ani" in header(rina).body
    assert [b["callback_data"] for b in header(rina).buttons] == ["mw:rec:2001"]  # no "take" any more
    assert "Anda mengambil pertanyaan ini" in header(ani).body

    before = len(sari.messages())
    replies = await ani.send("Sebaiknya tanyakan dulu jenis jamunya; air putih yang cukup lebih penting.")
    assert "terkirim kepada: Sari" in replies[-1].body
    answer = sari.messages()[before:]
    assert "Jawaban Bidan Ani atas pertanyaan Anda" in answer[0].body
    assert "air putih yang cukup" in answer[0].body
    assert "Dijawab oleh Bidan Ani" in header(rina).body and "Dijawab oleh Bidan Ani" in header(ani).body
    assert header(ani).buttons[-1]["callback_data"] == "mw:rec:2001"

    # closed: another "take" on the old button is told who answered; /tanya starts afresh
    replies = await rina.press_data(header(rina), "q:take:1")
    assert any("sudah dijawab oleh Bidan Ani" in (a.get("text") or "") for a in rina.callback_answers())
    replies = await sari.send("/tanya")
    assert "Tulis pertanyaan" in replies[-1].body


async def test_photo_question_answered_with_text(driver):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    replies = await sari.send_media("photo", caption="Puting saya lecet begini, bagaimana?")
    assert "terkirim" in replies[-1].body
    got = header(ani)
    assert "📷 Foto, di bawah ini." in got.body and "Puting saya lecet" in got.body
    photo = ani.messages()[-1]
    assert photo.kind == "photo" and photo.caption == "Puting saya lecet begini, bagaimana?"
    assert photo.file_id == sari.server.chat(2001)[-2].file_id  # the very same picture, copied

    await rina.press("q:take:1")
    await rina.send("Coba perbaiki pelekatan; oleskan sedikit ASI pada puting.")
    assert "Jawaban Bidan Rina atas pertanyaan Anda" in texts(sari.messages()[-2:])
    stored = await rows(driver, "SELECT part, kind, text, file_id FROM question_message ORDER BY id")
    assert [(r["part"], r["kind"]) for r in stored] == [("question", "photo"), ("answer", "text")]
    assert stored[0]["file_id"] == photo.file_id


async def test_voice_question_and_a_photo_answer(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send_media("voice")
    assert "🎤 Pesan suara" in header(ani).body and ani.messages()[-1].kind == "voice"
    await ani.press("q:take:1")
    await ani.send_media("photo", caption="Posisi menyusui seperti ini.")
    got = sari.messages()[-2:]
    assert "Jawaban Bidan Ani" in got[0].body and "📷 Foto" in got[0].body
    assert got[1].kind == "photo" and got[1].caption == "Posisi menyusui seperti ini."


# ----------------------------------------------------------------- companions
async def test_companion_question_reaches_her_midwives_and_the_answer_both(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    other, _ = await make_clinic(driver, "Puskesmas Lain")
    dewi = await new_midwife(driver, other, 3009, "Bidan Dewi")
    sari = await mother_in(driver, clinic, 2001)
    budi = await add_companion(driver, sari, 2101, "Budi")
    mira = await mother_in(driver, other, 2002, "Mira")
    await add_companion(driver, mira, 2101, "Budi")  # Budi accompanies two mothers

    replies = await budi.send("/tanya")
    assert "ibu yang mana" in replies[-1].body
    assert {b["callback_data"] for b in replies[-1].buttons} == {"q:m:2001", "q:m:2002"}
    replies = await budi.send("tulisan")  # text where a button is expected
    assert "pilih salah satu tombol" in replies[0].body
    replies = await budi.press("q:m:2001")
    assert "tentang Ibu Sari" in replies[-1].body
    dewi_before = len(dewi.messages())
    await budi.send("Istri saya demam sedikit, perlu ke Puskesmas?")
    got = header(ani)
    assert "Dari: Budi (Suami) untuk Ibu Sari" in got.body
    assert len(dewi.messages()) == dewi_before  # the other clinic's midwife gets nothing

    await ani.press("q:take:1")
    sari_before, budi_before = len(sari.messages()), len(budi.messages())
    await ani.send("Ukur suhunya; di atas 38 derajat segera datang ke Puskesmas.")
    to_budi = texts(budi.messages()[budi_before:])
    to_sari = texts(sari.messages()[sari_before:])
    assert "Jawaban Bidan Ani atas pertanyaan Anda" in to_budi and "38 derajat" in to_budi
    assert "Budi (Suami) untuk Ibu Sari bertanya kepada bidan tentang Ibu" in to_sari
    assert "demam sedikit" in to_sari and "38 derajat" in to_sari
    row = await question_row(driver)
    assert (row["mother_id"], row["asked_by"], row["asker_role"]) == (2001, 2101, "companion")


# ----------------------------------------------------------------- reply in Telegram
async def test_reply_in_telegram_answers_and_takes(driver):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send_media("photo", caption="Ruam di kulit bayi")
    photo_copy = rina.messages()[-1]
    assert photo_copy.kind == "photo"
    replies = await rina.reply(photo_copy, "Itu biang keringat; jaga bayi tetap sejuk.")
    assert "terkirim kepada: Sari" in replies[-1].body
    assert "biang keringat" in sari.messages()[-1].body
    row = await question_row(driver)
    assert row["taken_by"] == row["answered_by"] == 3002 and row["taken_at"] == row["answered_at"]
    assert "Dijawab oleh Bidan Rina" in header(ani).body
    # a late reply by the other midwife is refused, and nothing reaches the mother
    before = len(sari.messages())
    replies = await ani.reply(header(ani), "Saya juga mau menjawab")
    assert "sudah dijawab oleh Bidan Rina" in replies[-1].body
    assert len(sari.messages()) == before


async def test_second_midwife_is_told_who_has_it(driver):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send("Berapa lama bayi boleh tidur tanpa menyusu?")
    await ani.press("q:take:1")
    await rina.press_data(header(rina), "q:take:1")  # her old copy, still with the button
    assert any("sudah diambil oleh Bidan Ani" in (a.get("text") or "") for a in rina.callback_answers())
    before = len(sari.messages())
    replies = await rina.reply(header(rina), "Maksimal 3 jam")
    assert "sudah diambil oleh Bidan Ani" in replies[-1].body
    assert len(sari.messages()) == before
    assert (await question_row(driver))["answered_at"] is None


# ----------------------------------------------------------------- waiting, additions, restart
async def test_open_question_shows_waiting_and_takes_additions_across_a_restart(driver, clock):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send("Payudara kanan bengkak.")
    replies = await sari.send("Sudah dua hari.")
    assert "Tambahan terkirim" in replies[-1].body
    for midwife in (ani, rina):
        assert "Tambahan untuk pertanyaan #1 dari Ibu Sari" in midwife.messages()[-1].body
        assert "Sudah dua hari." in midwife.messages()[-1].body

    clock.advance(timedelta(minutes=40))
    await sari.send("/menu")
    replies = await sari.press("menu:questions")
    assert "menunggu jawaban sejak 11:00" in replies[-1].body
    await driver.restart(graceful=False)  # the asker's "add to it" state survives a crash
    await sari.send_media("photo", caption="Fotonya")
    assert ani.messages()[-1].kind == "photo" and "Tambahan" in ani.messages()[-2].body

    await ani.press("q:take:1")
    replies = await sari.send("/tanya")
    assert "Bidan Ani sedang menyiapkan jawabannya" in texts(replies)
    await driver.restart()  # the midwife's pending answer survives a restart
    await ani.send("Kompres hangat dan susui lebih sering dari sisi kanan.")
    assert "Kompres hangat" in sari.messages()[-1].body
    # the asker was still "adding": a new message now is not sent anywhere, she is asked
    before = len(ani.messages())
    replies = await sari.send("Terima kasih bidan")
    assert "sudah menjawab" in replies[-1].body
    assert replies[-1].buttons[0]["callback_data"] == "menu:questions"
    assert len(ani.messages()) == before
    stored = await rows(driver, "SELECT part FROM question_message ORDER BY id")
    assert [r["part"] for r in stored] == ["question", "addition", "addition", "answer"]


async def test_unexpected_input_gets_a_clear_answer(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    replies = await sari.send_other("sticker")
    assert "teks, foto, atau pesan suara" in replies[-1].body
    assert await rows(driver, "SELECT * FROM question") == []
    await sari.send("Pertanyaan")
    await ani.press("q:take:1")
    replies = await ani.send_other("sticker")
    assert "Jawaban bisa berupa teks, foto, atau pesan suara" in replies[-1].body
    replies = await ani.send("/batal")
    assert (await question_row(driver))["answered_at"] is None
    # a midwife's text outside any flow is not an answer
    before = len(sari.messages())
    await ani.send("halo")
    assert len(sari.messages()) == before


# ----------------------------------------------------------------- hours
async def test_outside_hours_says_when_and_gives_the_numbers(driver, clock):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    clock.set(datetime(2026, 11, 30, 10, 30, tzinfo=timezone.utc))  # Monday 18:30 WITA
    await sari.send("/tanya")
    replies = await sari.send("Bayi tidak mau menyusu sejak sore")
    body = replies[-1].body
    assert "di luar jam layanan (07:00–16:00)" in body
    assert "Bidan akan menjawab mulai pukul 07:00 besok" in body
    assert "jangan menunggu" in body and "112" in body and "119" in body
    assert "Dikirim di luar jam layanan" in header(ani).body  # still sent: she sees it in the morning
    assert (await question_row(driver))["outside_hours"] == 1


async def test_hours_per_clinic_and_days(driver, clock):
    clinic, _, _ = await clinic_with_two_midwives(driver)
    db = driver.app.services.db
    assert await q_db.set_clinic_hours(db, clinic.id, "08:00-14:00", "1-5")
    sari = await mother_in(driver, clinic, 2001)
    clock.set(datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc))  # Saturday 10:00 WITA: closed
    await sari.send("/tanya")
    replies = await sari.send("Pertanyaan hari Sabtu")
    assert "(08:00–14:00)" in replies[-1].body and "mulai pukul 08:00 hari Senin" in replies[-1].body
    hours = await q_db.clinic_hours(db, clinic.id)
    assert q_db.next_opening(hours, datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc), "Asia/Makassar") is None
    with pytest.raises(ValueError):
        q_db.parse_hours("16:00-07:00")
    with pytest.raises(ValueError):
        q_db.parse_days("0-9")
    assert q_db.parse_days("1-6") == "123456" and q_db.parse_days("1,3,5") == "135" and q_db.parse_days("123456") == "123456"


# ----------------------------------------------------------------- one clinic only
async def test_another_clinics_midwife_is_refused(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    other, _ = await make_clinic(driver, "Puskesmas Lain")
    dewi = await new_midwife(driver, other, 3009, "Bidan Dewi")
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send("Pertanyaan rahasia tentang jahitan")
    before = len(sari.messages())
    for data in ("q:take:1", "q:take:999"):
        replies = await dewi.press_data(dewi.last, data)  # forged buttons
        assert "tidak ada atau bukan dari Puskesmas Anda" in replies[-1].body
        assert "jahitan" not in texts(replies)
    replies = await dewi.send("Jawaban palsu")  # not in any answer state: not an answer
    replies = await dewi.reply(dewi.last, "Jawaban palsu lewat balasan")
    assert len(sari.messages()) == before
    row = await question_row(driver)
    assert row["taken_by"] is None and row["answered_at"] is None
    assert "jahitan" not in texts(dewi.messages())
    replies = await dewi.send("/tanya")  # her own list does not show it
    assert "Tidak ada pertanyaan" in replies[-1].body
    db = driver.app.services.db
    with pytest.raises(NotYourClinic):
        await q_db.question_for(db, 3009, 1)
    with pytest.raises(NotAMidwife):
        await q_db.question_for(db, 2001, 1)
    assert (await q_db.question_for(db, 3001, 1)).id == 1
    # a mother cannot ask about another mother with a forged button either
    await mother_in(driver, other, 2002, "Mira")
    await sari.press_data(sari.last, "q:m:2002")
    assert await rows(driver, "SELECT * FROM question WHERE mother_id = 2002") == []
    # the midwife's own list shows her clinic's open question
    replies = await ani.send("/tanya")
    assert "#1 · Ibu Sari" in replies[-1].body and replies[-1].buttons[0]["callback_data"] == "q:take:1"


async def test_a_mother_who_moved_clinic_is_no_longer_the_old_midwives_business(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    other, _ = await make_clinic(driver, "Puskesmas Lain")
    sari = await mother_in(driver, clinic, 2001)
    await sari.send("/tanya")
    await sari.send("Pertanyaan")
    await driver.app.services.db.execute("UPDATE mother SET clinic_id = ? WHERE user_id = 2001", (other.id,))
    replies = await ani.press("q:take:1")
    assert "bukan dari Puskesmas Anda" in replies[-1].body


# ----------------------------------------------------------------- no midwife: the administrators
async def test_no_clinic_goes_to_the_administrators_who_may_answer(admin_driver):
    from test_onboarding import register_mother
    from db.queries import users

    driver = admin_driver
    await users.create_user(driver.app.services.db, ADMIN, "midwife", "id", "2026-11-30T00:00:00Z")
    admin = driver.user(ADMIN, "Admin")
    sari = await register_mother(driver, 2001, "Sari")
    await sari.send("/tanya")
    replies = await sari.send("Saya belum punya Puskesmas, boleh tanya?")
    assert "pengelola program" in replies[-1].body and "112" in replies[-1].body
    got = header(admin)
    assert "belum memilih Puskesmas" in got.body
    assert [b["callback_data"] for b in got.buttons] == ["q:take:1"]  # no midwife record for an admin
    await admin.press("q:take:1")
    await admin.send("Boleh; pilih Puskesmas dari menu.")
    assert "pilih Puskesmas dari menu" in sari.messages()[-1].body


# ----------------------------------------------------------------- times and privacy
async def test_times_are_recorded_and_the_median_computed(driver, clock):
    clinic, ani, rina = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    mira = await mother_in(driver, clinic, 2002, "Mira")
    asked = clock.now()
    await sari.send("/tanya")
    await sari.send("Pertanyaan satu")
    clock.advance(timedelta(minutes=10))
    await ani.press("q:take:1")
    clock.advance(timedelta(minutes=5))
    await ani.send("Jawaban satu")
    row = await question_row(driver)
    assert (row["asked_at"], row["taken_at"], row["answered_at"]) == (
        iso(asked), iso(asked + timedelta(minutes=10)), iso(asked + timedelta(minutes=15)))
    assert (row["taken_by"], row["answered_by"]) == (3001, 3001)
    await mira.send("/tanya")
    await mira.send("Pertanyaan dua")
    clock.advance(timedelta(minutes=45))
    await rina.reply(header(rina, 2), "Jawaban dua")
    await mira.send("/menu")
    await sari.send("/menu")
    await sari.send("/tanya")
    await sari.send("Pertanyaan tiga, belum dijawab")
    times = await q_db.answer_times(driver.app.services.db, 3001)
    assert (times.answered, times.open) == (2, 1)
    assert times.median_to_take_min == 27.5 and times.median_to_answer_min == 30.0


async def test_questions_are_in_my_data_and_deleted_with_it(driver):
    clinic, ani, _ = await clinic_with_two_midwives(driver)
    sari = await mother_in(driver, clinic, 2001)
    budi = await add_companion(driver, sari, 2101, "Budi")
    await budi.send("/tanya")
    await budi.send("Pertanyaan Budi")
    await ani.press("q:take:1")
    await ani.send("Jawaban")
    await sari.send("/tanya")
    await sari.send("Pertanyaan Sari")
    replies = await sari.send("/saya")
    assert "Pertanyaan Sari" in texts(replies) and "3001" not in texts(replies)
    await budi.send("/hapus")
    await budi.press("del:yes")
    kept = await rows(driver, "SELECT asked_by, mother_id FROM question ORDER BY id")
    assert kept == [{"asked_by": None, "mother_id": 2001}, {"asked_by": 2001, "mother_id": 2001}]
    assert await rows(driver, "SELECT * FROM question_message WHERE sender_id = 2101") == []
    await sari.send("/hapus")
    await sari.press("del:yes")
    for table in ("question", "question_message", "question_copy"):
        assert await rows(driver, f"SELECT * FROM {table}") == []
