"""The clinic kit: the A4 leaflet (PDF) with the bot's own texts, numbers and the mother link's QR code."""
from __future__ import annotations

import argparse
import io
import re
import time

import pytest
import zxingcpp
from pypdf import PdfReader
from telegram.ext import CommandHandler

from bot.i18n import LANGUAGES, texts
from db.queries import clinics
from db.queries.clinics import Clinic
from flows import kit as kit_flow
from kit.cli import add_kit_parser, kit_command
from kit.leaflet import DANGER_GROUPS, build_kit_pdf, mother_link, printable, qr_png
from test_reports import NOW, make_clinic, mother_in, new_midwife

PHONE = "+62 274 123456"
CLINIC = Clinic(7, "Puskesmas Bener", "Asia/Jakarta", "Xy3_kL-9qRsTuVwZ", "Purworejo", PHONE, None)
LINK = mother_link("SahabatNifasBot", CLINIC)


def normalised(text: str) -> str:
    """Text without any white space: PDF extraction breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module", params=LANGUAGES)
def leaflet(request) -> tuple[str, bytes]:
    return request.param, build_kit_pdf(texts(), request.param, CLINIC, LINK)


def pages(pdf: bytes) -> list:
    return PdfReader(io.BytesIO(pdf)).pages


def decoded_qr_codes(page) -> list[str]:
    """Every QR code in the page's embedded images, decoded."""
    found = []
    for image in page.images:
        found += [result.text for result in zxingcpp.read_barcodes(image.image)]
    return found


# ----------------------------------------------------------------- the PDF
def test_two_a4_pages(leaflet):
    _, pdf = leaflet
    assert pdf.startswith(b"%PDF")
    found = pages(pdf)
    assert len(found) == 2
    for page in found:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_every_danger_sign_the_numbers_and_112_119_on_both_pages(leaflet):
    lang, pdf = leaflet
    t = texts()
    danger = t.data(lang, "danger")
    items = [item for group in DANGER_GROUPS for item in danger[group]]
    assert len(items) >= 20  # content-facts section 3: mother and baby, now and soon
    for page in pages(pdf):
        text = normalised(page.extract_text())
        for item in items:
            assert normalised(item) in text, item
        for group in DANGER_GROUPS:
            assert normalised(danger["headings"][group]) in text
        assert normalised(PHONE) in text
        assert "112" in text and "119" in text
        # the same numbers, in the same words, as the chat's contact block
        for key, values in (("contacts.clinic_phone", {"clinic": CLINIC.name, "phone": PHONE}),
                            ("contacts.emergency", {})):
            assert normalised(printable(t.t(lang, key, **values))) in text


def test_page_one_has_the_steps_cautions_and_qr_texts(leaflet):
    lang, pdf = leaflet
    t = texts()
    text = normalised(pages(pdf)[0].extract_text())
    assert normalised(t.t(lang, "kit.title", clinic=CLINIC.name)) in text
    for step in t.data(lang, "guide.steps"):
        assert normalised(step["title"]) in text
        assert normalised(printable(step["text"])) in text
    for question in t.data(lang, "safety.questions"):
        if question["id"] != "danger_signs":
            assert normalised(question["text"]) in text
    assert normalised(LINK) in text
    assert normalised(t.t(lang, "kit.qr.companion_join")) in text


def test_page_two_is_for_companions(leaflet):
    lang, pdf = leaflet
    t = texts()
    text = normalised(pages(pdf)[1].extract_text())
    assert normalised(t.t(lang, "kit.companions.title")) in text
    for role in t.data(lang, "kit.companions.role"):
        assert normalised(role) in text
    for step in t.data(lang, "kit.companions.steps"):
        assert normalised(step["text"]) in text
    assert not decoded_qr_codes(pages(pdf)[1])  # the mother's code is not for companions


def test_the_qr_code_embedded_in_the_pdf_decodes_to_the_mother_link(leaflet):
    _, pdf = leaflet
    assert decoded_qr_codes(pages(pdf)[0]) == [LINK]
    assert LINK.startswith("https://t.me/SahabatNifasBot?start=m_Xy3_kL-9qRsTuVwZ")


def test_qr_png_is_the_same_code():
    from PIL import Image

    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(LINK))))] == [LINK]


def test_brief_steps_match_the_guide_steps():
    t = texts()
    for lang in LANGUAGES:
        assert [s["id"] for s in t.data(lang, "kit.companions.steps")] == [s["id"] for s in t.data(lang, "guide.steps")]


def test_a_clinic_without_numbers_still_gets_112_119_and_a_long_name_still_fits_two_pages():
    bare = Clinic(8, "UPTD Puskesmas Rawat Inap Kecamatan Bener Kabupaten Purworejo Jawa Tengah & Sekitarnya",
                  "Asia/Jakarta", "abc", None, None, None)
    pdf = build_kit_pdf(texts(), "id", bare, mother_link("@SahabatNifasBot", bare))
    found = pages(pdf)
    assert len(found) == 2
    text = normalised(found[0].extract_text())
    assert normalised(texts().t("id", "contacts.no_phone", clinic=bare.name)) in text
    assert "112" in text and "119" in text


