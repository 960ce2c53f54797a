"""Quoting (or refusal) of every value a renderer puts into a device command, per platform.

A value read from a device (a comment a LAN host planted through UPnP, an interface name) or given
through the API reaches a command only through these functions: quoted by the platform's own
rules, or refused with Unrenderable naming the field. Sources of the rules:
- RouterOS: the scripting manual's string escapes (\\" \\\\ \\n \\r \\t \\$ \\? \\_ and \\XX, two upper-case
  hex digits, one byte); `;` ends a command and `[...]` substitutes one, `$` interpolates a variable,
  `?` asks for help in the console - all inert inside a string once `"`, `\\`, `$` and `?` are escaped.
- Vyatta/EdgeOS/VyOS: configure-mode lines go through vbash, so a value is single-quoted (no
  expansion inside); a single quote cannot be written inside one, and no control character is sent.
- IOS: no quoting for NAT tokens, and the CLI acts on `?` (help), Tab and control characters as it
  reads them, so only plain tokens pass.
"""
from __future__ import annotations

import ipaddress
import re
from typing import NoReturn


class Unrenderable(ValueError):
    pass


def refuse(field: str, value: object, why: str) -> NoReturn:
    raise Unrenderable(f"{field} {value!r}: {why}; the plan is refused rather than sent with it")


# ---- RouterOS --------------------------------------------------------------------------------

_ROS_ESCAPES = {'"': '\\"', "\\": "\\\\", "$": "\\$", "?": "\\?", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ROS_KEY = re.compile(r"[a-z][a-z0-9-]*")

def routeros_string(value: str) -> str:
    """A RouterOS string literal for `value`; non-ASCII text goes as its UTF-8 bytes in \\XX form."""
    out = []
    for byte in value.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        if char in _ROS_ESCAPES:
            out.append(_ROS_ESCAPES[char])
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:02X}")
    return '"' + "".join(out) + '"'


def routeros_key(key: str) -> str:
    if not _ROS_KEY.fullmatch(key):
        refuse("RouterOS attribute name", key, "not a plain attribute name")
    return key


# ---- Vyatta / EdgeOS / VyOS ------------------------------------------------------------------

def vyatta_value(value: str, field: str) -> str:
    if not value or "'" in value or not value.isprintable() or not value.isascii():
        refuse(field, value, "a Vyatta configure line cannot carry it inside single quotes")
    return f"'{value}'"


# ---- IOS ---------------------------------------------------------------------------------------

_IOS_TOKEN = re.compile(r"[A-Za-z0-9._:/-]+")


def ios_tokens(line: str, field: str) -> list[str]:
    """The tokens of an IOS configuration line, when every one is a plain token IOS reads as is."""
    tokens = line.split(" ")
    for token in tokens:
        if not _IOS_TOKEN.fullmatch(token):
            refuse(field, line, f"token {token!r} is not a plain IOS word (IOS has no quoting for it)")
    return tokens


# ---- values given through the API -----------------------------------------------------------

def source_network(value: str, version: int = 4) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A source network for a restriction: a CIDR (or address) of the given IP version, host bits clear."""
    if not isinstance(value, str):
        refuse("source network", value, "not a string")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        refuse("source network", value, f"not a network with its host bits clear ({exc})")
    if network.version != version:
        refuse("source network", value, f"an IPv{network.version} source cannot reach an IPv{version} NAT rule")
    return network
