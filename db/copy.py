"""Copy a whole database between SQLite and PostgreSQL (either way), check the copy row for row,
and back a database up (SQLite: the online backup API; PostgreSQL: `pg_dump`).

`sahabat-nifas db copy SOURCE TARGET` (see `command`) does, in this order:

1. the target is migrated to the current schema (`Database(target).open()`);
2. the source must have exactly the schema of `db.schema.metadata` (same tables and columns;
   both at the same Alembic revision when both say), else nothing is copied;
3. in ONE transaction on the target: every table must be empty (else it refuses); every table of
   `metadata.sorted_tables` (parents before children) is streamed from the source in batches
   (`batch_size` rows at a time, never a whole table in memory) and inserted with the same
   values, ids included; PostgreSQL identity sequences are then set past the largest id. A
   table both databases have that `metadata` does not describe yet (a newer migration's) is
   reflected from the target and copied after them; a source table the target lacks is reported
   as not copied;
4. afterwards `check_copy` reads both sides again: per table the row count and an
   order-independent checksum of every row's values must be equal.

The triggers that keep `milk_pair`, `quiz_pair` and `reminder_pref` (one row per new mother) up to
date stay on while copying: they fire as `mother`, `milk_report` and `quiz_attempt` go in, and
fill those tables with rows computed on the target. The tables the triggers write are therefore
copied LAST: first emptied (inside the same transaction, only what the triggers just wrote), then
filled with the source's rows verbatim. No superuser (`session_replication_role`), no dropped
triggers, the same code on both databases, and the result equals the source even where the
source's rows were not made by the triggers (the legacy 0004/0005 backfills).

The bookkeeping tables (`alembic_version`, legacy `schema_migration`) are not copied: the target
has its own from step 1; nor is `rate_timeline` (the running bot's shared rate budget, by the
source server's clock: meaningless elsewhere).
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from db.database import Database, database_url
from db.schema import metadata

BOOKKEEPING = frozenset({"alembic_version", "schema_migration"})
RUNTIME = frozenset({"rate_timeline"})  # state of a running bot, not data: not copied
"""Tables of the migration tools: each database keeps its own, they are not copied."""

DERIVED = ("milk_pair", "quiz_pair", "reminder_pref")
"""Tables written by triggers (see db/alembic/versions/0001_baseline.py). Any other table a
trigger of the target writes is found in its catalogue and treated the same way."""

_IGNORED_TABLE = re.compile(r"^(sqlite_|pg_)")


class CopyRefused(Exception):
    """The copy cannot be done safely (target not empty, schemas differ, same database ...)."""


class BackupError(Exception):
    """A backup could not be written."""


@dataclass
class TableCopy:
    name: str
    rows: int
    seconds: float


@dataclass
class CopyReport:
    tables: list[TableCopy] = field(default_factory=list)
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # source tables that are not in the schema

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass
class TableCheck:
    name: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str
    differing: list[Any] = field(default_factory=list)  # a few primary keys whose rows differ

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


# --- URLs and engines --------------------------------------------------------------------------------

def _url(target: str | Path) -> URL:
    return make_url(database_url(target))


def is_postgres(target: str | Path) -> bool:
    return _url(target).get_backend_name() == "postgresql"


def shown(target: str | Path) -> str:
    """A database as it may be printed: a file path, or a URL without its password."""
    url = _url(target)
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def _same_database(a: str | Path, b: str | Path) -> bool:
    url_a, url_b = _url(a), _url(b)
    if url_a.get_backend_name() != url_b.get_backend_name():
        return False
    if url_a.get_backend_name() == "sqlite":
        return Path(url_a.database).resolve() == Path(url_b.database).resolve()
    key = lambda u: (u.host or "localhost", u.port or 5432, u.database)  # noqa: E731
    return key(url_a) == key(url_b)


def _engine(target: str | Path, *, read_only: bool = False) -> Engine:
    """A synchronous engine (one connection at a time, no pool) for the copy and the check.

    SQLite: the standard library driver with transactions we begin ourselves (a read
    transaction is one snapshot of the whole file; a write one takes the lock at once), foreign
    keys on; a source is opened read-only. PostgreSQL: psycopg 3."""
    url = _url(target)
    if url.get_backend_name() == "postgresql":
        return create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
    path = Path(url.database).resolve()
    if read_only:
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
    else:
        engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _snapshot(conn: Connection) -> None:
    """Read the whole source in one consistent snapshot."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


