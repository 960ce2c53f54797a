"""Did this probe answer? The one answer, for outside-probe records and every caller that reads them.

A record is what device_drivers.probe returns (tcp_connect / sip_options: {"state": "open" | "closed" |
"filtered" | "error", ...}; icmp_echo: {"answered": bool, ...}), an error record of the outside probe
client ({"error": why}, {"state": "error", "reason": why}), or a shorthand a caller or test wrote
("open", True, {"open": true}). The answer is three-valued:

- True: the port or host answered (state "open", answered true, "open"/"answered"/"yes"/"true");
- False: positively no answer: refused or silent until the timeout (state "closed" / "filtered",
  answered false, "closed"/"filtered"/"timeout"/"no answer"/"no"/"false");
- None: the record cannot say: the probe failed (`failure` is not None), the record is unreadable
  (None, numbers, lists, unknown words such as "open|filtered"), or its fields disagree.

None is never evidence: a check must not pass on it alone (it is noted, or is error evidence).
"""
from __future__ import annotations

from typing import Any

ANSWERED = frozenset({"open", "answered", "yes", "true"})
SILENT = frozenset({"closed", "filtered", "timeout", "no answer", "no", "false"})
_FIELDS = ("state", "answered", "open")


def _scalar(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in ANSWERED else False if word in SILENT else None
    return None


def answered(value: Any) -> bool | None:
    """True (answered), False (positively no answer) or None (the record cannot say: not evidence).

    A dict is read from its "state", "answered" and "open" fields (those present must agree); a string
    or bool as such (see the module docstring)."""
    if failure(value) is not None:
        return None
    if not isinstance(value, dict):
        return _scalar(value)
    said = {_scalar(value[key]) for key in _FIELDS if key in value}
    return said.pop() if len(said) == 1 else None


def failure(value: Any) -> str | None:
    """Why a probe record (or a whole set of results) says nothing either way, else None: the probe
    could not be asked ({"error": why}) or could not probe that port ({"state": "error", "reason"}).
    Such a record is never a "no answer": a check that reads it cannot pass on it."""
    if not isinstance(value, dict):
        return None
    if value.get("error"):
        return str(value["error"])
    if str(value.get("state", "")).lower() == "error":
        return str(value.get("reason") or "the probe failed")
    return None
