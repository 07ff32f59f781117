"""The clinic kit: a two-page A4 PDF to print and hang in the KIA room or hand out at discharge.

Page 1 is for the mother: the massage steps with their pictures, when not to massage, the danger
signs (mother and baby, "go now" and "go soon"), the clinic's numbers and 112 / 119, and a large
QR code of the clinic's mother link. Page 2 is for her husband and family (the companions).

Every text is the bot's own, read through `bot.i18n.Texts` (guide.yaml, clinic.yaml, kit.yaml);
the numbers come from `usecases.contacts.contact_block`, so the leaflet never disagrees with the chat.
Plain function, no Telegram: `build_kit_pdf(texts, lang, clinic, mother_link) -> bytes`.
"""
from __future__ import annotations

import io
import re
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, FrameBreak, KeepInFrame, PageTemplate,
                                Paragraph, Spacer, Table, TableStyle)

from bot.i18n import Texts
from db.queries.clinics import Clinic
from usecases.contacts import contact_block

DANGER_GROUPS = ("mother_now", "mother_soon", "baby_now", "baby_soon")
FONT, FONT_BOLD = "SNSans", "SNSans-Bold"

PAGE_W, PAGE_H = A4
MARGIN = 11 * mm
HEADER_H = 44
FOOTER_H = 14
GUTTER = 12
LEFT_W = (PAGE_W - 2 * MARGIN - GUTTER) * 0.53
RIGHT_W = PAGE_W - 2 * MARGIN - GUTTER - LEFT_W
PICTURE_W, PICTURE_H = 44, 52
QR_SIZE = 160          # points: 56 mm, scannable from across a room
QR_SCALE = 8           # pixels per module in the embedded image (sharp when printed)

TEAL = colors.HexColor("#0b5f5a")
RED = colors.HexColor("#b3261e")
PALE_RED = colors.HexColor("#fdecea")
GREY = colors.HexColor("#555555")
_build_lock = threading.Lock()  # reportlab's fonts keep per-document state: one build at a time


# ----------------------------------------------------------------- fonts and text
def _font_file(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@lru_cache(maxsize=1)
def _fonts() -> frozenset[int]:
    """Register DejaVu Sans (shipped with matplotlib); returns the code points it can draw."""
    regular = TTFont(FONT, str(_font_file("DejaVuSans.ttf")))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_font_file("DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    return frozenset(regular.face.charToGlyph)


def printable(text: str) -> str:
    """The text without what the font cannot draw (the chat's emoji), spaces tidied."""
    drawable = _fonts()
    kept = "".join(ch for ch in text if ch == "\n" or (ord(ch) in drawable and ch not in "\ufe0f\u200d"))
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in kept.split("\n")).strip()


def _markup(text: str) -> str:
    """Plain text -> Paragraph markup: escaped, line breaks kept."""
    return escape(printable(text)).replace("\n", "<br/>")


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=6.9, leading=8.3, textColor=colors.black)
    return {
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=17, leading=20, textColor=TEAL),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=9, leading=11, textColor=GREY),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=9.5, leading=11.5, textColor=TEAL,
                             spaceBefore=5, spaceAfter=2),
        "danger_title": ParagraphStyle("danger_title", base, fontName=FONT_BOLD, fontSize=10.5, leading=12.5,
                                       textColor=RED, spaceAfter=1),
        "danger_head": ParagraphStyle("danger_head", base, fontName=FONT_BOLD, fontSize=7.2, leading=8.6,
                                      textColor=RED, spaceBefore=3, spaceAfter=0.5),
        "step_title": ParagraphStyle("step_title", base, fontName=FONT_BOLD, fontSize=7.6, leading=9),
        "body": base,
        "bullet": ParagraphStyle("bullet", base, leftIndent=8, bulletIndent=1, spaceAfter=0.6),
        "number": ParagraphStyle("number", base, fontName=FONT_BOLD, fontSize=8.8, leading=11),
        "qr_title": ParagraphStyle("qr_title", base, fontName=FONT_BOLD, fontSize=8.5, leading=10.2,
                                   alignment=TA_CENTER, textColor=TEAL),
        "center": ParagraphStyle("center", base, alignment=TA_CENTER),
        "link": ParagraphStyle("link", base, fontName=FONT_BOLD, alignment=TA_CENTER),
        "footer": ParagraphStyle("footer", base, fontSize=6.5, textColor=GREY),
    }


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(_markup(text), _styles()[style])


