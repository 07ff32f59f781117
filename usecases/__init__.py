"""What the bot does, as plain async functions that handlers and jobs both call.

Each takes its dependencies explicitly (`Deps`: the database, whose current unit of work it
writes in, the clock, the texts, the settings, and the notifier port that reaches people). None
imports `telegram`: the Telegram side of the port is `bot.notifier.TelegramNotifier`. What follows
an event (a session was logged, a user was deleted) is listed once, in `usecases.follow_ups`.
"""
