"""What follows each event: the one list (read top to bottom, run in this order)."""
from __future__ import annotations

from usecases import account, reminders, reports
from usecases.events import SessionLogged, SessionRated, UserDeleted

FOLLOW_UPS = {
    SessionLogged: (
        reminders.close_slot,        # every reminder of that slot (hers, her companions') says it is done
        reports.note_activity,       # before/after phases recomputed; a "no news" alert closes
        reports.offer_after_logging,  # "how is the milk now?" to her, when the logging asked for it
    ),
    SessionRated: (
        reports.offer_after_rating,  # the same question, to her and to the companion who massaged
    ),
    UserDeleted: (
        account.tell_unlinked_companions,  # "Ibu X left": they are no longer linked to her
    ),
}
