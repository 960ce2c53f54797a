"""The web admin channel (http.client): login session, reading settings through the web map, writing them.

Plain http.client rather than requests: an audit reads a hundred devices at once in one process, and
requests' per-request work was most of the appliance's CPU in bench/site_audit.py (IST OIS speaks
HTTP/1.0, one connection per request, one session cookie: nothing requests adds is needed here).
"""
from __future__ import annotations

import http.client
import socket
import ssl
from http.cookies import CookieError, SimpleCookie
from typing import Any, Iterable
from urllib.parse import urlencode, urlsplit

from device_drivers.allworx import webmap
from device_drivers.allworx.errors import (
    AuthFailed,
    ChangeRejected,
    ChannelError,
    ChannelTimeout,
    Garbled,
    LockedOut,
    Unreachable,
)
from device_drivers.allworx.forms import ParsedPage, parse
from device_drivers.allworx.webmap import Setting, WebMap
from device_drivers.facts import Fact, Secret

MAX_REDIRECTS = 5
MAX_BODY = 2 * 1024 * 1024          # an admin page is a few kB; a device streaming more is not trusted
USER_AGENT = "allworx-hardening"


class WebClient:
    """One HTTP session to one device; every failure becomes a ChannelError naming its reason."""

    def __init__(self, address: str, port: int, timeout: float, lockout_signs: Iterable[str] = (),
                 scheme: str = "http"):
        if scheme not in ("http", "https"):
            raise ValueError(f"scheme must be http or https, got {scheme!r}")
        self.address, self.port, self.scheme = address, port, scheme
        host = f"[{address}]" if ":" in address else address
        self.base = f"{scheme}://{host}:{port}"
        self.timeout = timeout
        self.lockout_signs = [s.lower() for s in lockout_signs]
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.cookies.clear()             # nothing else is held: every request has its own connection

    def fetch(self, path: str, data: dict[str, str] | None = None) -> tuple[ParsedPage, str]:
        """GET (or POST when data is given) a page, following redirects; returns (parsed, text)."""
        method, body = ("POST", urlencode(data)) if data is not None else ("GET", None)
        for _ in range(MAX_REDIRECTS + 1):
            status, location, text = self._request(method, path, body)
            if status in (301, 302, 303, 307, 308) and location:
                path = self._same_device(path, location)
                if status in (301, 302, 303):
                    method, body = "GET", None
                continue
            if status == 403:
                raise AuthFailed(f"403 Forbidden on {path} (no valid session)")
            if status >= 400:
                raise ChannelError(f"HTTP {status} on {path}")
            return parse(text), text
        raise ChannelError(f"{self.base}{path}: more than {MAX_REDIRECTS} redirects")

    def _request(self, method: str, path: str, body: str | None) -> tuple[int, str, str]:
        url = self.base + path
        conn = self._connection()
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(MAX_BODY + 1)
        except (socket.timeout, TimeoutError):
            raise ChannelTimeout(f"no answer from {url} within {self.timeout:g}s") from None
        except ConnectionRefusedError:
            raise Unreachable(f"{url}: Connection refused") from None
        except (ConnectionResetError, http.client.RemoteDisconnected):
            raise Unreachable(f"{url}: Connection reset") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ChannelError(f"{url}: {_short(exc)}") from None
        finally:
            conn.close()
        if len(raw) > MAX_BODY:
            raise Garbled(f"{url}: answer larger than {MAX_BODY // 1024} kB")
        self._keep_cookies(resp.msg.get_all("Set-Cookie") or [])
        charset = resp.msg.get_content_charset() or "utf-8"
        try:
            text = raw.decode(charset, "replace")
        except LookupError:
            text = raw.decode("utf-8", "replace")
        return resp.status, resp.getheader("Location", ""), text

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.address, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)

    def _same_device(self, current: str, location: str) -> str:
        """A redirect's path; a redirect to another host or port is refused, never followed."""
        parts = urlsplit(location)
        if parts.netloc and (parts.hostname != self.address or (parts.port or self.port) != self.port):
            raise ChannelError(f"{self.base}{current}: redirect to another host ({parts.netloc}) not followed")
        path = parts.path or "/"
        if not path.startswith("/"):
            path = current.rsplit("/", 1)[0] + "/" + path
        return path + (f"?{parts.query}" if parts.query else "")

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            jar = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue                 # a malformed cookie is no session: the login then reads as refused
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel.value == "" and morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def try_login(self, login: dict[str, Any], password: str, username: str | None = None) -> str:
        """One login attempt: 'ok', 'bad' or 'locked' (a lockout sign in the answer)."""
        form = {login["password_field"]: password}
        if login.get("username_field"):
            form[login["username_field"]] = username or ""
        self.cookies.clear()
        try:
            _page, text = self.fetch(login["path"], form)
        except AuthFailed:
            return "bad"                        # an IST OIS bare 403 on the landing page
        if self.cookies.get(login["cookie"]):
            return "ok"
        lowered = text.lower()
        return "locked" if any(sign in lowered for sign in self.lockout_signs) else "bad"

    def login(self, login: dict[str, Any], password: str, username: str | None = None) -> None:
        verdict = self.try_login(login, password, username)
        if verdict == "locked":
            raise LockedOut(f"{self.base}{login['path']} answered with a lockout message")
        if verdict == "bad":
            raise AuthFailed(f"login rejected at {self.base}{login['path']}")