# --- schema checks -----------------------------------------------------------------------------------

def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    rows = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return ",".join(sorted(rows)) or None


def _schema_problems(conn: Connection) -> list[str]:
    """Differences between a database and `metadata`."""
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    problems = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            problems.append(f"table {table.name} is missing")
            continue
        have = {column["name"] for column in inspector.get_columns(table.name)}
        want = {column.name for column in table.columns}
        problems += [f"column {table.name}.{name} is missing" for name in sorted(want - have)]
        problems += [f"column {table.name}.{name} is not in the current schema" for name in sorted(have - want)]
    return problems


def _other_tables(conn: Connection) -> set[str]:
    names = set(inspect(conn).get_table_names()) - set(metadata.tables) - BOOKKEEPING
    return {name for name in names if not _IGNORED_TABLE.match(name)}


def tables_to_copy(src: Connection, dst: Connection) -> tuple[list[Table], list[str]]:
    """(tables, skipped): the tables of `metadata`, then any other table both databases have (one
    a newer migration added before db/schema.py describes it), reflected from the target; and
    the source's tables the target does not have (not copied, reported)."""
    source_only, target_only = _other_tables(src), _other_tables(dst)
    shared = sorted(source_only & target_only)
    tables = [table for table in metadata.sorted_tables if table.name not in RUNTIME]
    if shared:
        reflected = MetaData()
        reflected.reflect(dst, only=shared)
        for table in reflected.sorted_tables:
            if table.name not in shared:
                continue
            have = {column["name"] for column in inspect(src).get_columns(table.name)}
            if have != {column.name for column in table.columns}:
                raise CopyRefused(f"table {table.name} has other columns in the source than in the target; "
                                  "run `sahabat-nifas migrate` on the source first")
            tables.append(table)
    return tables, sorted(source_only - target_only)


