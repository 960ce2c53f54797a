"""NET-VPN-001 (the VPN the internet reaches is PPTP) and AWX-SRV-009 (the admin UI's password-recovery page
reachable from the internet) over hand-built SiteFacts: the outside probe's records, router forwards, and
the server's own facts. Expected verdicts are written from the inputs."""
from __future__ import annotations

import pytest

from device_drivers.facts import DeviceFacts, Fact
from firewall.model import PortForward, PortRange, RouterConfig, SourceRef
from hardening.checks.registry import load_all
from hardening.model.catalog import catalog
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

SERVER_LAN, SERVER_WAN = "192.168.1.10", "10.0.0.2"
ALLWORX_REPLY = {"state": "open", "pptp": True, "rtt_ms": 2.0, "reason": "", "protocol_version": "1.0",
                 "result_code": 1, "result": "success", "hostname": "pbx", "vendor": "Allworx Server VPN"}
FORM = {"state": "open", "status": 200, "server": "IST OIS", "markers_found": ["Security Key", "System Unique ID"],
        "rtt_ms": 1.0, "reason": ""}


def fwd(to: str, port: int, proto: str = "tcp", line: int = 7, **kw) -> PortForward:
    ref = SourceRef("show configuration", line, None, f"nat-{line}", f"rule {line} -> {to}:{port}")
    return PortForward("dnat", proto, to, external_ports=[PortRange(port, port)], source_ref=ref, **kw)


def site(*forwards: PortForward, outside=None, router=True, server_facts=None, wan=SERVER_WAN,
         errors=None, **info) -> SiteFacts:
    server = DeviceFacts(1, "allworx_server", "pbx", SERVER_LAN, wan, facts=dict(server_facts or {}),
                         errors=dict(errors or {}))
    routers = [RouterFacts(5, "edge1", RouterConfig("vyos", forwards=list(forwards)), source="ssh:192.168.1.1")] \
        if router else []
    return SiteFacts(SiteInfo("clinic", **info), [server], routers, outside=outside)


def run(check_id: str, facts: SiteFacts, policy: Policy | None = None):
    [result] = load_all()[check_id].evaluate(facts, policy or Policy())
    return result


def device(value, provenance: str = "device", source: str = "http:/network/configuration") -> Fact:
    return Fact(value, provenance, source, str(value))


def test_catalog_entries():
    assert catalog()["NET-VPN-001"]["severity"] == "medium"
    assert catalog()["NET-VPN-001"]["needs"] == {"outside_probe", "router_config"}    # no login: network-only
    assert catalog()["AWX-SRV-009"]["severity"] == "critical"
    assert catalog()["AWX-SRV-008"]["severity"] == "low"                   # the vendor's VPN advice stays as it was


# --- NET-VPN-001 ------------------------------------------------------------------------------------

def test_the_allworx_pptp_reply_from_outside_fails_and_says_what_to_do():
    result = run("NET-VPN-001", site(outside={"pptp/1723": ALLWORX_REPLY}, router=False))
    assert result.status == "fail" and result.provenance == "observed"
    assert result.message.startswith("the Allworx VPN answers PPTP on TCP 1723 of the WAN address from the internet "
                                     "(vendor 'Allworx Server VPN'). PPTP is a weak protocol")
    assert "AWX-SRV-008" in result.message and "limited to your own source addresses" in result.message
    assert "WireGuard" in result.message
    first = result.evidence[0]
    assert first.source == "probe:pptp/1723" and "vendor 'Allworx Server VPN'" in first.excerpt


def test_another_vendors_pptp_is_named_as_such():
    reply = {**ALLWORX_REPLY, "vendor": "MikroTik"}
    result = run("NET-VPN-001", site(outside={"pptp/1723": reply}, router=False))
    assert result.status == "fail" and result.message.startswith("a PPTP VPN answers PPTP on TCP 1723")


@pytest.mark.parametrize("record, status, words", [
    ({"state": "closed", "pptp": None, "reason": "Connection refused"}, "pass", "TCP 1723 does not answer"),
    ({"state": "open", "pptp": False, "reason": "not PPTP"}, "pass", "answers, but not as PPTP"),
    ({"state": "open", "pptp": None, "reason": "no PPTP reply within 1 s"}, "error", "gave no PPTP reply"),
    ({"state": "error", "reason": "outside probe failed: ConnectTimeout"}, "error", "outside probe failed"),
])
def test_what_the_outside_probe_saw_decides_alone(record, status, words):
    result = run("NET-VPN-001", site(outside={"pptp/1723": record}, router=False))
    assert result.status == status and words in result.message


