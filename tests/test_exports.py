"""/ekspor end to end through the loopback Bot API: the choice, the Puskesmas register (names,
local times, Indonesian words, response times), the pseudonymous research files, the FHIR
Bundle of a date range; and that nobody but a midwife, and no midwife of another clinic, ever
gets a row of a clinic's data."""
from __future__ import annotations

import csv
import io
import json
import threading
from db.reader import connect_read_only
from datetime import datetime, timezone

import openpyxl
import pytest

from db.queries import exports as export_queries
from db.queries.clinic_scope import NotAMidwife
from exports import fhir as fhir_export
from exports import register as register_export
from flows import exports as export_flow
from test_midwife import add_report, add_session, hand_computed_clinic
from test_reports import join_midwife, make_clinic, rows

KINDS = ["ex:k:register", "ex:k:research", "ex:k:fhir"]


def documents(person) -> list:
    return [m for m in person.messages() if m.kind == "document"]


async def export_as(person, kind: str, fhir_range: str | None = None) -> list:
    """/ekspor, press the kind (and the FHIR range); wait; the documents that arrived."""
    before = len(documents(person))
    await person.send("/ekspor")
    await person.press(kind)
    if fhir_range:
        await person.press(fhir_range)
    await export_flow.wait_for_exports(person.driver.app)
    return documents(person)[before:]


async def busy_clinic(driver):
    """hand_computed_clinic plus what the register shows: an alert taken and closed by a
    midwife, questions with their times, a companion's report."""
    db = driver.app.services.db
    a, code_a, b, code_b = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 3908, code_a, "Ani")
    await db.execute("UPDATE midwife SET display_name = 'Ani' WHERE user_id = 3908")
    alert = await db.fetchval("SELECT id FROM alert WHERE mother_id = 3001 AND cause = 'danger_sign'")
    await db.execute("UPDATE alert SET taken_at = '2026-11-29T09:12:00Z', taken_by = 3908,"
                     " closed_at = '2026-11-29T10:30:00Z', closed_by = 3908, closed_how = 'midwife',"
                     " outcome = 'referred' WHERE id = ?", (alert,))
    await add_report(db, 3001, "2026-11-29T12:00:00Z", "smooth", "post", day=2, role="companion",
                     danger="fits,bleeding", feeds=9)
    await db.execute("UPDATE milk_report SET reported_by = 3201 WHERE reported_at = '2026-11-29T12:00:00Z'")
    for mother, clinic, asked, taken, answered in (
            (3001, a.id, "2026-11-29T01:00:00Z", "2026-11-29T01:05:00Z", "2026-11-29T01:30:00Z"),
            (3002, a.id, "2026-11-29T02:00:00Z", None, None),
            (3101, b.id, "2026-11-29T02:00:00Z", None, None)):
        await db.execute(
            "INSERT INTO question(mother_id, asked_by, asker_role, clinic_id, asked_day, outside_hours, asked_at,"
            " taken_at, taken_by, answered_at, answered_by) VALUES (?, ?, 'mother', ?, 2, 0, ?, ?, ?, ?, ?)",
            (mother, mother, clinic, asked, taken, 3908 if taken else None, answered, 3908 if answered else None))
    return a, code_a, b, code_b, ani


# ----------------------------------------------------------------- the choice
async def test_ekspor_asks_which_export_register_first(driver):
    _, code_a, _, _ = await hand_computed_clinic(driver)
    ani = await join_midwife(driver, 3920, code_a)
    replies = await ani.send("/ekspor")
    assert "Puskesmas Bener" in replies[-1].body
    assert [b["callback_data"] for b in replies[-1].buttons] == KINDS
    assert [b["text"] for b in replies[-1].buttons] == [
        "📗 Register Puskesmas (XLSX)", "🔬 Data penelitian (pseudonim)", "🏥 FHIR (SATUSEHAT)"]
    replies = await ani.press("ex:k:fhir")
    assert [b["callback_data"] for b in replies[-1].buttons] == ["ex:f:d30", "ex:f:d7", "ex:f:month"]
    assert replies[-1].buttons[0]["text"] == "30 hari terakhir"  # the default comes first
    assert not documents(ani)


