"""Settings from the environment and `.env`, validated once at start."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from typing import Annotated

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org/bot"
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def _default_worker_id() -> str:
    """This machine, unless WORKER_ID names it: stable across restarts, so a restarted bot takes
    back its own unfinished claims at once (`run --workers N` names each worker host-i)."""
    return socket.gethostname()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = Field(default="", repr=False)
    telegram_api_base_url: str = TELEGRAM_API
    database_path: Path = Path("data/sahabat-nifas.db")
    # postgresql://user@host/db for a server (several workers); empty: the SQLite file above
    database_url: str = Field(default="", repr=False)
    # PostgreSQL: most connections the bot opens on this host, all workers together (`run --workers
    # N` gives each worker its share). Keep it under the server's max_connections (100 by default),
    # with room for backups and psql: a refused connection fails an update; a full pool only waits.
    database_connections: int = Field(default=60, ge=4)
    default_timezone: str = "Asia/Jakarta"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    bot_username: str = ""  # for the links the CLI prints; the running bot asks Telegram itself
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret: str = Field(default="", repr=False)
    # Reminders (issue 4): local times, window length, lateness allowed after downtime.
    reminder_morning: str = "06:00"
    reminder_evening: str = "16:00"
    reminder_window_days: int = 10
    reminder_grace_minutes: int = 120
    allow_paid_broadcast: bool = False
    # Replies and notices: a 5xx or dropped connection is retried, waiting this long, then twice, ...
    telegram_retry_backoff_s: float = Field(default=0.5, ge=0)
    # ... doubling up to 8 s, for this long in all (a reply that met an outage goes when Telegram is back)
    telegram_retry_window_s: float = Field(default=60.0, ge=0)
    # Telegram: about one message a second per chat, edits included. Every request to a chat leaves
    # this long after the previous one was answered; 0 switches the advance spacing off (tests).
    telegram_chat_interval_s: float = Field(default=1.1, ge=0)
    reminder_rate_per_s: float = Field(default=30.0, gt=0)   # overall cap of a wave (unpaid)
    reminder_poll_seconds: int = Field(default=30, ge=0)      # dispatcher wake-up; 0: no job (tools, bench)
    reminder_snooze_minutes: int = Field(default=30, ge=1, le=180)
    reminder_resend_uncertain: bool = True                    # after a crash mid-send: resend (at least once)
    # The desk dashboard (issue 11.2): a Mini App served by the bot itself; off while the URL is empty.
    dashboard_url: str = ""                   # public HTTPS address (a reverse proxy in front of the port)
    dashboard_listen: str = "127.0.0.1"
    dashboard_port: int = Field(default=8090, ge=0, le=65535)   # 0: any free port (tests)
    # The update inbox (issue 9, docs/crash-consistency.md): each update is stored before Telegram
    # is told it arrived. WORKER_ID names this process for its claims; give each process a stable
    # one (e.g. "bot-1") and a restarted process takes back at once what it held when it died.
    worker_id: str = Field(default_factory=_default_worker_id)
    inbox_lease_s: float = Field(default=120.0, gt=0)     # another worker's claim untouched this long: it died
    inbox_max_attempts: int = Field(default=3, ge=1)      # claimed this often without finishing: given up
    polling_timeout_s: int = Field(default=30, ge=0)      # getUpdates long poll
    polling_probe_s: float = Field(default=2.0, ge=0)     # at start: listen this long for another poller
    # Several workers (issue 9, docs/deploying.md): one of them runs the scheduled jobs, chosen
    # through the database; the others try to take over this often (a dead leader's successor
    # starts within about this long).
    leader_check_seconds: float = Field(default=10.0, gt=0, le=300)

    @property
    def database_target(self) -> str:
        """DATABASE_URL when set, else the SQLite file DATABASE_PATH."""
        return self.database_url or str(self.database_path)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_zone(value):
            raise ValueError(f"unknown time zone {value!r}; use e.g. Asia/Jakarta")
        return value

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _dashboard_https(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("https://"):
            raise ValueError("DASHBOARD_URL must be an https:// address (Telegram opens Mini Apps only over HTTPS)")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("reminder_morning", "reminder_evening")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("reminder times are HH:MM, e.g. 06:00")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @model_validator(mode="after")
    def _reminder_slots(self) -> "Settings":
        # a reminder names the slot its session is logged in: morning before noon, evening after
        if not (self.reminder_morning < "12:00" <= self.reminder_evening):
            raise ValueError("REMINDER_MORNING must be before 12:00 and REMINDER_EVENING from 12:00")
        return self

    @property
    def api_base_url(self) -> str:
        """Base URL in the form PTB expects: ends with `/bot`."""
        base = self.telegram_api_base_url.rstrip("/")
        return base if base.endswith("/bot") else base + "/bot"

    @property
    def file_base_url(self) -> str:
        return self.api_base_url[: -len("/bot")] + "/file/bot"


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def load_settings(**overrides: object) -> Settings:
    """Read settings; pydantic raises a clear ValidationError on bad values."""
    return Settings(**overrides)  # type: ignore[arg-type]
