"""Companions, midwives, /saya, /hapus, /batal, /bahasa and unexpected input, end to end."""
from __future__ import annotations

from db.queries import clinics
from tests.test_onboarding import register_mother


async def link_companion(driver, mother, user_id=2001, name="Budi", relation="husband"):
    invite = next(m.body for m in reversed(mother.messages()) if "start=c_" in m.body)
    budi = driver.user(user_id, name)
    await budi.open_link(invite)
    await budi.press("ob:consent:yes")
    await budi.press(f"ob:rel:{relation}")
    return budi


async def test_companion_joins_by_link_and_leaves(driver):
    db = driver.app.services.db
    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    assert "pendamping Ibu Sari" in budi.messages()[-2].body
    assert "Budi sekarang menjadi pendamping" in sari.last.body
    assert await db.fetchval("SELECT relation FROM companion_link WHERE companion_id = 2001") == "husband"

    await budi.press("menu:my_mothers")
    overview = budi.last
    await budi.press("Berhenti mendampingi")
    assert "berhenti mendampingi Ibu Sari" in budi.last.body and not budi.last.buttons
    assert "Budi berhenti menjadi pendamping" in sari.last.body
    assert await db.fetchval("SELECT COUNT(*) FROM companion_link") == 0
    # the same button again (from an old copy of the message): no crash, a clear answer
    await budi.press_data(overview, "cmp:leave:1001")
    assert budi.callback_answers()[-1]["text"] == "Tombol ini sudah tidak berlaku."


async def test_mother_has_several_companions_and_revokes_her_link(driver):
    sari = await register_mother(driver, 1001, "Sari")
    old_invite = next(m.body for m in sari.messages() if "start=c_" in m.body)
    await link_companion(driver, sari, 2001, "Budi")
    await link_companion(driver, sari, 2002, "Nenek", "family")
    await sari.press("menu:companions")
    assert "Budi (Suami)" in sari.messages()[-3].body and "Nenek (Keluarga)" in sari.messages()[-3].body
    replies = await sari.press("cmp:renew")
    assert "tidak berlaku" in replies[0].body
    new_invite = replies[1].body
    assert new_invite != old_invite
    late = driver.user(2003, "Tetangga")
    replies = await late.open_link(old_invite)
    assert "tidak berlaku lagi" in replies[0].body
    await late.press("ob:consent:yes")  # goes on as a normal new user
    assert any(b["callback_data"] == "ob:role:mother" for b in late.last.buttons)


async def test_mother_removes_a_companion(driver):
    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    await sari.press("menu:companions")
    await sari.press("Lepaskan Budi")
    assert "melepaskan Anda" in budi.last.body


async def test_midwife_joins_by_one_time_code(driver):
    db = driver.app.services.db
    clinic, code = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", "2026-11-30T00:00:00Z")
    rina = driver.user(3001, "Rina")
    await rina.send(f"/start w_{code}")
    replies = await rina.press("ob:consent:yes")
    assert "Puskesmas Bener" in replies[-2].body
    assert await clinics.midwife_clinic(db, 3001) == clinic.id
    # her own chat lists the midwife commands
    assert [c["command"] for c in driver.server.commands["3001"]][:4] == ["menu", "hubungi", "ringkasan", "ibu"]
    # the code works once only
    other = driver.user(3002, "Dewi")
    await other.send(f"/start w_{code}")
    replies = await other.press("ob:consent:yes")
    assert "tidak berlaku" in replies[0].body
    assert await clinics.midwife_clinic(db, 3002) is None


async def test_mydata_shows_everything_and_delete_removes_it(driver):
    db = driver.app.services.db
    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    replies = await sari.send("/saya")
    text = "\n".join(m.body for m in replies)
    assert "Nama: Sari" in text and "Budi (Suami)" in text and "Peran: Ibu" in text
    assert "pseudonym" not in text and "husband" not in text and "2001" not in text

    await sari.send("/hapus")
    replies = await sari.press("del:yes")
    assert "sudah dihapus" in replies[-1].body
    for table, column in [("app_user", "telegram_id"), ("mother", "user_id"), ("companion_invite", "mother_id"),
                          ("companion_link", "mother_id"), ("user_draft", "user_id")]:
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE {column} = 1001") == 0, table
    assert "menghapus datanya" in budi.last.body
    # the companion keeps her own account
    assert await db.fetchval("SELECT role FROM app_user WHERE telegram_id = 2001") == "companion"
    replies = await sari.send("/saya")
    assert "tidak menyimpan data" in replies[0].body