# ----------------------------------------------------------------- the Puskesmas register
async def test_register_workbook_matches_the_database(driver):
    db = driver.app.services.db
    a, _, _, _, ani = await busy_clinic(driver)
    docs = await export_as(ani, "ex:k:register")
    assert [d.file_name for d in docs] == ["register-puskesmas-20261130-0300.xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(docs[0].file_bytes))  # not read-only: number formats too
    assert book.sheetnames == ["Ibu", "Laporan ASI", "Sesi pijat", "Kuis", "Peringatan", "Pertanyaan", "Kolom"]

    def table(name):
        values = list(book[name].iter_rows(values_only=True))
        return list(values[0]), [dict(zip(values[0], row)) for row in values[1:]]

    for name, columns in register_export.SHEETS:
        assert table(name)[0] == [c.header for c in columns]
    # mothers: names, companions, day of life now; nobody of the other clinic
    _, mothers = table("Ibu")
    expected = await rows(driver, "SELECT display_name FROM mother WHERE clinic_id = ? ORDER BY display_name", (a.id,))
    assert [m["Nama ibu"] for m in mothers] == [r["display_name"] for r in expected]
    sari = next(m for m in mothers if m["Nama ibu"] == "Sari")
    assert sari["Pendamping"] == "Budi (Suami)" and sari["Jumlah pendamping"] == 1
    assert sari["Hari nifas ke- (hari ini)"] == 3     # born 28-11, today 30-11 in WITA
    assert sari["Tanggal melahirkan"] == datetime(2026, 11, 28)
    assert sari["Status perawatan"] == "Normal" and sari["Zona waktu"] == "WITA"
    assert sari["Kode samaran"] == await db.fetchval("SELECT pseudonym FROM mother WHERE user_id = 3001")
    assert not any(m["Nama ibu"] == "Lia" for m in mothers)
    # reports: local time with its zone, Indonesian words
    _, reports = table("Laporan ASI")
    count = await db.fetchval("SELECT COUNT(*) FROM milk_report r JOIN mother m ON m.user_id = r.mother_id"
                              " WHERE m.clinic_id = ?", (a.id,))
    assert len(reports) == count == 12
    first = reports[0]   # 2026-11-28T01:00:00Z is 09:00 in Makassar (WITA, UTC+8)
    assert (first["Waktu laporan"], first["Zona waktu"]) == (datetime(2026, 11, 28, 9, 0), "WITA")
    assert book["Laporan ASI"]["D2"].number_format == "dd-mm-yyyy hh:mm"
    assert {r["Kelancaran ASI"] for r in reports} == {"ASI belum keluar", "ASI keluar tapi belum lancar", "ASI lancar"}
    assert {r["Masa"] for r in reports} == {"Sebelum pijat pertama", "Sesudah pijat pertama"}
    by_budi = next(r for r in reports if r["Pelapor"] != "Ibu")
    assert by_budi["Pelapor"] == "Pendamping: Budi"
    assert by_budi["Tanda bahaya"] == "Ibu: kejang; Ibu: perdarahan banyak"
    assert by_budi["Menyusu dalam 24 jam"] == 9
    assert not any("not_out" in str(v) for r in reports for v in r.values())
    # alerts with their response times
    _, alerts = table("Peringatan")
    assert len(alerts) == 2   # Sari's and Dewi's; not Lia's
    danger = next(x for x in alerts if x["Nama ibu"] == "Sari")
    assert danger["Sebab"] == "Tanda bahaya" and danger["Tingkat"] == "Mendesak"
    assert danger["Dibuka"] == datetime(2026, 11, 29, 17, 0)           # 09:00Z
    assert danger["Diambil"] == datetime(2026, 11, 29, 17, 12) and danger["Diambil oleh"] == "Ani"
    assert danger["Menit sampai diambil"] == 12
    assert (danger["Cara ditutup"], danger["Hasil"], danger["Menit sampai ditutup"]) == ("Oleh bidan", "Dirujuk", 90)
    dewi = next(x for x in alerts if x["Nama ibu"] == "Dewi")
    assert dewi["Cara ditutup"] is None and dewi["Menit sampai diambil"] is None
    # questions with theirs
    _, questions = table("Pertanyaan")
    assert [q["Nama ibu"] for q in questions] == ["Sari", "Dewi"]
    assert (questions[0]["Menit sampai diambil"], questions[0]["Menit sampai dijawab"]) == (5, 30)
    assert questions[0]["Dijawab oleh"] == "Ani" and questions[1]["Dijawab"] is None
    # sessions and quizzes
    _, sessions = table("Sesi pijat")
    assert sorted((s["Nama ibu"], s["Sesi"], s["Hari nifas ke-"]) for s in sessions) == [
        ("Ika", "Pagi", 3), ("Wati", "Pagi", 5)]
    _, quizzes = table("Kuis")
    assert len(quizzes) == 8
    assert {(q["Nama peserta"], q["Peran"], q["Hubungan"]) for q in quizzes if q["Peran"] == "Pendamping"} == {
        ("Budi", "Pendamping", "Suami")}
    # the columns sheet explains every column, and says why there is no phone number
    _, help_rows = table("Kolom")
    explained = {(h["Lembar"], h["Kolom"]) for h in help_rows if h["Arti"]}
    for name, columns in register_export.SHEETS:
        assert {(name, c.header) for c in columns} <= explained
    assert any("telepon" in h["Kolom"] and "tidak menyimpan" in h["Arti"] for h in help_rows)
    caption = docs[0].body
    assert "6 ibu, 12 laporan ASI, 2 sesi pijat, 8 kuis, 2 peringatan, 2 pertanyaan" in caption
    # Lia (other clinic) nowhere
    cells = "\n".join(str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r)
    lia = await db.fetchval("SELECT pseudonym FROM mother WHERE user_id = 3101")
    assert "Lia" not in cells and lia not in cells


async def test_register_streams_in_constant_memory_mode(tmp_path, driver):
    """The workbook is written with xlsxwriter's constant_memory: rows go to disk as they come."""
    _, _, _, _, _ = await busy_clinic(driver)
    import xlsxwriter

    opened = []
    real = xlsxwriter.Workbook

    class Spy(real):
        def __init__(self, filename, options=None):
            opened.append(dict(options or {}))
            super().__init__(filename, options)

    xlsxwriter.Workbook = Spy
    try:
        register_export.write_register(driver.app.services.db.url, 3908, tmp_path / "r.xlsx",
                                       driver.app.services.clock.now(), driver.app.services.texts)
    finally:
        xlsxwriter.Workbook = real
    assert opened and opened[0]["constant_memory"] is True


# ----------------------------------------------------------------- the research export (kept)
async def test_research_files_parse_match_the_database_and_stay_pseudonymous(driver):
    db = driver.app.services.db
    a, code_a, _, _ = await hand_computed_clinic(driver)
    await db.execute("UPDATE milk_report SET feeds_24h = 9, wet_nappies_24h = 6, breasts = 'full', danger_signs = ''"
                     " WHERE mother_id = 3001 AND phase = 'pre'")
    await db.execute("UPDATE milk_report SET danger_signs = 'fits,bleeding' WHERE mother_id = 3003 AND phase = 'post'")
    ani = await join_midwife(driver, 3908, code_a)
    await ani.send("/ekspor")
    replies = await ani.press("ex:k:research")
    assert "Menyiapkan file ekspor penelitian" in replies[-1].body
    await export_flow.wait_for_exports(driver.app)
    docs = documents(ani)
    assert [d.file_name for d in docs] == [
        "sahabat-nifas-20261130-0300-milk_reports.csv", "sahabat-nifas-20261130-0300-sessions.csv",
        "sahabat-nifas-20261130-0300-quiz_attempts.csv", "sahabat-nifas-20261130-0300.xlsx"]
    pseudonyms = {r["user_id"]: r["pseudonym"] for r in await rows(driver, "SELECT user_id, pseudonym FROM mother")}

    def read_csv(doc):
        return list(csv.DictReader(io.StringIO(doc.file_bytes.decode("utf-8-sig"))))

    reports_csv = read_csv(docs[0])
    expected = await rows(driver, "SELECT r.* FROM milk_report r JOIN mother m ON m.user_id = r.mother_id"
                                  " WHERE m.clinic_id = ? ORDER BY m.pseudonym, r.reported_at, r.id", (a.id,))
    assert len(reports_csv) == len(expected) == 11
    for got, want in zip(reports_csv, expected):
        assert got["report_id"] == str(want["id"])
        assert got["mother"] == pseudonyms[want["mother_id"]]
        assert (got["reported_at"], got["phase"], got["milk_flow"]) == (
            want["reported_at"], want["phase"], want["milk_flow"])
        assert got["reporter"] == want["reporter_role"]
    first = next(r for r in reports_csv if r["mother"] == pseudonyms[3001] and r["phase"] == "pre")
    assert (first["feeds_24h"], first["wet_nappies_24h"], first["breasts"], first["danger_signs"]) == (
        "9", "6", "full", "none")
    assert any(r["danger_signs"] == "fits;bleeding" for r in reports_csv)
    assert set(reports_csv[0]) == set(export_queries.REPORT_COLUMNS)
    sessions_csv = read_csv(docs[1])
    assert [(s["mother"], s["slot_date"], s["postpartum_day"]) for s in sessions_csv] == sorted([
        (pseudonyms[3004], "2026-11-19", "5"), (pseudonyms[3006], "2026-11-30", "3")])
    quiz_csv = read_csv(docs[2])
    assert len(quiz_csv) == 8  # A's mothers and Budi; not clinic B
    budi = [q for q in quiz_csv if q["role"] == "companion"]
    assert {q["participant"] for q in budi} == {pseudonyms[3001] + "-C1"}
    assert {q["relation"] for q in budi} == {"husband"}

    book = openpyxl.load_workbook(io.BytesIO(docs[3].file_bytes), read_only=True)
    assert book.sheetnames == ["milk_reports", "sessions", "quiz_attempts", "columns"]
    sheet = list(book["milk_reports"].iter_rows(values_only=True))
    assert list(sheet[0]) == export_queries.REPORT_COLUMNS
    assert [row[0] for row in sheet[1:]] == [r["id"] for r in expected]
    assert [row[1] for row in sheet[1:]] == [pseudonyms[r["mother_id"]] for r in expected]
    help_rows = list(book["columns"].iter_rows(values_only=True))[1:]
    assert len(help_rows) == len(export_queries.REPORT_COLUMNS + export_queries.SESSION_COLUMNS
                                 + export_queries.QUIZ_COLUMNS)
    assert all(meaning for _, _, meaning in help_rows)
    assert "11 laporan ASI" in docs[3].body
    # no names, no Telegram ids anywhere
    everything = "\n".join(d.file_bytes.decode("utf-8-sig") for d in docs[:3])
    cells = "\n".join(str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r)
    for secret in ("Sari", "Dewi", "Budi", "Lia", "3001", "3201", "3908", pseudonyms[3101]):
        assert secret not in everything and secret not in cells


async def test_a_second_export_waits_for_the_first(driver, monkeypatch):
    from exports import research

    clinic, code = await make_clinic(driver)
    ani = await join_midwife(driver, 3909, code)
    writing, write = threading.Event(), research.write_research_files

    def held_write(*args, **kwargs):  # the first export is still being written (its thread)
        assert writing.wait(30)
        return write(*args, **kwargs)

    monkeypatch.setattr(research, "write_research_files", held_write)
    await ani.send("/ekspor")
    await ani.press("ex:k:research")
    replies = await ani.send("/export")
    assert "masih disiapkan" in replies[0].body
    writing.set()
    await export_flow.wait_for_exports(driver.app)
    assert len(documents(ani)) == 4
    assert len(await export_as(ani, "ex:k:register")) == 1   # and after it, the next one runs


# ----------------------------------------------------------------- FHIR
def test_date_ranges():
    now = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    assert fhir_export.RANGES[0] == "d30"
    assert fhir_export.date_range("d30", now, "Asia/Makassar") == (datetime(2026, 10, 31, 3, 0, tzinfo=timezone.utc), now)
    assert fhir_export.date_range("d7", now, "Asia/Makassar")[0] == datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
    # this month begins at midnight of the 1st in the clinic's zone (WITA = UTC+8)
    assert fhir_export.date_range("month", now, "Asia/Makassar")[0] == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        fhir_export.date_range("all", now, "Asia/Makassar")


async def test_fhir_bundle_validates_and_holds_the_range(driver):
    from fhir.resources.R4B.bundle import Bundle

    db = driver.app.services.db
    a, _, _, _, ani = await busy_clinic(driver)
    await add_report(db, 3002, "2026-11-01T01:00:00Z", "not_out", "pre", day=1)   # 29 days ago: in 30 days only
    await add_report(db, 3002, "2026-10-01T01:00:00Z", "not_out", "pre", day=1)   # too old for any range
    await add_session(db, 3001, "2026-11-29T22:00:00Z", "2026-11-30")
    docs = await export_as(ani, "ex:k:fhir", "ex:f:d7")
    assert [d.file_name for d in docs] == ["fhir-laporan-asi-20261130-0300.json"]
    bundle = Bundle.model_validate_json(docs[0].file_bytes)   # validates every resource
    assert bundle.type == "collection"
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    in_range = await rows(driver, "SELECT r.* FROM milk_report r JOIN mother m ON m.user_id = r.mother_id"
                                  " WHERE m.clinic_id = ? AND r.reported_at >= '2026-11-23T03:00:00Z'", (a.id,))
    answered = [r for r in in_range if r["danger_signs"] is not None]
    assert len(in_range) == 12 and len(answered) == 1
    assert kinds.count("QuestionnaireResponse") == len(in_range)
    assert kinds.count("Observation") == len(in_range) + len(answered)
    assert kinds.count("Patient") == len({r["mother_id"] for r in in_range}) == 5
    assert kinds[:2] == ["CodeSystem", "Questionnaire"]
    # every reference resolves inside the Bundle
    urls = {e.fullUrl for e in bundle.entry}
    raw = json.loads(docs[0].file_bytes)
    refs = {v for e in raw["entry"] for v in _values(e["resource"], "reference")}
    assert refs and refs <= urls
    # the patient: pseudonym as identifier under our system, the name, no NIK
    pseudonym = await db.fetchval("SELECT pseudonym FROM mother WHERE user_id = 3001")
    sari = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient"
                and e.resource.identifier[0].value == pseudonym)
    assert sari.identifier[0].system == fhir_export.PSEUDONYM_SYSTEM and len(sari.identifier) == 1
    assert sari.name[0].text == "Sari" and sari.gender == "female"
    assert "nik" not in docs[0].file_bytes.decode().lower()
    # Budi's report: danger signs as components, the answers as a QuestionnaireResponse
    danger = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"
              and e.resource.code.coding[0].code == "danger-signs"]
    assert [[c.code.coding[0].code for c in o.component] for o in danger] == [["fits", "bleeding"]]
    flows = [e.resource.valueCodeableConcept.coding[0] for e in bundle.entry
             if e.resource.get_resource_type() == "Observation" and e.resource.code.coding[0].code == "milk-flow"]
    assert {f.system for f in flows} == {fhir_export.CODE_SYSTEM}
    assert {f.code for f in flows} <= {"not_out", "not_smooth", "smooth"}
    responses = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "QuestionnaireResponse"]
    budi = next(r for r in responses if any(i.linkId == "danger-signs" for i in r.item))
    items = {i.linkId: i.answer for i in budi.item}
    assert items["feeds-24h"][0].valueInteger == 9 and items["milk-flow"][0].valueCoding.code == "smooth"
    assert budi.author.display == "Pendamping (husband)" and str(budi.authored).endswith("+00:00")
    assert "5 ibu, 12 laporan, 13 observasi" in docs[0].body
    # 30 days (the default) takes the report of 1 November too; nothing of clinic B ever
    docs = await export_as(ani, "ex:k:fhir", "ex:f:d30")
    bundle = Bundle.model_validate_json(docs[0].file_bytes)
    assert [e.resource.get_resource_type() for e in bundle.entry].count("QuestionnaireResponse") == 13
    lia = await db.fetchval("SELECT pseudonym FROM mother WHERE user_id = 3101")
    assert lia not in docs[0].file_bytes.decode() and "Lia" not in docs[0].file_bytes.decode()


