"""Several workers on PostgreSQL (issue 9), end to end with real processes.

Two `sahabat-nifas run --webhook URL` processes (WORKER_ID w1, w2) share one webhook port
(SO_REUSEPORT) and one PostgreSQL database; the loopback Bot API runs in the test process and
delivers updates by webhook, one new connection per update, as Telegram does. Checked at the
stand-in Telegram (what reached it), not only in the database:

(a) users' updates reach both workers and each is answered once;
(b) due reminders are sent by exactly one worker, each once;
(c) the leader killed with -9 while one reminder is on its way: the other worker leads within
    LEADER_CHECK_SECONDS and sends the next slot's reminders; the killed worker, started again
    under its name, hands back its dead process's claim at once; nothing arrives twice.

Without a reachable PostgreSQL these tests are skipped (one line); under CI they fail.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.leader import APPLICATION_NAME, LEADER_QUERY, LOCK_KEY
from bot.webhook import SECRET_HEADER, WORKER_HEADER, WebhookServer, webhook_secret
from loopback.server import LoopbackBotAPI
from tests.pg import _connect, drop_database, fresh_database

ROOT = Path(__file__).resolve().parents[1]
CHECK_S = 1.0          # LEADER_CHECK_SECONDS in the workers
SECRET = "workers-test-secret"
USERS = [7001 + i for i in range(20)]
MOTHERS = [5001 + i for i in range(6)]

pytestmark = [pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'"),
              pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")]


# ----------------------------------------------------------------- helpers
def now_iso(delta_s: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=delta_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sql(url: str, statement: str, params=()) -> list[tuple]:
    with _connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def leader_of(url: str) -> str | None:
    query = LEADER_QUERY.replace(":hi", "%(hi)s").replace(":lo", "%(lo)s")
    rows = sql(url, query, {"hi": LOCK_KEY >> 32, "lo": LOCK_KEY & 0xFFFF_FFFF})
    return rows[0][0][len(APPLICATION_NAME):] if rows else None


async def until(check, timeout: float, what: str, logs=None) -> float:
    """Wait (yielding to the loopback) until `check()` is true; the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            tail = logs() if logs else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def is_reminder(params: dict) -> bool:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return bool(markup) and markup["inline_keyboard"][0][0].get("callback_data") == "menu:guide"


def reminder_requests(server: LoopbackBotAPI, chat: int) -> int:
    return sum(1 for method, params in server.requests
               if method == "sendMessage" and str(params.get("chat_id")) == str(chat) and is_reminder(params))


def reminders_delivered(server: LoopbackBotAPI, chat: int) -> int:
    return sum(1 for m in server.bot_messages(chat)
               if m.reply_markup and m.reply_markup["inline_keyboard"][0][0].get("callback_data") == "menu:guide")


class Workers:
    """The worker processes, each logging to its own file."""

    def __init__(self, folder: Path, env: dict[str, str], webhook: str):
        self.folder = folder
        self.env = env
        self.webhook = webhook
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        log = open(self.folder / f"{name}.log", "a")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--webhook", self.webhook],
            env={**self.env, "WORKER_ID": name}, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.processes)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(5)

    def stop_all(self, timeout: float = 20) -> dict[str, int | None]:
        codes = {}
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = None
        return codes


