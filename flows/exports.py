"""/ekspor: the midwife chooses an export, the bot writes it in the background and sends it.

    /ekspor ─► 📗 Register Puskesmas (XLSX)      ex:k:register   (first: the default, for the clinic)
           ├─► 🔬 Data penelitian (pseudonim)    ex:k:research   (3 CSV files + 1 XLSX)
           └─► 🏥 FHIR (SATUSEHAT)               ex:k:fhir ─► 30 days (default) / 7 days / this month
                                                               ex:f:d30 | ex:f:d7 | ex:f:month

Every step checks again that the user is a midwife (a forged button from anyone else gets the
"only midwives" answer) and every query takes her own id, so she only ever gets her own
clinic's rows. One export per midwife runs at a time; the bot keeps answering meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ConversationHandler

from bot.actor import Actor
from db.queries import clinic_scope, users
from db.queries.clinic_scope import NotAMidwife
from flows.midwife_only import midwife_only
from flows.ui import close_buttons, keyboard, send

log = logging.getLogger(__name__)

END = ConversationHandler.END
KINDS = ("register", "research", "fhir")


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, key, **values)


_guarded = midwife_only()


def _running(context, midwife_id: int) -> bool:
    task = context.services.exports.get(midwife_id)
    return task is not None and not task.done()


@_guarded
async def export(update: Update, context, actor: Actor) -> int:
    """/ekspor (or the menu button): which export?"""
    scope = await clinic_scope.scope_of(context.db, actor.user_id)  # refuses anyone but a midwife
    await close_buttons(update)
    if _running(context, actor.user_id):
        await send(update, _t(context, actor.lang, "midwife.export.busy"))
        return END
    await send(update, _t(context, actor.lang, "exports.choose", clinic=scope.clinic_name),
               keyboard([[(_t(context, actor.lang, f"exports.kinds.{kind}"), f"ex:k:{kind}")] for kind in KINDS]))
    return END


@_guarded
async def choose_kind(update: Update, context, actor: Actor) -> int:
    kind = update.callback_query.data.rsplit(":", 1)[1]
    await clinic_scope.scope_of(context.db, actor.user_id)
    if kind == "fhir":
        await close_buttons(update, _t(context, actor.lang, "exports.kinds.fhir"))
        await send(update, _t(context, actor.lang, "exports.fhir_range"), keyboard(
            [[(_t(context, actor.lang, f"exports.ranges.{r}"), f"ex:f:{r}")] for r in _ranges()]))
        return END
    await close_buttons(update, _t(context, actor.lang, f"exports.kinds.{kind}"))
    await _start(update, context, actor, kind)
    return END


@_guarded
async def choose_range(update: Update, context, actor: Actor) -> int:
    choice = update.callback_query.data.rsplit(":", 1)[1]
    await clinic_scope.scope_of(context.db, actor.user_id)
    await close_buttons(update, _t(context, actor.lang, f"exports.ranges.{choice}"))
    await _start(update, context, actor, "fhir", choice)
    return END


def _ranges() -> tuple[str, ...]:
    from exports.fhir import RANGES
    return RANGES


async def _start(update: Update, context, actor: Actor, kind: str, fhir_range: str | None = None) -> None:
    if _running(context, actor.user_id):
        await send(update, _t(context, actor.lang, "midwife.export.busy"))
        return
    await send(update, _t(context, actor.lang, f"exports.preparing.{kind}"))
    running = context.services.exports
    running[actor.user_id] = context.application.create_task(
        _export_and_send(context.application, actor.user_id, actor.lang, kind, fhir_range), update=update,
        name=f"export-{kind}-{actor.user_id}")


# ----------------------------------------------------------------- in the background
async def _send_research(app: Application, midwife_id: int, lang: str, folder: Path, stamp: str) -> None:
    from exports.research import write_research_files

    services, texts = app.services, app.services.texts  # type: ignore[attr-defined]
    scope, files = await asyncio.to_thread(
        write_research_files, services.db.url, midwife_id, folder, stamp,
        texts.data(lang, "midwife.export.columns"), texts.data(lang, "midwife.export.columns_header"))
    counts = {name: rows for name, _, rows in files}
    for name, path, rows in files:
        if name == "xlsx":
            caption = texts.t(lang, "midwife.export.caption_xlsx", clinic=scope.clinic_name,
                              reports=counts["milk_reports"], sessions=counts["sessions"], quiz=counts["quiz_attempts"])
        else:
            caption = texts.t(lang, "midwife.export.caption_csv", rows=rows,
                              table=texts.t(lang, f"midwife.export.tables.{name}"))
        await _send_file(app, midwife_id, path, caption)


async def _send_register(app: Application, midwife_id: int, lang: str, folder: Path, stamp: str) -> None:
    from exports.register import write_register

    services, texts = app.services, app.services.texts  # type: ignore[attr-defined]
    path = folder / f"register-puskesmas-{stamp}.xlsx"
    scope, counts = await asyncio.to_thread(write_register, services.db.url, midwife_id, path,
                                            services.clock.now(), texts)
    await _send_file(app, midwife_id, path, texts.t(
        lang, "exports.caption.register", clinic=scope.clinic_name, mothers=counts["Ibu"],
        reports=counts["Laporan ASI"], sessions=counts["Sesi pijat"], quiz=counts["Kuis"],
        alerts=counts["Peringatan"], questions=counts["Pertanyaan"]))


async def _send_fhir(app: Application, midwife_id: int, lang: str, folder: Path, stamp: str,
                     choice: str) -> None:
    from exports.fhir import REPORTS_PER_FILE, date_range, write_fhir_bundle

    services, texts = app.services, app.services.texts  # type: ignore[attr-defined]
    now = services.clock.now()
    scope = await clinic_scope.scope_of(services.db, midwife_id)
    start, end = date_range(choice, now, scope.timezone)
    path = folder / f"fhir-laporan-asi-{stamp}.json"
    scope, counts, paths = await asyncio.to_thread(write_fhir_bundle, services.db.url, midwife_id, path, start,
                                                   end, now, texts, REPORTS_PER_FILE)
    zone = ZoneInfo(scope.timezone)
    caption = texts.t(
        lang, "exports.caption.fhir", clinic=scope.clinic_name,
        start=start.astimezone(zone).strftime("%d-%m-%Y"), end=end.astimezone(zone).strftime("%d-%m-%Y"),
        patients=counts["mothers"],
        reports=counts["QuestionnaireResponse"], observations=counts["Observation"])
    for number, part in enumerate(paths, 1):
        more = "" if len(paths) == 1 else "\n" + texts.t(lang, "exports.caption.part", n=number, total=len(paths))
        await _send_file(app, midwife_id, part, caption + more)


async def _send_file(app: Application, midwife_id: int, path: Path, caption: str) -> None:
    with open(path, "rb") as handle:
        await app.bot.send_document(midwife_id, document=handle, filename=path.name, caption=caption)


async def _export_and_send(app: Application, midwife_id: int, lang: str, kind: str = "research",
                           fhir_range: str | None = None) -> None:
    services, bot = app.services, app.bot  # type: ignore[attr-defined]
    texts = services.texts
    stamp = services.clock.now().strftime("%Y%m%d-%H%M")
    try:
        with tempfile.TemporaryDirectory(prefix="sn-export-") as name:
            folder = Path(name)
            if kind == "register":
                await _send_register(app, midwife_id, lang, folder, stamp)
            elif kind == "fhir":
                await _send_fhir(app, midwife_id, lang, folder, stamp, fhir_range or "d30")
            else:
                await _send_research(app, midwife_id, lang, folder, stamp)
    except Forbidden:
        await users.set_active(services.db, midwife_id, False)
    except NotAMidwife:  # removed while it was being written: she gets nothing
        log.info("export dropped: no longer a midwife")
    except (TelegramError, OSError, sqlite3.Error, ValueError) as exc:
        log.error("export failed: %s", type(exc).__name__, exc_info=exc)
        try:
            await bot.send_message(midwife_id, texts.t(lang, "midwife.export.failed"))
        except TelegramError:
            log.warning("could not tell the midwife that the export failed")
    finally:
        running = services.exports
        if running.get(midwife_id) is asyncio.current_task():
            running.pop(midwife_id, None)


async def wait_for_exports(app: Application) -> None:
    """For tests and the benchmark: wait until every running export has sent its files."""
    tasks = list(app.services.exports.values())  # type: ignore[attr-defined]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


BUTTONS = [(r"^ex:k:(register|research|fhir)$", choose_kind), (r"^ex:f:(d30|d7|month)$", choose_range)]


def register(app: Application) -> None:
    """The export's buttons; /ekspor itself and its menu entry are registered by flows.midwife
    together with the other midwife commands (so a pending note ends when she exports)."""
    for pattern, callback in BUTTONS:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
