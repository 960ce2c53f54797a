"""Is this forward / port covered by the site's required WAN services? The one answer.

A site's `required_wan_services` entry is one of:
- a service name of policy `wan_services` (hardening/data/policy.yaml), matched in any case ("SIP" = "sip");
- "rtp" (any case): UDP over every range of policy `rtp_known_ranges` (the PBX media ranges the exposure
  rules also know); it is reserved, a `wan_services` entry of that name is not consulted;
- an explicit declaration "proto/ports": proto tcp, udp or tcp_udp (any case; tcp_udp = both), ports one
  port or a range lo-hi (1..65535, no leading zeros; "15511-15000" is the same range), e.g.
  "udp/15000-15511". Policy `wan_services` values use the same grammar.
Anything else is unknown: the API refuses it (`validate`); a stored entry (older data) covers nothing
and yields a note, never an exception.

Coverage is judged over the union of the required services' ranges per protocol (touching and
overlapping ranges merged): a forward is covered only when every external port of every protocol it
carries (tcp_udp / any = tcp and udp) lies inside that union. A forward of every port (external_ports
None, DMZ, 1:1 NAT) or of another protocol ("other:gre") is never covered.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from firewall.model import PortForward, PortRange
from firewall.site_context import port_ranges
from hardening.model.policy import Policy

RTP = "rtp"
PROTOS = ("tcp", "udp")
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_PROTO = r"([Tt][Cc][Pp](_[Uu][Dd][Pp])?|[Uu][Dd][Pp])"
DECLARATION = f"{_PROTO}/{_PORT}(-{_PORT})?"       # also valid as a JSON Schema (ECMA) pattern
_EXAMPLES = "proto/ports such as 'udp/5060', 'tcp/443' or 'udp/15000-15511' (proto tcp, udp or tcp_udp)"


def parse_declaration(text: Any) -> tuple[tuple[str, PortRange], ...] | None:
    """'udp/15000-15511' -> (("udp", 15000-15511),); 'TCP_UDP/5060' -> tcp and udp; None when malformed."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(DECLARATION, text)
    if match is None:
        return None
    proto, ports = text.lower().split("/", 1)
    lo, _, hi = ports.partition("-")
    rng = PortRange(min(int(lo), int(hi or lo)), max(int(lo), int(hi or lo)))
    return tuple((p, rng) for p in (PROTOS if proto == "tcp_udp" else (proto,)))


def _policy(policy: Any) -> Any:
    return Policy() if policy is None else policy


def _services(policy: Any) -> dict[str, tuple[str, Any]]:
    """lower-cased name -> (policy name, its specs), first spelling wins."""
    out: dict[str, tuple[str, Any]] = {}
    for name, specs in (_policy(policy).get("wan_services") or {}).items():
        out.setdefault(str(name).lower(), (str(name), specs))
    return out


def known_names(policy: Any = None) -> list[str]:
    """The service names a site may require: policy wan_services names and 'rtp', sorted."""
    return sorted({spelled for spelled, _ in _services(policy).values()} | {RTP})


def _rtp(policy: Any) -> tuple[tuple[str, PortRange], ...] | None:
    try:
        return tuple(("udp", rng) for rng in port_ranges(_policy(policy).get("rtp_known_ranges") or ()))
    except (TypeError, ValueError, IndexError):
        return None


def resolve(entry: Any, policy: Any = None) -> tuple[tuple[tuple[str, PortRange], ...], str | None]:
    """One required entry -> ((proto, ports), ...) and a note (None when it is fine). Never raises."""
    if isinstance(entry, str) and entry.lower() == RTP:
        ranges = _rtp(policy)
        if not ranges:
            return (), f"service {entry!r}: policy rtp_known_ranges is empty or malformed, so it covers nothing"
        return ranges, None
    if isinstance(entry, str) and "/" in entry:
        parsed = parse_declaration(entry)
        if parsed is None:
            return (), f"unknown or malformed service {entry!r}: covers nothing (declare {_EXAMPLES})"
        return parsed, None
    found = _services(policy).get(entry.lower()) if isinstance(entry, str) and entry.isascii() else None
    if found is None:
        return (), (f"unknown or malformed service {entry!r}: covers nothing (known: "
                    f"{', '.join(known_names(policy))}; or {_EXAMPLES})")
    specs = found[1] if isinstance(found[1], (list, tuple)) else [found[1]]
    parsed_specs = [parse_declaration(spec) for spec in specs]
    if not specs or any(p is None for p in parsed_specs):
        return (), (f"unknown or malformed service {entry!r}: policy wan_services.{found[0]} = {found[1]!r} is "
                    f"not a list of {_EXAMPLES}, so it covers nothing")
    return tuple(pair for parsed in parsed_specs for pair in parsed), None


