"""The per-software-line web admin map (data/webmap.yaml) and its value codec, shared with the simulator."""
from __future__ import annotations

import copy
import functools
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Container, Mapping

import yaml

DATA = Path(__file__).parent / "data"
_load_lock = threading.Lock()


class WebMapError(ValueError):
    """A setting, value or software version the map cannot handle."""


@dataclass(frozen=True)
class Setting:
    name: str
    page: str
    path: str
    menu: str
    label: str
    encoding: dict
    field: str | None = None

    def fields(self) -> list[str]:
        """Every form field this setting reads or writes."""
        if self.encoding["type"] == "checkbox_group":
            return list(self.encoding["fields"].values())
        return [self.field] if self.field else []

    def manual_step(self) -> str:
        return f"{self.menu}: {self.label}"

    @property
    def is_secret(self) -> bool:
        return self.encoding["type"] == "secret"


@dataclass(frozen=True)
class WebMap:
    line: str
    pages: dict[str, dict]
    settings: dict[str, Setting]

    def setting(self, name: str) -> Setting:
        try:
            return self.settings[name]
        except KeyError:
            raise WebMapError(f"unknown setting {name!r}; known: {', '.join(sorted(self.settings))}") from None

    def page_settings(self, page: str) -> list[Setting]:
        return [s for s in self.settings.values() if s.page == page]

    def page_for_path(self, path: str) -> str | None:
        return next((name for name, page in self.pages.items() if page["path"] == path), None)


def raw() -> dict[str, Any]:
    with _load_lock:           # a hundred gathers start at once: parse the file once, not per thread
        return _load()


@functools.cache
def _load() -> dict[str, Any]:
    with open(DATA / "webmap.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def common() -> dict[str, Any]:
    return copy.deepcopy(raw()["common"])


def section(kind: str) -> dict[str, Any]:
    """The 'phone' or 'px' part of the map."""
    return copy.deepcopy(raw()[kind])


def lines() -> list[str]:
    return list(raw()["versions"])


def line_for(version: str) -> str:
    """The software line whose pattern matches `version`, e.g. '8.3.5.4' -> '8'."""
    for line, entry in raw()["versions"].items():
        if re.match(entry["match"], version or ""):
            return line
    raise WebMapError(f"no web map for software version {version!r}; lines: {', '.join(lines())}")


@functools.cache
def for_line(line: str) -> WebMap:
    entry = raw()["versions"].get(line)
    if entry is None:
        raise WebMapError(f"unknown software line {line!r}; lines: {', '.join(lines())}")
    base = for_line(entry["base"]) if entry.get("base") else None
    pages = {**(base.pages if base else {}), **entry.get("pages", {})}
    specs = {n: _spec(s) for n, s in base.settings.items()} if base else {}
    specs.update(entry.get("settings", {}))
    for name, field in entry.get("fields", {}).items():
        specs[name] = {**specs[name], "field": field}
    return _build(line, pages, specs)


@functools.cache
def for_section(kind: str) -> WebMap:
    """The writable settings of a 'px' (or 'phone') web UI."""
    entry = raw()[kind]
    return _build(kind, entry.get("pages", {}), entry.get("settings", {}))


def _build(line: str, pages: dict[str, dict], specs: dict[str, dict]) -> WebMap:
    settings = {name: Setting(name=name, page=s["page"], path=pages[s["page"]]["path"],
                              menu=pages[s["page"]]["menu"], label=s["label"], encoding=s["encoding"],
                              field=s.get("field"))
                for name, s in specs.items()}
    return WebMap(line=line, pages=pages, settings=settings)


def for_version(version: str) -> WebMap:
    return for_line(line_for(version))


def _spec(setting: Setting) -> dict[str, Any]:
    return {"page": setting.page, "label": setting.label, "encoding": setting.encoding, "field": setting.field}


def encode(setting: Setting, value: Any) -> dict[str, str | None]:
    """Form fields for a logical value; None means 'leave the checkbox unchecked'."""
    enc, kind = setting.encoding, setting.encoding["type"]
    if kind == "checkbox_group":
        if not isinstance(value, Mapping) or not all(isinstance(v, bool) for v in value.values()):
            raise WebMapError(f"{setting.name}: expected a mapping of service -> bool")
        unknown = set(value) - set(enc["fields"])
        if unknown:
            raise WebMapError(f"{setting.name}: unknown services {sorted(unknown)}; known: {sorted(enc['fields'])}")
        return {enc["fields"][k]: ("on" if v else None) for k, v in value.items()}
    return {setting.field: _encode_one(setting, value)}


def _encode_one(setting: Setting, value: Any) -> str | None:
    enc, kind = setting.encoding, setting.encoding["type"]
    if kind in ("select", "bool_select"):
        if kind == "bool_select" and not isinstance(value, bool):
            raise WebMapError(f"{setting.name}: expected true or false, got {value!r}")
        if value not in enc["options"]:
            raise WebMapError(f"{setting.name}: {value!r} is not one of {sorted(map(str, enc['options']))}")
        return enc["options"][value]
    if kind in ("checkbox", "checkbox_inverted"):
        if not isinstance(value, bool):
            raise WebMapError(f"{setting.name}: expected true or false, got {value!r}")
        return "on" if value == (kind == "checkbox") else None
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not enc["min"] <= value <= enc["max"]:
            raise WebMapError(f"{setting.name}: expected an integer {enc['min']}..{enc['max']}, got {value!r}")
        return str(value)
    if kind == "secret":
        text = value.reveal() if hasattr(value, "reveal") else value
        if not isinstance(text, str) or not text:
            raise WebMapError(f"{setting.name}: expected a non-empty string")
        return text
    raise WebMapError(f"{setting.name}: unknown encoding {kind!r}")


def decode(setting: Setting, values: Mapping[str, str], present: Container[str] | None = None) -> Any:
    """The logical value from submitted/displayed form values; `present` = fields the page has."""
    if present is not None:
        missing = [f for f in setting.fields() if f not in present]
        if missing:
            raise WebMapError(f"{setting.name}: field(s) {missing} not on {setting.path}")
    enc, kind = setting.encoding, setting.encoding["type"]
    if kind == "checkbox_group":
        return {name: field in values for name, field in enc["fields"].items()}
    if kind in ("checkbox", "checkbox_inverted"):
        return (setting.field in values) == (kind == "checkbox")
    text = values.get(setting.field)
    if text is None:
        raise WebMapError(f"{setting.name}: no value for field {setting.field}")
    if kind in ("select", "bool_select"):
        for logical, shown in enc["options"].items():
            if shown == text:
                return logical
        raise WebMapError(f"{setting.name}: option {text!r} is not one of {sorted(enc['options'].values())}")
    if kind == "int":
        try:
            number = int(text)
        except ValueError:
            raise WebMapError(f"{setting.name}: {text!r} is not a number") from None
        if not enc["min"] <= number <= enc["max"]:
            raise WebMapError(f"{setting.name}: {number} outside {enc['min']}..{enc['max']}")
        return number
    return text      # secret: the caller wraps it
