"""Every handler of the bot, registered explicitly and in order, in one place.

Group 0: conversations first (they own a user while she is in a flow), then commands,
then buttons routed by their prefix, then the catch-alls that answer anything else.
Each feature module has a `register(app)` that adds its own handlers and menu entries.
"""
from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from flows import account, clinic_choice, companions, guide, midwife, onboarding, questions, quiz, reachability, reminders, reports
from flows import alerting, call_list, care_status, kit, dashboard, voice
from flows.commands import names
from flows.global_commands import ACTIONS, flow_fallbacks

MENU_ACTIONS = {
    "mydata": account.my_data,
    "language": account.language_ask,
    "help": account.help_cmd,
    "register": account.register,
    "companions": companions.show,
    "my_mothers": companions.show,
}
FEATURES = (guide, quiz, reminders, reports, midwife, call_list, clinic_choice, care_status, questions, kit, dashboard, voice)


def register(app: Application) -> None:
    reachability.register(app)
    alerting.register(app)
    app.add_handler(onboarding.build(flow_fallbacks()))
    for feature in FEATURES:
        feature.register(app)
    for action, callback in ACTIONS.items():
        app.add_handler(CommandHandler(names(action), callback))
    app.add_handler(CommandHandler(names("cancel"), account.cancel_outside))
    for item, callback in MENU_ACTIONS.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=rf"^menu:{item}$"))
    app.add_handler(CallbackQueryHandler(account.my_data_file, pattern=rf"^{account.JSON_BUTTON}$"))
    app.add_handler(CallbackQueryHandler(account.delete_answer, pattern=r"^del:(yes|no)$"))
    app.add_handler(CallbackQueryHandler(account.language_set, pattern=r"^lang:(id|en)$"))
    app.add_handler(CallbackQueryHandler(companions.renew, pattern=r"^cmp:renew$"))
    app.add_handler(CallbackQueryHandler(companions.remove, pattern=r"^cmp:rm:-?\d+$"))
    app.add_handler(CallbackQueryHandler(companions.leave, pattern=r"^cmp:leave:-?\d+$"))
    # anything else: a friendly answer and the way back to the menu
    app.add_handler(CallbackQueryHandler(account.stale_button))
    app.add_handler(MessageHandler(filters.ALL, account.unknown_message))
