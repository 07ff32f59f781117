"""A loopback stand-in for the Telegram Bot API, served over real HTTP on 127.0.0.1.

The bot talks to it exactly as to Telegram (set `TELEGRAM_API_BASE_URL`). Tests and the
terminal demo play users through its Python API (`add_user`, `send_text`, `press`, ...)
and read what the bot sent from `chat(user_id)`.

It refuses what Telegram refuses: unknown methods and parameters (checked against the Bot
API spec, `bot_api_methods.json`), missing required parameters, text over 4096 characters,
captions over 1024, callback data over 64 bytes, unknown chats, edits that change nothing,
users who blocked the bot (403), and injected faults (429 with `retry_after`, 5xx).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from loopback import entities



def _load_methods() -> dict[str, dict[str, dict]]:
    text = resources.files("loopback").joinpath("bot_api_methods.json").read_text(encoding="utf-8")
    return json.loads(text)["methods"]


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    """An injected failure: the next `times` calls of `method` (or any, if None) fail."""

    code: int
    method: str | None = None
    times: int = 1
    retry_after: int | None = None
    chat_id: int | None = None
    description: str = ""


@dataclass
class FakeUser:
    id: int
    first_name: str
    language_code: str = "id"
    blocked: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}


@dataclass
class SentMessage:
    """A message in a chat, from the bot (`from_bot`) or from the user."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None = None
    caption: str | None = None
    kind: str = "text"  # text, photo, animation, document, poll, sticker, voice, audio
    reply_markup: dict | None = None
    file_id: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    file_size: int = 0                     # bytes uploaded (also when the stand-in drops them)
    poll: dict | None = None
    edits: int = 0
    deleted: bool = False
    reply_to: "SentMessage | None" = None  # the message this one replies to (a user's reply)
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def buttons(self) -> list[dict]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")


