"""The one result shape every check returns and every output format renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "error", "not_applicable", "manual")
PROVENANCES = ("observed", "device", "declared", "derived")
SEVERITY_WEIGHT = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}


@dataclass
class Evidence:
    """What was seen: a short statement, the raw excerpt, and where it came from."""
    detail: str
    excerpt: str = ""
    source: str = ""                 # "router:nft -j list ruleset line 12", "snmp:1.3.6...", "probe:tcp/8080"
    provenance: str = "derived"

    def to_dict(self) -> dict[str, Any]:
        return {"detail": self.detail, "excerpt": self.excerpt, "source": self.source,
                "provenance": self.provenance}


@dataclass
class CheckResult:
    check_id: str
    status: str
    message: str
    device_id: int | None = None     # None = site-wide
    target: str = ""                 # human name of what was checked ("router 10.0.0.1", "phone 101")
    evidence: list[Evidence] = field(default_factory=list)
    provenance: str = "derived"      # the strongest provenance the decision rests on
    observed: Any = None
    expected: Any = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.provenance not in PROVENANCES:
            raise ValueError(f"unknown provenance {self.provenance!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "status": self.status, "message": self.message,
                "device_id": self.device_id, "target": self.target,
                "evidence": [e.to_dict() for e in self.evidence], "provenance": self.provenance,
                "observed": self.observed, "expected": self.expected}
