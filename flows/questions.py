"""Tanya bidan (issue 10.1): a mother or a companion asks the midwives of HER Puskesmas a
question (text, a photo with an optional caption, or a voice note); the first midwife to take
it answers, by the "Ambil & balas" button or by replying to the question in Telegram.

- The asker: /tanya (/ask) or the menu entry; a companion of several mothers picks one. While
  the question is open she sees since when it waits, and what she sends is added to it
  ("Tambahan", forwarded to the same midwives). Outside the clinic's hours she is told when to
  expect an answer, with the numbers to call.
- The midwives: every active midwife of the mother's clinic gets a header (who asks, the day of
  life, the latest milk report, the question) with the buttons, and a copy of a photo or voice
  note. The administrators get it instead when she has no clinic or no midwife can be reached.
  The other copies are edited to "Diambil oleh ..." / "Dijawab oleh ...". The answer reaches
  the asker, and the mother too when a companion asked; the question is then closed.

Every midwife read goes through `db.queries.questions.question_for`, which checks her clinic;
a forged `q:` button of another clinic gets the same answer as an unknown one. The
conversation (name "questions") is persistent: writing a question and a midwife's pending
answer survive a restart.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor, load_actor
from bot.clock import iso, parse_iso
from db.queries import clinics, companions, mothers, users
from db.queries import questions as q_db
from db.queries.clinic_scope import NotAMidwife, NotYourClinic
from db.queries.mothers import Mother
from db.queries.questions import Part, Question
from db.queries.reports import day_of, may_report_for, reportable_mothers
from flows import account, menu
from flows.commands import names
from usecases.contacts import contact_block
from flows.global_commands import flow_fallbacks
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)

END = ConversationHandler.END
WHICH, WRITE, ANSWER = "q_which", "q_write", "q_answer"
DRAFT = "question"                       # the asker's draft: {"mother", "q", "at"}
ANSWER_DRAFT = "question_answer"         # the midwife's pending answer: {"q", "at"}
WRITE_LIFETIME = timedelta(hours=12)     # after this, a forgotten "write your question" lets go
ANSWER_LIFETIME = timedelta(hours=1)     # after this, a pressed "Balas" lets go (like a note)
HEADER_QUESTION_MAX = 3000               # the question's text inside the header message
CONTENT = (filters.TEXT | filters.PHOTO | filters.VOICE) & ~filters.COMMAND


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, f"questions.{key}", **values)


def _local(moment: str, zone: str, fmt: str = "%d/%m %H:%M") -> str:
    return parse_iso(moment).astimezone(ZoneInfo(zone)).strftime(fmt)


def _admin_ids(context) -> list[int]:
    return list(context.services.settings.admin_telegram_ids)


def _content(message: Message) -> tuple[str, str | None, str | None]:
    """(kind, text or caption, file id) of a question's or answer's message."""
    if message.photo:
        return "photo", message.caption, message.photo[-1].file_id
    if message.voice:
        return "voice", message.caption, message.voice.file_id
    return "text", (message.text or "").strip(), None


def _draft(context, key: str, lifetime: timedelta) -> dict | None:
    draft = context.user_data.get(key) if context.user_data is not None else None
    if not isinstance(draft, dict) or context.clock.now() - parse_iso(draft["at"]) > lifetime:
        return None
    return draft


# ----------------------------------------------------------------- what the midwife sees
def _midwife_label(texts, lang: str, name: str) -> str:
    """"Bidan Ani": her name as she gave it, with "Bidan" in front unless it is there already."""
    if not name:
        return texts.t(lang, "questions.a_midwife")
    if name.lower().startswith(("bidan", "bd.", "bd ", "midwife")):
        return name
    return texts.t(lang, "questions.midwife_name", name=name)


async def _asker_text(context, lang: str, question: Question, mother: Mother) -> str:
    """"Ibu Sari", or "Budi (Suami) untuk Ibu Sari"."""
    if question.asker_role == "mother":
        return _t(context, lang, "from_mother", mother=mother.display_name)
    link = next((link for link in await companions.links_of_mother(context.db, mother.user_id)
                 if link.companion_id == question.asked_by), None)
    if link is None:
        return _t(context, lang, "from_someone", mother=mother.display_name)
    return _t(context, lang, "from_companion", name=link.companion_name, mother=mother.display_name,
              relation=context.texts.t(lang, f"onboarding.relation_{link.relation}"))


def _part_text(context, lang: str, part: Part, limit: int = HEADER_QUESTION_MAX) -> str:
    if part.kind == "text":
        text = part.text or ""
        return text if len(text) <= limit else text[:limit] + "…"
    caption = f"\n{part.text[:limit]}" if part.text else ""
    return _t(context, lang, f"media_below.{part.kind}") + caption


async def _zone(context, mother: Mother) -> str:
    clinic = await clinics.get_clinic(context.db, mother.clinic_id) if mother.clinic_id else None
    return clinic.timezone if clinic else mother.timezone


async def render_header(context, lang: str, question: Question, mother: Mother, recipient_id: int,
                        recipient_kind: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message with the buttons, as it is now for this recipient (open, taken, answered)."""
    db = context.db
    zone = await _zone(context, mother)
    lines = []
    if recipient_kind == "admin":
        clinic = await clinics.get_clinic(db, mother.clinic_id) if mother.clinic_id else None
        lines += [_t(context, lang, "admin.no_clinic" if clinic is None else "admin.no_midwife",
                     clinic=clinic.name if clinic else ""), ""]
    lines.append(_t(context, lang, "header.title", id=question.id))
    lines.append(_t(context, lang, "header.asker", asker=await _asker_text(context, lang, question, mother)))
    lines.append(_t(context, lang, "header.day", day=question.asked_day if question.asked_day is not None else "?"))
    report = await q_db.report_of(db, question.report_id)
    lines.append(_t(context, lang, "header.no_report") if report is None else _t(
        context, lang, "header.report", flow=context.texts.t(lang, f"reports.flow.{report[0]}"),
        when=_local(report[1], zone)))
    lines.append(_t(context, lang, "header.asked", when=_local(question.asked_at, zone)))
    if question.outside_hours:
        lines.append(_t(context, lang, "header.outside_hours"))
    first = (await q_db.parts_of(db, question.id, "question"))[:1]
    if first:
        lines += ["", _part_text(context, lang, first[0])]
    lines.append("")
    buttons = []
    if question.answered:
        name = await q_db.midwife_name(db, question.answered_by)
        lines.append(_t(context, lang, "header.answered_by", midwife=_midwife_label(context.texts, lang, name),
                        when=_local(question.answered_at, zone)))
    elif question.taken_by == recipient_id:
        lines.append(_t(context, lang, "header.taken_by_you"))
        buttons.append([(_t(context, lang, "button.reply"), f"q:take:{question.id}")])
    elif question.taken_by is not None:
        name = await q_db.midwife_name(db, question.taken_by)
        lines.append(_t(context, lang, "header.taken_by", midwife=_midwife_label(context.texts, lang, name)))
    else:
        lines.append(_t(context, lang, "header.how_to_answer"))
        buttons.append([(_t(context, lang, "button.take"), f"q:take:{question.id}")])
    if recipient_kind == "midwife":
        buttons.append([(_t(context, lang, "button.record", name=mother.display_name), f"mw:rec:{mother.user_id}")])
    return "\n".join(lines), keyboard(buttons) if buttons else None


