"""Reminders, plain logic: slots in three zones, the window, grace, snooze limits, pacing, words."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.i18n import texts
from reminders.planning import (Schedule, Slot, due_slots, first_slot, fits_slot, last_day, next_check, parse_hhmm,
                                slot_from_code, snooze_until, too_late)
from reminders.preferences import parse_request
from reminders.ratelimit import ChatSpacing, Deferred, RateLimiter

UTC = timezone.utc
WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"


def schedule(zone: str, registered: datetime, delivery=date(2026, 11, 29), days=10, morning=time(6), evening=time(16)):
    return Schedule(zone, morning, evening, registered, last_day(delivery, days))


def test_same_instant_three_zones():
    """06:00 local is 23:00, 22:00 and 21:00 UTC the evening before: the same slot date, Dec 1."""
    registered = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    for zone, hour in ((WIB, 23), (WITA, 22), (WIT, 21)):
        slots = list(due_slots(schedule(zone, registered), registered, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)))
        assert [(s.date.isoformat(), s.name) for s in slots] == [("2026-11-30", "evening"), ("2026-12-01", "morning")]
        assert slots[1].at == datetime(2026, 11, 30, hour, 0, tzinfo=UTC), zone
        assert slots[0].at == datetime(2026, 11, 30, hour - 14, 0, tzinfo=UTC), zone  # 16:00 local


def test_first_slot_is_after_registration():
    registered = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # 16:30 WIB: the evening slot is gone
    slot = first_slot(schedule(WIB, registered), registered)
    assert (slot.date, slot.name) == (date(2026, 12, 1), "morning")


def test_window_ends_on_postpartum_day_ten():
    registered = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    plan = schedule(WITA, registered)
    assert plan.last_day == date(2026, 12, 8)  # born 29 Nov = day 1, day 10 = 8 Dec
    slots = list(due_slots(plan, registered, datetime(2026, 12, 31, tzinfo=UTC)))
    assert len(slots) == 1 + 2 * 8  # evening of 30 Nov, then 1-8 Dec twice a day
    assert (slots[-1].date, slots[-1].name) == (date(2026, 12, 8), "evening")
    assert next_check(plan, slots[-1].at) is None


def test_pause_moves_the_next_check():
    registered = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    plan = schedule(WIB, registered)
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_check(plan, now) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # paused until 10:00 WIB tomorrow: the morning goes, the next is tomorrow evening
    assert next_check(plan, now, now + timedelta(days=1)) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_grace_is_strict():
    due = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert not too_late(due, due + timedelta(minutes=119), timedelta(minutes=120))
    assert too_late(due, due + timedelta(minutes=120), timedelta(minutes=120))


def test_snooze_stays_in_its_slot():
    plan = schedule(WIB, datetime(2026, 11, 30, tzinfo=UTC))
    morning = Slot(date(2026, 12, 1), "morning", datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert snooze_until(plan, morning, datetime(2026, 11, 30, 23, 0, tzinfo=UTC), 30) == datetime(
        2026, 11, 30, 23, 30, tzinfo=UTC)
    assert snooze_until(plan, morning, datetime(2026, 12, 1, 4, 45, tzinfo=UTC), 30) is None  # 12:15 WIB
    evening = Slot(date(2026, 12, 1), "evening", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert snooze_until(plan, evening, datetime(2026, 12, 1, 16, 45, tzinfo=UTC), 30) is None  # 00:15 next day


@pytest.mark.parametrize("text, value", [("06:00", time(6)), ("6:30", time(6, 30)), ("5.15", time(5, 15)),
                                         ("17", time(17)), (" 07 : 05 ", time(7, 5)), ("24:00", None),
                                         ("6:60", None), ("jam 6", None), ("", None), (None, None)])
def test_parse_hhmm(text, value):
    assert parse_hhmm(text) == value


def test_fits_slot_and_codes():
    assert fits_slot(time(11, 59), "morning") and not fits_slot(time(12), "morning")
    assert fits_slot(time(12), "evening") and not fits_slot(time(5), "evening")
    assert slot_from_code("20261201", "m") == (date(2026, 12, 1), "morning")
    assert slot_from_code("20261301", "m") is None
    assert slot_from_code("20261201", "x") is None


@pytest.mark.parametrize("args, expected", [
    (["jeda"], ("pause", 1)), (["jeda", "2", "hari"], ("pause", 2)), (["pause", "3"], ("pause", 3)),
    (["jeda", "20"], ("problem", None)), (["lanjut"], ("resume", None)), (["RESUME"], ("resume", None)),
    (["stop"], ("stop", None)), (["pagi", "05:30"], ("time", None)), (["sore", "09:00"], ("problem", None)),
    (["pagi"], ("problem", None)), (["halo"], ("problem", None)),
])
def test_command_words(args, expected):
    request = parse_request(args, texts().data("id", "reminders.words"))
    assert (request.action, request.days) == expected
    if request.action == "problem":
        assert texts().t("id", request.problem)  # every problem has a text to explain it


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_rate_limiter_holds_the_cap_without_drift():
    fake = FakeTime()
    limiter = RateLimiter(30, monotonic=fake.monotonic, sleep=fake.sleep)
    grants = [await limiter.acquire() for _ in range(301)]
    gaps = [b - a for a, b in zip(grants, grants[1:])]
    assert min(gaps[3:]) == pytest.approx(1 / 30)  # after the short catch-up allowance: evenly spaced
    assert grants[-1] - grants[0] == pytest.approx(300 / 30 - 0.1, abs=1e-6)  # 30/s exactly (minus the 0.1 s allowance)


async def test_rate_limiter_pause_holds_everyone():
    fake = FakeTime()
    limiter = RateLimiter(10, monotonic=fake.monotonic, sleep=fake.sleep)
    await limiter.acquire()
    limiter.pause(3)
    granted = await limiter.acquire()
    assert granted >= 1003.0


async def test_rate_limiter_rejects_a_reserved_slot_inside_a_pause():
    fake = FakeTime()
    limiter = RateLimiter(1, burst_s=0, monotonic=fake.monotonic, sleep=fake.sleep)
    await limiter.acquire()  # t=1000; the next slot is reserved for t=1001

    paused = []

    async def pausing_sleep(seconds: float) -> None:
        if not paused:  # a 429 arrives while we wait for our slot
            paused.append(True)
            limiter.pause(5)
        fake.now += seconds

    limiter._sleep = pausing_sleep
    granted = await limiter.acquire()
    assert granted >= 1005.0


def test_chat_spacing_and_deferred():
    fake = FakeTime()
    spacing = ChatSpacing(1.0, monotonic=fake.monotonic)
    spacing.note(7, 1000.0)
    assert spacing.ready_at(7) == 1001.0 and spacing.ready_at(8) == float("-inf")
    later = Deferred()
    later.push(5.0, "b")
    later.push(1.0, "a")
    assert later.pop_ready(0.5) is None and later.pop_ready(1.0) == "a" and later.next_at() == 5.0


async def test_chat_spacing_counts_from_the_answer():
    fake = FakeTime()
    spacing = ChatSpacing(1.1, monotonic=fake.monotonic, sleep=fake.sleep)
    await spacing.before_send(7)
    assert spacing.recently_sent(7, 2.2)
    fake.now += 0.5            # the first request takes half a second to be answered
    spacing.after_send(7)
    answered = fake.now
    await spacing.before_send(7)
    assert fake.now == pytest.approx(answered + 1.1)  # 1.1 s after the answer, not after the send
    spacing.after_send(7)
    await spacing.before_send(8)  # another chat does not wait
    assert fake.now == pytest.approx(answered + 1.1)
