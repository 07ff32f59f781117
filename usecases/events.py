"""Events a use case announces, and `publish`, which runs what follows each of them.

What follows which event is listed in one place, `usecases.follow_ups.FOLLOW_UPS`. Each
follow-up runs in a savepoint of the caller's unit of work: one that fails is rolled back alone
and logged, so it neither loses the user's answer nor leaves half-written rows. What it sends
goes out after its savepoint (nothing is sent for rows that were rolled back).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Awaitable, Callable

from usecases.ports import Deps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionLogged:
    """A massage session is recorded for the mother's slot (`new`: this call added it; a repeat
    (a second press, a replayed update) publishes it again with `new` False, and every follow-up
    is safe to repeat)."""
    mother_id: int
    slot_date: str   # ISO date of the slot, in her time zone
    slot: str        # "morning" | "evening"
    logged_by: int
    source: str      # "reminder" | "guide"
    new: bool
    offer_report: bool = False  # ask "how is the milk now?" (not when she has just said so,
                                # nor from the guide, which asks after "how do you feel")


@dataclass(frozen=True)
class SessionRated:
    """The guide's last question after a massage ("how do you feel?") was answered."""
    mother_id: int
    logged_by: int


@dataclass(frozen=True)
class UserDeleted:
    """A user's data was deleted (/hapus); `unlinked` are the companions who were linked to her."""
    user_id: int
    mother_name: str | None
    unlinked: tuple[int, ...]


Event = SessionLogged | SessionRated | UserDeleted
FollowUp = Callable[[Deps, Event], Awaitable[None]]


class _Held:
    """The notifier as a follow-up sees it: what it would send is kept and sent once its
    savepoint is released, so no database lock is held while Telegram answers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    async def notify(self, *args, **kwargs) -> bool:
        self.calls.append(("notify", args, kwargs))
        return True

    async def edit(self, *args, **kwargs) -> bool:
        self.calls.append(("edit", args, kwargs))
        return True


async def publish(deps: Deps, event: Event) -> None:
    from usecases.follow_ups import FOLLOW_UPS

    for follow_up in FOLLOW_UPS.get(type(event), ()):
        held = _Held()
        try:
            async with deps.db.transaction():
                await follow_up(replace(deps, notifier=held), event)
        except Exception:  # noqa: BLE001 - a follow-up's failure must not lose the answer
            log.exception("follow-up %s of %s failed", follow_up.__qualname__, type(event).__name__)
            continue
        for method, args, kwargs in held.calls:
            await getattr(deps.notifier, method)(*args, **kwargs)