def seed_mothers(url: str) -> None:
    """Mothers straight into the tables; their planning is off (next_check_at NULL): the test
    plants the due reminder rows itself, so the real time of day does not matter."""
    now, born = now_iso(), (datetime.now(timezone.utc) - timedelta(days=3)).date().isoformat()
    with _connect(url, autocommit=True) as conn:
        for mother in MOTHERS:
            conn.execute("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                         " VALUES (%s, 'mother', 'id', %s, %s)", (mother, now, now))
            conn.execute("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone,"
                         " pseudonym, created_at) VALUES (%s, %s, %s, 1, 'Asia/Jakarta', %s, %s)",
                         (mother, f"Ibu {mother}", born, f"M-{mother}", now))
        conn.execute("UPDATE reminder_pref SET next_check_at = NULL")


def plant_reminders(url: str, slot: str) -> None:
    today, now = datetime.now(timezone.utc).date().isoformat(), now_iso(-1)
    with _connect(url, autocommit=True) as conn:
        for mother in MOTHERS:
            conn.execute("INSERT INTO reminder_delivery(recipient_id, mother_id, slot_date, slot, due_at, status,"
                         " updated_at) VALUES (%s, %s, %s, %s, %s, 'pending', %s)",
                         (mother, mother, today, slot, now, now))


def statuses(url: str, slot: str) -> dict[int, tuple[str, str | None]]:
    return {row[0]: (row[1], row[2]) for row in sql(
        url, "SELECT recipient_id, status, claim_token FROM reminder_delivery WHERE slot = %s", (slot,))}


# ----------------------------------------------------------------- end to end
async def test_two_workers_share_updates_and_one_leader_sends_reminders(tmp_path):
    name = f"sn_workers_{os.getpid()}"
    url = fresh_database(name)
    server = await LoopbackBotAPI().start()
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "REMINDER_", "INBOX_", "LEADER_"))}
    env.update({
        "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": url, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port), "WEBHOOK_PATH": "tg",
        "WEBHOOK_SECRET": SECRET, "REMINDER_POLL_SECONDS": "1", "LEADER_CHECK_SECONDS": str(CHECK_S),
        "TELEGRAM_RETRY_BACKOFF_S": "0.05", "LOG_LEVEL": "INFO", "DASHBOARD_URL": ""})
    workers = Workers(tmp_path, env, f"http://127.0.0.1:{port}")
    try:
        from db.database import Database

        db = await Database(url).open()  # migrated before the workers start (they would do it one at a time)
        await db.close()
        for user in USERS + MOTHERS:
            server.add_user(user, f"U{user}")

        started = time.monotonic()
        workers.start("w1")
        workers.start("w2")
        await until(lambda: all("listening on" in workers.log(n) for n in ("w1", "w2")), 30,
                    "both workers listening", workers.logs)
        await until(lambda: server.webhook is not None, 15, "setWebhook by the leader", workers.logs)
        leader = leader_of(url)
        assert leader in ("w1", "w2"), workers.logs()
        follower = "w2" if leader == "w1" else "w1"
        assert server.webhook["secret_token"] == SECRET
        assert server.webhook["url"] == f"http://127.0.0.1:{port}/tg"
        print(f"\n[workers] both listening and {leader} leading after {time.monotonic() - started:.1f}s")

        # (a) every user's update, whichever worker receives it, is handled once
        t0 = time.monotonic()
        for user in USERS:
            server.send_text(user, "/start")
        inbox = lambda: dict(sql(url, "SELECT status, COUNT(*) FROM update_inbox GROUP BY status"))  # noqa: E731
        await until(lambda: inbox() == {"done": len(USERS)} and not server.pending_updates(), 30,
                    "every update handled", workers.logs)
        answered = {user: len(server.bot_messages(user)) for user in USERS}
        await asyncio.sleep(0.3)  # nothing comes late either
        assert {user: len(server.bot_messages(user)) for user in USERS} == answered
        assert len(set(answered.values())) == 1 and min(answered.values()) >= 1, answered
        accepted = [(update, worker) for update, status, worker in server.webhook_deliveries if status == 200]
        assert len(accepted) == len(USERS) and len({u for u, _ in accepted}) == len(USERS)
        receivers = {worker for _, worker in accepted}
        assert receivers == {"w1", "w2"}, f"the kernel gave every connection to one worker: {accepted}"
        handlers = dict(sql(url, "SELECT claimed_by, COUNT(*) FROM update_inbox GROUP BY claimed_by"))
        print(f"[workers] (a) {len(USERS)} updates in {time.monotonic() - t0:.1f}s; received by "
              f"{ {w: sum(1 for _, x in accepted if x == w) for w in receivers} }, handled by {handlers}")

        # (b) due reminders: one worker sends them, each once
        seed_mothers(url)
        t0 = time.monotonic()
        plant_reminders(url, "morning")
        await until(lambda: all(s == "sent" for s, _ in statuses(url, "morning").values()), 15,
                    "the morning reminders sent", workers.logs)
        print(f"[workers] (b) {len(MOTHERS)} reminders sent {time.monotonic() - t0:.1f}s after they were due")
        for mother in MOTHERS:
            assert reminder_requests(server, mother) == 1 and reminders_delivered(server, mother) == 1
        assert {token.split("/")[0] for _, token in statuses(url, "morning").values()} == {leader}
        assert "leads now" in workers.log(leader) and "leads now" not in workers.log(follower)

        # (c) the leader dies while one reminder is on its way to Telegram
        held = MOTHERS[0]
        server.gates[held] = asyncio.Event()
        plant_reminders(url, "evening")
        await until(lambda: reminder_requests(server, held) == 2
                    and sum(s == "sent" for s, _ in statuses(url, "evening").values()) == len(MOTHERS) - 1,
                    15, "the evening wave, one request held", workers.logs)
        assert statuses(url, "evening")[held][0] == "sending"
        killed = time.monotonic()
        workers.kill(leader)
        takeover = await until(lambda: leader_of(url) == follower, 2 * CHECK_S + 5, "the takeover", workers.logs)
        print(f"[workers] (c) kill -9 {leader}: {follower} leads {takeover:.2f}s later "
              f"(LEADER_CHECK_SECONDS={CHECK_S})")
        assert takeover <= 2 * CHECK_S + 1
        server.drop_gate(held)  # the dead worker's request never reached Telegram
        await asyncio.sleep(2 * CHECK_S)  # the new leader's waves leave another worker's claim alone ...
        assert statuses(url, "evening")[held][0] == "sending"
        workers.start(leader)  # ... until that worker is back under its name and hands it back
        await until(lambda: statuses(url, "evening")[held][0] == "sent", 30,
                    "the held reminder sent after the restart", workers.logs)
        print(f"[workers] (c) the held reminder arrived {time.monotonic() - killed:.1f}s after the kill "
              f"(restart of {leader} included)")
        assert "previous process left are due again" in workers.log(leader)
        assert statuses(url, "evening")[held][1].startswith(f"{follower}/")
        for mother in MOTHERS:
            assert reminders_delivered(server, mother) == 2, mother  # morning and evening, once each
            assert reminder_requests(server, mother) == (3 if mother == held else 2)
        await until(lambda: "answers updates and stands by" in workers.log(leader), 10,
                    "the restarted worker following", workers.logs)
        assert leader_of(url) == follower

        codes = workers.stop_all()
        assert codes == {"w1": 0, "w2": 0}, workers.logs()
    finally:
        workers.stop_all(timeout=5)
        await server.stop()
        drop_database(name)


