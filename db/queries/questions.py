"""Questions to the midwives ("Tanya bidan"): the asker's side, the midwife's side, the
clinic's service hours and the times to a first answer.

The asker's functions take the asker's id and check she is the mother or one of her
companions. The midwife's functions take the midwife's own id, find her clinic through
`clinic_scope.scope_of` and refuse a question of another clinic (or one that does not exist)
with `NotYourClinic`, like every other midwife query; an administrator may act only on a
question he was sent.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.clock import iso, parse_iso
from db.database import Database
from db.queries import clinic_scope
from db.queries.clinic_scope import NotYourClinic
from db.queries.mothers import Mother
from db.queries.replay import insert_once

KINDS = ("text", "photo", "voice")
DEFAULT_HOURS = ("07:00", "16:00", "123456")


@dataclass(frozen=True)
class Question:
    id: int
    mother_id: int
    asked_by: int | None
    asker_role: str
    clinic_id: int | None
    asked_day: int | None
    report_id: int | None
    outside_hours: bool
    asked_at: str
    taken_at: str | None
    taken_by: int | None
    answered_at: str | None
    answered_by: int | None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True)
class Part:
    id: int
    question_id: int
    sender_id: int | None
    part: str
    kind: str
    text: str | None
    file_id: str | None
    chat_message_id: int | None
    at: str


@dataclass(frozen=True)
class Copy:
    recipient_id: int
    recipient_kind: str
    message_id: int
    header: bool


_COLUMNS = ("id, mother_id, asked_by, asker_role, clinic_id, asked_day, report_id, outside_hours, asked_at,"
            " taken_at, taken_by, answered_at, answered_by")


def _question(row) -> Question:
    return Question(row["id"], row["mother_id"], row["asked_by"], row["asker_role"], row["clinic_id"],
                    row["asked_day"], row["report_id"], bool(row["outside_hours"]), row["asked_at"],
                    row["taken_at"], row["taken_by"], row["answered_at"], row["answered_by"])


async def get_question(db: Database, question_id: int) -> Question | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM question WHERE id = ?", (question_id,))
    return None if row is None else _question(row)


# ----------------------------------------------------------------- the asker
async def open_question(db: Database, asker_id: int, mother_id: int) -> Question | None:
    """This asker's unanswered question about this mother, if any (the newest)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM question WHERE asked_by = ? AND mother_id = ? AND answered_at IS NULL"
        " ORDER BY asked_at DESC, id DESC LIMIT 1", (asker_id, mother_id))
    return None if row is None else _question(row)


