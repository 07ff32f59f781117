"""Read before/after CSV files and pair rows by id.

Milk flow files:  mother_id,phase,milk_flow      (milk_flow: code or Indonesian label)
Quiz files:       participant_id,phase,score     (score: number 0-100)

The kind is detected from the header. ``phase`` is ``pre`` or ``post`` (any case).
Semicolon-separated files (as saved by Excel with an Indonesian locale) are accepted too;
in those, a decimal comma in scores ("72,5") is accepted.
"""
from __future__ import annotations

import csv
from array import array
import math
import os
from typing import Iterator

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


def _open_rows(f) -> tuple[Iterator[tuple[int, list[str]]], str]:
    """Stream (line_number, cells) from an open text file; the delimiter is guessed from the
    first line. Nothing but the current row is held in memory."""
    first = f.readline()
    delimiter = ";" if ";" in first and "," not in first else ","
    f.seek(0)
    reader = csv.reader(f, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as e:
            raise _err(reader.line_num, f"malformed CSV ({e})") from None

    return rows(), delimiter


def load_csv(path) -> tuple[str, list[tuple], int]:
    """Return (kind, pairs, excluded). kind is "milk_flow" or "quiz".

    pairs are (pre, post) values in order of first appearance of each id;
    excluded counts ids that do not have both phases. The file is read row by row: memory
    grows with the number of people, not with the size of the file.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _load(f)
    except UnicodeDecodeError:
        raise AnalysisInputError(f"{os.fspath(path)}: not a UTF-8 text file") from None
    except OSError as e:
        raise AnalysisInputError(f"cannot read {os.fspath(path)}: {e.strerror or e}") from None


def _load(f) -> tuple[str, list[tuple], int]:
    rows, delimiter = _open_rows(f)
    header = next(((line, row) for line, row in rows if any(cell.strip() for cell in row)), None)
    if header is None:
        raise _err(1, "file is empty (expected a header row)")
    kind, idx = _detect_kind(*header)
    id_col, value_col = HEADERS[kind][0], HEADERS[kind][2]
    width = max(idx.values()) + 1
    # per id an index into compact columns: pre and post value and the line each was on (0: not yet)
    index: dict[str, int] = {}
    typecode = "b" if kind == "milk_flow" else "d"
    value = {"pre": array(typecode), "post": array(typecode)}
    seen_on = {"pre": array("q"), "post": array("q")}
    data_rows = 0
    for line, row in rows:
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
        at = index.setdefault(ident, len(index))
        if at == len(seen_on["pre"]):
            for column in (*value.values(), *seen_on.values()):
                column.append(0)
        if seen_on[phase][at]:
            raise _err(line, f"duplicate {phase} row for {id_col} {ident!r} "
                             f"(first seen on line {seen_on[phase][at]})")
        raw = row[idx[value_col]]
        if kind == "milk_flow":
            value[phase][at] = CATEGORIES.index(_parse_category(raw, line))
        else:
            value[phase][at] = _parse_score(raw, line, decimal_comma=delimiter == ";")
        seen_on[phase][at] = line
        data_rows += 1
    if not data_rows:
        raise _err(header[0] + 1, "no data rows after the header")
    decode = (lambda v: CATEGORIES[v]) if kind == "milk_flow" else float
    both = [i for i in range(len(index)) if seen_on["pre"][i] and seen_on["post"][i]]
    pairs = [(decode(value["pre"][i]), decode(value["post"][i])) for i in both]
    return kind, pairs, len(index) - len(pairs)


def analyze_file(path) -> dict:
    """Load a CSV file and return the analysis dict for its kind."""
    kind, pairs, excluded = load_csv(path)
    if kind == "milk_flow":
        return milk_flow_analysis(pairs, excluded)
    return quiz_analysis(pairs, excluded)
