"""Knowledge quizzes: pre-test, post-test with the change, practice polls; and the plain rules."""
from __future__ import annotations

import json
import random


from domain import quiz as rules
from tests.test_guide import open_guide, pass_safety
from tests.test_onboarding import register_mother

ITEMS = 14


def content_items(driver, lang="id"):
    return {item["id"]: item for item in driver.app.services.texts.data(lang, "quiz.items")}


async def attempt_row(driver, attempt_id=None):
    db = driver.app.services.db
    if attempt_id is None:
        return await db.fetchone("SELECT * FROM quiz_attempt ORDER BY id DESC LIMIT 1")
    return await db.fetchone("SELECT * FROM quiz_attempt WHERE id = ?", (attempt_id,))


async def shown_answer(driver, attempt_id: int, position: int, right: bool) -> int:
    """The option to press (as shown) for a right or a wrong answer."""
    row = await attempt_row(driver, attempt_id)
    item = content_items(driver)[json.loads(row["item_order"])[position]]
    order = json.loads(row["option_order"])[position]
    correct = rules.shown_index(order, item["correct"])
    return correct if right else (correct + 1) % len(order)


async def answer_test(driver, person, right: int):
    """Answer every question of the current test: the first `right` correctly."""
    row = await attempt_row(driver)
    replies = []
    for position in range(ITEMS):
        shown = await shown_answer(driver, row["id"], position, position < right)
        replies = await person.press(f"qz:a:{row['id']}:{position}:{shown}")
    return row["id"], replies


# ----------------------------------------------------------------- plain rules
def test_scores_round_half_up():
    assert [rules.score(n, 14) for n in (0, 1, 7, 8, 12, 14)] == [0, 7, 50, 57, 86, 100]
    assert rules.score(0, 0) == 0


def test_shuffle_is_seeded_and_maps_back():
    items = [{"id": f"i{n}", "options": ["a", "b", "c"], "correct": n % 3} for n in range(14)]
    first = rules.shuffle(items, random.Random(5))
    assert first == rules.shuffle(items, random.Random(5))
    assert sorted(first.item_ids) == sorted(i["id"] for i in items)
    assert first.item_ids != [i["id"] for i in items]
    for order in first.option_orders:
        assert sorted(order) == [0, 1, 2]
        for shown in range(3):
            assert rules.shown_index(order, rules.content_index(order, shown)) == shown
    assert rules.content_index([2, 0, 1], 3) is None
    assert rules.knowledge_test_kind(False) == "pre" and rules.knowledge_test_kind(True) == "post"


# ----------------------------------------------------------------- end to end
async def test_pretest_then_guide_then_posttest_shows_the_change(driver):
    db = driver.app.services.db
    driver.app.services.quiz_random = random.Random(3)
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/pijat")
    replies = await sari.press("qz:new:t")  # from the pre-test offer
    assert replies[0].body == driver.app.services.texts.data("id", "quiz.intro_pre")
    first = replies[-1]
    assert first.body.startswith("Pertanyaan 1 dari 14")
    assert [b["text"] for b in first.buttons] == ["A", "B", "C"]
    row = await attempt_row(driver)
    assert row["kind"] == "pre" and len(json.loads(row["item_order"])) == ITEMS
    # the order is shuffled: the first question is the content's item at the shuffled position
    item = content_items(driver)[json.loads(row["item_order"])[0]]
    assert item["question"] in first.body

    # a double tap on the first answer: one answer stored, one next question, nothing skipped
    shown = await shown_answer(driver, row["id"], 0, right=True)
    data = f"qz:a:{row['id']}:0:{shown}"
    replies = await sari.press_data(first, data)
    assert replies[0].body.startswith("Benar!") and item["explanation"] in replies[0].body
    assert replies[1].body.startswith("Pertanyaan 2 dari 14")
    assert await sari.press_data(first, data) == []
    assert sari.callback_answers()[-1]["text"] == "Pertanyaan ini sudah dijawab."
    assert await db.fetchval("SELECT COUNT(*) FROM quiz_answer") == 1
    # an answer to a question not asked yet: refused too
    assert await sari.press_data(first, f"qz:a:{row['id']}:5:0") == []
    assert await db.fetchval("SELECT COUNT(*) FROM quiz_answer") == 1
    assert "➜ Jawaban Anda: " + "ABC"[shown] in first.body

    # the rest: 7 more right (8 of 14), the others wrong
    for position in range(1, ITEMS):
        shown = await shown_answer(driver, row["id"], position, position < 8)
        replies = await sari.press(f"qz:a:{row['id']}:{position}:{shown}")
        assert replies[0].body.startswith("Benar!" if position < 8 else "Belum tepat.")
    assert replies[-1].body == "Skor Anda: 57 dari 100."
    assert tuple(await db.fetchone("SELECT kind, score FROM quiz_attempt WHERE id = ?", (row["id"],))) == ("pre", 57)
    answers = await db.fetchall("SELECT item_id, chosen, correct FROM quiz_answer WHERE attempt_id = ?", (row["id"],))
    assert len(answers) == ITEMS and sum(a["correct"] for a in answers) == 8
    items = content_items(driver)
    assert all((a["chosen"] == items[a["item_id"]]["correct"]) == bool(a["correct"]) for a in answers)

    # on to the guide: no second offer, then the steps to the end
    replies = await sari.press("Lanjut ke panduan")
    assert "Pertanyaan 1 dari 8" in replies[-1].body
    await pass_safety(sari)
    await sari.press("gd:st:1001:0")
    for _ in range(6):
        await sari.press("Lanjut")

    # now the test is a post-test, with the change from the pre-test
    await sari.send("/kuis")
    replies = await sari.press("qz:new:t")
    assert replies[0].body == driver.app.services.texts.data("id", "quiz.intro_post")
    post_id, replies = await answer_test(driver, sari, right=12)
    assert (await attempt_row(driver, post_id))["kind"] == "post"
    assert replies[-1].body == ("Skor Anda: 86 dari 100.\n\n"
                                "Skor pengetahuan Anda berubah dari 57 menjadi 86. Terima kasih sudah belajar!")
    # the order differs between attempts
    pre_order = json.loads((await attempt_row(driver, row["id"]))["item_order"])
    assert json.loads((await attempt_row(driver, post_id))["item_order"]) != pre_order


