"""/ringkasan opens with today (issue 10.4) and /ibu scales with search and filters (issue 10.6),
end to end through the loopback Bot API, with numbers set up by hand. The clock stands at
2026-11-30 03:00 UTC = 11:00 in Puskesmas Bener (Asia/Makassar, UTC+8)."""
from __future__ import annotations

from datetime import date

import pytest

from db.queries import call_list as call_q
from db.queries import clinic_scope
from test_midwife import add_mother, add_report, add_session, plain
from test_reports import join_midwife, make_clinic

TODAY_WIDTH = 40


async def add_alert(db, mother_id, cause, urgency, opened_at, taken_at=None, closed_at=None):
    await db.execute(
        "INSERT INTO alert(mother_id, cause, urgency, detail, opened_at, closed_at, taken_at, notified_at)"
        " VALUES (?, ?, ?, '', ?, ?, ?, ?)", (mother_id, cause, urgency, opened_at, closed_at, taken_at, opened_at))


async def add_question(db, mother_id, clinic_id, asked_at, answered_at=None):
    await db.execute(
        "INSERT INTO question(mother_id, asked_by, asker_role, clinic_id, asked_at, taken_at, answered_at)"
        " VALUES (?, ?, 'mother', ?, ?, ?, ?)", (mother_id, mother_id, clinic_id, asked_at, answered_at, answered_at))


async def care(db, mother_id, status):
    await db.execute("UPDATE mother SET care_status = ? WHERE user_id = ?", (status, mother_id))


async def bener_today(driver):
    """Clinic A (Bener) with every kind of mother, only "before massage" reports (no pairs yet),
    and clinic B (Talise) whose numbers must never show up in A's."""
    db = driver.app.services.db
    a, code_a = await make_clinic(driver, "Puskesmas Bener")
    b, code_b = await make_clinic(driver, "Puskesmas Talise")
    people = ((4001, "Sari", date(2026, 11, 27)), (4002, "Sarah", date(2026, 11, 27)),
              (4003, "Dewi", date(2026, 11, 25)), (4004, "Nur", date(2026, 11, 24)), (4005, "Ika", date(2026, 11, 29)),
              (4006, "Yuni", date(2026, 11, 26)), (4007, "Tari", date(2026, 11, 26)), (4008, "Lama", date(2026, 10, 1)),
              (4009, "Rina", date(2026, 11, 28)))
    for uid, name, delivery in people:
        await add_mother(db, uid, name, a.id, delivery=delivery)
    await add_mother(db, 4101, "Sarinah", b.id)
    await care(db, 4006, "hospital")
    await care(db, 4007, "loss")
    # latest milk flow of each (all "pre": nobody has had a massage before a report)
    for uid, at, flow in ((4001, "2026-11-28T01:00:00Z", "not_out"), (4001, "2026-11-29T01:00:00Z", "not_smooth"),
                          (4002, "2026-11-30T01:00:00Z", "smooth"), (4003, "2026-11-29T20:00:00Z", "not_out"),
                          (4004, "2026-11-27T10:00:00Z", "smooth"), (4006, "2026-11-29T05:00:00Z", "not_smooth"),
                          (4007, "2026-11-29T05:00:00Z", "not_out"), (4008, "2026-10-05T05:00:00Z", "smooth"),
                          (4009, "2026-11-29T06:00:00Z", "smooth"), (4101, "2026-11-29T06:00:00Z", "not_out")):
        await add_report(db, uid, at, flow, "pre")
    await add_alert(db, 4001, "danger_sign", "urgent", "2026-11-30T01:00:00Z")                # 2 h, not taken
    await add_alert(db, 4009, "danger_sign", "urgent", "2026-11-29T10:00:00Z", taken_at="2026-11-29T10:10:00Z")
    await add_alert(db, 4003, "milk_not_out", "warning", "2026-11-29T23:00:00Z")              # 4 h, not taken
    await add_alert(db, 4004, "inactive", "warning", "2026-11-28T00:00:00Z", closed_at="2026-11-28T05:00:00Z")
    await add_alert(db, 4006, "baby_hospital", "info", "2026-11-29T05:00:00Z")                # not counted
    await add_alert(db, 4101, "danger_sign", "urgent", "2026-11-25T00:00:00Z")                # clinic B
    await add_question(db, 4002, a.id, "2026-11-30T02:15:00Z")                                # 45 min
    await add_question(db, 4003, a.id, "2026-11-29T21:30:00Z")                                # 5 h 30 min
    await add_question(db, 4004, a.id, "2026-11-28T08:00:00Z", answered_at="2026-11-28T09:30:00Z")
    await add_question(db, 4101, b.id, "2026-11-20T00:00:00Z")                                # clinic B
    for uid, at in ((4001, "2026-11-29T00:00:00Z"), (4001, "2026-11-30T00:00:00Z"), (4003, "2026-11-26T00:00:00Z"),
                    (4008, "2026-11-10T00:00:00Z"), (4101, "2026-11-29T00:00:00Z")):
        await add_session(db, uid, at, at[:10])
    return a, code_a, b, code_b