def _trigger_written_tables(conn: Connection) -> set[str]:
    """Tables the target's triggers insert into, update or delete from."""
    if conn.dialect.name == "postgresql":
        bodies = [row[0] for row in conn.execute(text(
            "SELECT p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"))]
    else:
        bodies = [row[0].split("BEGIN", 1)[-1] for row in conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger'"))]
    written = set()
    for body in bodies:
        for name in re.findall(r'\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(?:\w+\.)?"?(\w+)"?',
                               body or "", flags=re.I):
            if name in metadata.tables:
                written.add(name)
    return written


def copy_order(derived: Iterable[str] = DERIVED, tables: list[Table] | None = None) -> list[Table]:
    """Every table (of `metadata`, in its foreign-key order, then the others given), parents
    before children, the trigger-written ones last (nothing may refer to those: they are emptied
    and filled again at the end)."""
    derived = set(derived)
    tables = list(metadata.sorted_tables if tables is None else tables)
    for table in tables:
        for key in table.foreign_keys:
            if key.column.table.name in derived and table.name not in derived:
                raise CopyRefused(f"{table.name} refers to {key.column.table.name}, which triggers write: "
                                  "teach db/copy.py to copy them in order")
    return [t for t in tables if t.name not in derived] + [t for t in tables if t.name in derived]


def _primary_key(table: Table) -> list:
    return list(table.primary_key.columns) or list(table.columns)


# --- the copy ----------------------------------------------------------------------------------------

async def copy_database(source: str | Path, target: str | Path, *, batch_size: int = 1000,
                        progress: Callable[[TableCopy], None] | None = None) -> CopyReport:
    """Migrate the target, then copy every row of the source into it (see the module's doc)."""
    if _same_database(source, target):
        raise CopyRefused("the source and the target are the same database")
    if not is_postgres(source) and not Path(_url(source).database).is_file():
        raise CopyRefused(f"no SQLite database at {shown(source)}")
    database = Database(target)
    try:
        await database.open()
    finally:
        await database.close()
    return await asyncio.to_thread(copy_rows, source, target, batch_size=batch_size, progress=progress)


def copy_rows(source: str | Path, target: str | Path, *, batch_size: int = 1000,
              progress: Callable[[TableCopy], None] | None = None) -> CopyReport:
    """The copy itself, into a target already at the current schema (synchronous)."""
    started = time.perf_counter()
    report = CopyReport()
    source_engine, target_engine = _engine(source, read_only=True), _engine(target)
    try:
        with source_engine.connect() as src, target_engine.connect() as dst:
            _snapshot(src)
            with src.begin():
                problems = _schema_problems(src)
                if problems:
                    raise CopyRefused(f"the source {shown(source)} does not have the current schema ("
                                      + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
                                      + "); run `sahabat-nifas migrate` with DATABASE_URL (or DATABASE_PATH) "
                                        "set to the source first")
                source_revision, target_revision = _revision(src), _revision(dst)
                if source_revision and target_revision and source_revision != target_revision:
                    raise CopyRefused(f"the source is at schema revision {source_revision}, the target at "
                                      f"{target_revision}; run `sahabat-nifas migrate` on the source first")
                tables, report.skipped = tables_to_copy(src, dst)
                dst.rollback()  # end the reads above; the copy is one transaction of its own
                with dst.begin():
                    _refuse_non_empty(dst, target, tables)
                    derived = set(DERIVED) | _trigger_written_tables(dst)
                    for table in copy_order(derived, tables):
                        copied = _copy_table(src, dst, table, batch_size, derived=table.name in derived)
                        report.tables.append(copied)
                        if progress:
                            progress(copied)
                    if dst.dialect.name == "postgresql":
                        _advance_sequences(dst, tables)
            if dst.dialect.name == "sqlite":  # committed: fold the WAL into the file (outside a transaction)
                dst.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        source_engine.dispose()
        target_engine.dispose()
    if not is_postgres(target):
        _private_files(Path(_url(target).database))
    report.seconds = time.perf_counter() - started
    return report


def _refuse_non_empty(conn: Connection, target: str | Path, tables: list[Table]) -> None:
    filled = []
    for table in tables:
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            filled.append(f"{table.name} ({count} row{'' if count == 1 else 's'})")
    if filled:
        raise CopyRefused(f"the target {shown(target)} is not empty: " + ", ".join(filled[:8])
                          + (" ..." if len(filled) > 8 else "")
                          + "; copy only into a new, empty database (nothing was changed)")


def _copy_table(src: Connection, dst: Connection, table: Table, batch_size: int, *, derived: bool) -> TableCopy:
    started = time.perf_counter()
    if derived:
        dst.execute(table.delete())  # what the target's triggers wrote while the sources went in
    rows = 0
    names = [column.name for column in table.columns]
    result = src.execution_options(stream_results=True, yield_per=batch_size).execute(
        select(table).order_by(*_primary_key(table)))
    insert = table.insert()
    for batch in result.partitions(batch_size):
        dst.execute(insert, [dict(zip(names, row)) for row in batch])
        rows += len(batch)
    result.close()
    return TableCopy(table.name, rows, time.perf_counter() - started)


def _advance_sequences(conn: Connection, tables: list[Table]) -> None:
    """Identity (or serial) sequences past the copied ids: the next row the bot adds gets
    max(id) + 1 (`setval(pg_get_serial_sequence(...), max(id) + 1, false)`; 1 for an empty table)."""
    quoted = conn.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                    {"table": quoted(table.name), "column": column.name}).scalar()
            if sequence:
                conn.execute(text(f"SELECT setval(:sequence, COALESCE((SELECT MAX({quoted(column.name)}) "
                                  f"FROM {quoted(table.name)}), 0) + 1, false)"), {"sequence": sequence})


def _private_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        file = Path(str(path) + suffix)
        if file.exists():
            file.chmod(0o600)