async def _send(context, chat_id: int, text: str, markup=None) -> Message | None:
    """Send to another person; a person who blocked the bot is marked unreachable."""
    try:
        return await context.bot.send_message(chat_id, text, reply_markup=markup)
    except Forbidden:
        await users.set_active(context.db, chat_id, False)
    except TelegramError as exc:
        log.warning("question message not delivered: %s", type(exc).__name__)
    return None


async def _copy(context, chat_id: int, part: Part) -> Message | None:
    """A photo or a voice note, copied from the sender's chat (its caption with it)."""
    if part.kind == "text" or part.chat_message_id is None or part.sender_id is None:
        return None
    try:
        copied = await context.bot.copy_message(chat_id, part.sender_id, part.chat_message_id)
        return copied  # a MessageId: .message_id
    except Forbidden:
        await users.set_active(context.db, chat_id, False)
    except TelegramError as exc:
        log.warning("question media not copied: %s", type(exc).__name__)
    return None


async def _targets(context, mother: Mother) -> tuple[list[int], str]:
    """Every active midwife of her clinic; the administrators when there is none (or no clinic)."""
    if mother.clinic_id is not None:
        midwives = await clinics.clinic_midwife_ids(context.db, mother.clinic_id)
        if midwives:
            return midwives, "midwife"
    admins = [a for a in _admin_ids(context) if await users.get_user(context.db, a) is not None]
    return admins, "admin"


