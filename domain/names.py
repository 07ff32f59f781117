"""Validating what a person types as the name to be called by."""
from __future__ import annotations

import re

MAX_NAME = 40
# The bot says "Ibu Sari" itself: an honorific typed with the name is not kept, or it would be
# "Ibu Bu Sari". Indonesian and a few English forms; only at the start, only before a name.
_HONORIFIC = re.compile(r"^(ibu|bu|bunda|bun|mbak|mba|kak|kakak|teh|teteh|nyonya|ny|uni|mrs|ms|mama|mamah)"
                        r"\.?\s+(?=\S)", re.IGNORECASE)


def without_honorific(name: str) -> str:
    """'Bu Sari' -> 'Sari', 'Mbak Ayu' -> 'Ayu'; a name that is only the honorific stays."""
    stripped = _HONORIFIC.sub("", name, count=1)
    return stripped if any(ch.isalpha() for ch in stripped) else name


def clean_name(text: str | None) -> str | None:
    """A usable name, or None: 1-40 visible characters, not a command, not only digits, and
    without a leading honorific (the bot adds "Ibu" itself)."""
    if not text:
        return None
    name = " ".join(text.split())
    if not name or name.startswith("/") or len(name) > MAX_NAME or name.isdigit():
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    return without_honorific(name)
