"""Her own voice (issue 11.3): /suara (/voice), a midwife's voice notes in the massage guide.

    /suara ─▶ the guide's steps 1..7 and the danger screen, each marked 🎙 when her clinic has a
              voice for it (who recorded it, when)
          ─▶ vc:pick:<step> ─▶ (the current voice, played) "record now" ─▶ RECORD
    RECORD ─▶ a voice note (or an audio file): stored for (clinic, step), played back as the
              mothers will hear it; "record again", "remove", "list"
           ─▶ anything else: what is awaited, and /batal
    vc:rm:<step> removes the clinic's voice for that step; vc:list shows the list again.

The voice belongs to the clinic (any of its midwives may replace or remove it) and is sent by
its Telegram file id, never downloaded. Mothers of that clinic, and companions massaging them,
get it right after the step's picture (`send_step_voice`, called by flows/guide.py), captioned
"🎙 Suara Bidan Ani"; mothers of other clinics, or without one, get nothing.

Every midwife read and write goes through db.queries.voice, which finds her clinic from her own
id and refuses anyone who is not a midwife (`_guarded` answers `midwife.only_midwives`). The
conversation is persistent and the chosen step is kept in user_data, so a restart between
choosing and recording loses nothing; a choice older than an hour no longer catches a voice.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor
from bot.clock import iso, parse_iso
from db.queries import voice as voice_q
from db.queries.clinic_scope import NotYourClinic, Scope, scope_of
from db.queries.users import get_user
from db.queries.voice import DANGER, StepVoice
from flows.commands import names
from flows.global_commands import flow_fallbacks
from flows.midwife_only import midwife_only
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)

END = ConversationHandler.END
RECORD = "record"
DRAFT = "voice_step"                    # user_data: {"step": <key>, "at": <iso>}
DRAFT_LIFETIME = timedelta(hours=1)     # a choice older than this no longer catches a voice
COMMANDS = names("voice")
RECORDING = filters.VOICE | filters.AUDIO


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, f"voice.{key}", **values)


# ----------------------------------------------------------------- steps and labels
def step_keys(texts, lang: str = "id") -> list[str]:
    """The guide's steps by their id in guide.yaml, then the danger screen."""
    return [step["id"] for step in texts.data(lang, "guide.steps")] + [DANGER]


def step_title(texts, lang: str, key: str) -> str:
    if key == DANGER:
        return texts.t(lang, "danger.menu_label")
    for step in texts.data(lang, "guide.steps"):
        if step["id"] == key:
            return step["title"]
    raise KeyError(key)


def midwife_label(texts, lang: str, name: str) -> str:
    """'Ani' -> 'Bidan Ani'; a name already saying so stays as it is."""
    if not name:
        return texts.t(lang, "voice.a_midwife")
    if name.lower().startswith(("bidan", "bd.", "bd ", "midwife")):
        return name
    return texts.t(lang, "voice.midwife_name", name=name)


def caption(texts, lang: str, voice: StepVoice) -> str:
    """What the listener reads under the voice: who speaks (her clinic, once she left)."""
    if voice.recorder_name:
        return texts.t(lang, "voice.caption", midwife=midwife_label(texts, lang, voice.recorder_name))
    return texts.t(lang, "voice.caption_clinic", clinic=voice.clinic_name)


def _date(moment: str, zone: str) -> str:
    return parse_iso(moment).astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y")


async def _play(context, chat_id: int, voice: StepVoice, text: str, markup=None):
    """Send the voice by its file id (sendVoice, or sendAudio for an audio file)."""
    if voice.kind == "audio":
        return await context.bot.send_audio(chat_id, audio=voice.file_id, caption=text, reply_markup=markup)
    return await context.bot.send_voice(chat_id, voice=voice.file_id, caption=text, reply_markup=markup)


async def _play_back(context, chat_id: int, voice: StepVoice, lang: str) -> None:
    """The midwife hears a voice as the mothers will (caption included). One Telegram refuses
    (a file id it no longer knows) is logged: she can record a new one."""
    try:
        await _play(context, chat_id, voice, caption(context.texts, lang, voice))
    except BadRequest as exc:
        log.warning("clinic voice (step %s) not played back: %s", voice.step, exc.message)


