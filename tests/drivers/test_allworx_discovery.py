"""discover(): proposals from Allworx signs, with bounded concurrency, rate and total time."""
from __future__ import annotations

import time
from typing import Iterator

import pytest

from device_drivers.allworx.discovery import RateLimiter, discover, expand_hosts
from device_drivers.allworx.fingerprint import arp_mac
from simulator import Site, start_site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with start_site("insecure", phones=2, px=1) as running:
        yield running


def ports_of(site: Site) -> tuple[list[int], list[int], list[int]]:
    inventory = site.inventory()
    tcp = sorted({p for e in inventory for k, p in e["ports"].items() if k != "sip"})
    return tcp, sorted({e["ports"]["sip"] for e in inventory}), [inventory[0]["snmp"]["port"]]


def test_proposes_each_device_with_its_kind_and_ports(site: Site):
    tcp, sip, snmp_ports = ports_of(site)
    hosts = [d.address for d in site.devices] + ["127.0.0.77"]          # one host with nothing on it
    report = discover(hosts, tcp, sip, snmp_ports, timeout=0.3, rate_per_second=1000,
                      fingerprints={"sip_server": {"^Allworx-Sim-Phone$": "allworx_phone"}})
    by_address = {e["address"]: e for e in report.entries}
    assert set(by_address) == {d.address for d in site.devices}
    server = by_address[site.server.address]
    assert server["kind"] == "allworx_server" and server["model"] == "Allworx Connect 731"
    assert server["ports"] == {k: v for k, v in site.server.ports.items()}
    assert server["snmp"] == {"version": "2c", "port": site.server.snmp_port}
    assert server["mac"] == "00:0A:DD:05:41:6E" and server["confidence"] == "high"
    assert any("InSciTek OIS Ready here ESMTP" in e for e in server["evidence"])
    assert any("enterprise 38516" in e for e in server["evidence"])
    for phone in site.of_kind("allworx_phone"):
        entry = by_address[phone.address]
        assert entry["kind"] == "allworx_phone" and entry["ports"] == phone.ports
        assert any("SIP Server 'Allworx-Sim-Phone'" in e for e in entry["evidence"])
    px = by_address[site.of_kind("px_expander")[0].address]
    assert px["kind"] == "px_expander" and px["confidence"] == "medium"      # no learned SIP string for it
    assert report.unscanned == [] and report.probes_sent == len(hosts) * (len(tcp) + len(sip) + 1)


def test_sip_alone_is_not_an_allworx_sign(site: Site):
    phone = site.of_kind("allworx_phone")[0]
    report = discover([phone.address], [], [phone.ports["sip"]], [], timeout=0.3)
    assert report.entries == []               # the shipped SIP table is empty: strings are unknown [U]


def test_total_time_bound_leaves_hosts_unscanned(site: Site):
    started = time.monotonic()
    report = discover("127.0.0.0/28", [1], [], [], concurrency=1, rate_per_second=20, total_seconds=0.2)
    assert time.monotonic() - started < 1.0
    assert report.unscanned and len(report.unscanned) + report.probes_sent == 14


def test_rate_limiter_spaces_starts():
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    assert time.monotonic() - started >= 0.09            # five intervals of 20 ms


@pytest.mark.parametrize("hosts, message", [
    (["8.8.8.8"], "not a private or loopback range"), (["10.0.0.0/8"], "at most 4096"),
    (["printer"], "not an address or CIDR block")])
def test_bad_hosts_are_refused(hosts, message):
    with pytest.raises(ValueError, match=message):
        expand_hosts(hosts)


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="concurrency"):
        discover(["127.0.0.1"], concurrency=0)
    with pytest.raises(ValueError, match="rate_per_second"):
        discover(["127.0.0.1"], [], [], [], rate_per_second=0)


def test_expand_hosts_and_arp(tmp_path):
    assert expand_hosts(["127.0.0.8/30", "127.0.0.9"]) == ["127.0.0.9", "127.0.0.10"]
    table = tmp_path / "arp"
    table.write_text("IP address  HW type  Flags  HW address  Mask  Device\n"
                     "192.168.1.20  0x1  0x2  00:0a:dd:12:34:56  *  eth0\n")
    assert arp_mac("192.168.1.20", str(table)) == "00:0A:DD:12:34:56"
    assert arp_mac("192.168.1.21", str(table)) == ""
