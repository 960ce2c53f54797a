"""One answer to "did this probe answer?" (hardening.model.probes.answered): True, False, or None for a
record that cannot say; None is never evidence for a pass. Record shapes are device_drivers/probe.py's."""
from __future__ import annotations

import socket

import pytest

from device_drivers import probe
from device_drivers.facts import DeviceFacts
from firewall.model import RouterConfig
from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.probes import answered
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

CHECKS = load_all()

# the dicts device_drivers/probe.py returns (tcp_connect, sip_options, icmp_echo), as written there
TCP_OPEN = {"state": "open", "banner": "220 pbx InSciTek OIS Ready here ESMTP", "rtt_ms": 0.4, "reason": ""}
TCP_CLOSED = {"state": "closed", "banner": "", "rtt_ms": None, "reason": "Connection refused"}
TCP_FILTERED = {"state": "filtered", "banner": "", "rtt_ms": None, "reason": "no answer within 1 s"}
TCP_ERROR = {"state": "error", "banner": "", "rtt_ms": None, "reason": "Cannot assign requested address"}
SIP_OPEN = {"state": "open", "status": "SIP/2.0 200 OK", "rtt_ms": 1.2, "reason": "", "server": "Allworx Connect"}
SIP_SILENT = {"state": "filtered", "status": "", "server": "", "rtt_ms": None, "reason": "no SIP reply within 1 s"}
SIP_CLOSED = {"state": "closed", "status": "", "server": "", "rtt_ms": None, "reason": "Connection refused"}
ICMP_YES = {"answered": True, "rtt_ms": 0.05, "reason": ""}
ICMP_NO = {"answered": False, "rtt_ms": None, "reason": "no reply within 1 s"}
ICMP_REJECTED = {"answered": False, "rtt_ms": None, "reason": "ICMP error (rejected)"}


@pytest.mark.parametrize("record, expected", [
    (TCP_OPEN, True), (TCP_CLOSED, False), (TCP_FILTERED, False), (TCP_ERROR, None),
    (SIP_OPEN, True), (SIP_SILENT, False), (SIP_CLOSED, False),
    (ICMP_YES, True), (ICMP_NO, False), (ICMP_REJECTED, False),
    ({"state": "OPEN "}, True), ({"open": True}, True), ({"open": False}, False),        # shorthands
    ({"state": "open", "answered": True}, True),
    ({"state": "open", "answered": False}, None),                 # fields disagree: the record cannot say
    ({"state": "open", "error": "probe crashed"}, None),          # an error field makes it undecided
    ({"state": "open", "error": ""}, True),                       # ... only when it says something
    ({"answered": "yes"}, True), ({"answered": 1}, None), ({"state": "open|filtered"}, None),
    ({"state": None}, None), ({"reason": "no state at all"}, None), ({}, None), ({"state": ["open"]}, None),
    ("open", True), ("answered", True), ("yes", True), ("TRUE", True),
    ("closed", False), ("filtered", False), ("timeout", False), ("no answer", False), ("no", False),
    ("false", False), ("error", None), ("", None), ("garbage", None), ("outside probe failed: timeout", None),
    (True, True), (False, False), (None, None), (1, None), (0, None), (1.0, None), (["open"], None),
    (b"open", None), (object(), None)])
def test_answered(record, expected):
    assert answered(record) is expected


# --- the same rule from live loopback probes -----------------------------------------------------

def test_live_tcp_records():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert answered(probe.tcp_connect("127.0.0.1", port, timeout=1.0)) is True
    assert answered(probe.tcp_connect("127.0.0.1", port, timeout=1.0)) is False        # closed: RST


def test_live_sip_records():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        record = probe.sip_options("127.0.0.1", port, timeout=0.2)       # received, never answered
        assert record["state"] == "filtered" and answered(record) is False
    record = probe.sip_options("127.0.0.1", port, timeout=0.5)           # nobody bound: port unreachable
    assert record["state"] == "closed" and answered(record) is False


# --- every caller: None is a note, never a pass --------------------------------------------------

def _server_site(outside, routers=()) -> SiteFacts:
    server = DeviceFacts(1, "allworx_server", "pbx", "192.168.1.10", "10.0.0.2")
    return SiteFacts(SiteInfo(required_wan_services=["sip"]), [server], list(routers), outside=outside)


def _one(check_id: str, site: SiteFacts):
    [result] = CHECKS[check_id].evaluate(site, Policy())
    return result


UNDECIDED = [TCP_ERROR, "garbage", {"state": "open", "answered": False}, {"error": "probe down"}, 1]


@pytest.mark.parametrize("record", UNDECIDED)
def test_wan002_undecided_echo_is_never_a_pass(record):
    result = _one("AWX-WAN-002", _server_site({"icmp": record}))
    assert result.status in ("error", "manual")
    assert any("undecided" in e.detail and e.source == "probe:icmp" for e in result.evidence)


def test_wan002_decided_echoes():
    assert _one("AWX-WAN-002", _server_site({"icmp": ICMP_NO})).status == "pass"
    assert _one("AWX-WAN-002", _server_site({"icmp": ICMP_REJECTED})).status == "pass"
    assert _one("AWX-WAN-002", _server_site({"icmp": ICMP_YES})).status == "fail"


@pytest.mark.parametrize("record", UNDECIDED)
def test_srv003_undecided_probe_is_never_a_pass(record):
    result = _one("AWX-SRV-003", _server_site({"tcp/8080": record, "udp/5060": SIP_OPEN}))
    assert result.status in ("error", "manual")
    assert any("tcp/8080 undecided" in e.detail for e in result.evidence)


def test_srv003_decided_probes():
    assert _one("AWX-SRV-003", _server_site({"tcp/8080": TCP_OPEN})).status == "fail"
    assert _one("AWX-SRV-003", _server_site({"tcp/8080": "closed", "udp/5060": SIP_OPEN})).status == "pass"
    assert _one("AWX-SRV-003", _server_site({"tcp/8080": TCP_FILTERED, "udp/5060": SIP_OPEN})).status == "pass"


@pytest.mark.parametrize("record", UNDECIDED)
def test_srv007_undecided_probe_is_never_a_pass(record):
    router = RouterFacts(5, "edge1", RouterConfig("vyos"), source="ssh:192.168.1.1")
    result = _one("AWX-SRV-007", _server_site({"tcp/8080": record}, [router]))
    assert result.status != "pass"
    assert any("TCP 8080: undecided" in e.detail for e in result.evidence)
    assert _one("AWX-SRV-007", _server_site({"tcp/8080": record})).status != "pass"


def test_srv007_decided_probes():
    router = RouterFacts(5, "edge1", RouterConfig("vyos"), source="ssh:192.168.1.1")
    assert _one("AWX-SRV-007", _server_site({"tcp/8080": "closed"}, [router])).status == "pass"
    assert _one("AWX-SRV-007", _server_site({"tcp/8080": TCP_FILTERED}, [router])).status == "pass"
    assert _one("AWX-SRV-007", _server_site({"tcp/8080": "open"}, [router])).status == "fail"
