"""Shared plumbing of the router-based checks: the router gate, evidence pointing at rules, one result."""
from __future__ import annotations

from dataclasses import dataclass, field

from firewall.exposure import inside_reason
from firewall.model import PortForward, SourceRef, Unparsed
from hardening.model.exposure import PortPolicy, SiteContext, forward_triggers, unparsed_checks
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import RouterFacts, SiteFacts

NO_ROUTER = "no router in inventory"
ALLWORX_ROLES = ("server_lan", "server_wan", "phone", "px")
NO_ALLWORX = "no Allworx device address in inventory"
_RANK = {"derived": 0, "declared": 1, "device": 2, "observed": 3}
_OFFLINE_PREFIXES = ("file:", "paste:", "upload:", "declared")


def is_offline(router: RouterFacts) -> bool:
    """A configuration handed in (file, paste) rather than read from the device."""
    return not router.source or router.source.startswith(_OFFLINE_PREFIXES)


def router_provenance(router: RouterFacts) -> str:
    return "declared" if is_offline(router) else "device"


def ref_source(router: RouterFacts, ref: SourceRef) -> str:
    """'router:edge1 show nat rules line 12-14 rule 10': where the excerpt can be found again."""
    parts = [f"router:{router.name}" if router.name else "router"]
    parts += [ref.command] if ref.command else []
    if ref.line is not None:
        span = f"-{ref.end_line}" if ref.end_line and ref.end_line != ref.line else ""
        parts.append(f"line {ref.line}{span}")
    parts += [f"rule {ref.rule_id}"] if ref.rule_id else []
    return " ".join(parts)


def ref_evidence(router: RouterFacts, ref: SourceRef, detail: str) -> Evidence:
    return Evidence(detail, ref.text, ref_source(router, ref), router_provenance(router))


@dataclass
class Verdict:
    """What one check saw: failing evidence, evidence that did not fail, and inputs it could not read."""
    fails: list[Evidence] = field(default_factory=list)
    notes: list[Evidence] = field(default_factory=list)
    errors: list[Evidence] = field(default_factory=list)
    unknown: list[Evidence] = field(default_factory=list)     # offline input silent on the question
    manual: list[Evidence] = field(default_factory=list)      # a person must read it (policy unparsed_verdicts)


UNPARSED_STATUSES = ("error", "manual")


def unparsed_status(policy, construct: str) -> str:
    """`error` or `manual` for an unread construct, by policy unparsed_verdicts (anything else: error)."""
    table = (policy.get("unparsed_verdicts") if policy is not None else None) or {}
    status = table.get(construct, table.get("default", "error")) if isinstance(table, dict) else "error"
    return status if status in UNPARSED_STATUSES else "error"


def unparsed_evidence(router: RouterFacts, item: Unparsed) -> Evidence:
    ref = SourceRef(item.command, item.line, text=item.text)
    return ref_evidence(router, ref, f"not understood ({item.construct}): {item.reason}")


def _unparsed(router: RouterFacts, check_id: str, policy, verdict: Verdict) -> None:
    for item in router.config.unparsed:
        if check_id in unparsed_checks(item.construct):
            evidence = unparsed_evidence(router, item)
            (verdict.manual if unparsed_status(policy, item.construct) == "manual" else verdict.errors).append(evidence)


def readable_routers(facts: SiteFacts, verdict: Verdict, check_id: str, policy=None) -> list[RouterFacts]:
    """Routers with a configuration; the others become error evidence (never a silent pass). What each
    parser could not understand that could change `check_id` becomes error (or manual, by policy) evidence
    naming its lines: a fail stays a fail, a pass is never made of it. The check ID is required, so no
    router check can read configurations without this."""
    good = []
    for router in facts.routers:
        if router.error or router.config is None:
            reason = router.error or "no configuration was read"
            verdict.errors.append(Evidence(f"router {router.name or router.source}: {reason}",
                                           source=router.source, provenance="device"))
        else:
            good.append(router)
            _unparsed(router, check_id, policy, verdict)
    return good


