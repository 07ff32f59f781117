"""The midwife's daily call list, end to end on an injected clock: whom to contact today, in
order, her own clinic only, sent once each morning in the clinic's zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.clock import iso
from flows.call_list import send_due
from test_alerting import danger_report
from test_reports import make_clinic, mother_in, new_midwife


async def add_report(db, mother_id, at: datetime, flow, feeds=None, wet=None):
    await db.execute(
        "INSERT INTO milk_report(mother_id, reported_by, reporter_role, reported_at, postpartum_day, phase,"
        " milk_flow, feeds_24h, wet_nappies_24h) VALUES (?, ?, 'mother', ?, 3, 'pre', ?, ?, ?)",
        (mother_id, mother_id, iso(at), flow, feeds, wet))


async def clinic_with_mothers(driver, clock):
    db = driver.app.services.db
    clinic, _ = await make_clinic(driver)                   # Asia/Makassar (WITA)
    ani = await new_midwife(driver, clinic, 5901, "Ani")
    now = clock.now()
    sari = await mother_in(driver, clinic, 5001, "Sari")
    await danger_report(sari, "fits")                        # urgent
    for user_id, name in ((5002, "Yuni"), (5003, "Tari"), (5004, "Rina"), (5005, "Lia")):
        await mother_in(driver, clinic, user_id, name)
    # Yuni: born 4 days ago, her latest report says milk not out (72 h and more)
    await db.execute("UPDATE mother SET delivery_date = ? WHERE user_id = 5002",
                     ((now - timedelta(days=4)).date().isoformat(),))
    await add_report(db, 5002, now - timedelta(hours=3), "not_out", feeds=9, wet=6)
    # Tari: registered 3 days ago, never reported
    await db.execute("UPDATE mother SET created_at = ? WHERE user_id = 5003", (iso(now - timedelta(days=3)),))
    # Rina: fine (recent report, enough feeds and nappies); Lia: few feeds yesterday
    await add_report(db, 5004, now - timedelta(hours=2), "smooth", feeds=10, wet=6)
    await db.execute("UPDATE mother SET delivery_date = ? WHERE user_id IN (5004, 5005)",
                     ((now - timedelta(days=3)).date().isoformat(),))
    await add_report(db, 5005, now - timedelta(hours=20), "not_smooth", feeds=5, wet=6)
    return clinic, ani


async def test_call_list_names_whom_to_contact_in_order_with_buttons(driver, clock):
    clinic, ani = await clinic_with_mothers(driver, clock)
    replies = await ani.send("/hubungi")
    text = replies[-1].body
    order = [name for name in ("Sari", "Yuni", "Lia", "Tari") if name in text]
    assert order == ["Sari", "Yuni", "Lia", "Tari"]
    assert text.index("Sari") < text.index("Yuni") < text.index("Lia") < text.index("Tari")
    assert "Rina" not in text
    assert "tanda bahaya terbuka" in text and "ASI belum keluar" in text and "kurang dari 8" in text
    assert "tidak ada laporan 2 hari" in text
    assert [b["callback_data"] for b in replies[-1].buttons] == ["mw:rec:5001", "mw:rec:5002", "mw:rec:5005",
                                                                 "mw:rec:5003"]
    record = await ani.press("mw:rec:5002")
    assert "Yuni" in record[-1].body


async def test_call_list_is_sent_each_morning_once_in_the_clinic_zone(driver, clock):
    clinic, ani = await clinic_with_mothers(driver, clock)
    # 06:30 WITA next day: not yet; 07:05: sent once; again: nothing; the morning after: again
    clock.set(datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc))
    before = len(ani.messages())
    assert await send_due(driver.app, clock.now()) == 0
    clock.set(datetime(2026, 11, 30, 23, 5, tzinfo=timezone.utc))
    assert await send_due(driver.app, clock.now()) == 1
    assert "Hubungi hari ini" in ani.messages()[before].body and "01-12-2026" in ani.messages()[before].body
    assert await send_due(driver.app, clock.now()) == 0
    clock.advance(timedelta(days=1))
    assert await send_due(driver.app, clock.now()) == 1


async def test_another_clinic_sees_none_of_it(driver, clock):
    await clinic_with_mothers(driver, clock)
    other, _ = await make_clinic(driver, "Puskesmas Lain")
    eve = await new_midwife(driver, other, 5902, "Eve")
    replies = await eve.send("/hubungi")
    assert "tidak ada ibu yang perlu dihubungi" in replies[-1].body
    for name in ("Sari", "Yuni", "Tari", "Lia"):
        assert name not in replies[-1].body
    mother = driver.user(5001, "Sari")
    replies = await mother.send("/hubungi")
    assert replies[0].body == "Perintah ini khusus untuk bidan yang terdaftar di Puskesmas."