def lines_of(message) -> list[str]:
    return message.body.splitlines()


# ----------------------------------------------------------------- /ringkasan: today
async def test_today_before_any_mother_has_both_phases(driver):
    _, code_a, _, code_b = await bener_today(driver)
    ani = await join_midwife(driver, 4901, code_a, "Ani")
    replies = await ani.send("/ringkasan")
    assert [m.kind for m in replies] == ["text"]
    today = replies[0]
    for expected in (
            "📊 Hari ini, 30-11-2026", "Puskesmas Bener",
            "👩 Ibu dipantau: 7",                 # not Tari (loss), not Lama (past 42 days)
            "🏥 Bayi di rumah sakit: 1",
            "🚨 Peringatan mendesak: 2", "⚠️ Peringatan lain: 1",   # closed and info alerts left out
            "⏳ Terlama tak ditangani: 4 jam",     # Dewi's warning; Rina's urgent one was taken
            "❓ Pertanyaan menunggu: 2", "⏳ Terlama menunggu: 5 jam 30 menit",
            "💆 Sesi pijat 7 hari terakhir: 3",
            "🟠 Belum keluar: 1", "🟡 Keluar, belum lancar: 2", "🟢 Lancar: 3", "❔ Belum pernah melapor: 1",
            "November 2026, waktu tengah (median):",
            "✋ Peringatan ditangani: 10 menit", "   (dari 1 peringatan)",
            "💬 Pertanyaan dijawab: 1 jam 30 menit", "   (dari 1 pertanyaan)"):
        assert expected in lines_of(today), expected
    assert "<pre>" not in today.body and "Sarinah" not in today.body
    assert all(len(line) <= TODAY_WIDTH for line in lines_of(today)), [
        line for line in lines_of(today) if len(line) > TODAY_WIDTH]
    # no mother has a report before and after her first massage: Statistik says so plainly
    replies = await ani.press("📊 Statistik")
    assert [m.kind for m in replies] == ["text", "text"]
    text = plain(replies[0])
    assert "Belum bisa dibandingkan" in text and "sebelum DAN sesudah sesi pijat pertamanya" in text
    assert "Ibu dengan laporan di satu masa saja: 7" in text       # Tari (loss) is not counted ...
    assert "1 ibu tidak dihitung dalam perbandingan ini karena bayinya meninggal" in text  # ... but named
    assert "<pre>" not in replies[0].body
    # clinic B: its own numbers
    tia = await join_midwife(driver, 4902, code_b, "Tia")
    today = (await tia.send("/ringkasan"))[0]
    for expected in ("👩 Ibu dipantau: 1", "🚨 Peringatan mendesak: 1", "❓ Pertanyaan menunggu: 1",
                     "⏳ Terlama menunggu: 10 hari", "💆 Sesi pijat 7 hari terakhir: 1", "🟠 Belum keluar: 1",
                     "✋ Peringatan ditangani: belum ada", "💬 Pertanyaan dijawab: belum ada"):
        assert expected in lines_of(today), expected


