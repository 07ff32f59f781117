"""Stacked bar chart of milk flow categories before vs after (PNG bytes)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from .stats import CATEGORIES, LABELS_ID  # noqa: E402

# Text that may hold what a person typed (a mother's name, a clinic's name) is drawn as it is:
# never as matplotlib mathtext, where "$x^2$" is a formula and "$\\frac{$" an error that used
# to break /riwayat. (usetex stays off too.)
PLAIN = {"parse_math": False, "usetex": False}

COLORS = {"not_out": "#d9534f", "not_smooth": "#f0ad4e", "smooth": "#5cb85c"}
AXIS_WORDS = {
    "id": {"phases": ("Sebelum", "Sesudah"), "ylabel": "Persen ibu (%)", "n": "n = {n} ibu"},
    "en": {"phases": ("Before", "After"), "ylabel": "Percent of mothers (%)",
           "n": "n = {n} mothers"},
}


def milk_flow_chart_png(result: dict, title: str = "", lang: str = "id") -> bytes:
    """Render a milk_flow result as an ~800x600 px stacked bar chart; return PNG bytes.

    Bars are the percentages of each category before and after; category names are the
    Indonesian labels used in the questionnaire.
    """
    words = AXIS_WORDS.get(lang, AXIS_WORDS["id"])
    fig, ax = plt.subplots(figsize=(8, 6), dpi=100)
    try:
        x = [0, 1]
        bottom = [0.0, 0.0]
        for cat in CATEGORIES:
            heights = [result[phase][cat]["pct"] or 0.0 for phase in ("pre", "post")]
            bars = ax.bar(x, heights, bottom=bottom, width=0.55, color=COLORS[cat],
                          label=LABELS_ID[cat], edgecolor="white")
            for bar, h, b in zip(bars, heights, bottom):
                if h >= 4:
                    ax.text(bar.get_x() + bar.get_width() / 2, b + h / 2, f"{h:.1f}%",
                            ha="center", va="center", fontsize=11)
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_xticks(x, words["phases"])
        ax.set_ylim(0, 100)
        ax.set_ylabel(words["ylabel"])
        ax.set_title(title or words["n"].format(n=result["n_pairs"]), **PLAIN)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def milk_history_chart_png(points: list[tuple[float, int]], session_days: list[float], words: dict) -> bytes:
    """One mother's reports over her days after birth, as a small step chart (PNG bytes).

    ``points`` are (postpartum day, code 1-3) oldest first; ``session_days`` the postpartum
    day of each massage session (drawn as ticks along the bottom). ``words`` holds the texts,
    in the reader's language: ``title``, ``xlabel``, ``sessions`` and ``levels`` (3 labels
    for codes 1-3). Uses matplotlib's object API, so it is safe to call from a worker thread.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 3.2), dpi=100)
    ax = fig.add_subplot()
    days = [d for d, _ in points]
    codes = [c for _, c in points]
    if points:
        ax.step(days, codes, where="post", color="#888888", linewidth=1, zorder=1)
        ax.scatter(days, codes, c=[COLORS[CATEGORIES[c - 1]] for c in codes], s=60, zorder=2,
                   edgecolors="white")
    if session_days:
        ax.scatter(session_days, [0.55] * len(session_days), marker="|", s=120, color="#337ab7",
                   label=words["sessions"])
        ax.legend(loc="upper left", frameon=False, fontsize=8)
    everything = days + list(session_days)
    lo, hi = (min(everything), max(everything)) if everything else (1, 2)
    ax.set_xlim(max(0.5, lo - 0.5), hi + 0.5 if hi > lo else lo + 1.5)
    ax.set_ylim(0.3, 3.5)
    ax.set_yticks([1, 2, 3], words["levels"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(words["xlabel"], **PLAIN)
    ax.set_title(words["title"], **PLAIN)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
