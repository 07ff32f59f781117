"""The oxytocin-massage guide: /pijat (/massage), the menu items `massage` and `guide`.

    entry ─▶ (pre-test offer, once per user) ─▶ (which mother?, companions of several)
          ─▶ FULL safety check (the first time, and again 7 days after the last one) ─▶ the guide's menu (hub)
    hub ─▶ steps 1..7 (picture + caption; back / next / repeat / close)
        ─▶ timer (flows/timer.py) · why it helps · enough milk? · danger signs
    timer / a reminder's "start" (menu:guide on a reminder) ─▶ a check before EVERY massage (the full one when
          due, else the SHORT one: danger signs now, fever, calf) ─▶ how many minutes

A "yes" to a danger sign, fever or calf pain raises an urgent alert (usecases/alerts.py): her
midwives, her companions and (when a companion answered) she herself are told, and she is "on
hold" (db.queries.alerts.on_hold) until a midwife closes it or she confirms she has been seen:
the timer refuses to start meanwhile (the steps can still be read), with a "Sudah diperiksa"
button (gd:seen). The danger screen carries her clinic's numbers and 112 / 119, and for a
mother or companion a button "Ada tanda ini sekarang" (gd:now) that raises the alert.

Every button carries what it needs (`gd:<action>:<args>`) and is checked against the
database, so buttons keep working after a restart and a forged or stale one gets a short
answer. No ConversationHandler: the guide never waits for typed text, so it never catches
text meant for another flow. Callback data:

    gd:skip                      skip the pre-test offer, go on to the guide
    gd:m:<mother>                a companion chose the mother
    gd:sf:<check>:<q>:<y|n>[:t]  answer to safety question q of that check (t: then the timer)
    gd:now:<mother>              "one of these signs now" on the danger screen: urgent alert
    gd:seen:<mother>             "Sudah diperiksa": she has been examined, the hold ends
    gd:no:<mother>               "Belum" (not yet seen): the numbers to call again
    gd:hub:<mother>              the guide's menu (mother 0: reading only)
    gd:st:<mother>:<i>           show step i (next, back and repeat all say which step)
    gd:x:<mother>                close the steps
    gd:info:<why|milk|danger>    a page
"""
from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.actor import Actor, load_actor
from bot.clock import iso
from db.queries import alerts as alerts_q
from db.queries import care
from db.queries import guide as guide_q
from db.queries import quiz as quiz_q
from db.queries.mothers import Mother
from domain.age import day_of_life
from domain.alerts import Cause
from flows import menu, voice
from usecases import alerts as alert_cases
from usecases.contacts import contact_block_for_mother
from flows.media import send_picture
from flows.ui import chosen_label, close_buttons, keyboard, send
from flows.commands import names

log = logging.getLogger(__name__)

COMMANDS = names("massage")
DANGER_GROUPS = ("mother_now", "mother_soon", "baby_now", "baby_soon")
INFO_PAGES = {"why": "why", "milk": "enough_milk"}
FULL_CHECK_EVERY = timedelta(days=7)   # the full check again a week after the last one
FRESH_CHECK = timedelta(minutes=30)    # a passed check counts for a massage started within this
# safety questions whose "yes" is a go-now danger sign: the alert's detail (alerting.sources)
ALERTING_QUESTIONS = {"danger_signs": "safety_check", "danger_now": "safety_check",
                      "fever": "fever", "calf_clot": "calf", "calf": "calf"}


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


def danger_text(texts, lang: str, contacts: str | None = None) -> str:
    """The danger screen as one message: title, four groups of bullets, mastitis, what to do,
    and whom to call (her clinic's numbers and 112 / 119; `None`: the generic lines)."""
    danger = texts.data(lang, "danger")
    parts = [danger["title"]]
    for group in DANGER_GROUPS:
        bullets = "\n".join(f"• {item}" for item in danger[group])
        parts.append(f"{danger['headings'][group]}\n{bullets}")
    parts += [danger["mastitis"], danger["what_to_do"], contacts or generic_contacts(texts, lang)]
    return "\n\n".join(parts)


def generic_contacts(texts, lang: str) -> str:
    """For someone without a mother (a midwife, a guest): no clinic of hers to name."""
    return f"{texts.t(lang, 'massage.contacts_generic')}\n{texts.t(lang, 'contacts.emergency')}"


