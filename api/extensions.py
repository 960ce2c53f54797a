"""Project subclasses of flask-smorest's Api and Blueprint, with self-documenting decorators.

Resources import Blueprint from here, never from flask_smorest, so cross-cutting behaviour (auth,
documented error responses) is added in one place. Each decorator both enforces and documents:
`auth_required("audit")` checks the bearer token's scope and adds the security requirement and the
401/403/429 responses to the operation in the OpenAPI spec.
"""
from __future__ import annotations

import functools
import json
import re

import flask_smorest
import marshmallow as ma
from flask import current_app, request
from flask_smorest import abort
from webargs.flaskparser import FlaskParser

from api import auth

SECURITY_SCHEME = "bearerAuth"


class Api(flask_smorest.Api):
    def __init__(self, app=None, **kwargs):
        super().__init__(app, **kwargs)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        self.spec.components.security_scheme(
            SECURITY_SCHEME, {"type": "http", "scheme": "bearer",
                              "description": "API token from `python app.py create-token`."})

    def _register_etag_headers(self):
        # An empty If-Match is as good as none (428); say so in the spec with minLength.
        from flask_smorest import etag
        self.spec.components.parameter("IF_NONE_MATCH", "header", etag.IF_NONE_MATCH_HEADER, lazy=True)
        self.spec.components.parameter("IF_MATCH", "header", {
            **etag.IF_MATCH_HEADER, "description": "The resource's current ETag (from a GET)",
            "schema": {"type": "string", "minLength": 1}}, lazy=True)
        self.spec.components.header("ETAG", etag.ETAG_HEADER, lazy=True)

    def _register_pagination_header(self):
        # X-Pagination carries JSON; OpenAPI 3 says so with `content`, not `schema` (which means the
        # comma-separated "simple" style and makes clients split the JSON on commas).
        from flask_smorest.pagination import PaginationMetadataSchema
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata (JSON)",
            "content": {"application/json": {"schema": PaginationMetadataSchema}}}, lazy=True)

    def handle_http_exception(self, error):
        """The JSON error shape, keeping werkzeug's own headers (405 must list Allow, RFC 9110)."""
        payload, status, headers = super().handle_http_exception(error)
        if status == 413 and "message" not in payload:      # werkzeug's own, raised on reading the body
            payload = {**payload, "message": f"Request body larger than "
                                             f"{current_app.config.get('MAX_CONTENT_LENGTH')} bytes."}
        allow = getattr(error, "valid_methods", None)
        if allow:
            headers = {**headers, "Allow": ", ".join(allow)}
        return payload, status, headers


PAGINATION_KEYS = {"page", "page_size"}


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_at(value, path: tuple = ()) -> tuple | None:
    """Where a string (or object key) holds a lone UTF-16 surrogate ("\\ud800" is valid JSON text,
    but no UTF-8 can store it: the database write would fail)."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            return path + (key.encode("utf-8", "backslashreplace").decode(),)
        found = _lone_surrogate_at(item, path + (key,))
        if found is not None:
            return found
    return None


class _ArgumentsParser(FlaskParser):
    def _raw_load_json(self, req):
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            # json.loads also raises a plain ValueError (a number beyond Python's 4300-digit limit
            # for int()) and RecursionError (nesting the request guard could not see): both are bad
            # input, answered like any invalid JSON body, not with a 500.
            self._handle_invalid_json_error(exc, req)
        where = _lone_surrogate_at(data)
        if where:
            message = "Not valid Unicode (a lone surrogate such as \\ud800)."
            errors: object = [message]
            for key in reversed(where):
                errors = {key: errors}
            abort(422, message=message, errors={"json": errors})
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _ArgumentsParser()

    def arguments(self, schema, *, location="json", **kwargs):
        """As flask-smorest's, and a query string with a parameter the schema lacks is a 422.

        webargs ignores unknown query parameters because pagination shares the query string;
        a mistyped filter would then silently return everything.
        """
        parent = super().arguments(schema, location=location, **kwargs)
        if location != "query":
            return parent
        schema_obj = schema() if isinstance(schema, type) else schema
        known = {f.data_key or name for name, f in schema_obj.fields.items()} | PAGINATION_KEYS

        def decorator(func):
            inner = parent(func)

            @functools.wraps(inner)
            def wrapper(*args, **kw):
                unknown = sorted(set(request.args) - known)
                if unknown:
                    abort(422, message="Unknown query parameter(s).",
                          errors={"query": {name: ["Unknown field."] for name in unknown}})
                return inner(*args, **kw)
            return wrapper
        return decorator

    def auth_required(self, scope: str):
        """Require a bearer token whose scope is at least `scope` (read < audit < remediate < admin)."""
        if scope not in auth.SCOPES:
            raise ValueError(f"unknown scope {scope!r}")

        def decorator(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                auth.require(scope)
                return func(*args, **kwargs)

            wrapper = self.doc(security=[{SECURITY_SCHEME: []}],
                               description=f"Requires a token with scope `{scope}` or higher.")(wrapper)
            for code in (401, 403, 429):
                wrapper = self.alt_response(code, response=_ref(code))(wrapper)
            return wrapper
        return decorator

    def links(self, status: int, **links: dict):
        """Document the OpenAPI links of a response: the calls a client can make next with its values
        (an id, the ETag for If-Match). Stateful clients and fuzzers follow them."""
        return self.doc(responses={status: {"links": links}})

    def errors(self, *codes: int):
        """Document error responses a view can return (the flask-smorest error shape)."""
        def decorator(func):
            for code in codes:
                func = self.alt_response(code, response=_ref(code))(func)
            return func
        return decorator


def link(path: str, method: str, description: str, request_body: dict | None = None, **parameters: str) -> dict:
    """An OpenAPI link to the operation `method path` (e.g. "/api/v1/sites/{site_id}", "get").

    Parameters are given as name=expression; "If_Match" is the If-Match header. The usual expressions:
    ID = "$response.body#/id", ETAG = "$response.header.ETag".
    """
    pointer = path.replace("~", "~0").replace("/", "~1")
    out: dict = {"operationRef": f"#/paths/{pointer}/{method}", "description": description}
    params = {("header.If-Match" if name == "If_Match" else f"path.{name}"): value
              for name, value in parameters.items()}
    if params:
        out["parameters"] = params
    if request_body is not None:
        out["requestBody"] = request_body
    return out


ID, ETAG = "$response.body#/id", "$response.header.ETag"


def _ref(code: int) -> str:
    import http
    return http.HTTPStatus(code).name


class Schema(ma.Schema):
    """Base schema: unknown fields are rejected (422 naming the field)."""
    class Meta:
        unknown = ma.RAISE
        ordered = True
