"""The Allworx server, WAN and Plug 'n' Play checks over hand-made DeviceFacts: pass, fail, error, manual."""
from __future__ import annotations

import pytest

from device_drivers.facts import DeviceFacts, Fact
from firewall.model import PortForward, PortRange, RouterConfig, SourceRef
from hardening.checks.allworx_server import compare_versions, parse_port, parse_version
from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

CHECKS = load_all()
DOWN = {"snmp": "timeout: no answer from 192.168.1.10:161", "web": "connection refused on port 8080"}


def dev(kind: str = "allworx_server", wan: str | None = None, errors: dict | None = None, name: str = "pbx",
        address: str = "192.168.1.10", provenance: str = "device", **facts) -> DeviceFacts:
    """A device whose facts are plain values (wrapped as read from the device) or ready-made Facts."""
    made = DeviceFacts(7, kind, name, address, wan, errors=dict(errors or {}))
    for key, value in facts.items():
        made.facts[key] = value if isinstance(value, Fact) else Fact(value, provenance, f"web:{key}", f"{key}={value}")
    return made


def site(*devices: DeviceFacts, routers=(), **kw) -> SiteFacts:
    info = {k: kw.pop(k) for k in list(kw) if k in SiteInfo.__dataclass_fields__}
    return SiteFacts(SiteInfo(**info), list(devices), list(routers), **kw)


def run(check_id: str, *devices: DeviceFacts, policy: Policy | None = None, **kw):
    return CHECKS[check_id].evaluate(site(*devices, **kw), policy or Policy())


def one(check_id: str, *devices: DeviceFacts, **kw):
    [result] = run(check_id, *devices, **kw)
    return result


SERVER_CHECKS = ("AWX-SRV-001", "AWX-SRV-003", "AWX-SRV-004", "AWX-SRV-005", "AWX-SRV-006", "AWX-SRV-008",
                 "AWX-WAN-001", "AWX-WAN-002", "AWX-PHN-001", "AWX-PHN-002", "AWX-PHN-004", "AWX-PHN-005")
DEVICE_CHECKS = [(c, "allworx_server") for c in SERVER_CHECKS] + [
    ("AWX-PHN-006", "allworx_phone"), ("AWX-PX-001", "px_expander"), ("AWX-PX-002", "px_expander")]


# --- gates every device check shares -------------------------------------------------------------

@pytest.mark.parametrize("check_id, kind", DEVICE_CHECKS)
def test_failed_channel_without_the_fact_is_an_error_never_a_pass(check_id, kind):
    result = one(check_id, dev(kind, errors=DOWN))
    assert result.status == "error"
    assert "connection refused" in result.message and "timeout" in result.message
    assert result.device_id == 7 and result.target == "pbx"
    assert {e.source for e in result.evidence} >= {"device:snmp", "device:web"}


@pytest.mark.parametrize("check_id, kind", DEVICE_CHECKS)
def test_no_fact_and_no_failure_needs_a_person(check_id, kind):
    result = one(check_id, dev(kind))
    assert result.status == "manual", result.message


@pytest.mark.parametrize("check_id, kind", DEVICE_CHECKS)
def test_no_device_of_the_kind_is_not_applicable(check_id, kind):
    other = "px_expander" if kind != "px_expander" else "allworx_server"
    result = one(check_id, dev(other))
    assert result.status == "not_applicable" and result.device_id is None


def test_one_result_per_server():
    results = run("AWX-WAN-001", dev(network_mode="nat_firewall"),
                  DeviceFacts(8, "allworx_server", "pbx2", "192.168.2.10"))
    assert [(r.device_id, r.status) for r in results] == [(7, "pass"), (8, "manual")]


# --- AWX-SRV-001 ---------------------------------------------------------------------------------

def test_versions_compare_numerically_part_by_part():
    assert compare_versions(parse_version("7.4.10.2"), parse_version("7.4.10.10")) == -1
    assert compare_versions(parse_version("7.4"), parse_version("7.4.0.0")) == 0
    assert parse_version("v8.3.5.4") == (8, 3, 5, 4)
    assert parse_version("8.3.5.4 beta") is None and parse_version("") is None


