"""Never a silent pass (issue 15): what a parser could not fully understand (RouterConfig.unparsed) makes
every check it could change `error` (or `manual` by policy), naming the line; a fail stays a fail.

The site below passes every router check with nothing unparsed (written from the inputs: no forwards,
SIP ALG and UPnP off, phones in the voice VLAN's subnet), so each error seen is the unparsed item's.
The construct -> checks table is written out here from the brief, not read from the code under test.
"""
from __future__ import annotations

import pytest

from device_drivers.facts import DeviceFacts, Fact
from firewall.model import FeatureState, PortForward, PortRange, RouterConfig, SourceRef, Unparsed, Vlan
from hardening.checks.registry import run_checks
from hardening.engine.analyze import ROUTER_CHECKS, analyze
from hardening.model.exposure import UNPARSED_CHECKS, classify_forwards
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

SERVER_LAN, SERVER_WAN, PHONE, PX = "192.168.1.10", "10.0.0.2", "192.168.20.50", "192.168.1.60"
FORWARD = {"AWX-SRV-002", "AWX-SRV-007", "AWX-PHN-003", "AWX-PX-003", "NET-NAT-001", "NET-NAT-002", "NET-SIP-001",
           "NET-VPN-001", "NET-EXP-001"}
EXPECTED = {
    "nat": FORWARD, "forward": FORWARD, "filter": FORWARD,
    "helper": {"NET-ALG-001"}, "upnp": {"NET-UPNP-001"}, "vlan": {"NET-VLAN-001"},
    "address_list": {"NET-SIP-001", "NET-VPN-001", "NET-EXP-001"},
    "interface": FORWARD | {"NET-VLAN-001"},
}
LINE = "ip nat inside source route-map WEIRD pool P1 overload"


def config(*unparsed: Unparsed, forwards=()) -> RouterConfig:
    voice = Vlan(20, "VOICE", subnet="192.168.20.0/24", voice=True, source_ref=SourceRef("show vlan", 4, text="20"))
    return RouterConfig("cisco_ios", forwards=list(forwards), vlans=[voice], upnp=FeatureState(False, "no upnp"),
                        sip_alg=FeatureState(False, "no ip nat service sip"), unparsed=list(unparsed))


def site(cfg: RouterConfig, peers=(), lost_page=None) -> SiteFacts:
    facts = {"lost_password_page": Fact(lost_page, "device", "http:/lostPass.asp", "")} if lost_page else {}
    devices = [DeviceFacts(1, "allworx_server", "pbx", SERVER_LAN, SERVER_WAN, facts=facts),
               DeviceFacts(2, "allworx_phone", "phone0", PHONE), DeviceFacts(3, "px_expander", "px0", PX)]
    return SiteFacts(SiteInfo("clinic", allowed_sip_peers=list(peers)), devices,
                     [RouterFacts(5, "edge1", cfg, source="ssh:192.168.1.1")])


def statuses(facts: SiteFacts, policy: Policy | None = None, checks=ROUTER_CHECKS) -> dict[str, object]:
    return {r.check_id: r for r in run_checks(facts, policy or Policy(), checks)}


def item(construct: str, line: int = 12) -> Unparsed:
    return Unparsed("show running-config", line, LINE, construct, "route-map NAT is not read")


def test_the_clean_site_passes_every_router_check():
    results = statuses(site(config()))
    assert {c: r.status for c, r in results.items()} == {c: "pass" for c in ROUTER_CHECKS}


def test_the_table_covers_every_construct_of_the_contract():
    from firewall.model import UNPARSED_CONSTRUCTS
    assert set(UNPARSED_CHECKS) == set(UNPARSED_CONSTRUCTS) == set(EXPECTED)


@pytest.mark.parametrize("construct", sorted(EXPECTED))
def test_an_unparsed_item_errors_exactly_the_checks_it_could_change(construct):
    results = statuses(site(config(item(construct))))
    expected = {c: "error" if c in EXPECTED[construct] else "pass" for c in ROUTER_CHECKS}
    assert {c: r.status for c, r in results.items()} == expected
    for check_id in EXPECTED[construct]:
        result = results[check_id]
        [ev] = [e for e in result.evidence if "not understood" in e.detail]
        assert ev.source == "router:edge1 show running-config line 12"
        assert ev.excerpt == LINE and "route-map NAT is not read" in ev.detail and construct in ev.detail
        assert "route-map NAT is not read" in result.message


