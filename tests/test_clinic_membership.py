"""A mother's Puskesmas end to end: chosen at registration (or "not yet"), kept across a declined
consent, changed later (the old clinic loses her at once), its numbers in /bantuan; birth time."""
from __future__ import annotations

from db.queries import clinics
from test_onboarding import register_mother
from test_reports import NOW, add_companion, mother_in, new_midwife


async def two_clinics(driver):
    db = driver.app.services.db
    bener, _ = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", NOW, district="Purworejo",
                                           phone="+62 274 123456", whatsapp="+62 812 3456 789")
    palu, _ = await clinics.create_clinic(db, "Puskesmas Palu Barat", "Asia/Makassar", NOW, district="Palu")
    return bener, palu


async def listed_ids(midwife) -> set[str]:
    """The mothers a midwife's /ibu shows (their record buttons)."""
    replies = await midwife.send("/ibu")
    return {b["callback_data"].rsplit(":", 1)[1] for m in replies for b in m.buttons
            if b["callback_data"].startswith("mw:rec:")}


def texts(messages) -> str:
    return "\n".join(m.body for m in messages)


async def mother_until_clinic_question(driver, user_id, name="Sari", start="/start"):
    sari = driver.user(user_id, name)
    await sari.send(start)
    await sari.press("ob:consent:yes")
    await sari.press("ob:role:mother")
    await sari.send(name)
    await sari.press("Kemarin")
    await sari.press("ob:bt:unknown")
    await sari.press("ob:first:yes")
    return sari, await sari.press("ob:tz:WIB")


async def test_a_mother_without_a_link_finds_and_picks_her_clinic(driver):
    db = driver.app.services.db
    bener, palu = await two_clinics(driver)
    ani = await new_midwife(driver, bener, 4901, "Bidan Ani")
    tia = await new_midwife(driver, palu, 4902, "Bidan Tia")
    sari, replies = await mother_until_clinic_question(driver, 4001)
    assert "Di Puskesmas mana" in replies[-1].body
    assert await db.fetchval("SELECT COUNT(*) FROM mother") == 0  # nothing stored until she answers
    replies = await sari.send("xyz")
    assert 'Tidak ada Puskesmas yang cocok dengan "xyz"' in replies[-1].body
    assert [b["callback_data"] for b in replies[-1].buttons] == ["ob:cl:none"]
    replies = await sari.send("PURWO")  # the district, any case
    assert [b["text"] for b in replies[-1].buttons] == ["Puskesmas Bener (Purworejo)", "Saya belum tahu"]
    replies = await sari.send("bener")
    replies = await sari.press(f"ob:cl:{bener.id}")
    assert "Ibu sekarang didampingi Puskesmas Bener" in texts(replies)
    assert "Pendaftaran selesai" in texts(replies)
    row = await db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 4001")
    assert row["clinic_id"] == bener.id and row["clinic_chosen_at"] == "2026-11-30T03:00:00Z"
    assert await listed_ids(ani) == {"4001"}
    assert await listed_ids(tia) == set()


async def test_not_yet_is_said_clearly(driver):
    db = driver.app.services.db
    await two_clinics(driver)
    sari, _ = await mother_until_clinic_question(driver, 4002)
    replies = await sari.press("Saya belum tahu")
    said = texts(replies)
    assert "Belum ada bidan Puskesmas yang mendampingi Ibu" in said
    assert "pengelola program" in said and "/menu" in said
    row = await db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 4002")
    assert row["clinic_id"] is None and row["clinic_chosen_at"] is not None
    replies = await sari.send("/menu")
    assert "belum memilih Puskesmas" not in replies[-1].body  # she was asked: no nudge
    replies = await sari.send("/bantuan")
    assert "Belum ada Puskesmas yang mendampingi Ibu" in replies[0].body and "119" in replies[0].body


