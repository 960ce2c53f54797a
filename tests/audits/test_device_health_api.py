"""Issue 13, device health first, through the API on a simulated site: a mistyped server address, an
SNMP agent that refuses the community, a wrong web password, and a site with no devices. Each audit
records which devices it reached and why not, and never scores or passes on missing evidence."""
from __future__ import annotations

import pytest

from simulator import start_site
from simulator.seed import flask_call, seed_site

DEAD = "127.0.0.77"          # loopback, not one of the simulator's addresses (.20 server, .101+ phones, .230+ px)


def _audit(client, auth, site_id, profile="baseline"):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": profile}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    client.application.extensions["audit_runner"].wait(resp.json["id"], timeout=90)
    audit = client.get(resp.headers["Location"], headers=auth("read")).json
    assert audit["state"] == "completed", audit
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json
    return audit, {(r["check_id"], r["target"]): r for r in rows}


def _seed(client, auth, name, inventory):
    return seed_site(flask_call(client, auth("admin")), name, inventory,
                     site_fields={"required_wan_services": ["sip", "vpn"]})


def _server(inventory):
    return next(d for d in inventory if d["kind"] == "allworx_server")


def _entry(audit, name):
    return next(h for h in audit["health"] if h["name"] == name)


def test_a_mistyped_server_address_withholds_the_score_and_srv004_is_an_error(audit_app, client, auth):
    with start_site("secure", snmp=False) as site:
        inventory = site.inventory()
        _server(inventory)["address"] = DEAD               # nothing listens there: every port refuses
        audit, results = _audit(client, auth, _seed(client, auth, "mistyped", inventory))
        status = client.get(f"/api/v1/sites/{audit['site_id']}/status", headers=auth("read")).json
    summary = audit["summary"]
    assert summary["overall"] == "UNKNOWN"                 # before: WARNING, score 100, 0 failing
    assert summary["score"]["raw"] is None and summary["score"]["waived"] is None
    assert summary["score"]["withheld"].startswith("server allworx-server not reached: connection refused")
    server = _entry(audit, "allworx-server")
    assert (server["address"], server["reached"], server["reason"]) == (DEAD, False, "connection refused")
    assert server["channels"]["web"]["state"] == "failed" and server["channels"]["web"]["reason"] == "connection refused"
    assert server["channels"]["probes"]["state"] == "failed"
    assert server["channels"]["probes"]["reason"] == "connection refused"
    assert server["channels"]["snmp"]["state"] == "failed"
    assert audit["summary_at_completion"]["health"] == audit["health"]
    assert summary["health"] == audit["health"]
    srv004 = results[("AWX-SRV-004", "allworx-server")]
    assert srv004["status"] == "error"                    # before: pass ("every standard mail port closed")
    assert "allworx-server" in srv004["message"] and "no answer on any probed port" in srv004["message"]
    assert not [r for (cid, target), r in results.items() if target == "allworx-server" and r["status"] == "pass"]
    assert summary["problems"][0]["kind"] in ("fail", "device")
    assert {"severity": "error", "check_id": None, "device_id": server["device_id"], "kind": "device",
            "text": "server allworx-server: connection refused"} in summary["problems"]
    assert status["overall"] == "UNKNOWN" and status["score"]["raw"] is None
    assert status["score"]["withheld"] == summary["score"]["withheld"]


@pytest.mark.parametrize("community, snmp_decides", [("not-the-community", False), (None, True)])
def test_snmp_refused_makes_the_version_check_an_error_naming_snmp(audit_app, client, auth, community, snmp_decides):
    with start_site("secure", snmp=True) as site:
        inventory = site.inventory()
        server = _server(inventory)
        server["credentials"].pop("password")              # no web login: the version is only over SNMP
        if community:
            server["credentials"]["snmp_community"] = community
        server["declared_facts"] = {"software_version": "7.4.10.2"}     # would pass, if declarations decided
        audit, results = _audit(client, auth, _seed(client, auth, f"snmp-{bool(community)}", inventory))
    health = _entry(audit, "allworx-server")
    srv001 = results[("AWX-SRV-001", "allworx-server")]
    assert health["channels"]["web"]["state"] == "failed" and health["channels"]["web"]["reason"] == "no stored password"
    if snmp_decides:                                       # the control: the agent answers the right community
        assert health["channels"]["snmp"]["state"] == "ok" and health["reached"] is True
        assert srv001["status"] != "error" and srv001["provenance"] == "device"
        assert any(e["source"].startswith("snmp:") for e in srv001["evidence"])
        return
    assert health["channels"]["snmp"] == {"state": "failed", "reason": "timed out",
                                          "detail": health["channels"]["snmp"]["detail"]}
    assert "no SNMP response" in health["channels"]["snmp"]["detail"]
    assert srv001["status"] == "error"                     # before: pass on the declared 7.4.10.2
    assert "snmp failed" in srv001["message"] and "allworx-server" in srv001["message"]
    assert any(e["source"] == "device:snmp" for e in srv001["evidence"])
    assert audit["summary"]["score"]["raw"] is None
    assert "weighted check(s) could not be decided: " in audit["summary"]["score"]["withheld"]
    assert audit["summary"]["overall"] == "UNKNOWN"


WEB_CHECKS = ("AWX-WAN-001", "AWX-PHN-004", "AWX-PHN-005", "AWX-SRV-006", "AWX-SRV-008")


def test_a_wrong_web_password_fails_the_web_channel_and_its_checks(audit_app, client, auth):
    with start_site("secure", snmp=False) as site:
        inventory = site.inventory()
        _server(inventory)["credentials"]["password"] = "Not-The-Real-Passw0rd-913"
        audit, results = _audit(client, auth, _seed(client, auth, "wrong-password", inventory))
    server = _entry(audit, "allworx-server")
    assert server["channels"]["web"]["state"] == "failed"
    assert server["channels"]["web"]["reason"] == "authentication failed"
    assert server["channels"]["probes"]["state"] == "ok" and server["reached"] is True
    for check_id in WEB_CHECKS:
        result = results[(check_id, "allworx-server")]
        assert result["status"] == "error", (check_id, result["message"])
        assert "web" in result["message"] and "login rejected" in result["message"], (check_id, result["message"])
    assert audit["summary"]["score"]["raw"] is None
    assert "could not be decided" in audit["summary"]["score"]["withheld"]
    assert audit["summary"]["overall"] == "UNKNOWN"
    [device] = [p for p in audit["summary"]["problems"] if p["kind"] == "device"]
    assert device["text"].startswith("server allworx-server: ") and "web authentication failed" in device["text"]


def test_a_site_without_devices_is_unknown(audit_app, client, auth):
    site_id = _seed(client, auth, "empty", [])
    audit, _results = _audit(client, auth, site_id)
    assert audit["health"] == [] and audit["summary"]["health"] == []
    assert audit["summary"]["overall"] == "UNKNOWN" and audit["summary"]["score"]["raw"] is None
    status = client.get(f"/api/v1/sites/{site_id}/status", headers=auth("read")).json
    assert status["overall"] == "UNKNOWN" and status["nagios_code"] == 3
