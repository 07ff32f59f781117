"""The oxytocin-massage guide: /pijat (/massage), the menu items `massage` and `guide`.

    entry ─▶ (pre-test offer, once per user) ─▶ (which mother?, companions of several)
          ─▶ safety check (until passed once for that mother) ─▶ the guide's menu (hub)
    hub ─▶ steps 1..7 (picture + caption; back / next / repeat / close)
        ─▶ timer (flows/timer.py) · why it helps · enough milk? · danger signs

Every button carries what it needs (`gd:<action>:<args>`) and is checked against the
database, so buttons keep working after a restart and a forged or stale one gets a short
answer. No ConversationHandler: the guide never waits for typed text, so it never catches
text meant for another flow. Callback data:

    gd:skip                      skip the pre-test offer, go on to the guide
    gd:m:<mother>                a companion chose the mother
    gd:sf:<check>:<q>:<y|n>      answer to safety question q of that check
    gd:hub:<mother>              the guide's menu (mother 0: reading only)
    gd:st:<mother>:<i>           show step i (next, back and repeat all say which step)
    gd:x:<mother>                close the steps
    gd:info:<why|milk|danger>    a page
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.actor import Actor, load_actor
from db.queries import guide as guide_q
from db.queries import quiz as quiz_q
from db.queries.mothers import Mother
from flows import menu
from flows.media import send_picture
from flows.ui import chosen_label, close_buttons, keyboard, send
from flows.commands import names

log = logging.getLogger(__name__)

COMMANDS = names("massage")
DANGER_GROUPS = ("mother_now", "mother_soon", "baby_now", "baby_soon")
INFO_PAGES = {"why": "why", "milk": "enough_milk"}


# ----------------------------------------------------------------- shared helpers
def first_press(update: Update, context) -> bool:
    """True the first time a message's buttons are used. Buttons taken off after use can still
    arrive twice (a double tap is two updates carrying the same message)."""
    query = update.callback_query
    if query is None or query.message is None:
        return True
    used = context.user_data.setdefault("used_buttons", [])
    if query.message.message_id in used:
        return False
    used.append(query.message.message_id)
    del used[:-20]
    return True


async def stale(update: Update, context, lang: str, key: str = "common.stale_button_short") -> None:
    """Answer a button that no longer does anything, without touching its message."""
    if update.callback_query is not None:
        await update.callback_query.answer(context.texts.t(lang, key))


def args(update: Update) -> list[str]:
    return update.callback_query.data.split(":")[2:]


def int_arg(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def danger_text(texts, lang: str) -> str:
    """The danger screen as one message: title, four groups of bullets, mastitis, what to do."""
    danger = texts.data(lang, "danger")
    parts = [danger["title"]]
    for group in DANGER_GROUPS:
        bullets = "\n".join(f"• {item}" for item in danger[group])
        parts.append(f"{danger['headings'][group]}\n{bullets}")
    parts += [danger["mastitis"], danger["what_to_do"]]
    return "\n\n".join(parts)


async def mother_for(context, actor: Actor, mother_id: int | None) -> Mother | None:
    if mother_id is None:
        return None
    return await guide_q.accessible_mother(context.db, actor.user_id, actor.role, mother_id)


# ----------------------------------------------------------------- entry
async def open_guide(update: Update, context) -> None:
    """/pijat, menu:massage and menu:guide (the reminders' button)."""
    actor = await load_actor(update, context)
    if update.callback_query is not None and not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update)
    t = context.texts.t
    if not actor.registered:
        await send(update, t(actor.lang, "onboarding.press_start"))
        return
    if actor.role not in ("mother", "companion"):
        await show_hub(update, context, actor, None)
        return
    if await offer_pretest(update, context, actor):
        return
    await choose_mother(update, context, actor)


async def offer_pretest(update: Update, context, actor: Actor) -> bool:
    """Before her first guide, once: a knowledge test, which she may skip."""
    db, user_id = context.db, actor.user_id
    if await quiz_q.has_attempt(db, user_id, "pre") or await guide_q.guide_completed(db, user_id):
        return False
    if not await guide_q.mark_once(db, user_id, "pretest_offered_at", context.services.now_iso()):
        return False
    t = context.texts.t
    await send(update, t(actor.lang, "massage.pretest_offer"), keyboard([
        [(t(actor.lang, "quiz.pretest_offer_start"), "qz:new:t")],
        [(t(actor.lang, "massage.pretest_skip"), "gd:skip")],
    ]))
    return True


async def skip_pretest(update: Update, context) -> None:
    actor = await load_actor(update, context)
    if actor.role not in ("mother", "companion") or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update, chosen_label(update))
    await choose_mother(update, context, actor)


