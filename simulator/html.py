"""Small HTML builders for the simulated pages (layout is ours: the real markup is [U])."""
from __future__ import annotations

from html import escape
from typing import Any

from device_drivers.allworx.webmap import Setting, encode


def page(title: str, body: str, raw_title: bool = False) -> str:
    """A whole page; `raw_title` keeps entities such as &nbsp; exactly as the real phone sends them."""
    shown = title if raw_title else escape(title)
    return f"<html><head><title>{shown}</title></head><body>{body}</body></html>"


def cells(values: dict[str, Any]) -> str:
    """A read-only table; each value cell carries an id the driver reads."""
    rows = "".join(f"<tr><th>{escape(key)}</th><td id=\"{escape(key)}\">{escape(str(val))}</td></tr>"
                   for key, val in values.items())
    return f"<table>{rows}</table>"


def message(text: str) -> str:
    return f"<p class=\"message\">{escape(text)}</p>" if text else ""


def login_form(action: str, fields: list[tuple[str, str]], note: str = "") -> str:
    """fields: (name, input type) pairs."""
    inputs = "".join(f"<label>{escape(name)} <input type=\"{kind}\" name=\"{escape(name)}\" value=\"\"></label>"
                     for name, kind in fields)
    return f"{message(note)}<form method=\"post\" action=\"{escape(action)}\">{inputs}" \
           f"<input type=\"submit\" value=\"Login\"></form>"


def settings_form(action: str, settings: list[Setting], values: dict[str, Any], note: str = "") -> str:
    """One form holding every setting of a page, rendered from the web map."""
    rows = "".join(f"<tr><th>{escape(s.label)}</th><td>{_widget(s, values[s.name])}</td></tr>" for s in settings)
    return f"{message(note)}<form method=\"post\" action=\"{escape(action)}\"><table>{rows}</table>" \
           f"<input type=\"submit\" value=\"Update\"></form>"


def _widget(setting: Setting, value: Any) -> str:
    kind = setting.encoding["type"]
    encoded = encode(setting, value)
    if kind == "checkbox_group":
        return " ".join(_checkbox(field, encoded[field] is not None, name)
                        for name, field in setting.encoding["fields"].items())
    field = setting.field or ""
    if kind in ("checkbox", "checkbox_inverted"):
        return _checkbox(field, encoded[field] is not None, setting.label)
    if kind in ("select", "bool_select"):
        options = "".join(f"<option value=\"{escape(shown)}\"{' selected' if shown == encoded[field] else ''}>"
                          f"{escape(shown)}</option>" for shown in setting.encoding["options"].values())
        return f"<select name=\"{escape(field)}\">{options}</select>"
    input_type = "password" if kind == "secret" else "text"
    return f"<input type=\"{input_type}\" name=\"{escape(field)}\" value=\"{escape(encoded[field] or '')}\">"


def _checkbox(field: str, checked: bool, label: str) -> str:
    return f"<label><input type=\"checkbox\" name=\"{escape(field)}\"{' checked' if checked else ''}>" \
           f"{escape(label)}</label>"
