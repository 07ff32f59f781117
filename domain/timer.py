"""The massage timer as plain arithmetic: time left, which minute it is, which cue to show.

The message of a running timer is edited once per minute (`EDIT_EVERY_S`), not every second:
Telegram limits edits, and a companion massaging does not read seconds. The cue (where the
thumbs should be now) changes with each minute and cycles through the content's list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MINUTES_CHOICES = (10, 15)   # offered on the buttons (Indonesian practice: 10-15 minutes)
TICK_EVERY_S = 5             # how often the job looks at running timers
EDIT_EVERY_S = 60            # a running timer's message changes once per minute


@dataclass(frozen=True)
class TimerState:
    elapsed_s: int
    left_s: int
    step: int          # how many whole minutes (EDIT_EVERY_S) have passed
    finished: bool

    @property
    def minutes_left(self) -> int:
        return self.left_s // 60

    @property
    def seconds_left(self) -> int:
        return self.left_s % 60


def timer_state(started_at: datetime, minutes: int, now: datetime) -> TimerState:
    total = minutes * 60
    elapsed = max(0, int((now - started_at).total_seconds()))
    elapsed = min(elapsed, total)
    return TimerState(elapsed, total - elapsed, elapsed // EDIT_EVERY_S, elapsed >= total)


def cue_index(step: int, cue_count: int) -> int:
    """The cue for the given minute: one per minute, starting again after the last."""
    return step % cue_count if cue_count else 0


def needs_edit(state: TimerState, shown_step: int) -> bool:
    """Edit only when a new minute began (never the same text twice: Telegram refuses it)."""
    return not state.finished and state.step != shown_step
