"""Simulated phone (92xx / Verge) and Px Expander web UIs; layout [U], title and Server header [C-3p]."""
from __future__ import annotations

import threading
from typing import Any, Callable

from device_drivers.allworx import webmap
from simulator import html
from simulator.auth import LoginGuard
from simulator.httpd import Request, Response
from simulator.webapp import OisWebApp, SettingsPages


class EndpointWebApp(OisWebApp):
    """A status page anyone may read (nmap reads its title from GET /) and a password-only admin login."""

    def __init__(self, kind: str, info: dict[str, str], password: Callable[[], str], guard: LoginGuard,
                 latency_ms: float = 0.0, pages: SettingsPages | None = None):
        self.section = webmap.section(kind)
        super().__init__(self.section["login"], guard, latency_ms)
        self.title = self.section["title"]
        self.raw_title = True          # the phone title holds literal &nbsp; entities
        self.info = info
        self.password = password
        self.pages = pages

    def accepts(self, form: dict[str, str]) -> bool:
        return form.get(self.login["password_field"]) == self.password()

    def landing(self) -> str:
        return self.section["admin_path"]

    def public(self, request: Request) -> Response | None:
        if request.path != self.section["status_path"]:
            return None
        ids = self.section["ids"]
        body = html.cells({ids["model"]: self.info["model"], ids["mac"]: self.info["mac"]}) + \
            f"<a href=\"{self.login['path']}\">Administration</a>"
        return Response(200, html.page(self.title, body, raw_title=True))

    def private(self, request: Request) -> Response | None:
        if request.path == self.section["admin_path"]:
            body = html.cells({key: value for key, value in self.info.items()})
            return Response(200, html.page(self.title, body, raw_title=True))
        return self.pages.route(request) if self.pages else None


class PxState:
    """A Px Expander's own admin password (changed through its web UI)."""

    def __init__(self, password: str):
        self._password = password
        self._lock = threading.Lock()

    def password(self) -> str:
        with self._lock:
            return self._password

    def snapshot(self) -> dict[str, Any]:
        return {"admin_password": self.password()}

    def update(self, changes: dict[str, Any]) -> str | None:
        with self._lock:
            self._password = changes.get("admin_password", self._password)
        return None


def phone_app(info: dict[str, str], password: Callable[[], str], guard: LoginGuard,
              latency_ms: float = 0.0) -> EndpointWebApp:
    return EndpointWebApp("phone", info, password, guard, latency_ms)


def px_app(info: dict[str, str], state: PxState, guard: LoginGuard, latency_ms: float = 0.0) -> EndpointWebApp:
    section = webmap.section("px")
    pages = SettingsPages(webmap.for_section("px"), state.snapshot, state.update, section["title"])
    return EndpointWebApp("px", info, state.password, guard, latency_ms, pages)
