"""The report as a safety screen (issue 8, points 3, 6, 7 and 10), end to end through the
loopback Bot API: the danger-sign checklist right after the milk flow and complete against
content-facts section 3, thoughts of self-harm routed as urgent with their own advice, feeds,
hours of life (a 23:00 birth is not "day 2" an hour later), alerts that close themselves when a
later report no longer shows their cause, and a typed name that is data, never chart markup."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from test_onboarding import register_mother
from test_reports import make_clinic, mother_in, new_midwife, add_companion, report, rows, texts_of

REPO = Path(__file__).resolve().parents[1]
FACTS = REPO.parent / "shared" / "content-facts.md"
CONTENT = REPO / "flows" / "content"

# Every sign of content-facts section 3, as written there, and the checklist items that cover it.
# A new or reworded sign in the facts file makes this test fail until it is mapped.
COVERAGE = {
    ("mother", "now"): {
        "heavier vaginal bleeding (soaking more than 1 pad an hour, or 2 pads in 30 minutes; large clots)":
            ["bleeding"],
        "fits": ["fits"],
        "fast or difficult breathing": ["breathing"],
        "fever with weakness (above 37.7 °C for more than a day after the first 24 hours)": ["fever_weak"],
        "severe headache with blurred vision": ["headache_vision"],
        "calf pain or swelling": ["calf_chest"],
        "chest pain or breathlessness": ["calf_chest", "breathing"],
    },
    ("mother", "soon"): {
        "swollen, red or tender breasts": ["breast_red"],
        "smelly discharge": ["wound_discharge"],
        "problems passing urine": ["urine"],
        "wound infection": ["wound_discharge"],
        "swelling of face or hands, upper belly pain": ["swelling"],
        "severe sadness or thoughts of self-harm": ["sadness", "self_harm"],
    },
    ("baby", "now"): {
        "not feeding or unable to suck": ["baby_not_feeding"],
        "fits": ["baby_fits"],
        "fast or difficult breathing": ["baby_breathing"],
        "temperature 37.5 °C or higher, or below 35 °C": ["baby_temperature"],
        "yellow palms or soles, or jaundice in the first 24 hours or after 2 weeks": ["baby_yellow"],
        "bleeding": ["baby_bleeding"],
        "diarrhoea": ["baby_diarrhoea"],
    },
    ("baby", "soon"): {
        "poor latch": ["baby_latch"],
        "fewer than 8 feeds in 24 hours": ["baby_few_feeds"],
        "yellow eyes or skin": ["baby_yellow_eyes"],
        "thrush": ["baby_thrush"],
        "pus from the cord, eyes or skin": ["baby_pus"],
    },
}
# Numbers the label itself must show (so nobody has to guess what "heavy" or "fever" means).
THRESHOLDS = {
    "id": {"bleeding": ["1 dalam 1 jam", "2 dalam 30 menit", "gumpalan"], "fever_weak": ["37,7 °C"],
           "baby_temperature": ["37,5 °C", "35 °C"], "baby_yellow": ["telapak", "24 jam", "2 minggu"],
           "baby_few_feeds": ["8 kali"], "swelling": ["wajah", "tangan", "ulu hati"]},
    "en": {"bleeding": ["1 pad in 1 hour", "2 pads in 30 minutes", "clots"], "fever_weak": ["37.7 °C"],
           "baby_temperature": ["37.5 °C", "35 °C"], "baby_yellow": ["palms", "24 hours", "2 weeks"],
           "baby_few_feeds": ["8 feeds"], "swelling": ["face", "hands", "upper belly"]},
}
HEADINGS = {
    ("mother", "now"): "Mother, go immediately",
    ("mother", "soon"): "Mother, go as soon as possible",
    ("baby", "now"): "Baby, go immediately",
    ("baby", "soon"): "Baby, go soon",
}
RANK = {"soon": 0, "now": 1}


def _split_top_level(text: str) -> list[str]:
    """Split on ';' outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == ";" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return parts + [current]


