"""NET-EXP-001 "No unexpected service is forwarded to the internet": every internet-facing forward to any host
that no required WAN service covers, rated by the service it reaches (policy exposed_services), through the
analyze-config path (hand-made configurations and real published ones) and the audit's SiteFacts path.

Severity rule: critical for RDP, SMB, databases, Telnet, VNC; high for SSH, WinRM, FTP (and TFTP, SNMP,
LDAP); medium for any other forward; the worst service reached wins (external or internal port; every
port for a DMZ host). Limited to named outside networks: one step lower, still a fail (it is reachable
from somewhere on the internet, and visible). The result is one per site: the check fails when any
forward is unexpected; each failing forward is one evidence item starting with its own severity, worst
first, and the message counts them."""
from __future__ import annotations

from pathlib import Path

import pytest

from device_drivers.facts import DeviceFacts
from firewall.model import Interface, PortForward, PortRange, RouterConfig, SourceRef
from firewall.parsers import parse
from hardening.checks.registry import run_checks
from hardening.engine.analyze import ROUTER_CHECKS, analyze
from hardening.model.catalog import check_meta
from hardening.model.exposure import classify_forwards
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"
SERVER_LAN, SERVER_WAN = "192.168.1.10", "10.0.0.2"
INTERFACES = [Interface("eth0", ["203.0.113.2/29"], "wan"), Interface("eth1", ["192.168.1.1/24"], "lan")]


def fwd(to, ext, internal=None, proto="tcp", kind="dnat", line=7, **kw) -> PortForward:
    return PortForward(kind, proto, to, external_ports=[PortRange(*ext)] if ext else None,
                       internal_ports=[PortRange(*internal)] if internal else None,
                       source_ref=SourceRef("show configuration commands", line, None, f"rule {line}",
                                            f"raw rule {line}"), **kw)


def _exp(out):
    return next(f for f in out["findings"] if f["check_id"] == "NET-EXP-001")


def test_the_check_is_in_the_catalog_and_the_router_checks():
    meta = check_meta("NET-EXP-001")
    assert meta["severity"] == "critical" and meta["needs"] == frozenset({"router_config"})
    assert meta["title"] == "No unexpected service is forwarded to the internet"
    assert ROUTER_CHECKS[-1] == "NET-EXP-001"