async def create_question(db: Database, *, mother: Mother, asked_by: int, asker_role: str, day: int,
                          report_id: int | None, outside_hours: bool, now: datetime) -> Question:
    cursor = await db.execute(
        "INSERT INTO question(mother_id, asked_by, asker_role, clinic_id, asked_day, report_id, outside_hours,"
        " asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (mother.user_id, asked_by, asker_role, mother.clinic_id, day, report_id, int(outside_hours), iso(now)))
    question = await get_question(db, cursor.rows[0]["id"])
    assert question is not None
    return question


async def add_part(db: Database, question_id: int, sender_id: int, part: str, kind: str, text: str | None,
                   file_id: str | None, chat_message_id: int | None, now: datetime,
                   update_id: int | None = None) -> Part:
    """Store one message of a question. `update_id`: the Telegram update of that message; handled
    again after a crash, it gets the part its first attempt stored (db/queries/replay.py)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    part_id, new = await insert_once(
        db, "question_message", {"question_id": question_id, "sender_id": sender_id, "part": part, "kind": kind,
                                 "text": text, "file_id": file_id, "chat_message_id": chat_message_id,
                                 "at": iso(now)},
        update_id=update_id, same=("sender_id",), stamp="at")
    if not new:
        stored = await part_of_update(db, update_id, sender_id)
        assert stored is not None
        return stored
    return Part(part_id, question_id, sender_id, part, kind, text, file_id, chat_message_id, iso(now))


_PART = "SELECT id, question_id, sender_id, part, kind, text, file_id, chat_message_id, at FROM question_message"


async def part_of_update(db: Database, update_id: int | None, sender_id: int) -> Part | None:
    """The message of `sender_id` this Telegram update stored, if it did: the update is being
    handled again after a crash."""
    if update_id is None:
        return None
    row = await db.fetchone(_PART + " WHERE update_id = ? AND sender_id = ?", (update_id, sender_id))
    return None if row is None else Part(*row)


async def parts_of(db: Database, question_id: int, part: str | None = None) -> list[Part]:
    sql = _PART + " WHERE question_id = ?"
    params: tuple = (question_id,)
    if part is not None:
        sql += " AND part = ?"
        params += (part,)
    rows = await db.fetchall(sql + " ORDER BY id", params)
    return [Part(*row) for row in rows]


# ----------------------------------------------------------------- copies sent to the midwives
async def add_copy(db: Database, question_id: int, recipient_id: int, kind: str, message_id: int, header: bool,
                   now: datetime) -> None:
    await db.execute(
        "INSERT INTO question_copy(question_id, recipient_id, recipient_kind, message_id, header, at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (question_id, recipient_id, kind, message_id, int(header), iso(now)))


async def copies_of(db: Database, question_id: int, header_only: bool = False) -> list[Copy]:
    sql = "SELECT recipient_id, recipient_kind, message_id, header FROM question_copy WHERE question_id = ?"
    if header_only:
        sql += " AND header = 1"
    rows = await db.fetchall(sql + " ORDER BY id", (question_id,))
    return [Copy(row[0], row[1], row[2], bool(row[3])) for row in rows]


async def recipients_of(db: Database, question_id: int) -> list[tuple[int, str]]:
    """Who got the question (each once, in the order they got it): (id, 'midwife' | 'admin')."""
    rows = await db.fetchall(
        "SELECT recipient_id, MIN(recipient_kind) FROM question_copy WHERE question_id = ? AND header = 1"
        " GROUP BY recipient_id ORDER BY MIN(id)", (question_id,))
    return [(row[0], row[1]) for row in rows]


async def question_of_message(db: Database, recipient_id: int, message_id: int) -> int | None:
    """The question a message in this person's chat is a copy of (for a reply in Telegram)."""
    return await db.fetchval("SELECT question_id FROM question_copy WHERE recipient_id = ? AND message_id = ?",
                             (recipient_id, message_id))


# ----------------------------------------------------------------- the midwife (her clinic only)
async def question_for(db: Database, user_id: int, question_id: int, admin_ids: list[int] | tuple = ()) -> Question:
    """The question, if this midwife may see it: the mother is (still) in her clinic. An
    administrator (not a midwife) may see only a question he was sent. Raises otherwise:
    `NotAMidwife` for anyone else, `NotYourClinic` for another clinic's or an unknown question."""
    if user_id in admin_ids and await db.fetchval("SELECT 1 FROM midwife WHERE user_id = ?", (user_id,)) is None:
        row = await db.fetchone(
            f"SELECT {_COLUMNS} FROM question q WHERE id = ? AND EXISTS (SELECT 1 FROM question_copy c"
            " WHERE c.question_id = q.id AND c.recipient_id = ?)", (question_id, user_id))
        if row is None:
            raise NotYourClinic(question_id)
        return _question(row)
    scope = await clinic_scope.scope_of(db, user_id)
    row = await db.fetchone(
        f"SELECT {', '.join('q.' + c.strip() for c in _COLUMNS.split(','))} FROM question q"
        " JOIN mother m ON m.user_id = q.mother_id WHERE q.id = ? AND m.clinic_id = ?",
        (question_id, scope.clinic_id))
    if row is None:
        raise NotYourClinic(question_id)
    return _question(row)


async def take(db: Database, question: Question, user_id: int, now: datetime) -> Question:
    """Take the question if nobody has (the first one wins); returns it as it is now."""
    await db.execute("UPDATE question SET taken_by = ?, taken_at = ? WHERE id = ? AND taken_by IS NULL"
                     " AND taken_at IS NULL AND answered_at IS NULL", (user_id, iso(now), question.id))
    found = await get_question(db, question.id)
    assert found is not None
    return found


async def mark_answered(db: Database, question_id: int, user_id: int, now: datetime) -> bool:
    """Close the question with this answer; False if it was answered already or not hers."""
    cursor = await db.execute(
        "UPDATE question SET answered_by = ?, answered_at = ? WHERE id = ? AND answered_at IS NULL"
        " AND taken_by = ?", (user_id, iso(now), question_id, user_id))
    return cursor.rowcount == 1


async def midwife_name(db: Database, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return await db.fetchval("SELECT display_name FROM midwife WHERE user_id = ?", (user_id,)) or ""


async def latest_report(db: Database, mother_id: int) -> tuple[int, str, str] | None:
    """(id, milk flow, reported_at) of her newest milk report."""
    row = await db.fetchone("SELECT id, milk_flow, reported_at FROM milk_report WHERE mother_id = ?"
                            " ORDER BY reported_at DESC, id DESC LIMIT 1", (mother_id,))
    return None if row is None else (row[0], row[1], row[2])


async def report_of(db: Database, report_id: int | None) -> tuple[str, str] | None:
    if report_id is None:
        return None
    row = await db.fetchone("SELECT milk_flow, reported_at FROM milk_report WHERE id = ?", (report_id,))
    return None if row is None else (row[0], row[1])


async def open_questions(db: Database, midwife_id: int) -> list[Question]:
    """The unanswered questions about her clinic's mothers, oldest first."""
    scope = await clinic_scope.scope_of(db, midwife_id)
    rows = await db.fetchall(
        f"SELECT {', '.join('q.' + c.strip() for c in _COLUMNS.split(','))} FROM question q"
        " JOIN mother m ON m.user_id = q.mother_id WHERE m.clinic_id = ? AND q.answered_at IS NULL"
        " ORDER BY q.asked_at, q.id", (scope.clinic_id,))
    return [_question(row) for row in rows]


@dataclass(frozen=True)
class AnswerTimes:
    answered: int
    open: int
    median_to_take_min: float | None
    median_to_answer_min: float | None


async def answer_times(db: Database, midwife_id: int, since: datetime | None = None) -> AnswerTimes:
    """Her clinic's questions: how many were answered, how many are open, and the median minutes
    from asking to being taken and to the first answer (for the summary, later)."""
    scope = await clinic_scope.scope_of(db, midwife_id)
    rows = await db.fetchall(
        "SELECT asked_at, taken_at, answered_at FROM question WHERE clinic_id = ? AND asked_at >= ?",
        (scope.clinic_id, iso(since) if since else ""))

    def minutes(start: str, end: str | None) -> float | None:
        return None if end is None else (parse_iso(end) - parse_iso(start)).total_seconds() / 60

    took = [m for r in rows if (m := minutes(r[0], r[1])) is not None]
    answered = [m for r in rows if (m := minutes(r[0], r[2])) is not None]
    return AnswerTimes(len(answered), len(rows) - len(answered),
                       statistics.median(took) if took else None,
                       statistics.median(answered) if answered else None)


# ----------------------------------------------------------------- service hours
@dataclass(frozen=True)
class Hours:
    open: time
    close: time
    days: str  # ISO weekdays, "123456" = Monday to Saturday


_HHMM = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def parse_time(text: str) -> time:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def parse_hours(text: str) -> tuple[str, str]:
    """"07:00-16:00" -> ("07:00", "16:00"); the opening must come before the closing."""
    opening, sep, closing = text.replace("–", "-").partition("-")
    if not sep:
        raise ValueError(f"hours are written HH:MM-HH:MM, e.g. 07:00-16:00: {text!r}")
    start, end = parse_time(opening), parse_time(closing)
    if start >= end:
        raise ValueError(f"the opening time must be before the closing time: {text!r}")
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def parse_days(text: str) -> str:
    """"1-6" (Monday to Saturday), "1-5", "1,2,3,4,5,6", "123456" -> "123456" etc. (ISO weekdays)."""
    text = text.strip()
    if len(text) > 1 and text.isdigit():  # the digits themselves, as `clinic set --days 123456`
        text = ",".join(text)
    days: set[int] = set()
    for piece in text.replace(" ", "").split(","):
        first, sep, last = piece.partition("-")
        if not first.isdigit() or (sep and not last.isdigit()):
            raise ValueError(f"days are ISO weekday numbers, 1 = Monday ... 7 = Sunday, e.g. 1-6: {text!r}")
        low, high = int(first), int(last) if sep else int(first)
        if not 1 <= low <= high <= 7:
            raise ValueError(f"days are ISO weekday numbers, 1 = Monday ... 7 = Sunday, e.g. 1-6: {text!r}")
        days.update(range(low, high + 1))
    return "".join(str(d) for d in sorted(days))


async def clinic_hours(db: Database, clinic_id: int | None) -> Hours:
    row = None if clinic_id is None else await db.fetchone(
        "SELECT hours_open, hours_close, hours_days FROM clinic WHERE id = ?", (clinic_id,))
    opening, closing, days = tuple(row) if row is not None else DEFAULT_HOURS
    return Hours(parse_time(opening), parse_time(closing), days or DEFAULT_HOURS[2])


async def set_clinic_hours(db: Database, clinic_id: int, hours: str | None = None, days: str | None = None) -> bool:
    """For the command line: `hours` like "07:00-16:00", `days` like "1-6". False: no such clinic."""
    changes: dict[str, str] = {}
    if hours is not None:
        changes["hours_open"], changes["hours_close"] = parse_hours(hours)
    if days is not None:
        changes["hours_days"] = parse_days(days)
    if not changes:
        return await db.fetchval("SELECT 1 FROM clinic WHERE id = ?", (clinic_id,)) is not None
    sets = ", ".join(f"{column} = ?" for column in changes)
    cursor = await db.execute(f"UPDATE clinic SET {sets} WHERE id = ?", (*changes.values(), clinic_id))
    return cursor.rowcount == 1


def next_opening(hours: Hours, moment: datetime, zone: str) -> datetime | None:
    """None while the clinic is open at `moment`; otherwise the local time it opens next."""
    local = moment.astimezone(ZoneInfo(zone))
    if str(local.isoweekday()) in hours.days and hours.open <= local.time() < hours.close:
        return None
    for ahead in range(0, 8):
        day = local.date() + timedelta(days=ahead)
        if str(day.isoweekday()) not in hours.days:
            continue
        opening = datetime.combine(day, hours.open, tzinfo=ZoneInfo(zone))
        if opening > local:
            return opening
    return None  # open on no day at all
