"""Paired before/after statistics for milk flow (ordinal, 3 categories) and quiz scores.

Every function returns plain Python values (float/int/None, never numpy types or NaN),
so results can be passed straight to ``json.dumps``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

CATEGORIES = ("not_out", "not_smooth", "smooth")
CODES = {"not_out": 1, "not_smooth": 2, "smooth": 3}
LABELS_ID = {
    "not_out": "ASI belum keluar",
    "not_smooth": "ASI keluar tapi belum lancar",
    "smooth": "ASI lancar",
}

NOTE = (
    "One group measured before and after cannot separate the effect of the massage from the "
    "effect of time passing: breast milk usually comes in on days 2-4 after birth anyway, with "
    "or without massage. There is no control group, so a rise in 'smooth' is not proof that the "
    "massage caused it. The main results are the counts, the pre x post table, the sign test, "
    "the Wilcoxon signed-rank test and McNemar's test. The paired t-test treats the three "
    "categories as numbers 1-3, which is not justified for an ordered category; it is shown "
    "only because the published literature reports it."
)


def _clean(x) -> float | None:
    """Convert a numpy/float result to a plain float, mapping NaN/inf to None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def sign_test(improved: int, worse: int) -> dict:
    """Exact two-sided sign test (binomial, p=0.5) on improved vs worse; ties are dropped."""
    if improved + worse == 0:
        return {"p": 1.0}
    return {"p": _clean(stats.binomtest(improved, improved + worse, 0.5).pvalue)}


def mcnemar_exact(b: int, c: int) -> dict:
    """Exact McNemar test: two-sided binomial test on the discordant cells b and c."""
    if b + c == 0:
        return {"p": 1.0}
    return {"p": _clean(stats.binomtest(b, b + c, 0.5).pvalue)}


def wilcoxon_test(diffs) -> dict:
    """Wilcoxon signed-rank test on paired differences (zero differences dropped)."""
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        return {"statistic": None, "p": None}
    if not np.any(d != 0):
        return {"statistic": None, "p": 1.0}
    res = stats.wilcoxon(d)
    return {"statistic": _clean(res.statistic), "p": _clean(res.pvalue)}


def paired_t(pre, post) -> dict:
    """Paired t-test (post vs pre). t and p are None when n < 2 or the differences are constant."""
    a = np.asarray(pre, dtype=float)
    b = np.asarray(post, dtype=float)
    n = a.size
    df = n - 1 if n >= 2 else None
    d = b - a
    if n < 2 or np.all(d == d[0]):
        return {"t": None, "df": df, "p": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_rel(b, a)
    return {"t": _clean(res.statistic), "df": df, "p": _clean(res.pvalue)}


def _distribution(cats: list[str], n: int) -> dict:
    out = {}
    for c in CATEGORIES:
        k = cats.count(c)
        out[c] = {"n": k, "pct": round(100.0 * k / n, 1) if n else None}
    return out


def milk_flow_analysis(pairs: list[tuple[str, str]], excluded: int = 0) -> dict:
    """Analyse (pre_category, post_category) pairs, one per mother."""
    for pre, post in pairs:
        if pre not in CODES or post not in CODES:
            raise ValueError(f"unknown milk flow category in pair {(pre, post)!r}")
    n = len(pairs)
    pre_codes = [CODES[p] for p, _ in pairs]
    post_codes = [CODES[q] for _, q in pairs]
    diffs = [q - p for p, q in zip(pre_codes, post_codes)]
    improved = sum(d > 0 for d in diffs)
    worse = sum(d < 0 for d in diffs)
    cross = {a: {b: 0 for b in CATEGORIES} for a in CATEGORIES}
    for p, q in pairs:
        cross[p][q] += 1
    # McNemar on "smooth" vs "not smooth": b = became smooth, c = stopped being smooth.
    b = sum(p != "smooth" and q == "smooth" for p, q in pairs)
    c = sum(p == "smooth" and q != "smooth" for p, q in pairs)
    if n:
        tests = {
            "sign": sign_test(improved, worse),
            "wilcoxon": wilcoxon_test(diffs),
            "mcnemar_smooth": mcnemar_exact(b, c),
            "paired_t": paired_t(pre_codes, post_codes),
        }
    else:
        tests = {
            "sign": {"p": None},
            "wilcoxon": {"statistic": None, "p": None},
            "mcnemar_smooth": {"p": None},
            "paired_t": {"t": None, "df": None, "p": None},
        }
    return {
        "kind": "milk_flow",
        "n_pairs": n,
        "excluded": excluded,
        "pre": _distribution([p for p, _ in pairs], n),
        "post": _distribution([q for _, q in pairs], n),
        "cross_table": cross,
        "improved": improved,
        "same": n - improved - worse,
        "worse": worse,
        "tests": tests,
        "note": NOTE,
    }


def _round2(x) -> float | None:
    x = _clean(x)
    return None if x is None else round(x, 2)


def mean_ci95(values) -> list[float | None]:
    """95% confidence interval of the mean (t distribution); [None, None] when n < 2."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return [None, None]
    m = float(v.mean())
    sem = float(stats.sem(v))
    if sem == 0:
        return [round(m, 2), round(m, 2)]
    lo, hi = stats.t.interval(0.95, v.size - 1, loc=m, scale=sem)
    return [_round2(lo), _round2(hi)]


def quiz_analysis(pairs: list[tuple[float, float]], excluded: int = 0) -> dict:
    """Analyse (pre_score, post_score) pairs, one per participant."""
    n = len(pairs)
    pre = np.array([p for p, _ in pairs], dtype=float)
    post = np.array([q for _, q in pairs], dtype=float)
    diffs = post - pre
    return {
        "kind": "quiz",
        "n_pairs": n,
        "excluded": excluded,
        "mean_pre": _round2(pre.mean()) if n else None,
        "mean_post": _round2(post.mean()) if n else None,
        "mean_change": _round2(diffs.mean()) if n else None,
        "ci95": mean_ci95(diffs),
        "tests": {
            "paired_t": paired_t(pre, post),
            "wilcoxon": wilcoxon_test(diffs),
        },
    }
