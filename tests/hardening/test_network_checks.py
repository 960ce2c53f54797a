"""The ten router checks over hand-built SiteFacts: pass and fail for each, evidence pointing at the rule."""
from __future__ import annotations

import pytest

from device_drivers.facts import DeviceFacts, Fact
from firewall.model import FeatureState, Interface, PortForward, PortRange, RouterConfig, SourceRef, SwitchPort, Vlan
from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

SERVER_LAN, SERVER_WAN, PHONE, PX = "192.168.1.10", "10.0.0.2", "192.168.20.50", "192.168.1.60"
ROUTER_CHECKS = ("AWX-SRV-002", "AWX-SRV-007", "AWX-PHN-003", "AWX-PX-003", "NET-NAT-001", "NET-NAT-002",
                 "NET-SIP-001", "NET-ALG-001", "NET-UPNP-001", "NET-VLAN-001")


def ports(*specs) -> list[PortRange]:
    return [PortRange(s, s) if isinstance(s, int) else PortRange(*s) for s in specs]


def fwd(to: str, proto: str = "tcp", ext=None, internal=None, kind: str = "dnat", line: int = 7,
        **kw) -> PortForward:
    ref = SourceRef("show configuration", line, None, f"nat-{line}", f"rule {line} -> {to}")
    return PortForward(kind, proto, to, external_ports=ext, internal_ports=internal, source_ref=ref, **kw)


def facts(*forwards: PortForward, phones=(PHONE,), pxs=(PX,), peers=(), source="ssh:192.168.1.1",
          server=True, config: RouterConfig | None = None, **site) -> SiteFacts:
    cfg = config or RouterConfig("vyos")
    cfg.forwards += list(forwards)
    devices = [DeviceFacts(1, "allworx_server", "pbx", SERVER_LAN, SERVER_WAN)] if server else []
    devices += [DeviceFacts(10 + i, "allworx_phone", f"phone{i}", ip) for i, ip in enumerate(phones)]
    devices += [DeviceFacts(20 + i, "px_expander", f"px{i}", ip) for i, ip in enumerate(pxs)]
    return SiteFacts(SiteInfo(allowed_sip_peers=list(peers), **site), devices,
                     [RouterFacts(5, "edge1", cfg, source=source)])


def run(check_id: str, site: SiteFacts, policy: Policy | None = None):
    [result] = load_all()[check_id].evaluate(site, policy or Policy())
    return result


def sources(result) -> list[str]:
    return [e.source for e in result.evidence]


# --- generic gates -------------------------------------------------------------------------------

@pytest.mark.parametrize("check_id", ROUTER_CHECKS)
def test_no_router_is_not_applicable(check_id):
    site = facts()
    site.routers = []
    result = run(check_id, site)
    assert result.status == "not_applicable" and result.message == "no router in inventory"


@pytest.mark.parametrize("check_id", ROUTER_CHECKS)
def test_router_error_is_error_never_pass(check_id):
    site = facts(config=RouterConfig("vyos", vlans=[Vlan(20, "voice", voice=True)]))
    site.routers = [RouterFacts(5, "edge1", None, error="ssh: authentication failed", source="ssh:10.1.1.1")]
    result = run(check_id, site)
    assert result.status == "error" and "authentication failed" in result.message
    assert result.device_id == 5


def test_fail_on_one_router_beats_error_on_another():
    site = facts(fwd(SERVER_LAN, ext=ports(443)))
    site.routers.append(RouterFacts(6, "edge2", None, error="timeout", source="ssh:192.168.1.2"))
    result = run("AWX-SRV-002", site)
    assert result.status == "fail" and result.device_id is None
    assert any("timeout" in e.detail for e in result.evidence)


# --- AWX-SRV-002 ---------------------------------------------------------------------------------

def test_srv002_forward_to_server_wan_is_fine():
    result = run("AWX-SRV-002", facts(fwd(SERVER_WAN, "udp", ext=ports(5060), line=3)))
    assert result.status == "pass" and result.device_id == 5


def test_srv002_port_forward_to_server_lan_fails_with_rule_reference():
    result = run("AWX-SRV-002", facts(fwd(SERVER_LAN, ext=ports(443), line=42)))
    assert result.status == "fail" and result.provenance == "device"
    [ev] = result.evidence
    assert ev.source == "router:edge1 show configuration line 42 rule nat-42"
    assert ev.excerpt == "rule 42 -> 192.168.1.10" and "server's LAN address" in ev.detail


