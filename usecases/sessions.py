"""A massage session was done: the one way to record it, whoever tells (a reminder's "sudah
dipijat", the guide's timer ending), and what follows (usecases.follow_ups)."""
from __future__ import annotations

from datetime import datetime

from db.queries import sessions as sessions_q
from db.queries.mothers import Mother
from db.queries.sessions import Logged
from usecases import events
from usecases.ports import Deps


async def log_session(deps: Deps, *, mother: Mother, logged_by: int, started_at: datetime, source: str,
                      duration_s: int = 0, completed: bool = True, who: str | None = None,
                      feeling: str | None = None, offer_report: bool = False) -> Logged:
    """Record the session for her slot of `started_at` (a slot counts once: a repeat only fills
    in), then announce it, so its reminders close, her phases follow and (`offer_report`) she
    is asked how the milk is now."""
    logged = await sessions_q.log_session(
        deps.db, mother_id=mother.user_id, timezone=mother.timezone, logged_by=logged_by, started_at=started_at,
        now=deps.clock.now(), duration_s=duration_s, completed=completed, who=who, source=source, feeling=feeling)
    await events.publish(deps, events.SessionLogged(mother.user_id, logged.slot_date, logged.slot, logged_by,
                                                    source, logged.new, offer_report))
    return logged