def test_a_pptp_forward_from_any_source_fails_and_a_limited_one_passes():
    result = run("NET-VPN-001", site(fwd(SERVER_LAN, 1723)))
    assert result.status == "fail" and result.provenance == "device"
    assert result.evidence[0].source == "router:edge1 show configuration line 7 rule nat-7"
    assert result.evidence[0].detail.startswith("PPTP forward to server LAN pbx (192.168.1.10) from any internet "
                                                "address")
    limited = run("NET-VPN-001", site(fwd(SERVER_LAN, 1723, source_restriction=["198.51.100.0/24"])))
    assert limited.status == "pass" and "limited to named sources" in limited.message


def test_the_probe_answering_through_a_limited_forward_is_one_of_its_sources():
    facts = site(fwd(SERVER_LAN, 1723, source_restriction=["198.51.100.7/32"]), outside={"pptp/1723": ALLWORX_REPLY})
    result = run("NET-VPN-001", facts)
    assert result.status == "pass"
    assert any("the outside probe must be one of the forward's allowed sources" in e.detail for e in result.evidence)


def test_a_router_without_a_pptp_forward_passes_and_one_that_cannot_be_read_is_an_error():
    result = run("NET-VPN-001", site(fwd(SERVER_LAN, 5060, "udp"), fwd(SERVER_LAN, 47, "other:gre", line=9)))
    assert result.status == "pass"
    assert result.message.endswith("router edge1: no PPTP forward (TCP 1723) from any internet source")
    assert any(e.detail.startswith("GRE (PPTP's data channel) to server LAN pbx") for e in result.evidence)
    broken = site()
    broken.routers = [RouterFacts(5, "edge1", None, error="ssh: authentication failed", source="ssh:192.168.1.1")]
    result = run("NET-VPN-001", broken)
    assert result.status == "error" and "authentication failed" in result.message


def test_the_servers_own_vpn_setting():
    on = {"wan_services": device({"sip": True, "vpn": True})}
    public = run("NET-VPN-001", site(router=False, server_facts=on, wan="198.51.100.20"))
    assert public.status == "fail" and "enabled on pbx's WAN side" in public.message
    assert "198.51.100.20 is a public address" in public.message
    closed = {"pptp/1723": {"state": "filtered", "pptp": None, "reason": "no answer within 1 s"}}
    seen = run("NET-VPN-001", site(router=False, server_facts=on, wan="198.51.100.20", outside=closed))
    assert seen.status == "pass" and seen.provenance == "observed"        # what the probe saw beats the setting
    assert any(e.detail.endswith("but the outside probe of that address gets no PPTP answer") for e in seen.evidence)
    private = run("NET-VPN-001", site(router=False, server_facts=on))
    assert private.status == "manual" and "whether the internet reaches it is not known" in private.message
    off = run("NET-VPN-001", site(router=False, server_facts={"wan_services": device({"vpn": False})}))
    assert off.status == "pass" and "the Allworx VPN is disabled on pbx's WAN side" in off.message
    configured = run("NET-VPN-001", site(router=False, server_facts={"vpn_configured": device(False)}))
    assert configured.status == "pass"


def test_nothing_to_judge_is_not_applicable():
    result = run("NET-VPN-001", site(router=False))
    assert result.status == "not_applicable" and "nothing to judge" in result.message


# --- AWX-SRV-009 ------------------------------------------------------------------------------------

def test_the_recovery_form_seen_from_outside_fails_critical_without_quoting_it():
    result = run("AWX-SRV-009", site(outside={"http_get/8080/lostPass.asp": FORM}, router=False))
    assert result.status == "fail" and result.device_id == 1 and result.provenance == "observed"
    assert result.message == ("the admin password-recovery form is reachable from the internet: from the internet: "
                              "GET /lostPass.asp on TCP 8080 of the WAN address: HTTP 200, the recovery form (shows "
                              "Security Key, System Unique ID)")
    evidence = result.evidence[0]
    assert evidence.source == "probe:http_get/8080/lostPass.asp"
    assert evidence.excerpt == ("state open, HTTP 200, Server: IST OIS, markers found: Security Key, "
                                "System Unique ID")