@pytest.mark.parametrize("version, expected", [
    ("7.2.3.9", "fail"), ("6.9.1.1", "fail"), ("7.3.14.7", "fail"), ("7.3.14.8", "pass"), ("7.3.15.0", "pass"),
    ("7.4.10.1", "fail"), ("7.4.10.2", "pass"), ("7.4.10.10", "pass"), ("7.4.9.99", "fail"),
    ("8.3.5.4", "manual"), ("7.5.11.7", "manual")])
def test_srv001_minimums_per_line(version, expected):
    result = one("AWX-SRV-001", dev(software_version=version))
    assert result.status == expected, result.message
    assert result.evidence[0].source == "web:software_version" and result.provenance == "device"


def test_srv001_fail_names_the_minimum_and_the_floor():
    below = one("AWX-SRV-001", dev(software_version="7.4.10.1"))
    assert "7.4.10.2" in below.message and below.expected == ">= 7.4.10.2" and below.observed == "7.4.10.1"
    old = one("AWX-SRV-001", dev(software_version="7.2.3.9"))
    assert "older than line 7.3" in old.message


def test_srv001_operators_update_the_table_without_code():
    policy = Policy({"min_versions": {"8.3": "8.3.6.0", "9": "9.1.0.0"}})
    assert one("AWX-SRV-001", dev(software_version="8.3.5.4"), policy=policy).status == "fail"
    assert one("AWX-SRV-001", dev(software_version="8.3.6.1"), policy=policy).status == "pass"
    assert one("AWX-SRV-001", dev(software_version="9.2.0.1"), policy=policy).status == "pass"    # line "9"
    assert one("AWX-SRV-001", dev(software_version="7.4.10.1"), policy=policy).status == "fail"   # kept entries


@pytest.mark.parametrize("line_policy", ["pass", "fail", "manual"])
def test_srv001_unknown_line_follows_policy(line_policy):
    result = one("AWX-SRV-001", dev(software_version="8.3.5.4"), policy=Policy({"unknown_line_policy": line_policy}))
    assert result.status == line_policy and "8.3" in result.message


@pytest.mark.parametrize("overrides, words", [
    ({"unknown_line_policy": "maybe"}, "unknown_line_policy"), ({"min_version_floor": "seven"}, "min_version_floor"),
    ({"min_versions": {"7.4": "latest"}}, "min_versions")])
def test_srv001_bad_policy_is_an_error_naming_the_key(overrides, words):
    result = one("AWX-SRV-001", dev(software_version="8.3.5.4"), policy=Policy(overrides))
    assert result.status == "error" and words in result.message


@pytest.mark.parametrize("version", ["x.y", "8", "8.3.5.4-rc1", "", None])
def test_srv001_unparseable_version_is_error(version):
    result = one("AWX-SRV-001", dev(software_version=version))
    assert result.status == "error" and "software_version" in result.message


def test_srv001_declared_only_says_so():
    result = one("AWX-SRV-001", dev(provenance="declared", software_version="7.4.10.2"))
    assert result.status == "pass" and "declared" in result.message and result.provenance == "declared"


# --- AWX-SRV-003 ---------------------------------------------------------------------------------

def test_srv003_services_subset_of_required():
    result = one("AWX-SRV-003", dev(wan_services={"sip": True, "admin": False, "smtp": False}),
                 required_wan_services=["sip"])
    assert result.status == "pass"
    bad = one("AWX-SRV-003", dev(wan_services={"SIP": True, "pop3": True, "admin": True}),
              required_wan_services=["sip"])
    assert bad.status == "fail" and bad.message.endswith("admin, pop3") and bad.observed == ["admin", "pop3"]
    assert sum("not a required service" in e.detail for e in bad.evidence) == 2


def test_srv003_nothing_required_means_nothing_enabled():
    assert one("AWX-SRV-003", dev(wan_services={"sip": False})).status == "pass"
    assert one("AWX-SRV-003", dev(wan_services={"vpn": True})).status == "fail"


