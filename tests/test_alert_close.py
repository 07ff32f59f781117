"""Closing alerts by hand from a mother's record (flows/midwife.py): a danger alert asks for the
outcome in one tap and can be undone by a midwife of the same clinic; other alerts close with
one tap; the record shows urgent alerts first, the day of the report and alerts that did not
reach a midwife; nothing works for another clinic, whatever is forged."""
from __future__ import annotations

import pytest

from db.queries import clinic_scope
from test_midwife import add_alert, add_mother
from test_reports import make_clinic, mother_in, new_midwife, report, rows, texts_of

T = "2026-11-29T10:00:00Z"


def datas(messages) -> list[str]:
    return [b["callback_data"] for m in messages for b in m.buttons]


async def alert_row(driver, alert_id):
    return (await rows(driver, "SELECT closed_at IS NOT NULL AS closed, closed_by, closed_how, outcome FROM alert"
                               " WHERE id = ?", (alert_id,)))[0]


async def two_clinics(driver):
    a, _ = await make_clinic(driver, "Puskesmas Bener")
    b, _ = await make_clinic(driver, "Puskesmas Talise")
    ani = await new_midwife(driver, a, 6901, "Ani")
    eka = await new_midwife(driver, a, 6902, "Eka")
    tia = await new_midwife(driver, b, 6903, "Tia")
    return a, b, ani, eka, tia


async def test_a_danger_alert_asks_the_outcome_and_can_be_undone(driver):
    a, b, ani, eka, tia = await two_clinics(driver)
    sari = await mother_in(driver, a, 6001, "Sari")
    await report(sari, danger=("fits",))
    alert_id = await driver.app.services.db.fetchval("SELECT id FROM alert WHERE mother_id = 6001")
    await ani.send("/ibu")
    await ani.press("mw:rec:6001")
    replies = await ani.press(f"mw:close:{alert_id}")
    question = replies[-1]
    assert "Apa hasilnya?" in question.body
    assert datas([question]) == [f"mw:out:{alert_id}:seen", f"mw:out:{alert_id}:referred",
                                 f"mw:out:{alert_id}:unreachable"]
    assert [b["text"] for b in question.buttons] == ["Sudah diperiksa di Puskesmas", "Dirujuk",
                                                     "Tidak bisa dihubungi"]
    assert (await alert_row(driver, alert_id))["closed"] == 0  # not closed before the outcome

    # another clinic's midwife cannot close it with a forged outcome button
    await tia.send("/ibu")
    replies = await tia.press_data(tia.last, f"mw:out:{alert_id}:seen")
    assert replies[-1].body == "Data ini tidak ada atau bukan dari Puskesmas Anda."
    assert (await alert_row(driver, alert_id))["closed"] == 0

    replies = await ani.press("Dirujuk")
    assert await alert_row(driver, alert_id) == {"closed": 1, "closed_by": 6901, "closed_how": "midwife",
                                                 "outcome": "referred"}
    confirmation = next(m for m in ani.messages() if m.message_id == question.message_id)
    assert "ditutup: Dirujuk" in confirmation.body and datas([confirmation]) == [f"mw:undo:{alert_id}"]
    assert "Tidak ada peringatan terbuka." in replies[-1].body  # the fresh record
    replies = await ani.press_data(confirmation, f"mw:out:{alert_id}:seen")  # a second tap: nothing changes
    assert (await alert_row(driver, alert_id))["outcome"] == "referred"

    # undo: refused for another clinic, works for a midwife of the same clinic
    replies = await tia.press_data(tia.last, f"mw:undo:{alert_id}")
    assert replies[-1].body == "Data ini tidak ada atau bukan dari Puskesmas Anda."
    assert (await alert_row(driver, alert_id))["closed"] == 1
    await eka.send("/ibu")
    replies = await eka.press_data(eka.last, f"mw:undo:{alert_id}")
    assert await alert_row(driver, alert_id) == {"closed": 0, "closed_by": None, "closed_how": None,
                                                 "outcome": None}
    assert "dibuka lagi" in texts_of(replies) or any("dibuka lagi" in (x.get("text") or "")
                                                     for x in eka.callback_answers())
    assert f"mw:close:{alert_id}" in datas(replies[-1:])  # the record shows it open again
    replies = await ani.press("Urungkan")  # a second undo: open already
    assert any(x.get("text") == "Peringatan ini sudah terbuka, atau tidak ditutup oleh bidan."
               for x in ani.callback_answers())

    # the functions themselves refuse foreign ids and non-midwives
    db, now = driver.app.services.db, driver.app.services.clock.now()
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.close_alert(db, 6903, alert_id, now, outcome="seen")
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.reopen_alert(db, 6903, alert_id)
    with pytest.raises(clinic_scope.NotYourClinic):
        await clinic_scope.alert_of_clinic(db, 6901, 999999)
    with pytest.raises(clinic_scope.NotAMidwife):
        await clinic_scope.reopen_alert(db, 6001, alert_id)
    assert (await alert_row(driver, alert_id))["closed"] == 0


async def test_other_alerts_close_with_one_tap(driver):
    a, b, ani, eka, tia = await two_clinics(driver)
    db = driver.app.services.db
    await add_mother(db, 6002, "Dewi", a.id)
    alert_id = await add_alert(db, 6002, "few_wet_nappies", T, detail="2/5")
    await ani.send("/ibu")
    await ani.press("mw:rec:6002")
    await ani.press(f"mw:close:{alert_id}")
    assert await alert_row(driver, alert_id) == {"closed": 1, "closed_by": 6901, "closed_how": "midwife",
                                                 "outcome": None}
    assert any(x.get("text") == "Peringatan ditutup." for x in ani.callback_answers())


async def test_the_record_shows_urgent_first_the_report_day_and_undelivered_alerts(driver):
    a, b, ani, eka, tia = await two_clinics(driver)
    db = driver.app.services.db
    sari = await mother_in(driver, a, 6003, "Sari")
    driver.server.block(6902)  # Eka blocked the bot
    await report(sari, danger=("fits",))
    await add_alert(db, 6003, "few_wet_nappies", "2026-11-28T10:00:00Z", detail="2/5")  # older, a warning
    await db.execute("UPDATE alert SET report_day = 4 WHERE mother_id = 6003 AND cause = 'danger_sign'")
    await ani.send("/ibu")
    replies = await ani.press("mw:rec:6003")
    record = replies[-1].body
    danger = record.index("🚨 Tanda bahaya dilaporkan")
    assert danger < record.index("⚠️ Popok basah 2 dalam 24 jam")
    assert "laporan hari ke-4" in record
    assert "⚠️ Tidak sampai ke Bidan Eka (memblokir bot): tanda bahaya" in record
    closes = [d for d in datas(replies[-1:]) if d.startswith("mw:close:")]
    urgent_id = await db.fetchval("SELECT id FROM alert WHERE mother_id = 6003 AND cause = 'danger_sign'")
    assert closes[0] == f"mw:close:{urgent_id}"
    assert replies[-1].buttons[0]["text"].startswith("✅ Tutup: 🚨")
    # once Eka gets an alert again, the line goes away
    driver.server.block(6902, False)
    await db.execute("INSERT INTO alert_delivery(alert_id, recipient_id, recipient_kind, status, at)"
                     " VALUES (?, 6902, 'midwife', 'sent', '2026-12-01T00:00:00Z')", (urgent_id,))
    replies = await ani.press_data(ani.last, "mw:rec:6003")
    assert "Tidak sampai ke Bidan Eka" not in replies[-1].body
