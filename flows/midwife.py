"""The midwife's review in Telegram: /ringkasan (summary with the before/after analysis),
/ibu (her clinic's mothers, most urgent first, and one mother's record with notes and alerts),
/ekspor (CSV and XLSX files), and the alert messages sent to her.

Every read and write goes through `db.queries.clinic_scope`, which takes the midwife's own id
and refuses anything outside her clinic; `_guarded` turns its refusals into one clear answer.
"""
from __future__ import annotations

import asyncio
import html
import logging
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor, load_actor
from bot.clock import iso, parse_iso
from db.queries import clinic_scope, clinics, users
from db.queries.clinic_scope import NotAMidwife, NotYourClinic
from db.queries.mothers import Mother
from flows.alerting import cause_text
from flows import menu
from flows.global_commands import flow_fallbacks
from flows.ui import close_buttons, keyboard, send
from flows.commands import names

log = logging.getLogger(__name__)

END = ConversationHandler.END
NOTE = "note"
NOTE_DRAFT = "midwife_note"
NOTE_LIFETIME = timedelta(hours=1)
PAGE_SIZE = 8
EXPORTS = "midwife.exports"            # services.extras: midwife id -> running export task
CHART_CACHE = "midwife.chart_cache"    # services.extras: chart PNGs by their numbers
COMMANDS = {action: names(action) for action in ("summary", "mothers", "export")}
_pyplot_lock = threading.Lock()


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, key, **values)


def _guarded(handler):
    """Load the actor, run the handler; a refusal from clinic_scope gets one clear answer."""
    async def wrapped(update: Update, context) -> int | str | None:
        actor = await load_actor(update, context)
        try:
            return await handler(update, context, actor)
        except NotAMidwife:
            key = "midwife.only_midwives"
        except NotYourClinic:
            key = "midwife.not_found"
        context.user_data.pop(NOTE_DRAFT, None)
        if update.callback_query is not None:
            await update.callback_query.answer(_t(context, actor.lang, key), show_alert=True)
        await send(update, _t(context, actor.lang, key))
        return END

    wrapped.__name__ = handler.__name__
    return wrapped


def _when(moment: str, zone: str) -> str:
    return parse_iso(moment).astimezone(ZoneInfo(zone)).strftime("%d/%m %H:%M")


# ----------------------------------------------------------------- /ringkasan
def _pre(text: str) -> str:
    return f"<pre>{html.escape(text.rstrip())}</pre>"


def render_summary(texts, lang: str, cohort: clinic_scope.Cohort, milk: dict, quiz: dict, today: str,
                   lost: int = 0) -> list[str]:
    """The summary as HTML messages: cohort, the before/after milk-flow table, the quiz."""
    from analysis.report import format_text

    header = texts.t(lang, "midwife.summary.header", clinic=cohort.scope.clinic_name, date=today,
                     mothers=cohort.mothers, active=cohort.active, sessions=cohort.sessions_week,
                     alerts=cohort.open_alerts)
    first = html.escape(header) + "\n\n" + html.escape(texts.t(lang, "midwife.summary.caveat.text")) + "\n\n"
    if milk["n_pairs"]:
        first += _pre(format_text(milk, lang))
    else:
        first += html.escape(texts.t(lang, "midwife.summary.no_milk_pairs", excluded=milk["excluded"]))
    if lost:
        first += "\n" + html.escape(texts.t(lang, "midwife.summary.loss_excluded", n=lost))
    second = html.escape(texts.t(lang, "midwife.summary.quiz_rule")) + "\n\n"
    if quiz["n_pairs"]:
        second += _pre(format_text(quiz, lang))
    else:
        second += html.escape(texts.t(lang, "midwife.summary.no_quiz_pairs", excluded=quiz["excluded"]))
    return [first, second]


def _chart_key(lang: str, milk: dict) -> str:
    return lang + repr([(milk[p][c]["n"]) for p in ("pre", "post") for c in ("not_out", "not_smooth", "smooth")])


async def _summary_chart(context, lang: str, milk: dict) -> bytes:
    """The stacked bars, drawn in a worker thread; the last few are kept (same numbers, same picture)."""
    from analysis.chart import milk_flow_chart_png

    cache: OrderedDict = context.services.extras.setdefault(CHART_CACHE, OrderedDict())
    key = _chart_key(lang, milk)
    if key not in cache:
        def draw() -> bytes:
            with _pyplot_lock:
                return milk_flow_chart_png(milk, "", lang)

        cache[key] = await asyncio.to_thread(draw)
        while len(cache) > 32:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return cache[key]