def router_device_id(facts: SiteFacts) -> int | None:
    return facts.routers[0].device_id if len(facts.routers) == 1 else None


def not_applicable(check_id: str, facts: SiteFacts, message: str,
                   evidence: list[Evidence] | None = None) -> CheckResult:
    return CheckResult(check_id, "not_applicable", message, router_device_id(facts),
                       evidence=evidence or [])


def strongest_provenance(evidence: list[Evidence]) -> str:
    return max((e.provenance for e in evidence), key=_RANK.__getitem__, default="derived")


def _summary(evidence: list[Evidence]) -> str:
    more = f" (+{len(evidence) - 1} more)" if len(evidence) > 1 else ""
    return evidence[0].detail + more


def finish(check_id: str, facts: SiteFacts, verdict: Verdict, pass_message: str,
           unknown_message: str = "") -> CheckResult:
    """One site-level result: fail beats error beats manual beats unknown (offline) beats pass."""
    if verdict.fails:
        status, message, decisive = "fail", _summary(verdict.fails), verdict.fails
    elif verdict.errors:
        status, message, decisive = "error", "could not decide: " + _summary(verdict.errors), verdict.errors
    elif verdict.manual:
        status, message, decisive = "manual", "a person must decide: " + _summary(verdict.manual), verdict.manual
    elif verdict.unknown:
        message = unknown_message or _summary(verdict.unknown)
        status, decisive = "not_applicable", verdict.unknown
    else:
        status, message, decisive = "pass", pass_message, []
    # a fail still shows which routers went unread and which lines were not understood
    unread = [e for e in verdict.errors + verdict.manual if e not in decisive] if status != "pass" else []
    evidence = decisive + unread + verdict.notes
    target = ", ".join(r.name for r in facts.routers if r.name)
    return CheckResult(check_id, status, message, router_device_id(facts), target=target,
                       evidence=evidence, provenance=strongest_provenance(decisive or evidence))


def _forward_evidence(check_id: str, router: RouterFacts, fwd: PortForward, ctx: SiteContext,
                      pp: PortPolicy, verdict: Verdict) -> None:
    inside = inside_reason(fwd, router.config)
    for trigger in forward_triggers(fwd, ctx, pp):
        if trigger.check_id != check_id:
            continue
        if trigger.passed:
            note = trigger.reason
        elif not fwd.enabled:
            note = f"ignored, rule disabled: {trigger.reason}"
        elif inside:
            note = f"ignored, {inside}: {trigger.reason}"
        else:
            verdict.fails.append(ref_evidence(router, fwd.source_ref, trigger.reason))
            continue
        verdict.notes.append(ref_evidence(router, fwd.source_ref, note))


def forward_check(check_id: str, facts: SiteFacts, policy, roles: tuple[str, ...], no_target: str,
                  pass_message: str, extra: Verdict | None = None) -> CheckResult:
    """A check decided by the forwards reaching Allworx addresses (see hardening.model.exposure.forward_triggers).

    `roles` are the target roles the check needs (none in the inventory => not_applicable);
    `extra` carries evidence from other inputs (device facts, outside probes) that adds to the router's.
    """
    verdict = extra or Verdict()
    if not facts.routers:
        if verdict.fails or verdict.errors:
            return finish(check_id, facts, verdict, pass_message)
        return not_applicable(check_id, facts, NO_ROUTER, verdict.notes)
    ctx = SiteContext.from_site_facts(facts)
    if not ctx.of_role(*roles) and not verdict.fails:
        return not_applicable(check_id, facts, no_target, verdict.notes)
    pp = PortPolicy.from_policy(policy)
    for router in readable_routers(facts, verdict, check_id, policy):
        for fwd in router.config.forwards:
            _forward_evidence(check_id, router, fwd, ctx, pp, verdict)
    return finish(check_id, facts, verdict, pass_message)