def test_srv002_one_to_one_nat_to_server_lan_fails():
    result = run("AWX-SRV-002", facts(fwd(SERVER_LAN, "any", kind="static_1to1", line=12)))
    assert result.status == "fail" and "static_1to1" in result.evidence[0].detail


def test_srv002_restricted_forward_still_fails_and_says_so():
    result = run("AWX-SRV-002", facts(fwd(SERVER_LAN, ext=ports(443), source_restriction=["198.51.100.7"])))
    assert result.status == "fail" and "restricted to 198.51.100.7" in result.evidence[0].detail


def test_srv002_disabled_rule_is_ignored_but_shown():
    result = run("AWX-SRV-002", facts(fwd(SERVER_LAN, ext=ports(443), line=9, enabled=False)))
    assert result.status == "pass"
    [ev] = result.evidence
    assert ev.detail.startswith("ignored, rule disabled") and "line 9" in ev.source


def test_srv002_nat_reflection_rule_from_lan_sources_is_ignored():
    reflection = fwd(SERVER_LAN, ext=ports(443), line=175, external_if="br-lan",
                     source_restriction=["192.168.1.0/24", "10.0.0.0/24"])
    result = run("AWX-SRV-002", facts(reflection))
    assert result.status == "pass"
    [ev] = result.evidence
    assert ev.detail.startswith("ignored, only LAN sources") and "line 175" in ev.source


def test_srv002_lan_bound_interface_rule_is_ignored():
    config = RouterConfig("cisco_ios", interfaces=[Interface("Gi0/0", ["192.168.1.1/24"], role="lan")])
    site = facts(fwd(SERVER_LAN, ext=ports(443), external_ip="interface:Gi0/0"), config=config)
    result = run("AWX-SRV-002", site)
    assert result.status == "pass" and "bound to LAN interface Gi0/0" in result.evidence[0].detail


def test_srv002_public_lan_address_fails():
    site = facts()
    site.devices[0].address = "52.1.2.3"   # 203.0.113.0/24 counts as private in Python
    result = run("AWX-SRV-002", site)
    assert result.status == "fail" and "52.1.2.3 is not a private address" in result.message


def test_srv002_no_server_not_applicable():
    assert run("AWX-SRV-002", facts(server=False)).status == "not_applicable"


def test_offline_config_provenance_is_declared():
    result = run("AWX-SRV-002", facts(fwd(SERVER_LAN, ext=ports(443)), source="file:edge.cfg"))
    assert result.status == "fail" and result.provenance == "declared"


# --- AWX-SRV-007 ---------------------------------------------------------------------------------

def test_srv007_external_8080_to_internal_80_fails():
    result = run("AWX-SRV-007", facts(fwd(SERVER_LAN, ext=ports(8080), internal=ports(80), line=21)))
    assert result.status == "fail" and "8080 on the external side" in result.message
    assert "line 21" in result.evidence[0].source


def test_srv007_external_80_to_internal_8080_on_phone_fails():
    result = run("AWX-SRV-007", facts(fwd(PHONE, ext=ports(80), internal=ports(8080), line=22)))
    assert result.status == "fail" and "8080 on the internal side" in result.message
    assert "phone phone0" in result.message


def test_srv007_forward_to_server_wan_on_8080_fails():
    assert run("AWX-SRV-007", facts(fwd(SERVER_WAN, "tcp_udp", ext=ports((8000, 8100))))).status == "fail"


def test_srv007_udp_8080_and_other_ports_pass():
    site = facts(fwd(SERVER_WAN, "udp", ext=ports(8080)), fwd(SERVER_WAN, ext=ports(5061)))
    result = run("AWX-SRV-007", site)
    assert result.status == "pass"


def test_srv007_wan_admin_fact_fails_with_its_provenance():
    site = facts()
    fact = Fact(True, "device", "http:/network/configuration", "WAN Admin: Enable")
    site.devices[0].facts["wan_admin_enabled"] = fact
    result = run("AWX-SRV-007", site)
    assert result.status == "fail" and result.provenance == "device"
    assert result.evidence[0].source == "http:/network/configuration"


