"""Sending the guide's pictures: each file is uploaded once, then sent by its Telegram file id.

File ids are kept in the database (`media_cache`), keyed by the picture's name and a hash of
its bytes, so they survive restarts and a redrawn picture is uploaded afresh. A file id that
Telegram no longer accepts is forgotten and the picture uploaded again.
"""
from __future__ import annotations

import hashlib
import logging
from importlib import resources

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest

from db.queries import guide as guide_q

log = logging.getLogger(__name__)


def picture_bytes(name: str) -> bytes:
    return resources.files("flows.content").joinpath("images", name).read_bytes()


def _hashed(cache: dict, name: str) -> tuple[bytes, str]:
    """The picture's bytes and hash, read once per process (`services.media_files`)."""
    if name not in cache:
        data = picture_bytes(name)
        cache[name] = (data, hashlib.sha256(data).hexdigest()[:16])
    return cache[name]


def is_animation(name: str) -> bool:
    return name.lower().endswith((".gif", ".mp4"))


async def send_picture(context, chat_id: int, name: str, caption: str,
                       markup: InlineKeyboardMarkup | None = None) -> Message:
    """sendPhoto (sendAnimation for a GIF) with a caption; by file id when we have one."""
    db = context.db
    data, digest = _hashed(context.services.media_files, name)
    send = context.bot.send_animation if is_animation(name) else context.bot.send_photo
    field = "animation" if is_animation(name) else "photo"
    file_id = await guide_q.cached_file_id(db, name, digest)
    if file_id is not None:
        try:
            return await send(chat_id, **{field: file_id}, caption=caption, reply_markup=markup)
        except BadRequest as exc:
            if "file" not in exc.message.lower():
                raise
            log.warning("cached file id of %s refused; uploading again", name)
            await guide_q.forget_file_id(db, name, digest)
    message = await send(chat_id, **{field: InputFile(data, filename=name)}, caption=caption, reply_markup=markup)
    sent_id = _file_id(message)
    if sent_id:
        await guide_q.store_file_id(db, name, digest, sent_id, context.services.now_iso())
    return message


def _file_id(message: Message) -> str | None:
    if message.animation is not None:
        return message.animation.file_id
    if message.photo:
        return message.photo[-1].file_id
    if message.document is not None:
        return message.document.file_id
    return None
