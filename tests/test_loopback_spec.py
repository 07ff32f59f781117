"""The stand-in refuses what Telegram refuses, and its copy of the Bot API spec is current."""
from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from loopback import Fault, LoopbackBotAPI
from tools.extract_bot_api import DEFAULT_SPEC, compact

ROOT = Path(__file__).resolve().parents[1]


def test_compact_spec_matches_shared_spec():
    if not DEFAULT_SPEC.exists():
        if os.environ.get("CI"):  # CI always has ../shared beside the clone: never skip there
            pytest.fail(f"{DEFAULT_SPEC} is missing")
        pytest.skip("../shared/telegram-bot-api is not here")
    ours = json.loads((ROOT / "loopback" / "bot_api_methods.json").read_text())
    assert ours == compact(json.loads(DEFAULT_SPEC.read_text()))


@pytest.fixture
async def api():
    server = await LoopbackBotAPI().start()
    server.add_user(1, "Sari")
    async with httpx.AsyncClient(base_url=server.base_url + server.token + "/") as client:
        yield server, client
    await server.stop()


async def call(client, method, **params):
    response = await client.post(method, json=params)
    return response.status_code, response.json()


async def test_refusals(api):
    server, client = api
    assert (await call(client, "sendMessage", chat_id=1, text="x" * 4097))[0] == 400
    assert (await call(client, "sendMessage", chat_id=1, text=""))[0] == 400
    assert (await call(client, "sendMessage", chat_id=99, text="hi"))[1]["description"].endswith("chat not found")
    assert (await call(client, "sendMessage", chat_id=1))[0] == 400  # text is required
    assert (await call(client, "sendMessage", chat_id=1, text="hi", colour="red"))[0] == 400
    assert (await call(client, "sendMesage", chat_id=1, text="hi"))[0] == 404
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}
    assert (await call(client, "sendMessage", chat_id=1, text="hi", reply_markup=markup))[0] == 400
    status, body = await call(client, "sendMessage", chat_id=1, text="hi")
    assert status == 200
    message_id = body["result"]["message_id"]
    status, body = await call(client, "editMessageText", chat_id=1, message_id=message_id, text="hi")
    assert status == 400 and "not modified" in body["description"]
    server.block(1)
    assert (await call(client, "sendMessage", chat_id=1, text="hi"))[0] == 403


async def test_injected_429_carries_retry_after(api):
    server, client = api
    server.faults.append(Fault(code=429, method="sendMessage", times=1, retry_after=3))
    status, body = await call(client, "sendMessage", chat_id=1, text="hi")
    assert status == 429 and body["parameters"]["retry_after"] == 3
    assert (await call(client, "sendMessage", chat_id=1, text="hi"))[0] == 200


async def test_poll_limits(api):
    server, client = api
    ok = dict(chat_id=1, question="Q?", options=[{"text": "a"}, {"text": "b"}], type="quiz", correct_option_ids=[1])
    assert (await call(client, "sendPoll", **ok))[0] == 200
    assert (await call(client, "sendPoll", **{**ok, "question": "q" * 301}))[0] == 400
    assert (await call(client, "sendPoll", **{**ok, "options": [{"text": "a"}]}))[0] == 400
    assert (await call(client, "sendPoll", **{**ok, "explanation": "e" * 201}))[0] == 400


async def test_formatted_text_is_parsed_as_strictly_as_telegram(api):
    server, client = api

    async def status(text, parse_mode=None):
        params = {"chat_id": 1, "text": text}
        if parse_mode is not None:
            params["parse_mode"] = parse_mode
        code, body = await call(client, "sendMessage", **params)
        return code, body.get("description", "")

    assert (await status("<b>bold</b> &amp; <i>it</i>", "HTML"))[0] == 200
    assert (await status("<pre>a &lt; b</pre>", "HTML"))[0] == 200
    for bad in ("<b>unclosed", "a < b", "fish & chips", "<blink>x</blink>", "<b><i>x</b></i>", "x</b>"):
        code, description = await status(bad, "HTML")
        assert code == 400 and "can't parse entities" in description, bad
    assert (await status("hi", "Klingon")) == (400, "Bad Request: unsupported parse_mode")
    assert (await status("   \n\t "))[0] == 400
    assert (await status("<b> </b>", "HTML"))[0] == 400
    assert (await status("1.5 kg", "MarkdownV2"))[0] == 400
    assert (await status("1\\.5 kg *tebal*", "MarkdownV2"))[0] == 200
    # Telegram counts UTF-16 code units: an emoji outside the BMP is 2
    assert (await status("🤱" * 2048))[0] == 200
    assert (await status("🤱" * 2049))[0] == 400
    assert (await status("é" * 4096))[0] == 200


async def test_a_second_poller_gets_409(api):
    import asyncio

    server, client = api
    first = asyncio.create_task(call(client, "getUpdates", timeout=5))
    await asyncio.sleep(0)  # let the first long poll start (no time is waited for: it returns at once below)
    for _ in range(20):
        if server.requests and server.requests[-1][0] == "getUpdates":
            break
        await asyncio.sleep(0.01)
    second = await call(client, "getUpdates", timeout=0)
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict")
    assert second[0] == 200 and server.conflicts == 1
