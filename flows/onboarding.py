"""/start: consent, role, a mother's profile, a companion's link, a midwife's code.

States are named strings, so the persisted conversation is readable. Nothing is stored in
the database before consent; answers wait in `user_data` (the draft) until the end.
"""
from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor, load_actor
from bot.commands_menu import register_midwife_commands
from bot.config import ZONES
from domain.dates import DateProblem, check_delivery_date, local_today, parse_delivery_date
from domain.names import clean_name
from db.queries import clinics, companions, mothers, users
from flows import account, clinic_choice, menu, reports
from flows.commands import is_global_command
from flows.ui import close_buttons, keyboard, send
from reminders.planning import parse_hhmm

CONSENT, ROLE, NAME, DELIVERY, BIRTH_TIME, FIRST_CHILD, TIMEZONE, CLINIC, RELATION = (
    "consent", "role", "name", "delivery", "birth_time", "first_child", "timezone", "clinic", "relation")
END = ConversationHandler.END
RELATIONS = ("husband", "family", "cadre")
# parts of the day a birth time may be given as (mother.birth_time), with the hour each starts
DAY_PARTS = {"night": 0, "morning": 6, "afternoon": 12, "evening": 18}
# Before she chose her zone, "a time still to come today" is judged at the latest Indonesian
# clock (WIT): nobody is refused a time that has passed where she lives.
LATEST_ZONE = "Asia/Jayapura"


def _lang(context) -> str:
    return context.user_data.get("lang", "id")


def _t(context, key: str, **values) -> str:
    return context.texts.t(_lang(context), key, **values)


# ----------------------------------------------------------------- questions
def _who_sees(context) -> str:
    """The consent's "who can see it": her link's clinic by name, or that none follows her yet."""
    start = context.user_data.get("start", "")
    if start.startswith("m_") and context.user_data.get("clinic_name"):
        return _t(context, "onboarding.consent_sees_clinic", clinic=context.user_data["clinic_name"])
    if not start:
        return _t(context, "onboarding.consent_sees_choose")
    return _t(context, "onboarding.consent_sees_default")


async def ask_consent(update: Update, context) -> str:
    other = "en" if _lang(context) == "id" else "id"
    await send(update, _t(context, "onboarding.consent", who_sees=_who_sees(context)), keyboard([
        [(_t(context, "onboarding.agree"), "ob:consent:yes"), (_t(context, "onboarding.disagree"), "ob:consent:no")],
        [(context.texts.t(other, "language.name"), f"ob:lang:{other}")],
    ]))
    return CONSENT


async def ask_role(update: Update, context) -> str:
    await send(update, _t(context, "onboarding.role_question"), keyboard([
        [(_t(context, "onboarding.role_mother"), "ob:role:mother")],
        [(_t(context, "onboarding.role_companion"), "ob:role:companion")],
    ]))
    return ROLE


async def ask_name(update: Update, context) -> str:
    await send(update, _t(context, "onboarding.name_question"))
    return NAME


async def ask_delivery(update: Update, context) -> str:
    await send(update, _t(context, "onboarding.delivery_question"), keyboard([
        [(_t(context, "onboarding.today"), "ob:dd:0"), (_t(context, "onboarding.yesterday"), "ob:dd:1")],
        [(_t(context, "onboarding.two_days_ago"), "ob:dd:2")],
    ]))
    return DELIVERY


async def ask_birth_time(update: Update, context) -> str:
    parts = [(_t(context, f"onboarding.bt_{part}"), f"ob:bt:{part}") for part in DAY_PARTS]
    await send(update, _t(context, "onboarding.birth_time_question"), keyboard([
        parts[:2], parts[2:], [(_t(context, "onboarding.bt_unknown"), "ob:bt:unknown")]]))
    return BIRTH_TIME


async def ask_first_child(update: Update, context) -> str:
    await send(update, _t(context, "onboarding.first_child_question"), keyboard([
        [(_t(context, "common.yes"), "ob:first:yes"), (_t(context, "common.no"), "ob:first:no")],
    ]))
    return FIRST_CHILD


async def ask_timezone(update: Update, context) -> str:
    await send(update, _t(context, "onboarding.timezone_question"), keyboard([
        [(_t(context, f"onboarding.tz_{zone}"), f"ob:tz:{zone}")] for zone in ZONES
    ]))
    return TIMEZONE


