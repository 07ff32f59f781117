"""Placeholder: handlers of this feature are added by its issue."""
from __future__ import annotations


def register(app) -> None:
    """Add this feature's handlers and menu entries."""
