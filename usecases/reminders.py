"""Use cases around reminders."""
from __future__ import annotations

from db.queries import reminders as reminders_q
from domain.clock import iso
from reminders import messages
from usecases.events import SessionLogged
from usecases.ports import Deps


async def close_slot(deps: Deps, event: SessionLogged) -> int:
    """Every reminder of the logged slot, the mother's and her companions', now says who did it;
    snoozed ones will not come again. Returns how many reminder messages were updated."""
    rows = await reminders_q.close_slot(deps.db, event.mother_id, event.slot_date, event.slot, iso(deps.clock.now()))
    if not rows:
        return 0
    by_id, by_name = await reminders_q.logged_by(deps.db, event.mother_id, event.slot_date, event.slot)
    for delivery in rows:
        note = messages.done_note(deps.texts, delivery, by_id, by_name)
        await deps.notifier.edit(delivery.recipient_id, delivery.message_id,
                                 messages.answered(deps.texts, delivery, note))
    return len(rows)
