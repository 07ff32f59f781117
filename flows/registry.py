"""Every handler of the bot, registered explicitly and in order, in one place.

Group 0: conversations first (they own a user while she is in a flow), then commands,
then buttons routed by their prefix, then the catch-alls that answer anything else.
"""
from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from flows import account, companions, onboarding
from flows.commands import COMMANDS, names

# What each command does outside a flow (also reached from the menu as `menu:<item>`).
ACTIONS = {
    "menu": account.show_menu,
    "help": account.help_cmd,
    "mydata": account.my_data,
    "delete": account.delete_ask,
    "language": account.language_ask,
}
MENU_ACTIONS = {
    "mydata": account.my_data,
    "language": account.language_ask,
    "help": account.help_cmd,
    "register": account.register,
    "companions": companions.show,
    "my_mothers": companions.show,
}


def flow_fallbacks() -> list:
    """Inside any flow: /batal leaves it; the other commands leave it and do their job."""
    fallbacks = [CommandHandler(names("cancel"), account.cancel_in_flow)]
    for action, callback in ACTIONS.items():
        fallbacks.append(CommandHandler(names(action), _leaving(callback)))
    return fallbacks


def _leaving(callback):
    async def handler(update, context):
        context.user_data.clear()
        await callback(update, context)
        return onboarding.END

    return handler


def register(app: Application) -> None:
    app.add_handler(onboarding.build(flow_fallbacks()))
    for action, callback in ACTIONS.items():
        app.add_handler(CommandHandler(names(action), callback))
    app.add_handler(CommandHandler(names("cancel"), account.cancel_outside))
    for item, callback in MENU_ACTIONS.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=rf"^menu:{item}$"))
    app.add_handler(CallbackQueryHandler(account.delete_answer, pattern=r"^del:(yes|no)$"))
    app.add_handler(CallbackQueryHandler(account.language_set, pattern=r"^lang:(id|en)$"))
    app.add_handler(CallbackQueryHandler(companions.renew, pattern=r"^cmp:renew$"))
    app.add_handler(CallbackQueryHandler(companions.remove, pattern=r"^cmp:rm:-?\d+$"))
    app.add_handler(CallbackQueryHandler(companions.leave, pattern=r"^cmp:leave:-?\d+$"))
    # anything else: a friendly answer and the way back to the menu
    app.add_handler(CallbackQueryHandler(account.stale_button))
    app.add_handler(MessageHandler(filters.ALL, account.unknown_message))


__all__ = ["register", "COMMANDS"]