async def test_today_in_english_fits_a_phone(driver):
    _, code_a, _, _ = await bener_today(driver)
    amy = await join_midwife(driver, 4903, code_a, "Amy", language_code="en")
    today = (await amy.send("/summary"))[0]
    for expected in ("📊 Today, 30-11-2026", "👩 Mothers followed: 7", "⏳ Longest not taken: 4 h",
                     "⏳ Longest waiting: 5 h 30 min", "💬 Question answered after: 1 h 30 min", "❔ No report yet: 1"):
        assert expected in lines_of(today), expected
    assert all(len(line) <= TODAY_WIDTH for line in lines_of(today))
    assert today.buttons[0]["text"] == "📊 Statistics"


async def test_medians_of_this_month_in_the_clinic_own_time(driver):
    """November in Makassar starts at 2026-10-31 16:00 UTC: what was opened or asked before that
    is last month's, whatever its UTC date."""
    db = driver.app.services.db
    a, code_a = await make_clinic(driver, "Puskesmas Bener")
    b, _ = await make_clinic(driver, "Puskesmas Talise")
    for uid in range(4201, 4207):
        await add_mother(db, uid, f"Ibu {uid}", a.id)
    await add_mother(db, 4301, "Lain", b.id)
    await add_alert(db, 4201, "danger_sign", "urgent", "2026-10-31T17:00:00Z", taken_at="2026-10-31T17:20:00Z")  # 20
    await add_alert(db, 4202, "few_feeds", "warning", "2026-11-10T00:00:00Z", taken_at="2026-11-10T00:10:00Z")  # 10
    await add_alert(db, 4203, "milk_not_out", "warning", "2026-11-20T00:00:00Z", taken_at="2026-11-20T03:00:00Z",
                    closed_at="2026-11-20T04:00:00Z")                                                        # 180
    await add_alert(db, 4204, "danger_sign", "urgent", "2026-10-31T15:00:00Z",
                    taken_at="2026-10-31T15:01:00Z")                                         # October 31 local
    await add_alert(db, 4205, "inactive", "warning", "2026-11-25T00:00:00Z")                  # not taken
    await add_alert(db, 4301, "danger_sign", "urgent", "2026-11-10T00:00:00Z", taken_at="2026-11-10T00:01:00Z")
    await add_question(db, 4201, a.id, "2026-10-31T16:30:00Z", "2026-10-31T17:15:00Z")       # 45
    await add_question(db, 4202, a.id, "2026-11-15T00:00:00Z", "2026-11-15T01:15:00Z")       # 75
    await add_question(db, 4203, a.id, "2026-11-29T00:00:00Z", "2026-11-29T02:30:00Z")       # 150
    await add_question(db, 4204, a.id, "2026-10-31T15:59:00Z", "2026-10-31T16:00:00Z")       # October 31 local
    await add_question(db, 4205, a.id, "2026-11-29T00:00:00Z")                               # waiting
    await add_question(db, 4301, b.id, "2026-11-10T00:00:00Z", "2026-11-10T00:02:00Z")       # clinic B
    ani = await join_midwife(driver, 4904, code_a, "Ani")
    today = lines_of((await ani.send("/ringkasan"))[0])
    assert "✋ Peringatan ditangani: 20 menit" in today and "   (dari 3 peringatan)" in today
    assert "💬 Pertanyaan dijawab: 1 jam 15 menit" in today and "   (dari 3 pertanyaan)" in today
    numbers = await clinic_scope.today(db, 4904, driver.app.services.clock.now())
    assert (numbers.median_take_min, numbers.alerts_taken) == (20, 3)
    assert (numbers.median_answer_min, numbers.questions_answered) == (75, 3)
    assert numbers.month == date(2026, 11, 1)


async def test_statistics_show_the_tests_once_there_are_pairs(driver):
    db = driver.app.services.db
    a, code_a, _, _ = await bener_today(driver)
    ani = await join_midwife(driver, 4905, code_a, "Ani")
    await ani.send("/ringkasan")
    assert "Belum bisa dibandingkan" in plain((await ani.press("mw:stats"))[0])
    # a massage, then reports after it: Sari and Dewi now have both phases
    await add_report(db, 4001, "2026-11-30T02:00:00Z", "smooth", "post")
    await add_report(db, 4003, "2026-11-30T02:00:00Z", "not_smooth", "post")
    replies = await ani.send("/ringkasan")
    assert "Ibu dipantau: 7" in replies[0].body      # today's part is the same kind of message
    replies = await ani.press("mw:stats")
    assert [m.kind for m in replies] == ["text", "text", "photo"]
    text = plain(replies[0])
    assert "Ibu dengan dua pengukuran: 2 (tidak dihitung, hanya satu pengukuran: 5)" in text
    assert "Membaik: 2   Sama: 0   Memburuk: 0" in text
    assert "Uji tanda, eksak (membaik vs memburuk): p = 0.5000" in text
    assert "Uji peringkat bertanda Wilcoxon" in text and "McNemar eksak (lancar vs tidak lancar)" in text
    table = replies[0].body.split("<pre>")[1].split("</pre>")[0]
    assert all(len(line) <= 32 for line in table.splitlines())
    assert "n = 2 ibu" in replies[2].body


