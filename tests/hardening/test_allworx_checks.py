"""Every AWX device check and the site checks: a passing and a failing case (plus error/manual)."""
import json
from datetime import datetime, timezone

import pytest

from hardening.facts import DeviceFacts, Fact, Secret, SiteFacts, SiteInfo
from hardening.policy import Policy
from hardening.registry import REGISTRY, load_all

load_all()
STRONG = "Velvet-Harbor-Quantum-71!"


def dev(kind="allworx_server", wan=None, errors=None, **facts):
    d = DeviceFacts(7, kind, f"{kind}-1", "192.168.1.10", wan, errors=errors or {})
    for key, value in facts.items():
        d.facts[key] = value if isinstance(value, Fact) else Fact(value, "device", f"web:{key}", "")
    return d


def run(check_id, *devices, **site_kw):
    info = SiteInfo(**{k: v for k, v in site_kw.items() if k in SiteInfo.__dataclass_fields__})
    extra = {k: v for k, v in site_kw.items() if k not in SiteInfo.__dataclass_fields__}
    facts = SiteFacts(info, list(devices), **extra)
    return REGISTRY[check_id].evaluate(facts, Policy())


def status(check_id, *devices, **kw):
    results = run(check_id, *devices, **kw)
    assert len(results) >= 1
    return results[0].status


@pytest.mark.parametrize("version, expected", [
    ("7.2.3.9", "fail"), ("7.3.14.7", "fail"), ("7.3.14.8", "pass"), ("7.4.10.10", "pass"),
    ("7.4.9.99", "fail"), ("8.3.5.4", "manual"), ("x.y", "error")])
def test_srv_001_version_minimums(version, expected):
    assert status("AWX-SRV-001", dev(software_version=version)) == expected


def test_srv_001_unread_version_is_error_not_pass():
    assert status("AWX-SRV-001", dev(errors={"snmp": "timeout: no answer", "web": "auth failure"})) == "error"
    assert status("AWX-SRV-001", dev()) == "manual"
    assert status("AWX-SRV-001") == "not_applicable"


def test_srv_003_wan_services_subset_of_required():
    assert status("AWX-SRV-003", dev(wan_services={"sip": True, "admin": False}),
                  required_wan_services=["sip"]) == "pass"
    results = run("AWX-SRV-003", dev(wan_services={"sip": True, "pop3": True}), required_wan_services=["sip"])
    assert results[0].status == "fail" and "pop3" in results[0].message


def test_srv_004_mail_ports_device_and_banner():
    assert status("AWX-SRV-004", dev(smtp_port=2525, imap_port=1143)) == "pass"
    assert status("AWX-SRV-004", dev(smtp_port=25, imap_port=1143)) == "fail"
    banner = dev(banners={"tcp/143": "* OK InSciTek OIS IMAP ready"})
    assert status("AWX-SRV-004", banner) == "fail"


@pytest.mark.parametrize("check_id, kind", [("AWX-SRV-005", "allworx_server"), ("AWX-PHN-006", "allworx_phone"),
                                            ("AWX-PX-001", "px_expander")])
def test_default_credential_checks(check_id, kind):
    assert status(check_id, dev(kind, default_credential_accepted=True, credential_test={"attempts": 1})) == "fail"
    assert status(check_id, dev(kind, default_credential_accepted=False, credential_test={"attempts": 6})) == "pass"
    stopped = dev(kind, credential_test={"attempts": 2, "stopped_reason": "lockout sign: 'too many attempts'"})
    assert status(check_id, stopped) == "error"


@pytest.mark.parametrize("check_id, kind, key", [
    ("AWX-SRV-006", "allworx_server", "admin_password"), ("AWX-PHN-001", "allworx_server", "phone_admin_password"),
    ("AWX-PHN-002", "allworx_server", "pnp_secret_key"), ("AWX-PX-002", "px_expander", "admin_password")])
@pytest.mark.parametrize("password", ["1234", "Allworx", "password", "", "allworxZQ2024!", "zq1234zqZQ!!x",
                                      "qwertyqwerty", "Zx9!k"])
def test_weak_passwords_fail(check_id, kind, key, password):
    results = run(check_id, dev(kind, **{key: Fact(Secret(password), "declared", "credential")}))
    assert results[0].status == "fail"