def facts_signs() -> dict[tuple[str, str], list[str]]:
    text = FACTS.read_text(encoding="utf-8")
    section = text.split("## 3.", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    found = {}
    for group, heading in HEADINGS.items():
        start = flat.index(heading)
        body = flat[flat.index(":", start) + 1:]
        body = re.split(r"\. (?=[A-Z])", body, maxsplit=1)[0]       # up to the end of that sentence
        body = re.sub(r"\s*\[[^\]]+\]", "", body)                   # source keys
        found[group] = [" ".join(p.split()).strip(" .") for p in _split_top_level(body) if p.strip()]
    return found


def checklist(lang: str) -> list[dict]:
    tree = yaml.safe_load((CONTENT / lang / "reports.yaml").read_text(encoding="utf-8"))
    return tree["reports"]["danger_signs"]


@pytest.mark.skipif(not FACTS.exists(), reason="content-facts.md not present")
def test_every_sign_of_section_3_is_in_the_checklist_of_both_languages():
    found = facts_signs()
    assert {group: sorted(signs) for group, signs in found.items()} == {
        group: sorted(mapping) for group, mapping in COVERAGE.items()}, "a sign of section 3 is not mapped"
    for lang in ("id", "en"):
        items = {item["id"]: item for item in checklist(lang)}
        used = set()
        for (who, urgency), mapping in COVERAGE.items():
            for sign, ids in mapping.items():
                for item_id in ids:
                    assert item_id in items, f"{lang}: {sign!r} needs item {item_id}"
                    item = items[item_id]
                    assert item["who"] == who, f"{lang}: {item_id} is about the {who}"
                    assert RANK[item["urgency"]] >= RANK[urgency], f"{lang}: {item_id} must be at least {urgency}"
                    used.add(item_id)
        assert used == set(items), f"{lang}: items not from section 3: {set(items) - used}"
        for item_id, words in THRESHOLDS[lang].items():
            for word in words:
                assert word in items[item_id]["label"], f"{lang}: {item_id} label lacks {word!r}"


def test_checklist_items_are_well_formed_and_alike_in_both_languages():
    ids = {}
    for lang in ("id", "en"):
        items = checklist(lang)
        ids[lang] = [(i["id"], i["who"], i["urgency"]) for i in items]
        for item in items:
            assert set(item) == {"id", "who", "urgency", "label", "button", "source"}, item["id"]
            assert item["who"] in ("mother", "baby") and item["urgency"] in ("now", "soon")
            assert item["id"] not in ("yes", "none", "done")
            assert len(f"rep:ds:{item['id']}".encode()) <= 64
            assert len(item["button"]) <= 32, f"{lang}: button of {item['id']} is long for a phone"
        labels = {i["id"]: i["label"] for i in items}
        assert labels["self_harm"] != labels["sadness"]
    assert ids["id"] == ids["en"]
    by_id = {i: (who, urgency) for i, who, urgency in ids["id"]}
    assert by_id["self_harm"] == ("mother", "now")      # routed as urgent
    assert by_id["sadness"] == ("mother", "soon")


def test_one_fever_wording():
    for lang, words in (("id", "demam (suhu di atas 37,7 °C)"), ("en", "fever (temperature above 37.7 °C)")):
        text = (CONTENT / lang / "reports.yaml").read_text(encoding="utf-8")
        assert text.count(words) >= 3, lang          # checklist, breasts advice, check-in
        assert "demam tinggi" not in text and "high fever" not in text


# ----------------------------------------------------------------- end to end
UTC = timezone.utc


async def set_birth(driver, mother_id: int, delivery: str, birth_time: str | None):
    await driver.app.services.db.execute("UPDATE mother SET delivery_date = ?, birth_time = ? WHERE user_id = ?",
                                         (delivery, birth_time, mother_id))


async def alerts_of(driver, mother_id: int):
    return await rows(driver, "SELECT cause, urgency, detail, report_day, closed_at IS NOT NULL AS closed,"
                              " closed_how, closed_by FROM alert WHERE mother_id = ? ORDER BY id", (mother_id,))


async def test_checklist_comes_right_after_the_flow_so_who_stops_there_is_screened(driver):
    sari = await register_mother(driver, 5001, "Sari")
    await sari.send("/lapor")
    replies = await sari.press_shown("rep:f:smooth")
    screen = replies[-1]
    assert "Tersimpan:\n✓ ASI lancar" in replies[0].body
    assert "tanda ini SEKARANG" in screen.body
    for item in checklist("id"):                    # the whole list, with its thresholds, in one message
        assert item["label"] in screen.body
    assert screen.body.index("IBU, segera") < screen.body.index("IBU, periksakan") < screen.body.index(
        "BAYI, segera") < screen.body.index("BAYI, periksakan")
    assert [b["callback_data"] for b in screen.buttons] == ["rep:ds:none", "rep:ds:yes"]
    replies = await sari.press_shown("rep:ds:yes")
    ticks = replies[-1]
    assert len(ticks.buttons) == 26 and ticks.buttons[0]["text"].startswith("◻️ 1 Ibu:")
    await sari.press("rep:ds:done")                 # nothing ticked: asked to tick, or press "None"
    assert "Belum ada tanda" in sari.callback_answers()[-1]["text"]
    await sari.press("rep:ds:breast_red")
    assert sari.find_button("rep:ds:breast_red")[1]["text"].startswith("☑️")
    replies = await sari.press("rep:ds:done")
    assert "perlu diperiksa hari ini" in texts_of(replies)
    assert "Berapa kali bayi menyusu" in sari.last.body  # a "soon" sign: the questions go on
    # she stops here: the report is screened all the same
    await sari.send("/menu")
    assert (await rows(driver, "SELECT danger_signs, feeds_24h FROM milk_report")) == [
        {"danger_signs": "breast_red", "feeds_24h": None}]
    assert [(a["cause"], a["urgency"]) for a in await alerts_of(driver, 5001)] == [("danger_sign", "warning")]
    # "none" is stored as screened-and-nothing (''), not as unanswered (NULL)
    await sari.send("/lapor")
    await sari.press("rep:f:smooth")
    await sari.press("rep:ds:none")
    await sari.send("/menu")
    assert (await rows(driver, "SELECT danger_signs FROM milk_report ORDER BY id DESC LIMIT 1")) == [
        {"danger_signs": ""}]


async def test_self_harm_is_urgent_with_its_own_advice(driver):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 5011, "Ani")
    sari = await mother_in(driver, clinic, 5012, "Sari")
    budi = await add_companion(driver, sari, 5013, "Budi")
    start = len(ani.messages())
    replies = await report(budi, danger=("self_harm",))
    advice = texts_of(replies)
    assert "Jangan biarkan Ibu sendirian" in advice
    assert "Telepon 119 sekarang" in advice and "Hubungi bidan Ibu" in advice
    assert "Ini tanda bahaya" not in advice         # its own advice, not the general one
    assert "Berapa kali bayi menyusu" not in advice and "pertanyaan lainnya kami lewati" in advice.lower()
    assert [(a["cause"], a["urgency"], a["detail"]) for a in await alerts_of(driver, 5012)] == [
        ("self_harm", "urgent", "self_harm")]
    told = ani.messages()[start:]
    assert len(told) == 1 and "🚨" in told[0].body and "menyakiti diri sendiri atau bayi" in told[0].body
    # an urgent danger alert already open does not swallow a later self-harm report
    await report(budi, danger=("bleeding",))
    await driver.app.services.db.execute("DELETE FROM alert WHERE mother_id = 5012 AND cause = 'self_harm'")
    start = len(ani.messages())
    await report(budi, danger=("self_harm",))
    assert any("menyakiti diri" in m.body and "🚨" in m.body for m in ani.messages()[start:])
    # with another go-now sign both pieces of advice are given
    dewi = await register_mother(driver, 5014, "Dewi")
    advice = texts_of(await report(dewi, danger=("self_harm", "bleeding")))
    assert "Jangan biarkan Ibu sendirian" in advice and "Ini tanda bahaya" in advice
    assert "• Ibu: perdarahan banyak" in advice     # in the advice, not only in the recap


