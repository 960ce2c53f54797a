"""Site-wide checks: SIP scanning seen by the appliance's sensor (reported, from inside the LAN, heavy
from the internet), and the LAN anti-malware attestation.

Severity follows risk through check IDs, one severity each: NET-SCAN-001 (info) reports every scanner
seen; NET-SCAN-002 (high) fails on a scanner inside the LAN (a compromised host); NET-SCAN-003 (low)
fails when internet scanning passes the policy's requests per day.
"""
from __future__ import annotations

import ipaddress
from datetime import date, datetime, timedelta, timezone
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


# --- NET-SCAN-002 / NET-SCAN-003: who scans, and how much ------------------------------------------

_DAY = timedelta(hours=24)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(values: Any, key: str) -> list[Network]:
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{key} is not a list of networks")
    try:
        return [ipaddress.ip_network(str(v), strict=False) for v in values]
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _sides(facts: SiteFacts, policy) -> tuple[list[tuple[Network, str]], list[Network]]:
    """(inside networks with why, networks that are the internet although inside those); ValueError naming
    the policy or site key that is not a list of networks."""
    scan = policy.get("sip_scan") or {}
    inside = [(n, f"in the site's LAN subnet {n}") for n in _networks(facts.site.lan_subnets, "site lan_subnets")]
    inside += [(n, f"in private range {n} (policy sip_scan.inside_networks)")
               for n in _networks(scan.get("inside_networks", []), "policy sip_scan.inside_networks")]
    return inside, _networks(scan.get("internet_sources", []), "policy sip_scan.internet_sources")


def _side(source: str, inside: list[tuple[Network, str]], internet: list[Network]) -> tuple[str, str]:
    """("inside" | "internet" | "unknown", why) for one recorded source address."""
    try:
        addr = ipaddress.ip_address(source)
    except ValueError:
        return "unknown", f"source {source[:60]!r} is not an IP address"
    if addr.version == 6 and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if any(addr in net for net in internet if net.version == addr.version):
        return "internet", "listed in policy sip_scan.internet_sources"
    why = next((why for net, why in inside if net.version == addr.version and addr in net), None)
    return ("inside", why) if why else ("internet", "outside the LAN subnets and private ranges")


def _split(facts: SiteFacts, policy) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str], int]:
    """Scanner events by side, why each source is on its side, and the unreadable records."""
    matched, _others, unreadable = _scanner_events(list(facts.sensor_events or []))
    inside, internet = _sides(facts, policy)
    by_side: dict[str, list[dict[str, Any]]] = {"inside": [], "internet": [], "unknown": []}
    why: dict[str, str] = {}
    for event in matched:
        source = str(event.get("source", "unknown"))
        side, why[source] = _side(source, inside, internet)
        by_side[side].append(event)
    return by_side, why, unreadable


def _weight(event: dict[str, Any]) -> int:
    extra = event.get("suppressed_before")
    return 1 + (extra if isinstance(extra, int) and not isinstance(extra, bool) and extra > 0 else 0)


