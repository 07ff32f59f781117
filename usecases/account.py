"""Deleting a user's data (/hapus), and what follows it."""
from __future__ import annotations

import logging

from db.queries import privacy
from usecases import events
from usecases.events import UserDeleted
from usecases.ports import Deps

log = logging.getLogger(__name__)


async def delete_user(deps: Deps, user_id: int) -> UserDeleted:
    """Everything about her goes (rows she owns; her id from rows that stay with someone else;
    her flow state and drafts; the WAL is checkpointed), then the follow-ups run."""
    mother_name = await deps.db.fetchval("SELECT display_name FROM mother WHERE user_id = ?", (user_id,))
    unlinked = await privacy.delete_user(deps.db, user_id)
    event = UserDeleted(user_id, mother_name, tuple(unlinked))
    await events.publish(deps, event)
    return event


async def tell_unlinked_companions(deps: Deps, event: UserDeleted) -> None:
    for companion_id in event.unlinked:
        await deps.notifier.notify(companion_id, "companions.mother_left_notice", mother=event.mother_name or "")
