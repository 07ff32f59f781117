"""Before/after: is a milk report 'pre' (a baseline, before the massage) or 'post'?

The rule, explicit:

* A report is compared with the START of the mother's first massage session
  (`massage_session.started_at`), never with the moment that session was logged
  (`massage_session.created_at`): a guided massage is logged when its timer ends, a reminder's
  "sudah dipijat" may be pressed hours later.
* A report stored while no session was logged yet is 'pre' when `reported_at <= start` and
  'post' when it was made after the massage began (`reported_at > start`). A tie is 'pre':
  times are whole seconds, and a report and a session that share a second are the baseline
  answer and the massage that followed it (the bot asks the baseline first, then starts).
* A report stored after a session was logged is 'post', even in the same second as that
  session's start: it was made knowing the massage had happened.

Whether a session was already logged is known only when the report is stored
(`db.queries.reports.add_report`); its phase keeps it. A later session can only move the first
start earlier, so `refresh_phases` turns a 'pre' report into 'post' when a session turns out to
have started before it, and never turns a 'post' report back.
"""
from __future__ import annotations

from datetime import datetime

PHASES = ("pre", "post")


def phase_of(reported_at: datetime, first_session_start: datetime | None, *,
             session_logged_before: bool = False) -> str:
    """'pre' or 'post' for a report made at `reported_at`.

    `first_session_start`: the start of her earliest session (None: she has none).
    `session_logged_before`: a session was already logged when the report was stored.
    """
    if first_session_start is None:
        return "pre"
    if session_logged_before:
        return "post"
    return "pre" if reported_at <= first_session_start else "post"