async def contacts_for(context, actor: Actor, mother: Mother | None = None) -> str:
    """Whom to call: her clinic and 112 / 119; for a companion of several mothers, each one's
    clinic (each line once); the generic lines for anyone else."""
    db, texts, lang = context.db, context.texts, actor.lang
    if mother is not None:
        return await contact_block_for_mother(db, texts, lang, mother.user_id)
    mothers = await guide_q.mothers_of(db, actor.user_id, actor.role) if actor.registered else []
    if not mothers:
        return generic_contacts(texts, lang)
    lines: list[str] = []
    for choice in mothers:
        for line in (await contact_block_for_mother(db, texts, lang, choice.mother_id)).split("\n"):
            if line not in lines:
                lines.append(line)
    emergency = texts.t(lang, "contacts.emergency")
    if emergency in lines:  # the emergency numbers last, as in every block
        lines.remove(emergency)
        lines.append(emergency)
    return "\n".join(lines)


async def mother_for(context, actor: Actor, mother_id: int | None) -> Mother | None:
    if mother_id is None:
        return None
    return await guide_q.accessible_mother(context.db, actor.user_id, actor.role, mother_id)


# ----------------------------------------------------------------- entry
async def open_guide(update: Update, context) -> None:
    """/pijat, menu:massage and menu:guide (the reminders' button: straight to a massage, so
    through the check before every massage)."""
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
    to_timer = from_reminder(update)
    if to_timer:
        context.user_data["guide_then"] = "t"
    else:
        context.user_data.pop("guide_then", None)
    if not to_timer and await offer_pretest(update, context, actor):
        return
    await choose_mother(update, context, actor)


def from_reminder(update: Update) -> bool:
    """`menu:guide` pressed on a reminder (its other buttons are `rem:...`): a massage now. The
    same button elsewhere (after the pre-test) only opens the guide."""
    query = update.callback_query
    if query is None or query.data != "menu:guide" or query.message is None:
        return False
    markup = query.message.reply_markup
    rows = markup.inline_keyboard if markup is not None else ()
    return any((button.callback_data or "").startswith("rem:") for row in rows for button in row)


async def offer_pretest(update: Update, context, actor: Actor) -> bool:
    """Before her first guide, once: a knowledge test, which she may skip."""
    db, user_id = context.db, actor.user_id
    if (await quiz_q.has_attempt(db, user_id, "pre") or await guide_q.guide_completed(db, user_id)
            or await care.quiz_paused(db, user_id)):
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
    if context.user_data.pop("guide_then", None) == "t":  # a reminder's "start": a massage now
        from flows.timer import before_massage  # the timer builds on this module

        await before_massage(update, context, actor, mother)
        return
    if await alerts_q.on_hold(context.db, mother.user_id):
        await show_hub(update, context, actor, mother)  # the steps may be read; the timer says why not
    elif await full_check_due(context, mother):
        await start_safety_check(update, context, actor, mother, "full", then="h")
    else:
        await show_hub(update, context, actor, mother)


async def full_check_due(context, mother: Mother) -> bool:
    """The full check: the first time, and again when 7 days have passed since the last one."""
    last = await guide_q.full_check_passed_at(context.db, mother.user_id)
    return last is None or last <= iso(context.clock.now() - FULL_CHECK_EVERY)


# ----------------------------------------------------------------- safety check
def _for_line(context, actor: Actor, mother: Mother | None) -> list[str]:
    if actor.role == "companion" and mother is not None:
        return [context.texts.t(actor.lang, "massage.for_mother", mother=mother.display_name)]
    return []


def _questions(texts, lang: str, kind: str) -> list[dict]:
    return texts.data(lang, "safety.short.questions" if kind == "short" else "safety.questions")


async def start_safety_check(update: Update, context, actor: Actor, mother: Mother, kind: str = "full",
                             then: str = "h") -> None:
    """`kind` full (every caution) or short (three quick questions); `then` h: the guide's menu
    after it, t: the timer's minutes."""
    db, data = context.db, context.texts.data
    check_id = await guide_q.start_safety_check(db, mother.user_id, actor.user_id, context.services.now_iso(), kind,
                                                update_id=update.update_id)  # once per update
    safety = data(actor.lang, "safety")
    if kind == "short":
        parts = [safety["short"]["title"], *_for_line(context, actor, mother), safety["short"]["intro"]]
    else:
        parts = [safety["title"], *_for_line(context, actor, mother), safety["intro"],
                 safety["pregnancy_note"]["text"]]
    await send(update, "\n\n".join(parts))
    await ask_safety_question(update, context, actor.lang, check_id, 0, kind, then)


async def ask_safety_question(update: Update, context, lang: str, check_id: int, index: int, kind: str = "full",
                              then: str = "h") -> None:
    safety = context.texts.data(lang, "safety")
    questions = _questions(context.texts, lang, kind)
    text = context.texts.t(lang, "massage.safety_question", n=index + 1, total=len(questions),
                           question=questions[index]["text"])
    suffix = ":t" if then == "t" else ""
    await send(update, text, keyboard([[
        (safety["buttons"]["yes"], f"gd:sf:{check_id}:{index}:y{suffix}"),
        (safety["buttons"]["no"], f"gd:sf:{check_id}:{index}:n{suffix}"),
    ]]))