# ----------------------------------------------------------------- the listener's side
async def send_step_voice(context, chat_id: int, mother_id: int | Iterable[int] | None, step_key: str,
                          lang: str | None = None) -> int:
    """After a step (or the danger screen) was sent: the clinic's voice for it, if any.

    `mother_id`: the mother the guide is shown for (a companion of several: all of them, each
    clinic's voice once); None or 0 for someone reading without a mother (a midwife hears her
    own clinic's). Returns how many voices were sent. A voice Telegram refuses is logged and
    skipped: the step itself has arrived."""
    mother_ids = [mother_id] if isinstance(mother_id, int) else list(mother_id or [])
    voices = await voice_q.voices_for(context.db, step_key, mother_ids, chat_id)
    if not voices:
        return 0
    if lang is None:
        user = await get_user(context.db, chat_id)
        lang = user.language if user is not None else "id"
    sent = 0
    for voice in voices:
        try:
            await _play(context, chat_id, voice, caption(context.texts, lang, voice))
            sent += 1
        except BadRequest as exc:
            log.warning("clinic voice (step %s) not sent: %s", step_key, exc.message)
    return sent


# ----------------------------------------------------------------- the midwife's side
_guarded = midwife_only(DRAFT)


async def _step_arg(update: Update, context, actor: Actor) -> str:
    """The step of a `vc:<action>:<step>` button, once she is known to be a midwife; an unknown
    step (a forged button) is refused like another clinic's data."""
    await scope_of(context.db, actor.user_id)
    key = update.callback_query.data.split(":", 2)[2]
    if key not in step_keys(context.texts):
        raise NotYourClinic(key)
    return key


def render_list(texts, lang: str, scope: Scope, voices: dict[str, StepVoice]):
    lines = [texts.t(lang, "voice.list_title", clinic=scope.clinic_name), texts.t(lang, "voice.list_intro"), ""]
    rows = []
    for key in step_keys(texts, lang):
        title, voice = step_title(texts, lang, key), voices.get(key)
        mark = texts.t(lang, "voice.mark_has" if voice else "voice.mark_none")
        if voice is None:
            lines.append(texts.t(lang, "voice.line", mark=mark, title=title))
        else:
            lines.append(texts.t(lang, "voice.line_by", mark=mark, title=title, date=_date(voice.recorded_at, scope.timezone),
                                 midwife=midwife_label(texts, lang, voice.recorder_name)))
        rows.append([(texts.t(lang, "voice.button", mark=mark, title=title), f"vc:pick:{key}")])
    lines += ["", texts.t(lang, "voice.legend")]
    return "\n".join(lines), keyboard(rows)


@_guarded
async def show_list(update: Update, context, actor: Actor) -> int:
    """/suara, and the "list of steps" button."""
    scope, voices = await voice_q.clinic_voices(context.db, actor.user_id)
    context.user_data.pop(DRAFT, None)
    await close_buttons(update)
    text, markup = render_list(context.texts, actor.lang, scope, voices)
    await send(update, text, markup)
    return END


@_guarded
async def pick(update: Update, context, actor: Actor) -> str:
    """vc:pick:<step>: the current voice (if any) played, then "record now"."""
    key = await _step_arg(update, context, actor)
    scope, current = await voice_q.clinic_voice(context.db, actor.user_id, key)
    await close_buttons(update)
    lang, texts = actor.lang, context.texts
    title = step_title(texts, lang, key)
    lines = [_t(context, lang, "prompt", title=title)]
    rows = []
    if current is not None:
        await _play_back(context, update.effective_chat.id, current, lang)
        lines.append(_t(context, lang, "prompt_existing", date=_date(current.recorded_at, scope.timezone),
                        midwife=midwife_label(texts, lang, current.recorder_name)))
        rows.append([(_t(context, lang, "buttons.remove"), f"vc:rm:{key}")])
    rows.append([(_t(context, lang, "buttons.list"), "vc:list")])
    context.user_data[DRAFT] = {"step": key, "at": iso(context.clock.now())}
    await send(update, "\n\n".join(lines), keyboard(rows))
    return RECORD


