"""The common skeleton of a simulated IST OIS web UI: login, sessions, lockout, settings forms."""
from __future__ import annotations

import threading
from html import escape
from typing import Any, Callable

from device_drivers.allworx import webmap
from device_drivers.allworx.webmap import WebMap
from simulator import html
from simulator.auth import LoginGuard, Sessions, handle_login
from simulator.httpd import Request, Response, bare_403, redirect


class OisWebApp:
    """Routes: login/logout, public pages, then a bare 403 for anything else without a session."""

    title = "Allworx"
    raw_title = False

    def __init__(self, login: dict[str, Any], guard: LoginGuard, latency_ms: float = 0.0):
        self.login = login
        self.guard = guard
        self.sessions = Sessions(login["cookie"])
        self.latency_ms = latency_ms
        self.fault: str | None = None
        self.requests = 0                 # every request this UI handled, for tests (what an audit contacted)
        self._count = threading.Lock()

    # subclasses fill these in
    def accepts(self, form: dict[str, str]) -> bool:
        raise NotImplementedError

    def landing(self) -> str:
        raise NotImplementedError

    def public(self, request: Request) -> Response | None:
        return None

    def private(self, request: Request) -> Response | None:
        return None

    def handle(self, request: Request) -> Response:
        with self._count:
            self.requests += 1
        if request.path == self.login["path"]:
            if request.method == "POST":
                return handle_login(self.guard, self.sessions, self.accepts(request.form), self.login_page,
                                    self.login["failure_text"], self.landing())
            return Response(200, self.login_page(""))
        if request.path == "/logout":
            self.sessions.drop(request)
            return redirect(self.login["path"])
        response = self.public(request)
        if response is not None:
            return response
        if not self.sessions.valid(request):
            return bare_403()            # [C-3p] nmap: bare 403 + Server: IST OIS
        return self.private(request) or Response(404, html.page("Not Found", "<p>Not Found</p>"))

    def login_fields(self) -> list[tuple[str, str]]:
        fields = [(self.login["password_field"], "password")]
        if self.login.get("username_field"):
            fields.insert(0, (self.login["username_field"], "text"))
        return fields

    def login_page(self, note: str) -> str:
        return html.page(self.title, html.login_form(self.login["path"], self.login_fields(), note),
                         raw_title=self.raw_title)


class SettingsPages:
    """GET renders a page's settings from the web map; POST validates and stores the whole form."""

    def __init__(self, site_map: WebMap, read: Callable[[], dict[str, Any]],
                 write: Callable[[dict[str, Any]], str | None], title: str):
        self.map, self.read, self.write, self.title = site_map, read, write, title

    def route(self, request: Request) -> Response | None:
        page_name = self.map.page_for_path(request.path)
        if page_name is None:
            return None
        if request.method == "POST":
            note = self._apply(page_name, request.form)
            if not note:
                return redirect(request.path)
            return Response(200, self.render(page_name, note))
        return Response(200, self.render(page_name, ""))

    def render(self, page_name: str, note: str) -> str:
        page = self.map.pages[page_name]
        body = f"<h1>{escape(page['menu'])}</h1>" + html.settings_form(page["path"], self.map.page_settings(page_name),
                                                               self.read(), note)
        return html.page(self.title, body)

    def _apply(self, page_name: str, form: dict[str, str]) -> str:
        """Returns an error note, or '' when stored. Unchecked boxes are absent: HTML semantics."""
        changes: dict[str, Any] = {}
        for setting in self.map.page_settings(page_name):
            try:
                changes[setting.name] = webmap.decode(setting, form)
            except webmap.WebMapError as exc:
                return f"Invalid value: {exc}"
            if setting.is_secret and not changes[setting.name]:
                return f"Invalid value: {setting.label} must not be empty"
        return self.write(changes) or ""
