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
# Shown in Telegram's command menu, per language (descriptions come from the texts).
LISTED: list[str] = ["menu", "help", "mydata", "language", "cancel", "delete"]


def names(action: str) -> list[str]:
    return sorted(set(COMMANDS[action]))


def all_names() -> list[str]:
    return sorted({name for pair in COMMANDS.values() for name in pair} | {"start"})


def is_global_command() -> filters.BaseFilter:
    """Commands that work everywhere, also inside a flow (they leave the flow)."""
    return filters.Regex(r"^/(" + "|".join(all_names()) + r")(@\w+)?(\s|$)")
