"""Plan which forwards to remove, refuse what must not be touched, and render the exact commands.

Refusals (never overridable by the caller):
- a forward a required WAN service needs (hardening.model.services is the one answer): one the
  required services cover entirely is on the site's allow-list, its fix is a source restriction or
  nothing; one carrying only some of a required service's ports is narrowed by hand, never removed;
- a forward that carries the appliance's own management path (the router's SSH port, or traffic to
  the appliance's address): removing it could cut the appliance off the router it is changing.
The default selection is every forward classified "dangerous"; allow-listed ones are "expected" there.
Fixes restrict rather than delete where a service needs the forward: a SIP/RTP forward open to anyone
(NET-SIP-001) is limited to the site's allowed SIP peers; the SIP helper (NET-ALG-001) is removed.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from firewall.model import PortForward, RouterConfig, to_jsonable
from firewall.nft_rules import Ruleset
from firewall.renderers import LIVE_APPLY, Unrenderable, render_helper_removal, render_removal, render_restrict
from hardening.model.exposure import PortPolicy, classify_forwards, is_rtp
from hardening.model.services import RequiredServices, required_services
from hardening.model.site import SiteFacts
from hardening.remediation import nft_plan


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


def media_need(fwd: PortForward, site_services: list[str], policy) -> str | None:
    """SIP calls carry their voice over RTP: with SIP required, an RTP forward is needed too."""
    if "sip" in {str(s).lower() for s in site_services} and is_rtp(fwd, PortPolicy.from_policy(policy)):
        return "it carries RTP media (policy rtp_known_ranges), which the required WAN service sip needs for calls"
    return None


def _choose(item: dict[str, Any], fwd: PortForward, config: RouterConfig, services: RequiredServices,
            peers: list[str], appliance_ip: str | None, ssh_port: int, media: str | None) -> tuple[str, str | None]:
    """("remove" | "restrict" | "refuse", why refused). A forward a required service needs is never removed:
    when NET-SIP-001 fails on it, the fix limits it to the allowed SIP peers instead."""
    cut = management_path(fwd, config, appliance_ip, ssh_port)
    if cut:
        return "refuse", cut
    need = service_need(fwd, services) or media
    if "NET-SIP-001" in item["check_ids"] and (need or item["classification"] != "dangerous"):
        if peers:
            return "restrict", None
        return "refuse", ((need + "; ") if need else "") + (
            "NET-SIP-001 asks to limit it to the site's allowed SIP peers, and the site declares none")
    return ("refuse", need) if need else ("remove", None)


def plan(config: RouterConfig, facts: SiteFacts, policy, *, indices: list[int] | None = None,
         appliance_ip: str | None = None, ssh_port: int = 22, ruleset: Ruleset | None = None) -> dict[str, Any]:
    """The selected forwards' fixes (default: remove every dangerous one, limit every SIP forward open to
    anyone, remove the SIP helper); returns commands, diff and refusals. With `ruleset` (Linux, the
    `nft -j list ruleset` planned on) the plan also holds its edits by content (see nft_plan)."""
    classified = classify_forwards(config, facts, policy)
    services = required_services(facts.site.required_wan_services, policy)
    peers = list(facts.site.allowed_sip_peers or [])
    default = indices is None
    wanted = set(indices) if not default else {c["index"] for c in classified
                                               if c["classification"] == "dangerous" or "NET-SIP-001" in c["check_ids"]}
    unknown = wanted - {c["index"] for c in classified}
    if unknown:
        raise ValueError(f"no forward with index {sorted(unknown)} (the router has {len(classified)})")
    chosen: dict[str, list[dict[str, Any]]] = {"remove": [], "restrict": [], "refuse": []}
    for item in classified:
        if item["index"] in wanted:
            fwd = config.forwards[item["index"]]
            fix, reason = _choose(item, fwd, config, services, peers, appliance_ip, ssh_port,
                                  media_need(fwd, facts.site.required_wan_services, policy))
            chosen[fix].append(_summary(item) | ({"reason": reason} if reason else {}))
    for item in chosen["restrict"]:
        item["sources"] = peers
    removals, restrictions, refused = chosen["remove"], chosen["restrict"], chosen["refuse"]
    helper = default and config.sip_alg.enabled is True
    nft: dict[str, Any] | None = None
    helper_refused = None
    if ruleset is not None:
        nft, commands = _linux(ruleset, removals, restrictions, refused, helper, peers)
    else:
        commands, helper_refused = _rendered(config, removals, restrictions, refused, helper)
    before = [_summary(c) for c in classified]
    removed = {r["index"] for r in removals}
    return to_jsonable({
        "platform": config.platform, "live_apply": config.platform in LIVE_APPLY, "commands": commands,
        "removals": removals, "restrictions": restrictions, "refused": refused,
        "helpers": ([e["object"]["ct helper"]["name"] for e in nft.get("edits", []) if "object" in e] if nft is not None
                    else ["sip"] if helper and not helper_refused else []),
        "helper_refused": helper_refused,
        "diff": {"before": before, "after": [b for b in before if b["index"] not in removed],
                 "removed": [b for b in before if b["index"] in removed],
                 "restricted": [b for b in before if b["index"] in {r["index"] for r in restrictions}]},
    }) | ({"nft": nft} if nft is not None else {})


def _rendered(config: RouterConfig, removals, restrictions, refused, helper: bool) -> tuple[list[str], str | None]:
    """Commands for a person to apply, from the platform's renderer: what it cannot express exactly is
    refused (a removal makes the whole plan fail; a restriction moves to `refused`, the helper's reason is
    returned)."""
    commands: list[str] = []
    try:
        if removals:
            commands += render_removal(config.platform, [config.forwards[r["index"]] for r in removals])
    except Unrenderable as exc:
        raise ValueError(str(exc)) from None
    if restrictions:
        try:
            commands += render_restrict(config.platform, [(config.forwards[r["index"]], r["sources"])
                                                          for r in restrictions])
        except Unrenderable as exc:
            refused += [r | {"reason": f"the source restriction cannot be rendered: {exc}"} for r in restrictions]
            restrictions.clear()
    if helper:
        try:
            commands += render_helper_removal(config.platform, config)
        except Unrenderable as exc:
            return commands, f"the SIP helper removal cannot be rendered: {exc}"
    return commands, None


def _linux(ruleset: Ruleset, removals, restrictions, refused, helper: bool, peers):
    """The Linux edits by content; a forward whose edit cannot be expressed exactly moves to `refused`."""
    edits, commands = [], []
    for group, op in ((removals, "delete"), (restrictions, "replace")):
        for item in list(group):
            try:
                entry = nft_plan.rule_entry(ruleset, item["rule"])
                edit = {"op": op, "rule": entry.body} | (
                    {"with": nft_plan.restricted(entry.body, peers)} if op == "replace" else {})
            except nft_plan.NotEditable as exc:
                group.remove(item)
                refused.append(item | {"reason": str(exc)})
                continue
            edits.append(edit)
            commands.append(nft_plan.describe_edit(edit, entry.handle))
    if helper:
        for edit in nft_plan.sip_helper_edits(ruleset):
            if edit not in edits:
                handle = next((e.handle for e in ruleset.find({"rule": edit["rule"]})), None) if "rule" in edit else None
                edits.append(edit)
                commands.append(nft_plan.describe_edit(edit, handle))
    return nft_plan.nft_section(ruleset, edits), commands