async def ask_clinic(update: Update, context) -> str:
    await send(update, _t(context, "clinic_choice.ask"),
               keyboard([clinic_choice.not_yet_row(context.texts, _lang(context), "ob:cl")]))
    return CLINIC


async def ask_relation(update: Update, context) -> str:
    name = context.user_data.get("mother_name", "")
    await send(update, _t(context, "onboarding.relation_question", mother=name), keyboard([
        [(_t(context, f"onboarding.relation_{rel}"), f"ob:rel:{rel}")] for rel in RELATIONS
    ]))
    return RELATION


ASK = {CONSENT: ask_consent, ROLE: ask_role, NAME: ask_name, DELIVERY: ask_delivery, BIRTH_TIME: ask_birth_time,
       FIRST_CHILD: ask_first_child, TIMEZONE: ask_timezone, CLINIC: ask_clinic, RELATION: ask_relation}


# ----------------------------------------------------------------- entry
async def start(update: Update, context) -> str | int:
    actor = await load_actor(update, context)
    payload = context.args[0] if context.args else ""
    if actor.registered:
        return await _start_registered(update, context, actor, payload)
    pending = _pending_clinic_link(context) if not payload else {}
    context.user_data.clear()
    context.user_data.update({"lang": actor.lang, "start": payload, **pending})
    if payload.startswith("c_"):
        mother_id = await companions.mother_for_invite(context.db, payload[2:])
        if mother_id is None:
            context.user_data["start"] = ""
            await send(update, _t(context, "onboarding.invite_invalid"))
        else:
            mother = await mothers.get_mother(context.db, mother_id)
            context.user_data["mother_name"] = mother.display_name if mother else ""
    elif payload.startswith("m_"):
        clinic = await clinics.clinic_by_mother_code(context.db, payload[2:])
        if clinic is None:
            context.user_data["start"] = ""
            await send(update, _t(context, "onboarding.clinic_link_invalid"))
        else:
            context.user_data["clinic_name"] = clinic.name
    await send(update, _t(context, "onboarding.welcome", name=actor.first_name))
    return await ask_consent(update, context)


async def _start_registered(update: Update, context, actor: Actor, payload: str) -> str | int:
    db, lang = context.db, actor.lang
    t = context.texts.t
    if payload.startswith("c_"):
        mother_id = await companions.mother_for_invite(db, payload[2:])
        if mother_id is None:
            await send(update, t(lang, "onboarding.invite_invalid"))
        elif actor.role != "companion":
            await send(update, t(lang, "onboarding.invite_not_for_role"))
        else:
            mother = await mothers.get_mother(db, mother_id)
            context.user_data.update(lang=lang, start=payload, mother_name=mother.display_name if mother else "")
            return await ask_relation(update, context)
    elif payload.startswith("m_"):
        clinic = await clinics.clinic_by_mother_code(db, payload[2:])
        if clinic is None:
            await send(update, t(lang, "onboarding.clinic_link_invalid"))
        elif actor.role == "mother":
            await mothers.choose_clinic(db, actor.user_id, clinic.id, context.services.now_iso())
            await send(update, t(lang, "onboarding.clinic_joined", clinic=clinic.name))
        else:
            await send(update, t(lang, "onboarding.clinic_link_not_for_role"))
    elif payload.startswith("w_"):
        await send(update, t(lang, "onboarding.midwife_code_registered"))
    else:
        await send(update, t(lang, "onboarding.welcome_back", name=actor.first_name))
    await menu.show_menu(update, context, actor)
    return END


# ----------------------------------------------------------------- answers
async def switch_language(update: Update, context) -> str:
    context.user_data["lang"] = update.callback_query.data.rsplit(":", 1)[1]
    await close_buttons(update)
    return await ask_consent(update, context)


def _pending_clinic_link(context) -> dict:
    """The clinic link she came from (`m_<code>`), kept while she has not registered yet."""
    draft = context.user_data
    if draft.get("start", "").startswith("m_") and draft.get("clinic_name"):
        return {"start": draft["start"], "clinic_name": draft["clinic_name"]}
    return {}


