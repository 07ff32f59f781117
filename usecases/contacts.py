"""The one place a number to call is shown: her Puskesmas (phone, WhatsApp) and 112 / 119.

Used by the danger screen, alert advice, reminders and /bantuan. Plain text (no parse_mode):
numbers are stored in international form (+62 ...), which Telegram makes tappable.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from db.database import Database
from db.queries.clinics import Clinic, get_clinic

if TYPE_CHECKING:
    from bot.i18n import Texts


def contact_block(texts: "Texts", lang: str, clinic: Clinic | None) -> str:
    """Lines with the clinic's numbers (or why there are none) and always 112 / 119."""
    lines = []
    if clinic is None:
        lines.append(texts.t(lang, "contacts.no_clinic"))
    elif not clinic.phone and not clinic.whatsapp:
        lines.append(texts.t(lang, "contacts.no_phone", clinic=clinic.name))
    else:
        if clinic.phone:
            lines.append(texts.t(lang, "contacts.clinic_phone", clinic=clinic.name, phone=clinic.phone))
        if clinic.whatsapp:
            lines.append(texts.t(lang, "contacts.clinic_whatsapp", clinic=clinic.name, phone=clinic.whatsapp))
    lines.append(texts.t(lang, "contacts.emergency"))
    return "\n".join(lines)


async def mother_clinic(db: Database, mother_id: int) -> Clinic | None:
    clinic_id = await db.fetchval("SELECT clinic_id FROM mother WHERE user_id = ?", (mother_id,))
    return None if clinic_id is None else await get_clinic(db, clinic_id)


async def contact_block_for_mother(db: Database, texts: "Texts", lang: str, mother_id: int) -> str:
    """The contact block for this mother's clinic (also for a companion, with her id)."""
    return contact_block(texts, lang, await mother_clinic(db, mother_id))
