"""Her own voice (issue 11.3): the clinic's voice notes for the guide's steps and danger screen.

A midwife's reads and writes take her own Telegram id (never a clinic id) and find her clinic
through `clinic_scope.scope_of`, which refuses anyone who is not a midwife: a midwife reaches
only her own clinic's voices. The listener's side (a mother, a companion, a midwife reading
the guide) finds the clinic from the mother the guide is shown for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from db.database import Database
from db.queries.clinic_scope import Scope, scope_of

KINDS = ("voice", "audio")
DANGER = "danger"   # the danger screen's key; the steps go by their id in guide.yaml


@dataclass(frozen=True)
class StepVoice:
    clinic_id: int
    clinic_name: str
    step: str
    kind: str                # voice | audio
    file_id: str
    duration_s: int | None
    recorded_by: int | None  # None once she left
    recorder_name: str       # '' when she left (or never gave a name)
    recorded_at: str


_COLUMNS = ("v.clinic_id, c.name AS clinic_name, v.step, v.kind, v.file_id, v.duration_s, v.recorded_by,"
            " COALESCE(w.display_name, '') AS recorder_name, v.recorded_at")
_FROM = (" FROM clinic_voice v JOIN clinic c ON c.id = v.clinic_id"
         " LEFT JOIN midwife w ON w.user_id = v.recorded_by")


def _voice(row) -> StepVoice:
    return StepVoice(row["clinic_id"], row["clinic_name"], row["step"], row["kind"], row["file_id"],
                     row["duration_s"], row["recorded_by"], row["recorder_name"], row["recorded_at"])


# ----------------------------------------------------------------- the midwife's side
async def clinic_voices(db: Database, midwife_id: int) -> tuple[Scope, dict[str, StepVoice]]:
    """Her clinic, and its voices by step."""
    scope = await scope_of(db, midwife_id)
    rows = await db.fetchall(f"SELECT {_COLUMNS}{_FROM} WHERE v.clinic_id = ?", (scope.clinic_id,))
    return scope, {row["step"]: _voice(row) for row in rows}


async def clinic_voice(db: Database, midwife_id: int, step: str) -> tuple[Scope, StepVoice | None]:
    scope = await scope_of(db, midwife_id)
    row = await db.fetchone(f"SELECT {_COLUMNS}{_FROM} WHERE v.clinic_id = ? AND v.step = ?",
                            (scope.clinic_id, step))
    return scope, _voice(row) if row else None


async def save_voice(db: Database, midwife_id: int, step: str, kind: str, file_id: str,
                     duration_s: int | None, now: str) -> tuple[Scope, bool]:
    """Store (or replace) her clinic's voice for this step: (scope, replaced an older one?)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    scope = await scope_of(db, midwife_id)
    async with db.transaction():
        existed = await db.fetchval("SELECT 1 FROM clinic_voice WHERE clinic_id = ? AND step = ?",
                                    (scope.clinic_id, step))
        await db.execute(
            "INSERT INTO clinic_voice(clinic_id, step, kind, file_id, duration_s, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(clinic_id, step) DO UPDATE SET kind = excluded.kind,"
            " file_id = excluded.file_id, duration_s = excluded.duration_s, recorded_by = excluded.recorded_by,"
            " recorded_at = excluded.recorded_at",
            (scope.clinic_id, step, kind, file_id, duration_s, midwife_id, now))
    return scope, bool(existed)


async def remove_voice(db: Database, midwife_id: int, step: str) -> tuple[Scope, bool]:
    """Remove her clinic's voice for this step: (scope, was there one?)."""
    scope = await scope_of(db, midwife_id)
    cursor = await db.execute("DELETE FROM clinic_voice WHERE clinic_id = ? AND step = ?", (scope.clinic_id, step))
    return scope, cursor.rowcount == 1


# ----------------------------------------------------------------- the listener's side
async def voices_for(db: Database, step: str, mother_ids: Iterable[int], listener_id: int) -> list[StepVoice]:
    """The voices to send with a step: those of the clinics of these mothers (one per clinic,
    in the mothers' order); with no mother, the clinic of the listener if she is a midwife
    (reading the guide herself). A mother without a Puskesmas gets none."""
    ids = [m for m in mother_ids if m]
    if ids:
        marks = ", ".join("?" * len(ids))
        rows = await db.fetchall(f"SELECT user_id, clinic_id FROM mother WHERE user_id IN ({marks})", ids)
        by_mother = {row["user_id"]: row["clinic_id"] for row in rows}
        clinics = [by_mother.get(m) for m in ids]
    else:
        clinics = [await db.fetchval("SELECT clinic_id FROM midwife WHERE user_id = ?", (listener_id,))]
    found: list[StepVoice] = []
    for clinic_id in dict.fromkeys(c for c in clinics if c is not None):
        row = await db.fetchone(f"SELECT {_COLUMNS}{_FROM} WHERE v.clinic_id = ? AND v.step = ?", (clinic_id, step))
        if row is not None:
            found.append(_voice(row))
    return found
