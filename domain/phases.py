"""Before/after: a milk report is 'pre' until the mother's first logged massage session."""
from __future__ import annotations

from datetime import datetime

PHASES = ("pre", "post")


def phase_of(reported_at: datetime, first_session_at: datetime | None) -> str:
    """'pre' if the report was made before her first massage session (or she has none yet)."""
    if first_session_at is None or reported_at < first_session_at:
        return "pre"
    return "post"
