"""/saya (issue 10, points 8 and 10): one readable page in her language, then the full copy as a
JSON file in which nobody else's Telegram id appears."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from db.queries import privacy
from flows.account import split_message, utf16_len
from tests.test_onboarding import register_mother
from tests.test_reminders import utc, wave
from tests.test_reports import add_companion, log_a_session, make_clinic, mother_in, new_midwife, report, rows

# Words the page must never show: column names, stored codes, raw UTC times, Telegram ids.
INTERNAL = ["telegram_id", "user_id", "mother_id", "companion_id", "reported_by", "logged_by", "claim_token",
            "option_order", "item_order", "pseudonym", "created_at", "reported_at", "started_at", "slot_date",
            "milk_flow", "not_out", "not_smooth", "reporter_role", "postpartum_day", "recipient_id", "care_status",
            "Asia/", "husband", "None", "mother", "companion", "midwife"]
UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def page_of(replies) -> str:
    return "\n".join(m.body for m in replies if m.kind == "text")


def ints_in(value) -> set[int]:
    """Every integer anywhere in a parsed JSON value."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, dict):
        return set().union(*(ints_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(ints_in(v) for v in value)) if value else set()
    return set()


async def download(person) -> tuple[object, dict]:
    message, button = person.find_button("Unduh semua data saya")
    assert button["callback_data"] == "my:json"
    replies = await person.press_data(message, "my:json")
    document = replies[-1]
    assert document.kind == "document" and document.file_name.endswith(".json")
    return document, json.loads(document.file_bytes.decode("utf-8"))


async def a_full_month(driver, clock):
    """Sari (WITA) at Puskesmas Bener with a midwife, Budi her husband; reports by both, a
    session, a quiz, an open alert, a question, reminders."""
    db = driver.app.services.db
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 3001, "Bidan Ani")
    sari = await mother_in(driver, clinic, 1001, "Sari")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await sari.press("rep:o:1001:not_out")                  # the baseline at registration, 11:00 WITA
    await sari.press("rep:ds:none")
    await sari.send("/batal")
    clock.advance(timedelta(hours=1))
    await log_a_session(driver, 1001, logged_by=2001)        # 12:00 WITA, logged by Budi
    clock.advance(timedelta(minutes=30))
    await report(budi, flow="not_smooth")                    # 12:30 WITA, Budi for Sari
    await db.execute("INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at, score,"
                     " option_order) VALUES (1001, 'pre', 'id', '[\"q1\"]', ?, ?, 57, '[[1, 0]]')",
                     ("2026-11-30T03:10:00Z", "2026-11-30T03:15:00Z"))
    await db.execute("INSERT INTO alert(mother_id, cause, detail, opened_at) VALUES (1001, 'milk_not_out', '4', ?)",
                     ("2026-11-30T04:00:00Z",))
    await db.execute("INSERT INTO midwife_note(mother_id, midwife_id, text, created_at) VALUES (1001, 3001, 'ok', ?)",
                     ("2026-11-30T04:00:00Z",))
    await sari.send("/tanya")
    await sari.send("Apakah saya boleh minum jamu?")
    await wave(driver, clock, utc(0, 22))     # 06:00 WITA: the morning reminders (the evening's massage was logged)
    return sari, budi, ani


# ----------------------------------------------------------------- the page
async def test_mothers_page_is_readable_local_and_names_no_ids(driver, clock):
    sari, budi, _ = await a_full_month(driver, clock)
    replies = await sari.send("/saya")
    page = page_of(replies)
    for line in ("Nama: Sari", "Peran: Ibu", "Bahasa: 🇮🇩 Bahasa Indonesia", "Tanggal persalinan: 29-11-2026",
                 "Jam lahir bayi: tidak diketahui", "Zona waktu: WITA", "Puskesmas: Puskesmas Bener",
                 "Budi (Suami), sejak 30-11-2026", "Laporan ASI (2): 1 sebelum pijat, 1 sesudah pijat",
                 "30-11-2026 11:00 WITA, hari ke-2: ASI belum keluar (sebelum pijat)",
                 "30-11-2026 12:30 WITA, hari ke-2: ASI keluar tapi belum lancar (sesudah pijat), dilaporkan oleh Budi",
                 "Sesi pijat (1)", "30-11-2026 12:00 WITA (sore)", "kuis awal, 30-11-2026 11:15 WITA: nilai 57",
                 "Peringatan untuk bidan (1), masih terbuka: 1", "ASI belum keluar (sejak 30-11-2026 12:00 WITA)",
                 "Catatan bidan (1)", "Pertanyaan untuk bidan (1)", "Apakah saya boleh minum jamu?",
                 "Pagi 06:00 · Sore 16:00 (WITA)", "Pengingat terkirim (1 dari 2 yang direncanakan)"):
        assert line in page, line
    for word in INTERNAL:
        assert word not in page, word
    assert not UTC_STAMP.search(page)
    for person_id in ("1001", "2001", "3001"):
        assert person_id not in page
    # each row once: her own report names her twice (mother_id and reported_by)
    assert page.count("ASI belum keluar (sebelum pijat)") == 1
    assert replies[-1].buttons[0]["text"] == "📄 Unduh semua data saya (JSON)"
    assert all(utf16_len(m.body) <= 4096 for m in replies)