async def test_summary_refuses_anyone_but_a_midwife(driver):
    db = driver.app.services.db
    await bener_today(driver)
    now = driver.app.services.clock.now()
    for not_a_midwife in (4001, 424242):
        with pytest.raises(clinic_scope.NotAMidwife):
            await clinic_scope.today(db, not_a_midwife, now)
    sari = driver.user(4001, "Sari")
    for data in ("/ringkasan", "/ibu sari"):
        replies = await sari.send(data)
        assert replies[0].body == "Perintah ini khusus untuk bidan yang terdaftar di Puskesmas."


# ----------------------------------------------------------------- /ibu: order, filters, search
def mother_ids(message) -> list[int]:
    return [int(b["callback_data"].rsplit(":", 1)[1]) for b in message.buttons
            if b["callback_data"].startswith("mw:rec:")]


async def test_mothers_in_call_list_order_with_care_status(driver):
    db = driver.app.services.db
    _, code_a, _, _ = await bener_today(driver)
    ani = await join_midwife(driver, 4906, code_a, "Ani")
    listing = (await ani.send("/ibu"))[-1]
    _, _, calls = await call_q.call_list_of(db, 4906, driver.app.services.clock.now())
    assert [c.mother_id for c in calls] == [4009, 4001, 4003, 4002, 4004]
    # the call list (urgent by how long, question, no report), then the others: another open
    # alert first (Yuni), then by name; past the 42 days of nifas last (page 2)
    assert mother_ids(listing) == [4009, 4001, 4003, 4002, 4004, 4006, 4005, 4007]
    assert "Ibu di Puskesmas Bener: 9" in listing.body and "Halaman 1 dari 2" in listing.body
    body = lines_of(listing)
    assert any(line.startswith("🚨 Rina · hari ke-") for line in body)
    assert any(line.startswith("❓ Dewi · ") for line in body) and any(line.startswith("❔ Nur · ") for line in body)
    assert any(line.startswith("⚠️ Yuni 🏥 · ") for line in body)   # baby in hospital, an info alert open
    assert any(line.startswith("🟢 Tari 🕊 · ") for line in body)   # loss
    filters = [b["callback_data"] for b in listing.buttons if not b["callback_data"].startswith("mw:rec:")]
    assert filters == ["mw:pg:1", "mw:pg:0", "mw:f:urgent:0", "mw:f:quiet:0", "mw:f:question:0", "mw:find"]
    await ani.press("Berikutnya")
    assert mother_ids(ani.messages()[-1]) == [4008] and "⚪ Lama" in ani.messages()[-1].body


@pytest.mark.parametrize("view, label, expected", [
    ("urgent", "🚨 Mendesak", [4009, 4001]),
    ("quiet", "❔ Tanpa laporan", [4004]),
    ("question", "❓ Pertanyaan", [4003, 4002]),
])
async def test_each_filter(driver, view, label, expected):
    _, code_a, _, code_b = await bener_today(driver)
    ani = await join_midwife(driver, 4907, code_a, "Ani")
    listing = (await ani.send("/ibu"))[-1]
    await ani.press(label)
    shown = ani.messages()[-1]
    assert shown.message_id == listing.message_id  # the list is edited in place
    assert mother_ids(shown) == expected
    assert shown.body.startswith(f"{label}: {len(expected)} dari 9 ibu di Puskesmas Bener.")
    assert any(b["text"] == f"• {label}" for b in shown.buttons)
    await ani.press("Semua")
    assert len(mother_ids(ani.messages()[-1])) == 8
    # the other clinic's midwife: only her own mother, whichever filter
    tia = await join_midwife(driver, 4908, code_b, "Tia")
    await tia.send("/ibu")
    await tia.press_data(tia.last, f"mw:f:{view}:0")
    assert set(mother_ids(tia.messages()[-1])) <= {4101}
    assert not any(name in tia.messages()[-1].body for name in ("Rina", "Dewi", "Nur", "Sarah"))


