"""Crash consistency with real processes killed by SIGKILL (issue 9, docs/crash-consistency.md).

The bot runs as `python -m tests.crashbot` (the real application, polling through the update
inbox) against a loopback Telegram stand-in that lives in this test process, on a database this
process reads too. The windows are hit with the stand-in's gates (a chat's requests are held
until the test drops them: a dropped request never reached "Telegram") and by waiting for
conditions, never by sleeping; then the process is killed with `kill -9` and started again.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from db.database import Database
from db.queries import inbox as inbox_q
from loopback.server import LoopbackBotAPI
from tests.pg import drop_database, fresh_database

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB, as in the other tests
WAIT = 20.0


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_url(request, tmp_path):
    """A database of this test alone (PostgreSQL: a throw-away one, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    name = f"sn_crash_{os.getpid()}"
    url = fresh_database(name)  # skips when the server is unreachable
    yield url
    drop_database(name)


async def until(predicate, what: str, timeout: float = WAIT) -> None:
    """Poll a condition (sync or async) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class CrashBot:
    """`python -m tests.crashbot` as a child process: start, kill -9, start again."""

    def __init__(self, server: LoopbackBotAPI, url: str, folder: Path, **env: str):
        self.server = server
        self.clock_file = folder / "clock.txt"
        self.log = folder / "bot.log"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
                    "TELEGRAM_API_BASE_URL": server.base_url, "TELEGRAM_BOT_TOKEN": server.token,
                    "WORKER_ID": "crash-bot-1", "CRASHBOT_CLOCK": str(self.clock_file),
                    "REMINDER_POLL_SECONDS": "0", "POLLING_TIMEOUT_S": "1", "POLLING_PROBE_S": "0",
                    "TELEGRAM_RETRY_BACKOFF_S": "0.05", "LOG_LEVEL": "INFO", **env}
        self.proc: asyncio.subprocess.Process | None = None
        self.set_clock(START)

    def set_clock(self, moment: datetime) -> None:
        self.clock_file.write_text(iso(moment))

    async def start(self, **env: str) -> None:
        with self.log.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.crashbot", cwd=str(ROOT), env={**self.env, **env},
                stdout=asyncio.subprocess.PIPE, stderr=log)
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert line.startswith(b"ready"), f"the bot did not start: {line!r}\n{self.log.read_text()[-3000:]}"

    async def kill(self) -> None:
        """kill -9: no finally, no atexit, no flush."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert await self.proc.wait() == -signal.SIGKILL
        self.proc = None

    async def stop(self) -> int | None:
        """SIGTERM, as systemd stops it; returns the exit code."""
        code = None
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                code = await asyncio.wait_for(self.proc.wait(), 20)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.proc = None
        return code

    def errors(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines()
                if "Error" in line or " ERROR " in line or "Traceback" in line]


class World:
    """The stand-in, the database (as the test sees it) and the bot process."""

    def __init__(self, server: LoopbackBotAPI, db: Database, bot: CrashBot):
        self.server, self.db, self.bot = server, db, bot

    async def status(self, update_id: int) -> str | None:
        return await self.db.fetchval("SELECT status FROM update_inbox WHERE update_id = ?", (update_id,))

    async def handled(self, update_id: int, timeout: float = WAIT) -> None:
        async def done():
            return await self.status(update_id) == "done"

        await until(done, f"update {update_id} to be handled", timeout)

    async def say(self, user_id: int, text: str) -> list[str]:
        before = len(self.server.bot_messages(user_id))
        await self.handled(self.server.send_text(user_id, text))
        return [m.body for m in self.server.bot_messages(user_id)[before:]]

    def button(self, user_id: int, data: str):
        for message in reversed(self.server.bot_messages(user_id)):
            if any(b.get("callback_data") == data for b in message.buttons):
                return message
        raise AssertionError(f"no button {data!r} for {user_id}")

    def press_now(self, user_id: int, data: str) -> int:
        return self.server.press(user_id, self.button(user_id, data), data)

    async def press(self, user_id: int, data: str) -> list[str]:
        before = len(self.server.bot_messages(user_id))
        await self.handled(self.press_now(user_id, data))
        return [m.body for m in self.server.bot_messages(user_id)[before:]]

    def requests_to(self, chat_id: int) -> int:
        return sum(1 for _, params in self.server.requests if str(params.get("chat_id")) == str(chat_id))

    async def count(self, sql: str, params=()) -> int:
        return await self.db.fetchval(sql, params)


@asynccontextmanager
async def world(url: str, folder: Path, **env: str):
    server = await LoopbackBotAPI().start()
    db = await Database(url).open()  # migrated here, before any bot process opens it
    bot = CrashBot(server, url, folder, **env)
    try:
        yield World(server, db, bot)
    finally:
        await bot.stop()
        for chat in list(server.gates):
            server.drop_gate(chat)
        server.drop_poll_gate()
        await db.close()
        await server.stop()


async def onboard(w: World, user_id: int, name: str = "Sari", last_step: bool = True) -> None:
    """A mother's registration through the running bot, up to the time-zone question (and the
    answer to it when `last_step`)."""
    w.server.add_user(user_id, name)
    await w.say(user_id, "/start")
    for data in ("ob:consent:yes", "ob:role:mother"):
        await w.press(user_id, data)
    await w.say(user_id, name)
    for data in ("ob:dd:1", "ob:bt:unknown", "ob:first:yes"):
        await w.press(user_id, data)
    if last_step:
        await w.press(user_id, "ob:tz:WIB")


# --------------------------------------------------------------------------------- (a) onboarding
async def test_kill_during_onboarding_she_continues_after_the_restart(crash_url, tmp_path):
    async with world(crash_url, tmp_path) as w:
        await w.bot.start()
        await onboard(w, 1001, last_step=False)
        # She presses her time zone; the answer to the press goes out, then the bot's next
        # request to her chat hangs in "Telegram" ... and the process dies.
        w.server.gates[1001] = asyncio.Event()
        sent = w.requests_to(1001)
        update_id = w.press_now(1001, "ob:tz:WIB")
        await until(lambda: w.requests_to(1001) > sent, "her reply to be on its way")
        assert await w.status(update_id) == "claimed"
        await w.bot.kill()
        w.server.drop_gate(1001)  # what was on its way never arrived
        assert await w.count("SELECT COUNT(*) FROM mother") == 0
        assert await w.status(update_id) == "claimed"  # stored, not done: it goes round again

        before = len(w.server.bot_messages(1001))
        await w.bot.start()
        await w.handled(update_id)
        texts = "\n".join(m.body for m in w.server.bot_messages(1001)[before:])
        assert "Pendaftaran selesai" in texts and texts.count("Pendaftaran selesai") == 1
        assert "Menu" in "\n".join(await w.say(1001, "/menu"))  # she goes on, registered
        assert await w.count("SELECT COUNT(*) FROM app_user WHERE telegram_id = 1001") == 1
        assert await w.count("SELECT COUNT(*) FROM mother WHERE user_id = 1001") == 1
        assert await w.count("SELECT COUNT(*) FROM companion_invite WHERE mother_id = 1001") == 1
        assert await w.count("SELECT COUNT(*) FROM conversation_state WHERE name = 'onboarding'") == 0
        assert await inbox_q.counts(w.db) == {"done": await w.count("SELECT COUNT(*) FROM update_inbox")}
        assert w.bot.errors() == []


# ------------------------------------------------------------------------------------ (b) /lapor
async def test_kill_during_a_report_after_her_first_answer(crash_url, tmp_path):
    async with world(crash_url, tmp_path) as w:
        await w.bot.start()
        await onboard(w, 2001)
        await w.say(2001, "/lapor")
        # Her first answer (the milk flow) is stored with its handler; the process dies while
        # the bot's answer to it is on its way.
        w.server.gates[2001] = asyncio.Event()
        sent = w.requests_to(2001)
        update_id = w.press_now(2001, "rep:f:not_smooth")
        await until(lambda: w.requests_to(2001) > sent, "the answer to be on its way")
        await w.bot.kill()
        w.server.drop_gate(2001)

        await w.bot.start()
        await w.handled(update_id)
        assert "tanda ini SEKARANG" in w.server.bot_messages(2001)[-1].body  # the next question
        await w.press(2001, "rep:ds:none")
        await w.press(2001, "rep:feeds:skip")
        await w.press(2001, "rep:wet:skip")
        await w.press(2001, "rep:br:skip")  # the last question's message becomes the end of the report
        assert "Laporan tersimpan" in w.server.bot_messages(2001)[-1].body
        reports = await w.db.fetchall("SELECT milk_flow FROM milk_report WHERE mother_id = 2001")
        assert [r["milk_flow"] for r in reports] == ["not_smooth"]
        assert w.bot.errors() == []


# ------------------------------------------------------- handler rows committed, then the crash
# A handler commits its rows before each Telegram request (bot/ratelimit.py); the flow state and
# the inbox's `done` commit when the update ends. A kill in between hands the update to the
# handler again, which must then find its own rows: inserts that are idempotent by their own key
# (ON CONFLICT ... DO NOTHING) or keyed by the update's id (db/queries/replay.py).
async def test_kill_after_her_profile_was_stored_before_the_bot_said_so(tmp_path):
    async with world(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path) as w:
        await w.bot.start()
        await onboard(w, 1002, last_step=False)
        w.server.gates[1002] = asyncio.Event()
        w.server.gate_skip[1002] = 2  # the press is closed and "no clinic yet" said, then held
        update_id = w.press_now(1002, "ob:tz:WIB")

        async def stored():
            return await w.count("SELECT COUNT(*) FROM mother WHERE user_id = 1002") == 1

        await until(stored, "her profile to be stored")
        await w.bot.kill()
        w.server.drop_gate(1002)
        await w.bot.start()
        await w.handled(update_id)
        assert w.bot.errors() == []
        assert "Pendaftaran selesai" in "\n".join(m.body for m in w.server.bot_messages(1002))


async def test_kill_after_her_first_answer_was_stored_before_the_bot_said_so(crash_url, tmp_path):
    async with world(crash_url, tmp_path) as w:
        await w.bot.start()
        await onboard(w, 2002)
        await w.say(2002, "/lapor")
        w.server.gates[2002] = asyncio.Event()
        w.server.gate_skip[2002] = 1  # the press is closed, then "saved" is held
        update_id = w.press_now(2002, "rep:f:smooth")

        async def stored():
            return await w.count("SELECT COUNT(*) FROM milk_report WHERE mother_id = 2002") == 1

        await until(stored, "her answer to be stored")
        await w.bot.kill()
        w.server.drop_gate(2002)
        await w.bot.start()
        await w.handled(update_id)
        # the report her first attempt stored, once; she is asked the next question and goes on
        assert await w.count("SELECT COUNT(*) FROM milk_report WHERE mother_id = 2002") == 1
        assert await w.count("SELECT update_id FROM milk_report WHERE mother_id = 2002") == update_id
        assert "tanda ini SEKARANG" in w.server.bot_messages(2002)[-1].body
        await w.press(2002, "rep:ds:none")
        assert await w.count("SELECT COUNT(*) FROM milk_report WHERE mother_id = 2002 AND danger_signs = ''") == 1
        assert w.bot.errors() == []


# -------------------------------------------------------------------------------------- (c) burst
async def test_burst_of_30_killed_right_after_they_were_fetched(crash_url, tmp_path):
    users = list(range(3001, 3031))
    async with world(crash_url, tmp_path) as w:
        await w.bot.start()
        for user in users:
            w.server.add_user(user, f"Ibu{user}")
            w.server.gates[user] = asyncio.Event()  # every answer hangs in "Telegram"
        w.server.poll_gate = asyncio.Event()        # and so does the getUpdates that would confirm
        ids = [w.server.send_text(user, "/start") for user in users]
        await until(lambda: any(method == "getUpdates" and params.get("offset") == ids[-1] + 1
                                for method, params in w.server.requests), "the 30 to be fetched and stored")

        async def all_claimed():
            return (await inbox_q.counts(w.db)).get("claimed") == 30

        await until(all_claimed, "the 30 to be claimed")
        await w.bot.kill()
        assert await inbox_q.counts(w.db) == {"claimed": 30}
        for user in users:
            w.server.drop_gate(user)
        w.server.drop_poll_gate()
        assert w.server.pending_updates() == 30  # never confirmed: Telegram sends them again
        assert all(not w.server.bot_messages(user) for user in users)

        started = time.monotonic()
        await w.bot.start()
        for update_id in ids:
            await w.handled(update_id)
        elapsed = time.monotonic() - started
        answered = [user for user in users if w.server.bot_messages(user)]
        welcomes = [sum("Belum ada data" in m.body for m in w.server.bot_messages(user)) for user in users]
        print(f"burst: {len(answered)}/30 answered after kill -9, {elapsed:.2f}s after the restart began; "
              f"welcome messages per user: {sorted(set(welcomes))}")
        assert len(answered) == 30 and welcomes == [1] * 30
        assert len({len(w.server.bot_messages(user)) for user in users}) == 1  # the same answer, once each
        assert await w.count("SELECT COUNT(*) FROM update_inbox") == 30
        assert await inbox_q.counts(w.db) == {"done": 30}
        assert w.server.pending_updates() == 0
        assert w.bot.errors() == []


# ---------------------------------------------------------------------------------- (d) reminders
async def test_kill_during_a_reminder_wave(crash_url, tmp_path):
    from db.queries import mothers, users

    mothers_ids = list(range(4001, 4031))
    held = mothers_ids[::3]  # 10 of them: their reminder is on its way when the process dies
    async with world(crash_url, tmp_path, REMINDER_POLL_SECONDS="1") as w:
        now = iso(START)
        async with w.db.transaction():
            for user in mothers_ids:
                await users.create_user(w.db, user, "mother", "id", now)
                await mothers.create_mother(w.db, user, f"Ibu{user}", date(2026, 11, 29), True, "Asia/Jakarta",
                                            None, now)
        for user in mothers_ids:
            w.server.add_user(user, f"Ibu{user}")
        for user in held:
            w.server.gates[user] = asyncio.Event()

        def reminders(user: int) -> int:
            return sum(1 for m in w.server.bot_messages(user)
                       if m.reply_markup and "menu:guide" in json.dumps(m.reply_markup))

        w.bot.set_clock(datetime(2026, 11, 30, 9, 0, 30, tzinfo=timezone.utc))  # 16:00 WIB: all due
        await w.bot.start()
        free = [user for user in mothers_ids if user not in held]
        await until(lambda: all(reminders(user) == 1 for user in free), "the wave to reach the others")
        await until(lambda: all(w.requests_to(user) == 1 for user in held), "the held ones to be on their way")
        for _ in range(200):  # the free ones recorded as sent (not only arrived) before the kill
            if await w.db.fetchval("SELECT COUNT(*) FROM reminder_delivery WHERE status = 'sent'") == 20:
                break
            await asyncio.sleep(0.05)
        await w.bot.kill()
        for user in held:
            w.server.drop_gate(user)
        statuses = {r["status"]: r["n"] for r in await w.db.fetchall(
            "SELECT status, COUNT(*) AS n FROM reminder_delivery GROUP BY status")}
        assert statuses == {"sent": 20, "sending": 10}

        # The same WORKER_ID starts again: the dispatcher takes back its dead run's claims at
        # once (no lease to wait out) and the wave goes on at the first wake-up.
        started = time.monotonic()
        await w.bot.start()
        ready = time.monotonic() - started
        await until(lambda: all(reminders(user) == 1 for user in held), "the wave to resume after the restart")
        resumed = time.monotonic() - started
        print(f"reminders: 20 sent and 10 in flight at kill -9; after the restart (process up in {ready:.2f}s) "
              f"the 10 were sent {resumed - ready:.2f}s later (poll interval 1s)")
        assert [reminders(user) for user in mothers_ids] == [1] * 30  # each exactly once at "Telegram"
        assert resumed - ready < 2.0

        async def all_recorded_sent():  # (arrived at "Telegram" a moment before it is recorded)
            return await w.db.fetchval("SELECT COUNT(*) FROM reminder_delivery WHERE status = 'sent'") == 30

        await until(all_recorded_sent, "the 30 to be recorded as sent")
        statuses = {r["status"]: r["n"] for r in await w.db.fetchall(
            "SELECT status, COUNT(*) AS n FROM reminder_delivery GROUP BY status")}
        assert statuses == {"sent": 30}
        assert w.bot.errors() == []


# ----------------------------------------------------------------------- one poller, clear refusal
async def test_a_second_instance_refuses_to_start(tmp_path):
    async with world(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path) as w:
        await w.bot.start()
        env = {k: v for k, v in w.bot.env.items() if k not in ("DATABASE_URL", "CRASHBOT_CLOCK")}

        async def run(**extra: str) -> tuple[int, str]:
            """`sahabat-nifas run`, as an operator would start a second one."""
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=str(tmp_path), env={**env, **extra},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode, err.decode()

        # the same bot token, another database: Telegram's 409 tells
        code, err = await run(DATABASE_PATH=str(tmp_path / "other.db"), POLLING_PROBE_S="2")
        assert code == 1 and "another instance is polling this bot token; stop it or use webhooks" in err
        # the same database: refused before asking Telegram
        code, err = await run(DATABASE_URL=f"sqlite:///{tmp_path / 'crash.db'}")
        assert code == 1 and "another process is already polling with this database" in err
        # the first one never noticed more than a warning: it still answers
        w.server.add_user(5001, "Sari")
        assert any("Sahabat Nifas" in text for text in await w.say(5001, "/start"))
        assert w.bot.errors() == []
        assert await w.bot.stop() == 0  # SIGTERM: a clean stop
        assert w.server.pending_updates() == 0  # what it stored, it confirmed before leaving


# ------------------------------------------------------------------- the inbox itself, in process
def _payload(update_id: int, chat: int, text: str = "hi") -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "X"}, "text": text}}