@_guarded
async def summary(update: Update, context, actor: Actor) -> int:
    from analysis.stats import milk_flow_analysis, quiz_analysis

    db, now = context.db, context.clock.now()
    milk = milk_flow_analysis(*await clinic_scope.milk_flow_pairs(db, actor.user_id))
    await close_buttons(update)
    # the chart is drawn in a worker thread while SQLite counts the rest and the texts go out
    chart = asyncio.create_task(_summary_chart(context, actor.lang, milk)) if milk["n_pairs"] else None
    try:
        cohort = await clinic_scope.cohort(db, actor.user_id, now)
        quiz = quiz_analysis(*await clinic_scope.quiz_pairs(db, actor.user_id))
        today = now.astimezone(ZoneInfo(cohort.scope.timezone)).strftime("%d-%m-%Y")
        lost = await clinic_scope.loss_excluded(db, actor.user_id)
        for part in render_summary(context.texts, actor.lang, cohort, milk, quiz, today, lost):
            await update.effective_chat.send_message(part, parse_mode=ParseMode.HTML)
    except BaseException:
        if chart is not None:
            chart.cancel()
        raise
    if chart is not None:
        png = await chart
        await update.effective_chat.send_photo(png, caption=_t(
            context, actor.lang, "midwife.summary.chart_caption", clinic=cohort.scope.clinic_name, n=milk["n_pairs"]))
    return END


# ----------------------------------------------------------------- /ibu
def render_mothers_page(texts, lang: str, page: clinic_scope.MothersPage) -> tuple[str, InlineKeyboardMarkup | None]:
    clinic = page.scope.clinic_name
    if not page.total:
        return texts.t(lang, "midwife.mothers.empty", clinic=clinic), None
    lines = [texts.t(lang, "midwife.mothers.title", clinic=clinic, total=page.total, page=page.page + 1,
                     pages=page.pages), texts.t(lang, "midwife.mothers.legend"), ""]
    rows = []
    for line in page.lines:
        mark = texts.t(lang, f"midwife.mothers.marks.{line.urgency}")
        last = texts.t(lang, "midwife.mothers.no_report") if line.last_flow is None else texts.t(
            lang, "midwife.mothers.last_report", flow=texts.t(lang, f"reports.flow.{line.last_flow}"),
            when=_when(line.last_report_at, page.scope.timezone))
        lines.append(texts.t(lang, "midwife.mothers.line", mark=mark, name=line.mother.display_name,
                             day=line.postpartum_day, last=last, sessions=line.sessions_3d))
        rows.append([(texts.t(lang, "midwife.mothers.button", mark=mark, name=line.mother.display_name,
                              day=line.postpartum_day), f"mw:rec:{line.mother.user_id}")])
    nav = []
    if page.page > 0:
        nav.append((texts.t(lang, "midwife.mothers.prev"), f"mw:pg:{page.page - 1}"))
    if page.page + 1 < page.pages:
        nav.append((texts.t(lang, "midwife.mothers.next"), f"mw:pg:{page.page + 1}"))
    rows.append(nav)
    return "\n".join(lines), keyboard(rows)


async def _show(update: Update, text: str, markup, edit: bool) -> None:
    """Replace the message the button was on (paging, record refresh), or send a new one."""
    query = update.callback_query
    if edit and query is not None and query.message is not None and getattr(query.message, "text", None):
        if query.message.text == text and query.message.reply_markup == markup:
            return  # nothing changed (a second press, or a page that is already shown)
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:  # unchanged, deleted or too old: send it fresh
            if "not modified" in exc.message:
                return
    await send(update, text, markup)


@_guarded
async def mothers_list(update: Update, context, actor: Actor) -> int:
    page = int(update.callback_query.data.rsplit(":", 1)[1]) if _is_button(update, "mw:pg:") else 0
    found = await clinic_scope.mothers_page(context.db, actor.user_id, context.clock.now(), page, PAGE_SIZE)
    text, markup = render_mothers_page(context.texts, actor.lang, found)
    if _is_button(update, "mw:pg:"):
        await update.callback_query.answer()
        await _show(update, text, markup, edit=True)
    else:
        await close_buttons(update)
        await send(update, text, markup)
    return END


def _is_button(update: Update, prefix: str) -> bool:
    return update.callback_query is not None and (update.callback_query.data or "").startswith(prefix)