async def test_feeds_buttons_few_feeds_and_not_feeding(driver, clock):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 5021, "Ani")
    sari = await mother_in(driver, clinic, 5022, "Sari")   # born yesterday, time unknown: 11 hours
    start = len(ani.messages())
    replies = await report(sari, feeds="3")
    assert "Di hari pertama bayi sering banyak tidur" in texts_of(replies)  # first day: advice, no alert
    assert await alerts_of(driver, 5022) == [] and len(ani.messages()) == start
    clock.advance(timedelta(days=1))                        # 35 hours: day 2
    replies = await report(sari, feeds="5")
    assert "Bayi menyusu 5 kali dalam 24 jam (hari ke-2)" in texts_of(replies)
    assert "✓ Popok basah: 6" in texts_of(replies)          # a warning: the report goes on
    assert "Laporan tersimpan. Terima kasih" in texts_of(replies)
    assert "Bayi menyusu 5 kali dalam 24 jam" in ani.last.body
    clock.advance(timedelta(hours=2))
    replies = await sari.send("/lapor")
    await sari.press("rep:f:smooth")
    await sari.press("rep:ds:none")
    replies = await sari.send("1 kali")                     # typed: almost no feeds after the first day
    assert "Bayi hampir tidak menyusu: 1 kali" in texts_of(replies)
    assert "pertanyaan lainnya kami lewati" in texts_of(replies).lower()
    assert "🚨" in ani.last.body and "hampir tidak menyusu" in ani.last.body
    clock.advance(timedelta(hours=5))
    await report(sari, feeds="16")                          # enough again: few_feeds closes by itself
    found = {a["cause"]: a for a in await alerts_of(driver, 5022)}
    assert found["few_feeds"]["closed"] and found["few_feeds"]["closed_how"] == "resolved"
    assert found["few_feeds"]["closed_by"] is None
    assert found["not_feeding"]["urgency"] == "urgent" and not found["not_feeding"]["closed"]  # a midwife closes it


