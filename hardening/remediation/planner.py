"""Plan which forwards to remove, refuse what must not be touched, and render the exact commands.

Refusals (never overridable by the caller):
- a forward a required WAN service needs (hardening.model.services is the one answer): one the
  required services cover entirely is on the site's allow-list, its fix is a source restriction or
  nothing; one carrying only some of a required service's ports is narrowed by hand, never removed;
- a forward that carries the appliance's own management path (the router's SSH port, or traffic to
  the appliance's address): removing it could cut the appliance off the router it is changing.
The default selection is every forward classified "dangerous"; allow-listed ones are "expected" there.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from firewall.model import PortForward, RouterConfig, to_jsonable
from firewall.renderers import LIVE_APPLY, Unrenderable, render_removal
from hardening.model.exposure import classify_forwards
from hardening.model.services import RequiredServices, required_services
from hardening.model.site import SiteFacts


def allow_listed(fwd: PortForward, facts: SiteFacts, policy) -> str | None:
    """The required WAN service(s) covering every port this forward opens ('sip', 'sip, rtp'), or None."""
    return required_services(facts.site.required_wan_services, policy).forward(fwd).label


def service_need(fwd: PortForward, services: RequiredServices) -> str | None:
    """Why a required WAN service needs this forward (None when none does)."""
    coverage = services.forward(fwd)
    if coverage.covered:
        return f"on the site's allow-list (required WAN service {coverage.label})"
    if coverage.services:
        return (f"it carries ports of required WAN service {', '.join(coverage.services)} (not only those): "
                "removing it would cut that service; narrow it to the ports the service needs instead")
    return None


def _router_addresses(config: RouterConfig) -> set[str]:
    return {a.split("/")[0] for iface in config.interfaces for a in iface.addresses} | {"127.0.0.1", ""}


def management_path(fwd: PortForward, config: RouterConfig, appliance_ip: str | None, ssh_port: int) -> str | None:
    """Why removing this forward could cut the appliance off (None when it cannot)."""
    covers_ssh = fwd.external_ports is None or any(ssh_port in rng for rng in fwd.external_ports)
    if covers_ssh and (fwd.internal_ip or "") in _router_addresses(config):
        return f"it carries the router's own SSH port {ssh_port} (the appliance's management path)"
    if appliance_ip and fwd.internal_ip:
        try:
            if ipaddress.ip_address(appliance_ip) in ipaddress.ip_network(fwd.internal_ip, strict=False):
                return f"it forwards to the appliance itself ({appliance_ip})"
        except ValueError:
            pass
    return None


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("index", "proto", "external_ports", "internal_ip", "internal_ports", "classification", "check_ids")
    return {k: item.get(k) for k in keys} | {"rule": item["source_ref"]["rule_id"], "comment": item.get("comment")}


def plan(config: RouterConfig, facts: SiteFacts, policy, *, indices: list[int] | None = None,
         appliance_ip: str | None = None, ssh_port: int = 22) -> dict[str, Any]:
    """Remove the selected forwards (default: every dangerous one); returns commands, diff and refusals."""
    classified = classify_forwards(config, facts, policy)
    services = required_services(facts.site.required_wan_services, policy)
    wanted = set(indices) if indices is not None else {c["index"] for c in classified
                                                        if c["classification"] == "dangerous"}
    unknown = wanted - {c["index"] for c in classified}
    if unknown:
        raise ValueError(f"no forward with index {sorted(unknown)} (the router has {len(classified)})")
    removals, refused = [], []
    for item in classified:
        if item["index"] not in wanted:
            continue
        fwd = config.forwards[item["index"]]
        reason = service_need(fwd, services) or management_path(fwd, config, appliance_ip, ssh_port)
        (refused if reason else removals).append(_summary(item) | ({"reason": reason} if reason else {}))
    try:
        commands = render_removal(config.platform, [config.forwards[r["index"]] for r in removals])
    except Unrenderable as exc:
        raise ValueError(str(exc)) from None
    before = [_summary(c) for c in classified]
    removed = {r["index"] for r in removals}
    return to_jsonable({
        "platform": config.platform, "live_apply": config.platform in LIVE_APPLY, "commands": commands,
        "removals": removals, "refused": refused,
        "diff": {"before": before, "after": [b for b in before if b["index"] not in removed],
                 "removed": [b for b in before if b["index"] in removed]},
    })
