"""One rate budget per bot token (issue 9.5): replies first, a per-chat 429 holds one chat, an
overall 429 holds replies and the wave alike, and a reply outlives a Telegram outage."""
from __future__ import annotations

import asyncio
import heapq
import itertools

from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.ratelimit import PatientRateLimiter, replying_to
from reminders.ratelimit import SharedBudget


class VirtualTime:
    """A clock that jumps to the next sleeper once every task is waiting (no real sleeps)."""

    def __init__(self):
        self.now = 1000.0
        self._sleepers: list = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def run(self, until: float) -> None:
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= until:
            at, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            if not future.done():
                future.set_result(None)
            await self.settle()
        self.now = max(self.now, until)


def budget_and_limiter(fake: VirtualTime, rate: float = 10.0):
    budget = SharedBudget(rate, chat_interval=1.0, burst_s=0.0, monotonic=fake.monotonic, sleep=fake.sleep)
    limiter = PatientRateLimiter(budget=budget, backoff_s=0.5, retry_window_s=60.0,
                                 monotonic=fake.monotonic, sleep=fake.sleep)
    return budget, limiter


async def send(limiter: PatientRateLimiter, chat: int, callback) -> object:
    return await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, None)


async def test_replies_take_priority_over_the_wave():
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake, rate=10.0)
    log: list[tuple[str, float]] = []

    async def wave():
        for _ in range(40):
            log.append(("wave", await budget.acquire_wave()))

    async def reply(chat: int):
        async def call():
            log.append(("reply", fake.now))
            return {"ok": True}
        await send(limiter, chat, call)

    wave_task = asyncio.create_task(wave())
    await fake.run(1001.0)  # the wave has the budget alone for a second: 10/s
    assert sum(1 for who, _ in log if who == "wave") in (10, 11)
    arrived = fake.now
    replies = [asyncio.create_task(reply(chat)) for chat in range(1, 11)]
    await fake.run(1010.0)
    await asyncio.gather(wave_task, *replies)
    after = [(who, t) for who, t in log if t >= arrived]
    # at most the one wave slot already reserved goes before the ten replies
    first_replies = [who for who, _ in after[:11]]
    assert first_replies.count("reply") == 10
    reply_times = [t for who, t in log if who == "reply"]
    assert max(reply_times) - arrived <= 1.1 + 1e-9  # ten replies at 10/s: a second
    # and the total never exceeds the cap: 10 a second, replies and wave together
    times = sorted(t for _, t in log)
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:]))


async def test_a_per_chat_429_pauses_only_that_chat():
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake)
    answered: dict[int, list[float]] = {1: [], 2: []}
    refused = [False]

    def callback(chat: int):
        async def call():
            if chat == 1 and answered[1] and not refused[0]:
                refused[0] = True
                raise RetryAfter(3)
            answered[chat].append(fake.now)
            return {"ok": True}
        return call

    await send(limiter, 1, callback(1))            # chat 1 had a message just now...
    start = fake.now
    second = asyncio.create_task(send(limiter, 1, callback(1)))  # ...so this 429 is the per-chat limit
    await fake.run(start + 0.5)
    other = asyncio.create_task(send(limiter, 2, callback(2)))
    await fake.run(start + 1.0)
    assert answered[2] and answered[2][0] < start + 1.0  # another chat did not wait
    wave_slot = asyncio.create_task(budget.acquire_wave())
    await fake.run(start + 1.5)
    assert wave_slot.done() and wave_slot.result() < start + 1.5  # nor did the wave
    assert budget.chat_pauses == 1 and budget.overall.pauses == 0
    await fake.run(start + 10)
    await asyncio.gather(second, other)
    assert answered[1][1] >= start + 3  # chat 1 waited its retry_after
    # the wave's pump sees the chat held too
    assert budget.spacing.ready_at(1) >= start + 3