@pytest.mark.parametrize("check_id, kind, key", [
    ("AWX-SRV-006", "allworx_server", "admin_password"), ("AWX-PHN-001", "allworx_server", "phone_admin_password"),
    ("AWX-PHN-002", "allworx_server", "pnp_secret_key"), ("AWX-PX-002", "px_expander", "admin_password")])
@pytest.mark.parametrize("password", ["allworxZQ2024!", "zq1234zqZQ!!x", "qwertyqwerty", "Zx9!k"])
def test_no_part_of_a_weak_password_leaks(check_id, kind, key, password):
    results = run(check_id, dev(kind, **{key: Fact(Secret(password), "declared", "credential")}))
    dumped = json.dumps([r.to_dict() for r in results]) + repr(results)
    for fragment in (password, password[-5:]):      # the policy words themselves may be named
        assert fragment not in dumped


@pytest.mark.parametrize("check_id, kind, key", [
    ("AWX-SRV-006", "allworx_server", "admin_password"), ("AWX-PHN-001", "allworx_server", "phone_admin_password"),
    ("AWX-PHN-002", "allworx_server", "pnp_secret_key"), ("AWX-PX-002", "px_expander", "admin_password")])
def test_strong_passwords_pass(check_id, kind, key):
    results = run(check_id, dev(kind, require_strong_passwords=True, **{key: Fact(Secret(STRONG), "declared", "c")}))
    assert results[0].status == "pass"
    assert STRONG not in json.dumps([r.to_dict() for r in results])


def test_srv_006_needs_require_strong_passwords():
    weak_policy = dev(admin_password=Fact(Secret(STRONG), "declared", "c"), require_strong_passwords=False)
    assert status("AWX-SRV-006", weak_policy) == "fail"


def test_srv_008_vpn():
    assert status("AWX-SRV-008", dev(vpn_configured=True, wan_admin_enabled=False)) == "pass"
    assert status("AWX-SRV-008", dev(vpn_configured=False)) == "fail"
    assert status("AWX-SRV-008", dev(vpn_configured=True, wan_admin_enabled=True)) == "fail"


def test_wan_001_network_mode():
    assert status("AWX-WAN-001", dev(network_mode="nat_firewall")) == "pass"
    assert status("AWX-WAN-001", dev(wan="52.1.2.3", network_mode="standard_router")) == "fail"


def test_wan_002_stealth_from_probe_fact_or_setting():
    assert status("AWX-WAN-002", dev(), outside={"icmp": {"answered": True}}) == "fail"
    assert status("AWX-WAN-002", dev(), outside={"icmp": {"answered": False}}) == "pass"
    assert status("AWX-WAN-002", dev(stealth=True)) == "pass"
    assert status("AWX-WAN-002", dev(stealth=False)) == "fail"
    assert status("AWX-WAN-002", dev()) == "manual"


@pytest.mark.parametrize("check_id, key", [("AWX-PHN-004", "pnp_lan_creates_enabled"),
                                           ("AWX-PHN-005", "pnp_wan_creates_enabled")])
def test_pnp_creates_and_install_window(check_id, key):
    assert status(check_id, dev(**{key: False})) == "pass"
    assert status(check_id, dev(**{key: True})) == "fail"
    assert status(check_id, dev(**{key: True}), install_window_open=True) == "pass"


def test_scan_001_sensor_events():
    events = [{"source": "203.0.113.9", "user_agent": "friendly-scanner", "time": "t1"},
              {"source": "203.0.113.9", "user_agent": "friendly-scanner", "time": "t2"},
              {"source": "198.51.100.4", "user_agent": "Yealink SIP-T46", "time": "t3"}]
    results = run("NET-SCAN-001", sensor_events=events)
    assert results[0].status == "fail" and "203.0.113.9: 2 request(s)" in results[0].evidence[0].detail
    assert status("NET-SCAN-001", sensor_events=events[2:]) == "pass"
    assert status("NET-SCAN-001") == "not_applicable"


def test_lan_av_attestation():
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    future = dev(av_attested_until=Fact("2027-01-31", "declared", "declared"))
    past = dev(av_attested_until=Fact("2026-10-01", "declared", "declared"))
    assert status("LAN-AV-001", future, now=now) == "pass"
    assert status("LAN-AV-001", past, now=now) == "fail"
    assert status("LAN-AV-001", dev(), now=now) == "manual"
