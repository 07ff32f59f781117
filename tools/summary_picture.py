"""A picture of the midwife's /ringkasan (today's part) for the README and docs/reports.md:
docs/screenshots/summary-today.png.

    .venv/bin/python tools/summary_picture.py [--lang id|en] [--out docs/screenshots/summary-today.png]

A chat message cannot be screenshotted here, so the real text is drawn as Telegram shows it on
a phone (390 points wide, drawn at 2x). The text is the bot's own: the clinic of
tests/test_summary_today.py (`bener_today`) is set up in a throw-away database, counted by
`clinic_scope.today` and written by `flows.midwife.render_today`, at the tests' clock
(2026-11-30 11:00 in Makassar). The font is DejaVu Sans from matplotlib's data folder; it has
no colour emoji, so the few icons the summary uses are drawn as small shapes.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the tests' helpers set up the clinic

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
MIDWIFE_ID = 4901
SCALE = 2
WIDTH = 390 * SCALE
FONT_PX = 14 * SCALE
LINE_PX = 20 * SCALE
DRAWN = {"⚠"}  # in the font, but drawn in colour like the phone shows it
BG, BAR, BUBBLE, TEXT, MUTED = "#dbe6ee", "#ffffff", "#ffffff", "#111111", "#8a959e"


async def summary_text(lang: str) -> tuple[str, str]:
    """(today's message, the Statistik button) exactly as the bot writes them."""
    from bot.i18n import Texts
    from db.database import Database
    from db.queries import clinic_scope
    from flows.midwife import render_today
    from test_summary_today import bener_today

    with tempfile.TemporaryDirectory() as folder:
        db = await Database(Path(folder) / "picture.db").open()
        try:
            driver = type("Driver", (), {"app": type("App", (), {"services": type("S", (), {"db": db})})})
            clinic, _, _, _ = await bener_today(driver)
            await db.execute("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                             " VALUES (?, 'midwife', ?, ?, ?)", (MIDWIFE_ID, lang, NOW.isoformat(), NOW.isoformat()))
            await db.execute("INSERT INTO midwife(user_id, clinic_id, display_name, joined_at) VALUES (?, ?, 'Ani', ?)",
                             (MIDWIFE_ID, clinic.id, NOW.isoformat()))
            today = await clinic_scope.today(db, MIDWIFE_ID, NOW)
        finally:
            await db.close()
    texts = Texts.load()
    date = NOW.astimezone(__import__("zoneinfo").ZoneInfo(today.scope.timezone)).strftime("%d-%m-%Y")
    return render_today(texts, lang, today, date), texts.t(lang, "midwife.summary.stats_button")


# ----------------------------------------------------------------- drawing
def _font(bold: bool = False):
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name), FONT_PX)


def _covered() -> set[int]:
    import matplotlib
    from matplotlib import ft2font

    return set(ft2font.FT2Font(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"))
               .get_charmap())


def _icon(draw, char: str, x: int, y: int, font) -> None:
    """Draw one emoji the font lacks as a small shape in a FONT_PX square at (x, y)."""
    s = FONT_PX
    box = (x + 2, y + 4, x + s - 2, y + s)
    circles = {"🟠": "#f28c28", "🟡": "#f5c518", "🟢": "#3cb043", "🚨": "#e0245e", "❓": "#e0245e", "❔": "#b0b8bf",
               "👩": "#e87ca0", "💆": "#9b6ad6", "✋": "#f5b342"}
    if char in circles:
        draw.ellipse(box, fill=circles[char])
        mark = {"🚨": "!", "❓": "?", "❔": "?", "👩": "♀", "💆": "♥", "✋": "✓"}.get(char)
        if mark:
            draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), mark, fill="white", font=font, anchor="mm")
    elif char == "📊":
        draw.rounded_rectangle(box, radius=4, fill="#e8eef3")
        for i, h in enumerate((0.45, 0.8, 0.6)):
            left = box[0] + 4 + i * (s - 12) / 3
            draw.rectangle((left, box[3] - 3 - h * (s - 10), left + (s - 12) / 3 - 3, box[3] - 3),
                           fill=("#e0245e", "#3b88c3", "#3cb043")[i])
    elif char == "🏥":
        draw.rounded_rectangle(box, radius=4, fill="#f2f2f2", outline="#c9cfd4")
        cx, cy, a, b = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, s * 0.3, s * 0.09
        draw.rectangle((cx - a, cy - b, cx + a, cy + b), fill="#e0245e")
        draw.rectangle((cx - b, cy - a, cx + b, cy + a), fill="#e0245e")
    elif char == "⚠":
        draw.polygon([((box[0] + box[2]) / 2, box[1]), (box[2], box[3]), (box[0], box[3])], fill="#f5b342")
        draw.text(((box[0] + box[2]) / 2, box[3] - s * 0.3), "!", fill=TEXT, font=font, anchor="mm")
    elif char == "⏳":
        top, bottom, mid = box[1] + 1, box[3] - 1, (box[1] + box[3]) / 2
        draw.polygon([(box[0] + 4, top), (box[2] - 4, top), ((box[0] + box[2]) / 2, mid)], fill="#c98b3a")
        draw.polygon([(box[0] + 4, bottom), (box[2] - 4, bottom), ((box[0] + box[2]) / 2, mid)], fill="#c98b3a")
    elif char == "💬":
        draw.rounded_rectangle((box[0], box[1], box[2], box[3] - 5), radius=6, fill="#3b88c3")
        draw.polygon([(box[0] + 6, box[3] - 6), (box[0] + 14, box[3] - 6), (box[0] + 4, box[3])], fill="#3b88c3")
    else:  # anything else: a neutral dot
        draw.ellipse(box, fill=MUTED)


