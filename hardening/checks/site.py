"""Site-wide checks: SIP scanning seen by the appliance's sensor, and the LAN anti-malware attestation."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from device_drivers.facts import Fact
from hardening.checks.registry import register_check
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts
from hardening.sensor import signatures

_MAX_SOURCES_SHOWN = 50
_MAX_AGENTS_SHOWN = 5


# --- NET-SCAN-001 -------------------------------------------------------------------------------

def _group(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Scanner events per source: count (written + rate-limited), first/last time, user agents, tools."""
    groups: dict[str, dict[str, Any]] = {}
    for event in events:
        group = groups.setdefault(str(event.get("source", "unknown")), {
            "count": 0, "first": None, "last": None, "user_agents": [], "tools": set()})
        extra = event.get("suppressed_before")
        group["count"] += 1 + (extra if isinstance(extra, int) and extra > 0 else 0)
        moment = str(event.get("time", ""))
        group["first"] = min(filter(None, (group["first"], moment)), default=None)
        group["last"] = max(filter(None, (group["last"], moment)), default=None)
        agent = str(event.get("user_agent") or "")[:120]
        if agent and agent not in group["user_agents"]:
            group["user_agents"].append(agent)
        group["tools"].add(event["_tool"])
    return groups


def _source_evidence(source: str, group: dict[str, Any]) -> Evidence:
    agents = group["user_agents"][:_MAX_AGENTS_SHOWN]
    more = f" (+{len(group['user_agents']) - len(agents)} more)" if len(group["user_agents"]) > len(agents) else ""
    detail = (f"{source}: {group['count']} scanner request(s) ({', '.join(sorted(group['tools']))}) "
              f"from {group['first']} to {group['last']}")
    excerpt = "User-Agent: " + " | ".join(agents) + more if agents else "no User-Agent"
    return Evidence(detail, excerpt, "sip-sensor", "observed")


def _scanner_events(events: list[Any]) -> tuple[list[dict[str, Any]], int, int]:
    """(matched events tagged with their tool, other SIP requests, unreadable records)."""
    matched, others, unreadable = [], 0, 0
    for event in events:
        if not isinstance(event, dict):
            unreadable += 1
            continue
        tool = signatures.match(event)
        if tool is None:
            others += 1
        else:
            matched.append({**event, "_tool": tool})
    return matched, others, unreadable


@register_check("NET-SCAN-001")
def sip_scanning(facts: SiteFacts, policy) -> list[CheckResult]:
    if facts.sensor_events is None:
        return [CheckResult("NET-SCAN-001", "not_applicable", "SIP sensor not running: no sensor data")]
    matched, others, unreadable = _scanner_events(list(facts.sensor_events))
    notes = []
    if others:
        notes.append(Evidence(f"{others} other SIP request(s) without a scanner signature", source="sip-sensor",
                              provenance="observed"))
    if unreadable:
        notes.append(Evidence(f"{unreadable} unreadable sensor record(s) ignored", source="sip-sensor",
                              provenance="observed"))
    if not matched:
        return [CheckResult("NET-SCAN-001", "pass", f"no SIP scanner seen in {len(facts.sensor_events)} sensor "
                            "record(s)", evidence=notes, provenance="observed", observed={})]
    groups = _group(matched)
    ranked = sorted(groups.items(), key=lambda item: -item[1]["count"])
    evidence = [_source_evidence(source, group) for source, group in ranked[:_MAX_SOURCES_SHOWN]]
    if len(ranked) > _MAX_SOURCES_SHOWN:
        notes.insert(0, Evidence(f"{len(ranked) - _MAX_SOURCES_SHOWN} more scanning source(s) not listed",
                                 source="sip-sensor", provenance="observed"))
    total = sum(g["count"] for g in groups.values())
    return [CheckResult("NET-SCAN-001", "fail", f"SIP scanning seen: {total} request(s) from {len(groups)} "
                        f"source(s)", evidence=evidence + notes, provenance="observed",
                        observed={source: group["count"] for source, group in ranked})]


# --- LAN-AV-001 ---------------------------------------------------------------------------------

def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _attestations(facts: SiteFacts) -> list[tuple[str, Fact]]:
    return [(dev.name or dev.address, fact) for dev in facts.devices
            if (fact := dev.get("av_attested_until")) is not None]


@register_check("LAN-AV-001")
def anti_malware_attested(facts: SiteFacts, policy) -> list[CheckResult]:
    found = _attestations(facts)
    if not found:
        return [CheckResult("LAN-AV-001", "manual", "no anti-malware attestation: a person must confirm the LAN "
                            "computers have current anti-malware and declare av_attested_until")]
    dated = []
    for holder, fact in found:
        until = _as_date(fact.value)
        evidence = Evidence(f"anti-malware attested until {fact.value} (on {holder})", str(fact.value)[:40],
                            fact.source or "declared", fact.provenance)
        if until is None:
            return [CheckResult("LAN-AV-001", "error", f"attestation date {str(fact.value)[:40]!r} on {holder} is "
                                "not an ISO date (YYYY-MM-DD)", evidence=[evidence], provenance=fact.provenance)]
        dated.append((until, evidence))
    until, evidence = min(dated, key=lambda item: item[0])      # several attestations: the first to expire
    today = facts.now.date()
    note = " (declared by an operator)" if evidence.provenance == "declared" else ""
    if until < today:
        return [CheckResult("LAN-AV-001", "fail", f"attestation expired on {until.isoformat()}{note}",
                            evidence=[evidence], provenance=evidence.provenance, observed=until.isoformat())]
    return [CheckResult("LAN-AV-001", "pass", f"anti-malware attested until {until.isoformat()}{note}",
                        evidence=[evidence], provenance=evidence.provenance, observed=until.isoformat())]