# ----------------------------------------------------------------- the parts
async def test_webhook_checks_the_secret_and_stores_before_answering():
    stored: list[dict] = []
    failing = False

    async def receive(payloads):
        if failing:
            raise ConnectionError("database away")
        stored.extend(payloads)

    server = await WebhookServer(receive=receive, secret="s3cret", path="tg", port=0, worker_id="w9").start()
    url = f"http://127.0.0.1:{server.port}/tg"
    try:
        async with aiohttp.ClientSession() as http:
            async def post(body, secret="s3cret"):
                async with http.post(url, data=body, headers={SECRET_HEADER: secret} if secret else {}) as r:
                    return r.status, r.headers.get(WORKER_HEADER)

            assert await post('{"update_id": 1}', secret="wrong") == (403, None)
            assert await post('{"update_id": 1}', secret=None) == (403, None)
            assert (await post("not json"))[0] == 400
            assert (await post('{"message": {}}'))[0] == 400
            assert await post('{"update_id": 5, "message": {"text": "hi"}}') == (200, "w9")
            failing = True
            assert (await post('{"update_id": 6}'))[0] == 500  # not stored: Telegram sends it again
    finally:
        await server.stop()
    assert stored == [{"update_id": 5, "message": {"text": "hi"}}]
    # without WEBHOOK_SECRET: a secret derived from the token, the same in every worker
    settings = Settings(_env_file=None, telegram_bot_token="1:abc")
    assert webhook_secret(settings) == webhook_secret(Settings(_env_file=None, telegram_bot_token="1:abc"))
    assert webhook_secret(settings) != webhook_secret(Settings(_env_file=None, telegram_bot_token="1:abd"))


