"""Commands that work everywhere: outside flows, and inside a flow (leaving it first)."""
from __future__ import annotations

from telegram.ext import CommandHandler, ConversationHandler

from flows import account
from flows.commands import names

# What each command does outside a flow.
ACTIONS = {
    "menu": account.show_menu,
    "help": account.help_cmd,
    "mydata": account.my_data,
    "delete": account.delete_ask,
    "language": account.language_ask,
}


def flow_fallbacks() -> list:
    """For every ConversationHandler: /batal leaves the flow; the other commands leave it and
    do their job. A feature adds its own fallbacks in front of these."""
    fallbacks = [CommandHandler(names("cancel"), account.cancel_in_flow)]
    for action, callback in ACTIONS.items():
        fallbacks.append(CommandHandler(names(action), _leaving(callback)))
    return fallbacks


def _leaving(callback):
    async def handler(update, context):
        context.user_data.clear()
        await callback(update, context)
        return ConversationHandler.END

    return handler
