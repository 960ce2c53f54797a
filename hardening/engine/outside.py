"""The outside vantage point: the same software in the `probe` role, asked over HTTPS with a token.

The probe checks the target against its own allow-list before sending anything (it must never become
a general-purpose scanner), and bounds the number of probes and every timeout.
"""
from __future__ import annotations

import ipaddress
from typing import Any

import requests

from device_drivers import probe

MAX_CHECKS = 64


class ProbeRefused(ValueError):
    pass


def allowed_target(target: str, allowed: list[str]) -> str:
    addr = ipaddress.ip_address(target)
    if not any(addr in ipaddress.ip_network(net) for net in allowed):
        raise ProbeRefused(f"{target} is not in this probe's allowed targets")
    return str(addr)


def run_probes(target: str, checks: list[dict[str, Any]], icmp: bool, timeout: float) -> dict[str, Any]:
    """Probe one address: TCP connect, SIP OPTIONS over connected UDP, ICMP echo; keyed 'tcp/8080'."""
    out: dict[str, Any] = {}
    for check in checks[:MAX_CHECKS]:
        key = f"{check['proto']}/{check['port']}"
        if check["proto"] == "tcp":
            out[key] = probe.tcp_connect(target, check["port"], timeout=timeout)
        else:
            out[key] = probe.sip_options(target, check["port"], timeout=timeout)
    if icmp:
        out["icmp"] = probe.icmp_echo(target, timeout=timeout)
    return out


def ask(url: str, token: str, ca: str | bool, target: str, checks: list[dict], icmp: bool = True) -> dict[str, Any]:
    """The appliance's call to the outside probe (certificate checked against `ca`)."""
    resp = requests.post(f"{url.rstrip('/')}/api/v1/probe", json={"target": target, "checks": checks, "icmp": icmp},
                         headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=30)
    resp.raise_for_status()
    return resp.json()["results"]

