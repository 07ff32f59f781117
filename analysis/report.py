"""Plain-text report of an analysis result (English or Bahasa Indonesia)."""
from __future__ import annotations

import textwrap

from .stats import CATEGORIES, NOTE

WORDING = {
    "en": {
        "milk_title": "Milk flow before and after oxytocin massage",
        "quiz_title": "Quiz scores before and after training",
        "n_mothers": "Mothers with both measurements: {n} (left out, missing one measurement: {x})",
        "n_participants": "Participants with both scores: {n} (left out, missing one score: {x})",
        "category": "Category",
        "before": "Before",
        "after": "After",
        "labels": {
            "not_out": "Milk not out yet",
            "not_smooth": "Milk out, not yet smooth",
            "smooth": "Milk flowing smoothly",
        },
        "short": {"not_out": "not out", "not_smooth": "not smooth", "smooth": "smooth"},
        "cross": "Before x after (rows = before, columns = after)",
        "changes": "Improved: {i}   Same: {s}   Worse: {w}",
        "tests": "Tests (two-sided)",
        "sign": "Sign test, exact (improved vs worse)",
        "wilcoxon": "Wilcoxon signed-rank",
        "mcnemar": "McNemar exact (smooth vs not smooth)",
        "paired_t_milk": "Paired t-test on codes 1-3 (literature only)",
        "paired_t": "Paired t-test",
        "means": "Mean before: {pre}   Mean after: {post}   Mean change: {chg}",
        "ci": "95% confidence interval of the change: {lo} to {hi}",
        "ci_na": "95% confidence interval of the change: not available (fewer than 2 pairs)",
        "note_label": "Note",
        "note": NOTE,
        "quiz_note": (
            "The quiz measures knowledge right after training only; it does not show what is "
            "remembered later or whether practice changes."
        ),
    },
    "id": {
        "milk_title": "Kelancaran ASI sebelum dan sesudah pijat oksitosin",
        "quiz_title": "Nilai kuis sebelum dan sesudah pelatihan",
        "n_mothers": "Ibu dengan dua pengukuran: {n} (tidak dihitung, hanya satu pengukuran: {x})",
        "n_participants": "Peserta dengan dua nilai: {n} (tidak dihitung, hanya satu nilai: {x})",
        "category": "Kategori",
        "before": "Sebelum",
        "after": "Sesudah",
        "labels": {
            "not_out": "ASI belum keluar",
            "not_smooth": "ASI keluar tapi belum lancar",
            "smooth": "ASI lancar",
        },
        "short": {"not_out": "belum keluar", "not_smooth": "belum lancar", "smooth": "lancar"},
        "cross": "Sebelum x sesudah (baris = sebelum, kolom = sesudah)",
        "changes": "Membaik: {i}   Sama: {s}   Memburuk: {w}",
        "tests": "Uji statistik (dua arah)",
        "sign": "Uji tanda, eksak (membaik vs memburuk)",
        "wilcoxon": "Uji peringkat bertanda Wilcoxon",
        "mcnemar": "McNemar eksak (lancar vs tidak lancar)",
        "paired_t_milk": "Uji t berpasangan pada kode 1-3 (hanya pembanding literatur)",
        "paired_t": "Uji t berpasangan",
        "means": "Rata-rata sebelum: {pre}   Rata-rata sesudah: {post}   Perubahan rata-rata: {chg}",
        "ci": "Interval kepercayaan 95% perubahan: {lo} sampai {hi}",
        "ci_na": "Interval kepercayaan 95% perubahan: tidak tersedia (kurang dari 2 pasang)",
        "note_label": "Catatan",
        "note": (
            "Satu kelompok yang diukur sebelum dan sesudah tidak dapat memisahkan efek pijat dari "
            "efek berjalannya waktu: ASI biasanya mulai banyak keluar pada hari ke-2 sampai ke-4 "
            "setelah melahirkan, dengan atau tanpa pijat. Tidak ada kelompok kontrol, jadi "
            "kenaikan 'lancar' bukan bukti bahwa pijatlah penyebabnya. Hasil utama adalah jumlah, "
            "tabel sebelum x sesudah, uji tanda, uji Wilcoxon dan uji McNemar. Uji t berpasangan "
            "memperlakukan tiga kategori sebagai angka 1-3, yang tidak tepat untuk kategori "
            "berurutan; uji ini ditampilkan hanya karena dilaporkan dalam literatur."
        ),
        "quiz_note": (
            "Kuis hanya mengukur pengetahuan tepat setelah pelatihan; tidak menunjukkan apa yang "
            "masih diingat kemudian atau apakah praktik berubah."
        ),
    },
}


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=78)