@pytest.mark.parametrize("record, status, words", [
    ({"state": "open", "status": 404, "markers_found": [], "reason": ""}, "pass", "HTTP 404: not served"),
    ({"state": "open", "status": 403, "markers_found": [], "reason": ""}, "pass", "HTTP 403: not served"),
    ({"state": "filtered", "status": None, "markers_found": [], "reason": "no answer"}, "pass",
     "the port does not answer"),
    ({"state": "error", "reason": "outside probe failed: ConnectionError"}, "error", "outside probe failed"),
    ({"state": "open", "status": 200, "markers_found": [], "reason": ""}, "manual", "without any of the form's words"),
    ({"state": "open", "status": 500, "markers_found": [], "reason": ""}, "manual", "HTTP 500"),
    ({"state": "open", "status": None, "markers_found": [], "reason": "no HTTP answer: it sent nothing"}, "manual",
     "no HTTP answer"),
])
def test_each_outside_answer(record, status, words):
    result = run("AWX-SRV-009", site(outside={"http_get/8080/lostPass.asp": record}, router=False))
    assert result.status == status and words in result.message, result.message


def lan(status: int = 200, markers=("Security Key", "System Unique ID", "Reset Code"), port: int = 8080, **extra):
    record = {"port": port, "path": "/lostPass.asp", "state": "open", "status": status,
              "markers_found": list(markers) if status == 200 else [], "reason": "", **extra}
    return Fact([record], "observed", f"probe:http_get/{port}", "GET /lostPass.asp")


def test_served_on_the_lan_and_forwarded_is_reachable_through_that_forward():
    facts = site(fwd(SERVER_LAN, 8080), server_facts={"lost_password_page": lan()})
    result = run("AWX-SRV-009", facts)
    assert result.status == "fail"
    assert result.message.startswith("the admin password-recovery form is reachable from the internet: "
                                     "/lostPass.asp is served on TCP 8080 and reachable from the WAN through forward "
                                     "dnat tcp 8080 -> 192.168.1.10")
    assert result.evidence[0].source == "router:edge1 show configuration line 7 rule nat-7"


def test_served_on_the_lan_with_wan_admin_on_fails_without_a_router():
    facts = site(router=False, server_facts={"lost_password_page": lan(), "wan_admin_enabled": device(True)})
    result = run("AWX-SRV-009", facts)
    assert result.status == "fail" and "WAN Admin is on" in result.message


def test_served_on_the_lan_but_not_reachable_passes_only_with_the_router_read():
    closed = {"lost_password_page": lan(), "wan_admin_enabled": device(False)}
    result = run("AWX-SRV-009", site(fwd(SERVER_LAN, 5060, "udp"), server_facts=closed))
    assert result.status == "pass" and result.message.endswith("no router forward reaches TCP 8080 and WAN Admin "
                                                               "is off")
    unknown = run("AWX-SRV-009", site(router=False, server_facts=closed))
    assert unknown.status == "manual" and "no router in inventory" in unknown.message


def test_not_served_on_the_lan_passes_and_a_failed_lan_get_is_an_error():
    result = run("AWX-SRV-009", site(router=False, server_facts={"lost_password_page": lan(403)}))
    assert result.status == "pass" and "from the LAN: HTTP 403: not served" in result.message
    failed = lan()
    failed.value[0].update(state="error", status=None, markers_found=[], reason="timed out")
    result = run("AWX-SRV-009", site(router=False, server_facts={"lost_password_page": failed}))
    assert result.status == "error" and "timed out" in result.message


def test_the_router_route_beats_a_404_from_outside():
    facts = site(fwd(SERVER_LAN, 8080), outside={"http_get/8080/lostPass.asp": {"state": "open", "status": 404,
                                                                                 "markers_found": []}},
                 server_facts={"lost_password_page": lan()})
    assert run("AWX-SRV-009", facts).status == "fail"


def test_no_evidence_is_manual_or_the_channel_error():
    assert run("AWX-SRV-009", site(router=False)).status == "manual"
    result = run("AWX-SRV-009", site(router=False, errors={"probes": "no answer on any probed port"}))
    assert result.status == "error" and "no answer on any probed port" in result.message


# --- AWX-SRV-003 reads only port records --------------------------------------------------------------

def test_wan_services_ignore_the_pptp_and_http_get_records():
    outside = {"udp/5060": {"state": "open", "status": "SIP/2.0 200 OK"}, "pptp/1723": ALLWORX_REPLY,
               "http_get/8080/lostPass.asp": {"state": "error", "reason": "outside probe failed: x"}}
    result = run("AWX-SRV-003", site(outside=outside, router=False, required_wan_services=["sip"]))
    assert result.status == "pass" and result.message == "only required WAN services are on (sip)"
