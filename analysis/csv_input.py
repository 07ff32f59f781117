"""Read before/after CSV files and pair rows by id.

Milk flow files:  mother_id,phase,milk_flow      (milk_flow: code or Indonesian label)
Quiz files:       participant_id,phase,score     (score: number 0-100)

The kind is detected from the header. ``phase`` is ``pre`` or ``post`` (any case).
Semicolon-separated files (as saved by Excel with an Indonesian locale) are accepted too;
in those, a decimal comma in scores ("72,5") is accepted.
"""
from __future__ import annotations

import csv
import io
import math
import os

from .stats import CATEGORIES, LABELS_ID, milk_flow_analysis, quiz_analysis

HEADERS = {
    "milk_flow": ("mother_id", "phase", "milk_flow"),
    "quiz": ("participant_id", "phase", "score"),
}
PHASES = ("pre", "post")
_CATEGORY_LOOKUP = {c: c for c in CATEGORIES} | {
    label.casefold(): c for c, label in LABELS_ID.items()
}


class AnalysisInputError(ValueError):
    """The input file cannot be analysed; the message says where and why."""


def _err(line: int, msg: str) -> AnalysisInputError:
    return AnalysisInputError(f"line {line}: {msg}")


def _detect_kind(line: int, header: list[str]) -> tuple[str, dict[str, int]]:
    """Return (kind, {column: index}) from the header row found on ``line``."""
    cols = [h.strip().casefold() for h in header]
    for kind, wanted in HEADERS.items():
        if wanted[0] in cols or wanted[2] in cols:
            missing = [w for w in wanted if w not in cols]
            if missing:
                raise _err(line, f"missing column(s) {', '.join(missing)} "
                                 f"(expected header {','.join(wanted)})")
            return kind, {w: cols.index(w) for w in wanted}
    expected = " or ".join(",".join(w) for w in HEADERS.values())
    raise _err(line, f"unrecognised header {','.join(header)!r}; expected {expected}")


def _parse_category(raw: str, line: int) -> str:
    cat = _CATEGORY_LOOKUP.get(" ".join(raw.split()).casefold())
    if cat is None:
        allowed = ", ".join(list(CATEGORIES) + [f'"{v}"' for v in LABELS_ID.values()])
        raise _err(line, f"unknown milk_flow category {raw.strip()!r} (allowed: {allowed})")
    return cat


def _parse_score(raw: str, line: int, decimal_comma: bool) -> float:
    text = raw.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise _err(line, f"score {raw.strip()!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise _err(line, f"score {raw.strip()!r} is out of range 0-100")
    return value


def _read_rows(path) -> tuple[list[tuple[int, list[str]]], str]:
    """Return ([(line_number, cells), ...], delimiter)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise AnalysisInputError(f"{os.fspath(path)}: not a UTF-8 text file") from None
    except OSError as e:
        raise AnalysisInputError(f"cannot read {os.fspath(path)}: {e.strerror or e}") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader], delimiter
    except csv.Error as e:
        raise _err(reader.line_num, f"malformed CSV ({e})") from None


def load_csv(path) -> tuple[str, list[tuple], int]:
    """Return (kind, pairs, excluded). kind is "milk_flow" or "quiz".

    pairs are (pre, post) values in order of first appearance of each id;
    excluded counts ids that do not have both phases.
    """
    rows, delimiter = _read_rows(path)
    while rows and not any(cell.strip() for cell in rows[0][1]):
        rows.pop(0)  # leading blank lines
    if not rows:
        raise _err(1, "file is empty (expected a header row)")
    kind, idx = _detect_kind(*rows[0])
    id_col, value_col = HEADERS[kind][0], HEADERS[kind][2]
    width = max(idx.values()) + 1
    values: dict[str, dict[str, object]] = {}
    seen_at: dict[tuple[str, str], int] = {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) < width:
            raise _err(line, f"expected {width} columns, found {len(row)}")
        ident = row[idx[id_col]].strip()
        if not ident:
            raise _err(line, f"empty {id_col}")
        phase = row[idx["phase"]].strip().casefold()
        if phase not in PHASES:
            raise _err(line, f"phase {row[idx['phase']].strip()!r} must be 'pre' or 'post'")
        if (ident, phase) in seen_at:
            raise _err(line, f"duplicate {phase} row for {id_col} {ident!r} "
                             f"(first seen on line {seen_at[ident, phase]})")
        seen_at[ident, phase] = line
        raw = row[idx[value_col]]
        if kind == "milk_flow":
            value = _parse_category(raw, line)
        else:
            value = _parse_score(raw, line, decimal_comma=delimiter == ";")
        values.setdefault(ident, {})[phase] = value
    if not seen_at:
        raise _err(rows[0][0] + 1, "no data rows after the header")
    pairs = [(v["pre"], v["post"]) for v in values.values() if len(v) == 2]
    return kind, pairs, len(values) - len(pairs)


def analyze_file(path) -> dict:
    """Load a CSV file and return the analysis dict for its kind."""
    kind, pairs, excluded = load_csv(path)
    if kind == "milk_flow":
        return milk_flow_analysis(pairs, excluded)
    return quiz_analysis(pairs, excluded)
