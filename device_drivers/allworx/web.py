"""The web admin channel (requests): login session, reading settings through the web map, writing them."""
from __future__ import annotations

from typing import Any, Iterable

import requests

from device_drivers.allworx import webmap
from device_drivers.allworx.errors import AuthFailed, ChangeRejected, ChannelError, ChannelTimeout, Garbled, \
    LockedOut, Unreachable
from device_drivers.allworx.forms import ParsedPage, parse
from device_drivers.allworx.webmap import Setting, WebMap
from hardening.facts import Fact, Secret


class WebClient:
    """One HTTP session to one device; every failure becomes a ChannelError naming its reason."""

    def __init__(self, address: str, port: int, timeout: float, lockout_signs: Iterable[str] = (),
                 scheme: str = "http"):
        self.base = f"{scheme}://{address}:{port}"
        self.timeout = timeout
        self.lockout_signs = [s.lower() for s in lockout_signs]
        self.session = requests.Session()
        self.session.trust_env = False          # never send device traffic through an env proxy

    def close(self) -> None:
        self.session.close()

    def fetch(self, path: str, data: dict[str, str] | None = None) -> tuple[ParsedPage, str]:
        """GET (or POST when data is given) a page, following redirects; returns (parsed, text)."""
        url = self.base + path
        try:
            resp = self.session.request("POST" if data is not None else "GET", url, data=data,
                                        timeout=self.timeout)
        except requests.Timeout:
            raise ChannelTimeout(f"no answer from {url} within {self.timeout:g}s") from None
        except requests.ConnectionError as exc:
            raise Unreachable(f"{url}: {_short(exc)}") from None
        except requests.RequestException as exc:
            raise ChannelError(f"{url}: {_short(exc)}") from None
        if resp.status_code == 403:
            raise AuthFailed(f"403 Forbidden on {path} (no valid session)")
        if resp.status_code >= 400:
            raise ChannelError(f"HTTP {resp.status_code} on {path}")
        return parse(resp.text), resp.text

    def try_login(self, login: dict[str, Any], password: str, username: str | None = None) -> str:
        """One login attempt: 'ok', 'bad' or 'locked' (a lockout sign in the answer)."""
        form = {login["password_field"]: password}
        if login.get("username_field"):
            form[login["username_field"]] = username or ""
        self.session.cookies.clear()
        try:
            _page, text = self.fetch(login["path"], form)
        except AuthFailed:
            return "bad"                        # an IST OIS bare 403 on the landing page
        if self.session.cookies.get(login["cookie"]):
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
