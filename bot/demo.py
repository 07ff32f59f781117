"""`sahabat-nifas demo`: the real bot against the loopback Bot API, chatted with in the terminal.

You type as a user; buttons show numbered and you press one by typing its number. Lines
starting with `:` steer the demo (switch person, move the clock, open a link). When standard
input is not a terminal, the same lines are read one by one and the demo ends at the end.
"""
from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.clock import FakeClock, iso
from bot.config import Settings
from db.queries import clinics
from loopback.driver import LINK, BotDriver, Person
from loopback.server import SentMessage

HELP = """\
Perintah demo / demo commands:
  (teks biasa)        kirim sebagai pengguna saat ini / send as the current user
  <angka>             tekan tombol bernomor / press the numbered button (or answer a poll)
  :ibu :pendamping :bidan   ganti pengguna / switch person (mother, companion, midwife)
  :jam +30m | +2h | +1d     majukan jam / move the clock forward (reminders arrive)
  :link               buka tautan terakhir (undangan pendamping) / open the latest t.me link shown
  :link-bidan         buka tautan kode bidan Puskesmas demo / open the demo clinic's midwife link
  :link-ibu           buka tautan ibu Puskesmas demo / open the demo clinic's mother link
  :stiker             kirim stiker / send a sticker
  :bantuan :help      bantuan ini / this help
  :keluar :quit       selesai / quit"""

PEOPLE = {"ibu": (2001, "Sari"), "pendamping": (2002, "Budi"), "bidan": (2003, "Rina")}
ALIASES = {"mother": "ibu", "companion": "pendamping", "midwife": "bidan"}
_DELTA = re.compile(r"^\+?(\d+)\s*([mhd])$")


def parse_delta(text: str) -> timedelta | None:
    match = _DELTA.match(text.strip().lower())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