@pytest.mark.parametrize("ports, required, expected", [
    (["udp/5060"], ["sip"], "pass"), (["tcp/5061"], ["sip_tls"], "pass"), (["udp/16390"], ["sip", "rtp"], "pass"),
    (["udp/2088", "5060/udp"], ["blf", "sip"], "pass"), (["tcp/25"], ["sip"], "fail"), ([443], ["https"], "pass"),
    (["udp/5060"], ["udp/5060"], "pass"), (["tcp/8080"], ["sip", "https"], "fail"), (["bogus"], ["sip"], "fail")])
def test_srv003_outside_probe_ports(ports, required, expected):
    fact = Fact(ports, "observed", "probe:wan", "")
    assert one("AWX-SRV-003", dev(wan_open_ports=fact), required_wan_services=required).status == expected


def test_srv003_site_outside_probes_count():
    result = one("AWX-SRV-003", dev(), required_wan_services=["sip"],
                 outside={"tcp/8080": {"open": True}, "udp/5060": "open", "tcp/25": {"open": False}, "icmp": True})
    assert result.status == "fail" and "tcp/8080" in result.message and result.provenance == "observed"
    assert not any("tcp/25" in e.detail for e in result.evidence)


def test_srv003_bad_value_is_error():
    assert one("AWX-SRV-003", dev(wan_services=["sip"])).status == "error"


def test_parse_port_forms():
    assert parse_port("TCP/25") == ("tcp", 25) and parse_port("5060/udp") == ("udp", 5060)
    assert parse_port(8080) == ("tcp", 8080)
    assert parse_port("tcp/0") is None and parse_port("icmp/1") is None and parse_port(True) is None


# --- AWX-SRV-004 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("smtp, imap, expected", [
    (2525, 1143, "pass"), (25, 1143, "fail"), (587, 1143, "fail"), (2525, 993, "fail"), (2525, None, "pass"),
    ("2525", "1143", "pass")])
def test_srv004_device_ports(smtp, imap, expected):
    facts = {"smtp_port": smtp} | ({"imap_port": imap} if imap is not None else {})
    assert one("AWX-SRV-004", dev(**facts)).status == expected


def test_srv004_banner_probe():
    banners = Fact({"tcp/143": "* OK InSciTek OIS IMAP ready"}, "observed", "probe", "")
    result = one("AWX-SRV-004", dev(banners=banners, open_ports=Fact(["tcp/143"], "observed", "probe", "")))
    assert result.status == "fail" and "tcp/143" in result.message and result.provenance == "observed"
    moved = Fact({"tcp/2525": "220 pbx InSciTek OIS Ready here ESMTP"}, "observed", "probe", "")
    result = one("AWX-SRV-004", dev(banners=moved))
    assert result.status == "pass" and result.provenance == "observed"


def test_srv004_bad_port_is_error():
    assert one("AWX-SRV-004", dev(smtp_port="twenty-five")).status == "error"


# --- AWX-SRV-008 ---------------------------------------------------------------------------------

def router(*forwards: PortForward, error: str | None = None) -> RouterFacts:
    config = None if error else RouterConfig("vyos", forwards=list(forwards))
    return RouterFacts(5, "edge1", config, error=error, source="ssh:192.168.1.1")


def admin_forward() -> PortForward:
    ref = SourceRef("show nat", 12, None, "10", "rule 10 tcp 8080 -> 192.168.1.10:8080")
    return PortForward("dnat", "tcp", "192.168.1.10", external_ports=[PortRange(8080, 8080)], source_ref=ref)


def test_srv008_vpn_and_no_admin_forward():
    result = one("AWX-SRV-008", dev(vpn_configured=True, wan_admin_enabled=False), routers=[router()])
    assert result.status == "pass"
    no_router = one("AWX-SRV-008", dev(vpn_configured=True))
    assert no_router.status == "pass" and "not checked" in no_router.message


@pytest.mark.parametrize("facts, routers, words", [
    ({"vpn_configured": False}, [], "no Allworx VPN"),
    ({"vpn_configured": True, "wan_admin_enabled": True}, [], "WAN Admin"),
    ({"vpn_configured": True}, [router(admin_forward())], "admin forward")])
