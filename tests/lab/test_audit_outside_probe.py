"""An audit with the outside probe configured: the appliance (app namespace) audits the lab site through
its API, reads the lab router over SSH, and asks the probe (the same software in the probe role, under
gunicorn with TLS in the internet namespace) about the router's WAN address. What the internet really
sees (8080, IMAP and SIP forwarded to the PBX; the WAN answering ping) lands in AWX-SRV-007, AWX-WAN-002
and AWX-SRV-003 as `observed` evidence from `probe:` sources."""
from __future__ import annotations

import pytest

from simulator.testing import QUICK, quick_policy
from tests.lab.labctl import FAST
from tests.lab.test_probe_role import probe_server  # noqa: F401  (the probe-role fixture)

pytestmark = pytest.mark.lab


def _probe_rows(rows, check_id):
    [row] = [r for r in rows if r["check_id"] == check_id]
    return row, {e["source"]: e for e in row["evidence"] if e["source"].startswith("probe:")}


def test_an_audit_records_what_the_outside_probe_really_saw(app, client, auth, lab, probe_server):  # noqa: F811
    url, token, cert = probe_server
    app.config.update(OUTSIDE_PROBE_URL=url, OUTSIDE_PROBE_TOKEN=token, OUTSIDE_PROBE_CA=cert,
                      EGRESS_ALLOWED_NETWORKS=["10.77.1.0/24"], AUDIT_DEVICE_BUDGET_SECONDS=60.0,
                      DRIVER_OPTIONS={"allworx": {"policy": quick_policy(), "options": QUICK},
                                      "router": {"timeouts": FAST}})
    app.extensions["audit_runner"].synchronous = True        # the audit runs here, in the app namespace
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "lab-audit", "wan_addresses": [lab.router_wan],
                                              "required_wan_services": ["sip"]}, headers=h).json
    for body in ({"kind": "allworx_server", "name": "pbx", "address": lab.pbx_ip,
                  "credentials": {"password": "Lab-Only-Strong-9f3K!x"}},
                 {"kind": "router", "name": "gw", "address": lab.router_lan, "device_type": "linux",
                  "credentials": {"username": lab.username, "password": lab.password}}):
        assert client.post("/api/v1/devices", json={"site_id": site["id"], **body}, headers=h).status_code == 201
    sip_log = lab.run_dir / "sip.log"
    before = sip_log.read_text() if sip_log.exists() else ""
    lab.flush_conntrack()
    with lab.netns(lab.app):
        resp = client.post(f"/api/v1/sites/{site['id']}/audits", json={"profile": "baseline"}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    audit = client.get(resp.headers["Location"], headers=auth("read")).json
    assert audit["state"] == "completed", audit
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json

    srv7, seen = _probe_rows(rows, "AWX-SRV-007")
    assert srv7["status"] == "fail" and srv7["provenance"] == "observed"
    admin = seen["probe:tcp/8080"]
    assert admin["provenance"] == "observed" and admin["detail"].endswith("TCP 8080: answered")
    assert "'state': 'open'" in admin["excerpt"]
    assert any(e["source"].startswith("router:") for e in srv7["evidence"])     # and the forward that does it

    wan2, seen = _probe_rows(rows, "AWX-WAN-002")
    assert wan2["status"] == "fail" and wan2["message"].endswith("outside ICMP echo to the WAN address: answered")
    assert seen["probe:icmp"]["provenance"] == "observed" and "'answered': True" in seen["probe:icmp"]["excerpt"]

    srv3, seen = _probe_rows(rows, "AWX-SRV-003")
    assert srv3["status"] == "fail"
    imap = seen["probe:tcp/143"]["detail"]
    assert "tcp/143 answers" in imap and "not a required service" in imap
    assert "required service sip" in seen["probe:udp/5060"]["detail"]
    assert "tcp/25" not in seen                          # closed from outside: not evidence of an open service

    # the probe's SIP OPTIONS really crossed the router from the internet side
    after = sip_log.read_text()[len(before):]
    assert f"{lab.inet_ip}:" in after and "UA='allworx-hardening-probe'" in after
