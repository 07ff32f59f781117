"""The midwife's review end to end: /ringkasan, /ibu and a record, notes, alerts, /ekspor, and
that no midwife ever sees another clinic's data, whatever she sends."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from db.queries import clinic_scope, mothers, users
from flows import exports as exports_flow
from test_reports import join_midwife, make_clinic, mother_in, new_midwife, report, rows

NOW = "2026-11-30T00:00:00Z"


async def add_mother(db, uid, name, clinic_id, delivery=date(2026, 11, 28), tz="Asia/Makassar"):
    await users.create_user(db, uid, "mother", "id", NOW)
    await mothers.create_mother(db, uid, name, delivery, True, tz, clinic_id, NOW)


async def add_companion_row(db, uid, mother_id, name="Budi", relation="husband"):
    if await users.get_user(db, uid) is None:
        await users.create_user(db, uid, "companion", "id", NOW)
    await db.execute("INSERT INTO companion_link(mother_id, companion_id, relation, display_name, created_at)"
                     " VALUES (?, ?, ?, ?, ?)", (mother_id, uid, relation, name, NOW))


async def add_report(db, mother_id, at, flow, phase, day=3, role="mother", **details):
    cursor = await db.execute(
        "INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day, phase, milk_flow,"
        " feeds_24h, wet_nappies_24h, breasts, danger_signs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (mother_id, mother_id, role, at, day, phase, flow, details.get("feeds"), details.get("wet"),
         details.get("breasts"), details.get("danger")))
    return cursor.rows[0]["id"]


async def add_session(db, mother_id, at, slot_date, slot="morning", who="husband"):
    await db.execute(
        "INSERT INTO massage_session(mother_id, logged_by, who, slot_date, slot, started_at, duration_s, completed,"
        " source, created_at) VALUES (?, ?, ?, ?, ?, ?, 900, 1, 'guide', ?)",
        (mother_id, mother_id, who, slot_date, slot, at, at))


async def add_quiz(db, uid, kind, score, finished_at):
    await db.execute(
        "INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at, score)"
        " VALUES (?, ?, 'id', '[]', ?, ?, ?)", (uid, kind, finished_at or NOW, finished_at, score))


async def add_alert(db, mother_id, cause, opened_at, closed_at=None, detail=""):
    urgency = "urgent" if cause == "danger_sign" else "warning"
    cursor = await db.execute("INSERT INTO alert(mother_id, cause, urgency, detail, opened_at, closed_at, notified_at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                              (mother_id, cause, urgency, detail, opened_at, closed_at, opened_at))
    return cursor.rows[0]["id"]


def plain(message) -> str:
    return html.unescape(re.sub(r"</?pre>", "", message.body))


# ----------------------------------------------------------------- /ringkasan
async def hand_computed_clinic(driver):
    """Clinic A with a known before/after picture; clinic B's numbers must never show up in A's."""
    db = driver.app.services.db
    a, code_a = await make_clinic(driver, "Puskesmas Bener")
    b, code_b = await make_clinic(driver, "Puskesmas Talise")
    for uid, name in ((3001, "Sari"), (3002, "Dewi"), (3003, "Rina"), (3005, "Nur"), (3006, "Ika")):
        await add_mother(db, uid, name, a.id)
    await add_mother(db, 3004, "Wati", a.id, delivery=date(2026, 11, 15))
    await add_mother(db, 3101, "Lia", b.id)
    t = ["2026-11-28T01:00:00Z", "2026-11-28T09:00:00Z", "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"]
    await add_report(db, 3001, t[0], "not_out", "pre")          # first pre
    await add_report(db, 3001, t[1], "not_smooth", "post")
    await add_report(db, 3001, t[2], "smooth", "post")          # latest post -> improved
    await add_report(db, 3002, t[0], "not_smooth", "pre")       # first pre counts ...
    await add_report(db, 3002, t[1], "not_out", "pre")          # ... not a later one
    await add_report(db, 3002, t[3], "smooth", "post")          # -> improved
    await add_report(db, 3003, t[0], "not_out", "pre")
    await add_report(db, 3003, t[2], "not_out", "post")         # -> same
    await add_report(db, 3004, t[0], "smooth", "pre")
    await add_report(db, 3004, t[2], "not_smooth", "post")      # -> worse
    await add_report(db, 3005, t[0], "not_out", "pre")          # pre only -> left out
    await add_report(db, 3101, t[0], "not_out", "pre")          # clinic B
    await add_report(db, 3101, t[2], "smooth", "post")
    await add_session(db, 3006, "2026-11-29T22:00:00Z", "2026-11-30")   # this week: Ika active
    await add_session(db, 3004, "2026-11-18T22:00:00Z", "2026-11-19")   # too old for "this week"
    await add_session(db, 3101, "2026-11-29T22:00:00Z", "2026-11-30")   # clinic B
    await add_alert(db, 3001, "danger_sign", t[3], detail="fits")
    await add_alert(db, 3002, "milk_not_out", t[1], closed_at=t[2])
    await add_alert(db, 3101, "inactive", t[3])
    # knowledge test: mothers of A and their companions; first finished pre vs latest finished post
    await add_companion_row(db, 3201, 3001, "Budi")
    await add_quiz(db, 3001, "pre", 40, t[0])
    await add_quiz(db, 3001, "post", 80, t[2])
    await add_quiz(db, 3001, "practice", 100, t[3])             # practice does not count
    await add_quiz(db, 3001, "post", None, None)                # unfinished does not count
    await add_quiz(db, 3201, "pre", 60, t[0])
    await add_quiz(db, 3201, "post", 50, t[1])
    await add_quiz(db, 3201, "post", 70, t[3])                  # the latest post counts
    await add_quiz(db, 3002, "pre", 50, t[0])                   # no post -> left out
    await add_quiz(db, 3101, "pre", 0, t[0])                    # clinic B
    await add_quiz(db, 3101, "post", 100, t[2])
    return a, code_a, b, code_b


async def test_summary_matches_a_hand_computed_case(driver):
    _, code_a, _, code_b = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 3901, code_a, "Ani")
    replies = await ani.send("/ringkasan")
    assert [m.kind for m in replies] == ["text"]  # today's numbers only; the analysis is one tap away
    today = replies[0].body
    assert "Hari ini, 30-11-2026" in today and "Puskesmas Bener" in today
    assert "Ibu dipantau: 6" in today
    assert "Peringatan mendesak: 1" in today and "Peringatan lain: 0" in today
    assert "Sesi pijat 7 hari terakhir: 1" in today
    assert "<pre>" not in today
    assert [b["callback_data"] for b in replies[0].buttons] == ["mw:stats"]
    replies = await ani.press("📊 Statistik")
    assert [m.kind for m in replies] == ["text", "text", "photo"]
    first, second = plain(replies[0]), plain(replies[1])
    assert "tidak bisa memisahkan efek pijat dari berjalannya waktu" in first
    assert "Ibu dengan dua pengukuran: 4 (tidak dihitung, hanya satu pengukuran: 1)" in first
    assert re.search(r"ASI belum keluar\n\s+sebelum 2 \(50\.0%\) · sesudah 1 \(25\.0%\)", first)
    assert re.search(r"ASI keluar tapi belum lancar\n\s+sebelum 1 \(25\.0%\) · sesudah 1 \(25\.0%\)", first)
    assert re.search(r"ASI lancar\n\s+sebelum 1 \(25\.0%\) · sesudah 2 \(50\.0%\)", first)
    assert re.search(r"\n1\s+1\s+0\s+1\n", first)  # pre x post table, row "not out"
    assert re.search(r"\n3\s+0\s+1\s+0\n", first)
    assert "1 = belum keluar, 2 = belum lancar, 3 = lancar" in first
    assert "Membaik: 2   Sama: 1   Memburuk: 1" in first
    assert "Uji tanda, eksak (membaik vs memburuk): p = 1.0000" in first
    assert "McNemar eksak (lancar vs tidak lancar): p = 1.0000" in first
    table = re.search(r"<pre>(.*?)</pre>", replies[0].body, re.S).group(1)
    assert max(len(line) for line in table.splitlines()) <= 32  # narrow enough for a phone
    assert "Peserta dengan dua nilai: 2 (tidak dihitung, hanya satu nilai: 1)" in second
    assert "Rata-rata sebelum: 50.00\nRata-rata sesudah: 75.00\nPerubahan rata-rata: +25.00" in second
    assert "Interval kepercayaan 95% perubahan: -165.59 sampai 215.59" in second
    assert replies[2].file_bytes.startswith(b"\x89PNG")
    assert "n = 4 ibu" in replies[2].body and "tidak membuktikan" in replies[2].body
    # clinic B sees its own numbers and its single pair only
    tia = await join_midwife(driver, 3902, code_b, "Tia")
    replies = await tia.send("/summary")
    today = replies[0].body
    assert "Ibu dipantau: 1" in today and "Peringatan lain: 1" in today and "Peringatan mendesak: 0" in today
    assert "Sesi pijat 7 hari terakhir: 1" in today
    replies = await tia.press("mw:stats")
    assert "Ibu dengan dua pengukuran: 1" in plain(replies[0])


async def test_summary_in_english_and_without_data(driver):
    clinic, code = await make_clinic(driver, "Puskesmas Kosong")
    amy = await join_midwife(driver, 3903, code, "Amy", language_code="en")
    replies = await amy.send("/summary")
    assert [m.kind for m in replies] == ["text"]
    assert "Mothers followed: 0" in replies[0].body and "No report yet: 0" in replies[0].body
    replies = await amy.press("📊 Statistics")
    assert [m.kind for m in replies] == ["text", "text"]  # no chart without pairs
    assert "cannot separate the effect of the massage from time passing" in plain(replies[0])
    assert "before AND after her first massage session" in plain(replies[0])
    assert "Nobody has both a pre-test and a post-test yet" in plain(replies[1])


async def test_summary_from_the_menu_and_only_for_midwives(driver):
    _, code_a, _, _ = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 3904, code_a)
    replies = await ani.send("/menu")
    labels = [b["callback_data"] for b in replies[-1].buttons]
    ours = [label for label in labels if label.startswith("menu:midwife.")]  # other features add theirs
    assert ours == ["menu:midwife.summary", "menu:midwife.mothers", "menu:midwife.export"]
    replies = await ani.press("menu:midwife.summary")
    assert "Ibu dipantau: 6" in replies[-1].body
    replies = await ani.press("mw:stats")
    assert replies[-1].kind == "photo"
    mother = driver.user(3001, "Sari")  # a mother or a companion typing midwife commands
    companion = driver.user(3201, "Budi")
    for person in (mother, companion):
        for command in ("/ringkasan", "/ibu", "/ekspor", "/mothers"):
            replies = await person.send(command)
            assert replies[0].body == "Perintah ini khusus untuk bidan yang terdaftar di Puskesmas."
            assert "Puskesmas Bener" not in "\n".join(m.body for m in replies)
    await exports_flow.wait_for_exports(driver.app)
    assert not [m for m in mother.messages() + companion.messages() if m.kind == "document"]


# ----------------------------------------------------------------- /ibu and a record
async def test_mothers_list_most_urgent_first_with_paging_and_a_record(driver, clock):
    db = driver.app.services.db
    a, code_a, _, _ = await hand_computed_clinic(driver)
    await add_mother(db, 3007, "Past", a.id, delivery=date(2026, 10, 1))       # past 42 days
    await add_mother(db, 3008, "Yuni", a.id, delivery=date(2026, 11, 29))
    await add_report(db, 3008, "2026-11-29T23:00:00Z", "smooth", "pre")
    await add_mother(db, 3009, "Tari", a.id, delivery=date(2026, 11, 26))
    await add_alert(db, 3009, "few_wet_nappies", "2026-11-29T10:00:00Z", detail="2/5")
    ani = await join_midwife(driver, 3905, code_a, "Ani")
    replies = await ani.send("/ibu")
    page1 = replies[-1]
    assert "Ibu di Puskesmas Bener: 9" in page1.body and "Halaman 1 dari 2" in page1.body
    order = [b["callback_data"] for b in page1.buttons if b["callback_data"].startswith("mw:rec:")]
    # the call list first (Sari: urgent alert; Nur: no report for 2 days), then the others:
    # another open alert (Tari), then by name; past the 42 days of nifas last (on page 2)
    assert order == [f"mw:rec:{uid}" for uid in (3001, 3005, 3009, 3002, 3006, 3003, 3004, 3008)]
    assert page1.buttons[0]["text"].startswith("🚨 Sari")
    await ani.press("Berikutnya")
    page = ani.messages()[-1]
    assert page.message_id == page1.message_id and page.edits == 1  # the same message, page 2
    assert "Halaman 2 dari 2" in page.body and "⚪ Past" in page.body
    await ani.press("mw:pg:0")
    assert "Halaman 1 dari 2" in ani.messages()[-1].body

    replies = await ani.press("mw:rec:3001")
    record = replies[-1].body
    assert "Ibu Sari (M-" in record and "hari ke-3" in record
    assert "Pendamping: Budi (Suami)" in record
    assert "🚨 Tanda bahaya dilaporkan: Ibu: kejang" in record
    assert "Ibu: tes awal 40" in record and "Ibu: tes akhir 80" in record and "Budi (Suami): tes akhir 70" in record
    assert record.index("ASI lancar") < record.index("ASI belum keluar")  # newest first
    buttons = [b["callback_data"] for b in replies[-1].buttons]
    alert_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 3001")
    assert buttons == [f"mw:close:{alert_id}", "mw:note:3001", "mw:care:3001:hospital", "mw:care:3001:loss",
                       "mw:pg:0"]

    # a note: press, write, saved with the midwife's id and shown in the record
    replies = await ani.press("mw:note:3001")
    assert "Tulis catatan untuk Ibu Sari" in replies[-1].body
    replies = await ani.send_other("sticker")
    assert "sebagai teks" in replies[-1].body
    replies = await ani.send("Sudah ditelepon, besok kunjungan rumah.")
    assert "Catatan untuk Ibu Sari tersimpan" in replies[0].body
    assert "Sudah ditelepon, besok kunjungan rumah." in replies[-1].body
    assert (await rows(driver, "SELECT mother_id, midwife_id, text FROM midwife_note")) == [
        {"mother_id": 3001, "midwife_id": 3905, "text": "Sudah ditelepon, besok kunjungan rumah."}]
    replies = await ani.send("ini bukan catatan")  # the note is done: not saved again
    assert await db.fetchval("SELECT COUNT(*) FROM midwife_note") == 1

    # close the danger alert: the outcome first, then closed in the database, gone from the record, once
    record_message, _ = ani.find_button(f"mw:close:{alert_id}")
    replies = await ani.press(f"mw:close:{alert_id}")
    assert "Apa hasilnya?" in replies[-1].body
    assert await db.fetchval("SELECT closed_at FROM alert WHERE id = ?", (alert_id,)) is None
    replies = await ani.press("Sudah diperiksa di Puskesmas")
    assert (await rows(driver, "SELECT closed_by, closed_at IS NOT NULL AS closed, outcome FROM alert WHERE id = ?",
                       (alert_id,))) == [{"closed_by": 3905, "closed": 1, "outcome": "seen"}]
    assert "Tidak ada peringatan terbuka." in replies[-1].body
    assert f"mw:close:{alert_id}" not in [b["callback_data"] for b in replies[-1].buttons]
    await ani.press_data(record_message, f"mw:close:{alert_id}")  # an old copy of the button
    assert any(a.get("text") == "Peringatan ini sudah ditutup." for a in ani.callback_answers())


async def test_note_request_expires_and_other_buttons_end_it(driver, clock):
    db = driver.app.services.db
    a, code = await make_clinic(driver)
    await add_mother(db, 3011, "Sari", a.id)
    await add_mother(db, 3012, "Dewi", a.id)
    ani = await join_midwife(driver, 3906, code)
    await ani.send("/ibu")
    await ani.press("mw:rec:3011")
    await ani.press("mw:note:3011")
    await ani.press("mw:rec:3012")  # she moves on to another mother: the note request ends
    await ani.send("Catatan untuk Dewi?")
    assert await db.fetchval("SELECT COUNT(*) FROM midwife_note") == 0
    await ani.press("mw:note:3012")
    clock.advance(timedelta(hours=2))
    replies = await ani.send("terlambat")
    assert "kedaluwarsa" in replies[0].body
    assert await db.fetchval("SELECT COUNT(*) FROM midwife_note") == 0


async def test_an_alert_button_opens_the_record(driver):
    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 3907, code)
    sari = await mother_in(driver, clinic, 3013, "Sari")
    await report(sari, danger=("fits",))
    replies = await ani.press("Buka catatan Ibu Sari")
    assert "Ibu Sari (M-" in replies[-1].body and "kejang" in replies[-1].body.lower()


# /ekspor: tests/test_exports.py


# ----------------------------------------------------------------- one clinic only
async def test_forged_buttons_for_another_clinic_are_refused(driver):
    db = driver.app.services.db
    a, code_a, b, code_b = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 3910, code_a, "Ani")
    tia = await join_midwife(driver, 3911, code_b, "Tia")
    alert_a = await db.fetchval("SELECT id FROM alert WHERE mother_id = 3001")
    secrets = ["Sari", "Dewi", "Budi"] + [r["pseudonym"] for r in await rows(
        driver, "SELECT pseudonym FROM mother WHERE clinic_id = ?", (a.id,))]
    await tia.send("/ibu")
    listing = tia.last
    assert "Lia" in listing.body and not any(s in listing.body for s in secrets)
    for forged in ("mw:rec:3001", f"mw:close:{alert_a}", "mw:note:3001", "mw:rec:999999", "mw:pg:5"):
        before = len(tia.messages())
        replies = await tia.press_data(listing, forged)
        shown = "\n".join(m.body for m in tia.messages()[before:])
        assert not any(s in shown for s in secrets), forged
        if forged != "mw:pg:5":
            assert replies[-1].body == "Data ini tidak ada atau bukan dari Puskesmas Anda."
    assert await db.fetchval("SELECT closed_at FROM alert WHERE id = ?", (alert_a,)) is None
    await tia.send("catatan palsu")  # no note request was opened by the forged button
    assert await db.fetchval("SELECT COUNT(*) FROM midwife_note") == 0
    # a mother or a companion pressing midwife buttons
    sari = driver.user(3001, "Sari")
    await sari.send("/menu")
    replies = await sari.press_data(sari.last, "mw:rec:3001")
    assert replies[-1].body.startswith("Perintah ini khusus untuk bidan")
    # the same button works for a midwife of Sari's own clinic
    await ani.send("/ibu")
    replies = await ani.press_data(ani.last, "mw:rec:3001")
    assert "Ibu Sari" in replies[-1].body


async def test_clinic_scope_refuses_everything_outside_her_clinic(driver):
    db = driver.app.services.db
    a, code_a, b, code_b = await hand_computed_clinic(driver)
    await join_midwife(driver, 3912, code_a)
    now = driver.app.services.clock.now()
    alert_b = await db.fetchval("SELECT id FROM alert WHERE mother_id = 3101")
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.mother_of_clinic(db, 3912, 3101)
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.mother_record(db, 3912, 3101, now)
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.add_note(db, 3912, 3101, "x", now)
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.close_alert(db, 3912, alert_b, now)
    for not_a_midwife in (3001, 3201, 424242):
        with pytest.raises(clinic_scope.NotAMidwife):
            await clinic_scope.cohort(db, not_a_midwife, now)
        with pytest.raises(clinic_scope.NotAMidwife):
            await clinic_scope.mothers_page(db, not_a_midwife, now)
    page = await clinic_scope.mothers_page(db, 3912, now, size=100)
    assert {line.mother.clinic_id for line in page.lines} == {a.id}
    pairs, _ = await clinic_scope.milk_flow_pairs(db, 3912)
    assert len(pairs) == 4
    assert await db.fetchval("SELECT COUNT(*) FROM midwife_note") == 0
    assert await db.fetchval("SELECT closed_at FROM alert WHERE id = ?", (alert_b,)) is None


async def test_a_mother_who_moves_clinic_leaves_the_old_midwives_view(driver):
    a, code_a = await make_clinic(driver, "Puskesmas Bener")
    b, code_b = await make_clinic(driver, "Puskesmas Talise")
    ani = await join_midwife(driver, 3913, code_a)
    sari = await mother_in(driver, a, 3014, "Sari")
    await ani.send("/ibu")
    listing = ani.last
    await sari.send(f"/start m_{b.mother_code}")
    replies = await ani.press_data(listing, "mw:rec:3014")
    assert replies[-1].body == "Data ini tidak ada atau bukan dari Puskesmas Anda."
    tia = await new_midwife(driver, b, 3914, "Tia")
    replies = await tia.send("/ibu")
    assert "Sari" in replies[-1].body