async def test_a_birth_at_23_00_is_not_day_2_two_hours_later(driver, clock):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 5031, "Ani")
    sari = await mother_in(driver, clinic, 5032, "Sari")
    await set_birth(driver, 5032, "2026-11-30", "23:00")
    clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))   # 01:00 WITA on 1 December: 2 hours of life
    start = len(ani.messages())
    replies = await report(sari, wet="0", feeds="2")
    assert "membasahi sedikitnya" not in texts_of(replies)  # no nappy advice
    assert await alerts_of(driver, 5032) == [] and len(ani.messages()) == start
    assert (await rows(driver, "SELECT postpartum_day FROM milk_report"))[0]["postpartum_day"] == 2  # calendar, kept
    clock.advance(timedelta(hours=24))                      # 26 hours of life: day 2 needs 2
    replies = await report(sari, wet="0")
    assert "Pada hari ke-2, bayi biasanya membasahi sedikitnya 2 popok" in texts_of(replies)
    assert [(a["cause"], a["detail"], a["report_day"]) for a in await alerts_of(driver, 5032)] == [
        ("few_wet_nappies", "0/2", 2)]
    assert "pada hari ke-2 biasanya sedikitnya 2" in ani.last.body


async def test_milk_not_out_alerts_only_from_72_hours_naming_the_report_day(driver, clock):
    clinic, _ = await make_clinic(driver)
    ani = await new_midwife(driver, clinic, 5041, "Ani")
    sari = await mother_in(driver, clinic, 5042, "Sari")
    await set_birth(driver, 5042, "2026-11-27", "afternoon")     # counts from 18:00 WITA on 27/11
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))           # 17:00 WITA on 30/11: 71 hours
    start = len(ani.messages())
    replies = await report(sari, flow="not_out")
    assert "ASI belum keluar, jadi hubungi bidan" not in texts_of(replies)
    assert await alerts_of(driver, 5042) == [] and len(ani.messages()) == start
    clock.advance(timedelta(hours=1))                             # 72 hours: day 4
    replies = await report(sari, flow="not_out")
    assert "bayi berada di hari ke-4 dan ASI belum keluar" in texts_of(replies)
    assert [(a["cause"], a["report_day"]) for a in await alerts_of(driver, 5042)] == [("milk_not_out", 4)]
    assert "hari ke-4" in ani.last.body
    # a later report with milk out closes it by itself; a danger-sign alert stays open
    clock.advance(timedelta(hours=3))
    await report(sari, flow="not_smooth", danger=("breast_red", "fever_weak"))
    clock.advance(timedelta(hours=3))
    await report(sari, flow="smooth")
    found = {a["cause"]: a for a in await alerts_of(driver, 5042)}
    assert found["milk_not_out"]["closed_how"] == "resolved" and found["milk_not_out"]["closed_by"] is None
    assert found["danger_sign"]["urgency"] == "urgent" and not found["danger_sign"]["closed"]


async def test_few_wet_nappies_closes_when_a_later_report_has_enough(driver, clock):
    sari = await register_mother(driver, 5051, "Sari")
    clock.advance(timedelta(days=4))                              # 107 hours: day 5, needs 5
    await report(sari, wet="3")
    clock.advance(timedelta(hours=6))
    await report(sari, wet="skip")                                # not answered: nothing changes
    assert not (await alerts_of(driver, 5051))[0]["closed"]
    clock.advance(timedelta(hours=6))
    await report(sari, wet="6")
    assert [(a["cause"], a["closed_how"]) for a in await alerts_of(driver, 5051)] == [
        ("few_wet_nappies", "resolved")]


async def test_a_name_with_dollar_signs_is_drawn_as_text(driver):
    name = "Sari $x^^2$ $\\foo$"                                  # mathtext would fail on both
    sari = await register_mother(driver, 5061, name)
    assert await driver.app.services.db.fetchval("SELECT display_name FROM mother WHERE user_id = 5061") == name
    await report(sari, flow="not_smooth")
    replies = await sari.send("/riwayat")
    assert name in replies[0].body
    assert replies[-1].kind == "photo" and replies[-1].file_bytes.startswith(b"\x89PNG")


def test_the_chart_function_takes_any_title():
    from analysis.chart import milk_flow_chart_png, milk_history_chart_png

    words = {"title": "ASI Ibu $\\frac{$ $_$", "xlabel": "Hari", "sessions": "sesi", "levels": ["a", "b", "c"]}
    assert milk_history_chart_png([(1.5, 1), (2.5, 3)], [2.0], words).startswith(b"\x89PNG")
    result = {"n_pairs": 1, "pre": {c: {"pct": 50.0} for c in ("not_out", "not_smooth", "smooth")},
              "post": {c: {"pct": 50.0} for c in ("not_out", "not_smooth", "smooth")}}
    assert milk_flow_chart_png(result, title="Puskesmas $^$").startswith(b"\x89PNG")
