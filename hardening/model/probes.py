"""Did this probe answer? The one answer, for outside-probe records and every caller that reads them."""
from __future__ import annotations

from typing import Any


def answered(value: Any) -> bool:
    """An outside-probe record says the port answered ({"open": true}, "open", True ...)."""
    if isinstance(value, dict):
        value = value.get("answered", value.get("open", value.get("state")))
    if isinstance(value, str):
        return value.strip().lower() in ("open", "answered", "yes", "true")
    return value is True