# --- the check ---------------------------------------------------------------------------------------

def _value(value: Any) -> bytes:
    """One value, normalised and typed: ints as ints, text as text, NULL as NULL."""
    if value is None:
        return b"N"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        data, tag = str(value).encode(), b"i"
    elif isinstance(value, str):
        data, tag = value.encode("utf-8", "surrogatepass"), b"s"
    elif isinstance(value, float):
        data, tag = repr(value).encode(), b"f"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data, tag = bytes(value), b"b"
    else:
        data, tag = repr(value).encode(), b"r"
    return tag + str(len(data)).encode() + b":" + data


def row_digest(values: Iterable[Any]) -> int:
    return int.from_bytes(hashlib.blake2b(b"".join(_value(v) for v in values), digest_size=16).digest(), "big")


def _digest(conn: Connection, table: Table, batch_size: int) -> tuple[int, str]:
    """(rows, checksum): the sum of every row's hash modulo 2^128, the same in any order."""
    count, total = 0, 0
    result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(select(table))
    for batch in result.partitions(batch_size):
        for row in batch:
            total += row_digest(row)
        count += len(batch)
    result.close()
    return count, format(total % (1 << 128), "032x")


def _differing_keys(src: Connection, dst: Connection, table: Table, limit: int = 5) -> list[Any]:
    """A few primary keys whose rows differ (or exist on one side only), for the report."""
    key_columns = _primary_key(table)
    positions = [list(table.columns).index(column) for column in key_columns]

    def digests(conn: Connection) -> dict:
        found = {}
        for row in conn.execution_options(stream_results=True, yield_per=1000).execute(select(table)):
            key = tuple(row[i] for i in positions)
            found[key[0] if len(key) == 1 else key] = row_digest(row)
        return found

    left, right = digests(src), digests(dst)
    keys = [key for key in left.keys() | right.keys() if left.get(key) != right.get(key)]
    return sorted(keys, key=repr)[:limit]


def check_copy(source: str | Path, target: str | Path, *, batch_size: int = 1000) -> list[TableCheck]:
    """Count and checksum every table on both sides (synchronous; each side one snapshot)."""
    source_engine, target_engine = _engine(source, read_only=True), _engine(target, read_only=True)
    checks = []
    try:
        with source_engine.connect() as src, target_engine.connect() as dst:
            _snapshot(src)
            _snapshot(dst)
            with src.begin(), dst.begin():
                tables, _ = tables_to_copy(src, dst)
                for table in tables:
                    source_rows, source_sum = _digest(src, table, batch_size)
                    target_rows, target_sum = _digest(dst, table, batch_size)
                    check = TableCheck(table.name, source_rows, target_rows, source_sum, target_sum)
                    if not check.ok:
                        check.differing = _differing_keys(src, dst, table)
                    checks.append(check)
    finally:
        source_engine.dispose()
        target_engine.dispose()
    return checks


def format_checks(checks: list[TableCheck]) -> str:
    width = max(len(check.name) for check in checks)
    lines = [f"{'table':<{width}}  {'source':>9}  {'target':>9}  check"]
    for check in checks:
        line = f"{check.name:<{width}}  {check.source_rows:>9}  {check.target_rows:>9}  " \
               + ("OK" if check.ok else "MISMATCH")
        if check.differing:
            line += "  (rows differ, key " + ", ".join(str(key) for key in check.differing) + ")"
        lines.append(line)
    bad = [check for check in checks if not check.ok]
    lines.append(f"{'total':<{width}}  {sum(c.source_rows for c in checks):>9}  "
                 f"{sum(c.target_rows for c in checks):>9}  " + ("OK" if not bad else f"MISMATCH in {len(bad)} tables"))
    return "\n".join(lines)


# --- the command line (`sahabat-nifas db copy|check`) -----------------------------------------------