def _draft_step(context) -> str | None:
    draft = context.user_data.get(DRAFT)
    if not isinstance(draft, dict) or draft.get("step") not in step_keys(context.texts):
        return None
    if context.clock.now() - parse_iso(draft["at"]) > DRAFT_LIFETIME:
        return None
    return draft["step"]


@_guarded
async def recorded(update: Update, context, actor: Actor) -> int:
    """A voice note or an audio file for the chosen step: stored, played back, confirmed."""
    key = _draft_step(context)
    context.user_data.pop(DRAFT, None)
    lang = actor.lang
    if key is None:
        await voice_q.clinic_voices(context.db, actor.user_id)  # still a midwife? (else the guard answers)
        await send(update, _t(context, lang, "expired"))
        return END
    message = update.message
    media, kind = (message.voice, "voice") if message.voice is not None else (message.audio, "audio")
    duration = media.to_dict().get("duration")  # seconds (the attribute itself warns: int -> timedelta)
    scope, replaced = await voice_q.save_voice(context.db, actor.user_id, key, kind, media.file_id,
                                               duration, iso(context.clock.now()))
    log.info("clinic voice %s for step %s", "replaced" if replaced else "recorded", key)
    _, voice = await voice_q.clinic_voice(context.db, actor.user_id, key)
    await _play_back(context, update.effective_chat.id, voice, lang)
    title = step_title(context.texts, lang, key)
    await send(update, _t(context, lang, "replaced" if replaced else "saved", title=title, clinic=scope.clinic_name),
               _done_buttons(context, lang, key))
    return END


def _done_buttons(context, lang: str, key: str):
    return keyboard([[(_t(context, lang, "buttons.record_again"), f"vc:pick:{key}"),
                      (_t(context, lang, "buttons.remove"), f"vc:rm:{key}")],
                     [(_t(context, lang, "buttons.list"), "vc:list")]])


@_guarded
async def not_a_voice(update: Update, context, actor: Actor) -> str | int:
    """Text, a photo, a sticker ... while a voice is awaited: say what is awaited."""
    key = _draft_step(context)
    if key is None:
        context.user_data.pop(DRAFT, None)
        await voice_q.clinic_voices(context.db, actor.user_id)
        await send(update, _t(context, actor.lang, "expired"))
        return END
    await send(update, _t(context, actor.lang, "not_voice", title=step_title(context.texts, actor.lang, key)))
    return RECORD


@_guarded
async def remove(update: Update, context, actor: Actor) -> int:
    """vc:rm:<step>: the clinic's voice for that step is removed."""
    key = await _step_arg(update, context, actor)
    _, removed = await voice_q.remove_voice(context.db, actor.user_id, key)
    context.user_data.pop(DRAFT, None)
    await close_buttons(update)
    title = step_title(context.texts, actor.lang, key)
    if removed:
        log.info("clinic voice removed for step %s", key)
    await send(update, _t(context, actor.lang, "removed" if removed else "nothing_to_remove", title=title),
               keyboard([[(_t(context, actor.lang, "buttons.record_again"), f"vc:pick:{key}")],
                         [(_t(context, actor.lang, "buttons.list"), "vc:list")]]))
    return END


# ----------------------------------------------------------------- wiring
def build() -> ConversationHandler:
    entries = [CommandHandler(COMMANDS, show_list),
               CallbackQueryHandler(show_list, pattern=r"^vc:list$"),
               CallbackQueryHandler(pick, pattern=r"^vc:pick:[a-z_]+$"),
               CallbackQueryHandler(remove, pattern=r"^vc:rm:[a-z_]+$")]
    return ConversationHandler(
        entry_points=entries,
        states={RECORD: [MessageHandler(RECORDING, recorded),
                         MessageHandler(~filters.COMMAND, not_a_voice)]},
        fallbacks=flow_fallbacks(),
        name="clinic_voice",
        persistent=True,
        allow_reentry=True,
    )


def register(app: Application) -> None:
    app.add_handler(build())
