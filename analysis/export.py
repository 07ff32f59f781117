"""Streaming CSV and XLSX writers for the midwife exports (research files and the Puskesmas register).

Rows are consumed one at a time from any synchronous iterable, so large exports are never
held in memory (XLSX uses xlsxwriter's ``constant_memory`` mode).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from typing import IO

import xlsxwriter

_XLSX_OPTIONS = {
    "constant_memory": True,
    # Cell text is user input: never turn it into formulas, links or numbers.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "default_date_format": "yyyy-mm-dd hh:mm",
}
_XLSX_NATIVE = (str, int, float, bool, dt.datetime, dt.date, dt.time)


def write_csv(path_or_file: str | os.PathLike | IO[str], columns: list[str],
              rows: Iterable[Sequence]) -> int:
    """Write a header and rows as CSV; return the number of data rows written.

    A path is written as UTF-8 with a BOM (so Excel shows non-ASCII text correctly);
    an open text file is written as-is (open it with newline="").
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w", newline="", encoding="utf-8-sig") as f:
            return write_csv(f, columns, rows)
    writer = csv.writer(path_or_file)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


def _xlsx_value(v):
    if v is None or isinstance(v, _XLSX_NATIVE):
        return v
    return str(v)


def write_xlsx(path: str | os.PathLike, sheets: list[tuple], *,
               datetime_format: str = "yyyy-mm-dd hh:mm", date_format: str = "yyyy-mm-dd") -> list[int]:
    """Write one worksheet per (name, columns, rows[, widths]); return the row count of each sheet.

    `widths` (optional) gives column widths in characters; otherwise a column is as wide as its
    header (at least 12). A `datetime` cell is written as an Excel date-time (naive: convert it to
    the time you want shown first) in `datetime_format`, a `date` in `date_format`. Rows are
    written as they come (xlsxwriter's constant_memory mode), so any number fits.

    Sheet names must be valid Excel names (at most 31 characters, none of []:*?/\\).
    """
    counts = []
    with xlsxwriter.Workbook(os.fspath(path), _XLSX_OPTIONS) as wb:
        bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        moment = wb.add_format({"num_format": datetime_format})
        day = wb.add_format({"num_format": date_format})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        for name, columns, rows, *extra in sheets:
            widths = extra[0] if extra else None
            ws = wb.add_worksheet(name)
            for i, col in enumerate(columns):
                width = widths[i] if widths else max(12, len(str(col)) + 2)
                ws.set_column(i, i, width, wrap if width >= 40 else None)
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, columns, bold)
            n = 0
            for n, row in enumerate(rows, start=1):
                for c, v in enumerate(row):
                    if v is None:
                        continue
                    if isinstance(v, dt.datetime):
                        ws.write_datetime(n, c, v.replace(tzinfo=None), moment)
                    elif isinstance(v, dt.date):
                        ws.write_datetime(n, c, dt.datetime.combine(v, dt.time()), day)
                    else:
                        ws.write(n, c, _xlsx_value(v))
            counts.append(n)
    return counts
