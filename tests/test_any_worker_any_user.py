"""Any worker, any user: a flow begun on one worker continues on another (bot/flow_state.py).

Two applications built as production builds them (`build_application`, worker ids A and B, each
with its own update inbox) share one database (SQLite and PostgreSQL) and one loopback Bot API.
Each update is stored in the shared inbox and claimed by the worker the test puts on duty, as
any worker may claim it in production; so a user's steps alternate between two processes' worth
of in-memory PTB state, and only what is read from the database per update carries her flow.
"""
from __future__ import annotations

import itertools
import json

import pytest
from telegram import Update

from bot.application import BotApplication, build_application
from bot.config import Settings
from bot.flow_state import load_flow_state, persistent_conversations
from bot.inbox import Inbox
from loopback.driver import Person
from loopback.server import LoopbackBotAPI
from test_onboarding import register_mother

pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]


class TwoWorkers:
    """Stands where `loopback.driver.BotDriver` stands for `Person` (`server`, `deliver`), but
    hands each update to the worker on duty: "A", "B", or None for A and B in turn."""

    def __init__(self, settings: Settings, clock):
        self.server = LoopbackBotAPI()
        self.base_settings = settings
        self.clock = clock
        self.apps: dict[str, BotApplication] = {}
        self.duty: str | None = "A"
        self._turns = itertools.cycle("AB")
        self.handled_by: dict[int, str] = {}

    async def start(self) -> "TwoWorkers":
        await self.server.start()
        for name in ("A", "B"):
            settings = self.base_settings.model_copy(update={
                "telegram_bot_token": self.server.token, "telegram_api_base_url": self.server.base_url,
                "worker_id": name})
            app = build_application(settings, clock=self.clock)
            await app.initialize()
            await app.start()
            app.services.inbox = Inbox(app, idle_s=0.05)  # as a webhook worker has one (not claiming yet)
            self.apps[name] = app
        return self

    async def stop(self) -> None:
        for app in self.apps.values():
            await app.services.inbox.stop()
            if app.running:
                await app.stop()
            await app.services.inbox.release()
            await app.shutdown()
        await self.server.stop()

    def user(self, user_id: int, first_name: str = "Sari", language_code: str = "id") -> Person:
        self.server.add_user(user_id, first_name, language_code)
        return Person(self, user_id)

    @property
    def app(self) -> BotApplication:
        return self.apps["A"]

    async def deliver(self, update_id: int) -> None:
        """Telegram hands the update over (stored in the shared inbox), and only the worker on
        duty claims and handles it."""
        name = self.duty or next(self._turns)
        app = self.apps[name]
        index = next(i for i, u in enumerate(self.server._updates) if u["update_id"] == update_id)  # noqa: SLF001
        payload = self.server._updates.pop(index)  # noqa: SLF001 - delivered: Telegram forgets it
        await app.services.inbox.receive([payload])
        await app.services.inbox.start()
        try:
            await app.wait_processed(update_id)
        finally:
            await app.services.inbox.stop()
        self.handled_by[update_id] = name

    async def on(self, name: str, step):
        """Run `step` (an awaitable of one update) on worker `name`."""
        self.duty = name
        return await step


@pytest.fixture
async def workers(settings, clock):
    pair = await TwoWorkers(settings, clock).start()
    yield pair
    await pair.stop()
    bad = [r for r in pair.server.refusals if r[1] == 400 and "query is too old" not in r[2]]
    assert not bad, f"the bot sent requests Telegram refuses: {bad}"


async def rows(workers, sql, params=()):
    return [dict(r) for r in await workers.app.services.db.fetchall(sql, params)]


async def claimed_by(workers) -> dict[int, str]:
    return {r["update_id"]: r["claimed_by"] for r in await rows(
        workers, "SELECT update_id, claimed_by FROM update_inbox WHERE status = 'done' ORDER BY update_id")}


# ----------------------------------------------------------------- flows across workers
async def test_onboarding_step_by_step_on_alternating_workers(workers):
    workers.duty = None  # A, B, A, B, ... every update on the other worker
    await register_mother(workers, 1001, "Sari", when="Kemarin", zone="WITA")
    row = (await rows(workers, "SELECT * FROM mother WHERE user_id = 1001"))[0]
    assert (row["display_name"], row["delivery_date"], row["timezone"], row["first_child"]) == \
        ("Sari", "2026-11-29", "Asia/Makassar", 1)
    texts = "\n".join(m.body for m in workers.server.bot_messages(1001))
    assert "Pendaftaran selesai" in texts
    handled = await claimed_by(workers)
    assert len(handled) == 8 and set(handled.values()) == {"A", "B"}
    assert handled == workers.handled_by  # each by the worker the test chose
    # the flow is over in the database, and neither worker holds it in memory any more
    assert await rows(workers, "SELECT * FROM conversation_state") == []
    assert await rows(workers, "SELECT * FROM user_draft") == []


