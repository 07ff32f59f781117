"""Her own voice (issue 11.3) end to end through the loopback Bot API: a midwife records a voice
note for a step of the guide (/suara); the mothers of her clinic, and their companions, hear it
right after that step's picture; other clinics' mothers do not."""
from __future__ import annotations

from datetime import timedelta

from db.queries import clinics, privacy
from test_guide import open_guide, pass_safety
from test_reports import add_companion, make_clinic, mother_in, new_midwife, rows

STEP4 = "fists"     # the id of step 4 in guide.yaml
STEPS = 7


def voices_sent(driver, chat_id: int, method: str = "sendVoice") -> list[dict]:
    return [params for name, params in driver.server.requests if name == method and int(params["chat_id"]) == chat_id]


def titles(driver, lang="id") -> list[str]:
    return [step["title"] for step in driver.app.services.texts.data(lang, "guide.steps")]


async def record(midwife, step: str, kind: str = "voice"):
    """/suara, pick the step, send a voice note (or an audio file); what the bot answered to it."""
    await midwife.send("/suara")
    await midwife.press(f"vc:pick:{step}")
    return await midwife.send_media(kind)


async def show_step(person, mother_id: int, index: int):
    """The guide's step `index` (0-based), as its back / next / repeat buttons ask for it."""
    message = next(m for m in reversed(person.messages()) if m.buttons)
    return await person.press_data(message, f"gd:st:{mother_id}:{index}")


async def walk_guide(driver, person, mother_id: int) -> dict[int, list[dict]]:
    """Every step in turn: the sendVoice requests to this person's chat, by step index."""
    heard = {}
    for index in range(STEPS):
        before = len(voices_sent(driver, person.user_id))
        replies = await show_step(person, mother_id, index)
        assert replies[0].kind in ("photo", "animation")
        heard[index] = voices_sent(driver, person.user_id)[before:]
    return heard


async def ready(driver, clinic, user_id, name="Sari"):
    """A mother of this clinic who passed the safety check and sees the guide's menu."""
    mother = await mother_in(driver, clinic, user_id, name)
    await open_guide(mother)
    await pass_safety(mother)
    return mother


# ----------------------------------------------------------------- recording and hearing it
async def test_midwife_records_step_4_and_only_mothers_of_her_clinic_hear_it(driver):
    bener, _ = await make_clinic(driver, "Puskesmas Bener")
    palu, _ = await make_clinic(driver, "Puskesmas Palu")
    ani = await new_midwife(driver, bener, 5001, "Bidan Ani")

    replies = await ani.send("/suara")
    listing = replies[-1]
    assert "Puskesmas Bener" in listing.body
    for title in titles(driver):
        assert f"▫️ {title}" in listing.body
    assert "Tanda bahaya" in listing.body
    assert [b["callback_data"] for b in listing.buttons] == [
        f"vc:pick:{s['id']}" for s in driver.app.services.texts.data("id", "guide.steps")] + ["vc:pick:danger"]

    replies = await ani.press(f"vc:pick:{STEP4}")
    assert titles(driver)[3] in replies[-1].body and "/batal" in replies[-1].body
    replies = await ani.send_media("voice")
    sent_by_her = [m for m in driver.server.chat(5001) if not m.from_bot and m.kind == "voice"]
    file_id = sent_by_her[-1].file_id
    # played back as the mothers will hear it, then confirmed
    assert replies[0].kind == "voice" and replies[0].file_id == file_id
    assert replies[0].caption == "🎙 Suara Bidan Ani"
    assert "Tersimpan" in replies[-1].body and "Puskesmas Bener" in replies[-1].body
    stored = await rows(driver, "SELECT clinic_id, step, kind, file_id, recorded_by, recorded_at FROM clinic_voice")
    assert stored == [{"clinic_id": bener.id, "step": STEP4, "kind": "voice", "file_id": file_id,
                       "recorded_by": 5001, "recorded_at": "2026-11-30T03:00:00Z"}]

    # the list now shows who recorded step 4, and when
    replies = await ani.send("/suara")
    assert f"🎙 {titles(driver)[3]} (Bidan Ani, 30/11/2026)" in replies[-1].body
    assert f"▫️ {titles(driver)[2]}" in replies[-1].body

    # a mother of her clinic: the voice right after step 4's picture, not with step 3
    sari = await ready(driver, bener, 1001, "Sari")
    heard = await walk_guide(driver, sari, 1001)
    assert [len(heard[i]) for i in range(STEPS)] == [0, 0, 0, 1, 0, 0, 0]
    assert heard[3][0]["voice"] == file_id and heard[3][0]["caption"] == "🎙 Suara Bidan Ani"
    step4 = next(i for i, m in enumerate(sari.messages()) if m.kind in ("photo", "animation") and m.caption.startswith(titles(driver)[3]))
    assert sari.messages()[step4 + 1].kind == "voice" and sari.messages()[step4 + 1].file_id == file_id

    # her companion, who massages her, hears it too
    budi = await add_companion(driver, sari, 2001, "Budi")
    await open_guide(budi)
    before = len(voices_sent(driver, 2001))
    await show_step(budi, 1001, 3)
    assert [p["voice"] for p in voices_sent(driver, 2001)[before:]] == [file_id]

    # a mother of another clinic hears nothing
    dewi = await ready(driver, palu, 1002, "Dewi")
    heard = await walk_guide(driver, dewi, 1002)
    assert all(not sent for sent in heard.values())
    assert not voices_sent(driver, 1002) and not voices_sent(driver, 1002, "sendAudio")


