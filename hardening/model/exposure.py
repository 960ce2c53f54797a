"""Which checks a forward trips, and how every forward is classified (verify, plan, analyze-config).

Built on the vendor-neutral geometry of firewall.exposure: here live the Allworx roles (Target,
SiteContext), the policy port sets (PortPolicy) and the catalog check IDs. `forward_triggers` is the one
place that says which Allworx check a forward trips, `forward_exposure` whether NET-EXP-001 (any host,
any service) fails on it: the network checks and `classify_forwards` read both. `UNPARSED_CHECKS` says,
once, which checks a construct a parser could not fully understand keeps from passing. Whether a forward is
covered by the site's required WAN services is hardening.model.services' answer; how bad an exposed
service is, hardening.model.exposed_services'.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firewall import exposure as geometry
from firewall.exposure import external_addresses, inside_reason, is_forward_all, is_restricted, ports_text, reach
from firewall.model import PortForward, PortRange, RouterConfig, to_jsonable
from firewall.site_context import port_ranges, restriction_within
from hardening.model.exposed_services import (
    Exposure,
    ExposurePolicy,
    forward_text,
    own_addresses,
    provable_restriction,
    rate,
)
from hardening.model.policy import Policy
from hardening.model.services import RequiredServices, required_services

ROLE_LABELS = {"server_lan": "server LAN", "server_wan": "server WAN", "phone": "phone", "px": "Px Expander"}
_DEVICE_ROLES = {"allworx_phone": "phone", "px_expander": "px"}
__all__ = ["ROLE_LABELS", "Target", "SiteContext", "PortPolicy", "is_rtp", "Trigger", "forward_triggers",
           "EXPOSURE_CHECK", "ExposurePolicy", "Exposure", "forward_exposure",
           "classify_forward", "classify_forwards", "FORWARD_CHECKS", "UNPARSED_CHECKS", "unparsed_checks"]


# --- who the analysis protects, and the policy port sets -----------------------------------------

@dataclass(frozen=True)
class Target:
    """One Allworx address a forward may reach."""
    address: str
    role: str                      # a key of ROLE_LABELS
    name: str = ""
    device_id: int | None = None

    @property
    def label(self) -> str:
        name = f" {self.name}" if self.name and self.name != self.address else ""
        return f"{ROLE_LABELS[self.role]}{name} ({self.address})"


@dataclass
class SiteContext:
    targets: list[Target] = field(default_factory=list)
    allowed_sip_peers: list[str] = field(default_factory=list)
    required_wan_services: list[str] = field(default_factory=list)

    @classmethod
    def from_site_facts(cls, facts: Any) -> SiteContext:
        """From a SiteFacts: the servers' LAN and WAN addresses, phones and Px Expanders."""
        targets = []
        for dev in facts.devices:
            if dev.kind == "allworx_server":
                targets.append(Target(dev.address, "server_lan", dev.name, dev.device_id))
                targets.append(Target(dev.wan_address or "", "server_wan", dev.name, dev.device_id))
            elif dev.kind in _DEVICE_ROLES:
                targets.append(Target(dev.address, _DEVICE_ROLES[dev.kind], dev.name, dev.device_id))
        return cls([t for t in targets if t.address], list(facts.site.allowed_sip_peers),
                   list(facts.site.required_wan_services))

    def of_role(self, *roles: str) -> list[Target]:
        return [t for t in self.targets if t.role in roles]


