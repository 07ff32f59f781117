"""`sahabat-nifas`: run the bot, the terminal demo, and the administration commands."""
from __future__ import annotations

import argparse
import asyncio
import json
import re
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

    db = await Database(settings.database_target).open()
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

    from bot.workers import check_workers

    problem = check_workers(settings, args.workers, args.webhook or settings.webhook_url)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    app = build_application(settings)
    if args.webhook or settings.webhook_url:
        # Our own webhook server (bot/webhook.py), in this process or in N workers (bot/workers.py).
        from bot.webhook import check_settings
        from bot.workers import serve

        url = args.webhook or settings.webhook_url
        problem = check_settings(settings, url)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return serve(settings, url, args.workers, app)
    else:
        # Our own poller (bot/polling.py): each update is stored before Telegram hears of it.
        from bot.polling import PollingConflict, run_polling

        try:
            asyncio.run(run_polling(app))
        except PollingConflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
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
        return await db.applied_migrations()

    names = asyncio.run(_with_db(settings, versions))
    where = "PostgreSQL" if settings.database_url else settings.database_path
    print(f"database {where}: {len(names)} migrations applied ({', '.join(names)})"
          + ("" if not applied else f"; new now: {', '.join(applied)}"))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from db.copy import BackupError, backup_database

    settings = _settings()
    try:  # SQLite: the online backup API; PostgreSQL: pg_dump --format=custom (restore: pg_restore)
        written = asyncio.run(backup_database(settings.database_target, args.path))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"backup written to {written}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from db.copy import command

    return command(args.action, args.source, args.target, batch_size=args.batch_size)


def cmd_clinic(args: argparse.Namespace) -> int:
    from bot.clock import Clock, iso
    from db.queries import clinics

    settings = _settings()
    username = _bot_username(settings, args.bot_username)

    if args.action in ("add", "set"):
        try:
            fields = _clinic_fields(args)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.action == "set":
            return _clinic_set(settings, args, fields)

        async def add(db):
            return await clinics.create_clinic(db, args.name, args.timezone, iso(Clock().now()),
                                               fields.get("district"), fields.get("phone"), fields.get("whatsapp"))

        clinic, code = asyncio.run(_with_db(settings, add))
        result = {**_clinic_json(clinic),
                  "mother_link": f"https://t.me/{username}?start=m_{clinic.mother_code}",
                  "midwife_link": f"https://t.me/{username}?start=w_{code}"}
        if args.json:
            print(json.dumps(result))
        else:
            print(_clinic_line(clinic))
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
                lambda row: f"{row['id']:>4}  {row['name']}  district={row['district'] or '-'}  "
                            f"phone={row['phone'] or '-'}  {row['timezone']}  mothers={row['mothers']} "
                            f"midwives={row['midwives']}  {row['mother_link']}")
    return 0