async def consent_no(update: Update, context) -> int:
    await close_buttons(update, _t(context, "onboarding.disagree"))
    await send(update, _t(context, "onboarding.declined"))
    lang, pending = _lang(context), _pending_clinic_link(context)
    context.user_data.clear()
    context.user_data.update(lang=lang, **pending)  # a later /start or "agree" keeps her clinic
    return END


async def consent_again(update: Update, context) -> str | int:
    """"Saya setuju" pressed after she declined (the conversation had ended)."""
    actor = await load_actor(update, context)
    if actor.registered:
        await account.stale_button(update, context)
        return END
    context.user_data.setdefault("lang", actor.lang)
    context.user_data.setdefault("start", "")
    return await consent_yes(update, context)


async def consent_yes(update: Update, context) -> str | int:
    await close_buttons(update, _t(context, "onboarding.agree"))
    payload = context.user_data.get("start", "")
    if payload.startswith("c_"):
        return await ask_relation(update, context)
    if payload.startswith("w_"):
        return await _join_as_midwife(update, context, payload[2:])
    return await ask_role(update, context)


async def _join_as_midwife(update: Update, context, code: str) -> int:
    db, user = context.db, update.effective_user
    now = context.services.now_iso()
    async with db.transaction():
        clinic_id = await clinics.claim_midwife_code(db, code, user.id, now)
        if clinic_id is not None:
            await users.create_user(db, user.id, "midwife", _lang(context), now)
            await clinics.add_midwife(db, user.id, clinic_id, user.first_name or "", now)
    if clinic_id is None:
        await send(update, _t(context, "onboarding.midwife_code_invalid"))
        return await ask_role(update, context)
    clinic = await clinics.get_clinic(db, clinic_id)
    await register_midwife_commands(context.bot, context.texts, user.id, _lang(context))
    await send(update, _t(context, "onboarding.midwife_done", clinic=clinic.name if clinic else ""))
    return await _finish(update, context)


async def role_chosen(update: Update, context) -> str | int:
    role = update.callback_query.data.rsplit(":", 1)[1]
    await close_buttons(update, _t(context, f"onboarding.role_{role}"))
    if role == "companion":
        await send(update, _t(context, "onboarding.companion_needs_link"))
        lang = _lang(context)
        context.user_data.clear()
        context.user_data["lang"] = lang
        return END
    return await ask_name(update, context)


async def name_given(update: Update, context) -> str:
    name = clean_name(update.message.text)
    if name is None:
        await send(update, _t(context, "onboarding.name_invalid"))
        return NAME
    context.user_data["name"] = name
    return await ask_delivery(update, context)


def _planning_zone(context) -> str:
    return context.services.settings.default_timezone


async def delivery_button(update: Update, context) -> str:
    days_ago = int(update.callback_query.data.rsplit(":", 1)[1])
    today = local_today(context.clock.now(), _planning_zone(context))
    value = check_delivery_date(today - timedelta(days=days_ago), today)
    await close_buttons(update, value.strftime("%d-%m-%Y"))
    context.user_data["delivery"] = value.isoformat()
    return await ask_birth_time(update, context)


async def delivery_typed(update: Update, context) -> str:
    today = local_today(context.clock.now(), _planning_zone(context))
    result = parse_delivery_date(update.message.text, today)
    if isinstance(result, DateProblem):
        await send(update, _t(context, f"onboarding.date_{result.reason}"))
        return await ask_delivery(update, context)
    context.user_data["delivery"] = result.isoformat()
    return await ask_birth_time(update, context)


def _birth_time_to_come(context, start: time) -> bool:
    """A birth today at `start` that has not happened yet (on the latest Indonesian clock)."""
    now = context.clock.now().astimezone(ZoneInfo(LATEST_ZONE))
    if context.user_data.get("delivery") != now.date().isoformat():
        return False
    return start > now.time().replace(tzinfo=None)


async def birth_time_button(update: Update, context) -> str:
    part = update.callback_query.data.rsplit(":", 1)[1]
    if part != "unknown" and _birth_time_to_come(context, time(DAY_PARTS[part])):
        await close_buttons(update)
        await send(update, _t(context, "onboarding.birth_time_future"))
        return await ask_birth_time(update, context)
    await close_buttons(update, _t(context, f"onboarding.bt_{part}"))
    context.user_data["birth_time"] = None if part == "unknown" else part
    return await ask_first_child(update, context)