async def _send_question(context, question: Question, mother: Mother, part: Part) -> tuple[int, str]:
    """The header and the media copy to every target; returns (how many got it, their kind).
    A target that has its header already (sent before a crash) is not sent it again."""
    targets, kind = await _targets(context, mother)
    now = context.clock.now()
    reached = 0
    have = {copy.recipient_id for copy in await q_db.copies_of(context.db, question.id, header_only=True)}
    for recipient in targets:
        if recipient in have:
            reached += 1
            continue
        row = await users.get_user(context.db, recipient)
        lang = row.language if row else "id"
        text, markup = await render_header(context, lang, question, mother, recipient, kind)
        header = await _send(context, recipient, text, markup)
        if header is None:
            continue
        reached += 1
        await q_db.add_copy(context.db, question.id, recipient, kind, header.message_id, True, now)
        copied = await _copy(context, recipient, part)
        if copied is not None:
            await q_db.add_copy(context.db, question.id, recipient, kind, copied.message_id, False, now)
    if reached == 0 and kind == "midwife":  # no midwife could be reached: the administrators
        admins = [a for a in _admin_ids(context) if await users.get_user(context.db, a) is not None]
        for recipient in admins:
            if recipient in have:
                reached += 1
                continue
            row = await users.get_user(context.db, recipient)
            text, markup = await render_header(context, row.language, question, mother, recipient, "admin")
            header = await _send(context, recipient, text, markup)
            if header is not None:
                reached += 1
                await q_db.add_copy(context.db, question.id, recipient, "admin", header.message_id, True, now)
                copied = await _copy(context, recipient, part)
                if copied is not None:
                    await q_db.add_copy(context.db, question.id, recipient, "admin", copied.message_id, False, now)
        kind = "admin"
    return reached, kind


async def _send_addition(context, question: Question, mother: Mother, part: Part) -> int:
    """A "Tambahan" to everyone who got the question."""
    now = context.clock.now()
    reached = 0
    for recipient, kind in await q_db.recipients_of(context.db, question.id):
        row = await users.get_user(context.db, recipient)
        lang = row.language if row else "id"
        text = _t(context, lang, "addition.to_midwife", id=question.id,
                  asker=await _asker_text(context, lang, question, mother), text=_part_text(context, lang, part))
        sent = await _send(context, recipient, text)
        if sent is None:
            continue
        reached += 1
        await q_db.add_copy(context.db, question.id, recipient, kind, sent.message_id, False, now)
        copied = await _copy(context, recipient, part)
        if copied is not None:
            await q_db.add_copy(context.db, question.id, recipient, kind, copied.message_id, False, now)
    return reached


async def _refresh_headers(context, question: Question) -> None:
    """Show every recipient who took or answered it (and take the buttons off)."""
    mother = await mothers.get_mother(context.db, question.mother_id)
    if mother is None:
        return
    for copy in await q_db.copies_of(context.db, question.id, header_only=True):
        row = await users.get_user(context.db, copy.recipient_id)
        if row is None:
            continue
        text, markup = await render_header(context, row.language, question, mother, copy.recipient_id,
                                           copy.recipient_kind)
        try:
            await context.bot.edit_message_text(text, chat_id=copy.recipient_id, message_id=copy.message_id,
                                                reply_markup=markup)
        except Forbidden:
            await users.set_active(context.db, copy.recipient_id, False)
        except TelegramError as exc:  # deleted, too old, unchanged: the answer still counts
            log.debug("question header not edited: %s", getattr(exc, "message", exc))


