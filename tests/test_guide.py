"""The massage guide end to end: safety check, steps with pictures, danger screen, restarts."""
from __future__ import annotations

from datetime import timedelta

from usecases.contacts import contact_block
from flows.guide import danger_text
from tests.test_onboarding import register_mother, skip_baseline

SAFETY_QUESTIONS = 8


def texts(driver):
    return driver.app.services.texts


def no_clinic_screen(driver, lang="id"):
    """The danger screen as a mother without a Puskesmas sees it."""
    return danger_text(texts(driver), lang, contact_block(texts(driver), lang, None))


async def open_guide(person, skip_pretest=True):
    """/pijat; the first time the pre-test is offered, and skipped here."""
    replies = await person.send("/pijat")
    if skip_pretest and any(b["callback_data"] == "gd:skip" for m in replies for b in m.buttons):
        replies = await person.press("gd:skip")
    return replies


async def pass_safety(person):
    for _ in range(SAFETY_QUESTIONS):
        replies = await person.press("Tidak")
    return replies


async def ready_mother(driver, user_id=1001, name="Sari"):
    """A registered mother who passed the safety check and sees the guide's menu."""
    sari = await register_mother(driver, user_id, name)
    await open_guide(sari)
    await pass_safety(sari)
    return sari


def media_requests(driver):
    return [(method, params) for method, params in driver.server.requests
            if method in ("sendPhoto", "sendAnimation")]


def uploaded(params: dict) -> bool:
    value = params.get("photo", params.get("animation"))
    return isinstance(value, tuple)


# ----------------------------------------------------------------- safety
async def test_safety_yes_stops_and_danger_sign_shows_danger_screen(driver):
    db = driver.app.services.db
    sari = await register_mother(driver, 1001, "Sari")
    replies = await sari.send("/pijat")
    assert "14 pertanyaan" in replies[-1].body  # the pre-test is offered first, once
    replies = await sari.press("gd:skip")
    assert "Cek keamanan" in replies[0].body
    assert "Pertanyaan 1 dari 8" in replies[-1].body
    await sari.press("Tidak")                      # no danger signs
    await sari.press("Tidak")                      # no fever
    replies = await sari.press("Ya")               # wounds on the back: a caution, not a danger sign
    skin = texts(driver).data("id", "safety.questions")[2]
    assert skin["id"] == "back_skin"
    assert replies[0].body == skin["if_yes"]
    assert "ditunda" in replies[-1].body
    assert not any(b for m in replies for b in m.buttons)  # nothing more to press: the check stopped
    assert await db.fetchval("SELECT outcome FROM safety_check WHERE mother_id = 1001") == "back_skin"
    assert await db.fetchval("SELECT COUNT(*) FROM alert") == 0

    # not passed, so asked again; the pre-test offer is not repeated
    replies = await sari.send("/pijat")
    assert "Pertanyaan 1 dari 8" in replies[-1].body
    replies = await sari.press("Ya")               # danger signs now: an urgent alert, she is on hold
    bodies = [m.body for m in replies]
    assert no_clinic_screen(driver) in bodies
    assert any("112" in b and "119" in b for b in bodies)
    assert "dihentikan dulu sampai Ibu Sari diperiksa" in bodies[-1]
    rows = await db.fetchall("SELECT outcome FROM safety_check WHERE mother_id = 1001 ORDER BY id")
    assert [r[0] for r in rows] == ["back_skin", "danger_signs"]
    alert = await db.fetchone("SELECT cause, detail, urgency, raised_by, closed_at FROM alert")
    assert tuple(alert) == ("danger_sign", "safety_check", "urgent", 1001, None)
    assert await db.fetchval("SELECT COUNT(*) FROM massage_session") == 0

    # on hold: the guide's steps can be read, the timer says why not; "Sudah diperiksa" ends it
    replies = await sari.send("/pijat")
    assert "Pertanyaan" not in replies[-1].body and "dihentikan dulu" in replies[-1].body
    replies = await sari.press("gd:tm:1001")
    assert "Pijat ditunda dulu" in replies[0].body and "112" in replies[0].body
    replies = await sari.press("Sudah diperiksa")
    assert "bisa dilanjutkan" in replies[0].body
    assert await db.fetchval("SELECT closed_how FROM alert") == "seen"

    # a third try, all "no": passed, with the time, and the guide's menu follows
    await sari.send("/pijat")
    replies = await pass_safety(sari)
    assert "Tidak ada tanda" in replies[-2].body and "operasi sesar" in replies[-2].body
    assert any(b["callback_data"] == "gd:tm:1001" for b in replies[-1].buttons)
    passed = await db.fetchone("SELECT checked_by, finished_at, kind FROM safety_check WHERE outcome = 'passed'")
    assert tuple(passed) == (1001, "2026-11-30T03:00:00Z", "full")
    # next time straight to the guide's menu
    replies = await sari.send("/pijat")
    assert len(replies) == 1 and any(b["callback_data"] == "gd:st:1001:0" for b in replies[0].buttons)


