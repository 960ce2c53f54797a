"""Assemble simulated devices (server, phones, Px Expanders) from a preset: services, ports, credentials."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from simulator import httpd, mail
from simulator.auth import LoginGuard
from simulator.endpoints import PxState, phone_app, px_app
from simulator.pptp import PptpResponder
from simulator.server import ServerState, ServerWebApp
from simulator.sip import SipResponder
from simulator.snmp import SnmpAgent, walk_for

# Standard ports used when a site runs on real ports. 8080 and 5060 [C]; the rest [I].
STANDARD = {"web_admin": 8080, "sip": 5060, "snmp": 161, "web": 80, "pptp": 1723}   # 1723: RFC 2637
MAIL_SERVICE = {"smtp_port": "smtp", "imap_port": "imap", "pop3_port": "pop3"}


class PortPlan:
    """Which port a service binds: its standard port, base_port + n, or 0 (ephemeral)."""

    def __init__(self, base_port: int, real_ports: bool):
        if base_port and real_ports:
            raise ValueError("choose base_port or real_ports, not both")
        if not 0 <= base_port <= 65000:
            raise ValueError(f"base_port must be 0 (ephemeral) or 1..65000, got {base_port}")
        self.base, self.real, self.used = base_port, real_ports, 0

    def take(self, standard: int) -> int:
        if self.real:
            return standard
        if not self.base:
            return 0
        self.used += 1
        return self.base + self.used - 1


@dataclass
class SimDevice:
    kind: str
    name: str
    address: str
    model: str
    ports: dict[str, int]
    credentials: Callable[[], dict[str, str]]
    web: Any
    guard: LoginGuard
    sip: SipResponder
    closers: list[Callable[[], None]] = field(default_factory=list)
    snmp_port: int | None = None
    state: Any = None
    mail: dict[str, Any] = field(default_factory=dict)
    pptp: PptpResponder | None = None      # the Allworx VPN's PPTP control channel (preset server.pptp_vpn)

    def inventory_entry(self) -> dict[str, Any]:
        entry = {"kind": self.kind, "name": self.name, "address": self.address, "wan_address": None,
                 "model": self.model, "ports": dict(self.ports), "credentials": self.credentials(),
                 "declared_facts": {}, "snmp": {}}
        if self.snmp_port is not None:
            entry["snmp"] = {"version": "2c", "port": self.snmp_port}
        return entry

    def contacts(self) -> dict[str, int]:
        """What reached this device so far: web requests, login attempts (the web UI's own and the gentle
        credential test's), SIP requests and mail connections (SNMP is not counted)."""
        return {"web_requests": self.web.requests, "logins": self.guard.attempts,
                "sip_requests": len(self.sip.requests),
                "mail_connections": sum(server.connections for server in self.mail.values())}

    def close(self) -> None:
        """Stop every listener at once: each shutdown waits for its serve loop to notice."""
        threads = [threading.Thread(target=closer, daemon=True) for closer in self.closers]
        self.closers.clear()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)


def _http(address: str, port: int, app: Any) -> tuple[int, Callable[[], None]]:
    server, _thread = httpd.serve(address, port, app)
    return server.server_address[1], lambda: httpd.stop(server)


def _sip(address: str, port: int, header: str, realm: str, latency_ms: float) -> SipResponder:
    return SipResponder(address, port, header, lambda: realm, latency_ms)


def lockout_guard(config: dict[str, Any]) -> LoginGuard:
    lock = config["lockout"]
    return LoginGuard(lock["max_failures"], lock["window_seconds"], lock["lockout_seconds"])