def test_an_unknown_construct_touches_every_router_check():
    results = statuses(site(config(item("something_new"))))
    assert {r.status for r in results.values()} == {"error"}


def test_a_fail_stays_a_fail_with_the_unparsed_line_beside_it():
    admin = PortForward("dnat", "tcp", SERVER_LAN, external_ports=[PortRange(8080, 8080)],
                        source_ref=SourceRef("show running-config", 9, text="ip nat inside source static tcp ..."))
    result = statuses(site(config(item("nat"), forwards=[admin])), checks=["AWX-SRV-007"])["AWX-SRV-007"]
    assert result.status == "fail" and "admin port 8080" in result.message
    assert [e.source for e in result.evidence[:2]] == ["router:edge1 show running-config line 9",
                                                        "router:edge1 show running-config line 12"]


def test_policy_can_make_a_construct_manual_but_never_pass():
    policy = Policy({"unparsed_verdicts": {"vlan": "manual"}})
    results = statuses(site(config(item("vlan"), item("helper", 30))), policy)
    assert results["NET-VLAN-001"].status == "manual"
    assert "line 12" in results["NET-VLAN-001"].evidence[0].source
    assert results["NET-ALG-001"].status == "error"          # the default stays error
    everything = Policy({"unparsed_verdicts": {"default": "manual"}})
    assert statuses(site(config(item("nat"))), everything)["NET-EXP-001"].status == "manual"
    nonsense = Policy({"unparsed_verdicts": {"default": "pass"}})          # not a status it may give
    assert statuses(site(config(item("nat"))), nonsense)["NET-EXP-001"].status == "error"


def test_srv008_follows_the_admin_forwards_into_manual_not_pass():
    policy = Policy({"unparsed_verdicts": {"default": "manual"}})
    facts = site(config(item("nat")))
    facts.devices[0].facts["vpn_configured"] = Fact(True, "device", "http:/vpn", "on")
    assert statuses(facts, policy, ["AWX-SRV-008"])["AWX-SRV-008"].status == "manual"
    assert statuses(facts, None, ["AWX-SRV-008"])["AWX-SRV-008"].status == "error"
    clean = site(config())
    clean.devices[0].facts["vpn_configured"] = Fact(True, "device", "http:/vpn", "on")
    assert statuses(clean, None, ["AWX-SRV-008"])["AWX-SRV-008"].status == "pass"


def test_srv009_lan_served_page_with_unparsed_nat_is_error_not_pass():
    served = [{"port": 8080, "path": "/lostPass.asp", "state": "open", "status": 200,
               "markers_found": ["Security Key"], "reason": ""}]
    clean = statuses(site(config(), lost_page=served), checks=["AWX-SRV-009"])["AWX-SRV-009"]
    assert clean.status == "pass"                    # served on the LAN, no forward reaches 8080
    unread = statuses(site(config(item("forward")), lost_page=served), checks=["AWX-SRV-009"])["AWX-SRV-009"]
    assert unread.status == "error" and "line 12" in unread.evidence[0].source


# --- negated sources and IPv6 pinholes ---------------------------------------------------------------

def _fwd(port: int, proto: str = "udp", to: str = SERVER_LAN, **kw) -> PortForward:
    return PortForward("dnat", proto, to, external_ports=[PortRange(port, port)],
                       source_ref=SourceRef("nft list ruleset", 40, text=f"dport {port} dnat to {to}"), **kw)


