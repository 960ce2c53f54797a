"""NET-VLAN-001 answers alike on every platform (issue 15, "consistency"): a router without VLANs and one
with VLANs unrelated to voice give the same verdict for the same phones.

Configurations written for this test, one flat LAN and one with a staff and a guest VLAN, for Cisco IOS,
Linux (`ip addr`) and EdgeOS, parsed by the real parsers. Expected verdicts, from reading them: phones
at 192.168.1.50 sit in the data LAN 192.168.1.0/24 on every one of them -> fail; phones at 10.50.0.20 are
in no subnet of the router -> manual, saying the switch holding their VLAN is not in the inventory; no
phone addresses and no voice VLAN -> fail (no voice VLAN carries the phones). With a voice VLAN 20
(192.168.20.0/24) added, phones there pass and phones on the staff VLAN still fail.
"""
from __future__ import annotations

import pytest

from device_drivers.facts import DeviceFacts
from firewall.model import RouterConfig, Unparsed
from firewall.parsers import parse
from hardening.checks.registry import run_checks
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

IOS_HEAD = """hostname edge
!
interface GigabitEthernet0/0
 description WAN uplink
 ip address 203.0.113.2 255.255.255.0
 ip nat outside
!
"""
IOS_FLAT = IOS_HEAD + """interface GigabitEthernet0/1
 ip address 192.168.1.1 255.255.255.0
 ip nat inside
!
end
"""


def _ios_sub(vlan: int, name: str, third: int) -> str:
    return (f"interface GigabitEthernet0/1.{vlan}\n description {name}\n encapsulation dot1Q {vlan}\n"
            f" ip address 192.168.{third}.1 255.255.255.0\n ip nat inside\n!\n")


IOS_VLANS = IOS_HEAD + "interface GigabitEthernet0/1\n no ip address\n!\n" + _ios_sub(10, "staff", 1) + \
    _ios_sub(30, "guests", 30) + "end\n"
IOS_VOICE = IOS_VLANS.replace("end\n", _ios_sub(20, "voice", 20) + "end\n")

LINUX_HEAD = """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    inet 203.0.113.2/24 brd 203.0.113.255 scope global eth0
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:12:34:57 brd ff:ff:ff:ff:ff:ff
"""
LINUX_FLAT = LINUX_HEAD + """    inet 192.168.1.1/24 brd 192.168.1.255 scope global eth1
       valid_lft forever preferred_lft forever
"""


def _linux_sub(index: int, vlan: int, third: int) -> str:
    return (f"{index}: eth1.{vlan}@eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group "
            f"default qlen 1000\n    link/ether 52:54:00:12:34:57 brd ff:ff:ff:ff:ff:ff\n"
            f"    inet 192.168.{third}.1/24 brd 192.168.{third}.255 scope global eth1.{vlan}\n"
            f"       valid_lft forever preferred_lft forever\n")


LINUX_VLANS = LINUX_HEAD + _linux_sub(4, 10, 1) + _linux_sub(5, 30, 30)

EDGE_HEAD = """interfaces {
    ethernet eth0 {
        address 203.0.113.2/24
        description Internet
    }
    ethernet eth1 {
"""
EDGE_TAIL = """    }
}
system {
    host-name edge
}
"""
EDGE_FLAT = EDGE_HEAD + "        address 192.168.1.1/24\n        description LAN\n" + EDGE_TAIL


def _vif(vlan: int, name: str, third: int) -> str:
    return (f"        vif {vlan} {{\n            address 192.168.{third}.1/24\n"
            f"            description {name}\n        }}\n")


EDGE_VLANS = EDGE_HEAD + "        description LAN\n" + _vif(10, "staff", 1) + _vif(30, "guests", 30) + EDGE_TAIL
EDGE_VOICE = EDGE_VLANS.replace(EDGE_TAIL, _vif(20, "voice", 20) + EDGE_TAIL, 1)

FLAT = {"cisco_ios": IOS_FLAT, "linux": LINUX_FLAT, "ubiquiti_edgerouter": EDGE_FLAT}
UNRELATED = {"cisco_ios": IOS_VLANS, "linux": LINUX_VLANS, "ubiquiti_edgerouter": EDGE_VLANS}
CONFIGS = [(p, kind, text) for kind, table in (("flat", FLAT), ("unrelated VLANs", UNRELATED))
           for p, text in table.items()]
