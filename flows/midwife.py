"""The midwife's review in Telegram: /ringkasan (today's numbers; the before/after analysis
behind "📊 Statistik"), /ibu (her clinic's mothers in the call list's order, with filters and
a name search, and one mother's record with notes and alerts),
/ekspor (flows/exports.py), and the alert messages sent to her.

Every read and write goes through `db.queries.clinic_scope`, which takes the midwife's own id
and refuses anything outside her clinic; `_guarded` turns its refusals into one clear answer.
"""
from __future__ import annotations

import asyncio
import html
import logging
import threading
from collections import OrderedDict
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.actor import Actor, load_actor
from bot.clock import iso, parse_iso
from db.queries import clinic_scope
from usecases.alerts import cause_text
from flows import menu
from flows.global_commands import flow_fallbacks
from flows import exports as exports_flow
from flows.exports import export
from flows.midwife_only import midwife_only
from flows.ui import close_buttons, keyboard, send
from flows.commands import names

log = logging.getLogger(__name__)

END = ConversationHandler.END
NOTE = "note"
NOTE_DRAFT = "midwife_note"
SEARCH_DRAFT = "midwife_search"
NOTE_LIFETIME = timedelta(hours=1)
PAGE_SIZE = 8
COMMANDS = {action: names(action) for action in ("summary", "mothers", "export")}
_pyplot_lock = threading.Lock()


def _t(context, lang: str, key: str, **values) -> str:
    return context.texts.t(lang, key, **values)


_guarded = midwife_only(NOTE_DRAFT, SEARCH_DRAFT)


def _when(moment: str, zone: str) -> str:
    return parse_iso(moment).astimezone(ZoneInfo(zone)).strftime("%d/%m %H:%M")


# ----------------------------------------------------------------- /ringkasan
STATS = "mw:stats"
TODAY_WIDTH = 40   # characters per line of today's part: read on a phone without wrapping tricks


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text.rstrip())}</pre>"