async def test_an_empty_filter_says_so_and_keeps_the_buttons(driver):
    clinic, code = await make_clinic(driver, "Puskesmas Sepi")
    await add_mother(driver.app.services.db, 4401, "Sari", clinic.id)
    ani = await join_midwife(driver, 4909, code, "Ani")
    await ani.send("/ibu")
    await ani.press("mw:f:urgent:0")
    assert ani.last.body == "🚨 Mendesak: tidak ada ibu di Puskesmas Sepi saat ini."
    assert "mw:f:quiet:0" in [b["callback_data"] for b in ani.last.buttons]


async def test_search_by_part_of_a_name_in_her_clinic_only(driver):
    db = driver.app.services.db
    _, code_a, _, code_b = await bener_today(driver)
    ani = await join_midwife(driver, 4910, code_a, "Ani")
    replies = await ani.send("/ibu sar")
    assert mother_ids(replies[-1]) == [4001, 4002]                 # not Sarinah of Talise
    assert replies[-1].body.startswith('Cari "sar": 2 ibu di Puskesmas Bener.')
    assert mother_ids((await ani.send("/ibu  SARAH "))[-1]) == [4002]
    replies = await ani.send("/mothers zzz")
    assert replies[-1].body == 'Tidak ada ibu dengan nama "zzz" di Puskesmas Bener.'
    # the button asks for a name; the next text searches
    await ani.send("/ibu")
    replies = await ani.press("🔎 Cari nama")
    assert "Ketik nama ibu" in replies[-1].body
    replies = await ani.send("ewi")
    assert mother_ids(replies[-1]) == [4003]
    replies = await ani.send("Sari")                                 # the search is done: no second search
    assert not any(m.buttons and mother_ids(m) for m in replies)
    # another button while the name is awaited ends the request
    await ani.press("🔎 Cari nama")
    await ani.press("mw:f:urgent:0")
    replies = await ani.send("Dewi")
    assert not any("Cari \"Dewi\"" in m.body for m in replies)
    # the other clinic: search, forged search buttons, the query function itself
    tia = await join_midwife(driver, 4911, code_b, "Tia")
    assert mother_ids((await tia.send("/ibu sar"))[-1]) == [4101]
    await tia.send("/ibu")
    for forged in ("mw:sq:0:Dewi", "mw:sq:0:a", "mw:sq:3:Sari"):
        await tia.press_data(tia.last, forged)
        assert set(mother_ids(tia.messages()[-1])) <= {4101}, forged
        assert not any(name in tia.messages()[-1].body for name in ("Rina", "Sarah", "Nur")), forged
    now = driver.app.services.clock.now()
    for view in clinic_scope.VIEWS:
        page = await clinic_scope.mothers_page(db, 4911, now, size=100, view=view, search="a")
        assert {line.mother.user_id for line in page.lines} <= {4101}
    with pytest.raises(clinic_scope.NotAMidwife):
        await clinic_scope.mothers_page(db, 4001, now, search="sar")


async def test_search_pages_keep_the_search(driver):
    db = driver.app.services.db
    clinic, code = await make_clinic(driver, "Puskesmas Besar")
    for n in range(12):
        await add_mother(db, 4500 + n, f"Sari {n:02d}", clinic.id)
    await add_mother(db, 4599, "Dewi", clinic.id)
    ani = await join_midwife(driver, 4912, code, "Ani")
    first = (await ani.send("/ibu sari"))[-1]
    assert "12 ibu" in first.body and "Halaman 1 dari 2" in first.body and len(mother_ids(first)) == 8
    await ani.press("Berikutnya")
    second = ani.messages()[-1]
    assert "Halaman 2 dari 2" in second.body and len(mother_ids(second)) == 4 and 4599 not in mother_ids(second)