def _inbox(db: Database, url: str, worker: str, **kwargs):
    from types import SimpleNamespace

    from bot.config import Settings
    from bot.inbox import Inbox

    settings = Settings(_env_file=None, database_url=url, worker_id=worker)
    app = SimpleNamespace(services=SimpleNamespace(settings=settings, db=db), bot=None,
                          update_queue=asyncio.Queue())
    return Inbox(app, **kwargs)


async def test_claims_keep_each_chats_order_across_workers(crash_url):
    db = await Database(crash_url).open()
    try:
        one, two = _inbox(db, crash_url, "w1"), _inbox(db, crash_url, "w2")
        assert await one.receive([_payload(1, 10), _payload(2, 10), _payload(3, 20), _payload(4, 10)]) == 4
        assert await two.receive([_payload(2, 10), _payload(3, 20), _payload(5, 30)]) == 1  # resent: once
        # two workers claim at once: each chat's oldest only, never the same row twice
        first, second = await asyncio.gather(inbox_q.claim(db, "w1", "2026-12-01T00:00:00Z", 10),
                                             inbox_q.claim(db, "w2", "2026-12-01T00:00:00Z", 10))
        taken = sorted(c.update_id for c in first + second)
        assert taken == [1, 3, 5]
        assert await inbox_q.claim(db, "w2", "2026-12-01T00:00:00Z", 10) == []  # chat 10 is in progress
        owner = "w1" if 1 in [c.update_id for c in first] else "w2"
        async with db.transaction():
            assert await inbox_q.finish(db, 1, owner)
        assert [c.update_id for c in await inbox_q.claim(db, "w2", "2026-12-01T00:00:00Z", 10)] == [2]
        assert not await inbox_q.finish(db, 2, "w1")  # only the holder finishes it
    finally:
        await db.close()