async def test_birth_time_in_words_and_the_page_in_english(driver):
    amy = await register_mother(driver, 1010, "Amy", zone="WIB", birth_time="ob:bt:morning")
    await amy.send("/language")
    await amy.press("lang:en")
    page = page_of(await amy.send("/mydata"))
    assert "Role: Mother" in page and "Time of birth: Morning (06-12)" in page
    assert "Registered: 30-11-2026 10:00 WIB" in page and "Puskesmas: not chosen yet" in page
    assert "Download all my data (JSON)" in amy.last.buttons[0]["text"]
    sari = await register_mother(driver, 1011, "Sari", zone="WIT", birth_time="05:30")
    assert "Jam lahir bayi: pukul 05:30" in page_of(await sari.send("/saya"))


async def test_companion_sees_his_mothers_by_name_and_no_id(driver, clock):
    sari, budi, _ = await a_full_month(driver, clock)
    page = page_of(await budi.send("/saya"))
    assert "Peran: Pendamping" in page and "Nama: Budi" in page
    assert "Ibu Sari, sebagai Suami, sejak 30-11-2026" in page
    assert "Laporan ASI (1) yang Anda kirim" in page and "Ibu Sari, hari ke-2: ASI keluar tapi belum lancar" in page
    assert "Sesi pijat (1) yang Anda catat" in page and "12:00 WITA" in page
    for word in INTERNAL:
        assert word not in page, word
    assert "1001" not in page and "2001" not in page
    _, copy = await download(budi)
    assert 1001 not in ints_in(copy) and copy["people"]["ibu 1"] == {"name": "Sari", "relation": "husband"}
    assert {row["mother_id"] for row in copy["tables"]["milk_report"]} == {"ibu 1"}


async def test_midwife_page(driver, clock):
    _, _, ani = await a_full_month(driver, clock)
    page = page_of(await ani.send("/saya"))
    assert "Peran: Bidan" in page and "Puskesmas: Puskesmas Bener" in page and "Nama: Bidan Ani" in page
    assert "Catatan yang Anda tulis (1)" in page
    assert "1001" not in page and "3001" not in page
    _, copy = await download(ani)
    assert 1001 not in ints_in(copy)
    assert copy["tables"]["midwife_note"][0]["mother_id"] == "ibu 1"


# ----------------------------------------------------------------- the file
async def test_the_json_copy_has_every_row_and_no_one_elses_id(driver, clock):
    sari, budi, _ = await a_full_month(driver, clock)
    await sari.send("/saya")
    document, copy = await download(sari)
    assert document.file_name == "sahabat-nifas-data-saya.json"
    tables = copy["tables"]
    assert {"app_user", "mother", "companion_invite", "companion_link", "milk_report", "massage_session",
            "quiz_attempt", "alert", "midwife_note", "question", "reminder_pref", "reminder_delivery"} <= set(tables)
    # every row about her, each once (her own report names her twice), as collect() has them
    data = await privacy.collect(driver.app.services.db, 1001)
    assert {table: len(found) for table, found in tables.items()} == {table: len(found) for table, found in data.items()}
    assert len(tables["milk_report"]) == len(await rows(driver, "SELECT id FROM milk_report WHERE mother_id = 1001"))
    assert tables["quiz_attempt"][0]["option_order"] == "[[1, 0]]"   # machine-readable: all columns
    # nobody else's Telegram id: Budi is "pendamping 1", the midwife is hidden or "bidan"
    found = ints_in(copy)
    assert 2001 not in found and 3001 not in found
    assert "2001" not in document.file_bytes.decode() and "3001" not in document.file_bytes.decode()
    assert tables["companion_link"][0]["companion_id"] == "pendamping 1"
    assert {row["reported_by"] for row in tables["milk_report"]} == {1001, "pendamping 1"}
    assert tables["massage_session"][0]["logged_by"] == "pendamping 1"
    assert copy["people"] == {"pendamping 1": {"name": "Budi", "relation": "husband"}}
    assert "pseudonym" not in json.dumps(tables["mother"])
    # pressed again: a fresh copy; after /hapus: nothing to send
    await sari.send("/hapus")
    await sari.press("del:yes")
    message, _ = sari.find_button("Unduh semua data saya")
    replies = await sari.press_data(message, "my:json")
    assert "tidak menyimpan data" in replies[-1].body and replies[-1].kind == "text"


async def test_collect_lists_a_row_once_when_two_columns_name_her(driver):
    sari = await register_mother(driver, 1001, "Sari")
    await sari.press("rep:o:1001:smooth")
    data = await privacy.collect(driver.app.services.db, 1001)
    assert len(data["milk_report"]) == 1


# ----------------------------------------------------------------- long pages
def test_split_message_counts_utf16_units():
    line = "🍼 Laporan ASI — " + "ASI lancar " * 10       # an emoji is two UTF-16 units
    text = "\n".join(f"{n}. {line}" for n in range(400))
    parts = split_message(text)
    assert len(parts) > 1 and all(utf16_len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == text
    long_line = "🤱" * 3000                                  # 6000 units on one line
    parts = split_message(long_line)
    assert [utf16_len(part) for part in parts] == [4096, 1904] and "".join(parts) == long_line
