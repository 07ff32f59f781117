"""Alerts in the chat: the "Saya tangani" button and the escalation job. What raising, telling,
taking and escalating an alert does lives in usecases/alerts.py.
"""
from __future__ import annotations

from bot.jobs import in_unit_of_work
from usecases import alerts as alert_cases


async def take_pressed(update, context) -> None:
    """ "Saya tangani" on an alert: the first midwife of her clinic takes it (`take_alert`)."""
    from bot.actor import load_actor
    from db.queries.clinic_scope import NotAMidwife, NotYourClinic

    query = update.callback_query
    actor = await load_actor(update, context)
    t = context.texts.t
    try:
        taken, name = await alert_cases.take_alert(context.services.deps, actor.user_id,
                                                   int(query.data.rsplit(":", 1)[1]), context.clock.now(),
                                                   fallback_name=actor.first_name)
    except (NotAMidwife, NotYourClinic):
        await query.answer(t(actor.lang, "midwife.not_found"), show_alert=True)
        return
    if taken:
        await query.answer(t(actor.lang, "alerting.take.yours"))
    elif name is None:
        await query.answer(t(actor.lang, "midwife.alert.already_closed"), show_alert=True)
    else:
        await query.answer(t(actor.lang, "alerting.take.already", midwife=name), show_alert=True)


ESCALATION_EVERY_S = 60


async def _escalation_job(context) -> None:
    await alert_cases.escalate(context.application.services.deps, context.application.services.clock.now())


async def _on_clock_advanced(app) -> None:
    await alert_cases.escalate(app.services.deps, app.services.clock.now())


def register(app) -> None:
    from telegram.ext import CallbackQueryHandler

    app.add_handler(CallbackQueryHandler(take_pressed, pattern=r"^al:take:\d+$"))
    app.services.clock_hooks.append(_on_clock_advanced)
    if app.job_queue is not None:
        app.job_queue.run_repeating(in_unit_of_work(_escalation_job), interval=ESCALATION_EVERY_S, first=ESCALATION_EVERY_S,
                                    name="alerts.escalation")