def _bullets(items, style: str = "bullet") -> list[Paragraph]:
    return [Paragraph(_markup(item), _styles()[style], bulletText="•") for item in items]


# ----------------------------------------------------------------- pictures and the QR code
class Picture(Flowable):
    """An image drawn at a fixed size (the same image data is embedded once per use)."""

    def __init__(self, data: bytes | PILImage.Image, width: float, height: float):
        super().__init__()
        self.data, self.width, self.height = data, width, height

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        source = self.data if isinstance(self.data, PILImage.Image) else io.BytesIO(self.data)
        self.canv.drawImage(ImageReader(source), 0, 0, self.width, self.height)


@lru_cache(maxsize=16)
def _picture(name: str) -> tuple[bytes, float]:
    """A guide picture, shrunk for print at this size, as JPEG bytes; and its height/width."""
    with resources.files("flows.content").joinpath("images", name).open("rb") as handle:
        image = PILImage.open(handle)
        image.seek(0)  # an animated GIF: its first frame
        image = image.convert("RGB")
    ratio = image.height / image.width
    image.thumbnail((220, 275))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue(), ratio


def _qr(link: str):
    return segno.make(link, error="m", micro=False)


def qr_png(link: str) -> bytes:
    """The QR code of a link as PNG: the same matrix the leaflet draws (8 px a module, quiet zone)."""
    out = io.BytesIO()
    _qr(link).save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def _qr_image(link: str) -> PILImage.Image:
    return PILImage.open(io.BytesIO(qr_png(link))).convert("L")


def mother_link(bot_username: str, clinic: Clinic) -> str:
    """The clinic's mother link: mothers who start the bot from it belong to this clinic."""
    return f"https://t.me/{bot_username.lstrip('@')}?start=m_{clinic.mother_code}"


# ----------------------------------------------------------------- blocks
def _steps_with_pictures(texts: Texts, lang: str) -> list:
    rows = []
    for step in texts.data(lang, "guide.steps"):
        data, ratio = _picture(step["image"])
        height = min(PICTURE_H, PICTURE_W * ratio)
        picture = Picture(data, height / ratio, height)
        rows.append([picture, [_p(step["title"], "step_title"), _p(step["text"], "body")]])
    table = Table(rows, colWidths=[PICTURE_W + 5, LEFT_W - PICTURE_W - 5])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 0), (-1, -2), 0.3, colors.HexColor("#cccccc")),
    ]))
    return [_p(texts.t(lang, "guide.title"), "h2"), table]


def _brief_steps(texts: Texts, lang: str) -> list:
    brief = {item["id"]: item["text"] for item in texts.data(lang, "kit.companions.steps")}
    items = []
    for step in texts.data(lang, "guide.steps"):
        markup = f"<b>{_markup(step['title'])}</b>  {_markup(brief[step['id']])}"
        items.append(Paragraph(markup, _styles()["bullet"]))
    when = texts.data(lang, "guide.when")
    return [_p(texts.t(lang, "kit.companions.steps_title"), "h2"), *items,
            Spacer(1, 2), _p(when["title"], "step_title"), _p(when["text"], "body")]


def _not_now(texts: Texts, lang: str) -> list:
    """When not to massage: the safety check's questions (the danger signs are listed beside)."""
    safety = texts.data(lang, "safety")
    questions = [q["text"] for q in safety["questions"] if q["id"] != "danger_signs"]
    return [_p(texts.t(lang, "kit.not_now.title"), "h2"),
            *_bullets([texts.t(lang, "kit.not_now.danger"), *questions]),
            Spacer(1, 2), _p(safety["pregnancy_note"]["text"], "body")]


def _danger(texts: Texts, lang: str, mastitis: bool = False) -> Table:
    danger = texts.data(lang, "danger")
    content: list = [_p(danger["title"], "danger_title")]
    for group in DANGER_GROUPS:
        content.append(_p(danger["headings"][group], "danger_head"))
        content.extend(_bullets(danger[group]))
    if mastitis:
        content += [Spacer(1, 3), _p(danger["mastitis"], "body")]
    content += [Spacer(1, 3), _p(danger["what_to_do"], "step_title")]
    box = Table([[content]], colWidths=[RIGHT_W])
    box.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1.2, RED), ("BACKGROUND", (0, 0), (-1, -1), PALE_RED),
        ("LEFTPADDING", (0, 0), (-1, -1), 5), ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    return box