async def birth_time_typed(update: Update, context) -> str:
    value = parse_hhmm(update.message.text)
    if value is None:
        await send(update, _t(context, "onboarding.birth_time_format"))
        return await ask_birth_time(update, context)
    if _birth_time_to_come(context, value):
        await send(update, _t(context, "onboarding.birth_time_future"))
        return await ask_birth_time(update, context)
    context.user_data["birth_time"] = value.strftime("%H:%M")
    return await ask_first_child(update, context)


async def first_child_chosen(update: Update, context) -> str:
    answer = update.callback_query.data.rsplit(":", 1)[1]
    await close_buttons(update, _t(context, f"common.{answer}"))
    context.user_data["first_child"] = answer == "yes"
    return await ask_timezone(update, context)


async def timezone_chosen(update: Update, context) -> str | int:
    zone = update.callback_query.data.rsplit(":", 1)[1]
    await close_buttons(update, _t(context, f"onboarding.tz_{zone}"))
    draft, db = context.user_data, context.db
    draft["zone"] = zone
    if draft.get("start", "").startswith("m_"):
        clinic = await clinics.clinic_by_mother_code(db, draft["start"][2:])
        if clinic is not None:
            return await _save_mother(update, context, clinic.id)
    if await clinics.count_clinics(db) == 0:  # nothing to choose from: not asked
        await send(update, _t(context, "clinic_choice.no_clinic_yet"))
        return await _save_mother(update, context, None, asked=False)
    return await ask_clinic(update, context)


async def clinic_typed(update: Update, context) -> str:
    text, markup = await clinic_choice.search_reply(context.db, context.texts, _lang(context),
                                                    update.message.text, "ob:cl")
    await send(update, text, markup)
    return CLINIC


async def clinic_picked(update: Update, context) -> str | int:
    choice = update.callback_query.data.rsplit(":", 1)[1]
    if choice == "none":
        await close_buttons(update, _t(context, "clinic_choice.not_yet"))
        await send(update, _t(context, "clinic_choice.no_clinic_yet"))
        return await _save_mother(update, context, None)
    clinic = await clinics.get_clinic(context.db, int(choice))
    if clinic is None:
        await close_buttons(update, alert=_t(context, "common.stale_button_short"))
        return await ask_clinic(update, context)
    await close_buttons(update, clinic_choice.clinic_label(clinic))
    await send(update, _t(context, "clinic_choice.chosen", clinic=clinic.name))
    return await _save_mother(update, context, clinic.id)


async def _save_mother(update: Update, context, clinic_id: int | None, asked: bool = True) -> int:
    """Store her profile (the first write about her); `asked`: she chose her clinic, or "not yet"."""
    draft, db, user = context.user_data, context.db, update.effective_user
    now = context.services.now_iso()
    async with db.transaction():
        await users.create_user(db, user.id, "mother", _lang(context), now)
        await mothers.create_mother(db, user.id, draft["name"], date.fromisoformat(draft["delivery"]),
                                    bool(draft.get("first_child")), ZONES[draft["zone"]], clinic_id, now)
        if asked:
            await mothers.choose_clinic(db, user.id, clinic_id, now)
        if draft.get("birth_time"):
            await mothers.set_birth_time(db, user.id, draft["birth_time"])
        code = await companions.current_invite(db, user.id, now)
    await send(update, _t(context, "onboarding.mother_done", name=draft["name"]))
    await send(update, _t(context, "companions.invite_text", link=invite_link(context, code)))
    lang = _lang(context)
    done = await _finish(update, context)
    # The baseline, last (after the menu): a one-tap milk report before any massage ('pre').
    await send(update, context.texts.t(lang, "baseline.after_registration"),
               reports.flow_markup(context.texts, lang, f"rep:o:{user.id}:"))
    return done


