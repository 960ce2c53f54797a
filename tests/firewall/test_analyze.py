"""analyze(): the offline analyze-config answer built from a hand-made RouterConfig."""
from __future__ import annotations

import json
import re

import pytest

from firewall.model import FeatureState, ParseWarning, PortForward, PortRange, RouterConfig, SourceRef, Vlan
from hardening.engine.analyze import ROUTER_CHECKS, analyze

LAN, WAN = "192.168.1.10", "10.0.0.2"


def _config() -> RouterConfig:
    ref = SourceRef("show running-config", 42, None, "", "ip nat inside source static tcp 192.168.1.10 80 "
                                                          "interface Gi0/1 8080")
    return RouterConfig("cisco_ios", forwards=[
        PortForward("static_pat", "tcp", LAN, external_ip="interface:Gi0/1",
                    external_ports=[PortRange(8080, 8080)], internal_ports=[PortRange(80, 80)],
                    source_ref=ref),
        PortForward("static_pat", "udp", WAN, external_ports=[PortRange(5060, 5060)],
                    source_restriction=["198.51.100.7"], source_ref=SourceRef("show running-config", 43)),
        PortForward("dnat", "udp", WAN, external_ports=[PortRange(2088, 2088)],
                    source_restriction=["sip-peers"],
                    source_ref=SourceRef("show running-config", 44, text="blf"))],
        vlans=[Vlan(20, "VOICE", subnet="192.168.20.0/24", voice=True)],
        sip_alg=FeatureState(True, "platform default"),
        warnings=[ParseWarning("show running-config", 7, "foo bar", "unknown line")])


def test_one_finding_per_router_check_and_json_serialisable():
    out = analyze(_config(), server_lan_ip=LAN, server_wan_ip=WAN, phone_ips=["192.168.20.5"],
                  allowed_sip_sources=["198.51.100.0/24"])
    json.dumps(out)
    assert [f["check_id"] for f in out["findings"]] == list(ROUTER_CHECKS)
    status = {f["check_id"]: f["status"] for f in out["findings"]}
    assert status["AWX-SRV-002"] == "fail" and status["AWX-SRV-007"] == "fail"
    assert status["NET-SIP-001"] == "fail"          # BLF rule limited to a named list: not provably allowed
    assert status["NET-ALG-001"] == "fail" and status["NET-UPNP-001"] == "not_applicable"
    assert status["NET-VLAN-001"] == "pass" and status["AWX-PX-003"] == "not_applicable"
    srv = out["findings"][0]
    assert srv["severity"] == "critical" and srv["title"] == "Server LAN port is not on the public internet"
    assert srv["evidence"][0]["source"] == "router:cisco_ios show running-config line 42"
    assert out["platform"] == "cisco_ios" and out["vlans"][0]["vlan_id"] == 20


def test_forwards_are_classified_and_warnings_merged():
    out = analyze(_config(), server_lan_ip=LAN, server_wan_ip=WAN, allowed_sip_sources="198.51.100.0/24")
    assert [f["classification"] for f in out["forwards"]] == ["dangerous", "unexpected", "dangerous"]
    assert out["forwards"][0]["external_ports"] == ["8080"]
    messages = [w["message"] for w in out["warnings"]]
    assert messages[0] == "unknown line"
    assert any("'sip-peers' is not an address" in m for m in messages)


def test_wan_forward_alone_is_fine_for_the_lan_check():
    config = _config()
    config.forwards = config.forwards[1:2]
    out = analyze(config, server_lan_ip=LAN, server_wan_ip=WAN, allowed_sip_sources=["198.51.100.0/24"])
    status = {f["check_id"]: f["status"] for f in out["findings"]}
    assert status["AWX-SRV-002"] == "pass" and status["NET-SIP-001"] == "pass"


def test_without_addresses_the_forward_checks_are_not_applicable():
    out = analyze(_config())
    status = {f["check_id"]: f["status"] for f in out["findings"]}
    assert status["AWX-SRV-002"] == "not_applicable" and status["NET-NAT-001"] == "not_applicable"
    assert any("AWX-SRV-002 cannot be decided" in w["message"] for w in out["warnings"])


def test_policy_dict_overrides():
    rule = PortForward("dnat", "tcp", WAN, external_ports=[PortRange(8443, 8443)])
    config = RouterConfig("vyos", forwards=[rule])
    srv007 = 1
    assert analyze(config, server_wan_ip=WAN)["findings"][srv007]["status"] == "pass"
    overridden = analyze(config, server_wan_ip=WAN, policy={"admin_ports": [8443]})
    assert overridden["findings"][srv007]["status"] == "fail"


@pytest.mark.parametrize("kwargs, message", [
    ({"server_lan_ip": "192.168.1.300"}, "server_lan_ip: '192.168.1.300' is not an IP address"),
    ({"phone_ips": ["10.0.0.5", "phone"]}, "phone_ip: 'phone' is not an IP address"),
    ({"px_ips": ["x"]}, "px_ip: 'x' is not an IP address"),
    ({"allowed_sip_sources": ["198.51.100.0/33"]},
     "allowed_sip_source: '198.51.100.0/33' is not an address")])
def test_bad_input_names_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        analyze(_config(), **kwargs)


def test_config_must_be_a_router_config():
    with pytest.raises(ValueError, match="RouterConfig"):
        analyze("ip nat inside source static 192.168.1.10 203.0.113.10")
