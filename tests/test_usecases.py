"""The use-case layer: what follows an event is the one list in usecases/follow_ups.py, each
follow-up in its own savepoint; jobs run as units of work; the plain layers import no Telegram."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.jobs import in_unit_of_work
from tests.test_reminders import add_companion, reminders, rows, settings, utc, wave  # noqa: F401 (fixture)
from tests.test_onboarding import register_mother, skip_baseline
from usecases.events import SessionLogged
from usecases.follow_ups import FOLLOW_UPS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]


async def test_a_failing_follow_up_is_undone_alone_and_the_press_is_still_answered(driver, clock, monkeypatch):
    """"Sudah dipijat" through the front door, with a broken follow-up between the real ones:
    its row is rolled back, the session stays, the other follow-ups (reminders closed, phases,
    the report offer) still run, and the companion gets his answer."""
    sari = await register_mother(driver, 1001, "Sari", zone="WITA")
    budi = await add_companion(driver, sari, 2001, "Budi")
    db = driver.app.services.db
    await db.execute("CREATE TABLE follow_up_probe (mother_id BIGINT)")
    ran = []

    async def broken(deps, event):
        await deps.db.execute("INSERT INTO follow_up_probe VALUES (?)", (event.mother_id,))
        await deps.notifier.notify(event.mother_id, "common.error")  # never sent: rolled back
        ran.append(event)
        raise RuntimeError("a broken follow-up")

    monkeypatch.setitem(FOLLOW_UPS, SessionLogged, (broken, *FOLLOW_UPS[SessionLogged]))
    await wave(driver, clock, utc(0, 8, 5))
    clock.set(utc(0, 8, 40))
    before = len(sari.messages())
    await skip_baseline(budi, await budi.press("Sudah dipijat"))
    assert len(ran) == 1 and ran[0].new and ran[0].logged_by == 2001
    assert await db.fetchval("SELECT COUNT(*) FROM follow_up_probe") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM massage_session WHERE mother_id = 1001") == 1
    assert "dicatat oleh Budi" in reminders(sari)[0].body  # close_slot ran after the broken one
    assert any(b["callback_data"] == "rep:o:1001:smooth" for m in sari.messages()[before:] for b in m.buttons)
    done = driver.app.services.texts.t("id", "reminders.answers.done")
    assert any(m.body == done for m in budi.messages())  # his press was answered
    apology = driver.app.services.texts.t("id", "common.error")
    assert not any(m.body == apology for m in sari.messages()[before:])


async def test_a_second_press_publishes_again_and_changes_nothing(driver, clock, monkeypatch):
    sari = await register_mother(driver, 1001, "Sari", zone="WITA")
    seen = []

    async def record(deps, event):
        seen.append((event.new, event.source))

    monkeypatch.setitem(FOLLOW_UPS, SessionLogged, FOLLOW_UPS[SessionLogged] + (record,))
    await wave(driver, clock, utc(0, 8, 5))
    reminder = reminders(sari)[0]
    await skip_baseline(sari, await sari.press_data(reminder, "rem:done:1001:20261130:e"))
    await sari.press_data(reminder, "rem:done:1001:20261130:e")
    assert seen[0] == (True, "reminder") and all(not new for new, _ in seen[1:])
    assert await driver.app.services.db.fetchval("SELECT COUNT(*) FROM massage_session") == 1


async def test_a_job_that_fails_leaves_no_half_written_rows(driver):
    db = driver.app.services.db
    await db.execute("CREATE TABLE job_probe (n INTEGER)")

    class Context:
        application = driver.app

    @in_unit_of_work
    async def job(context):
        await db.execute("INSERT INTO job_probe VALUES (1)")
        await db.execute("INSERT INTO job_probe VALUES (2)")
        raise RuntimeError("the job broke half way")

    @in_unit_of_work
    async def good_job(context):
        await db.execute("INSERT INTO job_probe VALUES (3)")

    with pytest.raises(RuntimeError):
        await job(Context())
    await good_job(Context())
    assert [row[0] for row in await db.fetchall("SELECT n FROM job_probe")] == [3]


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (imports under `if TYPE_CHECKING:` are for types only)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["usecases", "db", "domain"])
def test_the_plain_layers_import_nothing_from_the_bot_or_telegram(layer):
    offenders = {str(path.relative_to(ROOT)): sorted(name for name in _imports(path)
                                                     if name.split(".")[0] in ("bot", "telegram", "flows"))
                 for path in (ROOT / layer).rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_string_lookups_glue_the_features():
    """What follows what is listed, not looked up by name at run time."""
    for path in list((ROOT / "flows").rglob("*.py")) + list((ROOT / "usecases").rglob("*.py")):
        text = path.read_text()
        for glue in ("importlib.import_module", "inspect.signature", "services.extras", "call_hook("):
            assert glue not in text, f"{path.name}: {glue}"