async def safety_answer(update: Update, context) -> None:
    """gd:sf:<check>:<question>:<y|n>[:t]. A "yes" ends the check: a danger sign, fever or calf
    pain raises an urgent alert and shows the danger screen; "no" to the last question passes it
    (then the guide's menu, or with `t` the timer)."""
    actor = await load_actor(update, context)
    check_id, index, answer, *rest = args(update)
    then = "t" if rest == ["t"] else "h"
    db, lang = context.db, actor.lang
    check = await guide_q.get_safety_check(db, int(check_id))
    mother = await mother_for(context, actor, check.mother_id) if check else None
    questions = _questions(context.texts, lang, check.kind) if check else []
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
        detail = ALERTING_QUESTIONS.get(question["id"])
        if detail is None:  # a caution, not a danger sign: wait, ask the midwife
            await send(update, question["if_yes"])
            await send(update, context.texts.t(lang, "massage.safety_stopped"))
            return
        if_yes = context.texts.data(lang, "safety.short.if_yes") if check.kind == "short" else question["if_yes"]
        await send(update, if_yes)
        raised = await raise_danger(context, actor, mother, detail)
        contacts = await contacts_for(context, actor, mother)
        await send(update, danger_text(context.texts, lang, contacts))
        await voice.send_step_voice(context, update.effective_chat.id, mother.user_id, "danger", lang)
        await send(update, told_text(context, lang, raised, mother))
        return
    if not last:
        await ask_safety_question(update, context, lang, check.id, index + 1, check.kind, then)
        return
    safety = context.texts.data(lang, "safety")
    if check.kind == "full":
        await send(update, f"{safety['all_clear']}\n\n{safety['caesarean_note']['text']}")
    if then == "t":
        from flows.timer import ask_minutes  # the timer builds on this module

        await ask_minutes(update, context, actor, mother, intro=safety["all_clear"] if check.kind == "short" else None)
        return
    await show_hub(update, context, actor, mother)


# ----------------------------------------------------------------- danger now, hold, seen
async def raise_danger(context, actor: Actor, mother: Mother, detail: str):
    """An urgent danger-sign alert for her, raised by whoever answered (she or a companion)."""
    now = context.clock.now()
    return await alert_cases.raise_alert(context.services.deps, mother, Cause("danger_sign", detail, urgency="urgent"),
                             raised_by=actor.user_id, now=now, day=day_of_life(mother, now))


def told_text(context, lang: str, raised, mother: Mother) -> str:
    """What happens next, after a danger sign was reported: who knows, and that the massage waits."""
    t = context.texts.t
    if raised.alert is None:
        head = t(lang, "massage.alert_open_already")
    elif raised.told:
        head = t(lang, "massage.alert_told")
    else:
        head = t(lang, "massage.alert_not_told")
    return f"{head}\n{t(lang, 'massage.hold_after_alert', mother=mother.display_name)}"


def seen_row(context, lang: str, mother_id: int) -> list:
    return [(context.texts.t(lang, "massage.seen_button"), f"gd:seen:{mother_id}")]


async def show_hold(update: Update, context, actor: Actor, mother: Mother) -> None:
    """The massage waits until she has been seen: why, whom to call, and "Sudah diperiksa"."""
    contacts = await contacts_for(context, actor, mother)
    await send(update, context.texts.t(actor.lang, "massage.hold", mother=mother.display_name, contacts=contacts),
               keyboard([seen_row(context, actor.lang, mother.user_id)]))


def danger_now_rows(context, lang: str, mothers: list) -> list:
    """The danger screen's "one of these now" button, one per mother (a companion of several)."""
    t = context.texts.t
    if len(mothers) == 1:
        return [[(t(lang, "massage.danger_now_button"), f"gd:now:{mothers[0].mother_id}")]]
    return [[(t(lang, "massage.danger_now_button_for", mother=m.name), f"gd:now:{m.mother_id}")] for m in mothers]


async def danger_screen(update: Update, context, actor: Actor) -> None:
    """The danger screen with whom to call, and for a mother or companion the button to report."""
    lang = actor.lang
    mothers = await guide_q.mothers_of(context.db, actor.user_id, actor.role) if actor.registered else []
    text = danger_text(context.texts, lang, await contacts_for(context, actor))
    await send(update, text, keyboard(danger_now_rows(context, lang, mothers)) if mothers else None)
    await voice.send_step_voice(context, update.effective_chat.id, [m.mother_id for m in mothers], "danger", lang)


