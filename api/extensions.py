"""Project subclasses of flask-smorest's Api and Blueprint, with self-documenting decorators.

Resources import Blueprint from here, never from flask_smorest, so cross-cutting behaviour (auth,
documented error responses) is added in one place. Each decorator both enforces and documents:
`auth_required("audit")` checks the bearer token's scope and adds the security requirement and the
401/403/429 responses to the operation in the OpenAPI spec.
"""
from __future__ import annotations

import functools

import flask_smorest
from flask import request
from flask_smorest import abort
import marshmallow as ma

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
        allow = getattr(error, "valid_methods", None)
        if allow:
            headers = {**headers, "Allow": ", ".join(allow)}
        return payload, status, headers


PAGINATION_KEYS = {"page", "page_size"}


class Blueprint(flask_smorest.Blueprint):
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

    def errors(self, *codes: int):
        """Document error responses a view can return (the flask-smorest error shape)."""
        def decorator(func):
            for code in codes:
                func = self.alt_response(code, response=_ref(code))(func)
            return func
        return decorator


def _ref(code: int) -> str:
    import http
    return http.HTTPStatus(code).name


class Schema(ma.Schema):
    """Base schema: unknown fields are rejected (422 naming the field)."""
    class Meta:
        unknown = ma.RAISE
        ordered = True
