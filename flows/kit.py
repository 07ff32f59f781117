"""/kit for a midwife: her clinic's kit (the A4 leaflet to print) as a PDF document.

`/kit` in her language, `/kit en` or `/kit id` for the other one. Anyone else gets the refusal the
midwife commands give (`midwife.only_midwives`). The PDF is built in a thread (`kit.leaflet`).
"""
from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.actor import load_actor
from bot.i18n import LANGUAGES
from db.queries.clinics import get_clinic, midwife_clinic
from flows.commands import names
from flows.ui import send
from kit.leaflet import build_kit_pdf, mother_link


async def kit(update: Update, context) -> None:
    actor = await load_actor(update, context)
    texts = context.texts
    clinic_id = await midwife_clinic(context.db, actor.user_id) if actor.role == "midwife" else None
    clinic = None if clinic_id is None else await get_clinic(context.db, clinic_id)
    if clinic is None:
        await send(update, texts.t(actor.lang, "midwife.only_midwives"))
        return
    wanted = (context.args or [""])[0].lower()
    lang = wanted if wanted in LANGUAGES else actor.lang
    link = mother_link(context.bot.username, clinic)
    pdf = await asyncio.to_thread(build_kit_pdf, texts, lang, clinic, link)
    caption = texts.t(lang, "kit.document.caption", clinic=clinic.name)
    if not clinic.phone and not clinic.whatsapp:
        caption += "\n\n" + texts.t(lang, "kit.document.no_phone", clinic=clinic.name)
    await update.effective_chat.send_document(document=pdf, filename=f"sahabat-nifas-kit-{clinic.id}-{lang}.pdf",
                                              caption=caption)


def register(app: Application) -> None:
    app.add_handler(CommandHandler(names("kit"), kit))