async def test_an_overall_429_pauses_replies_and_the_wave():
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake)
    answered: list[tuple[int, float]] = []
    refused = [False]

    def callback(chat: int):
        async def call():
            if not refused[0]:
                refused[0] = True
                raise RetryAfter(5)   # chat 7 had no message lately: the overall limit
            answered.append((chat, fake.now))
            return {"ok": True}
        return call

    start = fake.now
    first = asyncio.create_task(send(limiter, 7, callback(7)))
    await fake.run(start + 0.2)
    assert budget.overall.pauses == 1 and budget.chat_pauses == 0
    other = asyncio.create_task(send(limiter, 8, callback(8)))
    wave_slot = asyncio.create_task(budget.acquire_wave())
    await fake.run(start + 20)
    await asyncio.gather(first, other)
    assert all(t >= start + 5 for _, t in answered)      # replies to every chat waited
    assert wave_slot.result() >= start + 5               # and so did the wave

    # and the other way round: the wave's overall 429 (dispatcher._refused) holds the replies
    again = fake.now
    budget.pause_for(9, 4, follows=False)
    late = asyncio.create_task(send(limiter, 9, callback(9)))
    await fake.run(again + 20)
    await late
    assert answered[-1] == (9, answered[-1][1]) and answered[-1][1] >= again + 4


async def test_a_reply_outlives_a_telegram_outage_but_not_a_refusal():
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake)
    down_until = fake.now + 6.0
    calls = [0]

    async def flaky():
        calls[0] += 1
        if fake.now < down_until:
            raise NetworkError("Bad Gateway")
        return {"ok": True}

    token = replying_to.set(5)
    try:
        task = asyncio.create_task(send(limiter, 5, flaky))
        await fake.run(fake.now + 30)
        assert await task == {"ok": True} and calls[0] >= 4
        refusals = [0]

        async def refused():
            refusals[0] += 1
            raise BadRequest("Chat not found")

        task = asyncio.create_task(send(limiter, 5, refused))
        await fake.run(fake.now + 30)
        assert isinstance(task.exception(), BadRequest) and refusals[0] == 1
        # longer than the window: given up at last
        down_until = fake.now + 1000
        task = asyncio.create_task(send(limiter, 5, flaky))
        await fake.run(fake.now + 200)
        assert isinstance(task.exception(), NetworkError)
    finally:
        replying_to.reset(token)


async def test_a_message_sent_during_six_seconds_of_502_is_answered(db_url, clock):
    """End to end: the stand-in answers 502 for 6 s (of the limiter's injected time); the
    mother's /menu is still answered when it is back (before: 3 retries in 3.5 s, then lost)."""
    from bot.config import Settings
    from loopback import Fault
    from loopback.driver import BotDriver
    from tests.test_onboarding import register_mother

    settings = Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                        telegram_retry_backoff_s=0.5)
    driver = BotDriver(settings, clock=clock)
    await driver.start()
    try:
        sari = await register_mother(driver, 1001, "Sari")
        limiter = driver.app.bot.rate_limiter
        fake = {"now": 0.0}
        fault = Fault(code=502, method="sendMessage", times=10_000)

        async def waiting(seconds: float) -> None:  # the backoff passes in no real time
            fake["now"] += seconds
            if fake["now"] >= 6.0 and fault in driver.server.faults:
                driver.server.faults.remove(fault)  # Telegram is back
            await asyncio.sleep(0)

        limiter._monotonic, limiter._sleep = (lambda: fake["now"]), waiting
        driver.server.faults.append(fault)
        replies = await sari.send("/menu")
        assert replies and "Menu Sahabat Nifas" in replies[-1].body
        assert fake["now"] >= 6.0 and limiter.server_error_retries >= 4
        assert ("sendMessage", 502, "Injected error 502") in driver.server.refusals
    finally:
        await driver.stop()


# ------------------------------------------------------------ one request a second per chat
async def call_of(endpoint: str):
    return endpoint


async def request(limiter: PatientRateLimiter, endpoint: str, chat: int | None, log: list, fake: VirtualTime):
    async def callback():
        log.append((endpoint, chat, fake.now))
        return {"ok": True}
    data = {"chat_id": chat} if chat is not None else {"callback_query_id": "1"}
    replying_to.set(chat)  # a reply to this chat (this task's context only)
    return await limiter.process_request(callback, (), {}, endpoint, data, None)


