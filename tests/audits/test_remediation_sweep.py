"""The deadline sweep rolls back every unconfirmed change, an Allworx server's as well as a router's: each
through its own flow (hardening.remediation.flows), with the device reached through the one opener."""
from datetime import timedelta

from api.wiring import background_duties
from store.audit_models import Remediation
from store.models import utcnow

FIXED = {"AWX-PHN-004", "AWX-PHN-005", "AWX-WAN-002"}


def _failing(client, auth, site_id):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=auth("audit"))
    client.application.extensions["audit_runner"].wait(resp.json["id"], timeout=60)
    rows = client.get(f"/api/v1/audits/{resp.json['id']}/results", headers=auth("read")).json
    return {r["check_id"] for r in rows if r["status"] == "fail"}


def test_unconfirmed_allworx_change_is_rolled_back_at_its_deadline(app, client, auth, insecure_site):
    h = auth("remediate")
    server = client.get(f"/api/v1/devices?site_id={insecure_site}&kind=allworx_server", headers=auth("read")).json
    rid = client.post("/api/v1/remediations", json={"device_id": server[0]["id"]}, headers=h).json["id"]
    assert client.post(f"/api/v1/remediations/{rid}/apply", headers=h).json["state"] == "awaiting_confirmation"
    assert not (FIXED & _failing(client, auth, insecure_site))
    expire = next(d for d in background_duties(app) if d.__name__ == "expire_remediations")
    assert expire() == []                                              # not due yet
    with app.extensions["db"].session() as sess:
        sess.get(Remediation, rid).confirm_deadline = utcnow() - timedelta(seconds=1)
        sess.commit()
    assert expire() == [rid]
    row = client.get(f"/api/v1/remediations/{rid}", headers=h).json
    assert row["state"] == "rolled_back" and "deadline" in row["error"]
    assert FIXED <= _failing(client, auth, insecure_site)