# ----------------------------------------------------------------- one mother's record
def render_record(texts, lang: str, record: clinic_scope.Record) -> tuple[str, InlineKeyboardMarkup]:
    t, zone, mother = texts.t, record.scope.timezone, record.mother
    lines = [t(lang, "midwife.record.title", name=mother.display_name, pseudonym=mother.pseudonym,
               day=record.postpartum_day, delivery=mother.delivery_date.strftime("%d-%m-%Y"))]
    names = ", ".join(f"{c.name} ({t(lang, f'onboarding.relation_{c.relation}')})" for c in record.companions)
    lines.append(t(lang, "midwife.record.companions", names=names) if names else
                 t(lang, "midwife.record.no_companions"))
    if mother.care_status != "normal":
        since = _when(record.care_status_at, zone) if record.care_status_at else "?"
        lines.append(t(lang, f"midwife.record.care.{mother.care_status}", when=since))
    lines.append("")
    if record.alerts:
        lines.append(t(lang, "midwife.record.alerts_title"))
        for alert in record.alerts:
            day = "" if alert.report_day is None else t(lang, "midwife.record.alert_day", day=alert.report_day)
            lines.append(t(lang, "midwife.record.alert_line", when=_when(alert.opened_at, zone),
                           mark=_mark(alert), day=day,
                           cause=cause_text(texts, lang, alert.cause, alert.detail,
                                            alert.report_day or record.postpartum_day)))
    else:
        lines.append(t(lang, "midwife.record.no_alerts"))
    for missed in record.failed:
        name = missed.name or t(lang, "midwife.record.a_midwife")
        lines.append(t(lang, "midwife.record.undelivered", name=name, cause=_cause_short(texts, lang, missed.cause),
                       why=t(lang, f"midwife.record.undelivered_why.{missed.status}")))
    if record.quiz:
        lines += ["", t(lang, "midwife.record.quiz_title")]
        for q in record.quiz:
            who = t(lang, "midwife.record.mother_herself") if q.relation is None else (
                f"{q.who} ({t(lang, f'onboarding.relation_{q.relation}')})")
            lines.append(t(lang, "midwife.record.quiz_line", who=who, score=q.score,
                           kind=t(lang, f"midwife.record.quiz_kind.{q.kind}")))
    lines += ["", t(lang, "midwife.record.timeline_title")]
    events: list[tuple[str, str]] = []
    for r in record.reports:
        details = ""
        if r.feeds_24h is not None:
            details += t(lang, "midwife.record.feeds", n=r.feeds_24h)
        if r.wet_nappies_24h is not None:
            details += t(lang, "midwife.record.wet", n=r.wet_nappies_24h)
        if r.danger_signs:
            labels = {i["id"]: i["label"] for i in texts.data(lang, "reports.danger_signs")}
            details += t(lang, "midwife.record.danger", signs=", ".join(labels.get(s, s) for s in r.danger_signs))
        if r.reporter_role == "companion":
            details += t(lang, "midwife.record.by_companion")
        events.append((r.reported_at, t(lang, "midwife.record.report_line", when=_when(r.reported_at, zone),
                                        day=r.postpartum_day, flow=t(lang, f"reports.flow.{r.milk_flow}"),
                                        details=details)))
    for s in record.sessions:
        who = f" ({t(lang, f'guide.timer.who_question.options.{s.who}')})" if s.who else ""
        events.append((s.started_at, t(lang, "midwife.record.session_line", when=_when(s.started_at, zone),
                                       slot=t(lang, f"midwife.record.slot.{s.slot}"), who=who)))
    events.sort(key=lambda e: e[0], reverse=True)
    lines += [text for _, text in events[:12]] or [t(lang, "midwife.record.empty_timeline")]
    if record.notes:
        lines += ["", t(lang, "midwife.record.notes_title")]
        lines += [t(lang, "midwife.record.note_line", when=_when(n.created_at, zone), text=n.text[:300])
                  for n in record.notes]
    text = "\n".join(lines)
    if len(text) > 4000:
        text = text[:3990] + "…"
    rows = [[(t(lang, "midwife.record.close_alert", mark=_mark(a), cause=_cause_short(texts, lang, a.cause)),
              f"mw:close:{a.id}")] for a in record.alerts]
    rows.append([(t(lang, "midwife.record.add_note"), f"mw:note:{mother.user_id}")])
    rows.append([(t(lang, f"midwife.care.set.{status}"), f"mw:care:{mother.user_id}:{status}")
                 for status in CARE_CHOICES[mother.care_status]])
    rows.append([(t(lang, "midwife.record.back"), "mw:pg:0")])
    return text, keyboard(rows)