async def test_requests_to_one_chat_are_spaced_in_advance_edits_included():
    """Telegram counts edits like messages, one a second per chat: a reply of a message, an edit
    and a message to one chat goes one after the other, each a chat interval after the answer to
    the one before, with no 429 to meet; another chat, and what is not a message, do not wait."""
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake, rate=30.0)
    log: list = []
    start = fake.now
    reply = asyncio.gather(request(limiter, "sendMessage", 1, log, fake),
                           request(limiter, "editMessageText", 1, log, fake),
                           request(limiter, "sendPhoto", 1, log, fake))
    others = asyncio.gather(request(limiter, "sendMessage", 2, log, fake),
                            request(limiter, "answerCallbackQuery", None, log, fake),
                            request(limiter, "sendChatAction", 1, log, fake))
    await fake.run(start + 10)
    await reply, await others
    to_one = [t for endpoint, chat, t in log if chat == 1 and endpoint != "sendChatAction"]
    assert len(to_one) == 3 and all(b - a >= 1.0 - 1e-9 for a, b in zip(to_one, to_one[1:]))
    assert to_one[-1] - start < 2.5                          # spaced, not slowed further
    assert [t for endpoint, chat, t in log if chat == 2][0] - start < 0.1
    assert all(t - start < 0.1 for endpoint, _, t in log if endpoint in ("answerCallbackQuery", "sendChatAction"))
    assert limiter.http_429 == 0 and budget.replies == 5     # every request with a chat took an overall slot


async def test_a_reply_waits_for_the_waves_message_to_that_chat_and_the_wave_for_it():
    fake = VirtualTime()
    budget, limiter = budget_and_limiter(fake, rate=30.0)
    log: list = []
    await budget.spacing.before_send(5)      # the wave sends chat 5 its reminder...
    sent = fake.now
    budget.spacing.after_send(5)             # ...answered now
    reply = asyncio.create_task(request(limiter, "sendMessage", 5, log, fake))
    await fake.run(sent + 5)
    await reply
    assert log[0][2] >= sent + 1.0           # the reply kept the chat's second
    await budget.spacing.before_send(5)      # and the wave's next message to chat 5 waits for the reply
    assert fake.now >= log[0][2] + 1.0


async def test_without_spacing_a_reply_meets_the_per_chat_limit_as_a_429():
    """`TELEGRAM_CHAT_INTERVAL_S=0` (the tests' default): two requests to a chat go at once."""
    fake = VirtualTime()
    budget = SharedBudget(30.0, chat_interval=1.0, burst_s=0.0, space_chats=False,
                          monotonic=fake.monotonic, sleep=fake.sleep)
    limiter = PatientRateLimiter(budget=budget, monotonic=fake.monotonic, sleep=fake.sleep)
    log: list = []
    start = fake.now
    both = asyncio.gather(request(limiter, "sendMessage", 1, log, fake), request(limiter, "sendMessage", 1, log, fake))
    await fake.run(start + 5)
    await both
    assert [t for _, _, t in log][-1] - start < 0.1


async def test_the_running_bot_spaces_requests_to_a_chat(db_url, clock):
    """Front door: registration with TELEGRAM_CHAT_INTERVAL_S=0.15; every button press is an edit
    (the pressed buttons closed) and a message (the next question) to the same chat. At the
    stand-in, consecutive requests to her chat arrive at least 0.15 s apart."""
    import time

    from bot.config import Settings
    from loopback.driver import BotDriver
    from loopback.server import LoopbackBotAPI
    from tests.test_onboarding import register_mother

    arrivals: list[tuple[str, float]] = []

    class Timed(LoopbackBotAPI):
        async def _dispatch(self, method, raw, uploads):
            if str(raw.get("chat_id", "")) == "1001" and method.startswith(("send", "edit")):
                arrivals.append((method, time.monotonic()))
            return await super()._dispatch(method, raw, uploads)

    settings = Settings(_env_file=None, database_url=db_url, telegram_bot_token="0:placeholder",
                        telegram_retry_backoff_s=0.01, telegram_chat_interval_s=0.15)
    driver = BotDriver(settings, clock=clock, server=Timed())
    await driver.start()
    try:
        assert driver.app.services.budget.space_chats
        await register_mother(driver, 1001, "Sari")
    finally:
        await driver.stop()
    kinds = {method for method, _ in arrivals}
    assert len(arrivals) >= 10 and {"sendMessage", "editMessageText"} <= kinds
    gaps = [b - a for (_, a), (_, b) in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= 0.15 - 0.02, gaps

