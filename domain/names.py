"""Validating what a person types as the name to be called by."""
from __future__ import annotations

MAX_NAME = 40


def clean_name(text: str | None) -> str | None:
    """A usable name, or None: 1-40 visible characters, not a command, not only digits."""
    if not text:
        return None
    name = " ".join(text.split())
    if not name or name.startswith("/") or len(name) > MAX_NAME or name.isdigit():
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    return name
