"""Waking the dispatcher: a named repeating job (and one wake-up at start) on PTB's JobQueue.

The job only wakes the dispatcher; what is due lives in the database. A wave can outlast the
interval (10,000 reminders at 30/s take five and a half minutes), so the job starts the run as
an application task and returns: a wake-up while a run is still going simply does nothing, and
`Application.stop()` waits for the run, which notices the stop and winds down.
"""
from __future__ import annotations

from telegram.ext import Application, Job

from reminders.dispatcher import Dispatcher

JOB_NAME = "reminders"


def schedule(app: Application, dispatcher: Dispatcher, interval_s: int) -> Job | None:
    """Every `interval_s` seconds, and at start; no job at all when 0 (tools, benchmarks)."""
    if interval_s <= 0 or app.job_queue is None:
        return None
    for name in (JOB_NAME, f"{JOB_NAME}.start"):
        for old in app.job_queue.get_jobs_by_name(name):
            old.schedule_removal()

    async def wake(context) -> None:
        if dispatcher.busy:
            return
        clock = context.application.services.clock
        context.application.create_task(dispatcher.run_once(clock.now()), name="reminder-wave")

    # Jobs added before the application starts are timed from now; an interval job whose start
    # has passed waits a whole interval, a one-off one with no misfire limit runs as soon as the
    # queue starts. Hence a separate wake-up at start.
    app.job_queue.run_once(wake, when=0, name=f"{JOB_NAME}.start", job_kwargs={"misfire_grace_time": None})
    return app.job_queue.run_repeating(
        wake, interval=interval_s, first=interval_s, name=JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