def _numbers(texts: Texts, lang: str, clinic: Clinic) -> list:
    lines = [line for line in contact_block(texts, lang, clinic).split("\n") if line.strip()]
    return [_p(texts.t(lang, "kit.numbers_title"), "h2"), *[_p(line, "number") for line in lines]]


def _qr_block(texts: Texts, lang: str, clinic: Clinic, link: str) -> list:
    styles = _styles()
    size = 8.0
    while size > 5 and pdfmetrics.stringWidth(link, FONT_BOLD, size) > RIGHT_W - 4:
        size -= 0.25
    link_style = ParagraphStyle("link_fit", styles["link"], fontSize=size, leading=size * 1.2)
    qr = Table([[Picture(_qr_image(link), QR_SIZE, QR_SIZE)]], colWidths=[RIGHT_W])
    qr.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("TOPPADDING", (0, 0), (-1, -1), 0),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 6), _p(texts.t(lang, "kit.qr.title"), "qr_title"), qr,
            _p(texts.t(lang, "kit.qr.link_hint"), "center"), Paragraph(escape(link), link_style),
            Spacer(1, 3), _p(texts.t(lang, "kit.qr.what", clinic=clinic.name), "center"),
            Spacer(1, 3), _p(texts.t(lang, "kit.qr.companion_join"), "center")]


def _column(flowables: list) -> KeepInFrame:
    """A column that always fits its frame (shrunk a little if a long text needs it)."""
    return KeepInFrame(0, 0, flowables, mode="shrink")


# ----------------------------------------------------------------- the document
def build_kit_pdf(texts: Texts, lang: str, clinic: Clinic, mother_link: str) -> bytes:
    """The clinic kit as PDF bytes: A4, page 1 for the mother, page 2 for her companions."""
    with _build_lock:
        return _build(texts, lang, clinic, mother_link)


def _build(texts: Texts, lang: str, clinic: Clinic, mother_link: str) -> bytes:
    _fonts()
    t = texts.t
    out = io.BytesIO()
    footer = printable(t(lang, "kit.footer", clinic=clinic.name, page="{page}"))

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 6.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN, footer.replace("{page}", str(doc.page)))
        canvas.setStrokeColor(TEAL)
        canvas.setLineWidth(1.5)
        top = PAGE_H - MARGIN - HEADER_H + 2
        canvas.line(MARGIN, top, PAGE_W - MARGIN, top)
        canvas.restoreState()

    body_h = PAGE_H - 2 * MARGIN - HEADER_H - FOOTER_H - 4
    frames = [
        Frame(MARGIN, PAGE_H - MARGIN - HEADER_H + 4, PAGE_W - 2 * MARGIN, HEADER_H - 4, id="header",
              leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
        Frame(MARGIN, MARGIN + FOOTER_H, LEFT_W, body_h, id="left",
              leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
        Frame(MARGIN + LEFT_W + GUTTER, MARGIN + FOOTER_H, RIGHT_W, body_h, id="right",
              leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
    ]
    title = printable(t(lang, "kit.title", clinic=clinic.name))
    doc = BaseDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                          bottomMargin=MARGIN, title=title, author="Sahabat Nifas", subject=title,
                          creator="Sahabat Nifas", invariant=True,
                          pageTemplates=[PageTemplate("kit", frames=frames, onPage=on_page)])
    story = [
        # page 1: the mother
        _column([_p(title, "title"), _p(t(lang, "kit.subtitle"), "subtitle")]), FrameBreak(),
        _column([*_steps_with_pictures(texts, lang), *_not_now(texts, lang)]), FrameBreak(),
        _column([_danger(texts, lang), *_numbers(texts, lang, clinic), *_qr_block(texts, lang, clinic,
                                                                                 mother_link)]),
        FrameBreak(),
        # page 2: husband and family
        _column([_p(t(lang, "kit.companions.title"), "title"), _p(t(lang, "kit.companions.subtitle"), "subtitle")]),
        FrameBreak(),
        _column([_p(t(lang, "kit.companions.role_title"), "h2"),
                 *_bullets(texts.data(lang, "kit.companions.role")),
                 _p(t(lang, "kit.companions.join_title"), "h2"), _p(t(lang, "kit.companions.join"), "body"),
                 *_brief_steps(texts, lang), *_not_now(texts, lang)]),
        FrameBreak(),
        _column([_danger(texts, lang, mastitis=True), *_numbers(texts, lang, clinic)]),
    ]
    doc.build(story)
    return out.getvalue()
