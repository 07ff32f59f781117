"""Concurrent updates, in order per chat: one user waiting on Telegram does not hold up the
others, and one user's updates are handled in the order they came."""
from __future__ import annotations

import asyncio

from telegram import Update

from bot.updates import PerChatUpdateProcessor
from test_onboarding import register_mother


def update(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "X"}, "text": "hi"}}, None)


async def test_processor_keeps_order_per_chat_and_lets_other_chats_pass():
    processor = PerChatUpdateProcessor(10)
    done: list[tuple[int, int]] = []
    gate = asyncio.Event()

    async def handle(chat: int, n: int, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        done.append((chat, n))

    tasks = [asyncio.create_task(processor.process_update(update(1, 1), handle(1, 1, wait=True))),
             asyncio.create_task(processor.process_update(update(2, 1), handle(1, 2))),
             asyncio.create_task(processor.process_update(update(3, 2), handle(2, 1))),
             asyncio.create_task(processor.process_update(update(4, 1), handle(1, 3)))]
    while (2, 1) not in done:  # the other chat is served while chat 1 waits
        await asyncio.sleep(0)
    assert done == [(2, 1)] and processor.chats_in_flight == 1
    gate.set()
    await asyncio.gather(*tasks)
    assert done == [(2, 1), (1, 1), (1, 2), (1, 3)]
    assert processor.chats_in_flight == 0  # no lock kept for a chat with nothing waiting


async def test_a_user_waiting_on_telegram_does_not_hold_up_others_and_keeps_her_order(driver):
    sari = await register_mother(driver, 6001, "Sari")
    dewi = await register_mother(driver, 6002, "Dewi")
    server, app = driver.server, driver.app
    server.gates[6001] = asyncio.Event()           # Sari's answers hang in "Telegram"
    start = len(sari.messages())
    first = server.send_text(6001, "/menu")
    second = server.send_text(6001, "/bantuan")
    before = len(dewi.messages())
    await dewi.send("/menu")                        # handled while Sari's first update waits
    assert "Menu" in dewi.messages()[before].body
    assert first not in app._processed and second not in app._processed
    server.gates.pop(6001).set()
    await driver.deliver(first)
    await driver.deliver(second)
    texts = [m.body for m in sari.messages()[start:]]
    assert texts[0].startswith("Menu Sahabat Nifas")      # /menu first, then /bantuan's help
    assert texts[1].startswith("Yang bisa Ibu lakukan")
