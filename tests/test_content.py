"""Checks on the content files in flows/content/<lang>/ (texts, guide, safety, quiz).

Plain YAML checks: no bot code is imported. They make sure both languages have the same shape,
every text fits Telegram's limits, every medical statement names a source that exists in the
clinical facts file, every picture exists, and placeholders match between languages.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "flows" / "content"
IMAGES = CONTENT / "images"
LANGUAGES = ("id", "en")
FACTS = REPO.parent / "shared" / "content-facts.md"

# Copy of the source keys listed under "## Sources" in ../shared/content-facts.md, so that the
# test still works where that file is missing. When the file exists, both must agree.
SOURCE_KEYS = frozenset({
    "WHO-MC", "PCPNC", "HEAT", "SOP", "Alfiani", "Kompas", "Massage-CI", "Rofiah",
    "SAP-nifas", "HSE", "Kecukupan", "WHO-rec", "Colostrum", "McNeilly", "databoks", "Nuampa", "Lactation-loss",
})

# Telegram Bot API limits (counted in UTF-16 code units).
MESSAGE_MAX = 4096
CAPTION_MAX = 1024
STEP_CAPTION_BUDGET = 1000          # title + text of a guide step, leaving room under 1024
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
POLL_EXPLANATION_MAX = 200
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 12
LONG_TEXT_BUDGET = 3500             # why / enough_milk

# Keys whose values are the same in every language (ids, picture names, sources), and the
# answer index of quiz items (`quiz.correct` itself is a text: "Benar!").
LANGUAGE_NEUTRAL_KEYS = ("id", "image", "source")

SAFETY_QUESTION_IDS = {
    "danger_signs", "fever", "back_skin", "fracture", "calf_clot", "bleeding_risk",
    "back_surgery", "back_pain",
}
DANGER_GROUPS = ("mother_now", "mother_soon", "baby_now", "baby_soon")
OWN_FILES = ("guide.yaml", "quiz.yaml")


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def load_files(lang: str) -> dict[str, Any]:
    folder = CONTENT / lang
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        for p in sorted(folder.glob("*.yaml"))
    }


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, Any]]:
    return {lang: load_files(lang) for lang in LANGUAGES}


@pytest.fixture(scope="module")
def trees(files) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for lang, by_name in files.items():
        tree: dict[str, Any] = {}
        for name, part in by_name.items():
            assert isinstance(part, dict), f"{lang}/{name}: top level must be a mapping"
            clash = set(part) & set(tree)
            assert not clash, f"{lang}/{name} redefines top-level keys {sorted(clash)}"
            tree.update(part)
        result[lang] = tree
    return result


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, value) for every node; list items are addressed by id when they have one."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            label = value["id"] if isinstance(value, dict) and "id" in value else index
            yield from walk(value, f"{path}[{label}]")


def strings(tree: Any) -> Iterator[tuple[str, str]]:
    for path, value in walk(tree):
        if isinstance(value, str):
            yield path, value


def placeholders(text: str) -> set[str]:
    names = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(field)
    return names


def source_keys_in_facts(text: str) -> set[str]:
    section = text.split("## Sources", 1)[1]
    return set(re.findall(r"^\[([^\]]+)\]", section, flags=re.MULTILINE))


def known_source_keys() -> frozenset[str]:
    if FACTS.exists():
        return frozenset(source_keys_in_facts(FACTS.read_text(encoding="utf-8")))
    return SOURCE_KEYS


# --- both languages ---------------------------------------------------------------------------

def test_languages_have_content_files(files):
    for lang in LANGUAGES:
        for name in OWN_FILES:
            assert name in files[lang], f"missing flows/content/{lang}/{name}"
    assert set(files["id"]) == set(files["en"]), "both languages need the same YAML files"


def compare_shape(a: Any, b: Any, path: str, problems: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            problems.append(f"{path}: keys differ: only id {sorted(set(a) - set(b), key=str)}, "
                            f"only en {sorted(set(b) - set(a), key=str)}")
        for key in set(a) & set(b):
            compare_shape(a[key], b[key], f"{path}.{key}" if path else str(key), problems)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            problems.append(f"{path}: {len(a)} items in id, {len(b)} in en")
        ids_a = [x.get("id") for x in a if isinstance(x, dict)]
        ids_b = [x.get("id") for x in b if isinstance(x, dict)]
        if ids_a != ids_b:
            problems.append(f"{path}: item ids differ: {ids_a} vs {ids_b}")
        for index, (x, y) in enumerate(zip(a, b)):
            compare_shape(x, y, f"{path}[{index}]", problems)
    elif type(a) is not type(b):
        problems.append(f"{path}: {type(a).__name__} in id, {type(b).__name__} in en")


def test_same_nested_keys_in_both_languages(trees):
    problems: list[str] = []
    compare_shape(trees["id"], trees["en"], "", problems)
    assert not problems, "\n".join(problems)


def test_language_neutral_values_are_equal(trees):
    id_nodes = dict(walk(trees["id"]))
    problems = []
    for path, value in walk(trees["en"]):
        key = path.rsplit(".", 1)[-1]
        neutral = key in LANGUAGE_NEUTRAL_KEYS or (key == "correct" and isinstance(value, int))
        if neutral and path in id_nodes:
            if id_nodes[path] != value:
                problems.append(f"{path}: {id_nodes[path]!r} (id) != {value!r} (en)")
    assert not problems, "\n".join(problems)


def test_mapping_keys_are_strings(trees):
    # catches YAML 1.1 surprises such as an unquoted `yes:` becoming True
    for lang, tree in trees.items():
        for path, value in walk(tree):
            if isinstance(value, dict):
                bad = [k for k in value if not isinstance(k, str)]
                assert not bad, f"{lang}:{path} has non-string keys {bad}"


def test_placeholders_are_valid_and_match(trees):
    id_strings = dict(strings(trees["id"]))
    for lang, tree in trees.items():
        for path, text in strings(tree):
            try:
                names = placeholders(text)
            except ValueError as exc:
                pytest.fail(f"{lang}:{path}: bad braces ({exc}): {text!r}")
            for name in names:
                assert name.isidentifier(), f"{lang}:{path}: placeholder {{{name}}} must be a name"
            text.format(**{name: "x" for name in names})
    for path, text in strings(trees["en"]):
        if path in id_strings:
            assert placeholders(text) == placeholders(id_strings[path]), (
                f"{path}: placeholders differ between id and en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_fit_a_telegram_message(trees, lang):
    for path, text in strings(trees[lang]):
        assert text.strip(), f"{lang}:{path} is empty"
        assert tg_len(text) <= MESSAGE_MAX, f"{lang}:{path} is {tg_len(text)} long"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_own_texts_are_plain_for_any_parse_mode(files, lang):
    # no HTML-special characters, so the lead may send them with parse_mode HTML or none
    for name in OWN_FILES:
        for path, text in strings(files[lang][name]):
            assert not re.search(r"[<>&]", text), f"{lang}/{name}:{path} has < > or &"


# --- sources ----------------------------------------------------------------------------------

def test_source_key_fallback_matches_facts_file():
    if not FACTS.exists():
        pytest.skip(f"{FACTS} not present; using the embedded list")
    assert source_keys_in_facts(FACTS.read_text(encoding="utf-8")) == SOURCE_KEYS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_source_names_a_known_key(trees, lang):
    known = known_source_keys()
    found = 0
    for path, value in walk(trees[lang]):
        if path.rsplit(".", 1)[-1] != "source":
            continue
        keys = [value] if isinstance(value, str) else value
        assert isinstance(keys, list) and keys, f"{lang}:{path}: source must be a key or a list"
        for key in keys:
            assert key in known, f"{lang}:{path}: unknown source {key!r}"
        found += 1
    assert found, "no source keys found"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_medical_content_carries_sources(trees, lang):
    tree = trees[lang]
    for q in tree["safety"]["questions"]:
        assert q.get("source"), f"safety question {q['id']} lacks a source"
    for step in tree["guide"]["steps"]:
        assert step.get("source"), f"guide step {step['id']} lacks a source"
    for item in tree["quiz"]["items"]:
        assert item.get("source"), f"quiz item {item['id']} lacks a source"
    for key in ("danger", "why", "enough_milk"):
        assert tree[key].get("source"), f"{key} lacks a source"
    for key in ("caesarean_note", "pregnancy_note"):
        assert tree["safety"][key].get("source"), f"safety.{key} lacks a source"
    for key in ("intro", "when"):
        assert tree["guide"][key].get("source"), f"guide.{key} lacks a source"


# --- safety, danger, guide --------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_safety_schema(trees, lang):
    safety = trees[lang]["safety"]
    for key in ("intro", "all_clear"):
        assert isinstance(safety[key], str)
    assert isinstance(safety["caesarean_note"]["text"], str)
    assert "Rofiah" in safety["caesarean_note"]["source"]
    ids = [q["id"] for q in safety["questions"]]
    assert len(ids) == len(set(ids)), "duplicate safety question ids"
    assert set(ids) == SAFETY_QUESTION_IDS
    assert ids[0] == "danger_signs", "danger signs are asked first"
    for q in safety["questions"]:
        assert set(q) == {"id", "text", "if_yes", "source"}, q["id"]
        assert q["text"].rstrip().endswith("?"), f"{q['id']}: text should be a yes/no question"


def render_danger(danger: dict[str, Any]) -> str:
    """The danger screen as one message: title, four groups of bullets, mastitis, what to do."""
    parts = [danger["title"]]
    for group in DANGER_GROUPS:
        bullets = "\n".join(f"• {item}" for item in danger[group])
        parts.append(f"{danger['headings'][group]}\n{bullets}")
    parts += [danger["mastitis"], danger["what_to_do"]]
    return "\n\n".join(parts)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_danger_screen_fits_one_message(trees, lang):
    danger = trees[lang]["danger"]
    for group in DANGER_GROUPS:
        assert isinstance(danger[group], list) and danger[group], group
        assert all(isinstance(item, str) for item in danger[group])
        assert isinstance(danger["headings"][group], str)
    assert "112" in danger["what_to_do"] and "119" in danger["what_to_do"]
    assert "Puskesmas" in danger["what_to_do"]
    assert tg_len(render_danger(danger)) <= MESSAGE_MAX


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_steps(trees, lang):
    guide = trees[lang]["guide"]
    steps = guide["steps"]
    assert 6 <= len(steps) <= 9
    ids = [s["id"] for s in steps]
    assert len(ids) == len(set(ids)), "duplicate step ids"
    for step in steps:
        assert set(step) == {"id", "title", "text", "image", "source"}, step["id"]
        caption = f"{step['title']}\n\n{step['text']}"
        assert tg_len(caption) <= CAPTION_MAX, f"{step['id']}: caption {tg_len(caption)}"
        assert tg_len(step["title"]) + tg_len(step["text"]) <= STEP_CAPTION_BUDGET, step["id"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_timer_texts(trees, lang):
    timer = trees[lang]["guide"]["timer"]
    assert placeholders(timer["running"]) == {"minutes", "seconds", "cue"}
    assert placeholders(timer["minutes_button"]) == {"minutes"}
    assert timer["cues"] and all(isinstance(c, str) for c in timer["cues"])
    for key in ("choose", "done", "saved"):
        assert isinstance(timer[key], str)
    # the option keys are the values stored in massage_session.who / .feeling
    assert set(timer["who_question"]["options"]) == {"self", "husband", "family", "cadre"}
    assert set(timer["feeling_question"]["options"]) == {"relaxed", "same", "uncomfortable"}
    for question in ("who_question", "feeling_question"):
        for label in timer[question]["options"].values():
            assert tg_len(label) <= 64, "button labels stay short"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_long_texts_within_budget(trees, lang):
    for key in ("why", "enough_milk"):
        node = trees[lang][key]
        assert set(node) == {"title", "text", "source"}
        assert tg_len(f"{node['title']}\n\n{node['text']}") <= LONG_TEXT_BUDGET, key


def test_every_image_exists(trees):
    for lang, tree in trees.items():
        for path, value in walk(tree):
            if path.rsplit(".", 1)[-1] == "image":
                assert isinstance(value, str) and "/" not in value, f"{lang}:{path}"
                assert (IMAGES / value).is_file(), f"{lang}:{path}: missing images/{value}"


def test_images_are_phone_sized():
    from PIL import Image  # Pillow is a dev dependency

    pictures = sorted(IMAGES.glob("*.png")) + sorted(IMAGES.glob("*.gif"))
    assert pictures, "no pictures generated; run tools/draw_guide.py"
    for picture in pictures:
        with Image.open(picture) as image:
            if picture.suffix == ".png":
                assert image.size in {(800, 800), (800, 1000)}, picture.name
            else:
                assert picture.stat().st_size <= 400 * 1024, picture.name
                assert 12 <= getattr(image, "n_frames", 1) <= 20, picture.name


# --- quiz -------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_quiz_texts(trees, lang):
    quiz = trees[lang]["quiz"]
    for key in ("intro_pre", "intro_post", "intro_practice", "correct", "wrong"):
        assert isinstance(quiz[key], str)
    assert placeholders(quiz["result"]) == {"score"}
    assert placeholders(quiz["change"]) == {"pre", "post"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quiz_items_fit_telegram_polls(trees, lang):
    items = trees[lang]["quiz"]["items"]
    assert len(items) >= 10
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "quiz ids must be unique"
    for item in items:
        name = item["id"]
        assert set(item) == {"id", "question", "options", "correct", "explanation", "source"}, name
        assert tg_len(item["question"]) <= POLL_QUESTION_MAX, name
        options = item["options"]
        assert POLL_OPTIONS_MIN <= len(options) <= POLL_OPTIONS_MAX, name
        assert len(set(options)) == len(options), f"{name}: duplicate options"
        for option in options:
            assert isinstance(option, str) and option.strip(), name
            assert tg_len(option) <= POLL_OPTION_MAX, f"{name}: option too long: {option}"
        correct = item["correct"]
        assert type(correct) is int, f"{name}: correct must be one integer index"
        assert 0 <= correct < len(options), f"{name}: correct index out of range"
        explanation = item["explanation"]
        assert tg_len(explanation) <= POLL_EXPLANATION_MAX, f"{name}: explanation too long"
        assert "\n" not in explanation, f"{name}: explanation must be one line"


def test_quiz_answers_match_between_languages(trees):
    a, b = trees["id"]["quiz"]["items"], trees["en"]["quiz"]["items"]
    assert [i["id"] for i in a] == [i["id"] for i in b]
    for x, y in zip(a, b):
        assert len(x["options"]) == len(y["options"]), x["id"]
        assert x["correct"] == y["correct"], x["id"]
