"""The dashboard's pages as server-rendered HTML: small inline CSS, no inline script, readable
on a phone and on a desk screen. Every value that comes from the database or from a person
(names, questions, notes, clinic names) goes through `esc` — names are data, never markup.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Callable, Iterable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.clock import parse_iso

CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d232b;--mute:#5d6773;--line:#dde2e8;--accent:#0b6e99;--red:#b3261e;
--amber:#9a5b00;--green:#1e7b34}
@media (prefers-color-scheme:dark){:root{--bg:#14181d;--card:#1d232b;--ink:#e8ecf1;--mute:#a3adb8;
--line:#333c47;--accent:#5cc0ee;--red:#ff8a80;--amber:#ffc266;--green:#81c995}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:var(--card);border-bottom:1px solid var(--line);padding:.6rem 1rem}
header .clinic{font-weight:600}
header .lang{float:right;font-size:.85rem}
nav{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin-top:.4rem}
nav a{color:var(--accent);text-decoration:none;padding:.2rem 0}
nav a.on{font-weight:700;border-bottom:2px solid var(--accent)}
nav form{display:inline;margin:0}
main{padding:1rem;max-width:1150px;margin:0 auto}
h1{font-size:1.3rem;margin:.2rem 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin:.6rem 0}
.scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--mute);font-weight:600;white-space:nowrap}
tr:last-child td{border-bottom:0}
a{color:var(--accent)}
.mute{color:var(--mute);font-size:.9rem}
.urgent{color:var(--red);font-weight:600}
.warn{color:var(--amber)}
.ok{color:var(--green)}
.flash{background:var(--card);border-left:4px solid var(--accent);padding:.6rem .9rem;margin:.6rem 0}
.err{border-left-color:var(--red)}
button,.btn{font:inherit;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.45rem .9rem;
cursor:pointer;text-decoration:none;display:inline-block}
button.link{background:none;color:var(--accent);padding:.2rem 0}
input,select{font:inherit;padding:.4rem;border:1px solid var(--line);border-radius:6px;background:var(--card);
color:var(--ink)}
form.bar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.4rem 0 .8rem}
img.chart{max-width:100%;height:auto;background:#fff;border-radius:6px}
pre{white-space:pre-wrap;font-size:.85rem;background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:.8rem}
ul.tl{list-style:none;padding:0;margin:0}
ul.tl li{padding:.45rem 0;border-bottom:1px solid var(--line)}
ul.tl li:last-child{border-bottom:0}
@media (min-width:900px){body{font-size:17px}.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}}
"""
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode()

# No inline script can run, whatever a name contains; styles only from our own <style> block.
CSP = ("default-src 'none'; script-src 'self' https://telegram.org; style-src '" + CSS_HASH + "';"
       " img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none';"
       " frame-ancestors 'self' https://web.telegram.org")


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


NAV = ("calls", "mothers", "alerts", "questions", "stats", "exports")