def _runs(line: str, covered: set[int]) -> list[tuple[str, str]]:
    """Split a line into ("text", ...) and ("icon", char) runs; the emoji variation selector goes."""
    runs: list[tuple[str, str]] = []
    for char in line.replace("\ufe0f", ""):
        if ord(char) in covered and char not in DRAWN:
            if runs and runs[-1][0] == "text":
                runs[-1] = ("text", runs[-1][1] + char)
            else:
                runs.append(("text", char))
        else:
            runs.append(("icon", char))
    return runs


def _width(runs, font, draw) -> float:
    return sum(FONT_PX + 4 if kind == "icon" else draw.textlength(value, font=font) for kind, value in runs)


def _wrap(line: str, max_px: float, font, draw, covered) -> list[str]:
    """Break a line that is wider than the bubble at spaces, as the phone would."""
    if _width(_runs(line, covered), font, draw) <= max_px:
        return [line]
    words, out, current = line.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and _width(_runs(candidate, covered), font, draw) > max_px:
            out.append(current)
            current = "   " + word
        else:
            current = candidate
    return out + [current]


def draw_chat(text: str, button: str, path: Path) -> None:
    from PIL import Image, ImageDraw

    font, bold, covered = _font(), _font(bold=True), _covered()
    probe = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    margin, pad, bar_h = 10 * SCALE, 12 * SCALE, 56 * SCALE
    bubble_w = WIDTH - 2 * margin - 40 * SCALE
    lines = [part for line in text.splitlines() for part in _wrap(line, bubble_w - 2 * pad, font, probe, covered)]
    bubble_h = pad * 2 + LINE_PX * len(lines) + 10 * SCALE
    button_h = 40 * SCALE
    height = bar_h + margin * 2 + bubble_h + 4 * SCALE + button_h + 60 * SCALE
    image = Image.new("RGB", (WIDTH, height), BG)
    draw = ImageDraw.Draw(image)
    # title bar
    draw.rectangle((0, 0, WIDTH, bar_h), fill=BAR)
    draw.line((0, bar_h, WIDTH, bar_h), fill="#c9d3db", width=SCALE)
    draw.text((22 * SCALE, bar_h / 2), "‹", fill="#3b88c3", font=bold, anchor="lm")
    draw.ellipse((44 * SCALE, 10 * SCALE, 80 * SCALE, 46 * SCALE), fill="#3cb043")
    draw.text((62 * SCALE, 28 * SCALE), "SN", fill="white", font=bold, anchor="mm")
    draw.text((90 * SCALE, 20 * SCALE), "Sahabat Nifas", fill=TEXT, font=bold, anchor="lm")
    draw.text((90 * SCALE, 38 * SCALE), "bot", fill=MUTED, font=font, anchor="lm")
    # the message
    top = bar_h + margin
    draw.rounded_rectangle((margin, top, margin + bubble_w, top + bubble_h), radius=14 * SCALE, fill=BUBBLE)
    y = top + pad
    for line in lines:
        x = margin + pad
        for kind, value in _runs(line, covered):
            if kind == "icon":
                _icon(draw, value, int(x), int(y), font)
                x += FONT_PX + 4
            else:
                draw.text((x, y), value, fill=TEXT, font=font)
                x += draw.textlength(value, font=font)
        y += LINE_PX
    draw.text((margin + bubble_w - pad, top + bubble_h - 8 * SCALE), "11:00", fill=MUTED, font=font, anchor="rs")
    # the inline button under it
    btop = top + bubble_h + 4 * SCALE
    draw.rounded_rectangle((margin, btop, margin + bubble_w, btop + button_h), radius=10 * SCALE, fill="#9fb3c3")
    runs = _runs(button, covered)
    x = margin + (bubble_w - _width(runs, font, draw)) / 2
    for kind, value in runs:
        if kind == "icon":
            _icon(draw, value, int(x), int(btop + (button_h - FONT_PX) / 2 - 2), font)
            x += FONT_PX + 4
        else:
            draw.text((x, btop + button_h / 2), value, fill="white", font=font, anchor="lm")
            x += draw.textlength(value, font=font)
    # the input bar
    draw.rectangle((0, height - 48 * SCALE, WIDTH, height), fill=BAR)
    draw.text((18 * SCALE, height - 24 * SCALE), "Pesan" if "Statistik" in button else "Message", fill=MUTED,
              font=font, anchor="lm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("id", "en"), default="id")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "summary-today.png")
    args = parser.parse_args()
    text, button = asyncio.run(summary_text(args.lang))
    draw_chat(text, button, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