def _duration(texts, lang: str, minutes: float) -> str:
    """12 menit · 3 jam · 3 jam 5 menit · 4 hari."""
    minutes = max(0, int(round(minutes)))
    if minutes < 60:
        return texts.t(lang, "midwife.summary.time.minutes", n=minutes)
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        if rest:
            return texts.t(lang, "midwife.summary.time.hours_minutes", h=hours, m=rest)
        return texts.t(lang, "midwife.summary.time.hours", n=hours)
    return texts.t(lang, "midwife.summary.time.days", n=minutes // (24 * 60))


def render_today(texts, lang: str, today: clinic_scope.Today, date: str) -> str:
    """The first screen of /ringkasan: plain short lines (no table), for a phone."""
    def t(key: str, **values) -> str:
        return texts.t(lang, f"midwife.summary.today.{key}", **values)

    def wait(minutes: float) -> str:
        return _duration(texts, lang, minutes)

    lines = [t("title", date=date), today.scope.clinic_name, "",
             t("followed", n=today.followed), t("followed_note")]
    if today.hospital:
        lines.append(t("hospital", n=today.hospital))
    lines += ["", t("urgent", n=today.urgent_alerts), t("warning", n=today.warning_alerts)]
    if today.longest_untaken_min is not None:
        lines.append(t("untaken", wait=wait(today.longest_untaken_min)))
    elif today.urgent_alerts + today.warning_alerts:
        lines.append(t("all_taken"))
    lines.append(t("questions", n=today.questions_waiting))
    if today.longest_question_min is not None:
        lines.append(t("question_wait", wait=wait(today.longest_question_min)))
    lines += [t("sessions", n=today.sessions_week), "", t("milk_title")]
    lines += [t(f"milk.{flow}", n=today.milk_now[flow]) for flow in ("not_out", "not_smooth", "smooth")]
    lines += [t("milk.none", n=today.no_report), ""]
    month = texts.data(lang, "midwife.summary.today.months")[today.month.month - 1]
    lines.append(t("month_title", month=month, year=today.month.year))
    if today.median_take_min is None:
        lines.append(t("take_none"))
    else:
        lines += [t("take", wait=wait(today.median_take_min)), t("take_n", n=today.alerts_taken)]
    if today.median_answer_min is None:
        lines.append(t("answer_none"))
    else:
        lines += [t("answer", wait=wait(today.median_answer_min)), t("answer_n", n=today.questions_answered)]
    lines += ["", t("stats_hint")]
    return "\n".join(lines)


def _cross_table(milk: dict) -> str:
    """Before (rows) x after (columns), categories as codes 1-3: at most 25 characters wide."""
    from analysis.stats import CATEGORIES

    lines = ["    " + "".join(f"{code:>7}" for code in range(1, 4))]
    for code, before in enumerate(CATEGORIES, 1):
        lines.append(f"{code:<4}" + "".join(f"{milk['cross_table'][before][after]:>7}" for after in CATEGORIES))
    return "\n".join(lines)


def render_stats(texts, lang: str, clinic: str, milk: dict, quiz: dict, lost: int = 0) -> list[str]:
    """Behind "📊 Statistik": the before/after comparison and the knowledge test as HTML
    messages of plain lines; the only table (before x after) is 25 characters wide. The
    numbers and wording are the analysis package's (`analysis.stats`, `analysis.report`)."""
    from analysis.report import WORDING, _num, _test_lines
    from analysis.stats import CATEGORIES

    def t(key: str, **values) -> str:
        return html.escape(texts.t(lang, f"midwife.summary.{key}", **values))

    w, e = WORDING.get(lang, WORDING["id"]), html.escape
    first = [t("stats.title", clinic=clinic), "", t("caveat.text"), ""]
    if milk["n_pairs"]:
        first += [f"<b>{e(w['milk_title'])}</b>", e(w["n_mothers"].format(n=milk["n_pairs"], x=milk["excluded"]))]
        if lost:
            first.append(t("loss_excluded", n=lost))
        first.append("")
        for category in CATEGORIES:
            before, after = (milk[phase][category] for phase in ("pre", "post"))
            first += [e(w["labels"][category]), t(
                "stats.before_after", before=before["n"], before_pct=_num(before["pct"], "{:.1f}%"),
                after=after["n"], after_pct=_num(after["pct"], "{:.1f}%"))]
        legend = ", ".join(f"{code} = {w['short'][c]}" for code, c in enumerate(CATEGORIES, 1))
        first += ["", e(w["cross"]), _pre(_cross_table(milk)) + "\n" + e(legend), "",
                  e(w["changes"].format(i=milk["improved"], s=milk["same"], w=milk["worse"])), ""]
        tests = _test_lines(milk, w, w["paired_t_milk"])
        first += [e(tests[0])] + [e("• " + line.strip()) for line in tests[1:]]
        first += ["", e(f"{w['note_label']}: {w['note']}")]
    else:
        first.append(t("no_milk_pairs", excluded=milk["excluded"]))
        if lost:
            first.append(t("loss_excluded", n=lost))
    second = [t("quiz_rule"), ""]
    if quiz["n_pairs"]:
        second += [f"<b>{e(w['quiz_title'])}</b>",
                   e(w["n_participants"].format(n=quiz["n_pairs"], x=quiz["excluded"])), ""]
        means = w["means"].format(pre=_num(quiz["mean_pre"]), post=_num(quiz["mean_post"]),
                                  chg=_num(quiz["mean_change"], "{:+.2f}"))
        second += [e(part.strip()) for part in means.split("   ")]
        low, high = quiz["ci95"]
        second.append(e(w["ci_na"] if low is None else w["ci"].format(lo=_num(low), hi=_num(high))))
        tests = _test_lines(quiz, w, w["paired_t"])
        second += [""] + [e(tests[0])] + [e("• " + line.strip()) for line in tests[1:]]
        second += ["", e(f"{w['note_label']}: {w['quiz_note']}")]
    else:
        second.append(t("no_quiz_pairs", excluded=quiz["excluded"]))
    return ["\n".join(first), "\n".join(second)]


def _chart_key(lang: str, milk: dict) -> str:
    return lang + repr([(milk[p][c]["n"]) for p in ("pre", "post") for c in ("not_out", "not_smooth", "smooth")])


async def _summary_chart(services, lang: str, milk: dict) -> bytes:
    """The stacked bars, drawn in a worker thread; the last few are kept (same numbers, same picture)."""
    from analysis.chart import milk_flow_chart_png

    cache: OrderedDict = services.chart_cache
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
    """/ringkasan: today's numbers, with the "📊 Statistik" button for the before/after analysis."""
    now = context.clock.now()
    found = await clinic_scope.today(context.db, actor.user_id, now)
    await close_buttons(update)
    date = now.astimezone(ZoneInfo(found.scope.timezone)).strftime("%d-%m-%Y")
    await send(update, render_today(context.texts, actor.lang, found, date),
               keyboard([[(_t(context, actor.lang, "midwife.summary.stats_button"), STATS)]]))
    return END


@_guarded
async def stats_view(update: Update, context, actor: Actor) -> int:
    """`mw:stats`: the before/after milk-flow analysis, the knowledge test and the chart."""
    from analysis.stats import milk_flow_analysis, quiz_analysis

    db = context.db
    milk = milk_flow_analysis(*await clinic_scope.milk_flow_pairs(db, actor.user_id))
    await close_buttons(update)
    # the chart is drawn in a worker thread while SQLite counts the rest and the texts go out
    chart = asyncio.create_task(_summary_chart(context.services, actor.lang, milk)) if milk["n_pairs"] else None
    try:
        scope = await clinic_scope.scope_of(db, actor.user_id)
        quiz = quiz_analysis(*await clinic_scope.quiz_pairs(db, actor.user_id))
        lost = await clinic_scope.loss_excluded(db, actor.user_id)
        for part in render_stats(context.texts, actor.lang, scope.clinic_name, milk, quiz, lost):
            await update.effective_chat.send_message(part, parse_mode=ParseMode.HTML)
    except BaseException:
        if chart is not None:
            chart.cancel()
        raise
    if chart is not None:
        png = await chart
        await update.effective_chat.send_photo(png, caption=_t(
            context, actor.lang, "midwife.summary.chart_caption", clinic=scope.clinic_name, n=milk["n_pairs"]))
    return END


# ----------------------------------------------------------------- /ibu
SEARCH = "search"
SEARCH_LIFETIME = timedelta(hours=1)
CALLBACK_MAX = 64  # bytes of callback data Telegram accepts


def _list_data(view: str, page: int, search: str = "") -> str:
    """The button data that shows this page of this view (or search) again."""
    if search:
        prefix = f"mw:sq:{page}:"
        term = search.encode()[:CALLBACK_MAX - len(prefix)].decode(errors="ignore")
        return prefix + term
    return f"mw:pg:{page}" if view == "all" else f"mw:f:{view}:{page}"


def _line_mark(texts, lang: str, line: clinic_scope.MotherLine) -> str:
    """The icon of her first call-list reason; else ⚠️ another open alert, ⚪ past nifas, 🟢."""
    if line.reasons:
        key = line.reasons[0]
    else:
        key = "alert" if line.open_alerts else "past" if line.urgency == "past" else "ok"
    return texts.t(lang, f"midwife.mothers.marks.{key}")


def render_mothers_page(texts, lang: str, page: clinic_scope.MothersPage) -> tuple[str, InlineKeyboardMarkup | None]:
    def t(key: str, **values) -> str:
        return texts.t(lang, f"midwife.mothers.{key}", **values)

    clinic = page.scope.clinic_name
    if not page.clinic_total:
        return t("empty", clinic=clinic), None
    view = t(f"views.{page.view}")
    numbers = {"clinic": clinic, "total": page.total, "page": page.page + 1, "pages": page.pages}
    if page.search:
        title = t("search_title", query=page.search, **numbers) if page.total else t(
            "search_none", query=page.search, clinic=clinic)
    elif page.view != "all":
        title = t("view_title", view=view, all=page.clinic_total, **numbers) if page.total else t(
            "view_empty", view=view, clinic=clinic)
    else:
        title = t("title", **numbers)
    lines, rows = [title], []
    if page.lines:
        lines += [t("legend"), ""]
    for line in page.lines:
        mother = line.mother
        mark = _line_mark(texts, lang, line)
        care = "" if mother.care_status == "normal" else " " + t(f"care.{mother.care_status}")
        last = t("no_report") if line.last_flow is None else t(
            "last_report", flow=texts.t(lang, f"reports.flow.{line.last_flow}"),
            when=_when(line.last_report_at, page.scope.timezone))
        lines.append(t("line", mark=mark, name=mother.display_name, care=care, day=line.postpartum_day, last=last,
                       sessions=line.sessions_3d))
        rows.append([(t("button", mark=mark, name=mother.display_name, care=care, day=line.postpartum_day),
                      f"mw:rec:{mother.user_id}")])
    nav = []
    if page.page > 0:
        nav.append((t("prev"), _list_data(page.view, page.page - 1, page.search)))
    if page.page + 1 < page.pages:
        nav.append((t("next"), _list_data(page.view, page.page + 1, page.search)))
    rows.append(nav)
    filters = [(("• " if v == page.view and not page.search else "") + t(f"views.{v}"), _list_data(v, 0))
               for v in clinic_scope.VIEWS]
    rows += [filters[:2], filters[2:], [(t("search_button"), "mw:find")]]
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


def _list_request(update: Update, context) -> tuple[str, int, str]:
    """(view, page, search) asked for: `/ibu [name]`, the menu, or a list button."""
    data = update.callback_query.data if update.callback_query is not None else ""
    if data.startswith("mw:pg:"):
        return "all", int(data.rsplit(":", 1)[1]), ""
    if data.startswith("mw:f:"):
        _, _, view, page = data.split(":")
        return view, int(page), ""
    if data.startswith("mw:sq:"):
        _, _, page, term = data.split(":", 3)
        return "all", int(page), term
    return "all", 0, " ".join(getattr(context, "args", None) or [])


@_guarded
async def mothers_list(update: Update, context, actor: Actor) -> int:
    """/ibu (/ibu NAME searches), the menu button, and the list's own buttons: paging, the
    filters (all / urgent / no report / questions) and search results."""
    view, page, search = _list_request(update, context)
    found = await clinic_scope.mothers_page(context.db, actor.user_id, context.clock.now(), page, PAGE_SIZE,
                                            view=view, search=search)
    text, markup = render_mothers_page(context.texts, actor.lang, found)
    if _is_button(update, "mw:pg:") or _is_button(update, "mw:f:") or _is_button(update, "mw:sq:"):
        await update.callback_query.answer()
        await _show(update, text, markup, edit=True)
    else:
        await close_buttons(update)
        await send(update, text, markup)
    return END


@_guarded
async def search_start(update: Update, context, actor: Actor) -> str:
    """`mw:find` ("🔎 Cari"): ask for a name; the next text she types is searched."""
    await clinic_scope.scope_of(context.db, actor.user_id)  # refuses anyone but a midwife
    await update.callback_query.answer()
    context.user_data.pop(NOTE_DRAFT, None)
    context.user_data[SEARCH_DRAFT] = {"at": iso(context.clock.now())}
    await send(update, _t(context, actor.lang, "midwife.mothers.search_prompt"))
    return SEARCH


@_guarded
async def search_text(update: Update, context, actor: Actor) -> int:
    draft = context.user_data.pop(SEARCH_DRAFT, None)
    now = context.clock.now()
    if not isinstance(draft, dict) or now - parse_iso(draft["at"]) > SEARCH_LIFETIME:
        await send(update, _t(context, actor.lang, "midwife.mothers.search_expired"))
        return END
    found = await clinic_scope.mothers_page(context.db, actor.user_id, now, 0, PAGE_SIZE,
                                            search=update.message.text)
    await send(update, *render_mothers_page(context.texts, actor.lang, found))
    return END


async def search_not_text(update: Update, context) -> str:
    actor = await load_actor(update, context)
    await send(update, _t(context, actor.lang, "midwife.mothers.search_text_only"))
    return SEARCH


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
    context.user_data.pop(SEARCH_DRAFT, None)
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
    mother = await clinic_scope.add_note(context.db, actor.user_id, draft["mother"], update.message.text.strip(), now,
                                         update_id=update.update_id)  # once per update
    await send(update, _t(context, actor.lang, "midwife.note.saved", name=mother.display_name))
    await _send_record(update, context, actor, mother.user_id)
    return END


async def note_not_text(update: Update, context) -> str:
    actor = await load_actor(update, context)
    await send(update, _t(context, actor.lang, "midwife.note.text_only"))
    return NOTE


def _ending(callback):
    """Another midwife button while a note or a name is awaited: forget it, do what was pressed."""
    async def handler(update: Update, context) -> int:
        context.user_data.pop(NOTE_DRAFT, None)
        context.user_data.pop(SEARCH_DRAFT, None)
        await callback(update, context)
        return END

    return handler


# ----------------------------------------------------------------- wiring
BUTTONS = [(r"^mw:pg:\d+$", mothers_list), (r"^mw:f:(all|urgent|quiet|question):\d+$", mothers_list),
           (r"^mw:sq:\d+:.+$", mothers_list), (r"^mw:stats$", stats_view),
           (r"^mw:rec:\d+$", open_record), (r"^mw:close:\d+$", close_alert),
           (r"^mw:out:\d+:(seen|referred|unreachable)$", close_with_outcome), (r"^mw:undo:\d+$", undo_close),
           (r"^mw:care:\d+:(normal|hospital|loss)$", care_button), (r"^mw:carey:\d+:loss$", care_button)]
MENU_ITEMS = {"midwife.summary": summary, "midwife.mothers": mothers_list, "midwife.export": export}


def build_note() -> ConversationHandler:
    """The midwife's one-message requests: a note about a mother (`mw:note:<id>`) and a name
    to search in /ibu (`mw:find`). Persistent: a restart in between loses neither."""
    leave = [CommandHandler(COMMANDS[action], _ending(callback))
             for action, callback in (("summary", summary), ("mothers", mothers_list), ("export", export))]
    others = [CallbackQueryHandler(_ending(callback), pattern=pattern) for pattern, callback in BUTTONS]
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(note_start, pattern=r"^mw:note:\d+$"),
                      CallbackQueryHandler(search_start, pattern=r"^mw:find$")],
        states={NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND, note_text), *others,
                       MessageHandler(~filters.COMMAND, note_not_text)],
                SEARCH: [MessageHandler(filters.TEXT & ~filters.COMMAND, search_text), *others,
                         MessageHandler(~filters.COMMAND, search_not_text)]},
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
    exports_flow.register(app)
