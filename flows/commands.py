"""The bot's commands: names in both languages, and what Telegram shows in its menu."""
from __future__ import annotations

from telegram.ext import filters

# action -> (Indonesian command, English alias). Every alias does the same as the command.
COMMANDS: dict[str, tuple[str, str]] = {
    "menu": ("menu", "menu"),
    "help": ("bantuan", "help"),
    "mydata": ("saya", "mydata"),
    "delete": ("hapus", "delete"),
    "cancel": ("batal", "cancel"),
    "language": ("bahasa", "language"),
}
# Commands of the features, registered by their modules (`names("massage")`, ...).
FEATURE_COMMANDS: dict[str, tuple[str, str]] = {
    "massage": ("pijat", "massage"),
    "quiz": ("kuis", "quiz"),
    "report": ("lapor", "report"),
    "history": ("riwayat", "history"),
    "reminders": ("pengingat", "reminders"),
    "summary": ("ringkasan", "summary"),
    "mothers": ("ibu", "mothers"),
    "export": ("ekspor", "export"),
    "kit": ("kit", "kit"),
    "calls": ("hubungi", "calls"),
    "ask": ("tanya", "ask"),
    "dashboard": ("dasbor", "dashboard"),
    "voice": ("suara", "voice"),
}
# Shown in Telegram's command menu, per language (descriptions are the texts `commands.<action>`):
# LISTED for everyone, MIDWIFE_LISTED in a midwife's own chat.
LISTED: list[str] = ["menu", "massage", "quiz", "report", "history", "ask", "reminders",
                     "help", "mydata", "language", "cancel", "delete"]
MIDWIFE_LISTED: list[str] = ["menu", "calls", "summary", "mothers", "export", "kit", "dashboard", "voice", "ask", "massage", "help", "mydata", "language",
                             "cancel", "delete"]


def names(action: str) -> list[str]:
    pair = COMMANDS.get(action) or FEATURE_COMMANDS[action]
    return sorted(set(pair))


def command_name(action: str, lang: str) -> str:
    pair = COMMANDS.get(action) or FEATURE_COMMANDS[action]
    return pair[0 if lang == "id" else 1]


def all_names() -> list[str]:
    return sorted({name for pair in COMMANDS.values() for name in pair} | {"start"})


def is_global_command() -> filters.BaseFilter:
    """Commands that work everywhere, also inside a flow (they leave the flow)."""
    return filters.Regex(r"^/(" + "|".join(all_names()) + r")(@\w+)?(\s|$)")