@dataclass(frozen=True)
class PortPolicy:
    """The port sets of hardening/data/policy.yaml the exposure rules use."""
    admin: tuple[PortRange, ...]
    phone_web: tuple[PortRange, ...]
    px_web: tuple[PortRange, ...]
    mail: tuple[PortRange, ...]
    sip: tuple[PortRange, ...]
    blf: tuple[PortRange, ...]
    rtp_known: tuple[PortRange, ...]
    rtp_min_size: int
    pptp: tuple[PortRange, ...] = (PortRange(1723, 1723),)

    @classmethod
    def from_policy(cls, policy: Any) -> PortPolicy:
        get = (Policy() if policy is None else policy).get
        return cls(port_ranges(get("admin_ports", [8080])),
                   port_ranges(get("phone_web_ports", [80, 443])),
                   port_ranges(get("px_web_ports", [80, 443])),
                   port_ranges(get("mail_ports", [])),
                   port_ranges(get("sip_ports", [[5060, 5061]])),
                   port_ranges(get("blf_ports", [[2088, 2088]])),
                   port_ranges(get("rtp_known_ranges", [])),
                   int(get("rtp_min_range_size", 10)),
                   port_ranges((get("pptp") or {}).get("ports", [1723])))


def is_rtp(fwd: PortForward, pp: PortPolicy) -> bool:
    """An RTP-looking forward by the policy's known ranges and minimum range size (NET-SIP-001)."""
    return geometry.is_rtp(fwd, pp.rtp_known, pp.rtp_min_size)


# --- which checks a forward trips ----------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    check_id: str
    reason: str
    target: Target
    passed: bool = False           # relevant to the check but satisfies it (evidence for a pass)


def _signalling(fwd: PortForward, target: Target, pp: PortPolicy) -> list[str]:
    """SIP / BLF / RTP parts of a forward to `target`, described."""
    parts = [r.describe() for proto in ("udp", "tcp")
             if (r := reach(fwd, target.address, pp.sip, proto)) is not None]
    blf = reach(fwd, target.address, pp.blf, "udp")
    parts += [f"BLF: {blf.describe()}"] if blf else []
    parts += ["RTP range"] if is_rtp(fwd, pp) else []
    return parts


def _target_triggers(fwd: PortForward, target: Target, ctx: SiteContext, pp: PortPolicy) -> list[Trigger]:
    found: list[Trigger] = []

    def add(check_id: str, why: str, passed: bool = False) -> None:
        found.append(Trigger(check_id, f"{target.label}: {why}", target, passed))

    def ports(check_id: str, wanted: tuple[PortRange, ...], what: str) -> None:
        hit = reach(fwd, target.address, wanted, "tcp")
        if hit:
            add(check_id, f"{what} {ports_text(list(wanted))}: {hit.describe()}")

    whole = reach(fwd, target.address)
    if whole is None:              # the forward does not reach this address
        return found
    if target.role == "server_lan":
        add("AWX-SRV-002", f"forward to the server's LAN address: {whole.describe()}")
    if is_forward_all(fwd):
        add("NET-NAT-001", f"{fwd.kind} rule forwards every {fwd.proto} port: {whole.describe()}")
    ports("AWX-SRV-007", pp.admin, "admin port")
    if target.role == "phone":
        ports("AWX-PHN-003", pp.phone_web, "phone web port")
    if target.role == "px":
        ports("AWX-PX-003", pp.px_web, "Px web port")
    ports("NET-NAT-002", pp.mail, "mail port")
    signalling = _signalling(fwd, target, pp)
    outside = restriction_within(fwd.source_restriction, ctx.allowed_sip_peers)
    if signalling:
        opened = f"open to {', '.join(outside)}" if outside else "restricted to allowed SIP peers"
        peers = ", ".join(ctx.allowed_sip_peers) or "none declared"
        add("NET-SIP-001", f"SIP/BLF/RTP forward {opened} (allowed peers: {peers}): " + "; ".join(signalling),
            passed=not outside)
    if fwd.kind == "upnp_dynamic":
        add("NET-UPNP-001", "UPnP/NAT-PMP dynamic mapping")
    pptp = reach(fwd, target.address, pp.pptp, "tcp")
    if pptp:        # as NET-VPN-001 judges it: only a provable outside restriction limits who logs in
        limited = provable_restriction(fwd) is not None
        add("NET-VPN-001", f"PPTP forward {'limited to named sources' if limited else 'from any internet address'}"
            f": {pptp.describe()}", passed=limited)
    return found