def test_build_is_fast():
    build_kit_pdf(texts(), "id", CLINIC, LINK)  # fonts and pictures are loaded once
    start = time.perf_counter()
    build_kit_pdf(texts(), "en", CLINIC, LINK)
    assert time.perf_counter() - start < 1.0


# ----------------------------------------------------------------- command line
def test_cli_writes_the_kit(tmp_path, db_url, monkeypatch, capsys):
    import asyncio

    from db.database import Database

    database = db_url
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BOT_USERNAME", "BenerBot")

    async def create():
        db = await Database(database).open()
        try:
            clinic, _ = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", NOW, phone=PHONE)
            return clinic
        finally:
            await db.close()

    clinic = asyncio.run(create())
    out = tmp_path / "kit.pdf"
    args = argparse.Namespace(clinic_id=clinic.id, lang="en", out=str(out), bot_username=None)
    assert kit_command(args) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert decoded_qr_codes(pages(out.read_bytes())[0]) == [f"https://t.me/BenerBot?start=m_{clinic.mother_code}"]
    assert str(out) in capsys.readouterr().out
    assert kit_command(argparse.Namespace(clinic_id=999, lang="id", out=str(out), bot_username=None)) == 2
    monkeypatch.setenv("BOT_USERNAME", "")
    assert kit_command(args) == 2
    assert "BOT_USERNAME" in capsys.readouterr().err


def test_kit_sub_command_wins_over_the_clinic_default():
    """`clinic.set_defaults(func=cmd_clinic)` in bot/cli.py must not swallow `clinic kit`."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    clinic = sub.add_parser("clinic")
    clinic_sub = clinic.add_subparsers(dest="action")
    add_kit_parser(clinic_sub)
    clinic.set_defaults(func=lambda args: 1)
    args = parser.parse_args(["clinic", "kit", "3", "--lang", "en", "--out", "x.pdf"])
    assert args.func is kit_command and (args.clinic_id, args.lang, args.out) == (3, "en", "x.pdf")


def test_sahabat_nifas_clinic_kit_is_wired():
    from bot.cli import build_parser

    try:
        args = build_parser().parse_args(["clinic", "kit", "1"])
    except SystemExit:
        pytest.skip("`clinic kit` is not yet added to bot/cli.py")
    assert args.func is kit_command and args.lang == "id"


# ----------------------------------------------------------------- /kit in Telegram
def _ensure_registered(app) -> None:
    """flows.kit joins flows/registry.py's FEATURES; until then the test adds its handler first."""
    if not any(isinstance(h, CommandHandler) and "kit" in h.commands
               for group in app.handlers.values() for h in group):
        app.handlers[0].insert(0, CommandHandler("kit", kit_flow.kit))  # before the catch-alls


async def test_a_midwife_gets_her_clinics_kit_and_a_mother_is_refused(driver):
    _ensure_registered(driver.app)
    clinic, _ = await make_clinic(driver)
    clinic = await clinics.update_clinic(driver.app.services.db, clinic.id, phone=PHONE)
    ani = await new_midwife(driver, clinic, 3950)
    replies = await ani.send("/kit")
    docs = [m for m in replies if m.kind == "document"]
    assert len(docs) == 1 and docs[0].file_name == f"sahabat-nifas-kit-{clinic.id}-id.pdf"
    assert clinic.name in docs[0].caption and "/kit en" in docs[0].caption
    found = pages(docs[0].file_bytes)
    assert len(found) == 2 and normalised(PHONE) in normalised(found[0].extract_text())
    username = driver.app.bot.username
    assert decoded_qr_codes(found[0]) == [f"https://t.me/{username}?start=m_{clinic.mother_code}"]

    english = [m for m in await ani.send("/kit en") if m.kind == "document"]
    assert english[0].file_name.endswith("-en.pdf") and "/kit id" in english[0].caption
    assert "DANGER SIGNS" in pages(english[0].file_bytes)[0].extract_text()

    refusal = texts().t("id", "midwife.only_midwives")
    sari = await mother_in(driver, clinic, 3051)
    replies = await sari.send("/kit")
    assert [m.body for m in replies] == [refusal]
    stranger = driver.user(3052, "Tono")
    assert [m.body for m in await stranger.send("/kit")] == [refusal]


async def test_a_midwife_without_a_phone_number_is_told(driver):
    _ensure_registered(driver.app)
    clinic, _ = await make_clinic(driver, "Puskesmas Talise")
    ani = await new_midwife(driver, clinic, 3953)
    docs = [m for m in await ani.send("/kit") if m.kind == "document"]
    assert texts().t("id", "kit.document.no_phone", clinic=clinic.name) in docs[0].caption