CARE_CHOICES = {"normal": ("hospital", "loss"), "hospital": ("normal", "loss"), "loss": ("normal",)}


def _mark(alert) -> str:
    return "🚨" if alert.urgent else "⚠️"


def _cause_short(texts, lang: str, cause: str) -> str:
    try:
        return texts.t(lang, f"midwife.cause_short.{cause}")
    except KeyError:
        return cause.replace("_", " ")


async def _send_record(update: Update, context, actor: Actor, mother_id: int, edit: bool = False) -> None:
    record = await clinic_scope.mother_record(context.db, actor.user_id, mother_id, context.clock.now())
    text, markup = render_record(context.texts, actor.lang, record)
    await _show(update, text, markup, edit)


@_guarded
async def open_record(update: Update, context, actor: Actor) -> int:
    mother_id = int(update.callback_query.data.rsplit(":", 1)[1])
    record = await clinic_scope.mother_record(context.db, actor.user_id, mother_id, context.clock.now())
    await update.callback_query.answer()
    text, markup = render_record(context.texts, actor.lang, record)
    await send(update, text, markup)
    return END


@_guarded
async def close_alert(update: Update, context, actor: Actor) -> int:
    """`mw:close:<alert>`: a danger (urgent) alert asks for the outcome first; others close at once."""
    alert_id = int(update.callback_query.data.rsplit(":", 1)[1])
    alert = await clinic_scope.alert_of_clinic(context.db, actor.user_id, alert_id)
    if alert.urgent and alert.closed_at is None:
        mother = await clinic_scope.mother_of_clinic(context.db, actor.user_id, alert.mother_id)
        await update.callback_query.answer()
        await send(update, _t(context, actor.lang, "midwife.outcome.question", name=mother.display_name,
                              cause=_cause_short(context.texts, actor.lang, alert.cause)),
                   keyboard([[(_t(context, actor.lang, f"midwife.outcome.options.{o}"), f"mw:out:{alert_id}:{o}")]
                             for o in clinic_scope.OUTCOMES]))
        return END
    mother, _, closed = await clinic_scope.close_alert(context.db, actor.user_id, alert_id, context.clock.now())
    await update.callback_query.answer(_t(context, actor.lang, "midwife.alert.closed" if closed
                                          else "midwife.alert.already_closed"))
    await _send_record(update, context, actor, mother.user_id, edit=True)
    return END


@_guarded
async def close_with_outcome(update: Update, context, actor: Actor) -> int:
    """`mw:out:<alert>:<seen|referred|unreachable>`: close the danger alert with its outcome,
    with an undo button on the confirmation."""
    _, _, alert_id, outcome = update.callback_query.data.split(":")
    mother, alert, closed = await clinic_scope.close_alert(context.db, actor.user_id, int(alert_id),
                                                           context.clock.now(), outcome=outcome)
    if not closed:
        await update.callback_query.answer(_t(context, actor.lang, "midwife.alert.already_closed"))
        await _send_record(update, context, actor, mother.user_id)
        return END
    await update.callback_query.answer(_t(context, actor.lang, "midwife.alert.closed"))
    text = _t(context, actor.lang, "midwife.outcome.closed", name=mother.display_name,
              cause=_cause_short(context.texts, actor.lang, alert.cause),
              outcome=_t(context, actor.lang, f"midwife.outcome.options.{outcome}"))
    await _show(update, text, keyboard([[(_t(context, actor.lang, "midwife.outcome.undo"), f"mw:undo:{alert.id}")]]),
                edit=True)
    await _send_record(update, context, actor, mother.user_id)
    return END


@_guarded
async def undo_close(update: Update, context, actor: Actor) -> int:
    """`mw:undo:<alert>`: any midwife of the same clinic reopens an alert a midwife closed."""
    alert_id = int(update.callback_query.data.rsplit(":", 1)[1])
    mother, alert, reopened = await clinic_scope.reopen_alert(context.db, actor.user_id, alert_id)
    await update.callback_query.answer(_t(context, actor.lang, "midwife.outcome.reopened_short" if reopened
                                          else "midwife.outcome.not_reopened"))
    if reopened:
        await _show(update, _t(context, actor.lang, "midwife.outcome.reopened", name=mother.display_name,
                               cause=_cause_short(context.texts, actor.lang, alert.cause)), None, edit=True)
    await _send_record(update, context, actor, mother.user_id)
    return END


