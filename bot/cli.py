"""`sahabat-nifas`: run the bot, the terminal demo, and the administration commands."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.config import Settings, is_zone, load_settings

NO_TOKEN = ("TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), put its token "
            "in .env as TELEGRAM_BOT_TOKEN=..., then run again; or try it without Telegram: sahabat-nifas demo")


def _settings(**overrides) -> Settings:
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"configuration error: {problems}") from None


async def _with_db(settings: Settings, work):
    from db.database import Database

    db = await Database(settings.database_path).open()
    try:
        return await work(db)
    finally:
        await db.close()


def _bot_username(settings: Settings, given: str | None) -> str:
    return given or settings.bot_username or "SahabatNifasBot"


def _print_rows(rows: list[dict], as_json: bool, empty: str, line) -> None:
    """A listing: JSON, a hint when there is nothing yet, or one line per row."""
    if as_json:
        print(json.dumps(rows))
    elif not rows:
        print(empty)
    else:
        for row in rows:
            print(line(row))


# ---------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.telegram_bot_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.application import build_application
    from bot.logs import setup_logging

    setup_logging(settings.log_level)
    app = build_application(settings)
    if args.webhook or settings.webhook_url:
        url = args.webhook or settings.webhook_url
        app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port,
                        url_path=settings.webhook_path, webhook_url=url.rstrip("/") + "/" + settings.webhook_path,
                        secret_token=settings.webhook_secret or None)
    else:
        app.run_polling(allowed_updates=["message", "callback_query", "poll_answer"])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(database=args.database, lang=args.lang))


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(db):
        return await db.migrate()  # open() already applied them; report what is there

    applied = asyncio.run(_with_db(settings, work))

    async def versions(db):
        return [row["name"] for row in await db.fetchall("SELECT name FROM schema_migration ORDER BY version")]

    names = asyncio.run(_with_db(settings, versions))
    print(f"database {settings.database_path}: {len(names)} migrations applied ({', '.join(names)})"
          + ("" if not applied else f"; new now: {', '.join(applied)}"))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    target = Path(args.path)

    async def work(db):
        await db.backup(target)

    asyncio.run(_with_db(settings, work))
    print(f"backup written to {target}")
    return 0


def cmd_clinic(args: argparse.Namespace) -> int:
    from bot.clock import Clock, iso
    from db.queries import clinics

    settings = _settings()
    username = _bot_username(settings, args.bot_username)

    if args.action == "add":
        if not is_zone(args.timezone):
            print(f"error: unknown time zone {args.timezone!r}; use Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
                  file=sys.stderr)
            return 2

        async def add(db):
            return await clinics.create_clinic(db, args.name, args.timezone, iso(Clock().now()))

        clinic, code = asyncio.run(_with_db(settings, add))
        result = {"clinic_id": clinic.id, "name": clinic.name, "timezone": clinic.timezone,
                  "mother_link": f"https://t.me/{username}?start=m_{clinic.mother_code}",
                  "midwife_link": f"https://t.me/{username}?start=w_{code}"}
        if args.json:
            print(json.dumps(result))
        else:
            print(f"clinic {clinic.id}: {clinic.name} ({clinic.timezone})")
            print(f"  mother link (share with mothers):  {result['mother_link']}")
            print(f"  midwife link (one-time, give to one midwife): {result['midwife_link']}")
        return 0

    if args.action == "midwife-link":
        async def code(db):
            if await clinics.get_clinic(db, args.clinic_id) is None:
                return None
            return await clinics.new_midwife_code(db, args.clinic_id, iso(Clock().now()))

        new = asyncio.run(_with_db(settings, code))
        if new is None:
            print(f"error: no clinic {args.clinic_id}", file=sys.stderr)
            return 2
        link = f"https://t.me/{username}?start=w_{new}"
        print(json.dumps({"clinic_id": args.clinic_id, "midwife_link": link}) if args.json else link)
        return 0

    rows = asyncio.run(_with_db(settings, clinics.list_clinics))
    for row in rows:
        row["mother_link"] = f"https://t.me/{username}?start=m_{row.pop('mother_code')}"
    _print_rows(rows, args.json, "no clinics yet: sahabat-nifas clinic add \"Puskesmas ...\" --timezone Asia/Jakarta",
                lambda row: f"{row['id']:>4}  {row['name']}  {row['timezone']}  mothers={row['mothers']} "
                            f"midwives={row['midwives']}  {row['mother_link']}")
    return 0


def cmd_midwife(args: argparse.Namespace) -> int:
    from db.queries import clinics

    settings = _settings()
    if args.action == "remove":
        removed = asyncio.run(_with_db(settings, lambda db: clinics.remove_midwife(db, args.telegram_id)))
        if not removed:
            print(f"error: no midwife with Telegram id {args.telegram_id}", file=sys.stderr)
            return 2
        print(f"midwife {args.telegram_id} removed")
        return 0
    rows = asyncio.run(_with_db(settings, lambda db: clinics.list_midwives(db, args.clinic)))
    _print_rows(rows, args.json, "no midwives yet",
                lambda row: f"{row['user_id']:>12}  {row['display_name'] or '-':<20} clinic {row['clinic_id']} "
                            f"({row['clinic']})  since {row['joined_at']}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from analysis.cli import main as analyze_main

    return analyze_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sahabat-nifas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (long polling; --webhook URL for webhook mode)")
    run.add_argument("--webhook", help="public HTTPS URL for webhook mode (or set WEBHOOK_URL)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="chat with the real bot in the terminal, no Telegram needed")
    demo.add_argument("--database", help="keep the demo's data in this SQLite file (default: throw-away)")
    demo.add_argument("--lang", choices=["id", "en"], default="id", help="language of the demo users' phones")
    demo.set_defaults(func=cmd_demo)

    clinic = sub.add_parser("clinic", help="clinics (Puskesmas): add, list, midwife-link")
    clinic_sub = clinic.add_subparsers(dest="action", required=True)
    add = clinic_sub.add_parser("add", help="create a clinic; prints its mother link and a midwife link")
    add.add_argument("name")
    add.add_argument("--timezone", default="Asia/Jakarta")
    add.add_argument("--json", action="store_true")
    add.add_argument("--bot-username")
    lst = clinic_sub.add_parser("list", help="list clinics")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--bot-username")
    link = clinic_sub.add_parser("midwife-link", help="a new one-time midwife link for a clinic")
    link.add_argument("clinic_id", type=int)
    link.add_argument("--json", action="store_true")
    link.add_argument("--bot-username")
    clinic.set_defaults(func=cmd_clinic)

    midwife = sub.add_parser("midwife", help="midwives: list, remove")
    midwife_sub = midwife.add_subparsers(dest="action", required=True)
    mlist = midwife_sub.add_parser("list")
    mlist.add_argument("--clinic", type=int)
    mlist.add_argument("--json", action="store_true")
    mremove = midwife_sub.add_parser("remove")
    mremove.add_argument("telegram_id", type=int)
    midwife.set_defaults(func=cmd_midwife)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    backup = sub.add_parser("backup", help="consistent online copy of the database")
    backup.add_argument("path")
    backup.set_defaults(func=cmd_backup)

    analyze = sub.add_parser("analyze", help="before/after analysis of a CSV (milk flow or quiz)", add_help=False)
    analyze.add_argument("rest", nargs=argparse.REMAINDER)
    analyze.set_defaults(func=cmd_analyze)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
