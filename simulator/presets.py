"""Load and validate a site preset (simulator/presets/<name>.yaml), with optional overrides."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from device_drivers.allworx import webmap

PRESETS = Path(__file__).parent / "presets"
REQUIRED = {"server": ("name", "model", "software_version", "hostname", "admin", "snmp_community",
                       "sip_server_header", "settings"),
            "phones": ("models", "first_extension", "sip_user_agent"),
            "px": ("count", "model", "password", "sip_user_agent"),
            "lockout": ("max_failures", "window_seconds", "lockout_seconds")}


class PresetError(ValueError):
    """A preset that names an unknown file, misses a key or carries a bad value."""


def names() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def load(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The preset as a dict, overrides deep-merged in, every key and setting checked."""
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(names())}")
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data = merge(data, overrides or {})
    _validate(name, data)
    return data


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(name: str, data: dict[str, Any]) -> None:
    for section, keys in REQUIRED.items():
        missing = [k for k in keys if k not in (data.get(section) or {})]
        if missing:
            raise PresetError(f"preset {name!r}: {section} lacks {', '.join(missing)}")
    server = data["server"]
    try:
        site_map = webmap.for_version(str(server["software_version"]))
    except webmap.WebMapError as exc:
        raise PresetError(f"preset {name!r}: {exc}") from None
    settings = server["settings"]
    missing = sorted(set(site_map.settings) - set(settings))
    extra = sorted(set(settings) - set(site_map.settings))
    if missing or extra:
        raise PresetError(f"preset {name!r}: settings missing {missing}, unknown {extra}")
    for setting_name, value in settings.items():
        try:
            webmap.encode(site_map.setting(setting_name), value)
        except webmap.WebMapError as exc:
            raise PresetError(f"preset {name!r}: {exc}") from None
    if not data["phones"]["models"]:
        raise PresetError(f"preset {name!r}: phones.models is empty")