async def choose_mother(update: Update, context, actor: Actor) -> None:
    t = context.texts.t
    mothers = await guide_q.mothers_of(context.db, actor.user_id, actor.role)
    if not mothers:
        await send(update, t(actor.lang, "companions.no_mothers"))
        return
    if len(mothers) > 1:
        await send(update, t(actor.lang, "massage.choose_mother"), keyboard(
            [[(t(actor.lang, "massage.mother_button", mother=m.name), f"gd:m:{m.mother_id}")] for m in mothers]))
        return
    await for_mother(update, context, actor, await mother_for(context, actor, mothers[0].mother_id))


async def mother_chosen(update: Update, context) -> None:
    actor = await load_actor(update, context)
    mother = await mother_for(context, actor, int_arg(args(update)[0]))
    if mother is None or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update, chosen_label(update))
    await for_mother(update, context, actor, mother)


async def for_mother(update: Update, context, actor: Actor, mother: Mother | None) -> None:
    if mother is None:
        return
    if await guide_q.safety_passed_at(context.db, mother.user_id) is None:
        await start_safety_check(update, context, actor, mother)
    else:
        await show_hub(update, context, actor, mother)


# ----------------------------------------------------------------- safety check
def _for_line(context, actor: Actor, mother: Mother | None) -> list[str]:
    if actor.role == "companion" and mother is not None:
        return [context.texts.t(actor.lang, "massage.for_mother", mother=mother.display_name)]
    return []


async def start_safety_check(update: Update, context, actor: Actor, mother: Mother) -> None:
    db, data = context.db, context.texts.data
    check_id = await guide_q.start_safety_check(db, mother.user_id, actor.user_id, context.services.now_iso())
    safety = data(actor.lang, "safety")
    parts = [safety["title"], *_for_line(context, actor, mother), safety["intro"], safety["pregnancy_note"]["text"]]
    await send(update, "\n\n".join(parts))
    await ask_safety_question(update, context, actor.lang, check_id, 0)


async def ask_safety_question(update: Update, context, lang: str, check_id: int, index: int) -> None:
    safety = context.texts.data(lang, "safety")
    questions = safety["questions"]
    text = context.texts.t(lang, "massage.safety_question", n=index + 1, total=len(questions),
                           question=questions[index]["text"])
    await send(update, text, keyboard([[
        (safety["buttons"]["yes"], f"gd:sf:{check_id}:{index}:y"),
        (safety["buttons"]["no"], f"gd:sf:{check_id}:{index}:n"),
    ]]))


async def safety_answer(update: Update, context) -> None:
    """gd:sf:<check>:<question>:<y|n>. A "yes" ends the check (the danger-signs question with
    the danger screen); "no" to the last question passes it."""
    actor = await load_actor(update, context)
    check_id, index, answer = args(update)
    db, lang = context.db, actor.lang
    check = await guide_q.get_safety_check(db, int(check_id))
    mother = await mother_for(context, actor, check.mother_id) if check else None
    questions = context.texts.data(lang, "safety.questions")
    index = int(index)
    if check is None or mother is None or index >= len(questions):
        return await stale(update, context, lang)
    question = questions[index]
    last = index == len(questions) - 1
    outcome = question["id"] if answer == "y" else ("passed" if last else None)
    if not await guide_q.answer_safety_question(db, check.id, index, outcome, context.services.now_iso()):
        return await stale(update, context, lang, "massage.already_answered")
    await close_buttons(update, chosen_label(update))
    if answer == "y":
        await send(update, question["if_yes"])
        if question["id"] == "danger_signs":
            await send(update, danger_text(context.texts, lang))
        await send(update, context.texts.t(lang, "massage.safety_stopped"))
        return
    if not last:
        await ask_safety_question(update, context, lang, check.id, index + 1)
        return
    safety = context.texts.data(lang, "safety")
    await send(update, f"{safety['all_clear']}\n\n{safety['caesarean_note']['text']}")
    await show_hub(update, context, actor, mother)


# ----------------------------------------------------------------- the guide's menu
async def show_hub(update: Update, context, actor: Actor, mother: Mother | None, intro_key: str | None = None) -> None:
    t, data, lang = context.texts.t, context.texts.data, actor.lang
    m = mother.user_id if mother else 0
    if intro_key:
        parts = [t(lang, intro_key)]
    else:
        parts = [data(lang, "guide.title"), *_for_line(context, actor, mother), data(lang, "guide.intro.text")]
        if mother is None:
            parts.append(t(lang, "massage.browse_only"))
    rows = [[(t(lang, "massage.steps_button"), f"gd:st:{m}:0")]]
    if mother is not None:
        rows.append([(data(lang, "guide.buttons.start_timer"), f"gd:tm:{m}")])
    rows += [[(data(lang, "why.title"), "gd:info:why")],
             [(data(lang, "enough_milk.title"), "gd:info:milk")],
             [(t(lang, "danger.menu_label"), "gd:info:danger")]]
    await send(update, "\n\n".join(parts), keyboard(rows))