async def relation_chosen(update: Update, context) -> int:
    relation = update.callback_query.data.rsplit(":", 1)[1]
    await close_buttons(update, _t(context, f"onboarding.relation_{relation}"))
    db, user = context.db, update.effective_user
    now = context.services.now_iso()
    mother_id = await companions.mother_for_invite(db, context.user_data.get("start", "")[2:])
    if mother_id is None:  # revoked meanwhile
        await send(update, _t(context, "onboarding.invite_invalid"))
        return await _finish(update, context)
    async with db.transaction():
        if await users.get_user(db, user.id) is None:
            await users.create_user(db, user.id, "companion", _lang(context), now)
        linked = await companions.link(db, mother_id, user.id, relation, user.first_name or "", now)
    mother = await mothers.get_mother(db, mother_id)
    mother_name = mother.display_name if mother else ""
    if not linked:
        await send(update, _t(context, "onboarding.already_linked", mother=mother_name))
        return await _finish(update, context)
    await send(update, _t(context, "onboarding.companion_done", mother=mother_name))
    await menu.notify(context, mother_id, "companions.joined_notice",
                      companion=user.first_name or "", relation_key=f"onboarding.relation_{relation}")
    return await _finish(update, context)


async def _finish(update: Update, context) -> int:
    lang = _lang(context)
    context.user_data.clear()
    actor = await load_actor(update, context)
    await menu.show_menu(update, context, actor)
    if actor.role is None:
        context.user_data["lang"] = lang
    return END


def invite_link(context, code: str) -> str:
    return f"https://t.me/{context.bot.username}?start=c_{code}"


# ----------------------------------------------------------------- wrong input
def _reask(state: str, hint_key: str):
    async def handler(update: Update, context) -> str:
        if update.callback_query is not None:
            await update.callback_query.answer(_t(context, "common.stale_button_short"))
        await send(update, _t(context, hint_key))
        return await ASK[state](update, context)

    return handler


def _stay(state: str, hint_key: str) -> list:
    return [MessageHandler(filters.ALL & ~is_global_command(), _reask(state, hint_key)),
            CallbackQueryHandler(_reask(state, hint_key))]


def build(fallbacks: list) -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("start", start),
                      CallbackQueryHandler(consent_again, pattern=r"^ob:consent:yes$")],
        states={
            CONSENT: [CallbackQueryHandler(consent_yes, pattern=r"^ob:consent:yes$"),
                      CallbackQueryHandler(consent_no, pattern=r"^ob:consent:no$"),
                      CallbackQueryHandler(switch_language, pattern=r"^ob:lang:(id|en)$"),
                      *_stay(CONSENT, "onboarding.use_buttons")],
            ROLE: [CallbackQueryHandler(role_chosen, pattern=r"^ob:role:(mother|companion)$"),
                   *_stay(ROLE, "onboarding.use_buttons")],
            NAME: [MessageHandler(text, name_given), *_stay(NAME, "onboarding.name_invalid")],
            DELIVERY: [CallbackQueryHandler(delivery_button, pattern=r"^ob:dd:[012]$"),
                       MessageHandler(text, delivery_typed), *_stay(DELIVERY, "onboarding.date_format")],
            BIRTH_TIME: [CallbackQueryHandler(birth_time_button,
                                              pattern=r"^ob:bt:(night|morning|afternoon|evening|unknown)$"),
                         MessageHandler(text, birth_time_typed), *_stay(BIRTH_TIME, "onboarding.birth_time_format")],
            FIRST_CHILD: [CallbackQueryHandler(first_child_chosen, pattern=r"^ob:first:(yes|no)$"),
                          *_stay(FIRST_CHILD, "onboarding.use_buttons")],
            TIMEZONE: [CallbackQueryHandler(timezone_chosen, pattern=r"^ob:tz:(WIB|WITA|WIT)$"),
                       *_stay(TIMEZONE, "onboarding.use_buttons")],
            CLINIC: [CallbackQueryHandler(clinic_picked, pattern=r"^ob:cl:(\d+|none)$"),
                     MessageHandler(text, clinic_typed), *_stay(CLINIC, "clinic_choice.type_hint")],
            RELATION: [CallbackQueryHandler(relation_chosen, pattern=r"^ob:rel:(husband|family|cadre)$"),
                       *_stay(RELATION, "onboarding.use_buttons")],
        },
        fallbacks=fallbacks,
        name="onboarding",
        persistent=True,
        allow_reentry=True,
    )