def validation_error(entry: Any, policy: Any = None) -> str | None:
    """Why the API must refuse this entry (None when it is a known service or a valid declaration)."""
    if isinstance(entry, str) and "/" in entry:
        if parse_declaration(entry) is None:
            return (f"{entry!r} in required_wan_services is not a valid declaration: use {_EXAMPLES}, "
                    "ports 1-65535 without leading zeros")
        return None
    if isinstance(entry, str) and entry.isascii() and (entry.lower() == RTP or entry.lower() in _services(policy)):
        return None
    return (f"unknown service {entry!r} in required_wan_services: use one of {', '.join(known_names(policy))}, "
            f"or {_EXAMPLES}")


def validate(entries: Iterable[Any], policy: Any = None) -> list[str]:
    """Every refusal for a list of entries ([] = all fine)."""
    return [why for entry in entries if (why := validation_error(entry, policy)) is not None]


def schema_pattern(policy: Any = None) -> str:
    """A JSON Schema pattern admitting exactly what `validation_error` accepts: the known names (any
    case) and the declarations."""
    def one(c: str) -> str:
        return f"[{c.lower()}{c.upper()}]" if c.isalpha() else c if c.isdigit() or c in "_-" else re.escape(c)

    def any_case(name: str) -> str:
        return "".join(one(c) for c in name)
    names = "|".join(any_case(n) for n in known_names(policy))
    return f"^({names})$|^{DECLARATION}$"


def merge(ranges: Iterable[PortRange]) -> tuple[PortRange, ...]:
    """Overlapping or touching ranges joined (16384-16393 + 16394-16403 = 16384-16403)."""
    merged: list[PortRange] = []
    for rng in sorted(ranges, key=lambda r: r.lo):
        if merged and rng.lo <= merged[-1].hi + 1:
            merged[-1] = PortRange(merged[-1].lo, max(merged[-1].hi, rng.hi))
        else:
            merged.append(rng)
    return tuple(merged)


def _overlaps(a: PortRange, b: PortRange) -> bool:
    return a.lo <= b.hi and b.lo <= a.hi


@dataclass(frozen=True)
class Coverage:
    covered: bool
    services: tuple[str, ...]          # required entries (as the site wrote them) whose ports are touched
    notes: tuple[str, ...] = ()        # unknown or malformed entries, which cover nothing

    @property
    def label(self) -> str | None:
        """The covering services as one string ('sip, rtp'), None when not covered."""
        return ", ".join(self.services) if self.covered else None


class RequiredServices:
    """The site's required WAN services resolved against a policy: ask it about forwards and ports."""

    def __init__(self, entries: Iterable[Any], policy: Any = None):
        self.entries: list[tuple[str, tuple[tuple[str, PortRange], ...]]] = []
        notes = []
        for entry in entries or ():
            ranges, note = resolve(entry, policy)
            self.entries.append((str(entry), ranges))
            notes += [note] if note else []
        self.notes = tuple(notes)
        self.union = {proto: merge(rng for _, pairs in self.entries for p, rng in pairs if p == proto)
                      for proto in PROTOS}

    def covers(self, proto: str, ranges: Iterable[PortRange]) -> bool:
        """Every port of `ranges` inside the union for `proto` ('tcp' or 'udp')."""
        wanted = self.union.get(proto, ())
        return all(any(r.lo <= rng.lo and rng.hi <= r.hi for r in wanted) for rng in ranges)

    def touching(self, protos: Iterable[str], ranges: list[PortRange] | None) -> tuple[str, ...]:
        """The entries whose ports meet `ranges` (None = every port) on any of `protos`, in the site's order."""
        protos = tuple(protos)
        return tuple(dict.fromkeys(
            name for name, pairs in self.entries for p, svc in pairs
            if p in protos and (ranges is None or any(_overlaps(svc, rng) for rng in ranges))))

    def forward(self, fwd: PortForward) -> Coverage:
        """Is this forward covered (see the module docstring)? `services` also names partial overlaps."""
        protos = forward_protos(fwd)
        ports = fwd.external_ports
        if not protos:
            return Coverage(False, (), self.notes)
        touched = self.touching(protos, ports)
        covered = bool(ports) and all(self.covers(p, ports) for p in protos)
        return Coverage(covered, touched if ports is not None else (), self.notes)

    def port(self, proto: str, port: int) -> Coverage:
        """Is one observed open port ('tcp' or 'udp', number) covered?"""
        proto = str(proto).lower()
        if proto not in PROTOS or not isinstance(port, int) or not 0 < port < 65536:
            return Coverage(False, (), self.notes)
        rng = [PortRange(port, port)]
        return Coverage(self.covers(proto, rng), self.touching((proto,), rng), self.notes)


def forward_protos(fwd: PortForward) -> tuple[str, ...]:
    """The protocols a forward carries, as the matcher counts them: tcp_udp / any = both; other: none."""
    if fwd.proto in ("tcp_udp", "any"):
        return PROTOS
    return (fwd.proto,) if fwd.proto in PROTOS else ()


def required_services(entries: Iterable[Any], policy: Any = None) -> RequiredServices:
    return RequiredServices(entries, policy)