async def test_double_tap_and_old_safety_buttons_change_nothing(driver):
    db = driver.app.services.db
    sari = await register_mother(driver, 1001, "Sari")
    await open_guide(sari)
    first_question = sari.last
    data = next(b["callback_data"] for b in first_question.buttons if b["text"] == "Tidak")
    await sari.press("Tidak")
    before = len(sari.messages())
    # the same "no" again (a double tap delivers the old message once more)
    assert await sari.press_data(first_question, data) == []
    assert len(sari.messages()) == before
    assert await db.fetchval("SELECT next_question FROM safety_check") == 1
    # a forged check id and a check of another mother's: a short answer, nothing else
    await sari.press_data(first_question, "gd:sf:999:0:n")
    assert sari.callback_answers()[-1]["text"] == "Tombol ini sudah tidak berlaku."


async def test_danger_screen_always_in_the_menu(driver):
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/menu")
    replies = await sari.press("menu:danger")
    assert replies[0].body == no_clinic_screen(driver)
    assert "Puskesmas" in replies[0].body
    assert [b["callback_data"] for b in replies[0].buttons] == ["gd:now:1001"]
    # and from the guide's menu, in English for an English speaker
    amy = await register_mother(driver, 1002, "Amy")
    await amy.send("/bahasa")
    await amy.press("lang:en")
    await open_guide(amy)
    await pass_safety_en(amy)
    replies = await amy.press("gd:info:danger")
    assert replies[0].body == no_clinic_screen(driver, "en")


async def pass_safety_en(person):
    for _ in range(SAFETY_QUESTIONS):
        await person.press("No")


# ----------------------------------------------------------------- steps and pictures
async def test_whole_guide_forward_and_back_pictures_uploaded_once(driver):
    db = driver.app.services.db
    steps = texts(driver).data("id", "guide.steps")
    sari = await ready_mother(driver)
    replies = await sari.press("gd:st:1001:0")
    assert replies[0].kind == "photo" and replies[0].body.startswith(steps[0]["title"])
    seen = [replies[0]]
    for index in range(1, len(steps)):
        replies = await sari.press("Lanjut")
        assert len(replies) == 1
        seen.append(replies[0])
    assert [m.body for m in seen] == [f"{s['title']}\n\n{s['text']}" for s in steps]
    assert [m.kind for m in seen] == ["animation" if s["image"].endswith(".gif") else "photo" for s in steps]
    # only the newest step keeps its buttons; the last offers the timer instead of "next"
    assert all(not m.buttons for m in seen[:-1])
    assert any(b["callback_data"] == "gd:tm:1001" for b in seen[-1].buttons)
    assert not any("Lanjut" in b["text"] for b in seen[-1].buttons)
    # back twice, repeat once
    replies = await sari.press("Kembali")
    assert replies[0].body == seen[-2].body
    replies = await sari.press("Kembali")
    assert replies[0].body == seen[-3].body
    replies = await sari.press("Ulangi")
    assert replies[0].body == seen[-3].body and replies[0].file_id == seen[-3].file_id
    # each picture was uploaded once; everything after went by file id
    sent = media_requests(driver)
    uploads = [p for _, p in sent if uploaded(p)]
    assert len(uploads) == len({s["image"] for s in steps}) == 7
    assert len(sent) == 10
    assert await db.fetchval("SELECT COUNT(*) FROM media_cache") == 7
    assert await db.fetchval("SELECT steps_finished_at FROM guide_progress WHERE user_id = 1001")

    # a second run, by someone else: no upload at all, file id strings only
    ani = await ready_mother(driver, 1002, "Ani")
    await ani.press("gd:st:1002:0")
    for _ in range(len(steps) - 1):
        await ani.press("Lanjut")
    second = media_requests(driver)[len(sent):]
    assert len(second) == 7
    assert all(isinstance(p.get("photo", p.get("animation")), str) for _, p in second)
    assert [m.file_id for m in ani.messages() if m.kind != "text"] == [m.file_id for m in seen]
    # close: the guide's menu comes back
    replies = await ani.press("gd:x:1002")
    assert "ditutup" in replies[0].body