async def danger_now(update: Update, context) -> None:
    """gd:now:<mother>: one of the danger signs now. The urgent alert goes out (her midwives, her
    companions, and she herself when a companion pressed it); the presser learns what happens next."""
    actor = await load_actor(update, context)
    mother = await mother_for(context, actor, int_arg(args(update)[0]))
    if mother is None or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update, chosen_label(update))
    raised = await raise_danger(context, actor, mother, "danger_screen")
    contacts = await contacts_for(context, actor, mother)
    t = context.texts.t
    await send(update, f"{t(actor.lang, 'massage.danger_now_next')}\n\n{told_text(context, actor.lang, raised, mother)}"
                       f"\n\n{contacts}")


async def seen_pressed(update: Update, context) -> None:
    """gd:seen:<mother>: she has been examined (she or her companion says so): her urgent alerts
    close as 'seen', the timer and her reminders are back (from the next slot)."""
    actor = await load_actor(update, context)
    mother = await mother_for(context, actor, int_arg(args(update)[0]))
    if mother is None or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update, chosen_label(update))
    closed = await alerts_q.confirm_seen(context.db, mother.user_id, context.clock.now())
    t, lang = context.texts.t, actor.lang
    if closed:
        log.info("hold ended: seen (%d urgent alerts closed)", closed)
    await send(update, t(lang, "massage.seen_done" if closed else "massage.seen_nothing"), keyboard([
        [(context.texts.data(lang, "guide.buttons.start_timer"), f"gd:tm:{mother.user_id}")]]))


async def not_yet_pressed(update: Update, context) -> None:
    """gd:no:<mother>: not seen yet: go now, whom to call; "Sudah diperiksa" stays at hand."""
    actor = await load_actor(update, context)
    mother = await mother_for(context, actor, int_arg(args(update)[0]))
    if mother is None or not first_press(update, context):
        return await stale(update, context, actor.lang)
    await close_buttons(update, chosen_label(update))
    contacts = await contacts_for(context, actor, mother)
    await send(update, context.texts.t(actor.lang, "massage.not_yet", contacts=contacts),
               keyboard([seen_row(context, actor.lang, mother.user_id)]))


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
        elif await alerts_q.on_hold(context.db, mother.user_id):
            parts.append(t(lang, "massage.hold_note"))
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
    await voice.send_step_voice(context, update.effective_chat.id, mother_id, step["id"], lang)  # her clinic's midwife
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
    if page == "danger":
        await danger_screen(update, context, actor)
        return
    await send_page(update, context, actor.lang, page)


async def send_page(update: Update, context, lang: str, page: str) -> None:
    node = context.texts.data(lang, INFO_PAGES[page])
    await send(update, f"{node['title']}\n\n{node['text']}")


async def danger_menu(update: Update, context) -> None:
    """menu:danger: the danger screen, always one tap away."""
    actor = await load_actor(update, context)
    await close_buttons(update)
    await danger_screen(update, context, actor)
    await menu.show_menu(update, context, actor)


# ----------------------------------------------------------------- registration
def register(app: Application) -> None:
    app.add_handler(CommandHandler(COMMANDS, open_guide))
    for item in ("massage", "guide"):
        app.add_handler(CallbackQueryHandler(open_guide, pattern=rf"^menu:{item}$"))
    app.add_handler(CallbackQueryHandler(danger_menu, pattern=r"^menu:danger$"))
    app.add_handler(CallbackQueryHandler(skip_pretest, pattern=r"^gd:skip$"))
    app.add_handler(CallbackQueryHandler(mother_chosen, pattern=r"^gd:m:\d+$"))
    app.add_handler(CallbackQueryHandler(safety_answer, pattern=r"^gd:sf:\d+:\d+:[yn](:t)?$"))
    app.add_handler(CallbackQueryHandler(danger_now, pattern=r"^gd:now:\d+$"))
    app.add_handler(CallbackQueryHandler(seen_pressed, pattern=r"^gd:seen:\d+$"))
    app.add_handler(CallbackQueryHandler(not_yet_pressed, pattern=r"^gd:no:\d+$"))
    app.add_handler(CallbackQueryHandler(hub, pattern=r"^gd:hub:\d+$"))
    app.add_handler(CallbackQueryHandler(show_step, pattern=r"^gd:st:\d+:\d+$"))
    app.add_handler(CallbackQueryHandler(close_steps, pattern=r"^gd:x:\d+$"))
    app.add_handler(CallbackQueryHandler(info, pattern=r"^gd:info:(why|milk|danger)$"))
    from flows import timer  # the timer is part of the guide and uses the helpers above

    timer.register(app)
    for role in ("mother", "companion"):
        menu.add_menu_items(role, ["massage"], 0)
        menu.add_menu_items(role, ["quiz", "danger"], 1)
