"""The one application factory: production (`run`), the terminal demo and the tests all use it."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Callable

from telegram import LinkPreviewOptions, Update, constants
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock
from bot.commands_menu import register_commands
from bot.config import Settings
from bot.context import BotContext
from bot.errors import on_error
from bot.flow_state import load_flow_state
from bot.i18n import texts as load_texts
from bot.notifier import TelegramNotifier
from bot.ratelimit import PatientRateLimiter, replying_to
from bot.services import Services
from reminders.ratelimit import SharedBudget
from bot.updates import PerChatUpdateProcessor
from db.database import Database
from bot.persistence import DatabasePersistence
from flows import registry

log = logging.getLogger(__name__)
RECENT_UPDATES = 10_000
PAID_BROADCAST_RATE = constants.FloodLimit.PAID_MESSAGES_PER_SECOND


class BotApplication(Application):
    """An Application that opens our database first and saves flow state after every update."""

    services: Services

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # the ids of recently handled updates, for wait_processed (bounded: not every id forever)
        self._processed: OrderedDict[int, None] = OrderedDict()
        self._processed_changed = asyncio.Condition()
        self.last_processed_update_id = 0

    async def initialize(self) -> None:
        if self.services.db._engine is None:
            await self.services.db.open()
        await super().initialize()
        # Here rather than in post_init, which only run_polling/run_webhook call.
        self.services.bot_username = self.bot.username
        await register_commands(self)
        if self.services.settings.dashboard_url:  # the desk dashboard (web/), on its own port
            from web.server import start_dashboard

            await start_dashboard(self)
        if self.services.leader is None:
            # Which worker runs the JobQueue (bot/leader.py): decided before `start()` starts it.
            from bot.leader import Leader

            leader = Leader(self)
            self.services.leader = leader
            await leader.start()

    async def shutdown(self) -> None:
        leader, self.services.leader = self.services.leader, None
        if leader is not None:
            await leader.stop()
        if self.services.dashboard is not None:
            from web.server import stop_dashboard

            await stop_dashboard(self)
        await super().shutdown()
        budget = self.services.budget
        if budget is not None and hasattr(budget.overall, "close"):
            await budget.overall.close()
        await self.services.db.close()

    async def process_update(self, update: object) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        replying_to.set(chat.id if chat is not None else None)  # this task's context only
        # An update from the inbox (bot/inbox.py): its row is marked done in the same unit of work.
        inbox = getattr(self.services, "inbox", None)
        stored = inbox is not None and inbox.holds(update)
        try:
            # One unit of work: the handler's rows, the flow state it leaves and the inbox row's
            # `done` commit together, or roll back together on an error (each Telegram request
            # commits what came before it).
            async with self.services.db.unit_of_work():
                await load_flow_state(self, update)  # this user's flow as stored, whichever worker left it
                await super().process_update(update)
                async with self.services.db.shared_with_children():  # PTB gathers the writes
                    await self.update_persistence()
                if stored:
                    await inbox.finish(update)
        except Exception:
            if stored:
                await inbox.failed(update)
            raise
        finally:
            if stored:
                inbox.settle(update)
            if isinstance(update, Update):
                async with self._processed_changed:
                    self.last_processed_update_id = max(self.last_processed_update_id, update.update_id)
                    self._processed[update.update_id] = None
                    while len(self._processed) > RECENT_UPDATES:
                        self._processed.popitem(last=False)
                    self._processed_changed.notify_all()

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """For tests and the demo: wait until the update with this id has been handled."""
        async with self._processed_changed:
            try:
                await asyncio.wait_for(self._processed_changed.wait_for(lambda: update_id in self._processed), timeout)
            except TimeoutError:
                import os
                if os.environ.get("DEBUG_TASKS"):
                    for task in asyncio.all_tasks():
                        task.print_stack()
                raise


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    configure: Callable[[BotApplication], None] | None = None,
) -> BotApplication:
    """Build the bot. Nothing touches the network or the disk until `initialize()`."""
    # the shared rate timeline keeps up to 3 connections of its own (reminders/cluster_ratelimit.py)
    db = db or Database(settings.database_target, connections=settings.database_connections - 3)
    # One rate budget per bot token: the replies and the reminder wave draw on the same one.
    budget = SharedBudget(settings.reminder_rate_per_s, paid_rate_per_s=PAID_BROADCAST_RATE,
                          chat_interval=settings.telegram_chat_interval_s or 1.1,
                          space_chats=settings.telegram_chat_interval_s > 0)
    if db.is_postgres:  # several processes may share the token: the overall cap lives in the database
        from reminders.cluster_ratelimit import ClusterRateLimiter

        budget.overall = ClusterRateLimiter(settings.reminder_rate_per_s, db.url)
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(settings.telegram_bot_token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .context_types(ContextTypes(context=BotContext))
        .persistence(DatabasePersistence(db))
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(PatientRateLimiter(budget=budget, backoff_s=settings.telegram_retry_backoff_s,
                                         retry_window_s=settings.telegram_retry_window_s))
        .concurrent_updates(PerChatUpdateProcessor())
    )
    app: BotApplication = builder.build()  # type: ignore[assignment]
    app.services = Services(settings=settings, db=db, clock=clock or Clock(), texts=load_texts(), budget=budget)
    app.services.notifier = TelegramNotifier(app.bot, db, app.services.texts)
    registry.register(app)
    dispatcher = app.services.reminders
    if dispatcher is not None:
        dispatcher.budget = budget
    app.add_error_handler(on_error)
    if configure is not None:
        configure(app)
    return app
