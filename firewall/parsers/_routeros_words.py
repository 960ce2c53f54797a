"""RouterOS words as the router reads them: bare words, key=value pairs and string literals decoded
(the scripting manual's escapes \\" \\\\ \\n \\r \\t \\$ \\? \\_ and \\XX, one byte in hex).

The parser reads export lines with it, so a comment shows what the router holds, and the renderers
read their own output back with it: one reader for both directions."""
from __future__ import annotations

import re

_ROS_DECODE = {'"': '"', "\\": "\\", "$": "$", "?": "?", "n": "\n", "r": "\r", "t": "\t", "_": " ",
               "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
# What a bare (unquoted) word may hold: anything else (a variable, a substitution, a command
# separator, a quote or escape) is script, not a value, and is not read as one.
_ROS_BARE = re.compile(r"[A-Za-z0-9._,:/!*@+%^~=-]+")


def routeros_words(text: str) -> list[str]:
    """The words of one RouterOS command as the router reads them (strings decoded); ValueError
    for anything that is not plain words, key=value pairs and string literals."""
    text = re.sub(r"\\\r?\n[ \t]*", "", text)         # export's line continuation
    words, i = [], 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        word, i = _routeros_word(text, i)
        words.append(word)
    return words


def _routeros_word(text: str, i: int) -> tuple[str, int]:
    raw: list[bytes] = []
    while i < len(text) and text[i] not in " \t":
        if text[i] == '"':
            decoded, i = _routeros_literal(text, i + 1)
            raw.append(decoded)
            continue
        bare = _ROS_BARE.match(text, i)
        if not bare:
            raise ValueError(f"{text[i]!r} at column {i + 1} is script syntax, not part of a value")
        raw.append(bare.group(0).encode())
        i = bare.end()
    return b"".join(raw).decode("utf-8", "surrogateescape"), i


def _routeros_literal(text: str, i: int) -> tuple[bytes, int]:
    out = bytearray()
    while i < len(text):
        char = text[i]
        if char == '"':
            return bytes(out), i + 1
        if char == "$":
            raise ValueError(f"unescaped $ at column {i + 1} interpolates a variable")
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            i += 1
            continue
        pair = text[i + 1:i + 3]
        if re.fullmatch(r"[0-9A-F]{2}", pair):
            out.append(int(pair, 16))
            i += 3
        elif pair[:1] in _ROS_DECODE:
            out += _ROS_DECODE[pair[:1]].encode()
            i += 2
        else:
            raise ValueError(f"unknown escape \\{pair[:1]} at column {i + 1}")
    raise ValueError("string literal never closed")


def routeros_key_values(text: str) -> dict[str, str]:
    """`key=value key2="quoted \\"value\\""` decoded; bare words map to ''. ValueError for script syntax."""
    return dict(word.partition("=")[::2] for word in routeros_words(text))