async def test_a_large_range_is_split_into_complete_bundles(driver, tmp_path):
    """In chat a Bundle holds at most REPORTS_PER_FILE reports (Telegram's 50 MB); each part stands alone."""
    from fhir.resources.R4B.bundle import Bundle

    await busy_clinic(driver)
    now = driver.app.services.clock.now()
    start, end = fhir_export.date_range("d30", now, "Asia/Makassar")
    scope, counts, paths = fhir_export.write_fhir_bundle(
        driver.app.services.db.url, 3908, tmp_path / "fhir.json", start, end, now, driver.app.services.texts,
        max_reports=5)
    assert [p.name for p in paths] == ["fhir-1.json", "fhir-2.json", "fhir-3.json"]
    assert counts["QuestionnaireResponse"] == 12 and counts["mothers"] == 5 and counts["Patient"] >= 5
    per_file = []
    for path in paths:
        bundle = Bundle.model_validate_json(path.read_bytes())
        kinds = [e.resource.get_resource_type() for e in bundle.entry]
        assert kinds[:2] == ["CodeSystem", "Questionnaire"]
        raw = json.loads(path.read_bytes())
        refs = {v for e in raw["entry"] for v in _values(e["resource"], "reference")}
        assert refs <= {e.fullUrl for e in bundle.entry}
        per_file.append(kinds.count("QuestionnaireResponse"))
    assert per_file == [5, 5, 2]