def test_negated_source_is_any_source_but_those():
    sip = _fwd(5060, source_exclusions=["203.0.113.9"])
    result = statuses(site(config(forwards=[sip]), peers=["198.51.100.0/24"]), checks=["NET-SIP-001"])
    assert result["NET-SIP-001"].status == "fail" and "open to any source" in result["NET-SIP-001"].message
    rdp = _fwd(3389, "tcp", "192.168.1.77", source_exclusions=["203.0.113.9"])
    exp = statuses(site(config(forwards=[rdp])), checks=["NET-EXP-001"])["NET-EXP-001"]
    assert exp.status == "fail" and "critical" in exp.message and "from any source but 203.0.113.9" in exp.message


@pytest.mark.parametrize("restriction", [["!203.0.113.9"], ["list:carriers"]])
def test_pptp_limited_by_a_negation_or_an_unresolved_list_is_not_limited(restriction):
    pptp = _fwd(1723, "tcp", source_restriction=restriction)
    result = statuses(site(config(forwards=[pptp])), checks=["NET-VPN-001"])["NET-VPN-001"]
    assert result.status == "fail" and "from any internet address" in result.message
    limited = _fwd(1723, "tcp", source_restriction=["198.51.100.0/24"])
    assert statuses(site(config(forwards=[limited])), checks=["NET-VPN-001"])["NET-VPN-001"].status == "pass"


def test_ipv6_pinhole_is_an_exposure_like_any_forward():
    server6 = "2001:db8:1::10"
    facts = site(config(forwards=[PortForward("ipv6_pinhole", "tcp", server6, external_ports=[PortRange(8080, 8080)],
                                              source_ref=SourceRef("nft list ruleset", 50, text="ip6 daddr ..."))]))
    facts.devices[0].address = server6
    assert statuses(facts, checks=["AWX-SRV-007"])["AWX-SRV-007"].status == "fail"
    ssh = PortForward("ipv6_pinhole", "tcp", "2001:db8:1::77", external_ports=[PortRange(22, 22)])
    exp = statuses(site(config(forwards=[ssh])), checks=["NET-EXP-001"])["NET-EXP-001"]
    assert exp.status == "fail" and exp.message.startswith("1 forward open to the internet") and "high" in exp.message
    [row] = classify_forwards(config(forwards=[ssh]), site(config()))
    assert row["check_ids"] == ["NET-EXP-001"] and row["kind"] == "ipv6_pinhole"


# --- analyze-config -----------------------------------------------------------------------------------

def test_analyze_lists_unparsed_items_with_the_checks_they_hold_back():
    out = analyze(config(item("helper", 7)), server_lan_ip=SERVER_LAN, phone_ips=[PHONE])
    assert out["unparsed"] == [{"command": "show running-config", "line": 7, "text": LINE, "construct": "helper",
                                "reason": "route-map NAT is not read", "check_ids": ["NET-ALG-001"]}]
    [warning] = [w for w in out["warnings"] if w["line"] == 7]
    assert "not understood (helper)" in warning["message"] and "NET-ALG-001" in warning["message"]
    findings = {f["check_id"]: f["status"] for f in out["findings"]}
    assert findings["NET-ALG-001"] == "error" and findings["NET-VPN-001"] == "pass"
    assert list(findings) == list(ROUTER_CHECKS) and ROUTER_CHECKS[-2:] == ("NET-VPN-001", "NET-EXP-001")


def test_pptp_forward_to_the_server_trips_net_vpn_001_in_the_classification():
    """NET-VPN-001 is decided from forwards, so forward_triggers names it (and NET-EXP-001 defers to it)."""
    pptp = _fwd(1723, "tcp", SERVER_WAN)
    [row] = classify_forwards(config(forwards=[pptp]), site(config()))
    assert row["check_ids"] == ["NET-VPN-001"] and row["classification"] == "dangerous"
    assert "PPTP forward from any internet address" in row["reasons"][0]
    exp = statuses(site(config(forwards=[pptp])), checks=["NET-EXP-001"])["NET-EXP-001"]
    assert exp.status == "pass" and "reported by NET-VPN-001" in exp.evidence[0].detail
    limited = _fwd(1723, "tcp", SERVER_WAN, source_restriction=["198.51.100.7"])
    [row] = classify_forwards(config(forwards=[limited]), site(config()))
    assert "NET-VPN-001" not in row["check_ids"]          # limited: NET-EXP-001 rates it, lowered
