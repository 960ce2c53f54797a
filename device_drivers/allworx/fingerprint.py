"""Recognise Allworx devices from what probes saw (data/fingerprints.yaml + the web map's titles)."""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from device_drivers.allworx import webmap
from device_drivers.allworx.probes import PortProbe
from device_drivers.allworx.snmp import SYS_DESCR, SYS_OBJECT_ID, SnmpReading

DATA = Path(__file__).parent / "data"


@functools.cache
def _default_rules() -> dict[str, Any]:
    with open(DATA / "fingerprints.yaml", encoding="utf-8") as fh:
        rules = yaml.safe_load(fh)
    rules["http_titles"] = {**rules.get("http_titles", {}), webmap.section("phone")["title"]: "allworx_phone",
                            webmap.section("px")["title"]: "px_expander"}
    return rules


def rules(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fingerprint data, with top-level keys replaced by `overrides` (e.g. learned SIP strings)."""
    return {**_default_rules(), **(overrides or {})}


@dataclass
class HostFindings:
    address: str
    votes: Counter = field(default_factory=Counter)
    evidence: list[str] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)         # service -> port
    model: str = ""
    mac: str = ""
    snmp_port: int | None = None

    def vote(self, kind: str, why: str) -> None:
        self.votes[kind] += 1
        self.evidence.append(why)

    @property
    def is_allworx(self) -> bool:
        return bool(self.evidence)

    def kind(self) -> str | None:
        specific = {k: v for k, v in self.votes.items() if k != "allworx"}
        if not specific:
            return None
        return max(sorted(specific), key=lambda k: specific[k])


def classify_http(found: HostFindings, probe: PortProbe, data: dict[str, Any]) -> None:
    port = int(probe.port.split("/")[1])
    if probe.server != data["http_server"]:
        return
    kind = data["http_titles"].get(probe.title) or data["http_status_kind"].get(_status_code(probe.status))
    why = f"{probe.port}: {probe.banner}"
    if kind:
        found.vote(kind, why)
        found.ports["web_admin" if kind == "allworx_server" else "web"] = port
    else:
        found.vote("allworx", f"{why} (IST OIS web stack, kind unclear)")


def classify_banner(found: HostFindings, probe: PortProbe, data: dict[str, Any]) -> None:
    for service, pattern in data["mail_banners"].items():
        if re.search(pattern, probe.banner):
            found.vote("allworx_server", f"{probe.port}: {probe.banner}")
            found.ports.setdefault(service, int(probe.port.split("/")[1]))
            return


def classify_sip(found: HostFindings, probe: PortProbe, data: dict[str, Any]) -> None:
    port = int(probe.port.split("/")[1])
    for pattern, kind in data["sip_server"].items():
        if re.search(pattern, probe.server):
            found.vote(kind, f"{probe.port}: SIP Server {probe.server!r}")
            found.ports["sip"] = port
            return
    found.ports.setdefault("sip", port)       # a SIP stack answered; kept only if the host is Allworx


def classify_snmp(found: HostFindings, reading: SnmpReading, port: int, data: dict[str, Any]) -> None:
    descr, oid = reading.scalars.get(SYS_DESCR, ""), reading.scalars.get(SYS_OBJECT_ID, "")
    if oid.lstrip(".").startswith(data["snmp_enterprise"] + "."):
        found.vote("allworx", f"udp/{port}: sysObjectID {oid} (enterprise 38516 = Allworx)")
        found.snmp_port = port
    for pattern, kind in data["snmp_sysdescr"].items():
        if re.search(pattern, descr):
            found.vote(kind, f"udp/{port}: sysDescr {descr!r}")
            found.model, found.snmp_port = descr, port
            break
    macs = [m for m in reading.if_phys.values() if mac_is_allworx(m, data)]
    if macs and not found.mac:
        found.mac = macs[0]
        found.vote("allworx", f"udp/{port}: ifPhysAddress {macs[0]} (OUI 00:0A:DD)")


def mac_is_allworx(mac: str, data: dict[str, Any]) -> bool:
    return any(mac.upper().startswith(oui.upper()) for oui in data["oui"])


def arp_mac(address: str, arp_table: str = "/proc/net/arp") -> str:
    """The MAC the kernel's ARP cache holds for `address` ('' when not visible, e.g. on loopback)."""
    try:
        with open(arp_table, encoding="utf-8") as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if len(cols) >= 4 and cols[0] == address:
                    return cols[3].upper()
    except OSError:
        return ""
    return ""


def _status_code(status: str) -> int | None:
    parts = status.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