class LoopbackBotAPI:
    def __init__(self, token: str = "123456:LOOPBACK-TOKEN", bot_username: str = "SahabatNifasBot",
                 latency_ms: float = 0.0, strict_unknown_params: bool = True):
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":")[0])
        self.latency_ms = latency_ms
        self.strict_unknown_params = strict_unknown_params
        self.methods = _load_methods()
        self.users: dict[int, FakeUser] = {}
        self.messages: dict[int, list[SentMessage]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.refusals: list[tuple[str, int, str]] = []
        self.faults: list[Fault] = []
        self.commands: dict[str, list[dict]] = {}
        self.callback_answers: dict[str, dict] = {}
        self.polls: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._poll_generation = 0
        self.conflicts = 0  # getUpdates answered 409 (a second poller)
        self.gates: dict[int, asyncio.Event] = {}
        self.gate_skip: dict[int, int] = {}     # chat id -> requests that still pass before its gate holds
        self.poll_gate: asyncio.Event | None = None  # set: a getUpdates that confirms (offset) waits for it
        self.keep_file_bytes = True                  # False: uploads are counted, not kept
        self.file_sizes: dict[str, int] = {}  # chat id -> requests to it wait until set
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.port = 0
        self.sent_count = 0
        # Webhook mode (setWebhook): pending updates are POSTed to the URL one at a time, each on a
        # new connection (so workers sharing a port with SO_REUSEPORT all get some), with the
        # secret header; anything but 2xx is tried again, as Telegram does.
        self.webhook: dict | None = None
        self.webhook_deliveries: list[tuple[int, int, str]] = []  # (update id, HTTP status, X-Worker-Id)
        self._webhook_task: asyncio.Task | None = None
        self._webhook_wake = asyncio.Event()

    # ------------------------------------------------------------------ server
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "LoopbackBotAPI":
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{self.port}/bot"
        return self

    async def stop(self) -> None:
        self._new_update.set()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle_file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        try:
            params, uploads = await self._read_params(request)
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            result = await self._dispatch(method, params, uploads)
        except ApiError as err:
            self.refusals.append((method, err.code, err.description))
            body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return web.json_response(body, status=err.code)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[dict, dict[str, tuple[str, bytes]]]:
        raw: dict[str, Any] = {}
        uploads: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            raw = await request.json() if request.can_read_body else {}
            return raw, uploads
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    uploads[part.name] = (part.filename, await part.read())
                else:
                    raw[part.name] = await part.text()
        else:
            form = await request.post()
            raw = {key: str(value) for key, value in form.items()}
        raw.update({k: v for k, v in request.query.items() if k not in raw})
        return raw, uploads

    # ------------------------------------------------------------ validation
    def _decode(self, method: str, params: dict, uploads: dict) -> dict:
        spec = self.methods.get(method)
        if spec is None:
            raise ApiError(404, "Not Found: method not found")
        decoded: dict[str, Any] = {}
        for name, value in params.items():
            field_spec = spec.get(name)
            if field_spec is None:
                if self.strict_unknown_params:
                    raise ApiError(400, f"Bad Request: unknown parameter {name}")
                continue
            types = field_spec["types"]
            if isinstance(value, str) and types != ["String"]:
                try:
                    value = json.loads(value)
                except ValueError:
                    if "String" not in types and "InputFile" not in types:
                        raise ApiError(400, f"Bad Request: can't parse {name}")
            decoded[name] = value
        for name in uploads:
            if name in spec:
                decoded[name] = uploads[name]
            elif not any(isinstance(v, str) and v == f"attach://{name}" for v in decoded.values()):
                raise ApiError(400, f"Bad Request: unexpected file {name}")
        for name, field_spec in spec.items():
            if field_spec["required"] and name not in decoded:
                raise ApiError(400, f"Bad Request: parameter {name} is required")
        return decoded

    def _check_text(self, text: Any, parse_mode: str | None, limit: int, what: str, allow_empty: bool = False) -> None:
        """As Telegram: the parse mode must exist, the markup must parse, the visible text must
        not be empty or blank, and its length counts UTF-16 code units."""
        if not isinstance(text, str):
            raise ApiError(400, f"Bad Request: {what} must be a string")
        try:
            visible = entities.visible_text(text, parse_mode)
        except entities.EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        except ValueError:
            raise ApiError(400, "Bad Request: unsupported parse_mode") from None
        if not visible.strip() and not allow_empty:
            raise ApiError(400, f"Bad Request: {what} is empty")
        if entities.utf16_len(visible) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")

    def _check_markup(self, markup: Any) -> dict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup  # reply keyboards, force reply, remove keyboard
        if len(rows) > 100:
            raise ApiError(400, "Bad Request: too many rows")
        for row in rows:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://", str(url)):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
                web_app = button.get("web_app")
                if web_app is not None:  # Mini Apps open only over HTTPS
                    app_url = str(web_app.get("url", "")) if isinstance(web_app, dict) else ""
                    if not app_url.startswith("https://"):
                        raise ApiError(400, f"Bad Request: inline keyboard button Web App URL '{app_url}' is invalid:"
                                            " Only HTTPS links are allowed")
                kinds = [k for k in button if k != "text" and k != "style" and k != "icon_custom_emoji_id"]
                if len(kinds) != 1:
                    raise ApiError(400, "Bad Request: inline keyboard button must have exactly one action")
        return markup

    def _take_fault(self, method: str, chat_id: int | None) -> None:
        for fault in self.faults:
            if fault.times <= 0:
                continue
            if fault.method not in (None, method):
                continue
            if fault.method is None and method in ("getUpdates", "getMe", "deleteWebhook", "setMyCommands"):
                continue
            if fault.chat_id not in (None, chat_id):
                continue
            fault.times -= 1
            if fault.code == 429:
                raise ApiError(429, f"Too Many Requests: retry after {fault.retry_after or 1}", fault.retry_after or 1)
            raise ApiError(fault.code, fault.description or f"Injected error {fault.code}")

    def _chat(self, chat_id: Any) -> FakeUser:
        try:
            user = self.users[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _find(self, chat_id: int, message_id: Any) -> SentMessage:
        for message in self.messages.get(chat_id, []):
            if message.message_id == int(message_id) and message.from_bot and not message.deleted:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    # --------------------------------------------------------------- methods
    async def _dispatch(self, method: str, raw: dict, uploads: dict) -> Any:
        params = self._decode(method, raw, uploads)
        self.requests.append((method, params if self.keep_file_bytes else {
            k: (v[0], len(v[1])) if isinstance(v, tuple) else v for k, v in params.items()}))
        chat_id = params.get("chat_id")
        chat = int(chat_id) if isinstance(chat_id, (int, str)) and str(chat_id).lstrip("-").isdigit() else None
        gate = self.gates.get(chat) if chat is not None else None
        if gate is not None and self.gate_skip.get(chat, 0) > 0:
            self.gate_skip[chat] -= 1  # this one still passes
        elif gate is not None:  # a test holds this chat's requests until it opens the gate
            await gate.wait()
            if getattr(gate, "dropped", False):  # the sender died meanwhile: it never arrived
                raise ApiError(502, "Bad Gateway: the request never arrived")
        if method == "getUpdates" and self.poll_gate is not None and params.get("offset"):
            poll_gate = self.poll_gate
            await poll_gate.wait()
            if getattr(poll_gate, "dropped", False):
                raise ApiError(502, "Bad Gateway: the request never arrived")
        self._take_fault(method, chat)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return True  # a method we accept but do not model (e.g. sendChatAction)
        return await handler(params) if asyncio.iscoroutinefunction(handler) else handler(params)

    def _bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Sahabat Nifas", "username": self.bot_username,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _m_getMe(self, params: dict) -> dict:
        return self._bot_user()

    def _m_deleteWebhook(self, params: dict) -> bool:
        if self.webhook is not None:
            self.webhook = None
            self._webhook_wake.set()  # the delivery loop ends
        return True

    def _m_setWebhook(self, params: dict) -> bool:
        url = params["url"]
        if not str(url).startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_by_webhook())
        self._webhook_wake.set()
        return True

    def _m_getWebhookInfo(self, params: dict) -> dict:
        hook = self.webhook or {}
        info = {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}
        if hook.get("allowed_updates"):
            info["allowed_updates"] = hook["allowed_updates"]
        return info

    async def _deliver_by_webhook(self) -> None:
        """POST the pending updates to the webhook, oldest first, until it is deleted."""
        import aiohttp

        delay = 0.05
        connector = aiohttp.TCPConnector(force_close=True)  # a new connection per update
        async with aiohttp.ClientSession(connector=connector) as session:
            while self.webhook is not None:
                if not self._updates:
                    self._webhook_wake.clear()
                    await self._webhook_wake.wait()
                    continue
                hook, update = self.webhook, self._updates[0]
                allowed = hook.get("allowed_updates")
                if allowed and not any(kind in update for kind in allowed):
                    self._updates.pop(0)  # Telegram does not send what was not asked for
                    continue
                headers = {"Content-Type": "application/json"}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                try:
                    async with session.post(hook["url"], data=json.dumps(update), headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=10)) as response:
                        status, worker = response.status, response.headers.get("X-Worker-Id", "")
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status, worker = 0, ""
                self.webhook_deliveries.append((update["update_id"], status, worker))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    delay = 0.05
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)

    async def _stop_webhook(self) -> None:
        self.webhook = None
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _m_setMyCommands(self, params: dict) -> bool:
        commands = params["commands"]
        if not 1 <= len(commands) <= 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands[self._commands_key(params)] = commands
        return True

    @staticmethod
    def _commands_key(params: dict) -> str:
        """'' for the default list, 'en' for a language, '<chat id>' for one chat's list."""
        scope = params.get("scope") or {}
        if scope.get("type") == "chat":
            return str(scope["chat_id"])
        return params.get("language_code", "")

    def _m_getMyCommands(self, params: dict) -> list:
        return self.commands.get(self._commands_key(params), [])

    async def _m_getUpdates(self, params: dict) -> list:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        # Telegram allows one poller per token: a new getUpdates ends the one waiting with 409.
        self._poll_generation += 1
        mine = self._poll_generation
        self._new_update.set()
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        if mine != self._poll_generation:
            self.conflicts += 1
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot"
                                " instance is running")
        return self._updates[:limit]

    def _new_message(self, chat_id: int, from_bot: bool, **fields: Any) -> SentMessage:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = SentMessage(message_id=next(counter), chat_id=chat_id, from_bot=from_bot, **fields)
        self.messages.setdefault(chat_id, []).append(message)
        return message

    def _message_json(self, message: SentMessage) -> dict:
        user = self.users.get(message.chat_id)
        chat = {"id": message.chat_id, "type": "private", "first_name": user.first_name if user else "?"}
        body: dict[str, Any] = {"message_id": message.message_id, "date": message.date, "chat": chat}
        body["from"] = self._bot_user() if message.from_bot else (user.as_dict() if user else None)
        if message.text is not None:
            body["text"] = message.text
        if message.caption is not None:
            body["caption"] = message.caption
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.kind == "photo":
            body["photo"] = [{"file_id": message.file_id, "file_unique_id": message.file_id, "width": 800, "height": 800}]
        elif message.kind == "animation":
            anim = {"file_id": message.file_id, "file_unique_id": message.file_id, "width": 480, "height": 480, "duration": 3}
            body["animation"] = anim
            body["document"] = dict(anim)
        elif message.kind == "document":
            body["document"] = {"file_id": message.file_id, "file_unique_id": message.file_id, "file_name": message.file_name}
        elif message.kind == "poll":
            body["poll"] = message.poll
        elif message.kind == "voice":
            body["voice"] = {"file_id": message.file_id, "file_unique_id": message.file_id, "duration": 2}
        elif message.kind == "audio":
            body["audio"] = {"file_id": message.file_id, "file_unique_id": message.file_id, "duration": 2}
        if message.reply_to is not None:
            body["reply_to_message"] = self._message_json(message.reply_to)
        return body

    def _send(self, params: dict, **fields: Any) -> dict:
        user = self._chat(params["chat_id"])
        markup = self._check_markup(params.get("reply_markup"))
        message = self._new_message(user.id, True, reply_markup=markup, **fields)
        self.sent_count += 1
        return self._message_json(message)

    def _m_sendMessage(self, params: dict) -> dict:
        self._check_text(params["text"], params.get("parse_mode"), 4096, "message text")
        return self._send(params, text=params["text"])

    def _file(self, params: dict, name: str) -> tuple[str, bytes | None, str | None]:
        value = params[name]
        if isinstance(value, str) and value.startswith("attach://"):
            raise ApiError(400, "Bad Request: attach:// outside media groups is not supported here")
        if isinstance(value, tuple):  # an upload
            file_id = f"F{next(self._file_ids):06d}"
            # a benchmark measuring the bot's memory does not keep what "Telegram" received
            self.files[file_id] = value[1] if self.keep_file_bytes else b""
            self.file_sizes[file_id] = len(value[1])
            return file_id, self.files[file_id], value[0]
        if value not in self.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return value, self.files[value], None

    def _media(self, params: dict, name: str, kind: str) -> dict:
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), 1024, "message caption", allow_empty=True)
        self._chat(params["chat_id"])
        file_id, data, file_name = self._file(params, name)
        return self._send(params, kind=kind, caption=caption, file_id=file_id, file_bytes=data, file_name=file_name,
                          file_size=self.file_sizes.get(file_id, len(data or b"")))

    def _m_sendPhoto(self, params: dict) -> dict:
        return self._media(params, "photo", "photo")

    def _m_sendAnimation(self, params: dict) -> dict:
        return self._media(params, "animation", "animation")

    def _m_sendDocument(self, params: dict) -> dict:
        return self._media(params, "document", "document")

    def _m_sendVoice(self, params: dict) -> dict:
        return self._media(params, "voice", "voice")

    def _m_sendAudio(self, params: dict) -> dict:
        return self._media(params, "audio", "audio")

    def _m_copyMessage(self, params: dict) -> dict:
        """A copy of any message of `from_chat_id` (the user's own too), caption replaced if given."""
        source_chat = self._chat(params["from_chat_id"])
        source = next((m for m in self.messages.get(source_chat.id, [])
                       if m.message_id == int(params["message_id"]) and not m.deleted), None)
        if source is None or source.kind == "poll":
            raise ApiError(400, "Bad Request: message to copy not found")
        caption = params.get("caption", source.caption)
        if caption is not None and source.kind != "text":
            self._check_text(caption, params.get("parse_mode"), 1024, "message caption", allow_empty=True)
        copied = self._send(params, kind=source.kind, text=source.text,
                            caption=caption if source.kind != "text" else None, file_id=source.file_id,
                            file_bytes=source.file_bytes, file_name=source.file_name)
        return {"message_id": copied["message_id"]}

    def _m_sendPoll(self, params: dict) -> dict:
        question = params["question"]
        self._check_text(question, None, 300, "poll question")
        options = params["options"]
        if not 2 <= len(options) <= 12:
            raise ApiError(400, "Bad Request: poll must have 2-12 options")
        for option in options:
            text = option.get("text") if isinstance(option, dict) else option
            self._check_text(text, None, 100, "poll option")
        explanation = params.get("explanation")
        if explanation is not None:
            self._check_text(explanation, None, 200, "poll explanation", allow_empty=True)
        if params.get("type") == "quiz":
            correct = params.get("correct_option_ids")
            if not correct or any(not 0 <= int(c) < len(options) for c in correct):
                raise ApiError(400, "Bad Request: wrong correct option")
        poll_id = f"P{len(self.polls) + 1}"
        poll = {"id": poll_id, "question": question, "total_voter_count": 0, "is_closed": False,
                "is_anonymous": bool(params.get("is_anonymous", True)), "type": params.get("type", "regular"),
                "allows_multiple_answers": False, "allows_revoting": False, "members_only": False,
                "options": [{"persistent_id": f"{poll_id}-{i}", "text": o.get("text") if isinstance(o, dict) else o,
                             "voter_count": 0} for i, o in enumerate(options)]}
        if params.get("type") == "quiz":
            poll["correct_option_ids"] = [int(c) for c in params["correct_option_ids"]]
        self.polls[poll_id] = poll
        return self._send(params, kind="poll", poll=poll, text=None)

    def _edit_target(self, params: dict) -> SentMessage:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not used by this bot")
        user = self._chat(params.get("chat_id"))
        return self._find(user.id, params.get("message_id"))

    def _m_editMessageText(self, params: dict) -> dict:
        message = self._edit_target(params)
        self._check_text(params["text"], params.get("parse_mode"), 4096, "message text")
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = self._check_markup(params.get("reply_markup"))
        if params["text"] == message.text and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        message.text, message.reply_markup = params["text"], markup
        message.edits += 1
        return self._message_json(message)

    def _m_editMessageCaption(self, params: dict) -> dict:
        message = self._edit_target(params)
        caption = params.get("caption", "")
        self._check_text(caption, params.get("parse_mode"), 1024, "message caption", allow_empty=True)
        markup = self._check_markup(params.get("reply_markup"))
        if caption == (message.caption or "") and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.caption, message.reply_markup = caption, markup
        message.edits += 1
        return self._message_json(message)

    def _m_editMessageReplyMarkup(self, params: dict) -> dict:
        message = self._edit_target(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup or (not markup and not message.reply_markup):
            raise ApiError(400, "Bad Request: message is not modified")
        message.reply_markup = markup
        message.edits += 1
        return self._message_json(message)

    def _m_deleteMessage(self, params: dict) -> bool:
        message = self._edit_target(params)
        message.deleted = True
        return True

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self.callback_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if self.callback_answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    def _m_stopPoll(self, params: dict) -> dict:
        user = self._chat(params["chat_id"])
        message = self._find(user.id, params["message_id"])
        if message.poll is None or message.poll["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        message.poll["is_closed"] = True
        return message.poll

    # ------------------------------------------------------- playing users
    def add_user(self, user_id: int, first_name: str = "Sari", language_code: str = "id") -> FakeUser:
        user = self.users.get(user_id) or FakeUser(user_id, first_name, language_code)
        self.users[user_id] = user
        return user

    def _push(self, update: dict) -> int:
        update_id = next(self._update_ids)
        update["update_id"] = update_id
        self._updates.append(update)
        self._new_update.set()
        self._webhook_wake.set()
        return update_id

    def send_text(self, user_id: int, text: str, reply_to: SentMessage | None = None) -> int:
        self.users[user_id]  # KeyError for a user the test never added
        message = self._new_message(user_id, False, text=text, reply_to=reply_to)
        body = self._message_json(message)
        if text.startswith("/"):
            command = text.split()[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push({"message": body})

    def send_other(self, user_id: int, kind: str) -> int:
        """A sticker, photo, location, ... that the bot does not expect."""
        self.users[user_id]
        message = self._new_message(user_id, False, kind=kind)
        body = self._message_json(message)
        if kind == "sticker":
            body["sticker"] = {"file_id": "S1", "file_unique_id": "S1", "width": 512, "height": 512,
                               "is_animated": False, "is_video": False, "type": "regular"}
        elif kind == "photo":
            body["photo"] = [{"file_id": "U1", "file_unique_id": "U1", "width": 100, "height": 100}]
        elif kind == "location":
            body["location"] = {"latitude": -0.9, "longitude": 119.87}
        elif kind == "voice":
            body["voice"] = {"file_id": "V1", "file_unique_id": "V1", "duration": 2}
        return self._push({"message": body})

    def send_media(self, user_id: int, kind: str, caption: str | None = None,
                   reply_to: SentMessage | None = None) -> int:
        """A photo or voice note from the user, with a real file id (copyMessage and send by id work)."""
        self.users[user_id]
        file_id = f"U{next(self._file_ids):06d}"
        self.files[file_id] = b"user-" + kind.encode()
        message = self._new_message(user_id, False, kind=kind, caption=caption, file_id=file_id,
                                    file_bytes=self.files[file_id], reply_to=reply_to)
        return self._push({"message": self._message_json(message)})

    def press(self, user_id: int, message: SentMessage, data: str) -> int:
        """The user taps an inline button with `data` under `message` (any data: forged too)."""
        query_id = str(next(self._callback_ids))
        self.callback_answers[query_id] = None
        return self._push({"callback_query": {
            "id": query_id, "from": self.users[user_id].as_dict(), "chat_instance": str(user_id),
            "message": self._message_json(message), "data": data}})

    def answer_poll(self, user_id: int, poll_id: str, option_ids: list[int]) -> int:
        return self._push({"poll_answer": {"poll_id": poll_id, "user": self.users[user_id].as_dict(),
                                           "option_ids": option_ids,
                                           "option_persistent_ids": [f"{poll_id}-{i}" for i in option_ids]}})

    def drop_gate(self, chat_id: int) -> None:
        """The chat's held requests fail without effect (their sender died: Telegram never got
        them), and its requests pass from now on."""
        gate = self.gates.pop(chat_id, None)
        self.gate_skip.pop(chat_id, None)
        if gate is not None:
            gate.dropped = True  # type: ignore[attr-defined]
            gate.set()

    def drop_poll_gate(self) -> None:
        """A held confirming getUpdates fails without effect (nothing is confirmed)."""
        gate, self.poll_gate = self.poll_gate, None
        if gate is not None:
            gate.dropped = True  # type: ignore[attr-defined]
            gate.set()

    def block(self, user_id: int, blocked: bool = True) -> None:
        self.users[user_id].blocked = blocked

    def chat(self, user_id: int) -> list[SentMessage]:
        return [m for m in self.messages.get(user_id, []) if not m.deleted]

    def bot_messages(self, user_id: int) -> list[SentMessage]:
        return [m for m in self.chat(user_id) if m.from_bot]

    def pending_updates(self) -> int:
        return len(self._updates)
