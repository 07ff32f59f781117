"""The reminder message: its text and buttons, and the notes added once it is answered."""
from __future__ import annotations

from datetime import datetime

from db.queries.reminders import Delivery
from reminders.planning import SLOT_CODES, local_time, zone_label

GUIDE_BUTTON = "menu:guide"  # the guided massage (flows/guide.py) answers this
SEEN_BUTTON = "gd:seen"      # the check-in during a hold: "Sudah diperiksa" / "Belum" (flows/guide.py)
NOT_YET_BUTTON = "gd:no"


def button_key(delivery: Delivery) -> str:
    """`<mother id>:<yyyymmdd>:<m|e>`: which reminder a button belongs to (with the presser)."""
    slot_date = delivery.slot_date.replace("-", "")
    return f"{delivery.mother_id}:{slot_date}:{SLOT_CODES[delivery.slot]}"


def text(texts, delivery: Delivery) -> str:
    lang = delivery.language
    if delivery.checkin:
        return texts.t(lang, "reminders.checkin.text", mother=delivery.mother_name)
    who = "mother" if delivery.to_mother else "companion"
    body = texts.t(lang, f"reminders.message.{who}_{delivery.slot}", mother=delivery.mother_name)
    return f"{body}\n\n{texts.t(lang, 'reminders.message.footer')}"


def markup(texts, delivery: Delivery, snooze_minutes: int) -> dict:
    """The buttons as Bot API JSON (the dispatcher sends thousands: no PTB objects to build)."""
    lang, key = delivery.language, button_key(delivery)
    t = texts.t

    def button(label: str, data: str) -> dict:
        return {"text": label, "callback_data": data}

    if delivery.checkin:  # on hold: "have you been seen?" (answered by flows/guide.py)
        return {"inline_keyboard": [
            [button(t(lang, "massage.seen_button"), f"{SEEN_BUTTON}:{delivery.mother_id}")],
            [button(t(lang, "massage.not_yet_button"), f"{NOT_YET_BUTTON}:{delivery.mother_id}")],
        ]}
    return {"inline_keyboard": [
        [button(t(lang, "reminders.buttons.guide"), GUIDE_BUTTON)],
        [button(t(lang, "reminders.buttons.done"), f"rem:done:{key}")],
        [button(t(lang, "reminders.buttons.snooze", minutes=snooze_minutes), f"rem:snz:{key}"),
         button(t(lang, "reminders.buttons.skip"), f"rem:skip:{key}")],
    ]}


def answered(texts, delivery: Delivery, note: str) -> str:
    """The reminder as it reads once answered: its text and what happened, without buttons."""
    return f"{text(texts, delivery)}\n\n{note}"


def snoozed_note(texts, delivery: Delivery, until: datetime) -> str:
    return texts.t(delivery.language, "reminders.notes.snoozed", time=local_time(until, delivery.timezone),
                   zone=zone_label(delivery.timezone))


def skipped_note(texts, delivery: Delivery) -> str:
    return texts.t(delivery.language, "reminders.notes.skipped")


def done_note(texts, delivery: Delivery, by_id: int | None, by_name: str | None) -> str:
    lang = delivery.language
    if by_id is None:
        return texts.t(lang, "reminders.notes.done")
    if by_id == delivery.recipient_id:
        return texts.t(lang, "reminders.notes.done_by_you")
    if by_id == delivery.mother_id:
        return texts.t(lang, "reminders.notes.done_by_mother", mother=delivery.mother_name)
    return texts.t(lang, "reminders.notes.done_by", name=by_name or texts.t(lang, "reminders.notes.a_companion"))