class TerminalDemo:
    def __init__(self, driver: BotDriver, clock: FakeClock, out=sys.stdout):
        self.driver = driver
        self.clock = clock
        self.out = out
        self.people: dict[str, Person] = {}
        self.current = "ibu"
        self.shown: dict[int, dict[int, int]] = {}  # user -> message id -> edits seen
        self.choices: list[tuple[SentMessage, str]] = []  # numbered buttons of the current person
        self.links: dict[str, str] = {}

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def setup(self, lang: str) -> None:
        db = self.driver.app.services.db
        clinic, code = await clinics.create_clinic(db, "Puskesmas Demo", "Asia/Jakarta", iso(self.clock.now()))
        user = self.driver.server.bot_username
        self.links = {"bidan": f"https://t.me/{user}?start=w_{code}",
                      "ibu": f"https://t.me/{user}?start=m_{clinic.mother_code}"}
        for key, (user_id, name) in PEOPLE.items():
            self.people[key] = self.driver.user(user_id, name, lang)
            self.shown[user_id] = {}

    @property
    def person(self) -> Person:
        return self.people[self.current]

    def print_new(self) -> None:
        """Print what the bot sent (or edited) since last time, for everyone; number buttons."""
        for key, person in self.people.items():
            seen = self.shown[person.user_id]
            for message in person.messages():
                if seen.get(message.message_id) == message.edits:
                    continue
                edited = message.message_id in seen
                seen[message.message_id] = message.edits
                self.print_message(key, person, message, edited)

    def print_message(self, key: str, person: Person, message: SentMessage, edited: bool) -> None:
        name = PEOPLE[key][1]
        head = f"🤖 → {name} ({key})" + (" [diperbarui/edited]" if edited else "")
        self.say(head)
        if message.kind in ("photo", "animation"):
            self.say(f"   [gambar/picture {message.kind}]")
        elif message.kind == "document":
            self.say(f"   [berkas/file: {message.file_name}]")
        if message.poll:
            self.say("   " + message.poll["question"])
        for line in message.body.splitlines():
            self.say("   " + line)
        if key != self.current:
            return
        if message.poll:
            self.choices = [(message, f"poll:{i}") for i, _ in enumerate(message.poll["options"])]
            for number, option in enumerate(message.poll["options"], 1):
                self.say(f"   [{number}] {option['text']}")
        elif message.buttons:
            self.choices = []
            for button in message.buttons:
                if "callback_data" in button:
                    self.choices.append((message, button["callback_data"]))
                    self.say(f"   [{len(self.choices)}] {button['text']}")
                else:
                    self.say(f"   [link] {button['text']}: {button.get('url', '')}")
        self.say()

    async def handle(self, line: str) -> bool:
        """One line of input; False ends the demo."""
        text = line.strip()
        if not text:
            return True
        if text.startswith(":"):
            return await self.command(text[1:].strip())
        if text.isdigit() and self.choices:
            index = int(text) - 1
            if not 0 <= index < len(self.choices):
                self.say(f"(pilih 1-{len(self.choices)} / choose 1-{len(self.choices)})")
                return True
            message, data = self.choices[index]
            if data.startswith("poll:"):
                await self.person.answer_poll(message.poll["id"], [int(data[5:])])
            else:
                await self.person.press_data(message, data)
        elif LINK.search(text):
            await self.person.open_link(text)
        else:
            await self.person.send(text)
        self.print_new()
        return True

    async def command(self, command: str) -> bool:
        word, _, rest = command.partition(" ")
        word = ALIASES.get(word.lower(), word.lower())
        if word in self.people:
            self.current = word
            self.choices = []
            self.say(f"(sekarang Anda / now you are: {PEOPLE[word][1]}, {word})")
        elif word in ("jam", "clock"):
            delta = parse_delta(rest)
            if delta is None:
                self.say("(contoh / example: :jam +2h)")
                return True
            self.clock.advance(delta)
            for hook in self.driver.app.services.clock_hooks:
                await hook(self.driver.app)
            local = self.clock.now().astimezone(timezone(timedelta(hours=7)))
            self.say(f"(jam / clock: {local:%d-%m-%Y %H:%M} WIB)")
            self.print_new()
        elif word == "link":
            link = self.latest_link()
            if link is None:
                self.say("(belum ada tautan / no link yet)")
                return True
            await self.person.open_link(link)
            self.print_new()
        elif word in ("link-bidan", "link-ibu"):
            await self.person.open_link(self.links[word.split("-")[1]])
            self.print_new()
        elif word in ("stiker", "sticker"):
            await self.person.send_other("sticker")
            self.print_new()
        elif word in ("keluar", "quit", "exit"):
            return False
        else:
            self.say(HELP)
        return True

    def latest_link(self) -> str | None:
        found = None
        for person in self.people.values():
            for message in person.messages():
                match = LINK.search(message.body)
                if match and "start=c_" in match.group(0):
                    found = match.group(0)
        return found


async def _lines(interactive: bool):
    while True:
        if interactive:
            line = await asyncio.to_thread(input, "> ")
        else:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            print(f"> {line.rstrip()}", flush=True)
        yield line


async def run_demo(database: str | None = None, lang: str = "id") -> int:
    with tempfile.TemporaryDirectory(prefix="sahabat-nifas-demo-") as tmp:
        path = Path(database) if database else Path(tmp) / "demo.db"
        settings = Settings(_env_file=None, database_path=path, telegram_bot_token="0:demo")
        start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        clock = FakeClock(start)
        driver = BotDriver(settings, clock=clock)
        await driver.start()
        demo = TerminalDemo(driver, clock)
        try:
            await demo.setup(lang)
            demo.say("Sahabat Nifas — demo di terminal (bot asli, Telegram tiruan di 127.0.0.1).")
            demo.say(HELP)
            demo.say(f"(sekarang Anda / now you are: {PEOPLE[demo.current][1]}, ibu) — ketik /start\n")
            interactive = sys.stdin.isatty()
            try:
                async for line in _lines(interactive):
                    if not await demo.handle(line):
                        break
            except (EOFError, KeyboardInterrupt):
                pass
        finally:
            await driver.stop()
    return 0
