"""The research export: one CSV per table and one XLSX with a sheet per table plus a "columns"
sheet, mothers only by pseudonym, times in UTC and category codes (see docs/reports.md)."""
from __future__ import annotations

from pathlib import Path

from db.queries.clinic_scope import Scope
from db.queries.exports import research_tables


from db.reader import connect_read_only  # noqa: F401  (the exports' one way in)


def write_research_files(db_path: str | Path, midwife_id: int, folder: Path, stamp: str, columns_help: dict,
                         columns_header: list[str]) -> tuple[Scope, list[tuple[str, Path, int]]]:
    """In a worker thread, with its own read-only connection: one CSV per table and one XLSX
    with a sheet per table plus a "columns" sheet. Rows stream from SQLite to disk.
    Returns her clinic and (table name | "xlsx", path, rows) per file."""
    from analysis.export import write_csv, write_xlsx

    conn = connect_read_only(db_path)
    try:
        scope, tables = research_tables(conn, midwife_id)
        files = []
        for table in tables:
            path = folder / f"sahabat-nifas-{stamp}-{table.name}.csv"
            files.append((table.name, path, write_csv(path, table.columns, table.rows())))
        help_rows = [(table.name, column, dict(columns_help.get(table.name, [])).get(column, ""))
                     for table in tables for column in table.columns]
        xlsx = folder / f"sahabat-nifas-{stamp}.xlsx"
        write_xlsx(xlsx, [(table.name, table.columns, table.rows()) for table in tables]
                   + [("columns", columns_header, help_rows)])
        files.append(("xlsx", xlsx, 0))
        return scope, files
    finally:
        conn.close()