async def test_a_report_begun_on_a_continues_on_b_then_back_on_a(workers):
    await register_mother(workers, 2001, "Sari")  # all on A
    sari = Person(workers, 2001)
    replies = await workers.on("A", sari.send("/lapor"))
    assert "Bagaimana ASI Ibu sekarang?" in replies[-1].body
    replies = await workers.on("B", sari.press_shown("ASI keluar tapi belum lancar"))
    assert "tanda ini SEKARANG" in replies[-1].body
    stored = await rows(workers, "SELECT * FROM milk_report")
    assert len(stored) == 1 and stored[0]["milk_flow"] == "not_smooth"
    replies = await workers.on("A", sari.press_shown("rep:ds:none"))
    assert "menyusu dalam 24 jam" in replies[-1].body
    replies = await workers.on("B", sari.send("9 kali"))  # typed: only the flow's state makes it an answer
    assert "popok basah" in replies[-1].body
    await workers.on("A", sari.press("rep:wet:2"))
    replies = await workers.on("B", sari.press_shown("Penuh"))
    assert "Laporan tersimpan" in "\n".join(m.body for m in replies)
    report = (await rows(workers, "SELECT * FROM milk_report"))[0]
    assert {key: report[key] for key in report if key not in ("id", "update_id")} == {
        "mother_id": 2001, "reported_by": 2001, "reporter_role": "mother",
        "reported_at": "2026-11-30T03:00:00Z", "postpartum_day": 2, "phase": "pre",
        "milk_flow": "not_smooth", "feeds_24h": 9, "wet_nappies_24h": 2, "breasts": "full", "danger_signs": ""}
    assert await rows(workers, "SELECT * FROM conversation_state") == []

    # A last saw her in the middle of the report (its memory said: the breasts question); the
    # report ended on B, so on A a typed number is no answer to anything any more
    await workers.on("A", sari.send("3"))
    assert (await rows(workers, "SELECT feeds_24h, wet_nappies_24h, breasts FROM milk_report")) == [
        {"feeds_24h": 9, "wet_nappies_24h": 2, "breasts": "full"}]
    assert await rows(workers, "SELECT * FROM conversation_state") == []
    handled = await claimed_by(workers)
    assert handled == workers.handled_by and list(handled.values())[-7:] == list("ABABABA")


async def test_a_draft_written_on_a_is_seen_on_b(workers):
    amy = workers.user(1005, "Amy")  # an Indonesian client: Indonesian unless she picks English
    await workers.on("A", amy.send("/bahasa"))
    await workers.on("A", amy.press("lang:en"))
    assert await rows(workers, "SELECT data FROM user_draft WHERE user_id = 1005") == [{"data": '{"lang": "en"}'}]
    replies = await workers.on("B", amy.send("/start"))  # B read the drafts at its start, before this one
    assert "Nothing is stored" in replies[-1].body
    assert workers.apps["B"].user_data[1005]["lang"] == "en"
    replies = await workers.on("A", amy.press("ob:consent:yes"))  # and what B added reaches A
    assert workers.apps["A"].user_data[1005] == workers.apps["B"].user_data[1005]
    assert any("I am a mother" in b["text"] for m in replies for b in m.buttons)
    # cut short on B (her draft is back to her language alone): cut short on A too
    await workers.on("B", amy.send("/batal"))
    assert await rows(workers, "SELECT data FROM user_draft WHERE user_id = 1005") == [{"data": '{"lang": "en"}'}]
    assert await rows(workers, "SELECT * FROM conversation_state") == []
    replies = await workers.on("A", amy.press("ob:role:mother"))  # the old button, pressed on A
    assert workers.apps["A"].user_data[1005] == {"lang": "en"}
    assert "That button is no longer valid" in replies[0].body  # not the next question of a flow
    assert await rows(workers, "SELECT COUNT(*) AS n FROM app_user") == [{"n": 0}]
    assert await rows(workers, "SELECT * FROM conversation_state") == []


# ----------------------------------------------------------------- the mechanism
async def test_every_persistent_conversation_is_refreshed_and_nothing_marked_for_saving(workers):
    app = workers.apps["B"]
    found = {handler.name: handler for handler in persistent_conversations(app)}
    assert set(found) == set(app._conversation_handler_conversations)  # noqa: SLF001 - what PTB saves
    # a per-process timer would not follow the user from worker to worker
    assert all(handler.conversation_timeout is None for handler in found.values())

    sari = await register_mother(workers, 3001, "Sari")  # on A
    await workers.on("A", sari.send("/lapor"))
    stored = await rows(workers, "SELECT name, key, state FROM conversation_state")
    assert [(r["name"], r["key"]) for r in stored] == [("reports", "[3001, 3001]")]
    update = Update.de_json({"update_id": 999, "message": {
        "message_id": 999, "date": 0, "chat": {"id": 3001, "type": "private"},
        "from": {"id": 3001, "is_bot": False, "first_name": "Sari"}, "text": "x"}}, app.bot)
    await load_flow_state(app, update)
    conversations = found["reports"]._conversations  # noqa: SLF001
    assert conversations[(3001, 3001)] == json.loads(stored[0]["state"])
    assert all(h._conversations.pop_accessed_keys() == set() for h in found.values())  # noqa: SLF001
    # gone from the database: gone from memory too (still unmarked)
    await app.services.db.execute("DELETE FROM conversation_state")
    await load_flow_state(app, update)
    assert (3001, 3001) not in conversations
    assert all(h._conversations.pop_accessed_keys() == set() for h in found.values())  # noqa: SLF001
