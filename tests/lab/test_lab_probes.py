"""Outside probes from the lab's internet namespace against the router's WAN address."""
from __future__ import annotations

import pytest

from device_drivers import probe

pytestmark = pytest.mark.lab


def test_forwarded_services_answer_from_the_internet(lab):
    with lab.netns(lab.inet):
        http = probe.tcp_connect(lab.router_wan, 8080, payload=b"HEAD / HTTP/1.0\r\n\r\n")
        imap = probe.tcp_connect(lab.router_wan, 143)
        sip = probe.sip_options(lab.router_wan, 5060)
    assert http["state"] == "open" and http["banner"].startswith("HTTP/1.0 200")
    assert imap["state"] == "open" and imap["banner"] == "* OK [CAPABILITY IMAP4rev1] lab ready"
    assert (sip["state"], sip["status"]) == ("open", "SIP/2.0 200 OK")
    assert sip["server"] == "Allworx Connect 536/8.4.11.3"
    assert http["rtt_ms"] < 1000 and sip["rtt_ms"] < 1000


def test_our_sip_probe_never_calls_itself_friendly_scanner(lab):
    with lab.netns(lab.inet):
        assert probe.sip_options(lab.router_wan, 5060)["state"] == "open"
    log = (lab.run_dir / "sip.log").read_text()
    assert f"UA='{probe.USER_AGENT}'" in log and "friendly-scanner" not in log


def test_unforwarded_ports_are_closed_or_filtered(lab):
    with lab.netns(lab.inet):
        assert probe.tcp_connect(lab.router_wan, 9999)["state"] == "closed"        # RST
        assert probe.tcp_connect(lab.router_wan, 23, timeout=0.3)["state"] == "filtered"  # DROP
        assert probe.sip_options(lab.router_wan, 5070)["state"] == "closed"        # ICMP unreachable


def test_icmp_drop_on_wan_makes_the_router_stealthy(lab):
    with lab.netns(lab.inet):
        assert probe.icmp_echo(lab.router_wan)["answered"] is True
    lab.rtr_sh("nft insert rule inet fw input iifname wan0 icmp type echo-request drop "
               'comment "stealth-test"')
    try:
        with lab.netns(lab.inet):
            silent = probe.icmp_echo(lab.router_wan, timeout=0.5)
            still_open = probe.tcp_connect(lab.router_wan, 8080)
    finally:
        handle = lab.rule_handle("inet fw input", "stealth-test")
        lab.rtr_sh(f"nft delete rule inet fw input handle {handle}")
    assert silent == {"answered": False, "rtt_ms": None, "reason": "no reply within 0.5 s"}
    assert still_open["state"] == "open"           # host up, ICMP dropped: visible from outside
    with lab.netns(lab.inet):
        assert probe.icmp_echo(lab.router_wan)["answered"] is True


def test_deleting_the_8080_dnat_rule_closes_the_port(lab):
    with lab.netns(lab.inet):
        assert probe.tcp_connect(lab.router_wan, 8080)["state"] == "open"
    handle = lab.dnat_handle("fwd-pbx-http")
    lab.rtr_sh(f"nft delete rule ip portfwd prerouting handle {handle}")
    lab.flush_conntrack()
    try:
        with lab.netns(lab.inet):
            after = probe.tcp_connect(lab.router_wan, 8080)
            sip = probe.sip_options(lab.router_wan, 5060)
    finally:
        lab.rtr_sh('nft insert rule ip portfwd prerouting iifname "wan0" tcp dport 8080 '
                   'dnat to 10.77.1.20:8080 comment "fwd-pbx-http"')
    assert after["state"] == "closed"
    assert sip["state"] == "open"                  # the other forwards are untouched
    with lab.netns(lab.inet):
        assert probe.tcp_connect(lab.router_wan, 8080)["state"] == "open"

