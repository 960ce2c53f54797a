"""AWX-SRV-009: the admin UI's password-recovery page (lostPass.asp on some 6x releases) is not
reachable from the internet.

The page is an unauthenticated form showing a "Security Key" and a "System Unique ID" and taking a
reset code and a new admin password (allworx-reference.md section 8, [C-3p]; releases affected:
unknown, so its paths and the words that identify it are policy data, `lost_password_page`). The
evidence is a GET only, never a POST, and never the page's text: the outside probe's GET on the WAN
address (http_get probes), or the LAN GET of the server's probes channel (fact lost_password_page)
together with what makes the admin port reachable from the WAN (a router forward to it, WAN Admin on).
Nothing here computes or tries a reset code.
"""
from __future__ import annotations

from typing import Any

from device_drivers.facts import DeviceFacts
from firewall.exposure import reach
from firewall.model import PortRange
from hardening.checks.common import (
    NO_SERVER,
    Verdict,
    device_result,
    fact_evidence,
    outside_probes,
    per_device,
    readable_routers,
    ref_evidence,
    undecided,
)
from hardening.checks.registry import register_check
from hardening.model.probes import answered, failure
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts

CHECK = "AWX-SRV-009"


def judge(record: Any) -> tuple[str, str]:
    """(verdict, words) for one http_get record: "served" (2xx showing a marker of the form), "not_served"
    (3xx/4xx), "closed" (the port does not answer), "unclear" (no HTTP answer, 2xx without a marker,
    5xx) or "failed" (the probe could not ask)."""
    if failure(record) is not None:
        return "failed", f"the probe failed: {failure(record)}"
    heard = answered(record)
    if heard is None or not isinstance(record, dict):
        return "failed", "unreadable probe record"
    if heard is False:
        return "closed", "the port does not answer"
    status, found = record.get("status"), [str(m) for m in record.get("markers_found") or []]
    if not isinstance(status, int) or isinstance(status, bool):
        return "unclear", f"no HTTP answer ({str(record.get('reason') or 'none')[:120]})"
    if 200 <= status < 300:
        if found:
            return "served", f"HTTP {status}, the recovery form (shows {', '.join(found)})"
        return "unclear", (f"HTTP {status} without any of the form's words (policy lost_password_page.markers): "
                           "a person must look, and add this release's wording to the policy if it is the form")
    if 300 <= status < 500:
        return "not_served", f"HTTP {status}: not served"
    return "unclear", f"HTTP {status}: the server failed, which does not tell whether the page exists"


def _excerpt(record: dict[str, Any]) -> str:
    """What the probe saw, never the page: status, Server header, the markers found."""
    found = ", ".join(str(m) for m in record.get("markers_found") or []) or "none"
    return (f"state {record.get('state')}, HTTP {record.get('status')}, Server: {str(record.get('server', ''))[:60]}, "
            f"markers found: {found}")


class _Seen:
    def __init__(self) -> None:
        self.fails: list[Evidence] = []
        self.errors: list[Evidence] = []
        self.unclear: list[Evidence] = []
        self.passes: list[Evidence] = []

    def add(self, verdict: str, evidence: Evidence) -> None:
        by_verdict = {"served": self.fails, "failed": self.errors, "unclear": self.unclear}
        by_verdict.get(verdict, self.passes).append(evidence)


def _from_outside(dev: DeviceFacts, facts: SiteFacts, seen: _Seen) -> None:
    for key, record in outside_probes(dev, facts).items():
        if not key.startswith("http_get/"):
            continue
        _kind, port, path = (key.split("/", 2) + ["", ""])[:3]        # http_get/8080/lostPass.asp
        verdict, words = judge(record)
        detail = f"from the internet: GET /{path} on TCP {port} of the WAN address: {words}"
        seen.add(verdict, Evidence(detail, _excerpt(record) if isinstance(record, dict) else str(record)[:200],
                                   f"probe:{key}", "observed"))