def command(action: str, source: str, target: str, *, batch_size: int = 1000,
            out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0: copied (or checked) and equal; 1: the check found a difference; 2: refused or failed."""
    out, err = out or sys.stdout, err or sys.stderr
    if action == "copy":
        print(f"copying {shown(source)} -> {shown(target)}", file=out)

        def progress(done: TableCopy) -> None:
            print(f"  {done.name:<20} {done.rows:>9} rows  {done.seconds:6.2f} s", file=out, flush=True)

        try:
            report = asyncio.run(copy_database(source, target, batch_size=batch_size, progress=progress))
        except CopyRefused as exc:
            print(f"error: {exc}", file=err)
            return 2
        except Exception as exc:  # a constraint of the target, a lost connection: rolled back
            print(f"error: the copy failed, nothing was committed: {type(exc).__name__}: "
                  f"{_without_password(str(exc), source, target).splitlines()[0][:300]}", file=err)
            return 2
        rate = report.rows / report.seconds if report.seconds else 0
        print(f"copied {report.rows} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s)", file=out)
        if report.skipped:
            print("not copied (not in the current schema): " + ", ".join(report.skipped), file=out)
    elif not is_postgres(source) and not Path(_url(source).database).is_file():
        print(f"error: no SQLite database at {shown(source)}", file=err)
        return 2
    print("checking row for row ...", file=out)
    checks = check_copy(source, target, batch_size=batch_size)
    print(format_checks(checks), file=out)
    return 0 if all(check.ok for check in checks) else 1


def _without_password(message: str, *targets: str | Path) -> str:
    for target in targets:
        password = _url(target).password
        if password:
            message = message.replace(str(password), "***")
    return message


# --- backups -----------------------------------------------------------------------------------------

def find_pg_dump(program: str = "pg_dump") -> str | None:
    """The PostgreSQL client program: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(program)
    if found:
        return found
    candidates = glob(f"/usr/lib/postgresql/*/bin/{program}") + glob(f"/usr/pgsql-*/bin/{program}")

    def version(path: str) -> tuple:
        return tuple(int(part) for part in re.findall(r"\d+", path)[:2])

    candidates = sorted((c for c in candidates if os.access(c, os.X_OK)), key=version)
    return candidates[-1] if candidates else None


def _private_file(path: Path) -> None:
    """Create (or empty) the file with mode 0600 before anything is written into it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)
    path.chmod(0o600)


def pg_dump_backup(url: str, path: str | Path, *, pg_dump: str | None = None) -> Path:
    """`pg_dump --format=custom --file PATH` of a PostgreSQL database; the file is 0600.

    The password (if the URL has one) goes to pg_dump in PGPASSWORD, never on its command line
    (where `ps` shows it) nor in any message."""
    path = Path(path)
    program = pg_dump or find_pg_dump()
    if program is None:
        raise BackupError("pg_dump not found: install the PostgreSQL client programs "
                          "(Debian/Ubuntu: apt install postgresql-client) of the server's version or newer")
    parsed = _url(url)
    environment = dict(os.environ)
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    dbname = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    _private_file(path)
    try:
        finished = subprocess.run([program, "--format=custom", "--file", str(path), "--dbname", dbname],
                                  env=environment, capture_output=True, text=True)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise BackupError(f"could not run {program}: {exc}") from None
    if finished.returncode != 0:
        path.unlink(missing_ok=True)
        problem = _without_password(finished.stderr.strip(), url) or f"exit code {finished.returncode}"
        raise BackupError(f"pg_dump of {shown(url)} failed: {problem}")
    path.chmod(0o600)
    return path


async def backup_database(target: str | Path, path: str | Path) -> Path:
    """A backup of the bot's database: SQLite's online backup API into a file, or `pg_dump`."""
    path = Path(path)
    if is_postgres(target):
        return await asyncio.to_thread(pg_dump_backup, str(target), path)
    live = Path(_url(target).database).resolve()
    if path.resolve() in {live, Path(f"{live}-wal"), Path(f"{live}-shm")}:
        raise BackupError(f"{path} is the database itself; give another file")
    database = await Database(target).open()
    try:
        _private_file(path)
        await database.backup(path)
    finally:
        await database.close()
    path.chmod(0o600)
    return path