async def test_a_mother_never_asked_gets_a_nudge_in_the_menu(driver):
    db = driver.app.services.db
    await two_clinics(driver)
    sari = await register_mother(driver, 4003, "Sari")
    await db.execute("UPDATE mother SET clinic_chosen_at = NULL WHERE user_id = 4003")  # registered before
    replies = await sari.send("/menu")
    assert "Ibu belum memilih Puskesmas" in replies[-1].body
    assert any(b["callback_data"] == "menu:clinic_choice" for b in replies[-1].buttons)


async def test_no_clinics_at_all_skips_the_question(driver):
    sari, replies = await mother_until_clinic_question(driver, 4004)
    assert "Belum ada bidan Puskesmas" in texts(replies) and "Pendaftaran selesai" in texts(replies)
    row = await driver.app.services.db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 4004")
    assert tuple(row) == (None, None)


async def test_consent_names_the_clinic_and_a_declined_consent_keeps_it(driver):
    db = driver.app.services.db
    bener, _ = await two_clinics(driver)
    sari = driver.user(4005, "Sari")
    replies = await sari.send(f"/start m_{bener.mother_code}")
    consent = replies[-1]
    assert "bidan di Puskesmas Bener akan melihat data Anda" in consent.body
    await sari.press("ob:consent:no")
    assert await db.fetchval("SELECT COUNT(*) FROM app_user") == 0
    # she changes her mind: a plain /start still knows her clinic
    replies = await sari.send("/start")
    assert "bidan di Puskesmas Bener akan melihat data Anda" in replies[-1].body
    await sari.press("ob:consent:no")
    # ... and so does pressing "agree" on the old consent message
    replies = await sari.press_data(consent, "ob:consent:yes")
    assert "Anda siapa?" in replies[-1].body
    await sari.press("ob:role:mother")
    await sari.send("Sari")
    await sari.press("Kemarin")
    await sari.press("ob:bt:unknown")
    await sari.press("ob:first:yes")
    replies = await sari.press("ob:tz:WIB")  # not asked: the link chose her clinic
    assert "Pendaftaran selesai" in texts(replies)
    assert await db.fetchval("SELECT clinic_id FROM mother WHERE user_id = 4005") == bener.id


async def test_consent_without_a_link_says_no_clinic_follows_yet(driver):
    sari = driver.user(4006, "Sari")
    replies = await sari.send("/start")
    assert "belum ada Puskesmas yang mendampingi Anda" in replies[-1].body


async def test_changing_the_clinic_removes_her_from_the_old_one_at_once(driver):
    db = driver.app.services.db
    bener, palu = await two_clinics(driver)
    ani = await new_midwife(driver, bener, 4911, "Bidan Ani")
    tia = await new_midwife(driver, palu, 4912, "Bidan Tia")
    sari = await mother_in(driver, bener, 4007, "Sari")
    assert await listed_ids(ani) == {"4007"}
    replies = await sari.send("/menu")
    replies = await sari.press("Puskesmas saya")
    assert "Puskesmas Ibu sekarang: Puskesmas Bener" in replies[-1].body
    replies = await sari.send("palu")
    replies = await sari.press(f"clc:{palu.id}")
    assert "Bidan di Puskesmas Bener tidak lagi melihat data Ibu" in texts(replies)
    assert await listed_ids(ani) == set()
    assert await listed_ids(tia) == {"4007"}
    # a forged press of her old record by the old clinic's midwife is refused
    replies = await ani.press_data(ani.last, "mw:rec:4007")
    assert "Ibu Sari (M-" not in texts(replies)
    # "not yet" leaves every clinic
    await sari.send("/menu")
    await sari.press("Puskesmas saya")
    replies = await sari.press("clc:none")
    assert "Belum ada bidan Puskesmas" in texts(replies)
    assert await listed_ids(tia) == set()
    row = await db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 4007")
    assert row["clinic_id"] is None and row["clinic_chosen_at"] is not None


