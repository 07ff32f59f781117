"""Reminders end to end: the real application against the loopback Bot API, time moved by hand.

The clock starts at 2026-11-30 03:00 UTC (10:00 WIB, 11:00 WITA, 12:00 WIT); mothers register
"yesterday", so postpartum day 10 is 8 December. The periodic wake-up is off in this module
(REMINDER_POLL_SECONDS=0): each test runs the dispatcher itself at the instants it chooses.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.config import Settings
from db.queries.sessions import log_session
from usecases.events import SessionLogged
from usecases.reminders import close_slot
from tests.test_onboarding import register_mother, skip_baseline

UTC = timezone.utc
START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
FOOTER = "Atur jam atau jeda pengingat"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in UTC; `day` counts from 30 Nov (0) so December needs no special case."""
    return datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=day, hours=hour, minutes=minute)


# The dispatcher sends with do_api_request on purpose (see reminders/dispatcher.py), and PTB's own
# RetryAfter warns about a future type change of `retry_after`: neither is ours to act on here.
pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]

@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                    reminder_poll_seconds=0)


async def wave(driver, clock, moment: datetime):
    clock.set(moment)
    return await driver.app.services.reminders.run_once(moment)


def reminders(person) -> list:
    return [m for m in person.messages() if FOOTER in m.body or "/reminders" in m.body and "Massage" in m.body]


async def add_companion(driver, mother, user_id: int, name: str, relation: str = "husband"):
    link = next(m.body for m in mother.messages() if "start=c_" in m.body)
    person = driver.user(user_id, name)
    await person.open_link(link)
    await person.press("ob:consent:yes")
    await person.press(f"ob:rel:{relation}")
    return person


async def rows(driver, sql: str, params=()):
    return [dict(r) for r in await driver.app.services.db.fetchall(sql, params)]


def button_data(message) -> list[str]:
    return [b["callback_data"] for b in message.buttons]


# ----------------------------------------------------------------- time zones
async def test_three_zones_at_the_same_instants_and_across_midnight(driver, clock):
    wib = await register_mother(driver, 1001, "Sari", zone="WIB")
    wita = await register_mother(driver, 1002, "Ayu", zone="WITA")
    wit = await register_mother(driver, 1003, "Maria", zone="WIT")
    budi = await add_companion(driver, wita, 2002, "Budi")

    # 16:00 WIT = 07:00 UTC: only the mother in Papua
    await wave(driver, clock, utc(0, 7))
    assert [len(reminders(p)) for p in (wib, wita, wit, budi)] == [0, 0, 1, 0]
    assert "Selamat sore, Ibu Maria" in reminders(wit)[0].body
    # 16:00 WITA = 08:00 UTC: Ayu and her husband
    await wave(driver, clock, utc(0, 8))
    assert [len(reminders(p)) for p in (wib, wita, wit, budi)] == [0, 1, 1, 1]
    assert "Saatnya memijat Ibu Ayu" in reminders(budi)[0].body
    # 16:00 WIB = 09:00 UTC
    await wave(driver, clock, utc(0, 9))
    assert [len(reminders(p)) for p in (wib, wita, wit, budi)] == [1, 1, 1, 1]

    # Across midnight: 06:00 local on 1 December is still 30 November in UTC for all three.
    for hour, person in ((21, wit), (22, wita), (23, wib)):
        await wave(driver, clock, utc(0, hour))
        newest = reminders(person)[-1]
        assert "Selamat pagi" in newest.body
        assert newest.message_id and any(d.endswith(":20261201:m") for d in button_data(newest))
    assert "Selamat pagi" in reminders(budi)[-1].body
    assert [len(reminders(p)) for p in (wib, wita, wit, budi)] == [2, 2, 2, 2]
    # a wake-up a minute later sends nothing again
    await wave(driver, clock, utc(0, 23, 1))
    assert [len(reminders(p)) for p in (wib, wita, wit, budi)] == [2, 2, 2, 2]


async def test_reminder_buttons_and_english(driver, clock):
    amy = driver.user(1010, "Amy", language_code="en")
    await amy.send("/start")
    await amy.press("ob:consent:yes")
    await amy.press("ob:role:mother")
    await amy.send("Amy")
    await amy.press("ob:dd:1")
    await amy.press("ob:bt:unknown")
    await amy.press("ob:first:yes")
    await amy.press("ob:tz:WIB")
    await wave(driver, clock, utc(0, 9))
    message = amy.last
    assert "Good afternoon, Amy" in message.body and "/reminders" in message.body
    assert button_data(message) == ["menu:guide", "rem:done:1010:20261130:e", "rem:snz:1010:20261130:e",
                                    "rem:skip:1010:20261130:e"]
    assert all(len(d.encode()) <= 64 for d in button_data(message))