async def hub(update: Update, context) -> None:
    """gd:hub:<mother> (0: reading only)."""
    actor = await load_actor(update, context)
    ok, mother = await _pressed_for_mother(update, context, actor)
    if not ok:
        return await stale(update, context, actor.lang)
    await close_buttons(update)
    await show_hub(update, context, actor, mother)


# ----------------------------------------------------------------- steps
async def show_step(update: Update, context) -> None:
    """gd:st:<mother>:<i>: a new message with the step's picture; the old one loses its buttons."""
    actor = await load_actor(update, context)
    mother_arg, index_arg = args(update)
    mother_id, index = int_arg(mother_arg), int_arg(index_arg)
    lang, data, t = actor.lang, context.texts.data, context.texts.t
    steps = data(lang, "guide.steps")
    mother = await mother_for(context, actor, mother_id) if mother_id else None
    if (mother_id and mother is None) or index is None or index >= len(steps) or not actor.registered:
        return await stale(update, context, lang)
    if not first_press(update, context):
        return await stale(update, context, lang)
    await close_buttons(update)
    step, last = steps[index], index == len(steps) - 1
    buttons = data(lang, "guide.buttons")
    nav = []
    if index > 0:
        nav.append((buttons["back"], f"gd:st:{mother_id}:{index - 1}"))
    if not last:
        nav.append((buttons["next"], f"gd:st:{mother_id}:{index + 1}"))
    elif mother is not None:
        nav.append((buttons["start_timer"], f"gd:tm:{mother_id}"))
    markup = keyboard([nav, [(t(lang, "massage.repeat_button"), f"gd:st:{mother_id}:{index}"),
                             (t(lang, "massage.close_button"), f"gd:x:{mother_id}")]])
    await send_picture(context, update.effective_chat.id, step["image"], f"{step['title']}\n\n{step['text']}", markup)
    if last:
        await guide_q.mark_once(context.db, actor.user_id, "steps_finished_at", context.services.now_iso())


async def close_steps(update: Update, context) -> None:
    """gd:x:<mother>: the steps' message loses its buttons; the guide's menu comes back."""
    actor = await load_actor(update, context)
    ok, mother = await _pressed_for_mother(update, context, actor)
    if not ok:
        return await stale(update, context, actor.lang)
    await close_buttons(update)
    await show_hub(update, context, actor, mother, intro_key="massage.closed")


async def _pressed_for_mother(update: Update, context, actor):
    """(valid, mother) for a `gd:...:<mother>` button: 0 means reading only; someone else's
    mother, an unregistered user or a second press of the same button is not valid."""
    mother_id = int_arg(args(update)[0])
    mother = await mother_for(context, actor, mother_id) if mother_id else None
    valid = not (mother_id and mother is None) and actor.registered and first_press(update, context)
    return valid, mother


# ----------------------------------------------------------------- pages
async def info(update: Update, context) -> None:
    """gd:info:<why|milk|danger>. The guide's menu keeps its buttons."""
    actor = await load_actor(update, context)
    page = args(update)[0]
    await update.callback_query.answer()
    await send_page(update, context, actor.lang, page)


async def send_page(update: Update, context, lang: str, page: str) -> None:
    if page == "danger":
        await send(update, danger_text(context.texts, lang))
        return
    node = context.texts.data(lang, INFO_PAGES[page])
    await send(update, f"{node['title']}\n\n{node['text']}")


async def danger_menu(update: Update, context) -> None:
    """menu:danger: the danger screen, always one tap away."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    await send(update, danger_text(context.texts, actor.lang))
    await menu.show_menu(update, context, actor)


# ----------------------------------------------------------------- registration
def register(app: Application) -> None:
    app.add_handler(CommandHandler(COMMANDS, open_guide))
    for item in ("massage", "guide"):
        app.add_handler(CallbackQueryHandler(open_guide, pattern=rf"^menu:{item}$"))
    app.add_handler(CallbackQueryHandler(danger_menu, pattern=r"^menu:danger$"))
    app.add_handler(CallbackQueryHandler(skip_pretest, pattern=r"^gd:skip$"))
    app.add_handler(CallbackQueryHandler(mother_chosen, pattern=r"^gd:m:\d+$"))
    app.add_handler(CallbackQueryHandler(safety_answer, pattern=r"^gd:sf:\d+:\d+:[yn]$"))
    app.add_handler(CallbackQueryHandler(hub, pattern=r"^gd:hub:\d+$"))
    app.add_handler(CallbackQueryHandler(show_step, pattern=r"^gd:st:\d+:\d+$"))
    app.add_handler(CallbackQueryHandler(close_steps, pattern=r"^gd:x:\d+$"))
    app.add_handler(CallbackQueryHandler(info, pattern=r"^gd:info:(why|milk|danger)$"))
    from flows import timer  # the timer is part of the guide and uses the helpers above

    timer.register(app)
    for role in ("mother", "companion"):
        menu.add_menu_items(role, ["massage"], 0)
        menu.add_menu_items(role, ["quiz", "danger"], 1)
