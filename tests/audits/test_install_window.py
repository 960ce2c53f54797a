"""Install windows: Plug 'n' Play creates are allowed for N minutes, then disabled again by themselves."""
from datetime import timedelta

from api.common import device_access
from hardening.jobs import install_window
from store.audit_models import InstallWindow
from store.models import utcnow


def _pnp(client, auth, site_id):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=auth("audit"))
    client.application.extensions["audit_runner"].wait(resp.json["id"], timeout=60)
    rows = client.get(f"/api/v1/audits/{resp.json['id']}/results?check_id=AWX-PHN-004", headers=auth("read")).json
    return rows[0]["status"], rows[0]["message"]


def test_window_opens_then_closes_by_itself(app, client, auth, secure_site):
    assert _pnp(client, auth, secure_site)[0] == "pass"                 # secure: creates disabled
    resp = client.post(f"/api/v1/sites/{secure_site}/install-windows", json={"minutes": 30, "scope": "lan"},
                       headers=auth("remediate"))
    assert resp.status_code == 201, resp.json
    assert resp.json["detail"]["changes"][0]["after"] is True
    status, message = _pnp(client, auth, secure_site)
    assert status == "pass" and "install window" in message            # allowed, inside the window
    assert client.post(f"/api/v1/sites/{secure_site}/install-windows", json={"minutes": 30},
                       headers=auth("read")).status_code == 403
    db = app.extensions["db"]
    driver_for = device_access(app).driver                              # egress-checked, like the duty's
    assert install_window.close_due(db, driver_for) == []               # not due yet
    with db.session() as sess:
        sess.get(InstallWindow, resp.json["id"]).closes_at = utcnow() - timedelta(seconds=1)
        sess.commit()
    assert install_window.close_due(db, driver_for) == [resp.json["id"]]
    windows = client.get(f"/api/v1/sites/{secure_site}/install-windows", headers=auth("read")).json
    assert windows[0]["state"] == "closed" and windows[0]["detail"]["close_changes"][0]["after"] is False
    assert _pnp(client, auth, secure_site)[0] == "pass"


def test_expired_window_that_could_not_close_fails_the_check(app, client, auth, insecure_site):
    # the insecure server allows creates; a window whose time is up does not excuse that
    with app.extensions["db"].session() as sess:
        sess.add(InstallWindow(site_id=insecure_site, closes_at=utcnow() - timedelta(minutes=1),
                               detail={"scope": "lan", "device_id": 0}))
        sess.commit()
    assert _pnp(client, auth, insecure_site)[0] == "fail"


def test_bad_window_requests(client, auth, secure_site):
    h = auth("remediate")
    assert client.post(f"/api/v1/sites/{secure_site}/install-windows", json={"minutes": 0},
                       headers=h).status_code == 422
    assert client.post(f"/api/v1/sites/{secure_site}/install-windows", json={"minutes": 5, "scope": "all"},
                       headers=h).status_code == 422