# ----------------------------------------------------------------- done, snooze, skip
async def test_done_by_the_companion_updates_the_mother(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WITA")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 8, 5))
    clock.set(utc(0, 8, 40))
    await skip_baseline(budi, await budi.press("Sudah dipijat"))
    session = (await rows(driver, "SELECT * FROM massage_session"))[0]
    assert (session["mother_id"], session["logged_by"], session["who"], session["source"]) == (1001, 2001, "husband", "reminder")
    assert (session["slot_date"], session["slot"], session["started_at"]) == ("2026-11-30", "evening", "2026-11-30T08:40:00Z")
    mother_note = reminders(sari)[0]
    assert "dicatat oleh Budi" in mother_note.body and not mother_note.buttons
    assert "Anda yang mencatat" in reminders(budi)[0].body and not reminders(budi)[0].buttons
    statuses = await rows(driver, "SELECT recipient_id, status FROM reminder_delivery ORDER BY recipient_id")
    assert statuses == [{"recipient_id": 1001, "status": "done"}, {"recipient_id": 2001, "status": "done"}]
    # pressing the mother's (now button-less) reminder again changes nothing
    before = len(sari.messages())
    await sari.press_data(mother_note, "rem:done:1001:20261130:e")
    assert (await rows(driver, "SELECT COUNT(*) AS n FROM massage_session"))[0]["n"] == 1
    assert len(sari.messages()) == before


async def test_snooze_comes_back_after_thirty_minutes(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 9))
    clock.set(utc(0, 9, 2))
    await sari.press("Tunda 30 menit")
    first = reminders(sari)[0]
    assert "saya ingatkan lagi pukul 16:32 WIB" in first.body and not first.buttons
    await wave(driver, clock, utc(0, 9, 31))
    assert len(reminders(sari)) == 1
    await wave(driver, clock, utc(0, 9, 32))
    assert len(reminders(sari)) == 2 and reminders(sari)[1].buttons
    assert len(reminders(budi)) == 1  # his reminder was not snoozed
    row = (await rows(driver, "SELECT * FROM reminder_delivery WHERE recipient_id = 1001"))[0]
    assert (row["status"], row["snoozes"], row["message_id"]) == ("sent", 1, reminders(sari)[1].message_id)


async def test_snoozed_reminder_is_not_sent_once_logged(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 9))
    await sari.press("Tunda 30 menit")
    await skip_baseline(budi, await budi.press("Sudah dipijat"))
    assert "dicatat oleh Budi" in reminders(sari)[0].body
    await wave(driver, clock, utc(0, 9, 45))
    assert len(reminders(sari)) == 1
    assert (await rows(driver, "SELECT status FROM reminder_delivery WHERE recipient_id = 1001"))[0]["status"] == "done"


