"""A router's external addresses are the ones the internet can reach (issue 15 point 5): link-local, loopback,
private, CGNAT, multicast and unspecified addresses on the WAN interface are never listed, and the interface
index that answers "is this bound to a LAN interface" follows the configuration it was built from."""
from __future__ import annotations

import gc

import pytest

from firewall.exposure import _INDEXES, _address_matches, external_addresses, inside_reason, interface_index
from firewall.model import Interface, PortForward, RouterConfig
from firewall.parsers import parse
from firewall.site_context import address_matches, internet_routable


def _bound(name: str = "eth0", external_ip: str | None = None) -> PortForward:
    return PortForward(kind="dnat", proto="tcp", internal_ip="10.0.0.5", external_ip=external_ip or f"interface:{name}")


@pytest.mark.parametrize("address, routable", [
    ("203.0.113.7", True), ("203.0.113.7/24", True), ("2001:db8::7/64", True), ("8.8.8.8", True),
    ("2a00:1450:4001::1/64", True),
    ("fe80::1/64", False), ("fe80::21a:2bff:fe3c:4d5e", False), ("::1", False), ("::", False), ("ff02::1", False),
    ("fd00::1/64", False), ("10.1.2.3/8", False), ("172.16.5.1", False), ("192.168.1.1/24", False),
    ("100.64.0.1/10", False), ("169.254.1.1", False), ("127.0.0.1", False), ("0.0.0.0", False),
    ("224.0.0.5", False), ("::ffff:10.0.0.1", False), ("dhcp", False), ("", False),
])
def test_internet_routable(address, routable):
    assert internet_routable(address) is routable


def test_the_wan_interface_lists_only_its_routable_addresses():
    config = RouterConfig(platform="linux", interfaces=[
        Interface("eth0", ["fe80::21a:2bff:fe3c:4d5e/64", "100.64.12.9/10", "203.0.113.7/24", "2001:db8:1::7/64"],
                  role="wan"),
        Interface("eth1", ["192.168.1.1/24", "fe80::1/64"], role="lan")])
    assert external_addresses(_bound(), config) == ["203.0.113.7/24", "2001:db8:1::7/64"]
    assert external_addresses(_bound("eth1"), config) == []          # every address of it is non-routable
    assert external_addresses(_bound("ppp0"), config) == ["interface:ppp0"]    # unknown: the binding is named
    assert external_addresses(_bound(external_ip="192.168.100.2"), config) == []
    assert external_addresses(_bound(external_ip="198.51.100.4"), config) == ["198.51.100.4"]


def test_a_parsed_ios_router_behind_cgnat_with_ipv6_link_local_has_no_bogus_external_address():
    text = ("interface Dialer0\n ip address 100.64.3.2 255.192.0.0\n ipv6 address FE80::1 link-local\n"
            " ip nat outside\n!\ninterface Vlan1\n ip address 192.168.2.1 255.255.255.0\n ip nat inside\n!\n"
            "ip nat inside source static tcp 192.168.2.6 80 interface Dialer0 80\n")
    config = parse("cisco_ios", {"show running-config": text})
    [fwd] = config.forwards
    assert external_addresses(fwd, config) == []


def test_the_interface_index_follows_a_replaced_or_grown_interface_list():
    config = RouterConfig(platform="linux", interfaces=[Interface("br-lan", role="lan")])
    fwd = _bound("br-lan")
    assert inside_reason(fwd, config) == "bound to LAN interface br-lan"
    config.interfaces = [Interface("br-lan", role="wan")]
    assert inside_reason(fwd, config) == ""
    config.interfaces.append(Interface("eth9", role="lan"))
    assert interface_index(config).lan_names == {"eth9"}


def test_the_index_is_dropped_with_its_configuration():
    config = RouterConfig(platform="linux", interfaces=[Interface("x", role="lan")])
    interface_index(config)
    key = id(config)
    assert key in _INDEXES
    del config
    gc.collect()
    assert key not in _INDEXES


@pytest.mark.parametrize("target, address", [
    ("10.0.0.5", "10.0.0.5"), ("10.0.0.5", "10.0.0.6"), ("10.0.0.0/24", "10.0.0.77"), ("10.0.0.0/24", "10.0.1.1"),
    ("10.0.0.10-10.0.0.20", "10.0.0.15"), ("10.0.0.10-10.0.0.20", "10.0.0.21"), ("2001:db8::5", "2001:db8::5"),
    ("2001:db8::/64", "10.0.0.1"), ("web-server", "web-server"), ("web-server", "10.0.0.5"), (None, "10.0.0.5"),
    ("10.0.0.5", ""), ("10.0.0.0/24", "10.0.0.0/24"),
])
def test_the_fast_address_match_agrees_with_the_reference(target, address):
    assert _address_matches(target, address) == address_matches(target, address)