def forward_triggers(fwd: PortForward, ctx: SiteContext, pp: PortPolicy) -> list[Trigger]:
    """Every (check, reason) this forward touches, ignoring enabled/interface (callers decide on those).

    Triggers with `passed` set are relevant but fine (a SIP forward limited to the allowed peers)."""
    return [t for target in ctx.targets for t in _target_triggers(fwd, target, ctx, pp)]


# --- what a construct the parser did not fully understand could change --------------------------

# Every check decided (in part) from the forwards: one unread NAT or forward line may be the forward
# that fails any of them. AWX-SRV-008 reads AWX-SRV-007's answer, so it follows it.
FORWARD_CHECKS = ("AWX-SRV-002", "AWX-SRV-007", "AWX-SRV-009", "AWX-PHN-003", "AWX-PX-003", "NET-NAT-001",
                  "NET-NAT-002", "NET-SIP-001", "NET-VPN-001", "NET-EXP-001")
# Checks whose verdict turns on who may use a forward (its sources): a restricted SIP forward passes
# NET-SIP-001, a restricted PPTP forward NET-VPN-001, and NET-EXP-001 lowers the severity of one.
RESTRICTION_CHECKS = ("NET-SIP-001", "NET-VPN-001", "NET-EXP-001")
UNPARSED_CHECKS: dict[str, tuple[str, ...]] = {
    "nat": FORWARD_CHECKS,
    "forward": FORWARD_CHECKS,
    "filter": FORWARD_CHECKS,            # a filter rule limits a forward's sources or opens an IPv6 pinhole
    "helper": ("NET-ALG-001",),
    "upnp": ("NET-UPNP-001",),
    "vlan": ("NET-VLAN-001",),
    "address_list": RESTRICTION_CHECKS,
    "interface": FORWARD_CHECKS + ("NET-VLAN-001",),   # roles make rules LAN-bound; addresses place phones
}


def unparsed_checks(construct: str) -> tuple[str, ...]:
    """The checks an Unparsed item of this construct could change; a construct nobody mapped touches
    every router check, so a new parser's vocabulary can never make a silent pass."""
    every = tuple(dict.fromkeys(c for checks in UNPARSED_CHECKS.values() for c in checks))
    return UNPARSED_CHECKS.get(construct, every)


# --- NET-EXP-001: any internet-facing forward no required service covers, by what it reaches ----

EXPOSURE_CHECK = "NET-EXP-001"


def forward_exposure(fwd: PortForward, ctx: SiteContext, pp: PortPolicy, services: RequiredServices,
                     xp: ExposurePolicy, config: RouterConfig | None = None,
                     triggers: list[Trigger] | None = None, own: frozenset | None = None) -> Exposure:
    """NET-EXP-001 on one forward: a note when it is disabled, LAN-bound, covered by a required WAN service,
    or already failed by a more specific check (named); otherwise a fail rated by
    hardening.model.exposed_services.rate (the worst policy service it reaches). `triggers` and `own`
    (own_addresses(config)) save recomputing them when the caller has them."""
    text = forward_text(fwd)
    inside = inside_reason(fwd, config)
    if not fwd.enabled or inside:
        return Exposure("note", f"ignored, {inside or 'rule disabled'}: {text}")
    coverage = services.forward(fwd)
    if coverage.covered:
        return Exposure("note", f"allow-listed (required WAN service {coverage.label}): {text}")
    triggers = forward_triggers(fwd, ctx, pp) if triggers is None else triggers
    others = sorted({t.check_id for t in triggers if not t.passed})
    if others:
        return Exposure("note", f"reported by {', '.join(others)}: {text}")
    return rate(fwd, xp, config, own)


# --- classification: the verify endpoint, the planner and analyze-config -------------------------

