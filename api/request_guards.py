"""Checks on raw request bodies that must run before any JSON parsing."""
from __future__ import annotations

from flask import Flask, request
from flask_smorest import abort

MAX_JSON_DEPTH = 32


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (strings are skipped, escapes honoured)."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:          # backslash
                escaped = True
            elif byte == 0x22:          # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):      # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def install(app: Flask) -> None:
    @app.before_request
    def _limit_json_nesting():
        # Python's json module recurses per level; a deep body would end in RecursionError (a 500).
        # A chunked body has no Content-Length and must be looked at too, its size included.
        if request.is_json and (request.content_length or request.environ.get("wsgi.input_terminated")):
            body, limit = request.get_data(cache=True), app.config.get("MAX_CONTENT_LENGTH")
            if request.content_length is None and limit and len(body) >= limit:
                # werkzeug stops reading a chunked body at the limit; the rest would look like bad JSON
                abort(413, message=f"Request body larger than {limit} bytes.")
            if json_depth_exceeds(body, MAX_JSON_DEPTH):
                abort(400, message=f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
