"""The simulated Allworx server: its configuration state and its web admin (TCP 8080 by default)."""
from __future__ import annotations

import copy
import secrets
import threading
from html import escape
from typing import Any, Callable

from device_drivers.allworx import webmap
from simulator import html
from simulator.auth import LoginGuard
from simulator.httpd import Request, Response
from simulator.webapp import OisWebApp, SettingsPages

MAIL_SETTINGS = ("smtp_port", "imap_port", "pop3_port")
# The password-recovery page of some 6x releases [C-3p] (github billchaison/Alldorx README and screenshot;
# allworx-reference.md section 8): the admin UI links to lostPass.asp, an unauthenticated form that shows
# a "Security Key" and a "System Unique ID" and takes a Reset Code plus a new password. Releases affected,
# markup and the values' format are [U]: the values here are random, and no reset code is ever accepted.
LOST_PASS_PATH = "/lostPass.asp"

Listener = Callable[[str, Any, Any], None]


class ServerState:
    """Configuration shared by the web admin, mail, SIP and SNMP services of one server."""

    def __init__(self, config: dict[str, Any]):
        self.name = config["name"]
        self.model = config["model"]
        self.software_version = str(config["software_version"])
        self.hostname = config["hostname"]
        self.admin_username = config["admin"]["username"]
        self.admin_password = config["admin"]["password"]
        self.snmp_community = config["snmp_community"]
        self.sip_server_header = config["sip_server_header"]
        self.lost_password_page = bool(config.get("lost_password_page", False))
        self.security_key = secrets.token_hex(8).upper()          # [U] format; shown on the recovery page
        self.system_unique_id = secrets.token_hex(6).upper()      # [U] format
        self.map = webmap.for_version(self.software_version)
        self._settings = copy.deepcopy(config["settings"])
        self._lock = threading.Lock()
        self.listeners: list[Listener] = []

    def get(self, name: str) -> Any:
        with self._lock:
            return copy.deepcopy(self._settings[name])

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._settings)

    def update(self, changes: dict[str, Any]) -> str | None:
        """Store changes (all or none); returns an error note when the device would refuse them."""
        with self._lock:
            merged = {**self._settings, **changes}
            ports = [merged[k] for k in MAIL_SETTINGS]
            if len(set(ports)) != len(ports):
                return "Invalid value: the SMTP, IMAP and POP3 ports must differ"   # [I]
            old = self._settings
            self._settings = merged
        for name, value in changes.items():
            if old.get(name) != value:
                for listener in self.listeners:
                    listener(name, old.get(name), value)
        return None


class ServerWebApp(OisWebApp):
    """Login form, Home > About, and one page per web-map page of the server's software line."""

    title = "Allworx System Administration"    # [U] real title unknown

    def __init__(self, state: ServerState, guard: LoginGuard, latency_ms: float = 0.0):
        self.common = webmap.common()
        super().__init__(self.common["login"], guard, latency_ms)
        self.state = state
        self.pages = SettingsPages(state.map, state.snapshot, state.update, self.title)
        self.recovery_requests: list[tuple[str, str]] = []      # (method, client) of every lostPass.asp request

    def accepts(self, form: dict[str, str]) -> bool:
        return (form.get(self.login["username_field"]) == self.state.admin_username
                and form.get(self.login["password_field"]) == self.state.admin_password)

    def landing(self) -> str:
        return self.common["about"]["path"]

    def public(self, request: Request) -> Response | None:
        # even "/" is a bare 403 without a session [C-3p] nmap line 9221; lostPass.asp (where served) is not
        if request.path != LOST_PASS_PATH or not self.state.lost_password_page:
            return None
        self.recovery_requests.append((request.method, request.client))
        note = "The reset code is not valid." if request.method == "POST" else ""    # never checked, never reset
        cells = html.cells({"Security Key": self.state.security_key,
                            "System Unique ID": self.state.system_unique_id})
        form = html.login_form(LOST_PASS_PATH, [("Reset Code", "text"), ("New Password", "password")], note)
        return Response(200, html.page(self.title, f"<h1>Lost Password</h1>{cells}{form}"))

    def login_page(self, note: str) -> str:
        page = super().login_page(note)
        if not self.state.lost_password_page:
            return page
        return page.replace("</body>", f'<p><a href="{LOST_PASS_PATH[1:]}">Lost password?</a></p></body>')

    def private(self, request: Request) -> Response | None:
        about = self.common["about"]
        if request.path == about["path"]:
            ids = about["ids"]
            body = f"<h1>{escape(about['menu'])}</h1>" + html.cells(
                {ids["software_version"]: self.state.software_version, ids["model"]: self.state.model})
            return Response(200, html.page(self.title, body))
        return self.pages.route(request)
