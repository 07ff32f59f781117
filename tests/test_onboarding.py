"""Onboarding end to end through the loopback Bot API."""
from __future__ import annotations

import pytest

from db.queries import clinics


async def register_mother(driver, user_id=1001, name="Sari", when="Kemarin", zone="WITA", start="/start",
                          birth_time=None, clinic_choice=None):
    """Play a mother's registration. `birth_time`: a button (`ob:bt:morning`, a label) or a typed
    time ("05:30"); None answers "Tidak tahu". `clinic_choice`: text to search her Puskesmas by
    (the first match is picked) when she is asked; None answers "Saya belum tahu"."""
    sari = driver.user(user_id, name)
    await sari.send(start)
    await sari.press("ob:consent:yes")
    await sari.press("ob:role:mother")
    await sari.send(name)
    await sari.press(when)
    if birth_time is None:
        await sari.press("ob:bt:unknown")
    elif birth_time[:1].isdigit():
        await sari.send(birth_time)
    else:
        await sari.press(birth_time)
    await sari.press("ob:first:yes")
    replies = await sari.press(f"ob:tz:{zone}")
    if any(b["callback_data"] == "ob:cl:none" for m in replies for b in m.buttons):
        if clinic_choice is None:
            await sari.press("ob:cl:none")
        else:
            replies = await sari.send(clinic_choice)
            pick = next(b for m in replies for b in m.buttons if b["callback_data"] != "ob:cl:none")
            await sari.press(pick["callback_data"])
    return sari


async def skip_baseline(person, replies):
    """Press "Lewati" on the question asked before her first massage ("how is the milk now?"),
    if it was asked among `replies`; returns what came after it (else `replies` unchanged)."""
    for message in reversed(replies):
        for button in message.buttons:
            data = button["callback_data"]
            if data.split(":")[1:2] == ["bl"] and data.endswith(":skip"):
                return await person.press_data(message, data)
    return replies


async def test_mother_onboarding(driver):
    sari = driver.user(1001, "Sari")
    replies = await sari.send("/start")
    assert "Sahabat Nifas" in replies[0].body
    assert "Belum ada data" in replies[-1].body
    # nothing stored before consent
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM app_user") == 0
    await sari.press("Saya setuju")
    await sari.press("Saya ibu")
    await sari.send("Sari")
    await sari.press("Kemarin")
    await sari.press("Tidak tahu")
    await sari.press("ob:first:yes")
    replies = await sari.press("WITA")
    texts = "\n".join(m.body for m in replies)
    assert "Pendaftaran selesai" in texts
    assert "Belum ada bidan Puskesmas yang mendampingi Ibu" in texts  # no clinic exists: not asked
    assert "https://t.me/SahabatNifasBot?start=c_" in texts
    row = await driver.app.services.db.fetchone("SELECT * FROM mother WHERE user_id = 1001")
    assert row["display_name"] == "Sari"
    assert row["delivery_date"] == "2026-11-29"
    assert row["timezone"] == "Asia/Makassar"
    assert row["first_child"] == 1
    assert row["birth_time"] is None and row["clinic_id"] is None and row["clinic_chosen_at"] is None


@pytest.mark.parametrize("typed, answer", [
    ("kemarin sore", "belum bisa saya baca"),
    ("31-02-2026", "tidak ada di kalender"),
    ("01/12/2026", "belum terjadi"),
    ("01-10-2026", "lebih dari 42 hari"),
])
async def test_bad_dates_are_explained_and_asked_again(driver, typed, answer):
    sari = driver.user(1002, "Sari")
    await sari.send("/start")
    await sari.press("ob:consent:yes")
    await sari.press("ob:role:mother")
    await sari.send("Sari")
    replies = await sari.send(typed)
    assert answer in replies[0].body
    assert any(b["callback_data"] == "ob:dd:0" for b in replies[-1].buttons)
    replies = await sari.send("28/11/2026")
    assert "Jam berapa" in replies[-1].body


async def test_garbage_at_every_step_gets_an_answer(driver):
    sari = driver.user(1003, "Sari")
    await sari.send("/start")
    for step in ["ob:consent:yes", "ob:role:mother", None, "ob:dd:0", "ob:bt:night", "ob:first:no", "ob:tz:WIB"]:
        for junk in ("halo?", "/foo"):
            replies = await sari.send(junk)
            assert replies, f"no answer to {junk!r} before {step}"
        replies = await sari.send_other("sticker")
        assert replies
        if step is None:
            await sari.send("Sari")
        else:
            await sari.press(step)
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM mother") == 1


async def test_decline_stores_nothing(driver):
    ani = driver.user(1004, "Ani")
    await ani.send("/start")
    replies = await ani.press("ob:consent:no")
    assert "Tidak ada data" in replies[-1].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM app_user") == 0


async def test_english_client_gets_english(driver):
    amy = driver.user(1005, "Amy", language_code="en-GB")
    replies = await amy.send("/start")
    assert "Nothing is stored" in replies[-1].body


async def test_restart_in_the_middle_of_onboarding(driver):
    sari = driver.user(1006, "Sari")
    await sari.send("/start")
    await sari.press("ob:consent:yes")
    await sari.press("ob:role:mother")
    await sari.send("Sari")
    await driver.restart(graceful=False)
    replies = await sari.press("ob:dd:1")
    assert "Jam berapa" in replies[-1].body
    await driver.restart(graceful=False)
    replies = await sari.press("ob:bt:evening")
    assert "anak pertama" in replies[-1].body
    await sari.press("ob:first:yes")
    await sari.press("ob:tz:WIT")
    row = await driver.app.services.db.fetchone(
        "SELECT display_name, timezone, birth_time FROM mother WHERE user_id = 1006")
    assert tuple(row) == ("Sari", "Asia/Jayapura", "evening")


async def test_clinic_link_puts_mother_in_clinic(driver):
    db = driver.app.services.db
    clinic, _ = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", "2026-11-30T00:00:00Z")
    await register_mother(driver, 1007, start=f"/start m_{clinic.mother_code}")
    row = await db.fetchone("SELECT clinic_id, clinic_chosen_at FROM mother WHERE user_id = 1007")
    assert row["clinic_id"] == clinic.id and row["clinic_chosen_at"]
