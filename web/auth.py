"""Who is looking at the dashboard: Telegram's Mini App initData, one-time login links for a
desktop browser, and the sessions they open.

initData is checked exactly as Telegram documents it ("Validating data received via the Mini
App"): secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token); the hash is the hex
HMAC_SHA256(key=secret_key, msg=data_check_string), where data_check_string is every received
field except `hash`, as `key=value`, sorted by key and joined by "\\n". The comparison runs in
constant time, and initData older than an hour (`auth_date`) is refused.

A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the server keeps
the sessions in memory (a restart signs everybody out). A session only remembers *who* she is:
every request checks again through `clinic_scope.scope_of` that she is still a midwife.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

from bot.clock import iso
from db.database import Database

MAX_AGE = timedelta(hours=1)              # initData older than this is refused
LOGIN_LIFETIME = timedelta(minutes=10)    # a one-time login link
SESSION_LIFETIME = timedelta(hours=12)
COOKIE = "sn_dasbor"


class InitDataError(ValueError):
    """initData that is malformed, forged, for another bot, or too old."""


def _secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()


def _data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram would send it for these fields (for tests and the screenshot tool)."""
    digest = hmac.new(_secret_key(bot_token), _data_check_string(fields).encode("utf-8"), hashlib.sha256)
    return urlencode({**fields, "hash": digest.hexdigest()})


def init_data_for(user_id: int, first_name: str, bot_token: str, auth_date: datetime,
                  language_code: str = "id") -> str:
    user = json.dumps({"id": user_id, "first_name": first_name, "language_code": language_code},
                      separators=(",", ":"), ensure_ascii=False)
    return sign_init_data({"query_id": "AAH" + secrets.token_hex(6), "user": user,
                           "auth_date": str(int(auth_date.timestamp()))}, bot_token)


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None
    auth_date: datetime


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age: timedelta = MAX_AGE) -> WebAppUser:
    """The Telegram user the initData vouches for; raises InitDataError otherwise."""
    if not init_data or len(init_data) > 8192:
        raise InitDataError("empty or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field twice")
    received = fields.get("hash", "")
    expected = hmac.new(_secret_key(bot_token), _data_check_string(fields).encode("utf-8"), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest().encode(), received.encode()):
        raise InitDataError("bad signature")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), timezone.utc)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("no user or auth_date") from None
    if now - auth_date > max_age or auth_date - now > timedelta(minutes=5):
        raise InitDataError("expired")
    return WebAppUser(user_id, str(user.get("first_name", "")), user.get("language_code"), auth_date)


# ----------------------------------------------------------------- one-time login links
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def new_login_token(db: Database, midwife_id: int, now: datetime) -> str:
    """128 random bits, valid 10 minutes, single use; only its hash is stored."""
    token = secrets.token_urlsafe(16)
    await db.execute("DELETE FROM dashboard_login WHERE expires_at < ?", (iso(now - timedelta(days=1)),))
    await db.execute("INSERT INTO dashboard_login(token_hash, midwife_id, created_at, expires_at)"
                     " VALUES (?, ?, ?, ?)", (_hash(token), midwife_id, iso(now), iso(now + LOGIN_LIFETIME)))
    return token


async def login_token_valid(db: Database, token: str, now: datetime) -> int | None:
    """The midwife of an unused, unexpired token (without using it)."""
    return await db.fetchval("SELECT midwife_id FROM dashboard_login WHERE token_hash = ? AND used_at IS NULL"
                             " AND expires_at > ?", (_hash(token), iso(now)))


async def use_login_token(db: Database, token: str, now: datetime) -> int | None:
    """The midwife the token was made for, once; None when unknown, used or expired."""
    if len(token) > 64:
        return None
    cursor = await db.execute("UPDATE dashboard_login SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
                              " AND expires_at > ?", (iso(now), _hash(token), iso(now)))
    if cursor.rowcount != 1:
        return None
    return await db.fetchval("SELECT midwife_id FROM dashboard_login WHERE token_hash = ?", (_hash(token),))


# ----------------------------------------------------------------- sessions
@dataclass
class Session:
    midwife_id: int
    expires: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lang: str | None = None
    flash: tuple[str, bool] | None = None   # one message for the next page (after "Ambil")


class Sessions:
    """In memory: a restart signs everybody out (they open the dashboard again)."""

    def __init__(self, lifetime: timedelta = SESSION_LIFETIME):
        self.lifetime = lifetime
        self._by_token: dict[str, Session] = {}

    def open(self, midwife_id: int, lang: str | None = None) -> tuple[str, Session]:
        self._sweep()
        token = secrets.token_urlsafe(32)
        session = Session(midwife_id, time.monotonic() + self.lifetime.total_seconds(), lang=lang)
        self._by_token[_hash(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._by_token.get(_hash(token))
        if session is None or session.expires < time.monotonic():
            self._by_token.pop(_hash(token), None)
            return None
        return session

    def close(self, token: str | None) -> None:
        if token:
            self._by_token.pop(_hash(token), None)

    def close_all_of(self, midwife_id: int) -> None:
        for key in [k for k, s in self._by_token.items() if s.midwife_id == midwife_id]:
            del self._by_token[key]

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._by_token.items() if s.expires < now]:
            del self._by_token[key]