def classify_forward(fwd: PortForward, ctx: SiteContext, pp: PortPolicy, services: RequiredServices,
                     config: RouterConfig | None = None, *, allow_list: bool = True,
                     xp: ExposurePolicy | None = None, own: frozenset | None = None) -> dict[str, Any]:
    """One forward: the model fields plus classification, reasons, the checks it trips and its allow-listing.

    With `allow_list` (the default, what every caller uses) a dangerous forward covered by the site's
    required WAN services is "expected": kept, what the checks say becomes `advice`, never a removal
    candidate. allow_list=False gives the exposure verdict alone (what the checks say). A forward that
    NET-EXP-001 fails on lists it in `check_ids` with its `severity` and the policy `services` it reaches
    (its classification stays what the Allworx rules say: an unexpected RDP forward is "unexpected")."""
    triggers = [t for t in forward_triggers(fwd, ctx, pp) if not t.passed]
    xp = ExposurePolicy.from_policy(None) if xp is None else xp
    exposure = forward_exposure(fwd, ctx, pp, services, xp, config, triggers, own)
    coverage = services.forward(fwd)
    inside = inside_reason(fwd, config)
    notes = list(coverage.notes)
    advice: list[str] = []
    if not fwd.enabled:
        verdict, reasons = "disabled", ["rule is disabled: not an exposure"]
    elif inside:
        verdict, reasons = "internal", [f"{inside}: not internet-facing"]
    elif triggers or is_forward_all(fwd):
        verdict = "dangerous"
        reasons = [t.reason for t in triggers] or [f"{fwd.kind} rule forwards every port to {fwd.internal_ip}"]
        if allow_list and coverage.covered:
            verdict, advice = "expected", reasons
            kept = (f"on the site's allow-list (required WAN service {coverage.label}): kept; the checks' "
                    "findings are advice")
            reasons = [kept, *notes]
    elif coverage.covered:
        verdict, reasons = "expected", [f"matches required WAN service {coverage.label}"] + notes
    else:
        verdict, reasons = "unexpected", ["not among the site's required WAN services"] + notes
    if verdict in ("expected", "unexpected") and fwd.kind == "upnp_dynamic":
        reasons.append("UPnP/NAT-PMP dynamic mapping: made by a LAN host, not in the configuration")
    live = fwd.enabled and not inside
    failed = exposure.status == "fail"
    reasons += [f"{EXPOSURE_CHECK} {exposure.reason}"] if failed else []
    check_ids = {t.check_id for t in triggers} | ({EXPOSURE_CHECK} if failed else set())
    return {**to_jsonable(fwd), "classification": verdict, "reasons": reasons,
            "check_ids": sorted(check_ids) if live else [],
            "targets": sorted({t.target.label for t in triggers}), "restricted": is_restricted(fwd),
            "internet_facing": not inside, "external_addresses": external_addresses(fwd, config),
            "allow_listed": coverage.label, "advice": advice,
            "severity": exposure.severity, "services": list(exposure.services)}


def classify_forwards(config: RouterConfig, site: Any, policy: Any = None, *,
                      allow_list: bool = True) -> list[dict[str, Any]]:
    """Every forward of `config` classified expected / unexpected / dangerous (disabled and LAN-bound
    rules are "disabled" / "internal": reported, never exposures), with "index" and "allow_listed".

    `site` is a SiteContext or a SiteFacts; `policy` a Policy (the default policy if None)."""
    policy = Policy() if policy is None else policy
    ctx = site if isinstance(site, SiteContext) else SiteContext.from_site_facts(site)
    pp, services = PortPolicy.from_policy(policy), required_services(ctx.required_wan_services, policy)
    xp, own = ExposurePolicy.from_policy(policy), own_addresses(config)
    return [{"index": i, **classify_forward(fwd, ctx, pp, services, config, allow_list=allow_list, xp=xp, own=own)}
            for i, fwd in enumerate(config.forwards)]
