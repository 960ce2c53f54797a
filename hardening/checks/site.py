"""Site-wide checks: SIP scanning seen by the sensor, and the LAN anti-malware attestation."""
from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date

import yaml

from hardening.catalog import DATA
from hardening.facts import SiteFacts
from hardening.registry import register_check
from hardening.results import CheckResult, Evidence


@functools.cache
def scanner_signatures() -> tuple[str, ...]:
    return tuple(s.lower() for s in yaml.safe_load((DATA / "sip_scanners.yaml").read_text(encoding="utf-8")))


def is_scanner(user_agent: str | None) -> bool:
    ua = (user_agent or "").lower()
    return any(sig in ua for sig in scanner_signatures())


@register_check("NET-SCAN-001")
def sip_scanning(facts: SiteFacts, policy) -> list[CheckResult]:
    if facts.sensor_events is None:
        return [CheckResult("NET-SCAN-001", "not_applicable", "the SIP sensor is not running")]
    by_source: dict[str, list[dict]] = defaultdict(list)
    for event in facts.sensor_events:
        if is_scanner(event.get("user_agent")):
            by_source[event.get("source", "?")].append(event)
    if not by_source:
        return [CheckResult("NET-SCAN-001", "pass", f"no scanner traffic among {len(facts.sensor_events)} "
                            "SIP requests seen", provenance="observed")]
    evidence = [Evidence(f"{src}: {len(evs)} request(s) {evs[0].get('time')} .. {evs[-1].get('time')}, "
                         f"user agents {sorted({e.get('user_agent') for e in evs})}",
                         evs[0].get("first_line", "")[:200], "sensor:sip", "observed")
                for src, evs in sorted(by_source.items())]
    return [CheckResult("NET-SCAN-001", "fail", f"SIP scanning from {len(by_source)} source(s)",
                        evidence=evidence, provenance="observed")]


@register_check("LAN-AV-001")
def anti_malware_attested(facts: SiteFacts, policy) -> list[CheckResult]:
    today = facts.now.date()
    for dev in facts.allworx_devices():
        fact = dev.get("av_attested_until")
        if fact is None:
            continue
        try:
            until = date.fromisoformat(str(fact.value)[:10])
        except ValueError:
            return [CheckResult("LAN-AV-001", "error", f"attestation date {fact.value!r} is not a date",
                                provenance="declared")]
        ev = [Evidence(f"anti-malware attested until {until}", "", fact.source, "declared")]
        if until >= today:
            return [CheckResult("LAN-AV-001", "pass", f"attested until {until}", evidence=ev, provenance="declared")]
        return [CheckResult("LAN-AV-001", "fail", f"attestation expired on {until}", evidence=ev,
                            provenance="declared")]
    return [CheckResult("LAN-AV-001", "manual", "no attestation: declare av_attested_until on the server device")]