async def test_opening_a_clinic_link_when_registered_switches(driver):
    db = driver.app.services.db
    bener, palu = await two_clinics(driver)
    sari = await register_mother(driver, 4008, "Sari")
    await db.execute("UPDATE mother SET clinic_chosen_at = NULL WHERE user_id = 4008")
    replies = await sari.send(f"/start m_{palu.mother_code}")
    assert "Ibu sekarang terhubung dengan Puskesmas Palu Barat" in texts(replies)
    row = await db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 4008")
    assert row["clinic_id"] == palu.id and row["clinic_chosen_at"] is not None


async def test_only_a_mother_chooses_a_clinic(driver):
    bener, _ = await two_clinics(driver)
    ani = await new_midwife(driver, bener, 4913, "Bidan Ani")
    await ani.press_data(ani.last, "menu:clinic_choice")
    await ani.press_data(ani.last, f"clc:{bener.id}")
    assert any("dipilih oleh ibu" in (a.get("text") or "") for a in ani.callback_answers())


# ----------------------------------------------------------------- birth time
async def test_birth_time_buttons_and_typed_time(driver):
    db = driver.app.services.db
    # born yesterday, in the evening
    await register_mother(driver, 4010, "Sari", birth_time="Malam")
    assert await db.fetchval("SELECT birth_time FROM mother WHERE user_id = 4010") == "evening"
    # born today (it is 10:00 WIB, 12:00 WIT): a later time or part of the day is refused
    ayu = driver.user(4011, "Ayu")
    await ayu.send("/start")
    await ayu.press("ob:consent:yes")
    await ayu.press("ob:role:mother")
    await ayu.send("Ayu")
    replies = await ayu.press("Hari ini")
    assert "Jam berapa" in replies[-1].body
    replies = await ayu.send("jam dua")
    assert "belum bisa saya baca" in replies[0].body
    replies = await ayu.send("25:00")
    assert "belum bisa saya baca" in replies[0].body
    replies = await ayu.send("23:30")
    assert "belum lewat hari ini" in replies[0].body and "Jam berapa" in replies[-1].body
    replies = await ayu.press("ob:bt:evening")
    assert "belum lewat hari ini" in texts(replies)
    replies = await ayu.send("05.45")
    assert "anak pertama" in replies[-1].body
    await ayu.press("ob:first:no")
    await ayu.press("ob:tz:WIB")
    assert await db.fetchval("SELECT birth_time FROM mother WHERE user_id = 4011") == "05:45"
    # "Tidak tahu" stores nothing
    await register_mother(driver, 4012, "Rina")
    assert await db.fetchval("SELECT birth_time FROM mother WHERE user_id = 4012") is None


# ----------------------------------------------------------------- /bantuan
async def test_help_shows_the_clinic_numbers_tappable(driver):
    bener, palu = await two_clinics(driver)
    sari = await mother_in(driver, bener, 4020, "Sari")
    replies = await sari.send("/bantuan")
    help_text = replies[0].body
    assert "📞 Puskesmas Bener: +62 274 123456" in help_text
    assert "WhatsApp Puskesmas Bener: +62 812 3456 789" in help_text
    assert "112" in help_text and "119" in help_text
    # a companion of two mothers sees each one's clinic
    budi = await add_companion(driver, sari, 4021, "Budi")
    dewi = await mother_in(driver, palu, 4022, "Dewi")
    await add_companion(driver, dewi, 4021, "Budi")
    replies = await budi.send("/bantuan")
    help_text = replies[0].body
    assert "Untuk Ibu Sari" in help_text and "+62 274 123456" in help_text
    assert "Untuk Ibu Dewi" in help_text and "Nomor telepon Puskesmas Palu Barat belum tercatat" in help_text
    assert help_text.count("119") == 2
    # English
    await sari.send("/bahasa")
    await sari.press("lang:en")
    replies = await sari.send("/help")
    assert "Numbers to call:" in replies[0].body and "+62 274 123456" in replies[0].body