IDS = [f"{p}-{kind}" for p, kind, _ in CONFIGS]


def verdict(config: RouterConfig, phones=(), voice_vlan_id=None, policy=None):
    devices = [DeviceFacts(10 + i, "allworx_phone", f"phone{i}", ip) for i, ip in enumerate(phones)]
    site = SiteFacts(SiteInfo("clinic", voice_vlan_id=voice_vlan_id), devices,
                     [RouterFacts(5, "edge", config, source="file:running-config")])
    [result] = run_checks(site, policy or Policy(), ["NET-VLAN-001"])
    return result


def parsed(platform: str, text: str) -> RouterConfig:
    return parse(platform, {"": text})


@pytest.mark.parametrize("platform,kind,text", CONFIGS, ids=IDS)
def test_phones_in_the_data_lan_fail_everywhere(platform, kind, text):
    result = verdict(parsed(platform, text), phones=("192.168.1.50",))
    assert result.status == "fail"
    assert "phone phone0 (192.168.1.50) sits in the data" in result.message and "192.168.1.0/24" in result.message


@pytest.mark.parametrize("platform,kind,text", CONFIGS, ids=IDS)
def test_phones_on_no_subnet_read_are_manual_naming_the_missing_switch(platform, kind, text):
    result = verdict(parsed(platform, text), phones=("10.50.0.20",))
    assert result.status == "manual"
    assert "phone0 (10.50.0.20)" in result.message and "not in the inventory" in result.message


@pytest.mark.parametrize("platform,kind,text", CONFIGS, ids=IDS)
def test_no_phone_addresses_and_no_voice_vlan_fail_everywhere(platform, kind, text):
    result = verdict(parsed(platform, text))
    assert result.status == "fail" and "no voice VLAN in the configuration" in result.message


@pytest.mark.parametrize("platform", sorted(FLAT))
def test_flat_and_unrelated_vlans_agree(platform):
    for phones in ((), ("192.168.1.50",), ("10.50.0.20",), ("192.168.1.50", "10.50.0.20")):
        flat = verdict(parsed(platform, FLAT[platform]), phones=phones).status
        vlans = verdict(parsed(platform, UNRELATED[platform]), phones=phones).status
        assert flat == vlans, (platform, phones, flat, vlans)


@pytest.mark.parametrize("platform,text", [("cisco_ios", IOS_VOICE), ("ubiquiti_edgerouter", EDGE_VOICE)])
def test_a_voice_vlan_passes_its_phones_and_fails_the_others(platform, text):
    config = parsed(platform, text)
    assert verdict(config, phones=("192.168.20.50",), voice_vlan_id=20).status == "pass"
    staff = verdict(config, phones=("192.168.20.50", "192.168.1.77"), voice_vlan_id=20)
    assert staff.status == "fail" and "phone1 (192.168.1.77)" in staff.message
    assert "phone0" not in staff.message


def test_linux_voice_subinterface_by_declared_id():
    config = parsed("linux", LINUX_VLANS + _linux_sub(6, 20, 20))
    assert verdict(config, phones=("192.168.20.50",), voice_vlan_id=20).status == "pass"
    assert verdict(config, phones=("192.168.30.9",), voice_vlan_id=20).status == "fail"


def test_nothing_about_the_lan_is_not_applicable_and_an_unread_vlan_line_is_error():
    assert verdict(RouterConfig("linux"), phones=("192.168.1.50",)).status == "not_applicable"
    unread = RouterConfig("linux", unparsed=[Unparsed("ip addr", 4, "4: eth1.x@eth1: ...", "vlan", "bad VLAN id")])
    result = verdict(unread, phones=("192.168.1.50",))
    assert result.status == "error" and "line 4" in result.evidence[0].source
    manual = verdict(unread, phones=("192.168.1.50",), policy=Policy({"unparsed_verdicts": {"vlan": "manual"}}))
    assert manual.status == "manual"