def build_server(config: dict[str, Any], address: str, plan: PortPlan, latency_ms: float,
                 snmp: bool) -> SimDevice:
    state = ServerState(config["server"])
    guard = lockout_guard(config)
    web = ServerWebApp(state, guard, latency_ms)
    web_port, close_web = _http(address, plan.take(STANDARD["web_admin"]), web)
    sip = _sip(address, plan.take(STANDARD["sip"]), state.sip_server_header, state.hostname, latency_ms)
    device = SimDevice("allworx_server", state.name, address, state.model, {"web_admin": web_port, "sip": sip.port},
                       lambda: {"username": state.admin_username, "password": state.admin_password,
                                "snmp_community": state.snmp_community},
                       web, guard, sip, [close_web, sip.shutdown], state=state)
    for setting, service in MAIL_SERVICE.items():
        _start_mail(device, service, plan.take(state.get(setting)), latency_ms)
    if plan.real:        # on real ports a moved mail port really moves the listener
        state.listeners.append(lambda name, old, new: _move_mail(device, name, new, latency_ms))
    if config["server"].get("pptp_vpn"):
        # 1723 on real ports; otherwise ephemeral, outside the base_port sequence (it is no inventory port)
        device.pptp = PptpResponder(address, STANDARD["pptp"] if plan.real else 0, state.hostname)
        device.closers.append(device.pptp.close)
    if snmp:
        walk = walk_for(state.software_version, state.model, latency_ms)
        agent = SnmpAgent(address, plan.take(STANDARD["snmp"]), state.snmp_community, walk)
        agent.start()
        device.snmp_port = agent.port
        device.closers.append(agent.stop)
    return device


def _start_mail(device: SimDevice, service: str, port: int, latency_ms: float) -> None:
    server = mail.serve(device.address, port, service, lambda: device.state.hostname, latency_ms)
    device.mail[service] = server
    device.ports[service] = server.server_address[1]
    device.closers.append(lambda: (server.shutdown(), server.server_close()))


def _move_mail(device: SimDevice, setting: str, port: int, latency_ms: float) -> None:
    service = MAIL_SERVICE.get(setting)
    if service is None:
        return
    old = device.mail.pop(service)
    old.shutdown()
    old.server_close()
    _start_mail(device, service, port, latency_ms)


def build_phone(config: dict[str, Any], index: int, address: str, plan: PortPlan, latency_ms: float,
                server: SimDevice) -> SimDevice:
    phones = config["phones"]
    model = phones["models"][index % len(phones["models"])]
    extension = str(phones["first_extension"] + index)
    info = {"model": model, "mac": _mac(0x10 + index), "extension": extension}
    guard = lockout_guard(config)
    password = lambda: server.state.get("phone_admin_password")   # noqa: E731 (the server's setting [I])
    web = phone_app(info, password, guard, latency_ms)
    web_port, close_web = _http(address, plan.take(STANDARD["web"]), web)
    sip = _sip(address, plan.take(STANDARD["sip"]), phones["sip_user_agent"], address, latency_ms)
    return SimDevice("allworx_phone", f"phone-{extension}", address, model, {"web": web_port, "sip": sip.port},
                     lambda: {"password": password()}, web, guard, sip, [close_web, sip.shutdown])


def build_px(config: dict[str, Any], index: int, address: str, plan: PortPlan, latency_ms: float) -> SimDevice:
    px = config["px"]
    state = PxState(px["password"])
    info = {"model": px["model"], "mac": _mac(0x80 + index)}
    guard = lockout_guard(config)
    web = px_app(info, state, guard, latency_ms)
    web_port, close_web = _http(address, plan.take(STANDARD["web"]), web)
    sip = _sip(address, plan.take(STANDARD["sip"]), px["sip_user_agent"], address, latency_ms)
    return SimDevice("px_expander", f"px-{index + 1}", address, px["model"], {"web": web_port, "sip": sip.port},
                     lambda: {"password": state.password()}, web, guard, sip, [close_web, sip.shutdown],
                     state=state)


def _mac(n: int) -> str:
    """Allworx OUI 00:0A:DD [C-3p nmap-mac-prefixes]; the rest is made up [I]."""
    return f"00:0A:DD:5E:00:{n:02X}"
