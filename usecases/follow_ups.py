"""What follows each event: the one list (read top to bottom, run in this order)."""
from __future__ import annotations

from usecases import account, reminders, reports
from usecases.events import SessionLogged, UserDeleted

FOLLOW_UPS = {
    SessionLogged: (
        reminders.close_slot,        # every reminder of that slot (hers, her companions') says it is done
        reports.note_activity,       # before/after phases recomputed; a "no news" alert closes
    ),
    UserDeleted: (
        account.tell_unlinked_companions,  # "Ibu X left": they are no longer linked to her
    ),
}
