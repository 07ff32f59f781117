"""Knowledge quizzes: /kuis (/quiz) and the menu item `quiz`.

A knowledge test (14 items, one at a time, buttons A/B/C) is a pre-test before the user has
been through the guide and a post-test after it (domain/quiz.py decides); its result shows
the change from her pre-test. Practice mode asks the same items as Telegram quiz polls.
Items and options are shuffled per attempt (`services.quiz_random`, seeded
by tests); answers are stored by the option's index in the content file.

    qz:new:<t|p>                    start (or go on with) a test / a practice
    qz:a:<attempt>:<item>:<shown>   answer: item position in the attempt, option as shown

Poll answers arrive as `poll_answer` updates; `quiz_poll` maps the poll to its attempt/item.
"""
from __future__ import annotations

import logging
import random

from telegram import Poll, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, PollAnswerHandler

from bot.actor import load_actor
from db.queries import care as care_q
from db.queries import guide as guide_q
from db.queries import quiz as quiz_q
from db.queries.quiz import Attempt
from domain import quiz as quiz_rules
from flows.guide import first_press, stale
from flows.ui import chosen_label, close_buttons, keyboard, send
from flows.commands import names

log = logging.getLogger(__name__)

COMMANDS = names("quiz")
ROLES = ("mother", "companion")


def _rng(context) -> random.Random:
    return context.services.quiz_random


def _items(texts, lang: str) -> dict[str, dict]:
    return {item["id"]: item for item in texts.data(lang, "quiz.items")}