def _p(p) -> str:
    if p is None:
        return "p = -"
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def _num(x, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _pct(cell: dict) -> str:
    return f"{cell['n']:>3} {_num(cell['pct'], '{:.1f}%'):>6}"


def _test_lines(result: dict, w: dict, t_label: str) -> list[str]:
    tests = result["tests"]
    lines = [w["tests"]]
    if "sign" in tests:
        lines.append(f"  {w['sign']}: {_p(tests['sign']['p'])}")
    wx = tests["wilcoxon"]
    lines.append(f"  {w['wilcoxon']}: W = {_num(wx['statistic'], '{:g}')}, {_p(wx['p'])}")
    if "mcnemar_smooth" in tests:
        lines.append(f"  {w['mcnemar']}: {_p(tests['mcnemar_smooth']['p'])}")
    pt = tests["paired_t"]
    lines.append(f"  {t_label}: t = {_num(pt['t'], '{:.3f}')}, "
                 f"df = {_num(pt['df'], '{}')}, {_p(pt['p'])}")
    return lines


def _milk_text(r: dict, w: dict) -> list[str]:
    width = max(len(v) for v in w["labels"].values()) + 2
    lines = [w["milk_title"], "", w["n_mothers"].format(n=r["n_pairs"], x=r["excluded"]), ""]
    lines.append(f"{w['category']:<{width}}{w['before']:>12}{w['after']:>12}")
    for c in CATEGORIES:
        lines.append(f"{w['labels'][c]:<{width}}{_pct(r['pre'][c]):>12}{_pct(r['post'][c]):>12}")
    col = max(len(v) for v in w["short"].values()) + 2
    lines += ["", w["cross"], " " * col + "".join(f"{w['short'][c]:>{col}}" for c in CATEGORIES)]
    for a in CATEGORIES:
        cells = "".join(f"{r['cross_table'][a][b]:>{col}}" for b in CATEGORIES)
        lines.append(f"{w['short'][a]:<{col}}{cells}")
    lines += ["", w["changes"].format(i=r["improved"], s=r["same"], w=r["worse"]), ""]
    lines += _test_lines(r, w, w["paired_t_milk"])
    lines += ["", _wrap(f"{w['note_label']}: {w['note']}")]
    return lines


def _quiz_text(r: dict, w: dict) -> list[str]:
    chg = _num(r["mean_change"], "{:+.2f}")
    lines = [w["quiz_title"], "", w["n_participants"].format(n=r["n_pairs"], x=r["excluded"]), ""]
    lines.append(w["means"].format(pre=_num(r["mean_pre"]), post=_num(r["mean_post"]), chg=chg))
    lo, hi = r["ci95"]
    lines.append(w["ci_na"] if lo is None else w["ci"].format(lo=_num(lo), hi=_num(hi)))
    lines += [""] + _test_lines(r, w, w["paired_t"])
    lines += ["", _wrap(f"{w['note_label']}: {w['quiz_note']}")]
    return lines


def format_text(result: dict, lang: str = "en") -> str:
    """Readable plain-text report for a milk_flow or quiz result."""
    w = WORDING.get(lang)
    if w is None:
        raise ValueError(f"unsupported language {lang!r} (use one of: {', '.join(WORDING)})")
    kind = result.get("kind")
    if kind == "milk_flow":
        lines = _milk_text(result, w)
    elif kind == "quiz":
        lines = _quiz_text(result, w)
    else:
        raise ValueError(f"unknown result kind {kind!r}")
    return "\n".join(lines) + "\n"