async def test_replace_and_remove(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001, "Bidan Ani")
    rina = await new_midwife(driver, bener, 5002, "Rina")
    await record(ani, STEP4)
    first = (await rows(driver, "SELECT file_id FROM clinic_voice"))[0]["file_id"]

    # another midwife of the clinic replaces it: the current voice is played first
    await rina.send("/suara")
    replies = await rina.press(f"vc:pick:{STEP4}")
    assert replies[0].kind == "voice" and replies[0].file_id == first
    assert "Bidan Ani" in replies[-1].body and "menggantikannya" in replies[-1].body
    replies = await rina.send_media("voice")
    assert "diganti" in replies[-1].body
    assert replies[0].caption == "🎙 Suara Bidan Rina"
    second = (await rows(driver, "SELECT file_id, recorded_by FROM clinic_voice"))
    assert len(second) == 1 and second[0]["recorded_by"] == 5002 and second[0]["file_id"] != first

    # "Rekam ulang" asks for a voice again
    replies = await rina.press("Rekam ulang")
    assert "rekam pesan suara" in replies[-1].body.lower()
    await rina.send("/batal")

    sari = await ready(driver, bener, 1001)
    await show_step(sari, 1001, 3)
    assert [p["voice"] for p in voices_sent(driver, 1001)] == [second[0]["file_id"]]

    # removed with the button: mothers see the step without a voice
    replies = await rina.press("Hapus suara")
    assert "dihapus" in replies[-1].body
    assert await rows(driver, "SELECT * FROM clinic_voice") == []
    await show_step(sari, 1001, 3)
    assert len(voices_sent(driver, 1001)) == 1
    replies = await ani.send("/suara")
    assert f"▫️ {titles(driver)[3]}" in replies[-1].body