async def test_unfinished_test_goes_on_after_a_restart(driver):
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/kuis")
    await sari.press("qz:new:t")
    row = await attempt_row(driver)
    for position in range(3):
        shown = await shown_answer(driver, row["id"], position, True)
        await sari.press(f"qz:a:{row['id']}:{position}:{shown}")
    question4 = sari.last
    await driver.restart(graceful=False)
    shown = await shown_answer(driver, row["id"], 3, False)
    replies = await sari.press_data(question4, f"qz:a:{row['id']}:3:{shown}")
    assert replies[0].body.startswith("Belum tepat.") and "Pertanyaan 5 dari 14" in replies[1].body
    # starting again continues the same attempt at question 5
    await sari.send("/kuis")
    replies = await sari.press("qz:new:t")
    assert "Melanjutkan" in replies[0].body and "Pertanyaan 5 dari 14" in replies[1].body
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM quiz_attempt") == 1


async def test_practice_with_quiz_polls(driver):
    db = driver.app.services.db
    driver.app.services.quiz_random = random.Random(11)
    sari = await register_mother(driver, 1001, "Sari")
    await sari.send("/quiz")
    replies = await sari.press("qz:new:p")
    assert replies[0].body == driver.app.services.texts.data("id", "quiz.intro_practice")
    poll_message = replies[-1]
    assert poll_message.kind == "poll"
    row = await attempt_row(driver)
    assert row["kind"] == "practice"
    order = json.loads(row["option_order"])[0]
    item = content_items(driver)[json.loads(row["item_order"])[0]]
    poll = poll_message.poll
    assert poll["type"] == "quiz" and poll["is_anonymous"] is False
    assert poll["question"] == item["question"]
    assert [o["text"] for o in poll["options"]] == [item["options"][i] for i in order]
    assert poll["correct_option_ids"] == [rules.shown_index(order, item["correct"])]
    sent = [p for m, p in driver.server.requests if m == "sendPoll"][-1]
    assert sent["explanation"] == item["explanation"]

    # answered right: stored, and the next poll comes
    replies = await sari.answer_poll(poll["id"], poll["correct_option_ids"])
    assert len(replies) == 1 and replies[0].kind == "poll"
    assert tuple(await db.fetchone("SELECT item_id, chosen, correct FROM quiz_answer")) == (
        item["id"], item["correct"], 1)
    # the same poll again, and a stranger's vote: nothing stored, no extra poll
    assert await sari.answer_poll(poll["id"], [0]) == []
    other = driver.user(1002, "Ani")
    assert await other.answer_poll(replies[0].poll["id"], [0]) == []
    assert await sari.answer_poll("P999", [0]) == []
    assert await db.fetchval("SELECT COUNT(*) FROM quiz_answer") == 1

    # the rest, always the first option; the result at the end
    for _ in range(ITEMS - 1):
        replies = await sari.answer_poll(sari.last.poll["id"], [0])
    assert replies[-1].body.startswith("Skor Anda:")
    finished = await attempt_row(driver)
    assert finished["finished_at"] is not None and finished["score"] is not None
    assert await db.fetchval("SELECT COUNT(*) FROM quiz_answer") == ITEMS


async def test_quiz_for_companions_not_for_midwives(driver):
    from db.queries import clinics
    from tests.test_account import link_companion

    sari = await register_mother(driver, 1001, "Sari")
    budi = await link_companion(driver, sari)
    await budi.send("/menu")
    replies = await budi.press("menu:quiz")
    assert any(b["callback_data"] == "qz:new:t" for b in replies[0].buttons)
    _, code = await clinics.create_clinic(driver.app.services.db, "Puskesmas", "Asia/Jakarta", "2026-11-30T00:00:00Z")
    rina = driver.user(3001, "Rina")
    await rina.send(f"/start w_{code}")
    await rina.press("ob:consent:yes")
    replies = await rina.send("/kuis")
    assert "untuk ibu dan pendamping" in replies[0].body
    # a companion's forged answer to the mother's attempt is refused
    await sari.send("/kuis")
    await sari.press("qz:new:t")
    question = sari.last
    row = await attempt_row(driver)
    assert await budi.press_data(question, f"qz:a:{row['id']}:0:0") == []
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM quiz_answer") == 0


async def test_pretest_offer_is_skippable_and_shown_once(driver):
    sari = await register_mother(driver, 1001, "Sari")
    replies = await open_guide(sari, skip_pretest=False)
    assert [b["callback_data"] for b in replies[-1].buttons] == ["qz:new:t", "gd:skip"]
    replies = await sari.press("gd:skip")
    assert "Pertanyaan 1 dari 8" in replies[-1].body
    replies = await sari.send("/pijat")
    assert not any(b["callback_data"] == "gd:skip" for m in replies for b in m.buttons)
    assert not await driver.app.services.db.fetchval("SELECT COUNT(*) FROM quiz_attempt")