def test_srv008_fails(facts, routers, words):
    result = one("AWX-SRV-008", dev(**facts), routers=routers)
    assert result.status == "fail" and words in result.message


def test_srv008_forward_evidence_points_at_the_rule_and_unread_router_is_error():
    result = one("AWX-SRV-008", dev(vpn_configured=True), routers=[router(admin_forward())])
    assert any(e.excerpt == "rule 10 tcp 8080 -> 192.168.1.10:8080" for e in result.evidence)
    broken = one("AWX-SRV-008", dev(vpn_configured=True), routers=[router(error="ssh: auth failed")])
    assert broken.status == "error" and "auth failed" in broken.message


# --- AWX-WAN-001 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, wan, extra, site_wans, expected", [
    ("nat_firewall", "203.0.113.5", {}, [], "pass"), ("NAT Firewall", None, {}, [], "pass"),
    ("standard_router", "203.0.113.5", {}, [], "fail"), ("standard_router", "10.0.0.2", {}, [], "pass"),
    ("standard_router", "10.0.0.2", {}, ["10.0.0.2"], "fail"), ("standard_router", "10.0.0.2", {"pppoe": True}, [],
                                                                "fail"),
    ("standard_router", None, {}, [], "manual"), ("bridge", "203.0.113.5", {}, [], "manual")])
def test_wan001_modes(mode, wan, extra, site_wans, expected):
    result = one("AWX-WAN-001", dev(wan=wan, network_mode=mode, **extra), wan_addresses=site_wans)
    assert result.status == expected, result.message


def test_wan001_fail_says_why_and_bad_value_is_error():
    result = one("AWX-WAN-001", dev(wan="203.0.113.5", network_mode="standard_router"))
    assert "public address" in result.message and result.expected == "nat_firewall"
    assert one("AWX-WAN-001", dev(network_mode=3)).status == "error"


# --- AWX-WAN-002 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("facts, outside, expected", [
    ({}, {"icmp": {"answered": True}}, "fail"), ({}, {"icmp": {"answered": False}}, "pass"),
    ({"wan_icmp_answers": True}, None, "fail"), ({"wan_icmp_answers": False}, None, "pass"),
    ({"stealth": True}, None, "pass"), ({"stealth": False}, None, "fail"),
    ({"stealth": False}, {"icmp": {"answered": False}}, "fail"), ({}, {"tcp/8080": "open"}, "manual")])
def test_wan002_ping(facts, outside, expected):
    assert one("AWX-WAN-002", dev(**facts), outside=outside).status == expected


def test_wan002_observed_evidence_and_probe_attribution():
    result = one("AWX-WAN-002", dev(), outside={"icmp": {"answered": True}})
    assert result.provenance == "observed" and result.evidence[0].source == "probe:icmp"
    two = run("AWX-WAN-002", dev(wan="203.0.113.5"), dev(wan="203.0.113.6", name="pbx2"),
              outside={"icmp": {"answered": True}}, wan_addresses=["203.0.113.6"])
    assert [r.status for r in two] == ["manual", "fail"]


# --- AWX-PHN-004 / 005 ---------------------------------------------------------------------------

@pytest.mark.parametrize("check_id, key", [("AWX-PHN-004", "pnp_lan_creates_enabled"),
                                           ("AWX-PHN-005", "pnp_wan_creates_enabled")])
def test_pnp_creates(check_id, key):
    assert one(check_id, dev(**{key: False})).status == "pass"
    closed = one(check_id, dev(**{key: True}))
    assert closed.status == "fail" and "outside an install window" in closed.message
    opened = one(check_id, dev(**{key: True}), install_window_open=True)
    assert opened.status == "pass" and "install window is open" in opened.message
    assert one(check_id, dev(**{key: "yes"})).status == "error"


def test_pnp_install_window_end_is_shown_when_known():
    facts = site(dev(pnp_wan_creates_enabled=True), install_window_open=True)
    facts.install_window_until = "2026-11-28T17:00:00+00:00"
    [result] = CHECKS["AWX-PHN-005"].evaluate(facts, Policy())
    assert result.status == "pass" and "until 2026-11-28T17:00:00+00:00" in result.message