def _short(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "RemoteDisconnected", "Connection reset",
                   "Connection aborted", "Name or service not known"):
        if marker in text:
            return marker
    return text[:160]


def about(client: WebClient) -> tuple[str, str, str]:
    """(software_version, model, source) from Home > About."""
    cfg = webmap.common()["about"]
    page, _text = client.fetch(cfg["path"])
    version, model = page.ids.get(cfg["ids"]["software_version"]), page.ids.get(cfg["ids"]["model"])
    if not version:
        raise Garbled(f"{cfg['path']} ({cfg['menu']}) shows no software version")
    return version.strip(), (model or "").strip(), f"http:{cfg['path']}"


def read_settings(client: WebClient, site_map: WebMap) -> tuple[dict[str, Fact], list[ChannelError]]:
    """Every setting of the map as a device fact; problems per page are returned, not raised."""
    facts: dict[str, Fact] = {}
    problems: list[ChannelError] = []
    for page_name, page in site_map.pages.items():
        try:
            parsed, _text = client.fetch(page["path"])
        except ChannelError as exc:
            problems.append(exc)
            continue
        for setting in site_map.page_settings(page_name):
            try:
                value = webmap.decode(setting, parsed.values, parsed.fields)
            except webmap.WebMapError as exc:
                problems.append(Garbled(str(exc)))
                continue
            facts[setting.name] = Fact(_wrap(setting, value), "device", _source(setting),
                                       _excerpt(setting, parsed.values))
    return facts, problems


def write_setting(client: WebClient, setting: Setting, value: Any, dry_run: bool = False) -> dict[str, Any]:
    """Change one setting by re-submitting its whole page; returns before/after as read from the device."""
    encoded = webmap.encode(setting, value)          # bad values stop here, before any request
    parsed, _text = client.fetch(setting.path)
    before = _decode(setting, parsed)
    result = {"setting": setting.name, "before": _wrap(setting, before), "menu": setting.manual_step(),
              "source": _source(setting), "dry_run": dry_run}
    if dry_run:
        return {**result, "after": _wrap(setting, _merge(before, value)), "changed": _merge(before, value) != before}
    form = dict(parsed.values)
    for field, text in encoded.items():
        if text is None:
            form.pop(field, None)
        else:
            form[field] = text
    reply, _text = client.fetch(setting.path, form)
    after = _decode(setting, reply)
    if after != _merge(before, value):
        note = "; ".join(m for m in reply.messages if m) or "the page still shows another value"
        raise ChangeRejected(f"{setting.name} on {setting.path}: {note}")
    return {**result, "after": _wrap(setting, after), "changed": after != before}


def combined(problems: list[ChannelError]) -> ChannelError:
    """One error for several: the shared reason when they agree, else each with its own."""
    kinds = {type(p) for p in problems}
    if len(kinds) == 1:
        return kinds.pop()("; ".join(p.detail for p in problems))
    return ChannelError("; ".join(str(p) for p in problems))


def _decode(setting: Setting, page: ParsedPage) -> Any:
    try:
        return webmap.decode(setting, page.values, page.fields)
    except webmap.WebMapError as exc:
        raise Garbled(str(exc)) from None


def _merge(before: Any, value: Any) -> Any:
    """A checkbox group may be written in part: the other services keep their state."""
    if isinstance(before, dict):
        return {**before, **value}
    return value.reveal() if isinstance(value, Secret) else value


def _wrap(setting: Setting, value: Any) -> Any:
    return Secret(value) if setting.is_secret else value


def _source(setting: Setting) -> str:
    return f"http:{setting.path} ({setting.manual_step()})"


def _excerpt(setting: Setting, values: dict[str, str]) -> str:
    if setting.is_secret:
        return f"{setting.field}=***"
    return " ".join(f"{f}={values.get(f, '(unchecked)')}" for f in setting.fields())
