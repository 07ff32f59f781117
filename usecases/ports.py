"""The dependencies a use case takes, and the port through which it reaches people."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, Sequence, Union

from db.database import Database
from domain.clock import Clock

if TYPE_CHECKING:  # the texts and settings are plain objects; only their types live in bot/
    from bot.config import Settings
    from bot.i18n import Texts

# Inline buttons as plain data: rows of (label, callback data). A callable builds them in the
# recipient's own language.
Buttons = Sequence[Sequence[tuple[str, str]]]
ButtonsFor = Union[Buttons, Callable[[str], Buttons], None]


@dataclass(frozen=True)
class Delivery:
    status: str                 # "sent" | "blocked" (403: she blocked the bot) | "failed"
    message_id: int | None = None


class Notifier(Protocol):
    """Sends to people. Implementations handle a user who blocked the bot (403: marked inactive,
    False returned) and Telegram's 429s (waited out by the one rate budget) in one place; a
    message that cannot be edited any more answers False too."""

    async def notify(self, user_id: int, key: str, buttons: ButtonsFor = None, **values) -> bool:
        """The text `key` in the user's own language (values ending in `_key` are texts too)."""

    async def deliver(self, user_id: int, text_of: Callable[[str], str], buttons: ButtonsFor = None) -> Delivery:
        """Try even a user marked unreachable (an alert): the text in her language; one that
        arrives marks her reachable again."""

    async def edit(self, chat_id: int, message_id: int, text: str, buttons: ButtonsFor = None) -> bool:
        """Replace the text (and buttons) of a message the bot sent earlier (buttons in the
        chat owner's language when given as a function of it)."""


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    texts: "Texts"
    settings: "Settings"
    notifier: Notifier
