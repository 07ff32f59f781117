"""Run the real application against the loopback Bot API and play users: tests and demo.

    driver = BotDriver(settings, clock=FakeClock())
    await driver.start()
    sari = driver.user(1001, "Sari")
    await sari.send("/start")
    await sari.press("Saya setuju")
    ...
    await driver.stop()
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from bot.application import BotApplication, build_application
from bot.clock import Clock
from bot.config import Settings
from bot.polling import Poller, start_polling
from loopback.server import LoopbackBotAPI, SentMessage

LINK = re.compile(r"https://t\.me/(\w+)\?start=([\w-]+)")


class BotDriver:
    def __init__(self, settings: Settings, clock: Clock | None = None, server: LoopbackBotAPI | None = None,
                 configure: Callable[[BotApplication], None] | None = None):
        self.server = server or LoopbackBotAPI()
        self.base_settings = settings
        self.clock = clock
        self.configure = configure
        self.app: BotApplication | None = None
        self.poller: Poller | None = None
        self.settings = settings

    async def start(self) -> "BotDriver":
        if not self.server.base_url:
            await self.server.start()
        await self.start_app()
        return self

    async def start_app(self) -> BotApplication:
        self.settings = self.base_settings.model_copy(update={
            "telegram_bot_token": self.server.token,
            "telegram_api_base_url": self.server.base_url,
        })
        self.app = build_application(self.settings, clock=self.clock, configure=self.configure)
        await self.app.initialize()
        await self.app.start()
        # Our own poller and the update inbox (bot/polling.py), as `sahabat-nifas run` polls:
        # every update is stored before it is confirmed, and marked done with its handler's rows.
        self.poller = await start_polling(self.app, timeout_s=1, probe_s=0)
        return self.app

    async def stop_app(self) -> None:
        """Graceful stop, as on SIGTERM."""
        app, self.app = self.app, None
        if app is None:
            return
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.stop()  # stops the application too, after the updates in hand
        elif app.running:
            await app.stop()
        await app.shutdown()

    async def kill_app(self) -> None:
        """Stop without the graceful steps: no final persistence flush, no job finishing."""
        app, self.app = self.app, None
        if app is None:
            return
        if app.job_queue is not None and app.job_queue.scheduler.running:
            app.job_queue.scheduler.shutdown(wait=False)
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.abort()  # no final confirm, no release of claims: as if the process died
        app._running = False  # noqa: SLF001 - simulate a crash: skip Application.stop()
        await app.services.db.close()

    async def restart(self, graceful: bool = True) -> BotApplication:
        await (self.stop_app() if graceful else self.kill_app())
        return await self.start_app()

    async def stop(self) -> None:
        await self.stop_app()
        await self.server.stop()

    def user(self, user_id: int, first_name: str = "Sari", language_code: str = "id") -> "Person":
        self.server.add_user(user_id, first_name, language_code)
        return Person(self, user_id)

    async def deliver(self, update_id: int) -> None:
        assert self.app is not None, "the bot is not running"
        await self.app.wait_processed(update_id)


@dataclass
class Person:
    driver: BotDriver
    user_id: int

    @property
    def server(self) -> LoopbackBotAPI:
        return self.driver.server

    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this person, oldest first."""
        return self.server.bot_messages(self.user_id)

    @property
    def last(self) -> SentMessage:
        return self.messages()[-1]

    def texts_since(self, count: int) -> list[str]:
        return [m.body for m in self.messages()[count:]]

    async def send(self, text: str) -> list[SentMessage]:
        """Type a message; returns what the bot answered to it."""
        before = len(self.messages())
        await self.driver.deliver(self.server.send_text(self.user_id, text))
        return self.messages()[before:]

    async def reply(self, message: SentMessage, text: str) -> list[SentMessage]:
        """Reply in Telegram (swipe) to `message` with a text."""
        before = len(self.messages())
        await self.driver.deliver(self.server.send_text(self.user_id, text, reply_to=message))
        return self.messages()[before:]

    async def send_media(self, kind: str, caption: str | None = None,
                         reply_to: SentMessage | None = None) -> list[SentMessage]:
        """Send a photo (`kind="photo"`, optional caption) or a voice note (`"voice"`)."""
        before = len(self.messages())
        await self.driver.deliver(self.server.send_media(self.user_id, kind, caption, reply_to))
        return self.messages()[before:]

    async def send_other(self, kind: str) -> list[SentMessage]:
        before = len(self.messages())
        await self.driver.deliver(self.server.send_other(self.user_id, kind))
        return self.messages()[before:]

    def find_button(self, label: str) -> tuple[SentMessage, dict]:
        """The newest button whose text contains `label` (or whose data equals it)."""
        for message in reversed(self.messages()):
            for button in message.buttons:
                if label == button.get("callback_data") or label.lower() in button["text"].lower():
                    return message, button
        raise AssertionError(f"no button {label!r}; last: {self.last.body[:200]!r} {self.last.buttons}")

    async def press(self, label: str) -> list[SentMessage]:
        message, button = self.find_button(label)
        return await self.press_data(message, button["callback_data"])

    async def press_data(self, message: SentMessage, data: str) -> list[SentMessage]:
        """Press a button with any callback data (a stale or forged one too)."""
        before = len(self.messages())
        await self.driver.deliver(self.server.press(self.user_id, message, data))
        return self.messages()[before:]

    async def answer_poll(self, poll_id: str, option_ids: list[int]) -> list[SentMessage]:
        before = len(self.messages())
        await self.driver.deliver(self.server.answer_poll(self.user_id, poll_id, option_ids))
        return self.messages()[before:]

    async def open_link(self, text: str) -> list[SentMessage]:
        """Open the first t.me deep link found in `text`, as Telegram does: /start <payload>."""
        match = LINK.search(text)
        assert match, f"no link in {text!r}"
        return await self.send(f"/start {match.group(2)}")

    def callback_answers(self) -> list[dict]:
        return [a for a in self.server.callback_answers.values() if a]

    # ------------------------------------------------ what an update changed, what it cost
    def marks(self) -> dict[int, int]:
        """Each of the bot's messages to this person, by id, with how often it was edited so far
        (to compare with `shown_since` after an update)."""
        return {m.message_id: m.edits for m in self.messages()}

    def shown_since(self, marks: dict[int, int]) -> list[SentMessage]:
        """The bot's messages sent after `marks` was taken, and the older ones edited since (with
        their current text and buttons), oldest first."""
        return [m for m in self.messages() if m.message_id not in marks or m.edits > marks[m.message_id]]

    async def press_shown(self, label: str) -> list[SentMessage]:
        """Press like `press`; returns the messages the press sent *or edited* (a flow that
        turns the pressed message into its next step sends nothing new)."""
        message, button = self.find_button(label)
        return await self.press_data_shown(message, button["callback_data"])

    async def press_data_shown(self, message: SentMessage, data: str) -> list[SentMessage]:
        """`press_data`, returning the messages sent or edited by the press."""
        marks = self.marks()
        await self.press_data(message, data)
        return self.shown_since(marks)

    def requests_since(self, count: int) -> list[str]:
        """The methods of the requests the bot made to this person's chat after the first `count`
        of `server.requests` (sends and edits: what Telegram counts against its limits per chat;
        the answer to a button press names no chat and is free)."""
        return [method for method, params in self.server.requests[count:]
                if str(params.get("chat_id")) == str(self.user_id)]