def _values(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _values(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v, key)


# ----------------------------------------------------------------- nobody else
async def test_a_midwife_of_another_clinic_gets_nothing_of_this_one(driver):
    db = driver.app.services.db
    a, _, b, code_b, _ = await busy_clinic(driver)
    tia = await join_midwife(driver, 3911, code_b, "Tia")
    secrets = ["Sari", "Dewi", "Budi", "Rina", "Wati", "Nur", "Ika", "Ani"] + [r["pseudonym"] for r in await rows(
        driver, "SELECT pseudonym FROM mother WHERE clinic_id = ?", (a.id,))]
    docs = []
    docs += await export_as(tia, "ex:k:register")
    docs += await export_as(tia, "ex:k:research")
    for choice in ("ex:f:d30", "ex:f:d7", "ex:f:month"):
        docs += await export_as(tia, "ex:k:fhir", choice)
    assert len(docs) == 1 + 4 + 3
    for doc in docs:
        if doc.file_name.endswith(".xlsx"):
            book = openpyxl.load_workbook(io.BytesIO(doc.file_bytes), read_only=True)
            text = "\n".join(str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r)
        else:
            text = doc.file_bytes.decode("utf-8-sig")
        assert not any(s in text for s in secrets), doc.file_name
        assert "Puskesmas Bener" not in text and "Puskesmas Bener" not in doc.body
    register = openpyxl.load_workbook(io.BytesIO(docs[0].file_bytes), read_only=True)
    assert [r[0] for r in list(register["Ibu"].iter_rows(values_only=True))[1:]] == ["Lia"]
    # forged buttons carrying another clinic's id are not export buttons at all
    before = len(documents(tia))
    await tia.send("/ekspor")
    for forged in (f"ex:k:register:{a.id}", f"ex:f:d30:{a.id}", "ex:k:all", "ex:f:365"):
        await tia.press_data(tia.last, forged)
    await export_flow.wait_for_exports(driver.app)
    assert len(documents(tia)) == before
    # the queries themselves take only her own id
    conn = connect_read_only(db.url)
    try:
        scope, tables = export_queries.research_tables(conn, 3911)
        assert scope.clinic_id == b.id
        assert {row[1] for row in tables[0].rows()} == {await db.fetchval(
            "SELECT pseudonym FROM mother WHERE user_id = 3101")}
        assert [r[1] for r in export_queries.register_streams(conn, 3911).mothers()] == ["Lia"]
    finally:
        conn.close()


async def test_a_mother_or_companion_cannot_export(driver):
    db = driver.app.services.db
    a, _, _, _, _ = await busy_clinic(driver)
    sari = driver.user(3001, "Sari")
    budi = driver.user(3201, "Budi")
    for person in (sari, budi):
        replies = await person.send("/ekspor")
        assert replies[0].body == "Perintah ini khusus untuk bidan yang terdaftar di Puskesmas."
        await person.send("/menu")
        for data in KINDS + ["ex:f:d30", "ex:f:d7", "ex:f:month", "menu:midwife.export"]:
            replies = await person.press_data(person.last, data)
            assert replies[-1].body == "Perintah ini khusus untuk bidan yang terdaftar di Puskesmas.", data
    await export_flow.wait_for_exports(driver.app)
    assert not documents(sari) and not documents(budi)
    conn = connect_read_only(db.url)
    try:
        for not_a_midwife in (3001, 3201, 424242):
            with pytest.raises(NotAMidwife):
                export_queries.register_streams(conn, not_a_midwife)
            with pytest.raises(NotAMidwife):
                export_queries.research_tables(conn, not_a_midwife)
            with pytest.raises(NotAMidwife):
                export_queries.fhir_reports(conn, not_a_midwife, datetime(2026, 1, 1, tzinfo=timezone.utc),
                                            datetime(2027, 1, 1, tzinfo=timezone.utc))
    finally:
        conn.close()