async def test_restart_in_the_middle_of_the_guide(driver):
    sari = await ready_mother(driver)
    await sari.press("gd:st:1001:0")
    await sari.press("Lanjut")
    await sari.press("Lanjut")
    step3 = sari.last
    await driver.restart(graceful=False)
    replies = await sari.press("Lanjut")
    assert replies[0].body.startswith("4.")
    await driver.restart(graceful=True)
    replies = await sari.press("Kembali")
    assert replies[0].body == step3.body
    # file ids survived both restarts: nothing was uploaded twice
    uploads = [p for _, p in media_requests(driver) if uploaded(p)]
    assert len(uploads) == 4  # steps 1-4, each once
    # step 3's buttons were used before the restart: pressed again, nothing is sent twice
    before = len(sari.messages())
    assert await sari.press_data(step3, "gd:st:1001:3") == []
    assert len(sari.messages()) == before


async def test_pages_why_and_enough_milk(driver):
    sari = await ready_mother(driver)
    hub = sari.last
    replies = await sari.press("gd:info:why")
    assert replies[0].body.startswith(texts(driver).data("id", "why.title"))
    replies = await sari.press("gd:info:milk")
    assert "popok basah" in replies[0].body.lower()
    assert hub.buttons, "the guide's menu keeps its buttons"


async def test_forged_and_foreign_buttons(driver):
    sari = await ready_mother(driver)
    await register_mother(driver, 1002, "Ani")
    hub = sari.last
    for data in ("gd:st:1002:0", "gd:tm:1002", "gd:go:1002:10", "gd:go:1001:12", "gd:st:1001:99", "gd:m:1002"):
        replies = await sari.press_data(hub, data)
        assert replies == [], data
        assert sari.callback_answers()[-1]["text"] == "Tombol ini sudah tidak berlaku."


async def test_who_may_open_the_guide(driver):
    stranger = driver.user(4001, "Tamu")
    replies = await stranger.send("/massage")
    assert "/start" in replies[0].body
    replies = await stranger.send("/kuis")
    assert "/start" in replies[0].body


async def test_a_midwife_can_read_the_guide_without_a_timer(driver):
    from db.queries import clinics

    _, code = await clinics.create_clinic(driver.app.services.db, "Puskesmas", "Asia/Jakarta", "2026-11-30T00:00:00Z")
    rina = driver.user(3001, "Rina")
    await rina.send(f"/start w_{code}")
    await rina.press("ob:consent:yes")
    replies = await rina.send("/pijat")
    assert "bisa dibaca siapa saja" in replies[0].body
    assert not any(b["callback_data"].startswith("gd:tm") for b in replies[0].buttons)
    await rina.press("gd:st:0:0")
    for _ in range(6):
        replies = await rina.press("Lanjut")
    assert not any(b["callback_data"].startswith("gd:tm") for b in replies[0].buttons)
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM safety_check") == 0


async def test_mydata_lists_and_delete_removes_the_guide_rows(driver, clock):
    from flows.timer import tick
    from tests.test_account import link_companion

    db = driver.app.services.db
    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    await open_guide(budi)
    await pass_safety(budi)           # Budi checks for Sari
    await budi.press("gd:st:1001:0")
    await budi.press("gd:x:1001")      # close the steps: the guide's menu again
    await budi.press("gd:tm:1001")
    await skip_baseline(budi, await budi.press("gd:go:1001:10"))
    replies = await budi.send("/saya")
    mine = "\n".join(m.body for m in replies)
    assert "Pijat dengan timer (1)" in mine and "Kemajuan panduan pijat (1)" in mine
    assert "Cek keamanan pijat (1)" in mine
    replies = await sari.send("/saya")
    hers = "\n".join(m.body for m in replies)
    assert "Cek keamanan pijat (1)" in hers and "Pijat dengan timer (1)" in hers

    # Budi deletes his data: his timer goes, the safety check stays with Sari without his id
    await budi.send("/hapus")
    await budi.press("del:yes")
    assert await db.fetchval("SELECT COUNT(*) FROM guided_session") == 0
    assert tuple(await db.fetchone("SELECT mother_id, checked_by FROM safety_check")) == (1001, None)
    clock.advance(timedelta(minutes=11))
    assert await tick(driver.app, clock.now()) == 0
    assert await db.fetchval("SELECT COUNT(*) FROM massage_session") == 0
    # Sari deletes hers: nothing of the guide is left
    await sari.send("/hapus")
    await sari.press("del:yes")
    for table in ("safety_check", "guided_session", "guide_progress", "quiz_attempt"):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table
