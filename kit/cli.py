"""`sahabat-nifas clinic kit CLINIC_ID [--lang id|en] [--out FILE.pdf]`: the clinic kit as a PDF file."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def add_kit_parser(clinic_sub) -> argparse.ArgumentParser:
    """The `clinic kit` sub-command, for `bot.cli.build_parser` (its `clinic` sub-parsers)."""
    kit = clinic_sub.add_parser("kit", help="the clinic kit: an A4 PDF leaflet to print (mother + companions)")
    kit.add_argument("clinic_id", type=int)
    kit.add_argument("--lang", choices=["id", "en"], default="id", help="language of the leaflet (default: id)")
    kit.add_argument("--out", help="PDF file to write (default: sahabat-nifas-kit-<ID>-<LANG>.pdf)")
    kit.add_argument("--bot-username", help="the bot's username for the QR code (default: BOT_USERNAME)")
    kit.set_defaults(func=kit_command)
    return kit


def kit_command(args: argparse.Namespace) -> int:
    from bot.cli import _settings
    from bot.i18n import texts
    from db.database import Database
    from db.queries.clinics import get_clinic
    from kit.leaflet import build_kit_pdf, mother_link

    settings = _settings()
    username = (getattr(args, "bot_username", None) or settings.bot_username or "").strip().lstrip("@")
    if not username:
        print("error: the QR code needs the bot's username: set BOT_USERNAME in .env or pass --bot-username",
              file=sys.stderr)
        return 2

    async def load():
        db = await Database(settings.database_target).open()
        try:
            return await get_clinic(db, args.clinic_id)
        finally:
            await db.close()

    clinic = asyncio.run(load())
    if clinic is None:
        print(f"error: no clinic {args.clinic_id}", file=sys.stderr)
        return 2
    lang = getattr(args, "lang", None) or "id"
    out = Path(args.out or f"sahabat-nifas-kit-{clinic.id}-{lang}.pdf")
    link = mother_link(username, clinic)
    pdf = build_kit_pdf(texts(), lang, clinic, link)
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not clinic.phone and not clinic.whatsapp:
        print(f"warning: clinic {clinic.id} has no phone number, so the kit shows none; add one with "
              f"sahabat-nifas clinic set {clinic.id} --phone \"0274 123456\"", file=sys.stderr)
    print(f"clinic kit for {clinic.name} ({lang}, A4, 2 pages) written to {out}")
    print(f"  QR code: {link}")
    return 0