@dataclass
class View:
    """What every page needs: the texts in her language, her clinic and the time."""
    t: Callable[..., str]
    lang: str
    clinic: str
    zone: str
    now: datetime
    csrf: str
    questions: bool = True

    def when(self, moment: str | None) -> str:
        if not moment:
            return ""
        return parse_iso(moment).astimezone(ZoneInfo(self.zone)).strftime("%d/%m %H:%M")

    def waited(self, since: datetime | str | None) -> str:
        if since is None:
            return ""
        if isinstance(since, str):
            since = parse_iso(since)
        minutes = max(0, int((self.now - since).total_seconds() // 60))
        if minutes < 120:
            return self.t("dashboard.page.minutes", n=minutes)
        if minutes < 48 * 60:
            return self.t("dashboard.page.hours", n=minutes // 60)
        return self.t("dashboard.page.days", n=minutes // 1440)


def layout(view: View, active: str, heading: str, body: str, flash: tuple[str, bool] | None = None) -> str:
    t = view.t
    links = []
    for item in NAV:
        if item == "questions" and not view.questions:
            continue
        cls = ' class="on"' if item == active else ""
        links.append(f'<a href="/{item}"{cls}>{esc(t(f"dashboard.page.nav.{item}"))}</a>')
    links.append(f'<form method="post" action="/logout"><input type="hidden" name="csrf" value="{esc(view.csrf)}">'
                 f'<button class="link" type="submit">{esc(t("dashboard.page.nav.logout"))}</button></form>')
    other = "en" if view.lang == "id" else "id"
    switch = f'<a class="lang" href="?lang={other}">{"English" if other == "en" else "Bahasa Indonesia"}</a>'
    note = ""
    if flash:
        note = f'<div class="flash{" err" if flash[1] else ""}" role="status">{esc(flash[0])}</div>'
    stamp = view.now.astimezone(ZoneInfo(view.zone)).strftime("%d/%m/%Y %H:%M")
    return document(view.lang, f"{t(f'dashboard.page.nav.{active}')} · {view.clinic}",
                    f'<header>{switch}<div class="clinic">{esc(view.clinic)}</div>'
                    f'<nav>{"".join(links)}</nav></header>'
                    f'<main><h1>{esc(heading)}</h1>{note}{body}'
                    f'<p class="mute">{esc(t("dashboard.page.updated", time=stamp, zone=view.zone))}</p></main>')


def document(lang: str, title: str, body: str, scripts: Iterable[str] = ()) -> str:
    tags = "".join(f'<script src="{esc(src)}" defer></script>' for src in scripts)
    return ('<!doctype html><html lang="' + esc(lang) + '"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{esc(title)}</title><style>{CSS}</style>{tags}</head><body>{body}</body></html>")


def message_page(lang: str, title: str, text: str) -> str:
    return document(lang, title, f'<main><h1>{esc(title)}</h1><div class="flash err">{esc(text)}</div></main>')


def table(headers: list[str], rows: list[list[str]]) -> str:
    """`rows` hold ready HTML (each cell escaped by the caller)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# ----------------------------------------------------------------- the Mini App's first page
def boot_page(t: Callable[..., str], lang: str, signed_in: bool = False) -> str:
    """Reads initData (the URL fragment, or Telegram's script when it is there) in /static/app.js."""
    return document(lang, t("dashboard.page.title"),
                    f'<main id="boot" data-signed-in="{int(signed_in)}"><h1>{esc(t("dashboard.page.title"))}</h1>'
                    f'<p id="opening">{esc(t("dashboard.page.boot.opening"))}</p>'
                    f'<div id="failed" class="flash err" hidden>{esc(t("dashboard.page.boot.failed"))}</div>'
                    f'<div id="no-data" class="flash" hidden>{esc(t("dashboard.page.boot.no_data"))}</div></main>',
                    scripts=["/static/app.js"])


APP_JS = """'use strict';
(function () {
  function show(id) {
    document.getElementById('opening').hidden = true;
    document.getElementById(id).hidden = false;
  }
  function fromTelegram() {
    var app = window.Telegram && window.Telegram.WebApp;
    return app && app.initData ? app.initData : '';
  }
  function fromFragment() {
    // Telegram opens a Mini App with #tgWebAppData=<initData>&tgWebAppVersion=...
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    return params.get('tgWebAppData') || '';
  }
  var initData = fromTelegram() || fromFragment();
  if (!initData) {
    if (document.getElementById('boot').dataset.signedIn === '1') { location.replace('/calls'); return; }
    show('no-data');
    return;
  }
  // Telegram's own script only adds the theme and "ready"; the page works without it.
  var tg = document.createElement('script');
  tg.src = 'https://telegram.org/js/telegram-web-app.js';
  tg.async = true;
  tg.onload = function () { try { window.Telegram.WebApp.ready(); window.Telegram.WebApp.expand(); } catch (e) {} };
  document.head.appendChild(tg);
  fetch('/auth' + location.search, {method: 'POST', credentials: 'same-origin',
                                    headers: {'Content-Type': 'text/plain'}, body: initData})
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (answer) {
      history.replaceState(null, '', location.pathname + location.search);  // initData out of the address bar
      location.replace(answer.next);
    })
    .catch(function () { show('failed'); });
})();
"""


def login_page(t: Callable[..., str], lang: str, token: str) -> str:
    return document(lang, t("dashboard.page.login.title"),
                    f'<main><h1>{esc(t("dashboard.page.login.title"))}</h1>'
                    f'<p>{esc(t("dashboard.page.login.hint"))}</p>'
                    f'<form method="post" action="/login/{esc(token)}">'
                    f'<button type="submit">{esc(t("dashboard.page.login.button"))}</button></form></main>')


# ----------------------------------------------------------------- the pages
URGENCY_CLASS = {"danger": "urgent", "alert": "warn", "no_report": "warn", "not_out": "warn", "ok": "ok", "past": "mute"}
CALL_ICONS = {"urgent": "🚨", "question": "❓", "milk_not_out": "🟠", "few_feeds": "🍼", "few_nappies": "🍼",
              "no_report": "❔"}


def mother_link(mother_id: int, name: str) -> str:
    return f'<a href="/mothers/{int(mother_id)}">{esc(name)}</a>'


def calls_body(view: View, items, day_of: Callable[[int], object]) -> str:
    t = view.t
    if not items:
        return f'<div class="card">{esc(t("dashboard.page.calls.empty"))}</div>'
    rows = []
    for item in items:
        reasons = ", ".join(t(f"call_list.reasons.{r}") for r in item.reasons)
        cls = "urgent" if item.reasons[0] == "urgent" else ""
        rows.append([f'{CALL_ICONS.get(item.reasons[0], "")} {mother_link(item.mother_id, item.name)}',
                     esc(day_of(item.mother_id)), f'<span class="{cls}">{esc(reasons)}</span>',
                     esc(view.waited(item.since)), esc(item.taken_by or "")])
    p = "dashboard.page.calls."
    return table([t(p + "who"), t(p + "day"), t(p + "why"), t(p + "waited"), t(p + "taken")], rows)


def mothers_body(view: View, lines, total: int, search: str, sort: str, sorts: Iterable[str]) -> str:
    t = view.t
    p = "dashboard.page.mothers."
    options = "".join(f'<option value="{esc(s)}"{" selected" if s == sort else ""}>{esc(t(p + "sorts." + s))}</option>'
                      for s in sorts)
    form = (f'<form class="bar" method="get" action="/mothers">'
            f'<input type="search" name="q" value="{esc(search)}" placeholder="{esc(t(p + "search"))}"'
            f' aria-label="{esc(t(p + "search"))}">'
            f'<label>{esc(t(p + "sort"))} <select name="sort">{options}</select></label>'
            f'<button type="submit">{esc(t(p + "find"))}</button></form>')
    if not total:
        return form + f'<div class="card">{esc(t(p + "empty"))}</div>'
    if not lines:
        return form + f'<div class="card">{esc(t(p + "none_found"))}</div>'
    rows = []
    for line in lines:
        flow = t(f"reports.flow.{line.last_flow}") if line.last_flow else ""
        rows.append([mother_link(line.mother.user_id, line.mother.display_name),
                     f'<span class="{URGENCY_CLASS.get(line.urgency, "")}">'
                     f'{esc(t("dashboard.page.urgency." + line.urgency))}</span>',
                     esc(line.postpartum_day), esc(flow),
                     esc(view.when(line.last_report_at) or t(p + "never")),
                     esc(line.sessions_3d), esc(line.open_alerts or "")])
    count = f'<p class="mute">{esc(t(p + "count", shown=len(lines), total=total))}</p>'
    return form + count + table([t(p + k) for k in ("name", "status", "day", "last_flow", "last_report",
                                                    "sessions", "alerts")], rows)


def record_body(view: View, record, alerts, reason_of: Callable) -> str:
    t = view.t
    p = "dashboard.page.record."
    mother = record.mother
    facts = [t(p + "day", day=record.postpartum_day),
             t(p + "delivered", date=mother.delivery_date.strftime("%d/%m/%Y")),
             f'{t(p + "pseudonym")}: {mother.pseudonym}']
    if mother.care_status != "normal":
        facts.append(f'{t(p + "care")}: {t("midwife.record.care." + mother.care_status, when=view.when(record.care_status_at))}')
    head = '<div class="card">' + "<br>".join(esc(f) for f in facts) + "</div>"
    companions = (", ".join(f"{esc(c.name)} ({esc(_relation(t, c.relation))})" for c in record.companions)
                  or esc(t(p + "no_companions")))
    head += f'<div class="card"><strong>{esc(t(p + "companions"))}:</strong> {companions}</div>'
    events: list[tuple[str, str]] = []
    for report in record.reports:
        detail = ""
        if report.feeds_24h is not None or report.wet_nappies_24h is not None or report.breasts:
            breasts = t(f"reports.breasts.{report.breasts}") if report.breasts else "-"
            detail = " · " + t(p + "report_detail", feeds=_dash(report.feeds_24h), wet=_dash(report.wet_nappies_24h),
                               breasts=breasts)
        events.append((report.reported_at, esc(t(p + "report", flow=t(f"reports.flow.{report.milk_flow}")) + detail)))
    for session in record.sessions:
        slot = t(f"midwife.record.slot.{session.slot}") if session.slot in ("morning", "evening") else session.slot
        key = p + ("session" if session.completed else "session_open")
        events.append((session.started_at, esc(t(key, slot=slot, minutes=round(session.duration_s / 60)))))
    for alert in alerts:
        icon = "🚨" if alert.urgent else "⚠️"
        state = t(p + "closed", when=view.when(alert.closed_at)) if alert.closed_at else t(p + "open")
        cls = "urgent" if alert.urgent and not alert.closed_at else ""
        events.append((alert.opened_at, f'<span class="{cls}">{esc(t(p + "alert", icon=icon, reason=reason_of(alert)))}'
                                        f'</span> <span class="mute">({esc(state)})</span>'))
    events.sort(key=lambda e: e[0], reverse=True)
    if events:
        timeline = '<ul class="tl">' + "".join(
            f'<li><span class="mute">{esc(view.when(at))}</span> · {text}</li>' for at, text in events) + "</ul>"
    else:
        timeline = esc(t(p + "empty"))
    notes = ""
    if record.notes:
        notes = (f'<h2>{esc(t(p + "notes"))}</h2><div class="card"><ul class="tl">'
                 + "".join(f'<li><span class="mute">{esc(view.when(n.created_at))}</span> · {esc(n.text)}</li>'
                           for n in record.notes) + "</ul></div>")
    chart = (f'<h2>{esc(t(p + "chart"))}</h2><div class="card"><img class="chart" width="600" height="320"'
             f' src="/mothers/{int(mother.user_id)}/chart.png" alt="{esc(t(p + "chart_alt"))}"></div>')
    return (head + '<div class="cols"><div>' + chart + notes + '</div><div>'
            f'<h2>{esc(t(p + "timeline"))}</h2><div class="card">{timeline}</div></div></div>')


def _relation(t, relation: str) -> str:
    try:
        return t(f"onboarding.relation_{relation}")
    except KeyError:
        return relation


def _dash(value) -> str:
    return "-" if value is None else str(value)


def alerts_body(view: View, alerts, reason_of: Callable) -> str:
    t = view.t
    p = "dashboard.page.alerts."
    if not alerts:
        return f'<div class="card">{esc(t(p + "empty"))}</div>'
    rows = []
    for item in alerts:
        alert = item.alert
        icon = "🚨" if alert.urgent else "⚠️"
        if item.taken_by is not None:
            action = esc(t(p + "taken_by", midwife=item.taken_name or "-"))
        else:
            action = (f'<form method="post" action="/alerts/{int(alert.id)}/take">'
                      f'<input type="hidden" name="csrf" value="{esc(view.csrf)}">'
                      f'<button type="submit" data-alert="{int(alert.id)}">{esc(t(p + "take"))}</button></form>')
        rows.append([f'{icon} {mother_link(alert.mother_id, item.mother_name)}',
                     f'<span class="{"urgent" if alert.urgent else "warn"}">{esc(reason_of(alert))}</span>',
                     f'{esc(view.waited(alert.opened_at))}<br><span class="mute">{esc(view.when(alert.opened_at))}</span>',
                     action])
    return table([t(p + "who"), t(p + "why"), t(p + "waited"), ""], rows)


def questions_body(view: View, questions) -> str:
    t = view.t
    p = "dashboard.page.questions."
    if not questions:
        return f'<div class="card">{esc(t(p + "empty"))}</div>'
    rows = []
    for q in questions:
        text = q.text if q.text else ""
        if q.kind in ("photo", "voice"):
            text = (text + " " + t(p + "media")).strip()
        taken = f'<br><span class="mute">{esc(t("dashboard.page.alerts.taken_by", midwife=q.taken_name))}</span>' \
            if q.taken_name else ""
        rows.append([mother_link(q.mother_id, q.mother_name), esc(t(p + "roles." + q.asker_role)),
                     esc(text[:500]) + taken, esc(view.waited(q.asked_at))])
    return (f'<p class="mute">{esc(t(p + "hint"))}</p>'
            + table([t(p + "who"), t(p + "asked_by"), t(p + "text"), t(p + "waited")], rows))


def stats_body(view: View, cohort, milk_text: str | None, no_pairs: str, caveat: str, lost: str,
               quiz_text: str | None, no_quiz: str) -> str:
    t = view.t
    p = "dashboard.page.stats."
    numbers = t(p + "cohort", mothers=cohort.mothers, active=cohort.active, sessions=cohort.sessions_week,
                alerts=cohort.open_alerts)
    body = f'<div class="card">{esc(numbers)}</div><p class="mute">{esc(caveat)}</p>'
    if milk_text is not None:
        body += (f'<div class="cols"><div><img class="chart" width="800" height="600" src="/stats/chart.png"'
                 f' alt="{esc(t(p + "chart_alt"))}"></div><div><pre>{esc(milk_text)}</pre></div></div>')
    else:
        body += f'<div class="card">{esc(no_pairs)}</div>'
    if lost:
        body += f'<p class="mute">{esc(lost)}</p>'
    body += f'<h2>{esc(t(p + "quiz"))}</h2>'
    body += f'<pre>{esc(quiz_text)}</pre>' if quiz_text is not None else f'<div class="card">{esc(no_quiz)}</div>'
    return body


EXPORT_NAMES = ("xlsx", "milk_reports", "sessions", "quiz_attempts")


def exports_body(view: View) -> str:
    t = view.t
    p = "dashboard.page.exports."
    items = [f'<li><a class="btn" href="/exports/register" download>{esc(t(p + "register"))}</a></li>']
    items += [f'<li><a class="btn" href="/exports/fhir?range={choice}" download>'
              f'{esc(t(p + "fhir", range=t("exports.ranges." + choice)))}</a></li>' for choice in ("d30", "d7")]
    items.append(f'<li>{esc(t(p + "research"))}</li>')
    for name in EXPORT_NAMES:
        label = t(p + "xlsx") if name == "xlsx" else t(p + "csv", table=t(f"midwife.export.tables.{name}"))
        items.append(f'<li><a class="btn" href="/exports/{name}" download>{esc(label)}</a></li>')
    return (f'<p>{esc(t(p + "intro"))}</p><ul class="tl">' + "".join(items) + "</ul>")


def query_string(**values: str) -> str:
    return urlencode({k: v for k, v in values.items() if v})
