"""Draw the pictures of the oxytocin-massage guide into flows/content/images/.

    /work/venv/bin/python tools/draw_guide.py

The pictures carry no words (only shapes, arrows, ticks, crosses and numbers), so the same
files serve every language. Everything is drawn from fixed coordinates, with no randomness, so
running the script again gives the same pictures. Shapes are drawn at twice the size and
scaled down for smooth edges. Only Pillow's built-in font is used (for digits).

Pictures (names are referenced by flows/content/<lang>/guide.yaml):
    step1_preparation.png  what to prepare: stool, pillow, towel and washcloth, basin of warm
                           water, oil, washing hands
    step2_position.png     the mother seated, leaning forward on a table, head on folded arms
    step3_back_map.png     the back from behind: spine, shoulder blades, ribs 5-6, massage area
    step4_fists.png        two fists, thumbs forward, placed beside (not on) the spine
    thumbs_circles.gif     animation: small circles while moving down beside the spine
    step6_downward.png     the downward path from the base of the neck to the rib 5-6 line
    step7_finish.png       wiping the back with a warm washcloth
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "flows" / "content" / "images"
SS = 2  # supersampling factor

# Colours: light background, dark outlines, strong marks.
BG = (255, 248, 236)
PANEL = (255, 255, 255)
PANEL_EDGE = (225, 210, 190)
INK = (62, 44, 36)
SKIN = (240, 200, 166)
SKIN_SHADE = (222, 176, 140)
HAIR = (58, 42, 36)
HELPER = (176, 118, 78)          # the helper's hands: darker than the mother's skin
SLEEVE = (70, 110, 170)
BONE = (252, 250, 244)
RIB = (214, 160, 124)
BLADE = (214, 150, 112, 120)
GREEN = (24, 140, 80)
GREEN_FILL = (60, 180, 110, 105)
RED = (205, 45, 40)
BLUE = (35, 100, 200)
WATER = (110, 175, 235)
WARM = (235, 120, 50)
WOOD = (176, 122, 74)
WOOD_DARK = (120, 80, 48)

Point = tuple[float, float]


class Pen:
    """Drawing with 1x coordinates on a 2x canvas; `finish()` scales down."""

    def __init__(self, width: int, height: int, background=BG):
        self.size = (width, height)
        self.image = Image.new("RGBA", (width * SS, height * SS), background + (255,))
        self.draw = ImageDraw.Draw(self.image)
        self._layers: list[Image.Image] = []

    # translucent drawing: everything between begin_layer() and end_layer() is composited
    def begin_layer(self) -> None:
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        self._layers.append(layer)
        self.draw = ImageDraw.Draw(layer)

    def end_layer(self) -> None:
        layer = self._layers.pop()
        self.image.alpha_composite(layer)
        self.draw = ImageDraw.Draw(self._layers[-1] if self._layers else self.image)

    @staticmethod
    def _pts(points: Iterable[Point]) -> list[tuple[float, float]]:
        return [(x * SS, y * SS) for x, y in points]

    @staticmethod
    def _box(box: Sequence[float]) -> list[float]:
        return [v * SS for v in box]

    def line(self, points, fill=INK, width=6, joint="curve"):
        self.draw.line(self._pts(points), fill=fill, width=int(width * SS), joint=joint)
        # round caps
        r = width / 2
        for x, y in (points[0], points[-1]):
            self.circle((x, y), r, fill=fill)

    def dashed(self, p0: Point, p1: Point, fill=BLUE, width=6, dash=22, gap=14):
        length = math.dist(p0, p1)
        ux, uy = (p1[0] - p0[0]) / length, (p1[1] - p0[1]) / length
        pos = 0.0
        while pos < length:
            end = min(pos + dash, length)
            self.line([(p0[0] + ux * pos, p0[1] + uy * pos), (p0[0] + ux * end, p0[1] + uy * end)],
                      fill=fill, width=width)
            pos = end + gap

    def polygon(self, points, fill=None, outline=INK, width=5):
        self.draw.polygon(self._pts(points), fill=fill, outline=outline,
                          width=int(width * SS) if outline else 0)

    def ellipse(self, box, fill=None, outline=INK, width=5):
        self.draw.ellipse(self._box(box), fill=fill, outline=outline,
                          width=int(width * SS) if outline else 0)

    def circle(self, center: Point, r: float, fill=None, outline=None, width=5):
        x, y = center
        self.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=outline, width=width)

    def rrect(self, box, radius=16, fill=None, outline=INK, width=5):
        self.draw.rounded_rectangle(self._box(box), radius=radius * SS, fill=fill,
                                    outline=outline, width=int(width * SS) if outline else 0)

    def arc(self, center: Point, r: float, start: float, end: float, fill=INK, width=6):
        x, y = center
        self.draw.arc(self._box((x - r, y - r, x + r, y + r)), start, end, fill=fill,
                      width=int(width * SS))

    def capsule(self, p0: Point, p1: Point, width: float, fill, outline=INK, edge=5):
        """A thick rounded stroke with an outline (limbs, thumbs)."""
        self.line([p0, p1], fill=outline, width=width + 2 * edge)
        self.line([p0, p1], fill=fill, width=width)

    def text(self, center: Point, text: str, size: int, fill=INK):
        font = ImageFont.load_default(size=size * SS)
        self.draw.text((center[0] * SS, center[1] * SS), text, font=font, fill=fill, anchor="mm")

    def finish(self) -> Image.Image:
        assert not self._layers
        return self.image.resize(self.size, Image.Resampling.LANCZOS).convert("RGB")


# --- marks --------------------------------------------------------------------------------------

def arrow_head(pen: Pen, tip: Point, direction: Point, size: float, fill):
    dx, dy = direction
    norm = math.hypot(dx, dy) or 1.0
    dx, dy = dx / norm, dy / norm
    back = (tip[0] - dx * size, tip[1] - dy * size)
    half = size * 0.62
    pen.polygon([tip, (back[0] - dy * half, back[1] + dx * half),
                 (back[0] + dy * half, back[1] - dx * half)], fill=fill, outline=None)


def arrow(pen: Pen, p0: Point, p1: Point, fill=GREEN, width=14, head=44):
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    norm = math.hypot(dx, dy)
    stop = (p1[0] - dx / norm * head * 0.8, p1[1] - dy / norm * head * 0.8)
    pen.line([p0, stop], fill=fill, width=width)
    arrow_head(pen, p1, (dx, dy), head, fill)


def circle_arrow(pen: Pen, center: Point, r: float, fill=GREEN, width=7, clockwise=True):
    """A small round arrow showing a circling movement (about 300 degrees)."""
    start, end = (-60, 240) if clockwise else (-60, 240)
    pen.arc(center, r, start, end, fill=fill, width=width)
    a = math.radians(end)
    tip = (center[0] + r * math.cos(a), center[1] + r * math.sin(a))
    direction = (-math.sin(a), math.cos(a))  # clockwise tangent (y grows downward)
    tip = (tip[0] + direction[0] * width, tip[1] + direction[1] * width)
    arrow_head(pen, tip, direction, width * 3.2, fill)


def tick(pen: Pen, center: Point, size: float, fill=GREEN, width=16):
    x, y = center
    pen.line([(x - size * 0.5, y), (x - size * 0.12, y + size * 0.4), (x + size * 0.55, y - size * 0.45)],
             fill=fill, width=width)


def cross(pen: Pen, center: Point, size: float, fill=RED, width=16):
    x, y = center
    h = size / 2
    pen.line([(x - h, y - h), (x + h, y + h)], fill=fill, width=width)
    pen.line([(x - h, y + h), (x + h, y - h)], fill=fill, width=width)


def number_badge(pen: Pen, center: Point, text: str, fill=INK, r=26, size=34):
    pen.circle(center, r, fill=fill)
    pen.text((center[0], center[1] + 1), text, size, fill=(255, 255, 255))


def steam(pen: Pen, x: float, y_bottom: float, height: float, fill=WARM, width=6):
    points = []
    steps = 24
    for i in range(steps + 1):
        t = i / steps
        points.append((x + 10 * math.sin(t * 2.4 * math.pi), y_bottom - t * height))
    pen.line(points, fill=fill, width=width)


def drop(pen: Pen, center: Point, r: float, fill=WATER, outline=INK, width=4):
    cx, cy = center
    points = [(cx, cy - 2.1 * r)]
    for deg in range(-25, 206, 10):
        a = math.radians(deg)
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    pen.polygon(points, fill=fill, outline=outline, width=width)


def open_hand(pen: Pen, palm_centre: Point, side: int):
    """An open hand, fingers up, thumb on the outer side (`side` -1 left, +1 right)."""
    cx, cy = palm_centre
    for dx, length in ((-21, 58), (-7, 70), (7, 68), (21, 56)):
        x = cx + side * dx
        pen.capsule((x, cy - 20), (x, cy - 20 - length), 14, SKIN, edge=4)
    pen.capsule((cx + side * 24, cy + 18), (cx + side * 52, cy - 14), 16, SKIN, edge=4)
    pen.rrect((cx - 32, cy - 30, cx + 32, cy + 44), radius=22, fill=SKIN, width=4)


def panel(pen: Pen, box, radius=22):
    pen.rrect(box, radius=radius, fill=PANEL, outline=PANEL_EDGE, width=4)


# --- the back, seen from behind (800 wide; body from y 30 to 800) -------------------------------

CX = 400
NECK_BASE = 232
RIB_TOP = 262
RIB_STEP = 44
VERTEBRA_HALF = 17


def rib_y(n: int) -> float:
    """Height of rib n where it leaves the spine."""
    return RIB_TOP + (n - 1) * RIB_STEP


RIB_LINE = (rib_y(5) + rib_y(6)) / 2   # the 5th-6th rib line, where the massage ends


def mirror(points: Iterable[Point]) -> list[Point]:
    return [(2 * CX - x, y) for x, y in points]


def draw_back(pen: Pen, *, ribs=True, blades=True, highlight_ribs=False, zone=False,
              bottom=800):
    # arms (behind the body), bare back, neck, head with hair bun
    for side in (-1, 1):
        pen.capsule((CX + side * 245, 300), (CX + side * 280, bottom - 230), 92, SKIN_SHADE)
    torso = [(CX - 75, 215), (CX - 170, 232), (CX - 240, 262), (CX - 268, 318),
             (CX - 250, 470), (CX - 215, 600), (CX - 205, 690), (CX - 225, bottom + 10)]
    pen.polygon(torso + list(reversed(mirror(torso))), fill=SKIN, outline=INK, width=6)
    pen.rrect((CX - 36, 160, CX + 36, NECK_BASE + 6), radius=10, fill=SKIN, outline=None)
    pen.line([(CX - 36, 168), (CX - 38, 222)], width=6)
    pen.line([(CX + 36, 168), (CX + 38, 222)], width=6)
    for side in (-1, 1):
        pen.ellipse((CX + side * 72 - 14, 100, CX + side * 72 + 14, 146), fill=SKIN, width=5)
    pen.circle((CX, 112), 76, fill=HAIR, outline=INK, width=5)
    pen.circle((CX, 40), 34, fill=HAIR, outline=INK, width=5)
    pen.line([(CX - 30, 76), (CX + 30, 76)], fill=(120, 90, 80), width=5)

    if ribs:
        for n in range(1, 11):
            y = rib_y(n)
            if y > bottom - 40:
                break
            curve = [(CX + VERTEBRA_HALF + 4, y), (CX + 90, y + 6), (CX + 170, y + 24),
                     (CX + 225, y + 50)]
            special = highlight_ribs and n in (5, 6)
            colour, width = (BLUE, 8) if special else (RIB, 5)
            pen.line(curve, fill=colour, width=width)
            pen.line(mirror(curve), fill=colour, width=width)
    if blades:
        blade = [(CX - 215, 282), (CX - 104, 292), (CX - 106, 330), (CX - 118, 462),
                 (CX - 150, 420), (CX - 222, 335)]
        pen.begin_layer()
        pen.polygon(blade, fill=BLADE, outline=(170, 110, 80, 255), width=5)
        pen.polygon(mirror(blade), fill=BLADE, outline=(170, 110, 80, 255), width=5)
        pen.end_layer()
    if zone:
        pen.begin_layer()
        for side in (-1, 1):
            x0, x1 = sorted((CX + side * (VERTEBRA_HALF + 6), CX + side * 92))
            pen.rrect((x0, NECK_BASE, x1, RIB_LINE), radius=26, fill=GREEN_FILL,
                      outline=GREEN + (255,), width=5)
        pen.end_layer()
    # the spine: a column of vertebrae from the base of the neck down
    y = NECK_BASE + 4
    while y < bottom - 8:
        pen.rrect((CX - VERTEBRA_HALF, y - 11, CX + VERTEBRA_HALF, y + 11), radius=8,
                  fill=BONE, outline=INK, width=4)
        y += 32
    if highlight_ribs:
        pen.dashed((CX - 140, RIB_LINE), (CX + 140, RIB_LINE), fill=BLUE, width=7)


def rib_labels(pen: Pen, x=748):
    for n in (5, 6):
        y = rib_y(n) + 50
        pen.dashed((CX + 230, y), (x - 30, y), fill=BLUE, width=4, dash=10, gap=8)
        number_badge(pen, (x, y), str(n), fill=BLUE, r=26, size=34)


def neck_base_mark(pen: Pen):
    """An orange dot at the base of the neck: where each pass starts."""
    pen.circle((CX, NECK_BASE - 6), 13, fill=WARM, outline=INK, width=4)


# --- hands ---------------------------------------------------------------------------------------

def fist(pen: Pen, tip: Point, side: int, scale=1.0, sleeve=True):
    """A fist seen from behind with the thumb pointing up; `tip` is the thumb tip."""
    s = scale
    tx, ty = tip
    # the thumb runs from its tip down to the top inner corner of the fist
    base = (tx + side * 14 * s, ty + 72 * s)
    cx, cy = tx + side * 52 * s, ty + 118 * s
    if sleeve:
        pen.capsule((cx + side * 10 * s, cy + 30 * s), (cx + side * 60 * s, cy + 330 * s),
                    84 * s, SLEEVE)
    box = (cx - 60 * s, cy - 50 * s, cx + 60 * s, cy + 50 * s)
    pen.rrect(box, radius=34 * s, fill=HELPER, outline=INK, width=5)
    # curled fingers: creases across the fist, knuckle bumps on the outer side
    for i in range(1, 4):
        y = cy - 50 * s + i * 25 * s
        x_in, x_out = cx - side * 30 * s, cx + side * 56 * s
        pen.line([(x_in, y), (x_out, y)], fill=INK, width=4 * s)
    pen.capsule(base, (tx, ty), 30 * s, HELPER, edge=5)
    nail = (tx + side * 2 * s, ty + 10 * s)
    pen.ellipse((nail[0] - 9 * s, nail[1] - 11 * s, nail[0] + 9 * s, nail[1] + 9 * s),
                fill=(246, 214, 196), outline=INK, width=3)


# --- the pictures --------------------------------------------------------------------------------

def draw_preparation() -> Image.Image:
    pen = Pen(800, 800)
    tiles = [(20 + col * 260, 30 + row * 385) for row in range(2) for col in range(3)]
    for number, (x, y) in enumerate(tiles, start=1):
        panel(pen, (x, y, x + 240, y + 355))
        number_badge(pen, (x + 36, y + 36), str(number))
    centres = [(x + 120, y + 200) for x, y in tiles]

    # 1 stool (a seat without a backrest, so the helper can reach her back)
    cx, cy = centres[0]
    for x0, x1 in ((-62, -84), (62, 84)):
        pen.line([(cx + x0, cy - 10), (cx + x1, cy + 112)], fill=WOOD_DARK, width=14)
    pen.line([(cx - 72, cy + 62), (cx + 72, cy + 62)], fill=WOOD_DARK, width=10)
    pen.rrect((cx - 96, cy - 40, cx + 96, cy - 6), radius=12, fill=WOOD, width=5)

    # 2 pillow
    cx, cy = centres[1]
    corners = [(cx - 98, cy - 64), (cx + 98, cy - 64), (cx + 98, cy + 64), (cx - 98, cy + 64)]
    bulges = [(cx, cy - 92), (cx + 124, cy), (cx, cy + 92), (cx - 124, cy)]
    outline: list[Point] = []
    for k in range(4):                       # puffy sides between pointed corners
        (x0, y0), (x2, y2), (x1, y1) = corners[k], corners[(k + 1) % 4], bulges[k]
        for i in range(20):
            t = i / 20
            outline.append(((1 - t) ** 2 * x0 + 2 * (1 - t) * t * x1 + t * t * x2,
                            (1 - t) ** 2 * y0 + 2 * (1 - t) * t * y1 + t * t * y2))
    pen.polygon(outline, fill=(200, 190, 238), width=6)
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):   # creases at the corners
        pen.line([(cx + sx * 84, cy + sy * 50), (cx + sx * 62, cy + sy * 34)],
                 fill=(160, 145, 215), width=5)

    # 3 towel and washcloth
    cx, cy = centres[2]
    pen.rrect((cx - 98, cy - 10, cx + 98, cy + 80), radius=14, fill=(120, 180, 232), width=5)
    for dx in (-70, -56, 56, 70):
        pen.line([(cx + dx, cy - 6), (cx + dx, cy + 76)], fill=(245, 250, 255), width=6)
    pen.rrect((cx - 62, cy - 92, cx + 48, cy - 16), radius=10, fill=(250, 196, 112), width=5)
    for dy in (-70, -38):
        pen.line([(cx - 56, cy + dy), (cx + 42, cy + dy)], fill=(255, 232, 190), width=5)

    # 4 basin of warm water
    cx, cy = centres[3]
    pen.polygon([(cx - 104, cy), (cx - 70, cy + 88), (cx + 70, cy + 88), (cx + 104, cy)],
                fill=(200, 205, 215), width=5)
    pen.ellipse((cx - 104, cy - 22, cx + 104, cy + 22), fill=(200, 205, 215), width=5)
    pen.ellipse((cx - 86, cy - 13, cx + 86, cy + 13), fill=WATER, outline=None)
    for dx in (-46, 0, 46):
        steam(pen, cx + dx, cy - 30, 110)

    # 5 oil bottle and a drop of oil
    cx, cy = centres[4]
    pen.rrect((cx - 88, cy - 40, cx + 8, cy + 104), radius=18, fill=(244, 196, 84), width=5)
    pen.rrect((cx - 58, cy - 78, cx - 22, cy - 36), radius=6, fill=(244, 196, 84), width=5)
    pen.rrect((cx - 64, cy - 108, cx - 16, cy - 76), radius=6, fill=INK, width=3)
    pen.rrect((cx - 74, cy + 4, cx - 6, cy + 70), radius=8, fill=PANEL, width=3)
    drop(pen, (cx - 40, cy + 46), 13, fill=(244, 196, 84))
    drop(pen, (cx + 62, cy + 20), 26, fill=(244, 196, 84))

    # 6 washing hands under a tap, with soap bubbles
    cx, cy = centres[5]
    pen.line([(cx - 100, cy - 118), (cx + 8, cy - 118), (cx + 8, cy - 92)], fill=(130, 140, 155),
             width=22, joint="curve")
    for i, y in enumerate((cy - 66, cy - 40)):
        drop(pen, (cx + 8 + (i % 2) * 6 - 3, y), 8, fill=WATER, width=3)
    for side in (-1, 1):
        open_hand(pen, (cx + 8 + side * 40, cy + 40), side)
    for bx, by, r in ((-92, 0, 12), (86, -10, 14), (-70, 96, 10), (74, 92, 12), (100, 40, 8)):
        pen.circle((cx + bx, cy + by), r, fill=(235, 245, 255), outline=WATER, width=4)
    return pen.finish()


def draw_position() -> Image.Image:
    pen = Pen(800, 800)
    floor = 742
    pen.line([(30, floor), (770, floor)], fill=PANEL_EDGE, width=8)

    # table on the right
    for x in (520, 740):
        pen.line([(x, 470), (x, floor)], fill=WOOD_DARK, width=16)
    pen.rrect((470, 448, 780, 480), radius=8, fill=WOOD, width=5)

    # stool
    for x0, x1 in ((230, 210), (370, 392)):
        pen.line([(x0, 590), (x1, floor)], fill=WOOD_DARK, width=14)
    pen.rrect((200, 566, 400, 596), radius=10, fill=WOOD, width=5)

    # the helper behind her, hands on her upper back
    pen.capsule((112, 500), (112, floor - 6), 60, (90, 90, 110))
    pen.capsule((112, 300), (112, 520), 96, SLEEVE)
    pen.circle((112, 236), 52, fill=HELPER, outline=INK, width=5)
    pen.capsule((140, 330), (300, 390), 40, SLEEVE)
    pen.capsule((300, 390), (350, 400), 34, HELPER)

    # the mother, leaning forward, bare back, arms folded on a pillow on the table
    pen.capsule((300, 560), (470, 575), 104, (150, 110, 170))          # thighs (skirt)
    pen.capsule((470, 580), (478, floor - 18), 70, (150, 110, 170))    # shins
    pen.ellipse((450, floor - 40, 540, floor - 6), fill=SKIN, width=5)  # foot
    torso = [(250, 560), (262, 470), (300, 400), (368, 340), (452, 312), (508, 330),
             (520, 372), (470, 420), (400, 470), (372, 540), (360, 590), (260, 592)]
    pen.polygon(torso, fill=SKIN, width=6)
    pen.line([(268, 476), (304, 410), (370, 352), (450, 322)], fill=SKIN_SHADE, width=5)
    pen.polygon([(548, 404), (740, 404), (760, 446), (530, 446)], fill=(200, 190, 238), width=5)
    pen.capsule((486, 350), (548, 420), 56, SKIN)                      # upper arm
    pen.capsule((548, 420), (720, 418), 50, SKIN)                      # folded forearms
    pen.capsule((560, 400), (700, 398), 44, SKIN)
    pen.circle((640, 336), 62, fill=HAIR, outline=INK, width=5)       # head resting on arms
    pen.circle((586, 292), 28, fill=HAIR, outline=INK, width=5)       # hair bun

    # green tick: this is the position
    tick(pen, (690, 150), 120)
    return pen.finish()


def legend_strip(pen: Pen, y0=820, y1=985, count=3) -> list[tuple[float, float]]:
    width = (760 - (count - 1) * 20) / count
    centres = []
    for i in range(count):
        x0 = 20 + i * (width + 20)
        panel(pen, (x0, y0, x0 + width, y1))
        centres.append((x0 + width / 2, (y0 + y1) / 2))
    return centres


def mini_spine(pen: Pen, cx: float, cy: float, height=130):
    y = cy - height / 2
    while y <= cy + height / 2:
        pen.rrect((cx - 14, y - 9, cx + 14, y + 9), radius=6, fill=BONE, outline=INK, width=4)
        y += 26


def draw_back_map() -> Image.Image:
    pen = Pen(800, 1000)
    draw_back(pen, highlight_ribs=True, zone=True)
    neck_base_mark(pen)
    rib_labels(pen)
    (a, b, c) = legend_strip(pen)
    # the massage area beside the spine: yes
    mini_spine(pen, a[0] - 40, a[1])
    pen.begin_layer()
    for side in (-1, 1):
        x0, x1 = sorted((a[0] - 40 + side * 20, a[0] - 40 + side * 56))
        pen.rrect((x0, a[1] - 62, x1, a[1] + 62), radius=14, fill=GREEN_FILL, outline=GREEN + (255,),
                  width=4)
    pen.end_layer()
    tick(pen, (a[0] + 70, a[1]), 80, width=14)
    # on the spine itself: no
    mini_spine(pen, b[0] - 40, b[1])
    pen.circle((b[0] - 40, b[1]), 24, fill=HELPER, outline=INK, width=4)
    cross(pen, (b[0] + 66, b[1]), 64, width=14)
    # the rib 5-6 line: where the massage ends
    pen.dashed((c[0] - 110, c[1]), (c[0] + 10, c[1]), fill=BLUE, width=7)
    number_badge(pen, (c[0] + 50, c[1]), "5", fill=BLUE, r=22, size=28)
    number_badge(pen, (c[0] + 102, c[1]), "6", fill=BLUE, r=22, size=28)
    return pen.finish()


THUMB_DX = VERTEBRA_HALF + 30   # thumb tips this far from the middle of the spine


def draw_fists() -> Image.Image:
    pen = Pen(800, 1000)
    draw_back(pen, highlight_ribs=False, zone=True)
    neck_base_mark(pen)
    for side in (-1, 1):
        fist(pen, (CX + side * THUMB_DX, NECK_BASE + 18), side)
    for side in (-1, 1):
        pen.circle((CX + side * THUMB_DX, NECK_BASE + 18), 24, outline=GREEN, width=6)
    (a, b) = legend_strip(pen, count=2)
    # thumbs beside the spine: yes
    mini_spine(pen, a[0] - 60, a[1])
    for side in (-1, 1):
        pen.circle((a[0] - 60 + side * 42, a[1]), 20, fill=HELPER, outline=INK, width=4)
    tick(pen, (a[0] + 90, a[1]), 90, width=16)
    # a thumb on the bone: no
    mini_spine(pen, b[0] - 60, b[1])
    pen.circle((b[0] - 60, b[1]), 22, fill=HELPER, outline=INK, width=4)
    cross(pen, (b[0] + 90, b[1]), 74, width=16)
    return pen.finish()


def loop_path(x0: float, y_start: float, y_end: float, side: int, loops: float, r: float,
              t_end: float = 1.0, samples: int = 240) -> list[Point]:
    """Small circles while moving down: the path of one thumb tip from t=0 to t_end."""
    points = []
    n = max(2, int(samples * t_end))
    for i in range(n + 1):
        t = t_end * i / n
        angle = 2 * math.pi * loops * t
        x = x0 + side * r * math.sin(angle)
        y = y_start + (y_end - y_start) * t - r * math.cos(angle) + r
        points.append((x, y))
    return points


def draw_downward() -> Image.Image:
    pen = Pen(800, 1000)
    draw_back(pen, highlight_ribs=True, zone=False)
    neck_base_mark(pen)
    rib_labels(pen)
    pen.begin_layer()
    for side in (-1, 1):
        x0, x1 = sorted((CX + side * (VERTEBRA_HALF + 6), CX + side * 92))
        pen.rrect((x0, NECK_BASE, x1, RIB_LINE), radius=26, fill=(60, 180, 110, 55), outline=None)
    pen.end_layer()
    y_start, y_end = NECK_BASE + 14, RIB_LINE - 40
    for side in (-1, 1):
        x = CX + side * (THUMB_DX + 8)
        path = loop_path(x, y_start, y_end, side, loops=5, r=16)
        pen.line(path, fill=GREEN, width=8)
        arrow_head(pen, (x, RIB_LINE + 6), (0, 1), 50, GREEN)
    (a, b) = legend_strip(pen, count=2)
    # 3-5 passes, each from the top down
    pen.text((a[0] - 50, a[1] + 2), "3-5", 64)
    cross(pen, (a[0] + 50, a[1] + 4), 34, fill=INK, width=9)
    circle_arrow(pen, (a[0] + 120, a[1] + 2), 30, fill=GREEN, width=8)
    # start at the neck base (orange), move down, end at the rib line (blue)
    pen.circle((b[0], b[1] - 56), 16, fill=WARM, outline=INK, width=4)
    arrow(pen, (b[0], b[1] - 32), (b[0], b[1] + 42), fill=GREEN, width=14, head=36)
    pen.dashed((b[0] - 70, b[1] + 58), (b[0] + 70, b[1] + 58), fill=BLUE, width=7, dash=16, gap=10)
    number_badge(pen, (b[0] + 106, b[1] + 58), "5", fill=BLUE, r=20, size=26)
    number_badge(pen, (b[0] + 150, b[1] + 58), "6", fill=BLUE, r=20, size=26)
    return pen.finish()


def rotated_rect(center: Point, w: float, h: float, degrees: float) -> list[Point]:
    a = math.radians(degrees)
    ca, sa = math.cos(a), math.sin(a)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [(center[0] + x * ca - y * sa, center[1] + x * sa + y * ca) for x, y in corners]


def draw_finish() -> Image.Image:
    pen = Pen(800, 1000)
    draw_back(pen, ribs=False, blades=True, zone=False)
    # a warm, wet washcloth wiping the back
    cloth_centre = (CX + 110, 360)
    pen.polygon(rotated_rect(cloth_centre, 170, 120, -18), fill=(250, 196, 112), width=6)
    for offset in (-40, 0, 40):
        c = (cloth_centre[0] + offset * math.cos(math.radians(-18)),
             cloth_centre[1] + offset * math.sin(math.radians(-18)))
        stripe = rotated_rect(c, 10, 100, -18)
        pen.polygon(stripe, fill=(255, 232, 190), outline=None)
    for i in range(3):
        steam(pen, cloth_centre[0] - 40 + i * 40, cloth_centre[1] - 90, 90)
    arrow(pen, (cloth_centre[0], cloth_centre[1] + 90), (cloth_centre[0], cloth_centre[1] + 260),
          fill=GREEN, width=14, head=44)
    (a, b, c) = legend_strip(pen)
    # basin of warm water
    pen.polygon([(a[0] - 80, a[1] + 6), (a[0] - 54, a[1] + 62), (a[0] + 54, a[1] + 62),
                 (a[0] + 80, a[1] + 6)], fill=(200, 205, 215), width=5)
    pen.ellipse((a[0] - 80, a[1] - 10, a[0] + 80, a[1] + 20), fill=WATER, width=5)
    for dx in (-34, 0, 34):
        steam(pen, a[0] + dx, a[1] - 18, 50, width=5)
    # towel
    pen.rrect((b[0] - 80, b[1] - 36, b[0] + 80, b[1] + 44), radius=12, fill=(120, 180, 232), width=5)
    for dx in (-56, -44, 44, 56):
        pen.line([(b[0] + dx, b[1] - 32), (b[0] + dx, b[1] + 40)], fill=(245, 250, 255), width=5)
    # done
    tick(pen, c, 100, width=18)
    return pen.finish()


def draw_circles_animation(stops=4, turns=4, size=480) -> list[Image.Image]:
    """Close-up of the upper back: at each stop beside the spine both thumbs make one small
    circle (a quarter turn per frame), then move a little lower. Circles already made stay as
    green rings. Frames: stops x turns, plus one last frame showing every ring."""
    mid = size / 2
    dx = 54                        # thumb tips this far from the middle of the spine
    tip_r, ring_r = 10, 26         # radius of the thumb's circle, radius of the ring drawn
    first, last = 72, 282
    line_y = last + 44             # the rib 5-6 line
    ys = [first + (last - first) * k / (stops - 1) for k in range(stops)]
    images = []
    for frame in range(stops * turns + 1):
        stop, turn = divmod(frame, turns)
        pen = Pen(size, size)
        pen.rrect((40, -20, size - 40, size + 20), radius=60, fill=SKIN, outline=INK, width=6)
        pen.begin_layer()
        for side in (-1, 1):
            x0, x1 = sorted((mid + side * 24, mid + side * 90))
            pen.rrect((x0, 34, x1, line_y), radius=22, fill=(60, 180, 110, 60), outline=None)
        pen.end_layer()
        y = 24
        while y < size:
            pen.rrect((mid - 16, y - 10, mid + 16, y + 10), radius=7, fill=BONE, outline=INK,
                      width=4)
            y += 30
        pen.dashed((60, line_y), (size - 60, line_y), fill=BLUE, width=6)
        arrow(pen, (size - 22, 60), (size - 22, line_y - 10), fill=GREEN, width=8, head=26)
        done = min(stop, stops)
        for side in (-1, 1):
            x = mid + side * dx
            for k in range(done):              # finished circles
                circle_arrow(pen, (x, ys[k]), ring_r, fill=GREEN, width=6)
            if stop < stops and turn:          # the circle being made
                sweep = 90 * turn
                pen.arc((x, ys[stop]), ring_r, -90, -90 + sweep, fill=GREEN, width=6)
        for side in (-1, 1):
            x = mid + side * dx
            if stop < stops:
                angle = math.radians(-90 + 90 * turn)
                tip = (x + tip_r * math.cos(angle), ys[stop] + tip_r * math.sin(angle))
            else:
                tip = (x, ys[-1] + 40)
            fist(pen, tip, side, scale=0.8, sleeve=True)
        images.append(pen.finish())
    return images


def save_gif(frames: list[Image.Image], path: Path) -> None:
    paletted = [f.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
                for f in frames]
    durations = [200] * len(frames)
    durations[-1] = 1200   # pause at the rib line before starting again at the neck
    paletted[0].save(path, save_all=True, append_images=paletted[1:], duration=durations,
                     loop=0, optimize=True, disposal=1)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pictures = {
        "step1_preparation.png": draw_preparation,
        "step2_position.png": draw_position,
        "step3_back_map.png": draw_back_map,
        "step4_fists.png": draw_fists,
        "step6_downward.png": draw_downward,
        "step7_finish.png": draw_finish,
    }
    for name, draw in pictures.items():
        draw().save(OUT / name, optimize=True)
        print("wrote", OUT / name)
    save_gif(draw_circles_animation(), OUT / "thumbs_circles.gif")
    print("wrote", OUT / "thumbs_circles.gif")


if __name__ == "__main__":
    main()
