"""The Puskesmas register: one XLSX workbook for the clinic itself, in Bahasa Indonesia.

Sheets "Ibu", "Laporan ASI", "Sesi pijat", "Kuis", "Peringatan", "Pertanyaan" and "Kolom" (what
every column means). Unlike the research export it names the mothers and their companions
(it is the clinic's own record), writes every time as an Excel date-time in the mother's own
time zone with a "Zona waktu" column (WIB / WITA / WIT), categories in Indonesian words (the
same words the bot uses in chat), and response times in minutes for alerts and questions.

The register is always in Bahasa Indonesia, whatever language the midwife chats in: it is a
Puskesmas record. Rows stream from SQLite into xlsxwriter's constant_memory workbook.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from bot.clock import parse_iso
from bot.config import ZONES
from db.queries.clinic_scope import Scope
from db.queries.exports import register_streams
from domain.dates import local_today, postpartum_day
from exports.research import connect_read_only

LANG = "id"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
DATE_FORMAT = "dd-mm-yyyy"
ZONE_NAMES = {zone: name for name, zone in ZONES.items()} | {"Asia/Pontianak": "WIB"}
NO_PHONE = ("Nomor telepon ibu tidak ada di register: Sahabat Nifas tidak menyimpan nomor telepon "
            "(Telegram tidak memberikannya kepada bot). Catat di kohort ibu bila diperlukan.")


@dataclass(frozen=True)
class Column:
    header: str
    meaning: str
    width: int = 14


def _c(header: str, meaning: str, width: int = 14) -> Column:
    return Column(header, meaning, width)


ZONE = _c("Zona waktu", "Zona waktu ibu (WIB, WITA, WIT); semua waktu di baris ini ditulis dalam zona ini", 10)
NAME = _c("Nama ibu", "Nama ibu seperti ia tulis saat mendaftar", 22)
PSEUDONYM = _c("Kode samaran", "Kode samaran ibu (M-…), sama dengan di ekspor penelitian", 14)

MOTHERS = [
    NAME, PSEUDONYM,
    _c("Tanggal melahirkan", "Tanggal persalinan (tanggal setempat ibu)", 14),
    _c("Jam lahir", "Jam lahir bayi bila ibu menyebutnya (JJ:MM), atau bagian hari (malam 00–06, pagi 06–12, "
                    "siang 12–18, sore/malam 18–24); kosong = tidak disebutkan", 12),
    _c("Hari nifas ke- (hari ini)", "Hari nifas pada tanggal ekspor, menurut tanggal setempat ibu "
                                    "(hari melahirkan = hari ke-1)", 12),
    _c("Status perawatan", "Normal; Bayi dirawat di rumah sakit; Bayi meninggal (tidak dihitung dalam "
                           "perbandingan sebelum/sesudah pijat)", 22),
    _c("Status dicatat", "Kapan status perawatan terakhir diubah; kosong = belum pernah diubah", 17),
    _c("Memilih Puskesmas ini", "Kapan ibu memilih (atau mendaftar lewat tautan) Puskesmas ini", 17),
    _c("Jumlah pendamping", "Berapa pendamping (suami, keluarga, kader) yang terhubung dengan ibu", 11),
    _c("Pendamping", "Nama pendamping dan hubungannya dengan ibu, dipisah titik koma", 30),
    _c("Terdaftar", "Kapan ibu mendaftar di Sahabat Nifas", 17),
    ZONE,
]
REPORTS = [
    _c("No. laporan", "Nomor laporan", 10), NAME, PSEUDONYM,
    _c("Waktu laporan", "Kapan laporan dibuat", 17), ZONE,
    _c("Hari nifas ke-", "Hari nifas pada tanggal laporan (hari melahirkan = hari ke-1)", 10),
    _c("Masa", "Sebelum pijat pertama, atau sesudah pijat pertama (sesi pijat pertama ibu yang tercatat)", 22),
    _c("Pelapor", "Ibu sendiri, atau pendamping (dengan namanya)", 20),
    _c("Kelancaran ASI", "ASI belum keluar; ASI keluar tapi belum lancar; ASI lancar", 24),
    _c("Menyusu dalam 24 jam", "Berapa kali bayi menyusu dalam 24 jam terakhir; kosong = tidak dijawab", 11),
    _c("Popok basah dalam 24 jam", "Popok basah dalam 24 jam terakhir; 6 berarti 6 atau lebih bila dipilih "
                                   "dengan tombol; kosong = tidak dijawab", 11),
    _c("Payudara", "Lunak; Penuh; Keras dan nyeri; kosong = tidak dijawab", 14),
    _c("Tanda bahaya", "Tanda bahaya yang dicentang, dipisah titik koma; \"Tidak ada\" = diperiksa, tidak ada; "
                       "kosong = tidak dijawab", 40),
]
SESSIONS = [
    _c("No. sesi", "Nomor sesi", 9), NAME, PSEUDONYM,
    _c("Tanggal", "Tanggal sesi (tanggal setempat ibu)", 12),
    _c("Sesi", "Pagi atau sore", 8),
    _c("Hari nifas ke-", "Hari nifas pada tanggal sesi", 10),
    _c("Mulai", "Kapan pijat dimulai", 17), ZONE,
    _c("Lama (menit)", "Lama pijat dalam menit; 0 = tidak diukur", 9),
    _c("Selesai", "Ya = selesai; Tidak = dihentikan lebih awal", 9),
    _c("Dipijat oleh", "Ibu sendiri, suami, keluarga, kader posyandu", 16),
    _c("Perasaan ibu", "Perasaan ibu sesudah dipijat", 16),
    _c("Dicatat lewat", "Panduan pijat di bot, pengingat, atau dicatat sendiri", 14),
]
QUIZZES = [
    _c("No.", "Nomor percobaan kuis", 8),
    _c("Nama peserta", "Nama ibu, atau nama pendamping", 22),
    _c("Peran", "Ibu atau pendamping", 12),
    _c("Hubungan", "Hubungan pendamping dengan ibu: suami, keluarga, kader posyandu", 14),
    NAME, PSEUDONYM,
    _c("Jenis", "Tes awal, tes akhir, atau latihan", 11),
    _c("Mulai", "Kapan kuis dimulai", 17),
    _c("Selesai", "Kapan kuis selesai; kosong = belum selesai", 17), ZONE,
    _c("Nilai", "Nilai 0–100; kosong = belum selesai", 8),
]
ALERTS = [
    _c("No.", "Nomor peringatan", 8), NAME, PSEUDONYM,
    _c("Sebab", "Sebab peringatan (aturan bot, bukan diagnosis)", 22),
    _c("Tingkat", "Mendesak (segera ke fasilitas) atau Perlu perhatian (hari ini)", 14),
    _c("Rincian", "Tanda bahaya yang dilaporkan, atau jumlah popok basah (basah/seharusnya)", 30),
    _c("Hari nifas laporan", "Hari nifas pada laporan yang memicu peringatan", 10),
    _c("Dibuka", "Kapan peringatan dibuka", 17),
    _c("Terkirim ke bidan", "Kapan peringatan pertama kali sampai ke bidan Puskesmas; kosong = belum sampai", 17),
    _c("Diambil", "Kapan seorang bidan menekan \"Saya tangani\"; kosong = belum diambil", 17),
    _c("Diambil oleh", "Bidan yang mengambilnya", 18),
    _c("Menit sampai diambil", "Menit dari dibuka sampai diambil", 11),
    _c("Ditutup", "Kapan peringatan ditutup; kosong = masih terbuka", 17),
    _c("Cara ditutup", "Oleh bidan; teratasi sendiri (laporan berikutnya sudah baik); ibu sudah diperiksa", 20),
    _c("Ditutup oleh", "Bidan yang menutupnya", 18),
    _c("Hasil", "Hasil yang dicatat bidan untuk peringatan mendesak: sudah diperiksa, dirujuk, "
                "tidak bisa dihubungi", 22),
    _c("Menit sampai ditutup", "Menit dari dibuka sampai ditutup", 11),
    ZONE,
]
QUESTIONS = [
    _c("No.", "Nomor pertanyaan", 8), NAME, PSEUDONYM,
    _c("Penanya", "Ibu atau pendamping", 12),
    _c("Nama penanya", "Nama ibu atau pendamping yang bertanya", 20),
    _c("Hari nifas ke-", "Hari nifas saat bertanya", 10),
    _c("Di luar jam layanan", "Ya = ditanyakan di luar jam layanan Puskesmas", 10),
    _c("Ditanyakan", "Kapan pertanyaan dikirim", 17),
    _c("Diambil", "Kapan seorang bidan mengambil pertanyaan; kosong = belum", 17),
    _c("Diambil oleh", "Bidan yang mengambilnya", 18),
    _c("Menit sampai diambil", "Menit dari ditanyakan sampai diambil", 11),
    _c("Dijawab", "Kapan jawaban pertama dikirim; kosong = belum dijawab", 17),
    _c("Dijawab oleh", "Bidan yang menjawab", 18),
    _c("Menit sampai dijawab", "Menit dari ditanyakan sampai dijawab", 11),
    ZONE,
]
SHEETS = [("Ibu", MOTHERS), ("Laporan ASI", REPORTS), ("Sesi pijat", SESSIONS), ("Kuis", QUIZZES),
          ("Peringatan", ALERTS), ("Pertanyaan", QUESTIONS)]
HELP = [_c("Lembar", "", 14), _c("Kolom", "", 26), _c("Arti", "", 90)]

# words the bot does not have elsewhere in its content
WORDS = {
    "phase": {"pre": "Sebelum pijat pertama", "post": "Sesudah pijat pertama"},
    "role": {"mother": "Ibu", "companion": "Pendamping"},
    "care": {"normal": "Normal", "hospital": "Bayi dirawat di rumah sakit", "loss": "Bayi meninggal"},
    "quiz_kind": {"pre": "Tes awal", "post": "Tes akhir", "practice": "Latihan"},
    "urgency": {"urgent": "Mendesak", "warning": "Perlu perhatian", "info": "Informasi"},
    "closed_how": {"midwife": "Oleh bidan", "resolved": "Teratasi sendiri", "seen": "Ibu sudah diperiksa"},
    "source": {"guide": "Panduan pijat", "reminder": "Pengingat", "manual": "Dicatat sendiri"},
    "birth_part": {"night": "malam (00–06)", "morning": "pagi (06–12)", "afternoon": "siang (12–18)",
                   "evening": "sore/malam (18–24)"},
    "yes_no": {1: "Ya", 0: "Tidak"},
    "no_signs": "Tidak ada",
}


class Vocabulary:
    """Stored codes → the Indonesian words of the register (most taken from the bot's own texts)."""

    def __init__(self, texts):
        def data(key: str):
            return texts.data(LANG, key)

        self.flow = dict(data("reports.flow"))
        self.breasts = dict(data("reports.breasts"))
        self.signs = {item["id"]: item["button"] for item in data("reports.danger_signs")}
        self.relation = {r: texts.t(LANG, f"onboarding.relation_{r}") for r in ("husband", "family", "cadre")}
        self.slot = {k: v.capitalize() for k, v in data("midwife.record.slot").items()}
        self.who = dict(data("guide.timer.who_question.options"))
        self.feeling = {k: v.split(" ", 1)[-1] for k, v in data("guide.timer.feeling_question.options").items()}
        self.cause = {k: v[:1].upper() + v[1:] for k, v in data("midwife.cause_short").items()}
        self.outcome = dict(data("midwife.outcome.options"))

    @staticmethod
    def word(table: dict, code):
        if code is None or code == "":
            return None
        return table.get(code, code)

    def signs_text(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        if stored == "":
            return WORDS["no_signs"]
        return "; ".join(self.signs.get(s, s) for s in stored.split(","))


class LocalTime:
    """UTC text from the database → a naive local datetime for Excel, per zone (cached)."""

    def __init__(self):
        self._zones: dict[str, ZoneInfo] = {}

    def __call__(self, moment: str | None, zone: str) -> datetime | None:
        if not moment:
            return None
        tz = self._zones.get(zone) or self._zones.setdefault(zone, ZoneInfo(zone))
        return parse_iso(moment).astimezone(tz).replace(tzinfo=None)


def zone_name(zone: str) -> str:
    return ZONE_NAMES.get(zone, zone)


def minutes_between(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return round((parse_iso(end) - parse_iso(start)).total_seconds() / 60)


def _birth_time(text: str | None) -> str | None:
    if not text:
        return None
    return WORDS["birth_part"].get(text, text)


def _companions(joined: str | None, words: Vocabulary) -> tuple[int, str | None]:
    if not joined:
        return 0, None
    people = [part.rsplit("|", 1) for part in joined.split("\x1f")]
    return len(people), "; ".join(f"{name or '(tanpa nama)'} ({words.relation.get(rel, rel)})"
                                  for name, rel in people)


def _rows(stream: Callable[[], Iterator[tuple]], convert: Callable[[tuple], tuple], counter: dict, key: str
          ) -> Iterator[tuple]:
    counter[key] = 0
    for row in stream():
        counter[key] += 1
        yield convert(row)


def register_sheets(streams, now: datetime, words: Vocabulary, counts: dict) -> list[tuple]:
    """(sheet name, headers, rows, widths) for `analysis.export.write_xlsx`; `counts` is filled
    with the rows of each sheet as they are written."""
    local = LocalTime()

    def mother(r):
        (_, name, pseudonym, delivery, birth_time, zone, chosen_at, care, care_at, created_at, joined) = r
        delivered = date.fromisoformat(delivery)
        n, companions = _companions(joined, words)
        return (name, pseudonym, delivered, _birth_time(birth_time),
                postpartum_day(delivered, local_today(now, zone)), words.word(WORDS["care"], care),
                local(care_at, zone), local(chosen_at, zone), n, companions, local(created_at, zone),
                zone_name(zone))

    def report(r):
        (rid, name, pseudonym, zone, at, day, phase, role, reporter, flow, feeds, wet, breasts, signs) = r
        who = WORDS["role"]["mother"] if role == "mother" else (
            f"{WORDS['role']['companion']}: {reporter}" if reporter else WORDS["role"]["companion"])
        return (rid, name, pseudonym, local(at, zone), zone_name(zone), day, WORDS["phase"].get(phase, phase), who,
                words.word(words.flow, flow), feeds, wet, words.word(words.breasts, breasts),
                words.signs_text(signs))

    def session(r):
        (sid, name, pseudonym, zone, slot_date, slot, day, started, duration_s, completed, who, feeling,
         source) = r
        return (sid, name, pseudonym, date.fromisoformat(slot_date), words.word(words.slot, slot), day,
                local(started, zone), zone_name(zone), round((duration_s or 0) / 60),
                WORDS["yes_no"].get(completed), words.word(words.who, who), words.word(words.feeling, feeling),
                words.word(WORDS["source"], source))

    def quiz(r):
        (qid, person, role, relation, mother_name, pseudonym, zone, kind, started, finished, score) = r
        return (qid, person or "(tanpa nama)", WORDS["role"].get(role, role), words.word(words.relation, relation),
                mother_name, pseudonym, words.word(WORDS["quiz_kind"], kind), local(started, zone),
                local(finished, zone), zone_name(zone), score)

    def alert(r):
        (aid, name, pseudonym, zone, cause, urgency, detail, day, opened, notified, taken, taken_by, closed,
         how, closed_by, outcome) = r
        if cause == "danger_sign":
            detail = words.signs_text(detail) if detail else None
        return (aid, name, pseudonym, words.word(words.cause, cause), words.word(WORDS["urgency"], urgency),
                detail or None, day, local(opened, zone), local(notified, zone), local(taken, zone),
                taken_by or None, minutes_between(opened, taken), local(closed, zone),
                words.word(WORDS["closed_how"], how), closed_by or None, words.word(words.outcome, outcome),
                minutes_between(opened, closed), zone_name(zone))

    def question(r):
        (qid, name, pseudonym, zone, role, asker, day, outside, asked, taken, taken_by, answered,
         answered_by) = r
        return (qid, name, pseudonym, WORDS["role"].get(role, role), asker or None, day,
                WORDS["yes_no"].get(outside), local(asked, zone), local(taken, zone), taken_by or None,
                minutes_between(asked, taken), local(answered, zone), answered_by or None,
                minutes_between(asked, answered), zone_name(zone))

    converters = {"Ibu": (streams.mothers, mother), "Laporan ASI": (streams.reports, report),
                  "Sesi pijat": (streams.sessions, session), "Kuis": (streams.quizzes, quiz),
                  "Peringatan": (streams.alerts, alert), "Pertanyaan": (streams.questions, question)}
    sheets = []
    for title, columns in SHEETS:
        stream, convert = converters[title]
        sheets.append((title, [c.header for c in columns], _rows(stream, convert, counts, title),
                       [c.width for c in columns]))
    sheets.append(("Kolom", [c.header for c in HELP], help_rows(), [c.width for c in HELP]))
    return sheets


def help_rows() -> Iterable[tuple[str, str, str]]:
    for title, columns in SHEETS:
        for column in columns:
            yield title, column.header, column.meaning
        if title == "Ibu":
            yield title, "(nomor telepon)", NO_PHONE


def write_register(db_path: str | Path, midwife_id: int, path: Path, now: datetime, texts
                   ) -> tuple[Scope, dict[str, int]]:
    """In a worker thread, with its own read-only connection: the register workbook at `path`.
    Returns her clinic and the number of rows of each sheet."""
    from analysis.export import write_xlsx

    words = Vocabulary(texts)
    conn = connect_read_only(db_path)
    try:
        streams = register_streams(conn, midwife_id)
        counts: dict[str, int] = {}
        write_xlsx(path, register_sheets(streams, now, words, counts),
                   datetime_format=DATETIME_FORMAT, date_format=DATE_FORMAT)
        return streams.scope, counts
    finally:
        conn.close()
