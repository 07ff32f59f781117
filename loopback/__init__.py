"""Loopback stand-in for the Telegram Bot API (tests and the terminal demo)."""
from loopback.server import ApiError, FakeUser, Fault, LoopbackBotAPI, SentMessage

__all__ = ["ApiError", "FakeUser", "Fault", "LoopbackBotAPI", "SentMessage"]
