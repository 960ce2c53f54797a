"""The outside probe is part of an audit when one is configured: asked about the site's WAN address for
the ports the outside-facing checks judge, its answers are `observed` evidence, and a probe that fails
is an explicit error record the checks never pass on."""
import socket

import pytest

from api.wiring import audit_context
from hardening.engine import outside
from hardening.engine.context import AuditContext
from hardening.engine.outside import MAX_CHECKS, AuditProbe, ProbeEndpoint
from hardening.model.policy import Policy
from hardening.model.site import SiteInfo
from simulator import start_site
from simulator.seed import flask_call, seed_site
from tests.audits.test_audit_api import _wait as wait_for_audit

WAN = "203.0.113.10"
OUTSIDE_CHECKS = ("AWX-SRV-003", "AWX-SRV-007", "AWX-WAN-002")


def _seed(client, auth, preset):
    site = start_site(preset, snmp=False)
    site_id = seed_site(flask_call(client, auth("admin")), f"sim-{preset}", site.inventory(),
                        site_fields={"required_wan_services": ["sip", "vpn"], "wan_addresses": [WAN]})
    return site, site_id


def _run(client, auth, site_id, profile="baseline"):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": profile}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = wait_for_audit(client, auth, resp.headers["Location"], timeout=60)
    assert done["state"] == "completed", done
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json
    return {r["check_id"]: r for r in rows if r["check_id"] in OUTSIDE_CHECKS}


def _probe_evidence(row):
    return [e for e in row["evidence"] if e["source"].startswith("probe:")]


@pytest.fixture
def configured(audit_app):
    audit_app.config.update(OUTSIDE_PROBE_URL="https://probe.invalid:8443", OUTSIDE_PROBE_TOKEN="probe-token",
                            OUTSIDE_PROBE_CA="/etc/awxh/probe-ca.pem")
    return audit_app


def test_the_context_carries_the_probe_only_when_configured(app):
    plain = audit_context(app)
    assert isinstance(plain, AuditContext) and plain.outside_probe is None
    assert plain.egress_allowed == ["127.0.0.0/8"] and plain.take_attempt is not None   # CREDENTIAL_TESTS on
    app.config.update(OUTSIDE_PROBE_URL="https://probe:8443", OUTSIDE_PROBE_TOKEN="tok-secret", OUTSIDE_PROBE_CA="")
    probe = audit_context(app).outside_probe
    assert probe == ProbeEndpoint("https://probe:8443", "tok-secret", True)             # no CA file: system CAs
    assert "tok-secret" not in repr(audit_context(app))


def test_the_question_covers_the_outside_facing_ports_within_the_bound():
    probe = AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s", wan_addresses=[WAN]), [], Policy())
    assert probe.target == WAN and probe.icmp
    assert probe.checks[0] == {"proto": "tcp", "port": 8080}                  # admin ports first
    for wanted in ({"proto": "udp", "port": 5060}, {"proto": "tcp", "port": 5061}, {"proto": "udp", "port": 2088},
                   {"proto": "tcp", "port": 25}, {"proto": "tcp", "port": 993}, {"proto": "tcp", "port": 443}):
        assert wanted in probe.checks
    wide = Policy({"admin_ports": ["8000-8999"]})
    assert len(AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s", wan_addresses=[WAN]), [],
                                   wide).checks) == MAX_CHECKS
    assert AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s"), [], Policy()) is None  # no WAN
    assert AuditProbe.for_site(None, SiteInfo("s", wan_addresses=[WAN]), [], Policy()) is None        # none set


def test_an_audit_asks_the_probe_and_records_its_answers_as_observed(configured, client, auth, monkeypatch):
    asked = []

    def fake_ask(url, token, ca, target, checks, icmp=True):
        asked.append((url, token, ca, target, checks, icmp))
        answers = {f"{c['proto']}/{c['port']}": {"state": "closed", "reason": "refused"} for c in checks}
        return {**answers, "tcp/8080": {"state": "open", "banner": "", "rtt_ms": 3.1, "reason": ""},
                "tcp/25": {"state": "open", "banner": "220 x InSciTek OIS", "rtt_ms": 2.0, "reason": ""},
                "icmp": {"answered": True, "rtt_ms": 1.2, "reason": ""}}
    monkeypatch.setattr(outside, "ask", fake_ask)
    site, site_id = _seed(client, auth, "secure")
    with site:
        rows = _run(client, auth, site_id)
    [(url, token, ca, target, checks, icmp)] = asked
    assert (url, token, ca, target, icmp) == ("https://probe.invalid:8443", "probe-token", "/etc/awxh/probe-ca.pem",
                                              WAN, True)
    assert {"proto": "tcp", "port": 8080} in checks and len(checks) <= MAX_CHECKS
    srv7 = _probe_evidence(rows["AWX-SRV-007"])
    assert rows["AWX-SRV-007"]["status"] == "fail"
    assert [(e["source"], e["provenance"]) for e in srv7] == [("probe:tcp/8080", "observed")]
    assert "answered" in srv7[0]["detail"] and "'open'" in srv7[0]["excerpt"]
    wan2 = _probe_evidence(rows["AWX-WAN-002"])
    assert rows["AWX-WAN-002"]["status"] == "fail" and wan2[0]["source"] == "probe:icmp"
    assert wan2[0]["provenance"] == "observed" and "answered" in wan2[0]["detail"]
    srv3 = rows["AWX-SRV-003"]
    assert srv3["status"] == "fail" and any(e["source"] == "probe:tcp/25" for e in _probe_evidence(srv3))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_probe_that_fails_is_an_error_never_a_pass(audit_app, client, auth):
    # the secure site passes all three without a probe (test_audit_api); a probe that cannot be reached
    # must not leave them passing on "no answer"
    audit_app.config.update(OUTSIDE_PROBE_URL=f"https://127.0.0.1:{_closed_port()}", OUTSIDE_PROBE_TOKEN="t")
    site, site_id = _seed(client, auth, "secure")
    with site:
        rows = _run(client, auth, site_id)
    for check_id in OUTSIDE_CHECKS:
        row = rows[check_id]
        assert row["status"] == "error", (check_id, row)
        evidence = _probe_evidence(row)
        assert evidence and all(e["provenance"] == "observed" and "undecided" in e["detail"] for e in evidence)
        assert all("outside probe failed: ConnectionError" in e["excerpt"] for e in evidence), check_id


def test_a_probe_that_leaves_a_port_unanswered_gives_an_error_record(monkeypatch):
    monkeypatch.setattr(outside, "ask", lambda *args: {"icmp": {"answered": False}})
    probe = AuditProbe(ProbeEndpoint("https://p", "t"), WAN, [{"proto": "tcp", "port": 8080}])
    assert probe.run() == {"tcp/8080": {"state": "error", "reason": "the outside probe gave no answer about it"},
                           "icmp": {"answered": False}}
    monkeypatch.setattr(outside, "ask", lambda *args: ["not", "a", "mapping"])
    assert probe.run()["tcp/8080"]["state"] == "error" and "not results by port" in probe.run()["error"]