def test_srv007_outside_probe_answer_fails_as_observed():
    site = facts()
    site.outside = {"tcp/8080": {"open": True}}
    result = run("AWX-SRV-007", site)
    assert result.status == "fail" and result.provenance == "observed"
    assert result.evidence[0].source == "probe:tcp/8080"


def test_srv007_other_inputs_decide_without_router_only_when_they_fail():
    site = facts()
    site.routers = []
    site.outside = {"tcp/8080": "closed"}
    assert run("AWX-SRV-007", site).status == "not_applicable"
    site.devices[0].facts["wan_admin_enabled"] = Fact(True, "declared")
    assert run("AWX-SRV-007", site).status == "fail"


def test_srv007_admin_ports_come_from_policy():
    site = facts(fwd(SERVER_WAN, ext=ports(8443)))
    assert run("AWX-SRV-007", site).status == "pass"
    assert run("AWX-SRV-007", site, Policy({"admin_ports": [8080, 8443]})).status == "fail"


# --- AWX-PHN-003 / AWX-PX-003 --------------------------------------------------------------------

def test_phn003_pass_and_fail():
    assert run("AWX-PHN-003", facts(fwd(PHONE, "udp", ext=ports(5062)))).status == "pass"
    result = run("AWX-PHN-003", facts(fwd(PHONE, ext=ports(8443), internal=ports(443), line=31)))
    assert result.status == "fail" and "443 on the internal side" in result.message


def test_phn003_dmz_to_phone_fails_and_no_phones_not_applicable():
    assert run("AWX-PHN-003", facts(fwd(PHONE, "any", kind="dmz"))).status == "fail"
    assert run("AWX-PHN-003", facts(phones=())).status == "not_applicable"


def test_px003_pass_fail_and_not_applicable():
    assert run("AWX-PX-003", facts(fwd(PX, "udp", ext=ports((16394, 16403))))).status == "pass"
    result = run("AWX-PX-003", facts(fwd(PX, "tcp_udp", ext=ports(80), line=33)))
    assert result.status == "fail" and "rule nat-33" in result.evidence[0].source
    assert run("AWX-PX-003", facts(pxs=())).status == "not_applicable"


# --- NET-NAT-001 / NET-NAT-002 -------------------------------------------------------------------

def test_nat001_dmz_to_server_wan_fails():
    result = run("NET-NAT-001", facts(fwd(SERVER_WAN, "any", kind="dmz", line=50)))
    assert result.status == "fail" and "dmz rule forwards every any port" in result.message


def test_nat001_all_tcp_ports_rule_fails_and_port_forward_passes():
    assert run("NET-NAT-001", facts(fwd(SERVER_LAN, "tcp", ext=None))).status == "fail"
    assert run("NET-NAT-001", facts(fwd(SERVER_WAN, "udp", ext=ports(5060)))).status == "pass"


def test_nat001_disabled_dmz_ignored_and_other_host_not_counted():
    site = facts(fwd(SERVER_WAN, "any", kind="dmz", enabled=False), fwd("192.168.1.99", "any", kind="dmz"))
    result = run("NET-NAT-001", site)
    assert result.status == "pass" and len(result.evidence) == 1


def test_nat002_mail_port_list_fails_and_other_ports_pass():
    result = run("NET-NAT-002", facts(fwd(SERVER_WAN, ext=ports(25, 587), line=60)))
    assert result.status == "fail" and "25,587 on the external side" in result.message
    assert run("NET-NAT-002", facts(fwd(SERVER_WAN, ext=ports(2525), internal=ports(25)))).status == "fail"
    assert run("NET-NAT-002", facts(fwd(SERVER_WAN, "udp", ext=ports(5060)))).status == "pass"


# --- NET-SIP-001 ---------------------------------------------------------------------------------

def test_sip001_no_signalling_forward_passes():
    assert run("NET-SIP-001", facts(fwd(SERVER_WAN, ext=ports(443)))).status == "pass"


def test_sip001_restriction_inside_allowed_peers_passes_with_evidence():
    rule = fwd(SERVER_WAN, "udp", ext=ports((5060, 5061)), line=70, source_restriction=["198.51.100.0/28"])
    site = facts(rule, peers=["198.51.100.0/24"])
    result = run("NET-SIP-001", site)
    assert result.status == "pass" and "line 70" in result.evidence[0].source


