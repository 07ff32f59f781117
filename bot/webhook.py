"""Webhook mode: our own small aiohttp server in every worker (issue 9).

    Telegram --HTTPS--> nginx / Caddy (TLS) --HTTP--> 127.0.0.1:WEBHOOK_PORT/WEBHOOK_PATH
                                                      (one port, shared by N workers: SO_REUSEPORT)
    POST /<WEBHOOK_PATH>
      X-Telegram-Bot-Api-Secret-Token wrong or missing -> 403
      not a JSON update                                -> 400
      inbox.receive([update]), committed                -> 200   (only now Telegram drops it)
      the database is away                              -> 500   (Telegram sends it again later)

An update is in the database before Telegram is told it arrived, so a worker killed at any
moment loses nothing; which worker then handles it is up to the inbox (bot/inbox.py): any of
them, one update of a chat at a time. The kernel spreads Telegram's connections over the workers
listening on the port.

The secret: WEBHOOK_SECRET, or, when it is empty, one derived from the bot token (the same in
every worker, unknown to anyone without the token). One worker, the scheduler's leader, calls
setWebhook (URL, secret, allowed updates) once it leads.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import signal
from typing import Any, Awaitable, Callable

from aiohttp import web
from telegram.error import RetryAfter, TelegramError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WORKER_HEADER = "X-Worker-Id"   # on accepted updates only: which worker stored it (logs, tests)
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer"]
SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")   # what Telegram accepts as secret_token
MAX_BODY = 1024 * 1024   # an update is a few kilobytes


def webhook_secret(settings) -> str:
    """WEBHOOK_SECRET, or (empty) a secret derived from the bot token."""
    if settings.webhook_secret:
        return settings.webhook_secret
    digest = hashlib.sha256(b"sahabat-nifas webhook secret\0" + settings.telegram_bot_token.encode())
    return digest.hexdigest()


def webhook_url(base: str, path: str) -> str:
    """The URL Telegram posts to: the public base (`--webhook` / WEBHOOK_URL) and WEBHOOK_PATH."""
    return base.rstrip("/") + "/" + path.strip("/")


def check_settings(settings, base_url: str) -> str | None:
    """What is wrong with the webhook settings, in words; None when they are fine."""
    official = settings.telegram_api_base_url.rstrip("/").startswith("https://api.telegram.org")
    if not base_url.startswith(("https://", "http://")):
        return f"the webhook URL must start with https://, not {base_url!r}"
    if official and not base_url.startswith("https://"):
        # a self-hosted Bot API server (TELEGRAM_API_BASE_URL) may post over plain HTTP
        return f"the webhook URL must be https:// (Telegram posts only over TLS), not {base_url!r}"
    if settings.webhook_secret and not SECRET_CHARS.match(settings.webhook_secret):
        return "WEBHOOK_SECRET may have only letters, digits, _ and - (1 to 256 of them), as Telegram requires"
    return None


class WebhookServer:
    """POST /<path>: check the secret, store the update, answer 200. Listens with SO_REUSEPORT."""

    def __init__(self, *, receive: Callable[[list[dict]], Awaitable[Any]], secret: str, path: str,
                 listen: str = "127.0.0.1", port: int = 8443, worker_id: str = ""):
        self.receive = receive
        self.secret = secret.encode()
        self.path = "/" + path.strip("/")
        self.listen = listen
        self.port = port
        self.worker_id = worker_id
        self._runner: web.AppRunner | None = None
        # counts (no content): for the log and tests
        self.accepted = 0
        self.refused = 0
        self.failed = 0

    async def start(self) -> "WebhookServer":
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=10.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port, reuse_port=True)
        await site.start()
        if not self.port:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """No new connections; requests being stored finish first."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.refused += 1
            return web.Response(status=403)
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            await self.receive([payload])
        except Exception:  # noqa: BLE001 - not stored: Telegram must send it again
            self.failed += 1
            log.warning("webhook: update %d could not be stored; Telegram will send it again",
                        payload["update_id"], exc_info=True)
            return web.Response(status=500)
        self.accepted += 1
        return web.Response(status=200, headers={WORKER_HEADER: self.worker_id} if self.worker_id else None)


async def set_webhook(app, url: str, secret: str, *, tries: int = 8) -> bool:
    """setWebhook, retried with backoff on network errors and 429 (True when Telegram took it)."""
    delay = 1.0
    for attempt in range(1, tries + 1):
        try:
            await app.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                                      drop_pending_updates=False)
            log.info("webhook: set (the updates go to WEBHOOK_URL/%s)", url.rsplit("/", 1)[-1])
            return True
        except RetryAfter as exc:
            wait = getattr(exc, "_retry_after", None) or exc.retry_after
            delay = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
        except TelegramError as exc:
            if attempt == tries:
                log.error("webhook: setWebhook failed for good: %s", exc.message)
                return False
            log.warning("webhook: setWebhook failed (%s); again in %.0fs", exc.message, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)
    return False


async def run_webhook(app, base_url: str, ready: Callable[[], None] | None = None,
                      stop: asyncio.Event | None = None) -> None:
    """One worker in webhook mode, until SIGINT/SIGTERM (or `stop` is set)."""
    from bot.inbox import Inbox

    settings = app.services.settings
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    secret = webhook_secret(settings)
    url = webhook_url(base_url, settings.webhook_path)
    await app.initialize()
    server: WebhookServer | None = None
    inbox = Inbox(app)
    try:
        app.services.inbox = inbox
        dispatcher = app.services.reminders
        if dispatcher is not None:  # a restarted worker: its dead process's reminder claims, at once
            await dispatcher.take_back_own()
        await app.start()        # the JobQueue stays paused unless this worker leads (bot/leader.py)
        await inbox.start()
        server = WebhookServer(receive=inbox.receive, secret=secret, path=settings.webhook_path,
                               listen=settings.webhook_listen, port=settings.webhook_port,
                               worker_id=settings.worker_id)
        await server.start()
        log.info("webhook: worker %s listening on %s:%d%s", settings.worker_id, settings.webhook_listen,
                 server.port, server.path)
        leader = app.services.leader
        told = False

        async def tell_telegram() -> None:
            nonlocal told
            if not told:  # once per process: the first time it leads
                told = await set_webhook(app, url, secret)

        if leader is not None:
            leader.on_lead(tell_telegram)
        else:
            await tell_telegram()
        if ready is not None:
            ready()
        await stop.wait()
        log.info("webhook: worker %s stopping (stored %d updates, refused %d)", settings.worker_id,
                 server.accepted, server.refused)
    finally:
        if server is not None:
            await server.stop()
        await inbox.stop()
        if app.running:
            await app.stop()
        await inbox.release()
        await app.shutdown()