def test_run_refuses_several_workers_without_webhook_or_postgres(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for key in ("WEBHOOK_URL", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.db"))
    assert main(["run", "--workers", "2"]) == 2
    assert "polling allows one consumer only" in capsys.readouterr().err.lower().replace("long ", "")
    assert main(["run", "--workers", "2", "--webhook", "https://bot.example.org"]) == 2
    assert "need PostgreSQL: set DATABASE_URL" in capsys.readouterr().err
    assert main(["run", "--workers", "0", "--webhook", "https://bot.example.org"]) == 2


def test_supervisor_restarts_a_dead_worker_and_passes_sigterm_on(tmp_path):
    """`--workers N`'s supervisor with stand-in workers (no bot): names, restart, SIGTERM."""
    child = (
        "import os, signal, sys, time\n"
        f"folder = {str(tmp_path)!r}\n"
        "name = os.environ['WORKER_ID']\n"
        "open(os.path.join(folder, f'{name}.{os.getpid()}.up'), 'w').close()\n"
        "def bye(*_):\n"
        "    open(os.path.join(folder, f'{name}.{os.getpid()}.term'), 'w').close(); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "while True: time.sleep(0.05)\n")
    supervisor = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "from bot.workers import Supervisor\n"
        f"sys.exit(Supervisor('http://x', ['sn-1', 'sn-2'], command=[sys.executable, '-c', {child!r}]).run())\n")
    process = subprocess.Popen([sys.executable, "-c", supervisor], cwd=ROOT, stderr=subprocess.PIPE, text=True)

    def up(name: str) -> list[int]:
        return sorted(int(p.name.split(".")[1]) for p in tmp_path.glob(f"{name}.*.up"))

    try:
        deadline = time.monotonic() + 20
        while not (up("sn-1") and up("sn-2")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert up("sn-1") and up("sn-2")
        first = up("sn-1")[0]
        os.kill(first, signal.SIGKILL)
        while len(up("sn-1")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(up("sn-1")) == 2, "the dead worker was started again, under its name"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    second = up("sn-1")[1]
    assert (tmp_path / f"sn-1.{second}.term").exists() and (tmp_path / f"sn-2.{up('sn-2')[0]}.term").exists()
    log = process.stderr.read()
    assert "sn-1" in log and "signal SIGKILL" in log


async def test_claims_on_postgres_skip_each_other_and_a_restarted_worker_takes_back_its_own():
    """Four dispatchers claiming at once. (The claim before `FOR UPDATE SKIP LOCKED` and the
    status check on the claimed row, measured the same way: 474 claims for 200 rows.)"""
    from db.database import Database
    from db.queries import reminders as q

    name = f"sn_claims_{os.getpid()}"
    url = fresh_database(name)
    db = await Database(url).open()
    try:
        seed_many = [(9000 + i,) for i in range(120)]
        now = now_iso()
        await db.executemany("INSERT INTO app_user(telegram_id, role, language, consent_at, created_at)"
                             f" VALUES (?, 'mother', 'id', '{now}', '{now}')", seed_many)
        await db.executemany("INSERT INTO mother(user_id, display_name, delivery_date, first_child, timezone,"
                             f" pseudonym, created_at) VALUES (?, 'Ibu', '2026-01-01', 1, 'Asia/Jakarta', ?, '{now}')",
                             [(m, f"P{m}") for (m,) in seed_many])
        await db.executemany("INSERT INTO reminder_delivery(recipient_id, mother_id, slot_date, slot, due_at,"
                             " status, updated_at) VALUES (?, ?, '2026-01-02', 'morning', ?, 'pending', ?)",
                             [(m, m, now, now) for (m,) in seed_many])

        async def claimer(worker: str) -> list[int]:
            got = []
            while True:
                async with db.transaction():
                    claimed, _ = await q.claim(db, now_iso(1), "2000-01-01T00:00:00Z", 7, f"{worker}/p/1", now)
                if not claimed:
                    return got
                got += [d.id for d in claimed]
                await asyncio.sleep(0)

        found = await asyncio.gather(*(claimer(f"c{i}") for i in range(4)))
        every = [i for ids in found for i in ids]
        assert len(every) == len(set(every)) == 120  # no row claimed twice, none left behind

        ids = sorted(every)
        await db.execute("UPDATE reminder_delivery SET claim_token = 'w1/dead/1', status = 'sending'"
                         " WHERE id IN ?", (tuple(ids[:3]),))
        await db.execute("UPDATE reminder_delivery SET claim_token = 'w1/live/1' WHERE id IN ?", (tuple(ids[3:5]),))
        await db.execute("UPDATE reminder_delivery SET claim_token = 'w10/dead/1' WHERE id IN ?", (tuple(ids[5:7]),))
        assert await q.recover_own(db, "w1", "w1/live/", True, now) == (0, 3)
        rows = {r["id"]: (r["status"], r["reason"]) for r in
                await db.fetchall("SELECT id, status, reason FROM reminder_delivery WHERE id IN ?", (tuple(ids[:7]),))}
        assert [rows[i] for i in ids[:3]] == [("pending", "uncertain")] * 3
        assert all(rows[i][0] == "claimed" for i in ids[3:7])  # its live process's, another worker's
        assert q.claim_owner("w1/dead/1") == "w1" and q.claim_owner("abc-1") is None
    finally:
        await db.close()
        drop_database(name)


def test_workers_share_the_hosts_postgresql_connections():
    """Four workers of up to 30 connections each once met "too many clients" at a server's 100
    (measured in bench.interactive): each worker gets its share of DATABASE_CONNECTIONS."""
    from bot.workers import worker_connections
    from db.database import Database

    settings = Settings(_env_file=None, telegram_bot_token="1:abc")
    assert settings.database_connections == 60
    assert [worker_connections(settings, n) for n in (1, 2, 4, 10)] == [60, 30, 15, 8]
    four = Database("postgresql://postgres@127.0.0.1:5432/test", connections=15 - 3)
    assert (four._kept(), four.connections - four._kept()) == (4, 8)     # pool, overflow
    one = Database("postgresql://postgres@127.0.0.1:5432/test", connections=60 - 3)
    assert (one._kept(), one.connections - one._kept()) == (10, 47)