# ----------------------------------------------------------------- menu and start
async def quiz_menu(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    t = context.texts.t
    if not actor.registered:
        await send(update, t(actor.lang, "onboarding.press_start"))
        return
    if actor.role not in ROLES:
        await send(update, t(actor.lang, "quiz.not_for_role"))
        return
    if await care_q.quiz_paused(context.db, actor.user_id):  # the baby has died: no quiz (care_status)
        await send(update, t(actor.lang, "care.loss.paused_quiz"))
        return
    await send(update, t(actor.lang, "quiz.menu_text"), keyboard([
        [(t(actor.lang, "quiz.start_test"), "qz:new:t")],
        [(t(actor.lang, "quiz.start_practice"), "qz:new:p")],
    ]))


async def start(update: Update, context) -> None:
    """qz:new:t (pre- or post-test) / qz:new:p (practice with polls); an unfinished attempt of
    the same kind goes on where it stopped."""
    actor = await load_actor(update, context)
    if actor.role not in ROLES or not first_press(update, context):
        return await stale(update, context, actor.lang)
    if await care_q.quiz_paused(context.db, actor.user_id):  # an old offer after the baby has died
        await close_buttons(update)
        await send(update, context.texts.t(actor.lang, "care.loss.paused_quiz"))
        return
    await close_buttons(update, chosen_label(update))
    db, t, lang = context.db, context.texts.t, actor.lang
    if update.callback_query.data.endswith(":p"):
        kind = "practice"
    else:
        kind = quiz_rules.knowledge_test_kind(await guide_q.guide_completed(db, actor.user_id))
    attempt = await quiz_q.open_attempt(db, actor.user_id, kind)
    if attempt is not None:
        await send(update, t(lang, "quiz.resumed"))
    else:
        shuffled = quiz_rules.shuffle(context.texts.data(lang, "quiz.items"), _rng(context))
        attempt_id = await quiz_q.create_attempt(db, actor.user_id, kind, lang, shuffled.item_ids,
                                                 shuffled.option_orders, context.services.now_iso())
        attempt = await quiz_q.get_attempt(db, attempt_id)
        await send(update, context.texts.data(lang, f"quiz.intro_{kind}"))
    position = await quiz_q.answered_count(db, attempt.id)
    await ask(context, update.effective_chat.id, lang, attempt, position)


async def ask(context, chat_id: int, lang: str, attempt: Attempt, position: int) -> None:
    """The item at `position`: a message with buttons, or a quiz poll in practice mode."""
    if position >= attempt.total:
        await finish(context, chat_id, lang, attempt)
        return
    item = _items(context.texts, lang)[attempt.item_ids[position]]
    order = attempt.option_orders[position]
    if attempt.kind == "practice":
        message = await context.bot.send_poll(
            chat_id, item["question"], [item["options"][i] for i in order], is_anonymous=False,
            type=Poll.QUIZ, correct_option_ids=[quiz_rules.shown_index(order, item["correct"])],
            explanation=item["explanation"])
        await quiz_q.map_poll(context.db, message.poll.id, attempt.id, position, chat_id, message.message_id,
                              context.services.now_iso())
        return
    letters = context.texts.data(lang, "quiz.option_letters")
    options = "\n".join(f"{letters[shown]}. {item['options'][index]}" for shown, index in enumerate(order))
    text = context.texts.t(lang, "quiz.question", n=position + 1, total=attempt.total, question=item["question"],
                           options=options)
    await context.bot.send_message(chat_id, text, reply_markup=keyboard(
        [[(letters[shown], f"qz:a:{attempt.id}:{position}:{shown}") for shown in range(len(order))]]))


# ----------------------------------------------------------------- answers
async def answer(update: Update, context) -> None:
    """qz:a:<attempt>:<item>:<shown>. Only the question being asked now takes an answer: a
    double tap or an old button stores nothing and skips nothing."""
    actor = await load_actor(update, context)
    attempt_id, position, shown = (int(part) for part in update.callback_query.data.split(":")[2:])
    db, lang = context.db, actor.lang
    attempt = await quiz_q.get_attempt(db, attempt_id)
    if attempt is None or attempt.user_id != actor.user_id or attempt.kind == "practice":
        return await stale(update, context, lang)
    if position >= attempt.total or quiz_rules.content_index(attempt.option_orders[position], shown) is None:
        return await stale(update, context, lang)
    item = _items(context.texts, lang)[attempt.item_ids[position]]
    chosen = quiz_rules.content_index(attempt.option_orders[position], shown)
    correct = chosen == item["correct"]
    if not await quiz_q.record_answer(db, attempt, position, chosen, correct, context.services.now_iso()):
        return await stale(update, context, lang, "quiz.already_answered")
    t = context.texts.t
    await close_buttons(update, t(lang, "quiz.your_answer", letter=chosen_label(update) or ""))
    verdict = context.texts.data(lang, "quiz.correct" if correct else "quiz.wrong")
    await send(update, f"{verdict} {item['explanation']}")
    await ask(context, update.effective_chat.id, lang, attempt, position + 1)


async def poll_answer(update: Update, context) -> None:
    """A vote in a practice poll: store it (once), then the next poll or the result."""
    vote = update.poll_answer
    target = await quiz_q.poll_target(context.db, vote.poll_id)
    if target is None or not vote.option_ids or vote.user is None:
        return  # not our poll, or a vote taken back
    attempt = await quiz_q.get_attempt(context.db, target.attempt_id)
    if attempt is None or attempt.user_id != vote.user.id or target.position >= attempt.total:
        return
    actor = await load_actor(update, context)
    order = attempt.option_orders[target.position]
    chosen = quiz_rules.content_index(order, vote.option_ids[0])
    if chosen is None:
        return
    item = _items(context.texts, actor.lang)[attempt.item_ids[target.position]]
    if not await quiz_q.record_answer(context.db, attempt, target.position, chosen, chosen == item["correct"],
                                      context.services.now_iso()):
        return
    await ask(context, target.chat_id, actor.lang, attempt, target.position + 1)


async def finish(context, chat_id: int, lang: str, attempt: Attempt) -> None:
    """Score 0-100; after a post-test also the change from her latest pre-test."""
    db, t = context.db, context.texts.t
    score = quiz_rules.score(await quiz_q.correct_count(db, attempt.id), attempt.total)
    if not await quiz_q.finish_attempt(db, attempt.id, score, context.services.now_iso()):
        return
    text = t(lang, "quiz.result", score=score)
    if attempt.kind == "post":
        before = await quiz_q.latest_score(db, attempt.user_id, "pre", before_id=attempt.id)
        if before is not None:
            text += "\n\n" + t(lang, "quiz.change", pre=before, post=score)
    markup = keyboard([[(t(lang, "quiz.to_guide"), "menu:guide")]]) if attempt.kind == "pre" else None
    await context.bot.send_message(chat_id, text, reply_markup=markup)


# ----------------------------------------------------------------- registration
def register(app: Application) -> None:
    app.add_handler(CommandHandler(COMMANDS, quiz_menu))
    app.add_handler(CallbackQueryHandler(quiz_menu, pattern=r"^menu:quiz$"))
    app.add_handler(CallbackQueryHandler(start, pattern=r"^qz:new:[tp]$"))
    app.add_handler(CallbackQueryHandler(answer, pattern=r"^qz:a:\d+:\d+:\d+$"))
    app.add_handler(PollAnswerHandler(poll_answer))