# ----------------------------------------------------------------- the asker
async def start(update: Update, context) -> str | int | None:
    """/tanya, /ask or the menu entry."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    context.user_data.pop(DRAFT, None)
    if actor.role == "midwife":
        return await _open_list(update, context, actor)
    found = await reportable_mothers(context.db, actor.user_id, actor.role)
    if not found:
        await send(update, _t(context, actor.lang, "no_mothers" if actor.role == "companion" else "not_allowed"))
        return END
    if len(found) > 1:
        context.user_data[DRAFT] = {"mother": None, "q": None, "at": iso(context.clock.now())}
        await send(update, _t(context, actor.lang, "choose_mother"),
                   keyboard([[(m.display_name, f"q:m:{m.user_id}")] for m in found]))
        return WHICH
    return await _prompt(update, context, actor, found[0])


async def mother_chosen(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    mother = await may_report_for(context.db, actor.user_id, actor.role, int(update.callback_query.data.rsplit(":", 1)[1]))
    if mother is None:  # forged, or the link was removed meanwhile
        await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
        context.user_data.pop(DRAFT, None)
        await menu.show_menu(update, context, actor)
        return END
    await close_buttons(update, mother.display_name)
    return await _prompt(update, context, actor, mother)


async def _prompt(update: Update, context, actor: Actor, mother: Mother) -> str:
    """"Write your question", or, while one is open, since when it waits (and that she may add)."""
    waiting = await q_db.open_question(context.db, actor.user_id, mother.user_id)
    context.user_data[DRAFT] = {"mother": mother.user_id, "q": waiting.id if waiting else None,
                                "at": iso(context.clock.now())}
    if waiting is None:
        key = "prompt_self" if actor.user_id == mother.user_id else "prompt_companion"
        await send(update, _t(context, actor.lang, key, mother=mother.display_name))
        return WRITE
    zone = await _zone(context, mother)
    since = _local(waiting.asked_at, zone, "%H:%M")
    day = parse_iso(waiting.asked_at).astimezone(ZoneInfo(zone)).date()
    if day != context.clock.now().astimezone(ZoneInfo(zone)).date():
        since = _local(waiting.asked_at, zone, "%d/%m %H:%M")
    lines = [_t(context, actor.lang, "waiting", since=since)]
    if waiting.taken_by is not None:
        name = await q_db.midwife_name(context.db, waiting.taken_by)
        lines.append(_t(context, actor.lang, "waiting_taken", midwife=_midwife_label(context.texts, actor.lang, name)))
    lines.append(_t(context, actor.lang, "waiting_add"))
    await send(update, "\n".join(lines))
    return WRITE


async def question_received(update: Update, context) -> str | int:
    """A text, photo or voice note while writing: the question, or an addition to the open one."""
    actor = await load_actor(update, context)
    draft = _draft(context, DRAFT, WRITE_LIFETIME)
    mother = None
    if draft is not None and draft.get("mother") is not None:
        mother = await may_report_for(context.db, actor.user_id, actor.role, draft["mother"])
    if mother is None:
        context.user_data.pop(DRAFT, None)
        await send(update, _t(context, actor.lang, "expired"))
        await menu.show_menu(update, context, actor)
        return END
    now = context.clock.now()
    message = update.effective_message
    kind, text, file_id = _content(message)
    # This very message, stored before a crash (the update is handled again): a new question goes
    # on with the one stored (an addition finds its question open, and its part, again).
    again = await q_db.part_of_update(context.db, update.update_id, actor.user_id)
    first = again if again is not None and again.part == "question" else None
    waiting = None if first else await q_db.open_question(context.db, actor.user_id, mother.user_id)
    if first is None and waiting is None and draft.get("q") is not None:
        # the question she was adding to has been answered meanwhile: this is not sent
        context.user_data.pop(DRAFT, None)
        await send(update, _t(context, actor.lang, "already_answered"),
                   keyboard([[(_t(context, actor.lang, "button.ask_again"), "menu:questions")]]))
        return END
    draft["at"] = iso(now)
    if waiting is not None:
        draft["q"] = waiting.id
        part = await q_db.add_part(context.db, waiting.id, actor.user_id, "addition", kind, text, file_id,
                                   message.message_id, now, update_id=update.update_id)
        reached = await _send_addition(context, waiting, mother, part)
        await send(update, _t(context, actor.lang, "addition.sent" if reached else "addition.nobody"))
        return WRITE
    clinic = await clinics.get_clinic(context.db, mother.clinic_id) if mother.clinic_id else None
    hours = await q_db.clinic_hours(context.db, clinic.id if clinic else None)
    opening = q_db.next_opening(hours, now, clinic.timezone) if clinic else None
    if first is not None:
        question, part = await q_db.get_question(context.db, first.question_id), first
    else:
        latest = await q_db.latest_report(context.db, mother.user_id)
        question = await q_db.create_question(
            context.db, mother=mother, asked_by=actor.user_id, asker_role="mother" if actor.user_id == mother.user_id
            else "companion", day=day_of(mother, now), report_id=latest[0] if latest else None,
            outside_hours=opening is not None, now=now)
        part = await q_db.add_part(context.db, question.id, actor.user_id, "question", kind, text, file_id,
                                   message.message_id, now, update_id=update.update_id)
    draft["q"] = question.id
    reached, kind_reached = await _send_question(context, question, mother, part)
    await send(update, _sent_text(context, actor.lang, clinic, hours, opening, now, reached, kind_reached))
    return WRITE


def _sent_text(context, lang: str, clinic, hours: q_db.Hours, opening: datetime | None, now: datetime,
               reached: int, kind: str) -> str:
    contacts = contact_block(context.texts, lang, clinic)
    if reached == 0:
        return _t(context, lang, "sent.nobody", contacts=contacts)
    if kind == "admin":
        return _t(context, lang, "sent.admins", contacts=contacts)
    if opening is None:
        return _t(context, lang, "sent.clinic", clinic=clinic.name)
    today = now.astimezone(opening.tzinfo).date()
    ahead = (opening.date() - today).days
    if ahead == 0:
        when = _t(context, lang, "days.today")
    elif ahead == 1:
        when = _t(context, lang, "days.tomorrow")
    else:
        when = _t(context, lang, "days.weekday", day=context.texts.data(lang, "questions.weekdays")[opening.isoweekday() - 1])
    return _t(context, lang, "sent.outside_hours", clinic=clinic.name, open=hours.open.strftime("%H:%M"),
              close=hours.close.strftime("%H:%M"), at=opening.strftime("%H:%M"), when=when, contacts=contacts)


async def not_content(update: Update, context) -> str:
    """A sticker, a file, a location ... while writing: what can be sent."""
    actor = await load_actor(update, context)
    await send(update, _t(context, actor.lang, "only_content"))
    return WRITE


async def reask_which(update: Update, context) -> str:
    actor = await load_actor(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer(context.texts.t(actor.lang, "common.stale_button_short"))
    found = await reportable_mothers(context.db, actor.user_id, actor.role)
    await send(update, _t(context, actor.lang, "use_buttons"),
               keyboard([[(m.display_name, f"q:m:{m.user_id}")] for m in found]))
    return WHICH


# ----------------------------------------------------------------- the midwife
def _guarded(handler):
    """A refusal (not a midwife, another clinic's or an unknown question) gets one clear answer;
    the conversation stays where it was."""
    async def wrapped(update: Update, context):
        actor = await load_actor(update, context)
        try:
            return await handler(update, context, actor)
        except NotAMidwife:
            key = "refused.only_midwives"
        except NotYourClinic:
            key = "refused.not_found"
        if update.callback_query is not None:
            await update.callback_query.answer(_t(context, actor.lang, key), show_alert=True)
        await send(update, _t(context, actor.lang, key))
        return None

    wrapped.__name__ = handler.__name__
    return wrapped


@_guarded
async def take_pressed(update: Update, context, actor: Actor) -> str | None:
    """`q:take:<id>`: the first midwife takes it and is asked for her answer; the others are told."""
    question_id = int(update.callback_query.data.rsplit(":", 1)[1])
    question = await q_db.question_for(context.db, actor.user_id, question_id, _admin_ids(context))
    refusal = await _not_hers(context, actor, question)
    if refusal:
        await update.callback_query.answer(refusal, show_alert=True)
        return None
    if question.taken_by is None:
        question = await q_db.take(context.db, question, actor.user_id, context.clock.now())
        refusal = await _not_hers(context, actor, question)
        if refusal:  # another midwife was faster
            await update.callback_query.answer(refusal, show_alert=True)
            return None
        await _refresh_headers(context, question)
    await update.callback_query.answer()
    mother = await mothers.get_mother(context.db, question.mother_id)
    context.user_data[ANSWER_DRAFT] = {"q": question.id, "at": iso(context.clock.now())}
    await send(update, _t(context, actor.lang, "answer.prompt", id=question.id,
                          asker=await _asker_text(context, actor.lang, question, mother)))
    return ANSWER


async def _not_hers(context, actor: Actor, question: Question) -> str | None:
    """Why this midwife cannot answer it (answered, or taken by another), or None."""
    if question.answered:
        name = await q_db.midwife_name(context.db, question.answered_by)
        return _t(context, actor.lang, "answer.already_answered",
                  midwife=_midwife_label(context.texts, actor.lang, name))
    if question.taken_by is not None and question.taken_by != actor.user_id:
        name = await q_db.midwife_name(context.db, question.taken_by)
        return _t(context, actor.lang, "answer.taken_by_other", midwife=_midwife_label(context.texts, actor.lang, name))
    return None


async def _replied_question(context, actor: Actor, message: Message) -> int | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    return await q_db.question_of_message(context.db, actor.user_id, reply.message_id)


@_guarded
async def reply_entry(update: Update, context, actor: Actor) -> int | None:
    """A reply in Telegram to a question's copy answers it (taking it if nobody has)."""
    question_id = await _replied_question(context, actor, update.effective_message)
    if question_id is None:  # a reply to something else: as any unexpected message
        await account.unknown_message(update, context)
        return None
    return await _answer(update, context, actor, question_id)


@_guarded
async def answer_received(update: Update, context, actor: Actor) -> int | None:
    """Her next message after "Ambil & balas" (or a reply to another question's copy)."""
    question_id = await _replied_question(context, actor, update.effective_message)
    if question_id is None:
        draft = _draft(context, ANSWER_DRAFT, ANSWER_LIFETIME)
        if draft is None:
            context.user_data.pop(ANSWER_DRAFT, None)
            await send(update, _t(context, actor.lang, "answer.expired"))
            return END
        question_id = draft["q"]
    return await _answer(update, context, actor, question_id)


async def _answer(update: Update, context, actor: Actor, question_id: int) -> int:
    db, now = context.db, context.clock.now()
    question = await q_db.question_for(db, actor.user_id, question_id, _admin_ids(context))
    # Her answer, stored (and the question marked answered by her) before a crash: this update is
    # handled again, and the answer is delivered instead of refused as "answered already".
    part = await q_db.part_of_update(db, update.update_id, actor.user_id)
    stored_before = (part is not None and part.part == "answer" and part.question_id == question.id
                     and question.answered_by == actor.user_id)
    if not stored_before:
        refusal = await _not_hers(context, actor, question)
        if refusal is None and question.taken_by is None:
            question = await q_db.take(db, question, actor.user_id, now)
            refusal = await _not_hers(context, actor, question)
        if refusal:
            context.user_data.pop(ANSWER_DRAFT, None)
            await send(update, refusal)
            return END
        message = update.effective_message
        kind, text, file_id = _content(message)
        part = await q_db.add_part(db, question.id, actor.user_id, "answer", kind, text, file_id, message.message_id,
                                   now, update_id=update.update_id)
        if not await q_db.mark_answered(db, question.id, actor.user_id, now):
            context.user_data.pop(ANSWER_DRAFT, None)
            await send(update, _t(context, actor.lang, "answer.already_answered", midwife=""))
            return END
        question = await q_db.get_question(db, question.id)
    context.user_data.pop(ANSWER_DRAFT, None)
    mother = await mothers.get_mother(db, question.mother_id)
    reached = await _deliver_answer(context, question, mother, part, actor.user_id)
    await _refresh_headers(context, question)
    await send(update, _t(context, actor.lang, "answer.sent" if reached else "answer.not_delivered",
                          names=", ".join(reached), id=question.id))
    return END


async def _deliver_answer(context, question: Question, mother: Mother, part: Part, midwife_id: int) -> list[str]:
    """The answer to the asker, and to the mother too when a companion asked; returns who got it."""
    db = context.db
    first = (await q_db.parts_of(db, question.id, "question"))[:1]
    targets = []
    if question.asked_by is not None:
        targets.append(question.asked_by)
    if mother.user_id not in targets:
        targets.append(mother.user_id)
    reached = []
    for person in targets:
        row = await users.get_user(db, person)
        if row is None:
            continue
        lang = row.language
        midwife = _midwife_label(context.texts, lang, await q_db.midwife_name(db, midwife_id))
        body = _part_text(context, lang, part, limit=3500)
        if person == question.asked_by:
            text = _t(context, lang, "answer.to_asker", midwife=midwife, text=body)
        else:
            asked = _part_text(context, lang, first[0], limit=500) if first else ""
            text = _t(context, lang, "answer.to_mother", midwife=midwife, text=body, question=asked,
                      asker=await _asker_text(context, lang, question, mother))
        sent = await _send(context, person, text, keyboard([[(_t(context, lang, "button.ask_again"),
                                                              "menu:questions")]]))
        if sent is None:
            continue
        await _copy(context, person, part)
        reached.append(mother.display_name if person == mother.user_id else
                       next((link.companion_name for link in await companions.links_of_mother(db, mother.user_id)
                             if link.companion_id == person), "?"))
    return reached


async def answer_not_content(update: Update, context) -> str:
    actor = await load_actor(update, context)
    await send(update, _t(context, actor.lang, "answer.only_content"))
    return ANSWER


async def _open_list(update: Update, context, actor: Actor) -> int:
    """/tanya for a midwife: her clinic's questions still waiting for an answer."""
    try:
        waiting = await q_db.open_questions(context.db, actor.user_id)
    except NotAMidwife:  # an administrator, or a midwife who was removed
        await send(update, _t(context, actor.lang, "refused.only_midwives"))
        return END
    if not waiting:
        await send(update, _t(context, actor.lang, "midwife_list.empty"))
        return END
    lines, rows = [_t(context, actor.lang, "midwife_list.title", n=len(waiting))], []
    for question in waiting[:20]:
        mother = await mothers.get_mother(context.db, question.mother_id)
        zone = await _zone(context, mother)
        status = _t(context, actor.lang, "midwife_list.open")
        if question.taken_by is not None:
            status = _t(context, actor.lang, "midwife_list.taken", midwife=_midwife_label(
                context.texts, actor.lang, await q_db.midwife_name(context.db, question.taken_by)))
        lines.append(_t(context, actor.lang, "midwife_list.line", id=question.id, name=mother.display_name,
                        when=_local(question.asked_at, zone), status=status))
        if question.taken_by in (None, actor.user_id):
            rows.append([(_t(context, actor.lang, "midwife_list.button", id=question.id, name=mother.display_name),
                          f"q:take:{question.id}")])
    await send(update, "\n".join(lines), keyboard(rows) if rows else None)
    return END


# ----------------------------------------------------------------- wiring
def build() -> ConversationHandler:
    opening = [CommandHandler(names("ask"), start),
               CallbackQueryHandler(start, pattern=r"^menu:questions$"),
               CallbackQueryHandler(take_pressed, pattern=r"^q:take:\d+$"),
               CallbackQueryHandler(mother_chosen, pattern=r"^q:m:\d+$")]
    return ConversationHandler(
        # a reply to a question's copy is an answer; only looked at outside the conversation
        entry_points=[*opening, MessageHandler(filters.REPLY & CONTENT, reply_entry)],
        states={
            WHICH: [CallbackQueryHandler(mother_chosen, pattern=r"^q:m:\d+$"),
                    MessageHandler(~filters.COMMAND, reask_which)],
            WRITE: [MessageHandler(CONTENT, question_received), MessageHandler(~filters.COMMAND, not_content)],
            ANSWER: [MessageHandler(CONTENT, answer_received), MessageHandler(~filters.COMMAND, answer_not_content)],
        },
        fallbacks=[*opening, *flow_fallbacks()],
        name="questions",
        persistent=True,
        allow_reentry=False,
    )


def register(app: Application) -> None:
    app.add_handler(build())
    for role in ("mother", "companion"):
        menu.add_menu_items(role, ["questions"], 1)