async def test_delete_can_be_declined(driver):
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/delete")
    await sari.press("del:no")
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM mother") == 1


async def test_cancel_inside_and_outside_a_flow(driver):
    sari = driver.user(1001, "Sari")
    await sari.send("/start")
    await sari.press("ob:consent:yes")
    await sari.press("ob:role:mother")
    replies = await sari.send("/batal")
    assert "dibatalkan" in replies[0].body
    # the flow is really left: a name now is just text
    replies = await sari.send("Sari")
    assert "belum mengerti" in replies[0].body
    replies = await sari.send("/cancel")
    assert "Tidak ada yang sedang berjalan" in replies[0].body


async def test_language_switch(driver):
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/bahasa")
    replies = await sari.press("lang:en")
    assert "Language changed to English" in replies[0].body
    replies = await sari.send("/help")
    assert "What you can do" in replies[0].body
    assert await driver.app.services.db.fetchval("SELECT language FROM app_user WHERE telegram_id = 1001") == "en"


async def test_commands_registered_per_language(driver):
    indonesian = [c["command"] for c in driver.server.commands["id"]]
    english = [c["command"] for c in driver.server.commands["en"]]
    assert {"menu", "bantuan", "saya", "hapus", "batal", "bahasa", "pijat", "kuis", "lapor"} <= set(indonesian)
    assert {"menu", "help", "mydata", "delete", "cancel", "language", "massage", "quiz", "report"} <= set(english)
    assert driver.server.commands[""] == driver.server.commands["id"]
    assert "pijat" in [c["command"] for c in driver.server.commands["id"]]


async def test_old_button_after_restart_gets_a_clear_answer(driver):
    sari = await register_mother(driver, 1001, "Sari")
    old_menu = sari.last
    await driver.restart()
    replies = await sari.press_data(old_menu, "xx:gone:42")
    assert "sudah tidak berlaku" in replies[-2].body
    replies = await sari.press_data(old_menu, "menu:mydata")  # still valid after a restart
    assert "Nama: Sari" in replies[0].body


async def test_unexpected_input_gets_an_answer(driver):
    sari = await register_mother(driver, 1001, "Sari")
    for kind in ("sticker", "photo", "location", "voice"):
        replies = await sari.send_other(kind)
        assert replies and "menu" in replies[0].body.lower()
    replies = await sari.send("/tidakada")
    assert "tidak saya kenal" in replies[0].body
    replies = await sari.send("x" * 4000)
    assert "belum mengerti" in replies[0].body


async def test_errors_get_an_apology_not_silence(driver, monkeypatch):
    import flows.account

    async def boom(*args, **kwargs):
        raise RuntimeError("database on fire")

    sari = await register_mother(driver, 1001, "Sari")
    monkeypatch.setattr(flows.account.privacy, "collect", boom)
    replies = await sari.send("/saya")
    assert "Maaf, ada gangguan" in replies[-1].body


async def test_blocked_user_does_not_break_the_bot(driver):
    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    driver.server.block(1001)
    await budi.press("menu:my_mothers")
    await budi.press("Berhenti mendampingi")
    assert "berhenti mendampingi" in budi.last.body  # answered even though the mother can't be told
    assert await driver.app.services.db.fetchval("SELECT active FROM app_user WHERE telegram_id = 1001") == 0


async def test_a_passing_server_error_is_retried_not_lost(driver):
    from loopback import Fault

    sari = await register_mother(driver, 1001, "Sari")
    driver.server.faults.append(Fault(code=502, method="sendMessage", times=1))
    replies = await sari.send("/menu")
    assert replies and "Menu Sahabat Nifas" in replies[-1].body
    assert ("sendMessage", 502, "Injected error 502") in driver.server.refusals