def test_sip001_restriction_outside_allowed_peers_fails():
    site = facts(fwd(SERVER_WAN, "udp", ext=ports(5060), source_restriction=["198.51.0.0/16"]),
                 peers=["198.51.100.0/24"])
    result = run("NET-SIP-001", site)
    assert result.status == "fail" and "open to 198.51.0.0/16" in result.message


def test_sip001_unrestricted_rtp_and_blf_fail():
    rtp = fwd(SERVER_WAN, "udp", ext=ports((16384, 16393)), line=71)
    blf = fwd(SERVER_WAN, "udp", ext=ports(2088), line=72)
    site = facts(rtp, blf, peers=["198.51.100.0/24"])
    result = run("NET-SIP-001", site)
    assert result.status == "fail" and len(result.evidence) == 2
    assert "RTP range" in result.evidence[0].detail and "BLF" in result.evidence[1].detail


def test_sip001_tcp_sip_forward_to_phone_without_declared_peers_fails():
    result = run("NET-SIP-001", facts(fwd(PHONE, "tcp", ext=ports(5061), source_restriction=["203.0.113.5"])))
    assert result.status == "fail" and "none declared" in result.message


# --- NET-ALG-001 ---------------------------------------------------------------------------------

def _with(feature: str, state: FeatureState, source: str = "ssh:192.168.1.1") -> SiteFacts:
    config = RouterConfig("cisco_ios")
    setattr(config, feature, state)
    return facts(config=config, source=source)


def test_alg_enabled_fails_with_parser_reasoning():
    state = FeatureState(True, "platform default: IOS SIP ALG is on unless 'no ip nat service sip'",
                         SourceRef("show running-config", None, None, "", ""))
    result = run("NET-ALG-001", _with("sip_alg", state))
    assert result.status == "fail" and "platform default" in result.evidence[0].detail


def test_alg_disabled_passes():
    line = "no ip nat service sip udp port 5060"
    state = FeatureState(False, line, SourceRef("show running-config", 88, None, "", line))
    result = run("NET-ALG-001", _with("sip_alg", state))
    assert result.status == "pass" and "line 88" in result.evidence[0].source


def test_alg_unknown_offline_not_applicable_live_error():
    offline = run("NET-ALG-001", _with("sip_alg", FeatureState(None), source="file:running.cfg"))
    assert offline.status == "not_applicable" and offline.message == "SIP ALG state not in the input"
    assert run("NET-ALG-001", _with("sip_alg", FeatureState(None))).status == "error"


# --- NET-UPNP-001 --------------------------------------------------------------------------------

def test_upnp_enabled_fails_disabled_passes():
    ref = SourceRef("show configuration", 120, None, "", "upnp2")
    on = FeatureState(True, "service upnp2 listen-on eth1", ref)
    result = run("NET-UPNP-001", _with("upnp", on))
    assert result.status == "fail" and "line 120" in result.evidence[0].source
    assert run("NET-UPNP-001", _with("upnp", FeatureState(False, "no service upnp"))).status == "pass"


def test_upnp_unknown_offline_not_applicable_live_error():
    assert run("NET-UPNP-001", _with("upnp", FeatureState(None), source="file:x")).status == "not_applicable"
    assert run("NET-UPNP-001", _with("upnp", FeatureState(None))).status == "error"


def test_upnp_dynamic_mapping_to_phone_fails_even_when_config_silent():
    site = facts(fwd(PHONE, "udp", ext=ports(5062), kind="upnp_dynamic", line=3), source="file:x")
    result = run("NET-UPNP-001", site)
    assert result.status == "fail"
    assert any("UPnP/NAT-PMP dynamic mapping" in e.detail and "line 3" in e.source for e in result.evidence)


def test_upnp_policy_may_allow_unmapped_upnp():
    allow = Policy({"upnp_allowed_if_unmapped": True})
    on = FeatureState(True, "miniupnpd running")
    assert run("NET-UPNP-001", _with("upnp", on), allow).status == "pass"
    mapped = _with("upnp", on)
    mapped.routers[0].config.forwards.append(fwd(PHONE, "udp", ext=ports(5062), kind="upnp_dynamic"))
    assert run("NET-UPNP-001", mapped, allow).status == "fail"


# --- NET-VLAN-001 --------------------------------------------------------------------------------

