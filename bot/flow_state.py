"""Flow state is read from the database per update, so any process can serve any user.

PTB reads a persistence once, at `initialize()`, and then keeps its own copy in memory: the
conversation states in each `ConversationHandler._conversations`, the drafts in
`Application.user_data`. With several workers (bot/workers.py) the next update of a user may land
on another worker than the last one, whose copy is stale. So before the handlers of an update run,
`load_flow_state` sets that update's key in every persistent conversation to what the database
holds (one query for all of them); the drafts are refreshed by PTB itself, through
`DatabasePersistence.refresh_user_data`, when it builds the update's context.

Nothing is marked for saving here (TrackingDict's untracked writes): what was read is what is
stored. The updates of one chat are handled one at a time, also across workers (the inbox hands
out a chat's next update only once the one before is done, its flow state committed with it).

No flow uses PTB's `conversation_timeout`: its timer is a job in the process that set the state
(and only the leader runs jobs, bot/leader.py), so it would not follow a user from worker to
worker. Flows that must expire do so by a time stamp in their draft (e.g. reports.DRAFT_LIFETIME).
"""
from __future__ import annotations

from typing import Iterator

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler
from telegram.ext._handlers.conversationhandler import PendingState
from telegram.ext._utils.trackingdict import TrackingDict


def persistent_conversations(app: Application) -> Iterator[ConversationHandler]:
    """Every persistent ConversationHandler of the application, nested ones included."""
    seen: set[int] = set()

    def walk(handler: BaseHandler) -> Iterator[ConversationHandler]:
        if not isinstance(handler, ConversationHandler) or id(handler) in seen:
            return
        seen.add(id(handler))
        if handler.persistent and handler.name:
            yield handler
        for child in handler._child_conversations:  # noqa: SLF001 - PTB keeps the nested ones there
            yield from walk(child)

    for group in list(app.handlers.values()):
        for handler in list(group):
            yield from walk(handler)


def conversation_key(handler: ConversationHandler, update: Update) -> tuple | None:
    """The key this update has in the conversation, or None when the conversation would not
    look at it (the same checks as `ConversationHandler.check_update`)."""
    if update.channel_post or update.edited_channel_post:
        return None
    if handler.per_chat and update.effective_chat is None:
        return None
    if handler.per_user and update.effective_user is None:
        return None
    if handler.per_message and update.callback_query is None:
        return None
    if update.callback_query and handler.per_chat and not update.callback_query.message:
        return None
    try:
        return handler._get_key(update)  # noqa: SLF001
    except (RuntimeError, AttributeError):
        return None


async def load_flow_state(app: Application, update: object) -> None:
    """Set this update's key, in every persistent conversation, to the state stored in the
    database (or remove it when none is stored), without marking it for saving."""
    persistence = app.persistence
    if not isinstance(update, Update) or persistence is None:
        return
    handlers: dict[str, ConversationHandler] = {}
    keys: dict[str, tuple] = {}
    for handler in persistent_conversations(app):
        key = conversation_key(handler, update)
        if key is not None:
            handlers[handler.name] = handler
            keys[handler.name] = key
    if not keys:
        return
    stored = await persistence.get_conversation_states(keys)
    for name, handler in handlers.items():
        conversations, key = handler._conversations, keys[name]  # noqa: SLF001
        if not isinstance(conversations, TrackingDict):
            continue  # not initialised with the persistence (cannot happen once the app is)
        if isinstance(conversations.get(key), PendingState):
            continue  # a non-blocking callback of this process is still deciding the state
        state = stored.get(name)
        if state is None or state == handler.END:
            conversations.data.pop(key, None)  # UserDict's own dict: not tracked
        else:
            conversations.update_no_track({key: state})