# (forward, status, severity of the first fail evidence, a fragment of it, the forward's check_ids)
CASES = {
    "rdp-from-anywhere": (fwd("192.168.1.99", (3389, 3389)), "fail", "critical",
                          "rdp (tcp/3389) forwarded to 192.168.1.99, from any source", ["NET-EXP-001"]),
    "rdp-from-one-outside-host": (fwd("192.168.1.99", (3389, 3389), source_restriction=["203.0.113.7/32"]), "fail",
                                  "high", "restricted to 203.0.113.7/32 (lowered from critical)", ["NET-EXP-001"]),
    "rdp-behind-another-external-port": (fwd("192.168.1.99", (33389, 33389), (3389, 3389)), "fail", "critical",
                                         "rdp (tcp/3389)", ["NET-EXP-001"]),
    "ssh-to-the-router-itself": (fwd("192.168.1.1", (2222, 2222), (22, 22)), "fail", "high",
                                 "ssh (tcp/22) forwarded to 192.168.1.1 (the router itself: management)",
                                 ["NET-EXP-001"]),
    "smb": (fwd("192.168.1.98", (445, 445)), "fail", "critical", "smb (tcp/445)", ["NET-EXP-001"]),
    "mysql-from-a-named-list": (fwd("192.168.1.98", (3306, 3306), source_restriction=["mgmt-hosts"]), "fail",
                                "critical", "restricted to mgmt-hosts (not provably narrower", ["NET-EXP-001"]),
    "telnet-from-0.0.0.0/0": (fwd("192.168.1.98", (23, 23), source_restriction=["0.0.0.0/0"]), "fail", "critical",
                              "telnet (tcp/23)", ["NET-EXP-001"]),
    "winrm": (fwd("192.168.1.98", (5986, 5986)), "fail", "high", "winrm (tcp/5985-5986)", ["NET-EXP-001"]),
    "an-unlisted-port": (fwd("192.168.1.98", (8443, 8443)), "fail", "medium", "tcp 8443 (no listed service)",
                         ["NET-EXP-001"]),
    "an-unlisted-port-from-one-outside-network": (
        fwd("192.168.1.98", (8443, 8443), source_restriction=["198.51.100.0/24"]), "fail", "low",
        "restricted to 198.51.100.0/24 (lowered from medium)", ["NET-EXP-001"]),
    "dmz-host": (fwd("192.168.1.97", None, proto="any", kind="dmz"), "fail", "critical", "every any port (",
                 ["NET-EXP-001"]),
    "upnp-mapping-of-rdp": (fwd("192.168.1.96", (3389, 3389), kind="upnp_dynamic"), "fail", "critical",
                            "a UPnP/NAT-PMP mapping made by a LAN host", ["NET-EXP-001"]),
    "disabled-rdp": (fwd("192.168.1.99", (3389, 3389), enabled=False), "pass", None,
                     "ignored, rule disabled: dnat tcp 3389", []),
    "rdp-bound-to-the-lan": (fwd("192.168.1.99", (3389, 3389), external_if="eth1"), "pass", None,
                             "ignored, bound to LAN interface eth1", []),
    "rdp-for-lan-sources-only": (fwd("192.168.1.99", (3389, 3389), source_restriction=["192.168.1.0/24"]), "pass",
                                 None, "ignored, only LAN sources (192.168.1.0/24)", []),
    "admin-port-of-the-pbx": (fwd(SERVER_WAN, (8080, 8080)), "pass", None, "reported by AWX-SRV-007",
                              ["AWX-SRV-007"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_one_forward(case):
    forward, status, severity, fragment, check_ids = CASES[case]
    config = RouterConfig("vyos", interfaces=INTERFACES, forwards=[forward])
    out = analyze(config, server_lan_ip=SERVER_LAN, server_wan_ip=SERVER_WAN)
    finding = _exp(out)
    assert finding["status"] == status, finding
    [classified] = out["forwards"]
    assert classified["check_ids"] == check_ids and classified["severity"] == severity
    if status == "fail":
        first = finding["evidence"][0]
        assert first["detail"].startswith(f"{severity}: ") and fragment in first["detail"], first
        assert first["source"] == "router:vyos show configuration commands line 7 rule rule 7"
        assert first["excerpt"] == "raw rule 7" and first["provenance"] == "declared"
        assert finding["message"].startswith(f"1 forward open to the internet that no required WAN service covers "
                                             f"(1 {severity}); worst: {severity}: ")
    else:
        assert finding["message"] == "no forward open to the internet outside the site's required WAN services"
        assert any(fragment in e["detail"] for e in finding["evidence"]), finding["evidence"]


def _site(services=(), routers=()) -> SiteFacts:
    return SiteFacts(SiteInfo(required_wan_services=list(services)),
                     [DeviceFacts(1, "allworx_server", "pbx", SERVER_LAN, SERVER_WAN)], list(routers))


def _router(*forwards, name="gw", error=None):
    config = None if error else RouterConfig("linux", interfaces=INTERFACES, forwards=list(forwards))
    return RouterFacts(7, name, config, error=error, source="ssh:192.168.1.1")


def test_a_forward_covered_by_a_required_service_is_noted_not_failed():
    rdp = fwd("192.168.1.99", (3389, 3389))
    [result] = run_checks(_site(["tcp/3389"], [_router(rdp)]), Policy(), ["NET-EXP-001"])
    assert result.status == "pass" and result.provenance == "device"           # read from the router
    assert result.evidence[0].detail == "allow-listed (required WAN service tcp/3389): dnat tcp 3389 -> 192.168.1.99 " \
                                        "(same ports)"
    [classified] = classify_forwards(_router(rdp).config, _site(["tcp/3389"]))
    assert classified["allow_listed"] == "tcp/3389" and classified["check_ids"] == [] and classified["severity"] is None
    [partly] = run_checks(_site(["tcp/3389"], [_router(fwd("192.168.1.99", (3389, 3390)))]), Policy(), ["NET-EXP-001"])
    assert partly.status == "fail"                 # 3390 is not covered: the whole forward is unexpected


def test_worst_first_and_the_message_counts_per_severity():
    routers = [_router(fwd("192.168.1.98", (8443, 8443), line=1), fwd("192.168.1.60", (22, 22), line=2),
                       fwd("192.168.1.99", (3389, 3389), line=3), fwd("192.168.1.97", (5432, 5432), line=4))]
    [result] = run_checks(_site(routers=routers), Policy(), ["NET-EXP-001"])
    assert result.status == "fail" and result.provenance == "device" and result.device_id == 7
    assert [e.detail.split(":")[0] for e in result.evidence] == ["critical", "critical", "high", "medium"]
    assert [e.source.rsplit("line ", 1)[1].split()[0] for e in result.evidence] == ["3", "4", "2", "1"]
    assert result.message.startswith("4 forwards open to the internet that no required WAN service covers "
                                     "(2 critical, 1 high, 1 medium); worst: critical: rdp (tcp/3389)")


def test_an_unreadable_router_is_an_error_never_a_pass():
    down = _router(name="branch", error="192.168.9.1:22: connection refused (nothing listens on that port)")
    [alone] = run_checks(_site(routers=[down]), Policy(), ["NET-EXP-001"])
    assert alone.status == "error" and "branch" in alone.message and "connection refused" in alone.message
    [clean] = run_checks(_site(routers=[_router(), down]), Policy(), ["NET-EXP-001"])
    assert clean.status == "error"                 # the readable router has no forward: still not a pass
    [both] = run_checks(_site(routers=[_router(fwd("192.168.1.99", (3389, 3389))), down]), Policy(), ["NET-EXP-001"])
    assert both.status == "fail" and any("connection refused" in e.detail for e in both.evidence)


def test_no_router_is_not_applicable_and_no_forward_is_a_pass():
    [none] = run_checks(_site(), Policy(), ["NET-EXP-001"])
    assert none.status == "not_applicable"
    [empty] = run_checks(_site(routers=[_router()]), Policy(), ["NET-EXP-001"])
    assert empty.status == "pass"


def test_the_table_is_policy_data():
    ssh = [_router(fwd("192.168.1.60", (22, 22)))]
    stricter = Policy({"exposed_services": {"services": {"ssh": {"severity": "critical", "ports": ["tcp/22"]}}}})
    [result] = run_checks(_site(routers=ssh), stricter, ["NET-EXP-001"])
    assert result.evidence[0].detail.startswith("critical: ssh (tcp/22)")
    broken = Policy({"exposed_services": {"default_severity": "dire", "services": {"ssh": {"severity": "high",
                                                                                          "ports": ["tcp/0"]}}}})
    [result] = run_checks(_site(routers=ssh), broken, ["NET-EXP-001"])
    assert result.status == "fail" and result.evidence[0].detail.startswith("medium: tcp 22 (no listed service)")
    notes = [e.detail for e in result.evidence if e.source == "policy"]
    assert any("default_severity 'dire'" in n for n in notes) and any("services.ssh" in n for n in notes)


# --- real published configurations (tests/fixtures/router-samples; each .source.md says where from) -------

def _sample(platform, name, **addresses):
    return analyze(parse(platform, (SAMPLES / name).read_text()), **addresses)


def test_cisco_ios_static_nat_of_web_ftp_and_rdp():
    # ip nat inside source static tcp 192.168.2.6 {80, 21, 3389} 209.172.108.16 ... (lines 21-23)
    out = _sample("cisco_ios", "cisco_ios/running_config_nat_static_margrave.txt")
    finding = _exp(out)
    assert finding["status"] == "fail"
    assert [(e["detail"].split(":")[0], e["source"].split(" line ")[1].split()[0]) for e in finding["evidence"]] == \
        [("critical", "23"), ("high", "22"), ("medium", "21")]
    assert "rdp (tcp/3389) forwarded to 192.168.2.6, from any source" in finding["evidence"][0]["detail"]
    assert "ftp (tcp/21)" in finding["evidence"][1]["detail"]
    assert finding["message"].startswith("3 forwards open to the internet that no required WAN service covers "
                                         "(1 critical, 1 high, 1 medium)")
    assert [f["severity"] for f in out["forwards"]] == ["medium", "high", "critical"]


def test_edgeos_rdp_behind_port_65001():
    # rule 2: pppoe4 daddr 23.90.233.198 tcp dport 65001 -> 192.168.1.231:3389
    out = _sample("ubiquiti_edgerouter", "edgeos/show_nat_rules_ntc.txt")
    first = _exp(out)["evidence"][0]
    assert first["detail"].startswith("critical: rdp (tcp/3389) forwarded to 192.168.1.231")
    assert "line 9-10" in first["source"]
    assert out["forwards"][1]["check_ids"] == ["NET-EXP-001"] and out["forwards"][1]["services"] == ["rdp"]


def test_vyos_disabled_rdp_rule_is_a_note():
    # rule 1000 (tcp 3389 -> 172.16.33.40) carries `disable`; rules 100 (80,443) and 8000 (udp 10000) do not
    out = _sample("vyos", "vyos/show_configuration_commands_dialup_router_complex.txt")
    finding = _exp(out)
    fails = [e for e in finding["evidence"] if e["detail"].startswith(("critical", "high", "medium", "low"))]
    assert finding["status"] == "fail" and [e["detail"].split(":")[0] for e in fails] == ["medium", "medium"]
    assert any(e["detail"].startswith("ignored, rule disabled: dnat tcp 3389 -> 172.16.33.40")
               for e in finding["evidence"])
    assert out["forwards"][1]["classification"] == "disabled" and out["forwards"][1]["check_ids"] == []


def test_openwrt_fw4_telnet_and_ssh_with_their_lan_reflections():
    # dstnat_wan: tcp 22 and 23 -> 192.168.26.100 from anywhere; dstnat_lan: the same for LAN sources only
    out = _sample("linux", "linux/nft_ruleset_fw4_redirect.txt")
    finding = _exp(out)
    assert finding["evidence"][0]["detail"].startswith("critical: telnet (tcp/23) forwarded to 192.168.26.100")
    assert finding["evidence"][1]["detail"].startswith("high: ssh (tcp/22) forwarded to 192.168.26.100")
    # the reflections sit in fw4's dstnat_lan chain: the LAN zone, inside, whatever their sources (issue 15)
    reflections = [e for e in finding["evidence"] if e["detail"].startswith("ignored, bound to LAN interface zone:lan")
                   and "(reflection)" in e["detail"]]
    assert {e["detail"].split("dnat tcp ")[1].split(" ")[0] for e in reflections} >= {"22", "23"}
