"""The desk dashboard's web server: an aiohttp Application on the bot's own event loop, started by
`BotApplication.initialize()` when DASHBOARD_URL is set (docs/dashboard.md).

Routes:
  GET  /                          the Mini App's entry: reads initData (web/pages.APP_JS), posts it
  POST /auth                      initData -> session cookie (403 unless she is a midwife)
  GET  /login/<token>             a one-time login link (desktop browser): a page with "Masuk"
  POST /login/<token>             uses the token (once) -> session cookie
  POST /logout
  GET  /calls                     today's call list
  GET  /mothers?q=&sort=          her clinic's mothers
  GET  /mothers/<id>              one mother's record and timeline; /mothers/<id>/chart.png
  GET  /alerts                    open alerts, waiting times; POST /alerts/<id>/take ("Ambil")
  GET  /questions                 unanswered questions (when "Tanya bidan" is installed)
  GET  /stats                     before/after statistics; /stats/chart.png
  GET  /exports, /exports/<name>  CSV / XLSX downloads
Every page looks the midwife up again through clinic_scope: a removed midwife is refused at once.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.clock import parse_iso
from db.queries import call_list as call_q
from db.queries import clinic_scope
from db.queries import dashboard as dash_q
from db.queries import reports as reports_q
from db.queries.clinic_scope import NotAMidwife, NotYourClinic
from web import auth, pages
from web.pages import CSP, View

log = logging.getLogger(__name__)
LANGS = ("id", "en")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class _Stop(Exception):
    """Ends a request with this response (refusals)."""

    def __init__(self, response: web.Response):
        self.response = response


@web.middleware
async def _headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except _Stop as stop:
        response = stop.response
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class Dashboard:
    def __init__(self, app):
        self.app = app                       # the BotApplication
        self.services = app.services
        self.sessions = auth.Sessions()
        self.runner: web.AppRunner | None = None
        self.port: int | None = None
        self.web = web.Application(middlewares=[_headers], client_max_size=64 * 1024)
        r = self.web.router
        r.add_get("/", self.boot)
        r.add_get("/dashboard", self.boot)
        r.add_get("/dasbor", self.boot)
        r.add_get("/static/app.js", self.app_js)
        r.add_post("/auth", self.auth)
        r.add_get("/login/{token}", self.login_page)
        r.add_post("/login/{token}", self.login)
        r.add_post("/logout", self.logout)
        r.add_get("/calls", self.calls)
        r.add_get("/mothers", self.mothers)
        r.add_get(r"/mothers/{mother_id:\d+}", self.record)
        r.add_get(r"/mothers/{mother_id:\d+}/chart.png", self.record_chart)
        r.add_get("/alerts", self.alerts)
        r.add_post(r"/alerts/{alert_id:\d+}/take", self.take)
        r.add_get("/questions", self.questions)
        r.add_get("/stats", self.stats)
        r.add_get("/stats/chart.png", self.stats_chart)
        r.add_get("/exports", self.exports)
        r.add_get(r"/exports/{name}", self.export_file)

    # ------------------------------------------------------------- running
    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(self.web, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the port chosen for port 0
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("dashboard listening on %s:%s", host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # ------------------------------------------------------------- helpers
    @property
    def db(self):
        return self.services.db

    def t(self, lang: str):
        texts = self.services.texts
        return lambda key, **values: texts.t(lang, key, **values)

    def _lang_of_request(self, request: web.Request, fallback: str = "id") -> str:
        lang = request.query.get("lang")
        return lang if lang in LANGS else fallback

    def _html(self, text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")

    def _refuse(self, request: web.Request, status: int, key: str, lang: str | None = None) -> _Stop:
        lang = lang or self._lang_of_request(request)
        t = self.t(lang)
        response = self._html(pages.message_page(lang, t("dashboard.page.title"), t(key)), status)
        if status == 401:
            response.del_cookie(auth.COOKIE, path="/")
        return _Stop(response)

    def _secure_cookie(self, request: web.Request) -> bool:
        url = self.services.settings.dashboard_url
        return url.startswith("https://") and (urlsplit(f"//{request.host}").hostname or "") not in LOOPBACK_HOSTS

    def _start_session(self, request: web.Request, response: web.StreamResponse, midwife_id: int,
                       lang: str | None) -> None:
        token, _ = self.sessions.open(midwife_id, lang)
        response.set_cookie(auth.COOKIE, token, path="/", httponly=True, samesite="Strict",
                            secure=self._secure_cookie(request), max_age=int(auth.SESSION_LIFETIME.total_seconds()))

    async def _who(self, request: web.Request) -> tuple[auth.Session, clinic_scope.Scope, View]:
        """The session's midwife, checked again now (a removed midwife is refused at once)."""
        session = self.sessions.get(request.cookies.get(auth.COOKIE))
        if session is None:
            raise self._refuse(request, 401, "dashboard.page.denied")
        try:
            scope = await clinic_scope.scope_of(self.db, session.midwife_id)
        except NotAMidwife:
            self.sessions.close_all_of(session.midwife_id)
            raise self._refuse(request, 403, "dashboard.page.forbidden") from None
        if request.query.get("lang") in LANGS:
            session.lang = request.query["lang"]
        lang = session.lang or await dash_q.midwife_language(self.db, session.midwife_id)
        view = View(self.t(lang), lang, scope.clinic_name, scope.timezone, self.services.clock.now(), session.csrf,
                    questions=await dash_q.has_questions(self.db))
        return session, scope, view

    def _check_csrf(self, request: web.Request, session: auth.Session, form) -> None:
        import hmac

        if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
            raise self._refuse(request, 403, "dashboard.page.forbidden")

    def _reason(self, lang: str):
        from usecases.alerts import cause_text

        return lambda alert: cause_text(self.services.texts, lang, alert.cause, alert.detail, alert.report_day)

    # ------------------------------------------------------------- signing in
    async def boot(self, request: web.Request) -> web.Response:
        lang = self._lang_of_request(request)
        # Always the boot page: inside Telegram the initData decides who she is (another account on
        # the same phone must not inherit an old session); without initData, a session goes on.
        signed_in = self.sessions.get(request.cookies.get(auth.COOKIE)) is not None
        return self._html(pages.boot_page(self.t(lang), lang, signed_in))

    async def app_js(self, request: web.Request) -> web.Response:
        return web.Response(text=pages.APP_JS, content_type="application/javascript", charset="utf-8",
                            headers={"Cache-Control": "no-cache"})

    async def auth(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            user = auth.check_init_data(body.strip(), self.services.settings.telegram_bot_token,
                                        self.services.clock.now())
        except auth.InitDataError as exc:
            log.info("dashboard: initData refused (%s)", exc)
            return web.json_response({"ok": False}, status=401)
        try:
            await clinic_scope.scope_of(self.db, user.id)
        except NotAMidwife:
            return web.json_response({"ok": False}, status=403)
        lang = request.query.get("lang")
        self.sessions.close(request.cookies.get(auth.COOKIE))  # whoever was signed in here before
        response = web.json_response({"ok": True, "next": "/calls"})
        self._start_session(request, response, user.id, lang if lang in LANGS else None)
        return response

    async def login_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        midwife_id = await auth.login_token_valid(self.db, token, self.services.clock.now()) \
            if len(token) <= 64 else None
        lang = self._lang_of_request(request, await dash_q.midwife_language(self.db, midwife_id) if midwife_id else "id")
        if midwife_id is None:
            raise self._refuse(request, 401, "dashboard.page.login.invalid", lang)
        return self._html(pages.login_page(self.t(lang), lang, token))

    async def login(self, request: web.Request) -> web.Response:
        midwife_id = await auth.use_login_token(self.db, request.match_info["token"], self.services.clock.now())
        if midwife_id is None:
            raise self._refuse(request, 401, "dashboard.page.login.invalid")
        try:
            await clinic_scope.scope_of(self.db, midwife_id)
        except NotAMidwife:
            raise self._refuse(request, 403, "dashboard.page.forbidden") from None
        response = web.Response(status=303, headers={"Location": "/calls"})
        self._start_session(request, response, midwife_id, None)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        session, _, _ = await self._who(request)
        self._check_csrf(request, session, await request.post())
        self.sessions.close(request.cookies.get(auth.COOKIE))
        response = self._html(pages.message_page(session.lang or "id", "OK", self.t(session.lang or "id")(
            "dashboard.page.denied")))
        response.del_cookie(auth.COOKIE, path="/")
        return response

    # ------------------------------------------------------------- pages
    async def calls(self, request: web.Request) -> web.Response:
        from domain.age import day_of_life

        session, scope, view = await self._who(request)
        _, _, items = await call_q.call_list_of(self.db, session.midwife_id, view.now)
        days = {f.mother.user_id: day_of_life(f.mother, view.now)
                for f in await call_q.facts_of_clinic(self.db, scope.clinic_id)}
        body = pages.calls_body(view, items, lambda mother_id: days.get(mother_id, "?"))
        return self._html(pages.layout(view, "calls", view.t("dashboard.page.calls.heading"), body))

    async def mothers(self, request: web.Request) -> web.Response:
        session, _, view = await self._who(request)
        search = request.query.get("q", "")[:100]
        sort = request.query.get("sort", "urgency")
        sort = sort if sort in dash_q.SORTS else "urgency"
        _, lines, total = await dash_q.mothers_table(self.db, session.midwife_id, view.now, search, sort)
        body = pages.mothers_body(view, lines, total, search, sort, dash_q.SORTS)
        return self._html(pages.layout(view, "mothers", view.t("dashboard.page.mothers.heading"), body))

    async def record(self, request: web.Request) -> web.Response:
        session, _, view = await self._who(request)
        mother_id = int(request.match_info["mother_id"])
        try:
            record = await clinic_scope.mother_record(self.db, session.midwife_id, mother_id, view.now, limit=50)
            alerts = await dash_q.alerts_of_mother(self.db, session.midwife_id, mother_id)
        except NotYourClinic:
            raise self._refuse(request, 404, "dashboard.page.not_found", view.lang) from None
        body = pages.record_body(view, record, alerts, self._reason(view.lang))
        return self._html(pages.layout(view, "mothers", record.mother.display_name, body))

    async def record_chart(self, request: web.Request) -> web.Response:
        from zoneinfo import ZoneInfo

        from analysis.chart import milk_history_chart_png
        from analysis.stats import CATEGORIES

        session, _, view = await self._who(request)
        try:
            mother = await clinic_scope.mother_of_clinic(self.db, session.midwife_id,
                                                         int(request.match_info["mother_id"]))
        except NotYourClinic:
            raise self._refuse(request, 404, "dashboard.page.not_found", view.lang) from None
        found = await reports_q.reports_of(self.db, mother.user_id, limit=200)
        sessions = await reports_q.sessions_of(self.db, mother.user_id, limit=200)
        zone = ZoneInfo(mother.timezone)

        def day(moment: str) -> float:
            local = parse_iso(moment).astimezone(zone)
            return (local.date() - mother.delivery_date).days + 1 + (local.hour * 60 + local.minute) / 1440

        points = [(day(r.reported_at), CATEGORIES.index(r.milk_flow) + 1) for r in reversed(found)
                  if r.milk_flow in CATEGORIES]
        words = dict(self.services.texts.data(view.lang, "reports.history.chart"))
        words["title"] = words["title"].format(mother=mother.display_name)  # drawn as plain text, never mathtext
        png = await asyncio.to_thread(milk_history_chart_png, points, [day(s.started_at) for s in sessions], words)
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, no-store"})

    async def alerts(self, request: web.Request) -> web.Response:
        session, _, view = await self._who(request)
        _, found = await dash_q.open_alerts(self.db, session.midwife_id)
        flash, session.flash = session.flash, None
        body = pages.alerts_body(view, found, self._reason(view.lang))
        return self._html(pages.layout(view, "alerts", view.t("dashboard.page.alerts.heading"), body, flash))

    async def take(self, request: web.Request) -> web.Response:
        """ "Ambil": exactly what "Saya tangani" does in the chat (usecases.alerts.take_alert)."""
        from usecases.alerts import take_alert

        session, _, view = await self._who(request)
        self._check_csrf(request, session, await request.post())
        try:
            taken, name = await take_alert(self.app.services.deps, session.midwife_id, int(request.match_info["alert_id"]),
                                           view.now)
        except (NotAMidwife, NotYourClinic):
            raise self._refuse(request, 404, "dashboard.page.not_found", view.lang) from None
        p = "dashboard.page.alerts."
        if taken:
            session.flash = (view.t(p + "done"), False)
        elif name is None:
            session.flash = (view.t(p + "closed"), True)
        else:
            session.flash = (view.t(p + "already", midwife=name), True)
        raise web.HTTPSeeOther("/alerts")

    async def questions(self, request: web.Request) -> web.Response:
        session, _, view = await self._who(request)
        _, found = await dash_q.open_questions(self.db, session.midwife_id)
        body = pages.questions_body(view, found)
        return self._html(pages.layout(view, "questions", view.t("dashboard.page.questions.heading"), body))

    async def _milk(self, midwife_id: int) -> dict:
        from analysis.stats import milk_flow_analysis

        return milk_flow_analysis(*await clinic_scope.milk_flow_pairs(self.db, midwife_id))

    async def stats(self, request: web.Request) -> web.Response:
        from analysis.report import format_text
        from analysis.stats import quiz_analysis

        session, _, view = await self._who(request)
        mid, t = session.midwife_id, view.t
        milk = await self._milk(mid)
        quiz = quiz_analysis(*await clinic_scope.quiz_pairs(self.db, mid))
        cohort = await clinic_scope.cohort(self.db, mid, view.now)
        lost = await clinic_scope.loss_excluded(self.db, mid)
        body = pages.stats_body(
            view, cohort, format_text(milk, view.lang) if milk["n_pairs"] else None,
            t("midwife.summary.no_milk_pairs", excluded=milk["excluded"]), t("midwife.summary.caveat.text"),
            t("midwife.summary.loss_excluded", n=lost) if lost else "",
            format_text(quiz, view.lang) if quiz["n_pairs"] else None,
            t("midwife.summary.no_quiz_pairs", excluded=quiz["excluded"]))
        return self._html(pages.layout(view, "stats", t("dashboard.page.stats.heading"), body))

    async def stats_chart(self, request: web.Request) -> web.Response:
        from flows.midwife import _summary_chart  # the chat's chart, its cache and its pyplot lock

        session, _, view = await self._who(request)
        milk = await self._milk(session.midwife_id)
        if not milk["n_pairs"]:
            raise self._refuse(request, 404, "dashboard.page.not_found", view.lang)
        png = await _summary_chart(self.app.services, view.lang, milk)
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, no-store"})

    async def exports(self, request: web.Request) -> web.Response:
        _, _, view = await self._who(request)
        return self._html(pages.layout(view, "exports", view.t("dashboard.page.exports.heading"),
                                       pages.exports_body(view)))

    async def export_file(self, request: web.Request) -> web.StreamResponse:
        """The research files (`pages.EXPORT_NAMES`), the Puskesmas register (`register`) and the
        FHIR Bundle (`fhir?range=d30|d7|month`): the chat's exports (exports/), her clinic only."""
        from exports.fhir import RANGES, date_range, write_fhir_bundle
        from exports.register import write_register
        from exports.research import write_research_files

        session, _, view = await self._who(request)
        name = request.match_info["name"]
        choice = request.query.get("range", RANGES[0])
        if (name not in pages.EXPORT_NAMES and name not in ("register", "fhir")) or choice not in RANGES:
            raise self._refuse(request, 404, "dashboard.page.not_found", view.lang)
        texts = self.services.texts
        folder = Path(tempfile.mkdtemp(prefix="sn-dash-"))
        stamp = view.now.strftime("%Y%m%d-%H%M")
        try:
            try:
                if name == "register":
                    path = folder / f"register-puskesmas-{stamp}.xlsx"
                    await asyncio.to_thread(write_register, self.db.url, session.midwife_id, path, view.now, texts)
                elif name == "fhir":
                    scope = await clinic_scope.scope_of(self.db, session.midwife_id)
                    start, end = date_range(choice, view.now, scope.timezone)
                    path = folder / f"fhir-laporan-asi-{stamp}.json"
                    await asyncio.to_thread(write_fhir_bundle, self.db.url, session.midwife_id, path, start, end,
                                            view.now, texts)   # one file, however large: HTTP has no 50 MB limit
                else:
                    _, files = await asyncio.to_thread(
                        write_research_files, self.db.url, session.midwife_id, folder, stamp,
                        texts.data(view.lang, "midwife.export.columns"),
                        texts.data(view.lang, "midwife.export.columns_header"))
                    path = next(p for n, p, _ in files if n == name)
            except NotAMidwife:
                raise self._refuse(request, 403, "dashboard.page.forbidden", view.lang) from None
            xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            kind = {"xlsx": xlsx, "register": xlsx, "fhir": "application/fhir+json"}.get(
                name, "text/csv; charset=utf-8")
            response = web.StreamResponse(headers={
                "Content-Type": kind, "Content-Disposition": f'attachment; filename="{path.name}"',
                "Content-Length": str(path.stat().st_size)})
            await response.prepare(request)
            with open(path, "rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, 64 * 1024):
                    await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            shutil.rmtree(folder, ignore_errors=True)


async def start_dashboard(app) -> Dashboard:
    settings = app.services.settings
    dashboard = Dashboard(app)
    await dashboard.start(settings.dashboard_listen, settings.dashboard_port)
    app.services.dashboard = dashboard
    return dashboard


async def stop_dashboard(app) -> None:
    dashboard, app.services.dashboard = app.services.dashboard, None
    if dashboard is not None:
        await dashboard.stop()


def dashboard_of(app) -> Dashboard | None:
    return app.services.dashboard