# ----------------------------------------------------------------- care status (loss, hospital)
@_guarded
async def care_button(update: Update, context, actor: Actor) -> int:
    """`mw:care:<mother>:<status>` from the record; "loss" asks to confirm (`mw:carey:`) first."""
    _, kind, mother_id, status = update.callback_query.data.split(":")
    mother = await clinic_scope.mother_of_clinic(context.db, actor.user_id, int(mother_id))
    if status == "loss" and kind == "care":
        await update.callback_query.answer()
        await send(update, _t(context, actor.lang, "midwife.care.confirm_loss", name=mother.display_name), keyboard([
            [(_t(context, actor.lang, "midwife.care.confirm_yes"), f"mw:carey:{mother.user_id}:loss")],
            [(_t(context, actor.lang, "midwife.care.confirm_no"), f"mw:rec:{mother.user_id}")]]))
        return END
    mother, before = await clinic_scope.set_care_status(context.db, actor.user_id, mother.user_id, status,
                                                        context.clock.now())
    await update.callback_query.answer(_t(context, actor.lang, "midwife.care.saved" if before != status
                                          else "midwife.care.unchanged"))
    if kind == "carey":
        await _show(update, _t(context, actor.lang, "midwife.care.saved_loss", name=mother.display_name), None,
                    edit=True)
        await _send_record(update, context, actor, mother.user_id)
    else:
        await _send_record(update, context, actor, mother.user_id, edit=True)
    return END


# ----------------------------------------------------------------- notes
@_guarded
async def note_start(update: Update, context, actor: Actor) -> str:
    mother = await clinic_scope.mother_of_clinic(context.db, actor.user_id, int(update.callback_query.data.rsplit(":", 1)[1]))
    await update.callback_query.answer()
    context.user_data[NOTE_DRAFT] = {"mother": mother.user_id, "at": iso(context.clock.now())}
    await send(update, _t(context, actor.lang, "midwife.note.prompt", name=mother.display_name))
    return NOTE


@_guarded
async def note_text(update: Update, context, actor: Actor) -> int:
    draft = context.user_data.pop(NOTE_DRAFT, None)
    now = context.clock.now()
    if not isinstance(draft, dict) or now - parse_iso(draft["at"]) > NOTE_LIFETIME:
        await send(update, _t(context, actor.lang, "midwife.note.expired"))
        return END
    mother = await clinic_scope.add_note(context.db, actor.user_id, draft["mother"], update.message.text.strip(), now)
    await send(update, _t(context, actor.lang, "midwife.note.saved", name=mother.display_name))
    await _send_record(update, context, actor, mother.user_id)
    return END


async def note_not_text(update: Update, context) -> str:
    actor = await load_actor(update, context)
    await send(update, _t(context, actor.lang, "midwife.note.text_only"))
    return NOTE


def _ending(callback):
    """Another midwife button while a note is awaited: forget the note, do what was pressed."""
    async def handler(update: Update, context) -> int:
        context.user_data.pop(NOTE_DRAFT, None)
        await callback(update, context)
        return END

    return handler


# ----------------------------------------------------------------- /ekspor
def write_export_files(db_path: str, midwife_id: int, folder: Path, stamp: str, columns_help: dict,
                       columns_header: list[str]) -> tuple[clinic_scope.Scope, list[tuple[str, Path, int]]]:
    """In a worker thread, with its own read-only connection: one CSV per table and one XLSX
    with a sheet per table plus a "columns" sheet. Rows stream from SQLite to disk."""
    from analysis.export import write_csv, write_xlsx

    conn = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        scope, tables = clinic_scope.export_tables(conn, midwife_id)
        files = []
        for table in tables:
            path = folder / f"sahabat-nifas-{stamp}-{table.name}.csv"
            files.append((table.name, path, write_csv(path, table.columns, table.rows())))
        help_rows = [(table.name, column, dict(columns_help.get(table.name, [])).get(column, ""))
                     for table in tables for column in table.columns]
        xlsx = folder / f"sahabat-nifas-{stamp}.xlsx"
        write_xlsx(xlsx, [(table.name, table.columns, table.rows()) for table in tables]
                   + [("columns", columns_header, help_rows)])
        files.append(("xlsx", xlsx, 0))
        return scope, files
    finally:
        conn.close()


