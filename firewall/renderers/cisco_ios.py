"""Cisco IOS: the `no` form of the exact running-config NAT line, the SIP ALG off, and a refusal to
restrict a static NAT to sources (IOS NAT cannot express it).

A running-config line goes back to the router only when every token is a plain IOS word and the
line, read again by the project's IOS parser, is the very forward being removed and nothing else.
"""
from __future__ import annotations

from firewall.model import PortForward, RouterConfig
from firewall.renderers._quote import Unrenderable, ios_tokens, refuse, source_network

_ENTER, _LEAVE = ["configure terminal"], ["end", "write memory"]
SIP_ALG_OFF = ["no ip nat service sip udp port 5060", "no ip nat service sip tcp port 5060"]


def _identity(fwd: PortForward) -> tuple:
    return (fwd.kind, fwd.proto, fwd.internal_ip, fwd.external_ip, fwd.external_if,
            str(fwd.external_ports), str(fwd.internal_ports))


def static_line(fwd: PortForward) -> str:
    """The forward's own `ip nat inside source static` line, checked token by token and by re-reading."""
    from firewall.parsers import parse
    text = fwd.source_ref.text.strip()
    if not text.startswith("ip nat inside source static"):
        raise Unrenderable(f"IOS forward without its running-config line: {text!r} (read show running-config)")
    ios_tokens(text, "IOS running-config line")
    again = parse("cisco_ios", {"show running-config": text})
    if again.warnings or again.unparsed or [_identity(f) for f in again.forwards] != [_identity(fwd)]:
        refuse("IOS running-config line", text, "read again, it is not exactly this forward")
    return text


def render_removal(forwards: list[PortForward]) -> list[str]:
    return _ENTER + [f"no {static_line(fwd)}" for fwd in forwards] + _LEAVE


def render_restrict(restrictions: list[tuple[PortForward, list[str]]]) -> list[str]:
    """Always refused: a route-map or ACL on `ip nat inside source static` is consulted for traffic
    the inside starts, and Cisco's outside-to-inside route-map support excludes port translation,
    so IOS NAT cannot limit who reaches a static forward."""
    for fwd, sources in restrictions:
        networks = ", ".join(str(source_network(s)) for s in sources)
        line = fwd.source_ref.text.strip() or fwd.source_ref.rule_id
        outside = fwd.external_if or fwd.external_ip or "the outside interface"
        raise Unrenderable(
            f"IOS cannot limit the static NAT {line!r} to sources {networks}: NAT matches no source for "
            f"traffic started outside. Do it by hand with an extended ACL inbound on {outside} that permits "
            f"{fwd.proto} from {networks} to the forwarded port and denies it from everyone else, keeping "
            "every other permit that interface needs; or remove the forward")
    return []


def render_helper_removal(config: RouterConfig) -> list[str]:
    """Both `no ip nat service sip` lines (each is idempotent), unless the config shows both off."""
    if config.sip_alg.enabled is False:
        return []
    return _ENTER + SIP_ALG_OFF + _LEAVE
