"""Checks on raw request bodies that must run before any JSON parsing; the client address behind trusted
proxies; the security headers of every answer."""
from __future__ import annotations

from flask import Flask, Response, g, request
from flask_smorest import abort
from werkzeug.middleware.proxy_fix import ProxyFix

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


# JSON and errors: nothing may load or frame; the HTML report: only its own inline style; the docs page:
# swagger-ui's files from this box and its inline start-up script
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; " \
             "base-uri 'none'; form-action 'none'"
DOCS_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " \
           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_PREFIX = "/api/v1/docs"


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, the client is the address the nearest of them appends to
    X-Forwarded-For (and the scheme its X-Forwarded-Proto); with none, forwarded headers are ignored (a
    client could write anything there). The failed-auth limiter and the audit log then see real clients."""
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def security_headers(response: Response) -> Response:
    """No content sniffing, no framing, a CSP by kind of answer; never cached when it answered a token (it
    may carry secrets, a token or generated passwords: shown once, never left in a cache)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith(DOCS_PREFIX):
        csp = DOCS_CSP
    elif response.mimetype == "text/html":
        csp = REPORT_CSP
    else:
        csp = API_CSP
    response.headers["Content-Security-Policy"] = csp
    if g.get("token") is not None or "Authorization" in request.headers:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def install(app: Flask) -> None:
    trust_proxies(app)
    app.after_request(security_headers)

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