@_guarded
async def export(update: Update, context, actor: Actor) -> int:
    await clinic_scope.scope_of(context.db, actor.user_id)  # refuses anyone but a midwife
    await close_buttons(update)
    running: dict = context.services.extras.setdefault(EXPORTS, {})
    task = running.get(actor.user_id)
    if task is not None and not task.done():
        await send(update, _t(context, actor.lang, "midwife.export.busy"))
        return END
    await send(update, _t(context, actor.lang, "midwife.export.preparing"))
    running[actor.user_id] = context.application.create_task(
        _export_and_send(context.application, actor.user_id, actor.lang), update=update,
        name=f"export-{actor.user_id}")
    return END


async def _export_and_send(app: Application, midwife_id: int, lang: str) -> None:
    services, bot = app.services, app.bot  # type: ignore[attr-defined]
    texts = services.texts
    stamp = services.clock.now().strftime("%Y%m%d-%H%M")
    try:
        with tempfile.TemporaryDirectory(prefix="sn-export-") as folder:
            scope, files = await asyncio.to_thread(
                write_export_files, services.db.path, midwife_id, Path(folder), stamp,
                texts.data(lang, "midwife.export.columns"), texts.data(lang, "midwife.export.columns_header"))
            counts = {name: rows for name, _, rows in files}
            for name, path, rows in files:
                if name == "xlsx":
                    caption = texts.t(lang, "midwife.export.caption_xlsx", clinic=scope.clinic_name,
                                      reports=counts["milk_reports"], sessions=counts["sessions"],
                                      quiz=counts["quiz_attempts"])
                else:
                    caption = texts.t(lang, "midwife.export.caption_csv", rows=rows,
                                      table=texts.t(lang, f"midwife.export.tables.{name}"))
                with open(path, "rb") as handle:
                    await bot.send_document(midwife_id, document=handle, filename=path.name, caption=caption)
    except Forbidden:
        await users.set_active(services.db, midwife_id, False)
    except (TelegramError, OSError, sqlite3.Error) as exc:
        log.error("export failed: %s", type(exc).__name__, exc_info=exc)
        try:
            await bot.send_message(midwife_id, texts.t(lang, "midwife.export.failed"))
        except TelegramError:
            log.warning("could not tell the midwife that the export failed")
    finally:
        running = services.extras.get(EXPORTS, {})
        if running.get(midwife_id) is asyncio.current_task():
            running.pop(midwife_id, None)


async def wait_for_exports(app: Application) -> None:
    """For tests and the benchmark: wait until every running export has sent its files."""
    tasks = list(app.services.extras.get(EXPORTS, {}).values())  # type: ignore[attr-defined]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


# ----------------------------------------------------------------- wiring
BUTTONS = [(r"^mw:pg:\d+$", mothers_list), (r"^mw:rec:\d+$", open_record), (r"^mw:close:\d+$", close_alert),
           (r"^mw:out:\d+:(seen|referred|unreachable)$", close_with_outcome), (r"^mw:undo:\d+$", undo_close),
           (r"^mw:care:\d+:(normal|hospital|loss)$", care_button), (r"^mw:carey:\d+:loss$", care_button)]
MENU_ITEMS = {"midwife.summary": summary, "midwife.mothers": mothers_list, "midwife.export": export}


def build_note() -> ConversationHandler:
    leave = [CommandHandler(COMMANDS[action], _ending(callback))
             for action, callback in (("summary", summary), ("mothers", mothers_list), ("export", export))]
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(note_start, pattern=r"^mw:note:\d+$")],
        states={NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND, note_text),
                       *[CallbackQueryHandler(_ending(callback), pattern=pattern) for pattern, callback in BUTTONS],
                       MessageHandler(~filters.COMMAND, note_not_text)]},
        fallbacks=[*leave, *flow_fallbacks()],
        name="midwife_note",
        persistent=True,
        allow_reentry=True,
    )


def register(app: Application) -> None:
    app.add_handler(build_note())
    for action, callback in (("summary", summary), ("mothers", mothers_list), ("export", export)):
        app.add_handler(CommandHandler(COMMANDS[action], callback))
    for item, callback in MENU_ITEMS.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=rf"^menu:{item.replace('.', '[.]')}$"))
    for pattern, callback in BUTTONS:
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    menu.add_menu_items("midwife", ["midwife.summary", "midwife.mothers"], 0)
    menu.add_menu_items("midwife", ["midwife.export"], 1)
