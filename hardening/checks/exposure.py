"""NET-EXP-001: every forward open to the internet, to any host, that no required WAN service covers.

The result is one per site; its severity in the catalog is the worst a finding can be (critical). Each
failing forward is one fail evidence whose detail starts with its own severity ("critical: rdp
(tcp_udp/3389) forwarded to 192.168.2.6, from any source: ..."), worst first, and the message counts
them per severity. Disabled and LAN-bound rules, allow-listed ones and forwards a more specific check
already fails on (AWX-SRV-007, NET-NAT-002, ...) are notes. A router that could not be read is error
evidence: with nothing failing the result is `error`, never a pass.
"""
from __future__ import annotations

from hardening.checks.common import NO_ROUTER, Verdict, finish, not_applicable, readable_routers, ref_evidence
from hardening.checks.registry import register_check
from hardening.model.exposed_services import SEVERITIES, own_addresses
from hardening.model.exposure import EXPOSURE_CHECK, ExposurePolicy, PortPolicy, SiteContext, forward_exposure
from hardening.model.results import CheckResult, Evidence
from hardening.model.services import required_services
from hardening.model.site import SiteFacts

PASS = "no forward open to the internet outside the site's required WAN services"


def _counted(severities: list[str]) -> str:
    return ", ".join(f"{severities.count(s)} {s}" for s in reversed(SEVERITIES) if s in severities)


@register_check(EXPOSURE_CHECK)
def no_unexpected_forward(facts: SiteFacts, policy) -> list[CheckResult]:
    if not facts.routers:
        return [not_applicable(EXPOSURE_CHECK, facts, NO_ROUTER)]
    ctx, pp = SiteContext.from_site_facts(facts), PortPolicy.from_policy(policy)
    services, xp = required_services(ctx.required_wan_services, policy), ExposurePolicy.from_policy(policy)
    verdict, failing = Verdict(), []
    for router in readable_routers(facts, verdict, EXPOSURE_CHECK, policy):
        own = own_addresses(router.config)
        for fwd in router.config.forwards:
            exposure = forward_exposure(fwd, ctx, pp, services, xp, router.config, own=own)
            evidence = ref_evidence(router, fwd.source_ref, exposure.reason)
            if exposure.status == "fail":
                failing.append((exposure.severity, evidence))
            else:
                verdict.notes.append(evidence)
    failing.sort(key=lambda item: -SEVERITIES.index(item[0]))        # stable: worst first, then config order
    verdict.fails = [evidence for _, evidence in failing]
    verdict.notes += [Evidence(note, source="policy") for note in (*services.notes, *xp.notes)]
    result = finish(EXPOSURE_CHECK, facts, verdict, PASS)
    if result.status == "fail":
        many = len(failing)
        result.message = (f"{many} forward{'s' if many > 1 else ''} open to the internet that no required WAN "
                          f"service covers ({_counted([s for s, _ in failing])}); worst: {failing[0][1].detail}")
    return [result]
