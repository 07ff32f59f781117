"""The alert rules and the before/after phase as plain functions (no Telegram)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.age import birth_moment, day_of_life, hours_of_life
from domain.alerts import (Cause, danger_cause, day_from_hours, feeds_cause, feeds_cleared, in_window, is_inactive,
                           milk_cause, milk_cleared, nappies_cause, nappies_cleared, report_causes, wet_nappies_needed)
from domain.phases import phase_of
from flows.reports import parse_count

T0 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
H = 1.0  # hours


@pytest.mark.parametrize("day, needed", [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (9, 6), (30, 6), (0, 1)])
def test_wet_nappies_by_day_of_life(day, needed):
    assert wet_nappies_needed(day) == needed


@pytest.mark.parametrize("hours, day", [(0, 1), (23.9, 1), (24, 2), (47.9, 2), (72, 4), (-3, 1)])
def test_day_from_hours(hours, day):
    assert day_from_hours(hours) == day


def test_few_wet_nappies_by_hours_of_life():
    assert nappies_cause(0, 23.9) is None            # no nappy rule in the first 24 hours
    assert nappies_cause(1, 24) == Cause("few_wet_nappies", "1/2")  # day 2 needs 2
    assert nappies_cause(4, 4 * 24 + 1) == Cause("few_wet_nappies", "4/5")
    assert nappies_cause(5, 4 * 24 + 1) is None
    assert nappies_cause(5, 7 * 24) == Cause("few_wet_nappies", "5/6")
    assert nappies_cause(None, 7 * 24) is None       # not answered: no rule
    assert nappies_cleared(6, 7 * 24) and not nappies_cleared(5, 7 * 24) and not nappies_cleared(None, 7 * 24)


def test_milk_not_out_from_72_hours():
    assert milk_cause("not_out", 71.9) is None
    assert milk_cause("not_out", 72) == Cause("milk_not_out", "4")
    assert milk_cause("not_smooth", 200) is None
    assert milk_cleared("not_smooth") and milk_cleared("smooth") and not milk_cleared("not_out")


def test_feeds_few_and_not_feeding():
    assert feeds_cause(3, 23.9) is None and feeds_cause(0, 10) is None   # the first day: advice only
    assert feeds_cause(7, 24) == Cause("few_feeds", "7", "warning")
    assert feeds_cause(3, 30) == Cause("few_feeds", "3", "warning")
    assert feeds_cause(2, 30) == Cause("not_feeding", "2", "urgent")
    assert feeds_cause(0, 100) == Cause("not_feeding", "0", "urgent")
    assert feeds_cause(8, 100) is None and feeds_cause(None, 100) is None
    assert feeds_cleared(8) and not feeds_cleared(7) and not feeds_cleared(None)


def test_danger_signs_urgency_and_order_of_causes():
    assert danger_cause([]) is None and danger_cause(None) is None
    assert danger_cause(["breast_red"], {"fits"}) == Cause("danger_sign", "breast_red", "warning")
    assert danger_cause(["breast_red", "fits"], {"fits"}).urgency == "urgent"
    assert danger_cause(["breast_red"]).urgency == "urgent"  # no list of urgent signs: the safe side
    assert Cause("x", "y") == Cause("x", "y", "warning")       # positional compatibility
    causes = report_causes(milk_flow="not_out", hours=5 * 24, wet_nappies=1, feeds=2, danger_signs=["sadness"],
                           urgent_signs={"fits"})
    assert [c.cause for c in causes] == ["not_feeding", "danger_sign", "milk_not_out", "few_wet_nappies"]
    assert report_causes(milk_flow="smooth", hours=5 * 24, wet_nappies=6, feeds=9) == []


def test_hours_of_life_from_birth_time_and_zone():
    base = {"delivery_date": date(2026, 11, 29), "timezone": "Asia/Makassar"}   # UTC+8
    # an exact time
    assert birth_moment(date(2026, 11, 29), "23:00", "Asia/Makassar") == datetime(2026, 11, 29, 15, 0,
                                                                                  tzinfo=timezone.utc)
    assert hours_of_life(base | {"birth_time": "23:00"}, datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc)) == 2
    # a part of the day counts from its end (the youngest the baby can be)
    assert hours_of_life(base | {"birth_time": "morning"}, datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)) == 0
    assert hours_of_life(base | {"birth_time": "night"}, datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)) == 6
    assert hours_of_life(base | {"birth_time": "evening"}, datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)) == 24
    # unknown: from the end of the delivery day (a day's grace)
    assert hours_of_life(base | {"birth_time": None}, T0) == 11     # 30/11 11:00 WITA
    assert day_of_life(base | {"birth_time": None}, T0) == 1
    assert day_of_life(base | {"birth_time": "00:30"}, T0) == 2     # 34.5 hours
    # another zone, same local time: a different moment
    jakarta = base | {"birth_time": "23:00", "timezone": "Asia/Jakarta"}
    assert hours_of_life(jakarta, datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc)) == 1
    assert hours_of_life(base | {"birth_time": "23:00"}, datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)) == 0


def test_inactivity_needs_two_quiet_days_inside_the_window():
    assert not is_inactive(T0, T0 - timedelta(hours=47), 5, 10)
    assert is_inactive(T0, T0 - timedelta(hours=48), 5, 10)
    assert not is_inactive(T0, T0 - timedelta(days=5), 11, 10)  # window over
    assert is_inactive(T0, T0 - timedelta(days=5), 14, 14)      # the clinic's longer window
    assert in_window(1, 10) and not in_window(0, 10)


def test_phase_is_pre_until_the_first_session():
    assert phase_of(T0, None) == "pre"
    assert phase_of(T0, T0 + timedelta(minutes=1)) == "pre"
    assert phase_of(T0, T0) == "pre"  # same second, stored before the session was logged
    assert phase_of(T0, T0, session_logged_before=True) == "post"
    assert phase_of(T0, T0 - timedelta(days=1)) == "post"


@pytest.mark.parametrize("typed, value", [("8", 8), (" 12 ", 12), ("8x", 8), ("9 kali", 9), ("10 times", 10),
                                          ("0", 0), ("delapan", None), ("8.5", None), ("41", None), ("", None)])
def test_typed_counts(typed, value):
    assert parse_count(typed, 40) == value


# ----------------------------------------------------------------- the pair tables kept by triggers
async def _db(db_url):
    from db.database import Database
    from db.queries import mothers, users

    db = await Database(db_url).open()
    await users.create_user(db, 1, "mother", "id", "2026-11-30T00:00:00Z")
    await mothers.create_mother(db, 1, "Sari", date(2026, 11, 28), True, "Asia/Makassar",
                                None, "2026-11-30T00:00:00Z")
    return db


async def test_milk_pair_follows_every_change_of_the_reports(db_url):
    from db.queries import reports

    db = await _db(db_url)

    async def add(at, flow, phase):
        await db.execute("INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day,"
                         " phase, milk_flow) VALUES (1, 1, 'mother', ?, 3, ?, ?)", (at, phase, flow))

    async def pair():
        return tuple(await db.fetchone("SELECT first_pre, latest_post FROM milk_pair WHERE mother_id = 1"))

    await add("2026-11-28T01:00:00Z", "not_out", "pre")
    assert await pair() == ("not_out", None)
    await add("2026-11-28T05:00:00Z", "not_smooth", "pre")
    await add("2026-11-29T05:00:00Z", "smooth", "post")
    assert await pair() == ("not_out", "smooth")
    # a session logged later, timed before the second report: that report becomes 'post'
    await db.execute("INSERT INTO massage_session(mother_id, logged_by, slot_date, slot, started_at, source,"
                     " created_at) VALUES (1, 1, '2026-11-28', 'morning', '2026-11-28T03:00:00Z', 'manual', ?)",
                     ("2026-11-30T00:00:00Z",))
    assert await reports.refresh_phases(db, 1) == 1
    assert await pair() == ("not_out", "smooth")
    await db.execute("DELETE FROM milk_report WHERE milk_flow = 'smooth'")
    assert await pair() == ("not_out", "not_smooth")
    await db.execute("DELETE FROM mother WHERE user_id = 1")  # the cascade leaves nothing behind
    assert await db.fetchval("SELECT COUNT(*) FROM milk_pair") == 0
    await db.close()


async def test_quiz_pair_takes_first_finished_pre_and_latest_finished_post(db_url):
    db = await _db(db_url)

    async def attempt(kind, started, finished=None, score=None):
        cursor = await db.execute("INSERT INTO quiz_attempt(user_id, kind, lang, item_order, started_at, finished_at,"
                                  " score) VALUES (1, ?, 'id', '[]', ?, ?, ?) RETURNING id", (kind, started, finished, score))
        return cursor.rows[0]["id"]

    async def pair():
        return tuple(await db.fetchone("SELECT first_pre, latest_post FROM quiz_pair WHERE user_id = 1"))

    await attempt("pre", "2026-11-28T01:00:00Z", "2026-11-28T01:05:00Z", 40)
    await attempt("pre", "2026-11-29T01:00:00Z", "2026-11-29T01:05:00Z", 90)
    await attempt("practice", "2026-11-29T02:00:00Z", "2026-11-29T02:05:00Z", 100)
    running = await attempt("post", "2026-11-30T01:00:00Z")
    assert await pair() == (40, None)
    await db.execute("UPDATE quiz_attempt SET finished_at = '2026-11-30T01:09:00Z', score = 70 WHERE id = ?",
                     (running,))  # the quiz writes the score when she finishes
    assert await pair() == (40, 70)
    await attempt("post", "2026-11-30T05:00:00Z", "2026-11-30T05:05:00Z", 80)
    assert await pair() == (40, 80)
    await db.execute("DELETE FROM app_user WHERE telegram_id = 1")
    assert await db.fetchval("SELECT COUNT(*) FROM quiz_pair") == 0
    await db.close()