async def test_an_audio_file_is_accepted_and_sent_as_audio(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    replies = await record(ani, "prepare", kind="audio")
    assert replies[0].kind == "audio" and "Tersimpan" in replies[-1].body
    assert (await rows(driver, "SELECT kind FROM clinic_voice"))[0]["kind"] == "audio"
    sari = await ready(driver, bener, 1001)
    await show_step(sari, 1001, 0)
    assert len(voices_sent(driver, 1001, "sendAudio")) == 1 and not voices_sent(driver, 1001)


async def test_the_danger_screen_has_its_voice(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    await record(ani, "danger")
    sari = await mother_in(driver, bener, 1001)
    replies = await sari.press("menu:danger")
    kinds = [m.kind for m in replies]
    assert kinds[:2] == ["text", "voice"] and "TANDA BAHAYA" in replies[0].body


# ----------------------------------------------------------------- what is refused
async def test_anything_but_a_voice_is_answered_and_cancel_leaves(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    await ani.send("/suara")
    await ani.press(f"vc:pick:{STEP4}")
    for attempt in (ani.send("halo"), ani.send_media("photo"), ani.send_other("sticker")):
        replies = await attempt
        assert len(replies) == 1 and "pesan suara" in replies[0].body and titles(driver)[3] in replies[0].body
    assert await rows(driver, "SELECT * FROM clinic_voice") == []
    replies = await ani.send("/batal")
    assert "dibatalkan" in replies[0].body
    await ani.send_media("voice")  # no longer awaited: nothing is stored
    assert await rows(driver, "SELECT * FROM clinic_voice") == []


async def test_an_old_choice_no_longer_catches_a_voice(driver, clock):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    await ani.send("/suara")
    await ani.press(f"vc:pick:{STEP4}")
    clock.advance(timedelta(hours=2))
    replies = await ani.send_media("voice")
    assert "kedaluwarsa" in replies[-1].body
    assert await rows(driver, "SELECT * FROM clinic_voice") == []


async def test_only_midwives_may_use_it(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    await record(ani, STEP4)
    sari = await mother_in(driver, bener, 1001)
    only = driver.app.services.texts.t("id", "midwife.only_midwives")
    replies = await sari.send("/suara")
    assert [m.body for m in replies] == [only]
    # forged buttons change nothing
    for data in (f"vc:rm:{STEP4}", f"vc:pick:{STEP4}"):
        replies = await sari.press_data(sari.last, data)
        assert replies[-1].body == only
    assert len(await rows(driver, "SELECT * FROM clinic_voice")) == 1
    # a midwife's forged step is refused too
    replies = await ani.press_data(ani.last, "vc:pick:nonsense")
    assert replies[-1].body == driver.app.services.texts.t("id", "midwife.not_found")


# ----------------------------------------------------------------- restarts and leaving
async def test_the_choice_survives_a_restart(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001)
    await ani.send("/suara")
    await ani.press(f"vc:pick:{STEP4}")
    await driver.restart()
    replies = await ani.send_media("voice")
    assert "Tersimpan" in replies[-1].body
    assert (await rows(driver, "SELECT step FROM clinic_voice"))[0]["step"] == STEP4


async def test_the_voice_stays_with_the_clinic_when_she_leaves(driver):
    bener, _ = await make_clinic(driver)
    ani = await new_midwife(driver, bener, 5001, "Bidan Ani")
    rina = await new_midwife(driver, bener, 5002, "Rina")
    await record(ani, STEP4)
    await record(rina, "prepare")
    # what she recorded is part of what we hold about her (/saya), until she leaves
    held = await privacy.collect(driver.app.services.db, 5001)
    assert [row["step"] for row in held["clinic_voice"]] == [STEP4]
    await ani.send("/hapus")
    await ani.press("del:yes")
    assert await rows(driver, "SELECT step, recorded_by FROM clinic_voice ORDER BY step") == [
        {"step": STEP4, "recorded_by": None}, {"step": "prepare", "recorded_by": 5002}]
    # removed by the administrator (the command line): her id goes the same way
    assert await clinics.remove_midwife(driver.app.services.db, 5002)
    assert await rows(driver, "SELECT recorded_by FROM clinic_voice WHERE recorded_by IS NOT NULL") == []

    sari = await ready(driver, bener, 1001)
    await show_step(sari, 1001, 3)
    assert voices_sent(driver, 1001)[-1]["caption"] == "🎙 Suara bidan Puskesmas Bener"