async def test_dead_workers_claims_come_back_and_a_poison_update_is_given_up(crash_url):
    db = await Database(crash_url).open()
    try:
        inbox = _inbox(db, crash_url, "w1", max_attempts=3)
        await inbox.receive([_payload(7, 70), _payload(8, 80)])
        # another worker took update 8 long ago and went silent: taken back after the lease
        await inbox_q.claim(db, "w-dead", "2026-01-01T00:00:00Z", 10)
        assert await inbox_q.counts(db) == {"claimed": 2}
        await inbox._maintain(force=True)
        assert await inbox_q.counts(db) == {"new": 2}
        # update 7 crashes its process every time (the dead worker's claim was its first
        # attempt): three attempts, then it is given up
        queue = inbox.app.update_queue
        for attempt in (1, 2):
            await inbox._claim()
            handed = [queue.get_nowait().update_id for _ in range(queue.qsize())]
            assert handed == ([7, 8] if attempt == 1 else [7])
            if attempt == 1:
                async with db.transaction():
                    assert await inbox_q.finish(db, 8, "w1")  # update 8 was fine
            inbox._held.clear()
            assert await inbox_q.reclaim_own(db, "w1") == 1  # "w1" died and starts again
        await inbox._claim()
        assert queue.qsize() == 0 and inbox.given_up == 1
        row = await db.fetchone("SELECT status, attempts FROM update_inbox WHERE update_id = 7")
        assert (row["status"], row["attempts"]) == ("done", 4)
        # done rows are pruned: none older than the cut-off, and only the newest `keep`
        await db.execute("DELETE FROM update_inbox")
        for n in range(20, 30):
            day = "2026-01-01" if n < 25 else f"2026-06-{n - 20:02d}"
            await inbox_q.store(db, [(n, 100 + n, "{}")], f"{day}T00:00:00Z")
        await db.execute("UPDATE update_inbox SET status = 'done' WHERE update_id <> 29")
        assert await inbox_q.prune(db, "2026-03-01T00:00:00Z", keep=100) == 5
        assert await inbox_q.prune(db, "2026-03-01T00:00:00Z", keep=3) == 1  # 25 goes; 26, 27, 28 stay
        assert [r[0] for r in await db.fetchall("SELECT update_id FROM update_inbox ORDER BY update_id")] == [
            26, 27, 28, 29]  # 29 is not done: never pruned
    finally:
        await db.close()


async def test_a_handler_error_does_not_go_round_again(crash_url, clock):
    """The user gets the apology once; the update is done after one attempt."""
    from telegram.ext import CommandHandler

    from bot.config import Settings
    from loopback.driver import BotDriver

    async def boom(update, context):
        await context.db.execute("INSERT INTO user_draft(user_id, data) VALUES (?, '{}')", (update.effective_user.id,))
        raise RuntimeError("a bug")

    settings = Settings(_env_file=None, database_url=crash_url, telegram_bot_token="0:placeholder",
                        reminder_poll_seconds=0)
    driver = BotDriver(settings, clock=clock, configure=lambda app: app.add_handler(CommandHandler("boom", boom), -5))
    await driver.start()
    try:
        sari = driver.user(6001, "Sari")
        replies = await sari.send("/boom")
        assert sum("Maaf, ada gangguan" in m.body for m in replies) == 1
        db = driver.app.services.db
        row = await db.fetchone("SELECT status, attempts FROM update_inbox")
        assert (row["status"], row["attempts"]) == ("done", 1)
        assert await db.fetchval("SELECT COUNT(*) FROM user_draft") == 0  # its writes rolled back
        assert driver.app.services.inbox.in_flight == 0
    finally:
        await driver.stop()
