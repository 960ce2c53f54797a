"""Offline analysis of one router configuration: forwards classified, VLANs, the router checks' findings.

Backs `python app.py analyze-config` and `POST /api/v1/router-configs/analyze` (DESIGN.md "Interfaces").
The addresses given build a SiteFacts for the checks; the server's LAN and WAN addresses stay distinct
because a forward to the WAN port can be fine while one to the LAN port never is.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from device_drivers.facts import DeviceFacts
from firewall.collector import collector_paused
from firewall.model import RouterConfig, to_jsonable
from hardening.checks.registry import run_checks
from hardening.model.catalog import check_meta
from hardening.model.exposure import classify_forwards, unparsed_checks
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

# The checks a router configuration decides, in catalog order (NET-EXP-001, the catch-all, last); each
# yields exactly one finding. NET-VPN-001 is decided from the PPTP forwards when no probe is at hand.
ROUTER_CHECKS = ("AWX-SRV-002", "AWX-SRV-007", "AWX-PHN-003", "AWX-PX-003", "NET-NAT-001", "NET-NAT-002",
                 "NET-SIP-001", "NET-ALG-001", "NET-UPNP-001", "NET-VLAN-001", "NET-VPN-001", "NET-EXP-001")


def _address(value: Any, option: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError(f"{option}: {value!r} is not an IP address") from None


def _addresses(values: Iterable[Any] | str | None, option: str) -> list[str]:
    if isinstance(values, str):          # one address passed where a list was meant
        values = [values]
    return [_address(v, option) for v in values or ()]


def _networks(values: Iterable[Any] | str | None, option: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values or ():
        try:
            out.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{option}: {value!r} is not an address or CIDR network") from None
    return out


def site_facts_for(config: RouterConfig, server_lan_ip: str | None = None, server_wan_ip: str | None = None,
                   phone_ips: Iterable[str] = (), px_ips: Iterable[str] = (),
                   allowed_sip_sources: Iterable[str] = ()) -> SiteFacts:
    """The SiteFacts the checks see for an offline configuration (validates every address)."""
    lan = _address(server_lan_ip, "server_lan_ip") if server_lan_ip else ""
    wan = _address(server_wan_ip, "server_wan_ip") if server_wan_ip else None
    devices = [DeviceFacts(None, "allworx_server", "", lan, wan)] if lan or wan else []
    devices += [DeviceFacts(None, "allworx_phone", "", ip) for ip in _addresses(phone_ips, "phone_ip")]
    devices += [DeviceFacts(None, "px_expander", "", ip) for ip in _addresses(px_ips, "px_ip")]
    site = SiteInfo(allowed_sip_peers=_networks(allowed_sip_sources, "allowed_sip_source"))
    router = RouterFacts(None, config.hostname or config.platform, config, source="file:configuration")
    return SiteFacts(site, devices, [router])


def _as_policy(policy: Any) -> Policy:
    if policy is None or isinstance(policy, dict):
        return Policy(policy)
    return policy


def _warning(message: str) -> dict[str, Any]:
    return {"command": "", "line": None, "text": "", "message": message}


def _analysis_warnings(config: RouterConfig, facts: SiteFacts) -> list[dict[str, Any]]:
    """What the caller should know the analysis could not decide from the addresses given."""
    warnings = []
    if not any(d.kind == "allworx_server" and d.address for d in facts.devices):
        warnings.append(_warning("no server LAN address given: AWX-SRV-002 cannot be decided"))
    if not facts.devices:
        warnings.append(_warning("no Allworx address given: forwards cannot be tied to Allworx devices"))
    for fwd in config.forwards:
        for entry in fwd.source_restriction or ():
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                ref = fwd.source_ref
                warnings.append({"command": ref.command, "line": ref.line, "text": ref.text,
                                 "message": f"source restriction {entry!r} is not an address: it cannot be "
                                            f"matched against the allowed SIP sources"})
    return warnings


def _touched(construct: str) -> list[str]:
    return [c for c in unparsed_checks(construct) if c in ROUTER_CHECKS]


def _unparsed(config: RouterConfig) -> list[dict[str, Any]]:
    """What the parser saw but did not fully understand, each with the analysed checks it keeps from passing."""
    return [{**to_jsonable(item), "check_ids": _touched(item.construct)} for item in config.unparsed]


def _unparsed_warnings(config: RouterConfig) -> list[dict[str, Any]]:
    return [{"command": item.command, "line": item.line, "text": item.text,
             "message": f"not understood ({item.construct}): {item.reason}; not passed because of it: "
                        f"{', '.join(_touched(item.construct))}"}
            for item in config.unparsed]


def _finding(result) -> dict[str, Any]:
    meta = check_meta(result.check_id)
    return {"check_id": result.check_id, "status": result.status,
            "evidence": [e.to_dict() for e in result.evidence], "message": result.message,
            "severity": meta["severity"], "title": meta["title"]}


def analyze(config: RouterConfig, server_lan_ip: str | None = None, server_wan_ip: str | None = None,
            phone_ips: Iterable[str] = (), px_ips: Iterable[str] = (),
            allowed_sip_sources: Iterable[str] = (), policy: Any = None) -> dict[str, Any]:
    """Classified forwards, VLANs and one finding per router check; raises ValueError on bad input."""
    if not isinstance(config, RouterConfig):
        raise ValueError(f"config must be a parsed RouterConfig, not {type(config).__name__}")
    facts = site_facts_for(config, server_lan_ip, server_wan_ip, phone_ips, px_ips, allowed_sip_sources)
    policy = _as_policy(policy)
    with collector_paused():                 # linear cost on large configurations (firewall.collector)
        return _analysis(config, facts, policy)


def _analysis(config: RouterConfig, facts: SiteFacts, policy: Policy) -> dict[str, Any]:
    results = run_checks(facts, policy, ROUTER_CHECKS)
    return to_jsonable({
        "platform": config.platform,
        "forwards": classify_forwards(config, facts, policy),
        "vlans": config.vlans,
        "findings": [_finding(r) for r in results],
        "unparsed": _unparsed(config),
        "warnings": to_jsonable(config.warnings) + _unparsed_warnings(config) + _analysis_warnings(config, facts),
    })


def parse_and_analyze(outputs: str | dict[str, str], platform: str | None = None, **addresses: Any) -> dict:
    """Detect the platform when not named, parse, analyze; adds {"detection": {...}} to the result.

    Raises firewall.model.ParseError (garbled input, unknown platform output), UnsupportedPlatform,
    or ValueError naming a bad address argument.
    """
    from firewall.parsers import detect_platform, parse

    sample = outputs if isinstance(outputs, str) else "\n".join(outputs.values())
    if platform:
        detection = {"platform": platform, "confidence": 1.0, "detected": False}
    else:
        detected, confidence = detect_platform(sample)
        detection = {"platform": detected, "confidence": confidence, "detected": True}
    result = analyze(parse(detection["platform"], outputs), **addresses)
    return {"detection": detection, **result}
