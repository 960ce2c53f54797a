"""Exposure analysis over hand-built RouterConfigs: port sides, protocols, scope, restrictions, verdicts."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_drivers.facts import DeviceFacts
from firewall.exposure import (
    address_matches,
    external_addresses,
    internet_facing,
    is_forward_all,
    reach,
    reaching,
    restriction_within,
)
from firewall.model import Interface, PortForward, PortRange, RouterConfig, SourceRef
from hardening.model.exposure import PortPolicy, SiteContext, Target, classify_forwards, forward_triggers, is_rtp
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo

SERVER_LAN, SERVER_WAN, PHONE, PX = "192.168.1.10", "10.0.0.2", "192.168.1.50", "192.168.1.60"
PP = PortPolicy.from_policy(Policy())
P8080 = (PortRange(8080, 8080),)


def ports(*specs) -> list[PortRange]:
    return [PortRange(s, s) if isinstance(s, int) else PortRange(*s) for s in specs]


def fwd(to: str, proto: str = "tcp", ext=None, internal=None, kind: str = "dnat", line: int = 1,
        **kw) -> PortForward:
    return PortForward(kind, proto, to, external_ports=ext, internal_ports=internal,
                       source_ref=SourceRef("show nat", line, None, f"rule{line}", f"raw line {line}"), **kw)


def ctx(peers=(), services=()) -> SiteContext:
    return SiteContext([Target(SERVER_LAN, "server_lan", "pbx"), Target(SERVER_WAN, "server_wan", "pbx"),
                        Target(PHONE, "phone", "101"), Target(PX, "px", "px1")], list(peers), list(services))


def checks_of(forward: PortForward, context: SiteContext | None = None) -> set[str]:
    return {t.check_id for t in forward_triggers(forward, context or ctx(), PP) if not t.passed}


# --- address and port matching -------------------------------------------------------------------

@pytest.mark.parametrize("internal, address, expected", [
    ("192.168.1.10", "192.168.1.10", True), ("192.168.1.11", "192.168.1.10", False),
    ("192.168.1.0/24", "192.168.1.10", True), ("192.168.2.0/24", "192.168.1.10", False),
    ("192.168.1.5-192.168.1.20", "192.168.1.10", True), ("192.168.1.11-192.168.1.20", "192.168.1.10", False),
    (None, "192.168.1.10", False), ("pool-a", "192.168.1.10", False)])
def test_address_matches(internal, address, expected):
    assert address_matches(internal, address) is expected


def test_8080_to_80_involves_8080_on_the_external_side_only():
    hit = reach(fwd(SERVER_LAN, ext=ports(8080), internal=ports(80)), SERVER_LAN, P8080, "tcp")
    assert hit is not None
    assert hit.external == [PortRange(8080, 8080)] and hit.internal == []
    assert "8080 on the external side" in hit.describe() and "internal side" not in hit.describe()


def test_80_to_8080_involves_8080_on_the_internal_side_only():
    hit = reach(fwd(SERVER_LAN, ext=ports(80), internal=ports(8080)), SERVER_LAN, P8080, "tcp")
    assert hit is not None
    assert hit.external == [] and hit.internal == [PortRange(8080, 8080)]
    assert "8080 on the internal side" in hit.describe()


def test_port_lists_and_ranges():
    wanted = (PortRange(8080, 8080),)
    assert reach(fwd(SERVER_LAN, ext=ports(80, 443, (8000, 8100))), SERVER_LAN, wanted, "tcp").external == \
        [PortRange(8080, 8080)]
    assert reach(fwd(SERVER_LAN, ext=ports(80, (8081, 8090))), SERVER_LAN, wanted, "tcp") is None
    media = (PortRange(16384, 16393),)
    rtp = reach(fwd(SERVER_WAN, "udp", ext=ports((16000, 17000))), SERVER_WAN, media, "udp")
    assert rtp.external == [PortRange(16384, 16393)]


def test_offset_mapping_range_to_single_start_port_keeps_internal_side():
    rule = fwd(SERVER_LAN, ext=ports((9000, 9010)), internal=ports((8075, 8085)))   # 9005 -> 8080
    hit = reach(rule, SERVER_LAN, (PortRange(8080, 8080),), "tcp")
    assert hit.internal == [PortRange(8080, 8080)] and hit.external == []


@given(lo=st.integers(1, 9000), size=st.integers(1, 200), start=st.one_of(st.none(), st.integers(1, 9000)))
def test_any_mapping_onto_8080_is_found(lo, size, start):
    """Whenever some external port lands on 8080, or 8080 is taken outside, the rule involves 8080."""
    internal = None if start is None else ports((start, start + size - 1))
    rule = fwd(SERVER_LAN, ext=ports((lo, lo + size - 1)), internal=internal)
    lands = any(rule.internal_port_for(p) == 8080 for p in range(lo, lo + size))
    taken = lo <= 8080 < lo + size
    assert (reach(rule, SERVER_LAN, P8080, "tcp") is not None) is (lands or taken)


@pytest.mark.parametrize("proto, asked, expected", [
    ("tcp_udp", "tcp", True), ("tcp_udp", "udp", True), ("any", "tcp", True), ("any", "udp", True),
    ("udp", "tcp", False), ("tcp", "udp", False), ("other:gre", "tcp", False)])
def test_protocol_matching(proto, asked, expected):
    assert (reach(fwd(SERVER_LAN, proto, ext=ports(8080)), SERVER_LAN, (PortRange(8080, 8080),), asked)
            is not None) is expected


@pytest.mark.parametrize("rule, expected", [
    (fwd(SERVER_LAN, "any", kind="dmz"), True), (fwd(SERVER_LAN, "any", kind="static_1to1"), True),
    (fwd(SERVER_LAN, "tcp", ext=None), True), (fwd(SERVER_LAN, "tcp", ext=ports(80)), False),
    (fwd(SERVER_LAN, "other:gre", ext=None), False)])
def test_forward_all(rule, expected):
    assert is_forward_all(rule) is expected


def test_forward_all_reaches_every_port_on_both_sides():
    hit = reach(fwd(SERVER_LAN, "any", kind="dmz"), SERVER_LAN, (PortRange(25, 25),), "tcp")
    assert hit.external == [PortRange(25, 25)] and hit.internal == [PortRange(25, 25)]


def test_interface_bound_external_address_resolves_and_lan_binding_is_not_exposure():
    config = RouterConfig("cisco_ios", interfaces=[
        Interface("Gi0/1", ["203.0.113.10/29"], role="wan"),
        Interface("Gi0/0", ["192.168.1.1/24"], role="lan")])
    wan_rule = fwd(SERVER_LAN, ext=ports(8080), external_ip="interface:Gi0/1")
    lan_rule = fwd(SERVER_LAN, ext=ports(8080), external_ip="interface:Gi0/0")
    assert external_addresses(wan_rule, config) == ["203.0.113.10/29"]
    assert internet_facing(wan_rule, config) and not internet_facing(lan_rule, config)
    config.forwards = [wan_rule, lan_rule]
    exposed = [r.forward for r in reaching(config, SERVER_LAN) if r.exposed]
    assert exposed == [wan_rule]


@pytest.mark.parametrize("sources, facing", [
    (["192.168.26.0/24", "10.0.0.0/24"], False), (["fd63:e2f:f706::/60"], False),
    (["192.168.26.0/24", "198.51.100.7"], True), (["198.51.100.0/24"], True), (["lan-hosts"], True),
    (None, True)])
def test_rules_limited_to_lan_sources_are_not_internet_facing(sources, facing):
    rule = fwd(SERVER_LAN, ext=ports(22), source_restriction=sources)
    assert internet_facing(rule, RouterConfig("linux")) is facing
    assert ("only LAN sources" in reach(rule, SERVER_LAN).describe()) is not facing


def test_disabled_rule_is_reported_but_not_exposed():
    config = RouterConfig("vyos", forwards=[fwd(SERVER_LAN, ext=ports(8080), enabled=False)])
    found = reaching(config, SERVER_LAN, (PortRange(8080, 8080),), "tcp")
    assert len(found) == 1 and not found[0].exposed
    assert "disabled" in found[0].describe()


@pytest.mark.parametrize("restriction, allowed, outside", [
    (["198.51.100.0/28"], ["198.51.100.0/24"], []),
    (["198.51.100.7"], ["198.51.100.0/24", "203.0.113.0/24"], []),
    (["198.51.0.0/16"], ["198.51.100.0/24"], ["198.51.0.0/16"]),
    (["203.0.113.9", "192.0.2.1"], ["203.0.113.0/24"], ["192.0.2.1"]),
    (None, ["198.51.100.0/24"], ["any source"]),
    (["sip-peers"], ["198.51.100.0/24"], ["sip-peers"]),
    (["2001:db8::1"], ["198.51.100.0/24"], ["2001:db8::1"]),
    (["198.51.100.7"], [], ["198.51.100.7"])])
def test_restriction_within_allowed_peers(restriction, allowed, outside):
    assert restriction_within(restriction, allowed) == outside


@pytest.mark.parametrize("rule, expected", [
    (fwd(SERVER_WAN, "udp", ext=ports((16384, 16393))), True),
    (fwd(SERVER_WAN, "tcp_udp", ext=ports((10000, 20000))), True),
    (fwd(SERVER_WAN, "udp", ext=ports((16384, 16385))), True),          # overlaps a known PBX range
    (fwd(SERVER_WAN, "udp", ext=ports(16384)), False),                  # one port is not a media range
    (fwd(SERVER_WAN, "udp", ext=ports(5060)), False),
    (fwd(SERVER_WAN, "tcp", ext=ports((10000, 20000))), False),
    (fwd(SERVER_WAN, "udp", ext=ports((100, 300))), False),             # wide but below 1024
    (fwd(SERVER_WAN, "udp", ext=ports(3000), internal=ports((40000, 40019))), True)])
def test_rtp_detection(rule, expected):
    assert is_rtp(rule, PP) is expected


# --- triggers ------------------------------------------------------------------------------------

def test_triggers_per_target_role():
    assert checks_of(fwd(SERVER_LAN, ext=ports(8080), internal=ports(80))) == {"AWX-SRV-002", "AWX-SRV-007"}
    assert checks_of(fwd(SERVER_WAN, ext=ports(8080))) == {"AWX-SRV-007"}
    assert checks_of(fwd(PHONE, ext=ports(80), internal=ports(8080))) == {"AWX-SRV-007", "AWX-PHN-003"}
    assert checks_of(fwd(PX, "tcp_udp", ext=ports(443))) == {"AWX-PX-003"}
    assert checks_of(fwd(SERVER_WAN, ext=ports(25, 587))) == {"NET-NAT-002"}
    assert checks_of(fwd("192.168.1.99", ext=ports(8080))) == set()


def test_dmz_to_server_lan_trips_every_forward_check():
    assert checks_of(fwd(SERVER_LAN, "any", kind="static_1to1")) == {
        "AWX-SRV-002", "NET-NAT-001", "AWX-SRV-007", "NET-NAT-002", "NET-SIP-001",
        "NET-VPN-001"}                      # all ports include PPTP's TCP 1723


def test_sip_trigger_depends_on_restriction():
    peers = ctx(peers=["198.51.100.0/24"])
    assert checks_of(fwd(SERVER_WAN, "udp", ext=ports((5060, 5061))), peers) == {"NET-SIP-001"}
    inside = fwd(SERVER_WAN, "udp", ext=ports((5060, 5061)), source_restriction=["198.51.100.0/28"])
    assert checks_of(inside, peers) == set()
    assert [t.check_id for t in forward_triggers(inside, peers, PP) if t.passed] == ["NET-SIP-001"]
    outside = fwd(SERVER_WAN, "udp", ext=ports(2088), source_restriction=["192.0.2.0/24"])
    assert checks_of(outside, peers) == {"NET-SIP-001"}


def test_upnp_dynamic_mapping_to_phone_trips_upnp_check():
    assert "NET-UPNP-001" in checks_of(fwd(PHONE, "udp", ext=ports(5062), kind="upnp_dynamic"))


# --- classification ------------------------------------------------------------------------------

def _site_facts(services=(), peers=()) -> SiteFacts:
    return SiteFacts(SiteInfo(required_wan_services=list(services), allowed_sip_peers=list(peers)),
                     devices=[DeviceFacts(1, "allworx_server", "pbx", SERVER_LAN, SERVER_WAN),
                              DeviceFacts(2, "allworx_phone", "101", PHONE)])


def test_classify_forwards_from_site_facts():
    config = RouterConfig("ubiquiti_edgerouter", interfaces=[Interface("eth1", role="lan")], forwards=[
        fwd(SERVER_WAN, "udp", ext=ports((5060, 5061)), line=10, source_restriction=["198.51.100.7"]),
        fwd(SERVER_LAN, ext=ports(8080), internal=ports(80), line=20),
        fwd("192.168.1.99", ext=ports(3389), line=30),
        fwd(SERVER_LAN, ext=ports(8080), line=40, enabled=False),
        fwd("192.168.1.98", "any", kind="dmz", line=50),
        fwd(SERVER_LAN, ext=ports(8080), line=60, external_if="eth1"),
        fwd("192.168.1.97", ext=ports(443), line=70)])
    out = classify_forwards(config, _site_facts(["sip", "tcp/443"], ["198.51.100.0/24"]), Policy())
    verdicts = [(f["index"], f["classification"]) for f in out]
    assert verdicts == [(0, "expected"), (1, "dangerous"), (2, "unexpected"), (3, "disabled"),
                        (4, "dangerous"), (5, "internal"), (6, "expected")]
    assert out[1]["check_ids"] == ["AWX-SRV-002", "AWX-SRV-007"]
    assert out[1]["source_ref"]["line"] == 20 and out[1]["external_ports"] == ["8080"]
    # issue 13: a DMZ host is an exposure of every port whatever it points at (NET-EXP-001, critical)
    assert out[3]["check_ids"] == [] and out[4]["check_ids"] == ["NET-EXP-001"]
    assert "every port" in out[4]["reasons"][0]


def test_classify_unrestricted_expected_service_is_still_dangerous():
    config = RouterConfig("vyos", forwards=[fwd(SERVER_WAN, "udp", ext=ports(5060))])
    # allow_list=False: the exposure verdict before the site's allow-list turns it into "expected" + advice
    # (tests/hardening/test_wan_services.py asserts that default)
    [out] = classify_forwards(config, _site_facts(["sip"], ["198.51.100.0/24"]), allow_list=False)
    assert out["classification"] == "dangerous" and out["check_ids"] == ["NET-SIP-001"]


def test_classify_partial_coverage_and_service_names():
    site = SiteContext([], [], ["tcp/443", "rtp", "nonsense"])
    config = RouterConfig("vyos", forwards=[fwd("192.168.1.97", ext=ports((443, 444))),
                                            fwd("192.168.1.96", "udp", ext=ports((16384, 16393)))])
    first, second = classify_forwards(config, site, Policy())
    assert first["classification"] == "unexpected"
    assert first["reasons"][0] == "not among the site's required WAN services"
    assert any("unknown or malformed service 'nonsense'" in r for r in first["reasons"])
    assert second["classification"] == "expected"


def test_classify_malformed_policy_service_is_reported_not_raised():
    site = SiteContext([], [], ["voip"])
    config = RouterConfig("vyos", forwards=[fwd("192.168.1.97", "udp", ext=ports(5060), kind="upnp_dynamic")])
    [out] = classify_forwards(config, site, Policy({"wan_services": {"voip": ["udp/five"]}}))
    assert out["classification"] == "unexpected"
    assert any("malformed service 'voip'" in r for r in out["reasons"])
    assert any("UPnP/NAT-PMP dynamic mapping" in r for r in out["reasons"])


def test_classify_honours_policy_overrides():
    site = SiteContext([Target(SERVER_LAN, "server_lan")], [], [])
    config = RouterConfig("vyos", forwards=[fwd(SERVER_LAN, ext=ports(8443))])
    [overridden] = classify_forwards(config, site, Policy({"admin_ports": [8443]}))
    [default] = classify_forwards(config, site, Policy())
    assert overridden["check_ids"] == ["AWX-SRV-002", "AWX-SRV-007"]
    assert default["check_ids"] == ["AWX-SRV-002"]
