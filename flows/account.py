"""Everyday commands: /menu, /bantuan, /saya, /hapus, /batal, /bahasa, and the fallbacks."""
from __future__ import annotations

import json
import logging
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ConversationHandler

from bot.actor import load_actor
from bot.clock import iso, parse_iso
from bot.i18n import LANGUAGES
from db.queries import clinics, companions, privacy, users
from domain.dates import local_today, postpartum_day
from flows import clinic_choice, menu
from usecases import contacts
from flows.ui import close_buttons, keyboard, send
from reminders import preferences
from reminders.planning import hhmm, zone_label
from usecases import account as account_cases

log = logging.getLogger(__name__)


async def show_menu(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    nudge = None
    if actor.role == "mother":  # never asked for her Puskesmas (registered before the question)
        nudge = await clinic_choice.clinic_nudge(context.db, context.texts, actor.lang, actor.user_id)
    if nudge is None:
        await menu.show_menu(update, context, actor)
        return
    await send(update, context.texts.t(actor.lang, "menu.title") + "\n\n" + nudge,
               menu.menu_markup(context.texts, actor))


async def help_cmd(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    role = actor.role or "new"
    text = context.texts.t(actor.lang, f"help.{role}")
    numbers = await _help_contacts(context, actor)
    await send(update, f"{text}\n\n{numbers}" if numbers else text)
    await menu.show_menu(update, context, actor)


async def _help_contacts(context, actor) -> str | None:
    """Whom to call: her Puskesmas (for a companion, each mother's) and always 112 / 119."""
    db, texts, lang = context.db, context.texts, actor.lang
    if actor.role == "mother":
        return texts.t(lang, "help.contacts_title") + "\n" + await contacts.contact_block_for_mother(
            db, texts, lang, actor.user_id)
    if actor.role == "companion":
        links = await companions.links_of_companion(db, actor.user_id)
        if not links:
            return texts.t(lang, "help.contacts_title") + "\n" + contacts.contact_block(texts, lang, None)
        blocks = [texts.t(lang, "help.contacts_for_mother", mother=link.mother_name) + "\n"
                  + await contacts.contact_block_for_mother(db, texts, lang, link.mother_id) for link in links]
        return "\n\n".join(blocks)
    return None


async def register(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    await send(update, context.texts.t(actor.lang, "onboarding.press_start"))


async def cancel_in_flow(update: Update, context) -> int:
    """/batal inside a flow: forget the flow's draft and leave it."""
    return await _cancel(update, context, "common.cancelled")


async def cancel_outside(update: Update, context) -> None:
    await _cancel(update, context, "common.nothing_to_cancel")


async def _cancel(update: Update, context, key: str) -> int:
    actor = await load_actor(update, context)
    await close_buttons(update)
    context.user_data.clear()
    if not actor.registered:
        context.user_data["lang"] = actor.lang
    await send(update, context.texts.t(actor.lang, key))
    await menu.show_menu(update, context, actor)
    return ConversationHandler.END


# ----------------------------------------------------------------- /saya
# One readable page in her language (profile, companions, the latest of her reports, sessions and
# quiz scores in her local time, open alerts in words, questions, reminders), then a button for
# the full machine-readable copy: every row of privacy.collect() as a JSON file, in which anybody
# else's Telegram id is replaced by a role label ("pendamping 1", "bidan").
LATEST = 3                       # rows shown per section; all of them are in the JSON file
MESSAGE_LIMIT = 4096             # Telegram counts UTF-16 code units
JSON_BUTTON = "my:json"
QUESTION_PREVIEW = 60            # characters of a question shown on the page


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split on line breaks so that each part fits in one Telegram message (`limit` UTF-16
    code units: an emoji counts two); a longer line is cut between characters."""
    parts: list[str] = []
    current, size = "", 0
    for line in text.split("\n"):
        while utf16_len(line) > limit:
            if current:
                parts.append(current)
                current, size = "", 0
            cut, units = 0, 0
            while cut < len(line) and units + utf16_len(line[cut]) <= limit:
                units += utf16_len(line[cut])
                cut += 1
            parts.append(line[:cut])
            line = line[cut:]
        length = utf16_len(line)
        if current and size + 1 + length > limit:
            parts.append(current)
            current, size = line, length
        elif current:
            current, size = f"{current}\n{line}", size + 1 + length
        else:
            current, size = line, length
    if current.strip():
        parts.append(current)
    return parts


class _Page:
    """What the page needs while it is written: texts, her language and zone, the people."""

    def __init__(self, context, lang: str, user_id: int, zone: str, people: dict[int, privacy.Person]):
        self.texts, self.lang, self.user_id, self.zone, self.people = context.texts, lang, user_id, zone, people
        self.now = context.clock.now()
        self.lines: list[str] = []

    def t(self, key: str, **values) -> str:
        return self.texts.t(self.lang, f"mydata.page.{key}", **values)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def section(self, heading: str) -> None:
        self.lines += ["", heading]

    def when(self, stored: str | None, zone: str | None = None) -> str:
        """A stored UTC time as local date and time with its zone: "30-11-2026 08:15 WITA"."""
        if not stored:
            return "–"
        zone = zone or self.zone
        local = parse_iso(stored).astimezone(ZoneInfo(zone))
        return f"{local:%d-%m-%Y %H:%M} {zone_label(zone)}"

    def day(self, stored: str | None) -> str:
        """A stored date ("2026-11-29", or the date of a stored time) as 29-11-2026, local."""
        if not stored:
            return "–"
        if "T" in stored:
            return f"{parse_iso(stored).astimezone(ZoneInfo(self.zone)):%d-%m-%Y}"
        return date.fromisoformat(stored).strftime("%d-%m-%Y")

    def label(self, person_id: int | None) -> str:
        """Someone else in words: the name she knows, else the role ("pendamping 2", "bidan")."""
        person = self.people.get(person_id) if person_id is not None else None
        if person is None:
            return self.texts.t(self.lang, "mydata.labels.other")
        return person.name or person_label(self.texts, self.lang, person)

    def words(self, group: str, key: str | None) -> str:
        try:
            return self.t(f"{group}.{key}")
        except KeyError:
            return str(key or "–").replace("_", " ")


def person_label(texts, lang: str, person: privacy.Person) -> str:
    word = texts.t(lang, f"mydata.labels.{person.label_role}")
    return f"{word} {person.number}" if person.number else word


def _newest(rows: list[dict], column: str) -> list[dict]:
    return sorted(rows, key=lambda row: (row.get(column) or "", row.get("id") or 0), reverse=True)


async def _zone_of(context, actor, data: dict[str, list[dict]]) -> str:
    """Her own zone; a companion's first mother's; a midwife's clinic's; else the default."""
    db = context.db
    zone = None
    if actor.role == "mother":
        zone = await db.fetchval("SELECT timezone FROM mother WHERE user_id = ?", (actor.user_id,))
    elif actor.role == "companion":
        zone = await db.fetchval("SELECT m.timezone FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
                                 " WHERE l.companion_id = ? ORDER BY l.created_at LIMIT 1", (actor.user_id,))
    elif actor.role == "midwife":
        zone = await db.fetchval("SELECT c.timezone FROM midwife w JOIN clinic c ON c.id = w.clinic_id"
                                 " WHERE w.user_id = ?", (actor.user_id,))
    return zone or context.services.settings.default_timezone


async def render_my_data(context, actor, data: dict[str, list[dict]]) -> str:
    """The readable page of everything about her (privacy.collect's rows), in her language."""
    if not data:
        return context.texts.t(actor.lang, "mydata.nothing")
    people = await privacy.people_around(context.db, actor.user_id, set(context.services.settings.admin_telegram_ids),
                                         data)
    page = _Page(context, actor.lang, actor.user_id, await _zone_of(context, actor, data), people)
    page.add(context.texts.t(actor.lang, "mydata.title"))
    shown = await _profile(context, page, actor, data)
    if actor.role == "mother":
        shown |= await _mother_sections(context, page, data)
    elif actor.role == "companion":
        shown |= await _companion_sections(context, page, data)
    elif actor.role == "midwife":
        shown |= _midwife_sections(page, data)
    shown |= _common_sections(page, data)
    _other_tables(page, data, shown)
    page.add("", context.texts.t(actor.lang, "mydata.footer"))
    return "\n".join(page.lines)


async def _profile(context, page: _Page, actor, data) -> set[str]:
    db, texts = context.db, context.texts
    account = (data.get("app_user") or [{}])[0]
    page.section(page.t("profile"))
    role = account.get("role") or actor.role
    name = None
    if role == "mother" and data.get("mother"):
        name = data["mother"][0].get("display_name")
    elif role == "midwife" and data.get("midwife"):
        name = data["midwife"][0].get("display_name")
    elif role == "companion":
        name = next((row.get("display_name") for row in data.get("companion_link", [])
                     if row.get("companion_id") == actor.user_id and row.get("display_name")), None)
    page.add(page.t("name", name=name or actor.first_name or "–"))
    if role:
        page.add(page.t("role", role=page.words("roles", role)))
    if account.get("language"):
        page.add(page.t("language", language=texts.t(account["language"], "language.name")))
    if role == "mother" and data.get("mother"):
        mother = data["mother"][0]
        delivered = date.fromisoformat(mother["delivery_date"])
        today = local_today(page.now, mother["timezone"])
        page.add(page.t("delivery", date=page.day(mother["delivery_date"]), day=postpartum_day(delivered, today)))
        page.add(page.t("birth_time", time=_birth_time_words(texts, page, mother.get("birth_time"))))
        page.add(page.t("first_child", answer=texts.t(page.lang, "common.yes" if mother.get("first_child")
                                                             else "common.no")))
        page.add(page.t("zone", zone=zone_label(mother["timezone"])))
        clinic = await clinics.get_clinic(db, mother["clinic_id"]) if mother.get("clinic_id") else None
        page.add(page.t("clinic", clinic=clinic.name if clinic else page.t("clinic_none")))
        if mother.get("care_status") in ("hospital", "loss"):
            page.add(page.t(f"care_{mother['care_status']}"))
    if role == "midwife" and data.get("midwife"):
        midwife = data["midwife"][0]
        clinic = await clinics.get_clinic(db, midwife["clinic_id"])
        page.add(page.t("clinic", clinic=clinic.name if clinic else page.t("clinic_none")))
        page.add(page.t("joined", date=page.day(midwife.get("joined_at"))))
        if midwife.get("coordinator"):
            page.add(page.t("coordinator"))
    if account.get("created_at"):
        page.add(page.t("registered", when=page.when(account["created_at"])))
    return {"app_user", "mother", "midwife"}


def _birth_time_words(texts, page: _Page, value: str | None) -> str:
    if not value:
        return page.t("birth_time_unknown")
    if ":" in value:
        return page.t("birth_time_at", time=value)
    try:
        return texts.t(page.lang, f"onboarding.bt_{value}")
    except KeyError:
        return value


def _relation(texts, lang: str, relation: str | None) -> str:
    try:
        return texts.t(lang, f"onboarding.relation_{relation}")
    except KeyError:
        return "–"


async def _mother_sections(context, page: _Page, data) -> set[str]:
    texts, lang, me = context.texts, page.lang, page.user_id
    links = [row for row in data.get("companion_link", []) if row.get("mother_id") == me]
    page.section(page.t("companions", n=len(links)))
    for row in links:
        page.add(page.t("companion_line", name=page.label(row.get("companion_id")),
                        relation=_relation(texts, lang, row.get("relation")), date=page.day(row.get("created_at"))))
    if not links:
        page.add(page.t("none"))
    invites = data.get("companion_invite", [])
    page.add(page.t("invite_active" if any(row.get("revoked_at") is None for row in invites) else "invite_none"))

    found = [row for row in data.get("milk_report", []) if row.get("mother_id") == me]
    pre = sum(1 for row in found if row.get("phase") == "pre")
    page.section(page.t("reports", n=len(found), pre=pre, post=len(found) - pre))
    for row in _newest(found, "reported_at")[:LATEST]:
        line = page.t("report_line", when=page.when(row["reported_at"]), day=row.get("postpartum_day"),
                      flow=texts.t(lang, f"reports.flow.{row['milk_flow']}"),
                      phase=texts.t(lang, f"reports.history.phase.{row['phase']}"))
        if row.get("reported_by") not in (None, me):
            line += page.t("by", name=page.label(row["reported_by"]))
        page.add(line)
    _more(page, len(found))

    done = [row for row in data.get("massage_session", []) if row.get("mother_id") == me]
    page.section(page.t("sessions", n=len(done)))
    for row in _newest(done, "started_at")[:LATEST]:
        page.add(_session_line(page, row))
    _more(page, len(done))

    alerts = [row for row in data.get("alert", []) if row.get("mother_id") == me]
    _alerts(page, alerts)
    notes = data.get("midwife_note", [])
    if notes:
        page.add("", page.t("notes_about", n=len(notes)))

    view = await preferences.mother_view(context.db, context.services.settings, me, page.now)
    page.section(page.t("reminders"))
    if view is not None:
        page.add(page.t("reminder_times", morning=hhmm(view.schedule.morning), evening=hhmm(view.schedule.evening),
                        zone=zone_label(view.plan.timezone)))
        if preferences.is_forever(view.paused_until):
            page.add(page.t("reminder_stopped"))
        elif view.paused_until is not None:
            page.add(page.t("reminder_paused", when=page.when(iso(view.paused_until))))
        if view.window_over:
            page.add(page.t("reminder_window_over"))
    return {"companion_link", "companion_invite", "milk_report", "massage_session", "alert", "midwife_note",
            "reminder_pref", "milk_pair"}


async def _companion_sections(context, page: _Page, data) -> set[str]:
    texts, lang, me = context.texts, page.lang, page.user_id
    links = [row for row in data.get("companion_link", []) if row.get("companion_id") == me]
    page.section(page.t("mothers", n=len(links)))
    for row in links:
        page.add(page.t("mother_line", name=page.label(row.get("mother_id")),
                        relation=_relation(texts, lang, row.get("relation")), date=page.day(row.get("created_at"))))
    if not links:
        page.add(page.t("none"))
    zones = {row["user_id"]: row["timezone"] for row in await context.db.fetchall(
        "SELECT m.user_id, m.timezone FROM companion_link l JOIN mother m ON m.user_id = l.mother_id"
        " WHERE l.companion_id = ?", (me,))}

    sent = [row for row in data.get("milk_report", []) if row.get("reported_by") == me]
    page.section(page.t("reports_sent", n=len(sent)))
    for row in _newest(sent, "reported_at")[:LATEST]:
        page.add(page.t("report_for", when=page.when(row["reported_at"], zones.get(row.get("mother_id"))),
                        mother=page.label(row.get("mother_id")), day=row.get("postpartum_day"),
                        flow=texts.t(lang, f"reports.flow.{row['milk_flow']}")))
    _more(page, len(sent))

    logged = [row for row in data.get("massage_session", []) if row.get("logged_by") == me]
    page.section(page.t("sessions_logged", n=len(logged)))
    for row in _newest(logged, "started_at")[:LATEST]:
        page.add(_session_line(page, row, zones.get(row.get("mother_id")), mother=page.label(row.get("mother_id"))))
    _more(page, len(logged))

    raised = [row for row in data.get("alert", []) if row.get("raised_by") == me]
    if raised:
        page.section(page.t("alerts_raised", n=len(raised)))
        for row in _newest(raised, "opened_at")[:LATEST]:
            page.add(page.t("alert_for", cause=page.words("causes", row.get("cause")),
                            mother=page.label(row.get("mother_id")), when=page.when(row.get("opened_at"),
                                                                                    zones.get(row.get("mother_id")))))
    mute = (data.get("reminder_mute") or [None])[0]
    page.section(page.t("reminders"))
    if mute and parse_iso(mute["until"]) > page.now:
        until = parse_iso(mute["until"])
        page.add(page.t("reminder_stopped") if preferences.is_forever(until)
                 else page.t("reminder_paused", when=page.when(mute["until"])))
    else:
        page.add(page.t("reminder_on"))
    return {"companion_link", "milk_report", "massage_session", "alert", "reminder_mute"}


def _midwife_sections(page: _Page, data) -> set[str]:
    page.section(page.t("work"))
    for table, key in (("midwife_note", "notes_written"), ("alert_delivery", "alerts_received"),
                       ("question_copy", "questions_received"), ("clinic_voice", "voices")):
        page.add(page.t(key, n=len(data.get(table, []))))
    return {"midwife_note", "alert_delivery", "question_copy", "clinic_voice", "midwife_code"}


def _common_sections(page: _Page, data) -> set[str]:
    """Quiz scores, questions asked, reminders received and safety checks: any role."""
    attempts = data.get("quiz_attempt", [])
    if attempts:
        page.section(page.t("quiz", n=len(attempts)))
        for row in _newest(attempts, "started_at")[:LATEST]:
            kind = page.words("quiz_kinds", row.get("kind"))
            if row.get("finished_at") and row.get("score") is not None:
                page.add(page.t("quiz_line", kind=kind, when=page.when(row["finished_at"]), score=row["score"]))
            else:
                page.add(page.t("quiz_open", kind=kind, when=page.when(row.get("started_at"))))
        _more(page, len(attempts))
    asked = [row for row in data.get("question", []) if row.get("asked_by") == page.user_id
             or (row.get("mother_id") == page.user_id)]
    if asked:
        texts_of = {row.get("question_id"): row.get("text") for row in data.get("question_message", [])
                    if row.get("part") == "question"}
        page.section(page.t("questions", n=len(asked)))
        for row in _newest(asked, "asked_at")[:LATEST]:
            text = texts_of.get(row.get("id")) or page.t("question_no_text")
            if len(text) > QUESTION_PREVIEW:
                text = text[:QUESTION_PREVIEW - 1].rstrip() + "…"
            status = "answered" if row.get("answered_at") else "taken" if row.get("taken_at") else "waiting"
            page.add(page.t("question_line", when=page.when(row.get("asked_at")), text=text.replace("\n", " "),
                            status=page.words("question_status", status)))
        _more(page, len(asked))
    received = [row for row in data.get("reminder_delivery", []) if row.get("recipient_id") == page.user_id]
    if received:
        page.add("", page.t("reminders_sent", n=sum(1 for row in received if row.get("sent_at")), total=len(received)))
    checks = data.get("safety_check", [])
    if checks:
        page.add("", page.t("checks", n=len(checks)))
    return {"quiz_attempt", "quiz_pair", "question", "question_message", "reminder_delivery", "safety_check"}


def _alerts(page: _Page, alerts: list[dict]) -> None:
    open_ = [row for row in alerts if row.get("closed_at") is None]
    page.section(page.t("alerts", n=len(alerts), open=len(open_)))
    for row in _newest(open_, "opened_at"):
        page.add(page.t("alert_line", cause=page.words("causes", row.get("cause")), when=page.when(row.get("opened_at"))))


def _session_line(page: _Page, row: dict, zone: str | None = None, mother: str | None = None) -> str:
    minutes = (row.get("duration_s") or 0) // 60
    extra = page.t("session_minutes", minutes=minutes) if minutes else ""
    if row.get("who"):
        extra += page.t("session_who", who=page.words("who", row["who"]))
    if mother:
        extra += page.t("session_for", mother=mother)
    return page.t("session_line", when=page.when(row.get("started_at"), zone), slot=page.words("slots", row.get("slot")),
                  extra=extra)


def _more(page: _Page, count: int) -> None:
    if count > LATEST:
        page.add(page.t("more", n=count - LATEST))


def _other_tables(page: _Page, data, shown: set[str]) -> None:
    """Every other table with rows about her, by name and count (the file has the rows)."""
    rest = [(table, len(rows)) for table, rows in data.items() if table not in shown and rows]
    if not rest:
        return
    page.section(page.t("other"))
    for table, count in rest:
        try:
            name = page.texts.t(page.lang, f"mydata.tables.{table}")
        except KeyError:
            name = page.t("other_table")
        page.add(page.t("other_line", table=name, n=count))


def my_data_markup(texts, lang: str):
    return keyboard([[(texts.t(lang, "mydata.json_button"), JSON_BUTTON)]])


async def my_data(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    data = await privacy.collect(context.db, actor.user_id)
    page = await render_my_data(context, actor, data)
    parts = split_message(page)
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        await send(update, part, my_data_markup(context.texts, actor.lang) if last and data else None)


async def my_data_export(db, settings, texts, lang: str, user_id: int, now) -> bytes:
    """The full machine-readable copy: every row about her, other people's ids as role labels."""
    data = await privacy.collect(db, user_id)
    people = await privacy.people_around(db, user_id, set(settings.admin_telegram_ids), data)
    labels = {person_id: person_label(texts, lang, person) for person_id, person in people.items()}
    copy = {
        "about": texts.t(lang, "mydata.json_about"),
        "generated_at": iso(now),
        "times": "UTC",
        "people": {labels[person_id]: {key: value for key, value in (("name", person.name),
                                                                     ("relation", person.relation)) if value}
                   for person_id, person in people.items()},
        "tables": privacy.without_other_ids(data, user_id, labels, texts.t(lang, "mydata.labels.other")),
    }
    return json.dumps(copy, ensure_ascii=False, indent=1).encode("utf-8")


async def my_data_file(update: Update, context) -> None:
    """The button under the page: the JSON copy as a document (pressed again: a fresh copy)."""
    actor = await load_actor(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not actor.registered:
        await send(update, context.texts.t(actor.lang, "mydata.nothing"))
        return
    content = await my_data_export(context.db, context.services.settings, context.texts, actor.lang,
                                   actor.user_id, context.clock.now())
    await update.effective_chat.send_document(document=content, filename=context.texts.t(actor.lang, "mydata.json_file"),
                                              caption=context.texts.t(actor.lang, "mydata.json_caption"))


# ----------------------------------------------------------------- /hapus
async def delete_ask(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    if not actor.registered:
        context.user_data.clear()
        await send(update, context.texts.t(actor.lang, "delete.nothing"))
        return
    t = context.texts.t
    await send(update, t(actor.lang, f"delete.confirm_{actor.role}"), keyboard([
        [(t(actor.lang, "delete.yes"), "del:yes")], [(t(actor.lang, "delete.no"), "del:no")]]))


async def delete_answer(update: Update, context) -> None:
    actor = await load_actor(update, context)
    t = context.texts.t
    if update.callback_query.data == "del:no":
        await close_buttons(update, t(actor.lang, "delete.no"))
        await menu.show_menu(update, context, actor)
        return
    await close_buttons(update, t(actor.lang, "delete.yes"))
    if not actor.registered:
        await send(update, t(actor.lang, "delete.nothing"))
        return
    await account_cases.delete_user(context.services.deps, actor.user_id)  # and tells her companions
    context.application.drop_user_data(actor.user_id)
    log.info("user data deleted (role=%s)", actor.role)
    await send(update, t(actor.lang, "delete.done"))


# ----------------------------------------------------------------- /bahasa
async def language_ask(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update)
    await send(update, context.texts.t(actor.lang, "language.question"),
               keyboard([[(context.texts.t(lang, "language.name"), f"lang:{lang}") for lang in LANGUAGES]]))


async def language_set(update: Update, context) -> None:
    lang = update.callback_query.data.split(":", 1)[1]
    actor = await load_actor(update, context)
    await close_buttons(update, context.texts.t(lang, "language.name"))
    if actor.registered:
        await users.set_language(context.db, actor.user_id, lang)
    else:
        context.user_data["lang"] = lang
    actor = await load_actor(update, context)
    await send(update, context.texts.t(lang, "language.changed"))
    await menu.show_menu(update, context, actor)


# ----------------------------------------------------------------- anything else
async def unknown_message(update: Update, context) -> None:
    actor = await load_actor(update, context)
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        key = "fallback.unknown_command"
    elif message is not None and message.text:
        key = "fallback.text"
    else:
        key = "fallback.media"
    await send(update, context.texts.t(actor.lang, key))
    await menu.show_menu(update, context, actor)


async def stale_button(update: Update, context) -> None:
    actor = await load_actor(update, context)
    await close_buttons(update, alert=context.texts.t(actor.lang, "common.stale_button_short"))
    await send(update, context.texts.t(actor.lang, "fallback.stale_button"))
    await menu.show_menu(update, context, actor)
