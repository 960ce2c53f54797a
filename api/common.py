"""Small helpers shared by the resource views."""
from __future__ import annotations

from typing import TypeVar

from flask import Flask, current_app
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from api.fields import SQLITE_MAX_INT  # noqa: F401  (api.pagination imports it from here)
from hardening.engine.devices import DeviceAccess
from store.db import session

T = TypeVar("T")


def storable_id(item_id: int) -> bool:
    # Flask's int converter takes any size; SQLite integers are -2**63 .. 2**63 - 1
    return -SQLITE_MAX_INT - 1 <= item_id <= SQLITE_MAX_INT


def not_found(model: type, item_id: int):
    abort(404, message=f"{model.__name__} {item_id} not found.")


def get_or_404(model: type[T], item_id: int) -> T:
    item = session().get(model, item_id) if storable_id(item_id) else None
    if item is None:
        not_found(model, item_id)
    return item


def commit_or_409(message: str, field: str) -> None:
    """Commit the request's session; a uniqueness/foreign-key conflict becomes a 409 naming the field."""
    sess = session()
    try:
        sess.commit()
    except IntegrityError:
        sess.rollback()
        abort(409, message=message, errors={"json": {field: [message]}})


def device_access(app: Flask | None = None) -> DeviceAccess:
    """How this app reaches devices: its secret box, EGRESS_ALLOWED_NETWORKS, and the driver options
    (DRIVER_OPTIONS {"allworx": ..., "router": ...}, ROUTER_DRIVER_OPTIONS merged into "router")."""
    app = app or current_app
    cfg = app.config
    options = dict(cfg.get("DRIVER_OPTIONS") or {})
    options["router"] = {**(options.get("router") or {}), **(cfg.get("ROUTER_DRIVER_OPTIONS") or {})}
    return DeviceAccess(app.extensions["secret_box"], list(cfg["EGRESS_ALLOWED_NETWORKS"]), options)