def _clinic_fields(args: argparse.Namespace) -> dict:
    """The clinic fields given on the command line, checked; phone numbers normalised (+62 ...).

    An empty value ("") clears a district or number. Raises ValueError with a clear message.
    """
    from db.queries.clinics import normalise_phone

    fields = {}
    for key in ("name", "district", "phone", "whatsapp", "timezone"):
        value = getattr(args, key, None)
        if value is None:
            continue
        value = value.strip()
        if key == "name" and not value:
            raise ValueError("the clinic name cannot be empty")
        if key == "timezone" and not is_zone(value):
            raise ValueError(f"unknown time zone {value!r}; use Asia/Jakarta, Asia/Makassar or Asia/Jayapura")
        if key in ("phone", "whatsapp") and value:
            value = normalise_phone(value)
        fields[key] = value or None
    fields.update(_service_fields(args))
    return fields


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _service_fields(args: argparse.Namespace) -> dict:
    """Opening hours, escalation delays and the call list's time (clinic set only)."""
    fields: dict = {}
    hours = getattr(args, "hours", None)
    if hours is not None:
        opens, _, closes = hours.partition("-")
        if not (_HHMM.match(opens.strip()) and _HHMM.match(closes.strip()) and opens.strip() < closes.strip()):
            raise ValueError(f"--hours {hours!r}: give opening and closing time as HH:MM-HH:MM, e.g. 07:00-16:00")
        fields.update(hours_open=opens.strip(), hours_close=closes.strip())
    days = getattr(args, "days", None)
    if days is not None:
        if not days or any(d not in "1234567" for d in days) or len(set(days)) != len(days):
            raise ValueError(f"--days {days!r}: the open weekdays as digits, 1 = Monday ... 7 = Sunday, e.g. 123456")
        fields["hours_days"] = "".join(sorted(days))
    for key, option, lowest, highest in (("escalate_urgent_minutes", "escalate_minutes", 1, 240),
                                         ("escalate_warning_hours", "escalate_hours", 1, 168)):
        value = getattr(args, option, None)
        if value is not None:
            if not lowest <= value <= highest:
                raise ValueError(f"--{option.replace('_', '-')} must be between {lowest} and {highest}")
            fields[key] = value
    at = getattr(args, "call_list_time", None)
    if at is not None:
        if not _HHMM.match(at):
            raise ValueError(f"--call-list-time {at!r}: give HH:MM, e.g. 07:00")
        fields["call_list_time"] = at
    return fields


def _clinic_set(settings: Settings, args: argparse.Namespace, fields: dict) -> int:
    from db.queries import clinics

    if not fields:
        print("error: nothing to change; give --name, --district, --phone, --whatsapp, --timezone, --hours,"
              " --days, --escalate-minutes, --escalate-hours or --call-list-time", file=sys.stderr)
        return 2
    clinic = asyncio.run(_with_db(settings, lambda db: clinics.update_clinic(db, args.clinic_id, **fields)))
    if clinic is None:
        print(f"error: no clinic {args.clinic_id}", file=sys.stderr)
        return 2
    print(json.dumps(_clinic_json(clinic)) if args.json else _clinic_line(clinic))
    return 0


def _clinic_json(clinic) -> dict:
    return {"clinic_id": clinic.id, "name": clinic.name, "timezone": clinic.timezone, "district": clinic.district,
            "phone": clinic.phone, "whatsapp": clinic.whatsapp}


def _clinic_line(clinic) -> str:
    extra = "".join(f", {label} {value}" for label, value in
                    (("district", clinic.district), ("phone", clinic.phone), ("WhatsApp", clinic.whatsapp)) if value)
    return f"clinic {clinic.id}: {clinic.name} ({clinic.timezone}{extra})"