def _vlans(*vlans: Vlan, switchports=(), interfaces=()) -> RouterConfig:
    return RouterConfig("cisco_ios", vlans=list(vlans), switchports=list(switchports),
                        interfaces=list(interfaces))


VOICE = Vlan(20, "VOICE", subnet="192.168.20.0/24", voice=True,
             source_ref=SourceRef("show vlan", 4, None, "", "20 VOICE"))
DATA = Vlan(1, "default", subnet="192.168.1.0/24",
            source_ref=SourceRef("show vlan", 3, None, "", "1 default"))


def test_vlan_phones_in_voice_subnet_pass():
    result = run("NET-VLAN-001", facts(config=_vlans(DATA, VOICE)))
    assert result.status == "pass" and "line 4" in result.evidence[0].source


def test_vlan_phone_outside_voice_subnet_fails_listing_it():
    result = run("NET-VLAN-001", facts(phones=(PHONE, "192.168.1.77"), config=_vlans(DATA, VOICE)))
    assert result.status == "fail" and "phone1 (192.168.1.77)" in result.message
    assert PHONE not in result.message


def test_vlan_no_vlan_information_not_applicable():
    assert run("NET-VLAN-001", facts()).status == "not_applicable"


def test_vlan_without_voice_vlan_fails_and_declared_id_counts():
    plain = Vlan(20, "staff", subnet="192.168.20.0/24",
                 source_ref=SourceRef("show vlan", 4, None, "", "20 staff"))
    result = run("NET-VLAN-001", facts(config=_vlans(DATA, plain)))
    # the phone is named first (it sits in the staff VLAN), then the missing voice VLAN, at the VLAN list
    assert result.status == "fail" and "phone0 (192.168.20.50) sits in the data VLAN 20" in result.message
    assert any("no voice VLAN" in e.detail and "line 3" in e.source for e in result.evidence)
    assert run("NET-VLAN-001", facts(config=_vlans(DATA, plain), voice_vlan_id=20)).status == "pass"


def test_vlan_access_ports_must_carry_voice_vlan():
    ref = SourceRef("show interfaces switchport", 14, None, "", "Name: Gi0/2")
    bare = [SwitchPort("Gi0/2", "static access", access_vlan=1, source_ref=ref)]
    result = run("NET-VLAN-001", facts(config=_vlans(DATA, VOICE, switchports=bare)))
    assert result.status == "fail" and "no access port carries voice VLAN 20" in result.message
    carrying = [SwitchPort("Gi0/2", "static access", access_vlan=1, voice_vlan=20)]
    assert run("NET-VLAN-001", facts(config=_vlans(DATA, VOICE, switchports=carrying))).status == "pass"


def test_vlan_subnet_from_l3_interface_and_overlap_with_data():
    voice = Vlan(30, "voip", voice=True)
    config = _vlans(DATA, voice, interfaces=[Interface("Gi0/0.30", ["10.30.0.1/24"], vlan_id=30)])
    assert run("NET-VLAN-001", facts(phones=("10.30.0.9",), config=config)).status == "pass"
    assert run("NET-VLAN-001", facts(phones=(PHONE,), config=config)).status == "fail"
    shared = _vlans(DATA, Vlan(20, "voice", subnet="192.168.1.0/24", voice=True))
    assert "overlaps data VLAN 1" in run("NET-VLAN-001", facts(phones=(), config=shared)).message


def test_srv007_is_an_error_when_the_web_read_that_shows_wan_admin_failed():
    """No router in the inventory and the server's web login failed: WAN Admin is unknown, so AWX-SRV-007
    cannot say the admin page is not exposed (it was not_applicable: "no router in inventory")."""
    from device_drivers.facts import DeviceFacts
    from hardening.checks.registry import run_checks
    from hardening.model.policy import Policy
    from hardening.model.site import SiteFacts, SiteInfo
    server = DeviceFacts(1, "allworx_server", "pbx", "192.168.1.10", errors={"web": "authentication failed"})
    [result] = run_checks(SiteFacts(SiteInfo(), [server], []), Policy(), ["AWX-SRV-007"])
    assert result.status == "error"
    assert "WAN Admin not read on pbx: web: authentication failed" in result.message
    server.errors.clear()
    [result] = run_checks(SiteFacts(SiteInfo(), [server], []), Policy(), ["AWX-SRV-007"])
    assert result.status == "not_applicable"          # web not asked for (e.g. network-only): no router, no verdict