def _moment(event: dict[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _sensor_missing(check_id: str) -> list[CheckResult]:
    return [CheckResult(check_id, "not_applicable", "SIP sensor not running: no sensor data")]


@register_check("NET-SCAN-002")
def no_scanner_inside(facts: SiteFacts, policy) -> list[CheckResult]:
    if facts.sensor_events is None:
        return _sensor_missing("NET-SCAN-002")
    try:
        by_side, why, unreadable = _split(facts, policy)
    except ValueError as exc:
        return [CheckResult("NET-SCAN-002", "error", f"could not decide: {exc}")]
    inside = sorted(_group(by_side["inside"]).items(), key=lambda item: -item[1]["count"])
    if inside:
        evidence = [_source_evidence(source, group) for source, group in inside[:_MAX_SOURCES_SHOWN]]
        for ev, (source, _group_) in zip(evidence, inside):
            ev.detail += f" [{why[source]}]"
        total = sum(group["count"] for _source, group in inside)
        return [CheckResult("NET-SCAN-002", "fail", f"SIP scanner inside the LAN: {total} request(s) from "
                            f"{', '.join(source for source, _g in inside[:5])}" + (" ..." if len(inside) > 5 else ""),
                            evidence=evidence, provenance="observed",
                            observed={source: group["count"] for source, group in inside})]
    unsure = len(by_side["unknown"]) + unreadable
    if unsure:
        return [CheckResult("NET-SCAN-002", "error", f"could not decide: {len(by_side['unknown'])} scanner "
                            f"record(s) without a readable source address and {unreadable} unreadable sensor "
                            "record(s): any of them may come from inside the LAN",
                            evidence=[Evidence(why[str(e.get('source', 'unknown'))], source="sip-sensor",
                                               provenance="observed") for e in by_side["unknown"][:5]],
                            provenance="observed")]
    outside = len(_group(by_side["internet"]))
    notes = [Evidence(f"{outside} scanning source(s) on the internet side (NET-SCAN-001, NET-SCAN-003)",
                      source="sip-sensor", provenance="observed")] if outside else []
    return [CheckResult("NET-SCAN-002", "pass", f"no SIP scanner inside the LAN in {len(facts.sensor_events)} "
                        "sensor record(s)", evidence=notes, provenance="observed", observed={})]


def _busiest_day(events: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """The most scanner requests in any 24 hours, and the events of that window (timed events only)."""
    timed = sorted(((m, e) for e in events if (m := _moment(e)) is not None), key=lambda item: item[0])
    best, best_window, total, lo = 0, (0, 0), 0, 0
    for hi, (moment, event) in enumerate(timed):
        total += _weight(event)
        while timed[lo][0] <= moment - _DAY:
            total -= _weight(timed[lo][1])
            lo += 1
        if total > best:
            best, best_window = total, (lo, hi + 1)
    return best, [e for _m, e in timed[best_window[0]:best_window[1]]]


@register_check("NET-SCAN-003")
def internet_scanning_volume(facts: SiteFacts, policy) -> list[CheckResult]:
    if facts.sensor_events is None:
        return _sensor_missing("NET-SCAN-003")
    limit = (policy.get("sip_scan") or {}).get("internet_requests_per_day")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        return [CheckResult("NET-SCAN-003", "error", f"could not decide: policy sip_scan.internet_requests_per_day "
                            f"{str(limit)[:40]!r} is not a whole number of at least 0")]
    try:
        by_side, _why, unreadable = _split(facts, policy)
    except ValueError as exc:
        return [CheckResult("NET-SCAN-003", "error", f"could not decide: {exc}")]
    internet = by_side["internet"]
    busiest, window = _busiest_day(internet)
    expected = f"at most {limit} per day"
    if busiest > limit:
        ranked = sorted(_group(window).items(), key=lambda item: -item[1]["count"])
        evidence = [_source_evidence(source, group) for source, group in ranked[:_MAX_SOURCES_SHOWN]]
        span = f"{window[0].get('time')} to {window[-1].get('time')}"
        return [CheckResult("NET-SCAN-003", "fail", f"heavy SIP scanning from the internet: {busiest} scanner "
                            f"request(s) from {len(ranked)} source(s) within 24 hours ({span}), above the policy's "
                            f"{limit} per day", evidence=evidence, provenance="observed", observed=busiest,
                            expected=expected)]
    untimed = sum(_weight(e) for e in internet if _moment(e) is None)
    unsure = untimed + sum(_weight(e) for e in by_side["unknown"]) + unreadable
    if busiest + unsure > limit:
        return [CheckResult("NET-SCAN-003", "error", f"could not decide: {busiest} internet scanner request(s) in "
                            f"the busiest 24 hours, but {unsure} more without a readable time or source (or "
                            f"unreadable) could pass the policy's {limit} per day", provenance="observed",
                            observed=busiest, expected=expected)]
    return [CheckResult("NET-SCAN-003", "pass", f"internet SIP scanning within the policy: {busiest} scanner "
                        f"request(s) in the busiest 24 hours (at most {limit} per day)", provenance="observed",
                        observed=busiest, expected=expected)]


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
