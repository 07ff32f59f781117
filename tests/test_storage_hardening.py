"""Storage hardening: a private data folder and database file, and a deletion that leaves
nothing of the person in the database file, its WAL or its free pages."""
from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

from db.database import Database
from db.queries import clinics, mothers, privacy, users

NOW = "2026-11-30T00:00:00Z"
NAME = "Zulaikha Unik Sekali"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_folder_and_database_are_private(tmp_path):
    db = await Database(tmp_path / "data" / "bot.db").open()
    try:
        await users.create_user(db, 1, "mother", "id", NOW)
        assert mode(tmp_path / "data") == 0o700
        for suffix in ("", "-wal", "-shm"):
            file = tmp_path / "data" / f"bot.db{suffix}"
            if file.exists():
                assert mode(file) == 0o600, file
    finally:
        await db.close()


async def test_deletion_leaves_no_name_or_id_in_the_file_or_the_wal(tmp_path):
    path = tmp_path / "bot.db"
    db = await Database(path).open()
    try:
        clinic, code = await clinics.create_clinic(db, "Puskesmas Bener", "Asia/Jakarta", NOW)
        await users.create_user(db, 777123456, "mother", "id", NOW)
        await mothers.create_mother(db, 777123456, NAME, date(2026, 11, 29), True, "Asia/Jakarta", clinic.id, NOW)
        await users.create_user(db, 888123456, "midwife", "id", NOW)
        assert await clinics.claim_midwife_code(db, code, 888123456, NOW) == clinic.id
        await clinics.add_midwife(db, 888123456, clinic.id, "Ani", NOW)
        await db.checkpoint()
        assert NAME.encode() in path.read_bytes()  # the test can see it while she is there

        await privacy.delete_user(db, 777123456)
        await privacy.delete_user(db, 888123456)
        raw = path.read_bytes()
        wal = Path(str(path) + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert NAME.encode() not in raw
        assert await db.fetchval("SELECT COUNT(*) FROM midwife_code WHERE used_by = 888123456") == 0
        assert await db.fetchval("SELECT COUNT(*) FROM midwife_code WHERE used_at IS NOT NULL") == 1
    finally:
        await db.close()
