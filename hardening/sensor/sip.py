"""Defensive parsing of one SIP request: bounded size, bounded header count, never raises on bad input."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE = 8192            # bytes looked at; the rest of a bigger datagram is ignored
MAX_HEADERS = 64
MAX_VALUE = 256               # characters kept of one header value or the request URI
COMPACT = {"f": "from", "t": "to", "v": "via", "i": "call-id", "m": "contact", "l": "content-length"}
_METHOD = re.compile(r"[A-Z]{2,20}")
_TOKEN = re.compile(r"[A-Za-z0-9!%*_+`'~.\-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r?\n")
_HEAD_END = re.compile(r"\r?\n\r?\n")


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: dict[str, str] = field(default_factory=dict)    # lower-case long names; first occurrence wins

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def clean(text: str, limit: int = MAX_VALUE) -> str:
    """Printable, stripped and cut to `limit` characters: safe to log and to put in JSON."""
    return _CONTROL.sub("?", text).strip()[:limit]


def _request_line(line: str) -> tuple[str, str] | None:
    parts = line.strip().split(" ")
    if len(parts) != 3 or not _METHOD.fullmatch(parts[0]) or parts[2].upper() != "SIP/2.0" or not parts[1]:
        return None
    return parts[0], clean(parts[1])


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in lines[:MAX_HEADERS]:
        if line[:1] in (" ", "\t") and last:            # folded continuation of the previous header
            headers[last] = clean(f"{headers[last]} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.fullmatch(name):
            last = ""
            continue
        key = COMPACT.get(name.lower(), name.lower())
        if key not in headers:
            headers[key] = clean(value)
            last = key
        else:
            last = ""
    return headers


def parse_request(data: bytes) -> SipRequest | None:
    """A SIP request from raw bytes, or None when it is not one (responses, garbage, empty)."""
    if not data:
        return None
    text = data[:MAX_MESSAGE].decode("utf-8", "replace")
    lines = _LINE_BREAK.split(_HEAD_END.split(text, 1)[0])
    first = _request_line(lines[0])
    if first is None:
        return None
    return SipRequest(first[0], first[1], _headers(lines[1:]))


def ok_reply(request: SipRequest) -> bytes:
    """A minimal '200 OK' echoing the dialog headers (only sent when the operator switched replies on)."""
    lines = ["SIP/2.0 200 OK"]
    for name, shown in (("via", "Via"), ("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq")):
        if request.header(name):
            lines.append(f"{shown}: {request.header(name)}")
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8", "replace")
