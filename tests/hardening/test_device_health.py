"""Issue 13, device health first: what an audit records per device (reached, channels, reasons), checks
that depend on a failed channel become errors (a failed channel wins over declared facts), AWX-SRV-004
never passes on a host that answers nothing, and the score is withheld, never raised, on missing evidence."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.egress import EgressRefused
from device_drivers.exceptions import AuthFailed, DeviceTimeout, DeviceUnreachable, HostKeyMismatch
from device_drivers.facts import DeviceFacts, Fact
from device_drivers.inventory import DeviceSpec
from hardening.checks.registry import load_all
from hardening.engine import health
from hardening.model import scoring
from hardening.model.policy import Policy
from hardening.model.profiles import load_profile
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

CHECKS = load_all()
REFUSED_WEB = "unreachable: http://127.0.0.77:8080/login.htm: Connection refused"
SNMP_TIMEOUT = "timeout: no SNMP response from 127.0.0.77:161 (agent down, filtered or wrong community)"
ALL_CLOSED = "error: no answer on any probed port (tcp/8080 closed, tcp/25 closed, tcp/143 closed, udp/5060 closed)"


# --- reasons ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    (REFUSED_WEB, "connection refused"),
    (SNMP_TIMEOUT, "timed out"),
    ("auth failure: login rejected at http://127.0.0.20:8080/login.htm", "authentication failed"),
    ("auth failure: pbx: no password in the inventory credentials; web admin not read", "no stored password"),
    ("lockout sign: http://127.0.0.20:8080/login.htm answered with a lockout message", "locked out"),
    (ALL_CLOSED, "connection refused"),
    ("error: no answer on any probed port (tcp/8080 filtered, udp/5060 filtered)", "timed out"),
    ("error: no answer on any probed port (tcp/8080 closed, udp/5060 filtered)", "no answer"),
    ("pbx: 8.8.8.8 is outside the appliance's allowed device networks (10.0.0.0/8); nothing was sent",
     "egress refused"),
    ("no answer within the audit's time budget of 20 s", "timed out"),
    ("garbled page: /about.htm (Home) shows no software version", "garbled answer"),
    ("undecided: daily budget spent after 0 of 5 passwords", "not decided"),
    ("error: ValueError: boom", "error"),
])
def test_channel_messages_classify_to_one_short_reason(text, reason):
    assert health.classify(text) == reason


@pytest.mark.parametrize("exc, reason", [
    (HostKeyMismatch("gw:22", "SHA256:aaa", "SHA256:bbb"), "host key changed"),
    (AuthFailed("gw: authentication failed (Authentication failed.)"), "authentication failed"),
    (DeviceTimeout("gw: connect timed out"), "timed out"),
    (DeviceUnreachable("gw: connection refused (nothing listens on that port)"), "connection refused"),
    (EgressRefused("gw: 8.8.8.8 is outside the appliance's allowed device networks; nothing was sent"),
     "egress refused"),
])
def test_driver_errors_classify_by_their_class(exc, reason):
    assert health.reason_of(exc) == reason


# --- the health list ----------------------------------------------------------------------------

def spec(device_id, kind, name, address, device_type=None):
    return DeviceSpec(device_id, kind, name, address, device_type=device_type)


def test_health_lists_every_device_with_its_channels_and_the_outside_probe():
    dead = DeviceFacts(1, "allworx_server", "pbx", "127.0.0.77",
                       errors={"snmp": SNMP_TIMEOUT, "web": REFUSED_WEB, "probes": ALL_CLOSED,
                               "credential_test": "unreachable: http://127.0.0.77:8080/login.htm: Connection refused"})
    phone = DeviceFacts(2, "allworx_phone", "phone-101", "127.0.0.101")
    phone.facts["credential_test"] = Fact({"attempts": 1}, "observed", "credtest:http:/login")
    facts = SiteFacts(SiteInfo("Dental North"), [dead, phone],
                      [RouterFacts(9, "gw", None, error="gw:22: SSH host key changed: pinned a, presented b")],
                      outside={"error": "outside probe failed: ConnectionError: [Errno 111] Connection refused"})
    devices = [spec(1, "allworx_server", "pbx", "127.0.0.77"), spec(2, "allworx_phone", "phone-101", "127.0.0.101"),
               spec(9, "router", "gw", "10.0.0.1", "linux"), spec(10, "switch", "core", "10.0.0.2")]
    out = health.build(devices, facts, load_profile("baseline").needs(), {9: "host key changed"}, credential_tests=True,
                       outside_target="203.0.113.10", outside_asked=True)
    server, ph, router, switch, site = out
    assert (server["device_id"], server["name"], server["kind"], server["address"]) == (
        1, "pbx", "allworx_server", "127.0.0.77")
    assert server["reached"] is False and server["reason"] == "connection refused"
    assert {c: v["state"] for c, v in server["channels"].items()} == {
        "snmp": "failed", "web": "failed", "probes": "failed", "credential_test": "failed"}
    assert server["channels"]["snmp"]["reason"] == "timed out" and server["channels"]["snmp"]["detail"] == SNMP_TIMEOUT
    # the phone is only asked for its login test (baseline needs nothing else of phones), which ran
    assert ph["reached"] is True and ph["reason"] is None
    assert ph["channels"]["credential_test"]["state"] == "ok" and ph["channels"]["web"]["state"] == "not_contacted"
    assert router["reached"] is False and router["reason"] == "host key changed"
    assert router["channels"] == {"ssh": {"state": "failed", "reason": "host key changed",
                                          "detail": "gw:22: SSH host key changed: pinned a, presented b"}}
    assert switch["reached"] is None and switch["channels"]["ssh"]["state"] == "not_contacted"
    assert "no device_type" in switch["channels"]["ssh"]["reason"]
    assert (site["kind"], site["device_id"], site["address"], site["reached"], site["reason"]) == (
        "site", None, "203.0.113.10", False, "connection refused")


def test_a_device_no_selected_check_needs_is_not_contacted_and_reached_is_null():
    px = DeviceFacts(5, "px_expander", "px-1", "127.0.0.230")
    out = health.build([spec(5, "px_expander", "px-1", "127.0.0.230")], SiteFacts(SiteInfo(), [px]),
                       frozenset({"inventory", "server_web"}), {}, credential_tests=True, outside_target=None,
                       outside_asked=False)
    assert out == [{"device_id": 5, "name": "px-1", "kind": "px_expander", "address": "127.0.0.230",
                    "reached": None, "reason": None,
                    "channels": {c: {"state": "not_contacted", "reason": None, "detail": None}
                                 for c in ("snmp", "web", "probes", "credential_test")}}]


def test_egress_refused_marks_every_asked_channel_failed():
    refused = DeviceFacts(1, "allworx_server", "pbx", "8.8.8.8",
                          errors={"gather": "pbx: 8.8.8.8 is outside the appliance's allowed device networks"})
    [entry] = health.build([spec(1, "allworx_server", "pbx", "8.8.8.8")], SiteFacts(SiteInfo(), [refused]),
                           frozenset({"server_web", "server_probes"}), {1: "egress refused"}, credential_tests=False,
                           outside_target=None, outside_asked=False)
    assert entry["reached"] is False and entry["reason"] == "egress refused"
    assert [c for c, v in entry["channels"].items() if v["state"] == "failed"] == ["web", "probes"]


# --- a failed channel the check needs wins over declared facts ----------------------------------

def dev(errors=None, provenance="device", **facts) -> DeviceFacts:
    made = DeviceFacts(7, "allworx_server", "pbx", "192.168.1.10", errors=dict(errors or {}))
    for key, value in facts.items():
        made.facts[key] = value if isinstance(value, Fact) else Fact(
            value, provenance, "declared" if provenance == "declared" else f"web:{key}", f"{key}={value}")
    return made


def one(check_id, device):
    [result] = CHECKS[check_id].evaluate(SiteFacts(SiteInfo(), [device]), Policy())
    return result


def test_a_declared_version_does_not_pass_when_snmp_and_web_failed():
    declared = dev(provenance="declared", software_version="7.4.10.2")
    assert one("AWX-SRV-001", declared).status == "pass"              # nothing failed: the declaration decides
    failed = dev(errors={"snmp": SNMP_TIMEOUT, "web": "auth failure: login rejected"}, provenance="declared",
                 software_version="7.4.10.2")
    result = one("AWX-SRV-001", failed)
    assert result.status == "error" and result.target == "pbx"
    assert "pbx" in result.message and "snmp failed" in result.message and "no SNMP response" in result.message
    assert {e.source for e in result.evidence} >= {"device:snmp", "device:web"}


def test_a_version_read_from_the_web_admin_still_passes_when_only_snmp_failed():
    result = one("AWX-SRV-001", dev(errors={"snmp": SNMP_TIMEOUT}, software_version="7.4.10.2"))
    assert result.status == "pass" and result.provenance == "device"


def test_a_declared_setting_does_not_pass_when_the_web_admin_failed():
    result = one("AWX-PHN-004", dev(errors={"web": "auth failure: login rejected"}, provenance="declared",
                                    pnp_lan_creates_enabled=False))
    assert result.status == "error" and "web failed (auth failure: login rejected)" in result.message
    failing = one("AWX-PHN-004", dev(errors={"web": "auth failure: login rejected"}, provenance="declared",
                                     pnp_lan_creates_enabled=True))
    assert failing.status == "fail"                 # a declared failure stays a failure: never a pass


def test_a_channel_the_check_does_not_need_leaves_it_to_a_person():
    # SNMP off (the simulator's default) says nothing about the mail ports (web, probes) ...
    assert one("AWX-SRV-004", dev(errors={"snmp": SNMP_TIMEOUT})).status == "manual"
    # ... but everything about the software version
    result = one("AWX-SRV-001", dev(errors={"snmp": SNMP_TIMEOUT}))
    assert result.status == "error" and "could not decide on pbx" in result.message


# --- AWX-SRV-004 on a host that answers nothing -------------------------------------------------

def _probed(ports: list[str], excerpt: str) -> Fact:
    return Fact(ports, "observed", "probe", excerpt)


def test_srv004_is_error_on_a_dead_host_not_a_pass():
    dead = dev(errors={"probes": ALL_CLOSED, "web": REFUSED_WEB},
               open_ports=_probed([], "tcp/8080 closed; tcp/25 closed; tcp/143 closed; udp/5060 closed"))
    result = one("AWX-SRV-004", dead)
    assert result.status == "error"
    assert "probes: error: no answer on any probed port" in result.message and "pbx" in result.message


def test_srv004_passes_on_probes_only_when_the_server_answered():
    alive = dev(open_ports=_probed(["tcp/8080", "udp/5060"], "tcp/8080 open; tcp/25 closed; udp/5060 open"))
    result = one("AWX-SRV-004", alive)
    assert result.status == "pass" and result.provenance == "observed"
    assert any("answered" in e.detail and "tcp/8080" in e.detail for e in result.evidence)
    silent = dev(open_ports=_probed([], "tcp/8080 closed; tcp/25 closed"))        # no channel error recorded
    assert one("AWX-SRV-004", silent).status == "manual"


def test_srv004_declared_ports_with_the_web_admin_down_fall_back_to_the_probes():
    down = {"web": "auth failure: login rejected"}
    declared = dev(errors=down, provenance="declared", smtp_port=2525)
    assert one("AWX-SRV-004", declared).status == "error"
    declared.facts["open_ports"] = _probed(["tcp/8080"], "tcp/8080 open; tcp/25 closed")
    assert one("AWX-SRV-004", declared).status == "pass"       # the probes read the server itself


# --- score, overall, problems -------------------------------------------------------------------

def row(check_id, status, severity="high", device_id=1, target="pbx", waived=False, message="m"):
    return {"check_id": check_id, "status": status, "severity": severity, "device_id": device_id,
            "target": target, "title": check_id, "message": message, "waived": waived, "waiver": None}


UNREACHED = {"device_id": 1, "name": "pbx", "kind": "allworx_server", "address": "127.0.0.77", "reached": False,
             "reason": "connection refused", "channels": {"web": {"state": "failed", "reason": "connection refused"}}}


def test_an_unreached_device_withholds_the_score_and_names_itself():
    rows = [row("AWX-SRV-001", "pass"), row("NET-ALG-001", "fail", "low", 9, "gw")]
    assert scoring.score(rows)["raw"] == round(100 * 5 / 6, 1)
    score = scoring.score(rows, [UNREACHED])
    assert score["raw"] is None and score["waived"] is None
    assert score["withheld"] == "server pbx not reached: connection refused"
    assert scoring.overall(rows, [UNREACHED]) == "UNKNOWN"


def test_a_weighted_error_withholds_but_an_info_error_does_not():
    rows = [row("AWX-SRV-001", "pass"), row("NET-SCAN-001", "error", "info", None, "")]
    assert scoring.score(rows)["raw"] == 100.0 and "withheld" not in scoring.score(rows)
    assert scoring.overall(rows) == "WARNING"
    rows.append(row("AWX-SRV-004", "error", "medium", message="could not decide"))
    assert scoring.score(rows)["withheld"] == "1 weighted check(s) could not be decided: AWX-SRV-004 on pbx"
    assert scoring.overall(rows) == "UNKNOWN"


def test_no_devices_or_nothing_of_weight_is_unknown():
    declared = [row("AWX-SRV-001", "pass")]
    assert scoring.overall(declared, []) == "UNKNOWN"                      # the site has no devices
    site_only = [{"device_id": None, "kind": "site", "name": "s", "reached": True, "channels": {}}]
    assert scoring.overall(declared, site_only) == "UNKNOWN"              # the outside probe is not a device
    assert scoring.overall(declared, None) == "OK"                        # health not recorded (old audits)
    assert scoring.overall([row("NET-SCAN-001", "pass", "info")], None) == "UNKNOWN"


def test_problems_are_worst_first_with_errors_and_devices():
    rows = [row("NET-ALG-001", "fail", "low", 9, "gw", message="SIP ALG on"),
            row("NET-NAT-001", "error", "critical", 9, "gw", message="could not decide: router gw: auth"),
            row("AWX-SRV-007", "fail", "critical", None, "", message="WAN Admin is enabled"),
            row("AWX-SRV-008", "fail", "low", waived=True), row("AWX-SRV-001", "pass")]
    entries = [{"device_id": 1, "name": "pbx", "kind": "allworx_server", "reached": True, "reason": "timed out",
                "channels": {"snmp": {"state": "failed", "reason": "timed out"}, "web": {"state": "ok"}}},
               {"device_id": 9, "name": "gw", "kind": "router", "reached": False, "reason": "authentication failed",
                "channels": {"ssh": {"state": "failed", "reason": "authentication failed"}}}]
    assert scoring.problems(rows, entries) == [
        {"severity": "critical", "check_id": "AWX-SRV-007", "device_id": None, "text": "AWX-SRV-007: WAN Admin is enabled",
         "kind": "fail"},
        {"severity": "low", "check_id": "NET-ALG-001", "device_id": 9, "text": "NET-ALG-001 gw: SIP ALG on",
         "kind": "fail"},
        {"severity": "error", "check_id": None, "device_id": 9, "text": "router gw: authentication failed",
         "kind": "device"},
        {"severity": "error", "check_id": None, "device_id": 1, "text": "server pbx: snmp timed out",
         "kind": "device"},
        {"severity": "critical", "check_id": "NET-NAT-001", "device_id": 9,
         "text": "NET-NAT-001 gw: error: could not decide: router gw: auth", "kind": "error"}]


STATUSES = ("pass", "fail", "error", "not_applicable", "manual")
SEVERITIES = ("critical", "high", "medium", "low", "info")
ROWS = st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(SEVERITIES), st.booleans()),
                min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(ROWS, st.data())
def test_turning_any_results_into_errors_never_raises_the_score(spec_rows, data):
    rows = [row(f"C-{i}", status, severity, waived=waived) for i, (status, severity, waived) in enumerate(spec_rows)]
    chosen = data.draw(st.sets(st.integers(0, len(rows) - 1)), label="turned into errors")
    errored = [{**r, "status": "error"} if i in chosen else r for i, r in enumerate(rows)]
    unreached = data.draw(st.booleans(), label="a device was not reached as well")
    health_after = [UNREACHED] if unreached else None
    before, after = scoring.score(rows), scoring.score(errored, health_after)
    for kind in ("raw", "waived"):
        if after[kind] is not None:          # not withheld: it may only stay or fall
            assert before[kind] is not None and after[kind] <= before[kind], (kind, before, after)
    if unreached:
        assert after["raw"] is None and "withheld" in after
    if any(rows[i]["severity"] != "info" for i in chosen):
        assert after["raw"] is None and "could not be decided" in after["withheld"]
    if after["raw"] is None and "withheld" in after:
        assert scoring.overall(errored, health_after) == "UNKNOWN"