def _wan_routes(dev: DeviceFacts, facts: SiteFacts, port: int, policy) -> tuple[list[Evidence], Verdict, bool]:
    """How the internet reaches admin TCP `port` of this server: (failing evidence, the routers' errors and
    lines not understood, whether any router was read). A forward to the server's LAN or WAN address
    delivering to that port counts, restricted or not (as AWX-SRV-007 counts it); disabled and LAN-bound
    rules do not."""
    verdict = Verdict()
    routers = readable_routers(facts, verdict, CHECK, policy)
    fails: list[Evidence] = []
    for router in routers:
        for fwd in router.config.forwards:
            for address in filter(None, (dev.address, dev.wan_address)):
                hit = reach(fwd, address, (PortRange(port, port),), "tcp", router.config)
                if hit is not None and hit.exposed:
                    fails.append(ref_evidence(router, fwd.source_ref, f"reachable from the WAN through forward "
                                              f"{hit.describe()}"))
    admin = dev.get("wan_admin_enabled")
    if admin is not None and admin.value is True:
        fails.append(fact_evidence(admin, "WAN Admin is on: the admin UI, recovery page included, answers on the "
                                   "server's WAN port"))
    return fails, verdict, bool(routers)


def _from_lan(dev: DeviceFacts, facts: SiteFacts, seen: _Seen, policy) -> None:
    fact = dev.get("lost_password_page")
    if fact is None:
        return
    records = fact.value if isinstance(fact.value, list) else []
    if not records:
        seen.errors.append(fact_evidence(fact, "lost_password_page is not a list of GET records"))
    for record in records:
        if not isinstance(record, dict):
            seen.errors.append(fact_evidence(fact, "unreadable lost_password_page record"))
            continue
        port, path = record.get("port"), str(record.get("path", ""))[:200]
        verdict, words = judge(record)
        where = f"GET {path} on the admin UI (TCP {port}) from the LAN: {words}"
        if verdict != "served" or not isinstance(port, int) or isinstance(port, bool):
            # served on the LAN, but whether the WAN reaches it is another question (below); a closed LAN
            # port or a record without its port says nothing about the WAN
            lan_only = verdict in ("closed", "served")
            seen.add("unclear" if lan_only else verdict, fact_evidence(fact, where, _excerpt(record)))
            continue
        routes, unread, read = _wan_routes(dev, facts, port, policy)
        lan = fact_evidence(fact, where, _excerpt(record))
        if routes:
            seen.fails += [Evidence(f"{path} is served on TCP {port} and {e.detail}", e.excerpt, e.source, e.provenance)
                           for e in routes] + [lan]
        elif unread.errors:
            seen.errors += unread.errors + unread.manual + [lan]
        elif unread.manual:
            seen.unclear += unread.manual + [lan]
        elif read:
            admin = dev.get("wan_admin_enabled")
            off = " and WAN Admin is off" if admin is not None and admin.value is False else " (WAN Admin not read)"
            seen.passes.append(fact_evidence(fact, f"{where}; no router forward reaches TCP {port}{off}",
                                             _excerpt(record)))
        else:
            seen.unclear.append(fact_evidence(fact, f"{where}; no router in inventory to tell whether the WAN "
                                              "reaches it", _excerpt(record)))


@register_check(CHECK)
def recovery_page_not_exposed(facts: SiteFacts, policy) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        seen = _Seen()
        _from_outside(dev, facts, seen)
        _from_lan(dev, facts, seen, policy)
        if seen.fails:
            return device_result(CHECK, dev, "fail", "the admin password-recovery form is reachable from the "
                                 f"internet: {seen.fails[0].detail}",
                                 seen.fails + seen.errors + seen.unclear + seen.passes)
        if seen.errors:
            return device_result(CHECK, dev, "error", f"could not decide: {seen.errors[0].detail}",
                                 seen.errors + seen.unclear + seen.passes)
        if seen.unclear:
            return device_result(CHECK, dev, "manual", f"not decided: {seen.unclear[0].detail}",
                                 seen.unclear + seen.passes)
        if seen.passes:
            return device_result(CHECK, dev, "pass", f"the password-recovery page is not reachable from the "
                                 f"internet: {seen.passes[0].detail}", seen.passes)
        return undecided(CHECK, dev, "lost_password_page", "password-recovery page not checked: configure the "
                         "outside probe, or let the server's probes channel read the admin UI")
    return per_device(CHECK, facts, ("allworx_server",), NO_SERVER, one)
