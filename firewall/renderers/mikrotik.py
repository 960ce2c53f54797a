"""MikroTik RouterOS: `remove` / `set` of the rule found by every attribute of its export line, and
the SIP helper off.

The rule's line is read the way the router reads it (string escapes decoded, firewall.parsers._routeros_words) and every
value goes back as a RouterOS string literal, so a comment such as `"] ; /user add ...` stays a
comment; a line holding script (variables, substitutions, separators) is refused, not guessed at.
"""
from __future__ import annotations

import hashlib
import re

from firewall.model import PortForward, RouterConfig
from firewall.parsers._routeros_words import routeros_words
from firewall.renderers._quote import (
    Unrenderable,
    refuse,
    routeros_key,
    routeros_string,
    source_network,
)

KEYS = ("chain", "action", "protocol", "dst-port", "dst-address", "dst-address-list", "dst-address-type",
        "in-interface", "in-interface-list", "src-address", "src-address-list", "to-addresses", "to-ports",
        "comment")
_PRINT_HEAD = re.compile(r"^\s*\d+\s+[A-Z*]*\s*")
SIP_HELPER_OFF = "/ip firewall service-port set sip disabled=yes"


def _command_text(text: str) -> str:
    """One rule's words on one line: a `print` entry loses its number, flags and `;;;` comment line."""
    head = _PRINT_HEAD.match(text)
    if head and not text.lstrip().startswith(("add", "/")):
        first, _, rest = text[head.end():].partition("\n")
        return " ".join(([] if first.startswith(";;;") else [first]) + rest.split("\n"))
    joined = re.sub(r"\\\r?\n[ \t]*", "", text)
    if "\n" in joined.strip() or "\r" in joined:
        refuse("RouterOS export line", text, "it holds more than one command")
    return joined


def attributes(fwd: PortForward) -> dict[str, str]:
    """The rule's attributes as the router holds them."""
    text = fwd.source_ref.text
    try:
        words = routeros_words(_command_text(text))
    except ValueError as exc:
        refuse("RouterOS rule line", text, f"not read as plain attributes ({exc})")
    attrs: dict[str, str] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if equals and key in attrs:
            refuse("RouterOS rule line", text, f"attribute {key} given twice")
        if equals:
            attrs[key] = value
    if attrs.get("action") != "dst-nat":
        raise Unrenderable(f"not a dst-nat export line: {text!r}")
    if fwd.kind == "upnp_dynamic":
        raise Unrenderable(f"dynamic (UPnP) rule {text!r}: RouterOS does not let a dynamic rule be changed; "
                           "turn UPnP off or remove the mapping on the host that made it")
    return attrs


def find(attrs: dict[str, str]) -> str:
    where = " ".join(f"{routeros_key(k)}={routeros_string(attrs[k])}" for k in KEYS if k in attrs)
    return f"[find where {where}]"


def render_removal(forwards: list[PortForward]) -> list[str]:
    return [f"/ip firewall nat remove {find(attributes(fwd))}" for fwd in forwards]


def address_list_name(fwd: PortForward, networks: list[str]) -> str:
    """A list only this restriction uses (named by the rule and its sources), so no one else's entries join it."""
    digest = hashlib.sha256("\n".join([fwd.source_ref.text, *networks]).encode("utf-8", "surrogateescape"))
    return f"awxh-src-{digest.hexdigest()[:12]}"


def _restrict(fwd: PortForward, sources: list[str]) -> list[str]:
    attrs = attributes(fwd)
    networks = list(dict.fromkeys(str(source_network(s)) for s in sources))    # a repeated entry is an error there
    if not networks:
        refuse("source networks", sources, "no source at all would shut the forward; remove it instead")
    if len(networks) == 1:
        unset = " !src-address-list" if "src-address-list" in attrs else ""
        change = f"src-address={routeros_string(networks[0])}{unset}"
        return [f"/ip firewall nat set {find(attrs)} {change}"]
    name = routeros_string(address_list_name(fwd, networks))
    members = [f"/ip firewall address-list add list={name} address={routeros_string(n)}" for n in networks]
    change = f"src-address-list={name}" + (" !src-address" if "src-address" in attrs else "")
    return members + [f"/ip firewall nat set {find(attrs)} {change}"]


def render_restrict(restrictions: list[tuple[PortForward, list[str]]]) -> list[str]:
    """One source: `src-address`; several: a new address-list and `src-address-list`; the other
    source match is unset (`!name`), since RouterOS would require both."""
    return [line for fwd, sources in restrictions for line in _restrict(fwd, sources)]


def render_helper_removal(config: RouterConfig) -> list[str]:
    return [] if config.sip_alg.enabled is False else [SIP_HELPER_OFF]