def cmd_midwife(args: argparse.Namespace) -> int:
    from db.queries import clinics

    settings = _settings()
    if args.action == "coordinator":
        from db.queries.alerts import set_coordinator

        changed = asyncio.run(_with_db(settings, lambda db: set_coordinator(db, args.telegram_id, not args.off)))
        if not changed:
            print(f"error: no midwife with Telegram id {args.telegram_id}", file=sys.stderr)
            return 2
        print(f"midwife {args.telegram_id} is {'no longer ' if args.off else ''}her clinic's coordinator")
        return 0
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
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="worker processes sharing the webhook port (default 1; more need --webhook and "
                          "PostgreSQL, see docs/deploying.md)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="chat with the real bot in the terminal, no Telegram needed")
    demo.add_argument("--database", help="keep the demo's data in this SQLite file (default: throw-away)")
    demo.add_argument("--lang", choices=["id", "en"], default="id", help="language of the demo users' phones")
    demo.set_defaults(func=cmd_demo)

    clinic = sub.add_parser("clinic", help="clinics (Puskesmas): add, set, list, midwife-link, kit")
    clinic_sub = clinic.add_subparsers(dest="action", required=True)
    add = clinic_sub.add_parser("add", help="create a clinic; prints its mother link and a midwife link")
    add.add_argument("name")
    add.add_argument("--timezone", default="Asia/Jakarta")
    _clinic_options(add)
    add.add_argument("--json", action="store_true")
    add.add_argument("--bot-username")
    change = clinic_sub.add_parser("set", help="change a clinic's name, district, numbers or time zone")
    change.add_argument("clinic_id", type=int)
    change.add_argument("--name")
    change.add_argument("--timezone")
    _clinic_options(change)
    change.add_argument("--hours", help="service hours in the clinic's zone, HH:MM-HH:MM (default 07:00-16:00)")
    change.add_argument("--days", help="open weekdays, 1 = Monday ... 7 = Sunday (default 123456)")
    change.add_argument("--escalate-minutes", type=int,
                        help="an urgent alert nobody took is sent again to everyone after this (default 15)")
    change.add_argument("--escalate-hours", type=int,
                        help="another alert nobody took is sent again after this many hours (default 24)")
    change.add_argument("--call-list-time", help="when each midwife gets her daily call list, HH:MM (default 07:00)")
    change.add_argument("--json", action="store_true")
    change.add_argument("--bot-username")
    lst = clinic_sub.add_parser("list", help="list clinics")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--bot-username")
    link = clinic_sub.add_parser("midwife-link", help="a new one-time midwife link for a clinic")
    link.add_argument("clinic_id", type=int)
    link.add_argument("--json", action="store_true")
    link.add_argument("--bot-username")
    from kit.cli import add_kit_parser

    add_kit_parser(clinic_sub)  # clinic kit CLINIC_ID [--lang id|en] [--out FILE.pdf]
    clinic.set_defaults(func=cmd_clinic)

    midwife = sub.add_parser("midwife", help="midwives: list, remove")
    midwife_sub = midwife.add_subparsers(dest="action", required=True)
    mlist = midwife_sub.add_parser("list")
    mlist.add_argument("--clinic", type=int)
    mlist.add_argument("--json", action="store_true")
    mremove = midwife_sub.add_parser("remove")
    mremove.add_argument("telegram_id", type=int)
    coordinator = midwife_sub.add_parser("coordinator", help="mark a midwife as her clinic's coordinator")
    coordinator.add_argument("telegram_id", type=int)
    coordinator.add_argument("--off", action="store_true", help="no longer the coordinator")
    midwife.set_defaults(func=cmd_midwife)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    backup = sub.add_parser("backup", help="consistent online copy of the database (PostgreSQL: pg_dump)")
    backup.add_argument("path")
    backup.set_defaults(func=cmd_backup)

    database = sub.add_parser("db", help="copy a database between SQLite and PostgreSQL, check a copy")
    database_sub = database.add_subparsers(dest="action", required=True)
    for action, text in (("copy", "migrate TARGET, copy every row of SOURCE into it (it must be empty), check"),
                         ("check", "compare SOURCE and TARGET row for row (exit code 1 on a difference)")):
        step = database_sub.add_parser(action, help=text)
        step.add_argument("source", help="a SQLite file (path or sqlite:///path) or postgresql://user@host/db")
        step.add_argument("target", help="the same forms")
        step.add_argument("--batch-size", type=int, default=1000, help="rows per batch (default 1000)")
    database.set_defaults(func=cmd_db)

    analyze = sub.add_parser("analyze", help="before/after analysis of a CSV (milk flow or quiz)", add_help=False)
    analyze.add_argument("rest", nargs=argparse.REMAINDER)
    analyze.set_defaults(func=cmd_analyze)
    return parser


def _clinic_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--district", help="the district (kecamatan/kabupaten), so mothers can find it")
    parser.add_argument("--phone", help="number to call, e.g. 0274 123456 (stored as +62 274 123456)")
    parser.add_argument("--whatsapp", help="WhatsApp number, optional")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