async def test_snooze_limited_to_the_slot(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    await wave(driver, clock, utc(0, 23))  # 06:00 WIB on 1 Dec (the evening before was missed)
    morning = [m for m in reminders(sari) if "Selamat pagi" in m.body][0]
    clock.set(utc(1, 4, 45))  # 11:45 WIB: 30 minutes later would be the afternoon
    await sari.press_data(morning, "rem:snz:1001:20261201:m")
    answers = sari.callback_answers()
    assert "Tidak bisa ditunda lagi" in answers[-1]["text"] and answers[-1]["show_alert"]


async def test_skip_and_a_forged_button(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    eve = driver.user(3001, "Eve")
    eves_message = (await eve.send("/start"))[-1]
    await wave(driver, clock, utc(0, 9))
    await sari.press("Lewati kali ini")
    assert "Dilewati kali ini" in reminders(sari)[0].body and not reminders(sari)[0].buttons
    # someone else cannot answer Budi's reminder, even with its exact data
    await eve.press_data(eves_message, "rem:done:1001:20261130:e")
    assert "tidak berlaku" in eve.callback_answers()[-1]["text"]
    assert (await rows(driver, "SELECT COUNT(*) AS n FROM massage_session"))[0]["n"] == 0
    assert reminders(budi)[0].buttons
    statuses = await rows(driver, "SELECT recipient_id, status, reason FROM reminder_delivery ORDER BY recipient_id")
    assert statuses == [{"recipient_id": 1001, "status": "skipped", "reason": "user"},
                        {"recipient_id": 2001, "status": "sent", "reason": None}]


async def test_guide_logs_a_session_and_reminders_say_so(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIT")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 7))
    await budi.press("Tunda 30 menit")
    db = driver.app.services.db
    logged = await log_session(db, mother_id=1001, timezone="Asia/Jayapura", logged_by=1001, started_at=utc(0, 7, 10),
                               now=utc(0, 7, 20), duration_s=600, source="guide")
    event = SessionLogged(1001, logged.slot_date, logged.slot, 1001, "guide", logged.new)
    assert await close_slot(driver.app.services.deps, event) == 2
    assert "dicatat oleh Ibu Sari" in reminders(budi)[0].body
    assert "Anda yang mencatat" in reminders(sari)[0].body
    await wave(driver, clock, utc(0, 7, 45))
    assert len(reminders(budi)) == 1  # the snoozed one does not come back
    assert await close_slot(driver.app.services.deps, event) == 0


async def test_session_logged_before_the_reminder(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    db = driver.app.services.db
    await log_session(db, mother_id=1001, timezone="Asia/Jakarta", logged_by=1001, started_at=utc(0, 8, 30),
                      now=utc(0, 8, 45), source="guide")
    report = await wave(driver, clock, utc(0, 9))
    assert reminders(sari) == [] and report.settled == {"done": 1}


# ----------------------------------------------------------------- /pengingat
async def test_pause_one_day_then_resume(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    screen = (await sari.send("/pengingat"))[-1]
    assert "Pagi: 06:00 · Sore: 16:00 (WIB)" in screen.body
    assert "Pengingat berikutnya: hari ini pukul 16:00 WIB" in screen.body
    replies = await sari.press("Jeda 1 hari")
    assert "dijeda sampai besok pukul 10:00 WIB, juga untuk pendamping" in replies[0].body
    assert "Pengingat berikutnya: besok pukul 16:00 WIB" in replies[-1].body
    await wave(driver, clock, utc(0, 9))    # 16:00 today: paused
    await wave(driver, clock, utc(0, 23))   # 06:00 tomorrow: paused
    assert reminders(sari) == [] and reminders(budi) == []
    await wave(driver, clock, utc(1, 9))    # 16:00 tomorrow: the pause is over
    assert len(reminders(sari)) == 1 and len(reminders(budi)) == 1

    replies = await sari.send("/pengingat stop")
    assert "Pengingat dihentikan" in replies[0].body and "Lanjutkan pengingat" in str(replies[-1].buttons)
    await wave(driver, clock, utc(1, 23))
    assert len(reminders(sari)) == 1
    replies = await sari.send("/reminders lanjut")
    assert "Pengingat dilanjutkan" in replies[0].body
    await wave(driver, clock, utc(2, 9))
    assert len(reminders(sari)) == 2 and len(reminders(budi)) == 2


async def test_companion_pauses_only_himself(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WITA")
    budi = await add_companion(driver, sari, 2001, "Budi")
    screen = (await budi.send("/pengingat"))[-1]
    assert "Ibu Sari: pagi 06:00, sore 16:00 (WITA)" in screen.body
    assert not any(b["callback_data"].startswith("rem:time") for b in screen.buttons)
    await budi.send("/pengingat jeda 2")
    await wave(driver, clock, utc(0, 8))
    assert len(reminders(sari)) == 1 and reminders(budi) == []
    # a forged "change time" button from the companion is refused
    await budi.press_data(screen, "rem:time:m")
    assert "diatur oleh Ibu" in budi.callback_answers()[-1]["text"]
    await budi.press("Lanjutkan pengingat")
    await wave(driver, clock, utc(0, 22))
    assert len(reminders(budi)) == 1


async def test_change_time_with_presets_and_free_text(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    await sari.send("/pengingat")
    replies = await sari.press("Ubah jam pagi")
    assert "05:30" in str(replies[-1].buttons)
    for typed, answer in (("jam enam", "belum bisa saya baca"), ("13:00", "harus sebelum 12:00")):
        replies = await sari.send(typed)
        assert answer in replies[-1].body
    replies = await sari.send("5.15")
    assert "Pengingat pagi sekarang pukul 05:15 WIB" in replies[0].body
    assert "Pagi: 05:15" in replies[-1].body
    await sari.press("Ubah jam sore")
    replies = await sari.press("17:00")
    assert "Pengingat sore sekarang pukul 17:00 WIB" in replies[0].body
    replies = await sari.send("/pengingat sore 09:00")
    assert "harus mulai pukul 12:00" in replies[0].body
    await wave(driver, clock, utc(0, 9))    # 16:00 WIB: not any more
    assert reminders(sari) == []
    await wave(driver, clock, utc(0, 10))   # 17:00 WIB
    await wave(driver, clock, utc(0, 22, 15))  # 05:15 WIB
    assert len(reminders(sari)) == 2


async def test_menu_entry_for_mother_and_companion(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    for person in (sari, budi):
        menu_message = (await person.send("/menu"))[-1]
        assert "menu:reminders" in button_data(menu_message)
        replies = await person.press("menu:reminders")
        assert "⏰" in replies[-1].body
    midwife_like = driver.user(3001, "Nia")
    replies = await midwife_like.send("/pengingat")
    assert "ibu yang baru melahirkan" in replies[0].body


# ----------------------------------------------------------------- end of window, blocked, deleted
async def test_window_ends_on_day_ten(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    await wave(driver, clock, utc(8, 9))      # 16:00 WIB on 8 Dec: postpartum day 10
    assert len(reminders(sari)) == 1         # everything earlier was planned as missed, not sent
    counts = await rows(driver, "SELECT status, COUNT(*) AS n FROM reminder_delivery GROUP BY status ORDER BY status")
    assert counts == [{"status": "missed", "n": 16}, {"status": "sent", "n": 1}]
    await wave(driver, clock, utc(8, 23))     # 06:00 on 9 Dec: day 11
    await wave(driver, clock, utc(9, 9))
    assert len(reminders(sari)) == 1
    assert (await rows(driver, "SELECT next_check_at FROM reminder_pref"))[0]["next_check_at"] is None
    screen = (await sari.send("/pengingat"))[-1]
    assert "Masa pengingat sudah selesai" in screen.body


async def test_clinic_window_override(driver, clock):
    db = driver.app.services.db
    from db.queries import clinics

    clinic, _ = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", "2026-11-30T00:00:00Z")
    await db.execute("UPDATE clinic SET reminder_days = 3 WHERE id = ?", (clinic.id,))
    sari = await register_mother(driver, 1001, "Sari", zone="WIB", start=f"/start m_{clinic.mother_code}")
    await wave(driver, clock, utc(1, 9))   # day 3 evening (born 29 Nov)
    await wave(driver, clock, utc(1, 23))  # day 4 morning: none
    assert ["Selamat sore" in m.body for m in reminders(sari)] == [True]


async def test_blocked_user_stops_getting_reminders(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    driver.server.block(1001)
    report = await wave(driver, clock, utc(0, 9))
    assert report.blocked == 1 and report.sent == 1
    assert (await rows(driver, "SELECT active FROM app_user WHERE telegram_id = 1001"))[0]["active"] == 0
    sends_before = sum(1 for method, params in driver.server.requests
                       if method == "sendMessage" and str(params.get("chat_id")) == "1001")
    await wave(driver, clock, utc(0, 23))
    sends_after = sum(1 for method, params in driver.server.requests
                      if method == "sendMessage" and str(params.get("chat_id")) == "1001")
    assert sends_after == sends_before  # no more attempts at her
    assert len(reminders(budi)) == 2     # her husband still massages her


async def test_deleting_her_data_stops_everyone(driver, clock):
    sari = await register_mother(driver, 1001, "Sari", zone="WIB")
    budi = await add_companion(driver, sari, 2001, "Budi")
    await wave(driver, clock, utc(0, 9))
    mydata = "\n".join(m.body for m in await sari.send("/saya"))
    assert "Pengaturan pengingat" in mydata and "Pengingat terkirim" in mydata
    await sari.send("/hapus")
    await sari.press("del:yes")
    assert await rows(driver, "SELECT * FROM reminder_delivery") == []
    assert await rows(driver, "SELECT * FROM reminder_pref") == []
    await wave(driver, clock, utc(0, 23))
    assert len(reminders(budi)) == 1
