"""hardening.engine.devices.DeviceAccess (a stored device -> its driver, through the one opener) and the
one HTTP mapping of device faults (api/errors.py), used by every blueprint that reaches a device."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException

from device_drivers import opener
from device_drivers.egress import EgressRefused
from device_drivers.exceptions import (
    AuthFailed,
    ChangeRejected,
    DeviceTimeout,
    DeviceUnreachable,
    DriverError,
    HostKeyMismatch,
)
from hardening.engine.devices import DeviceAccess
from hardening.model.policy import Policy, weak_passwords
from hardening.remediation.engine import RemediationError
from hardening.remediation.locks import LockHeld
from store.models import Device

NEW = {"type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAINEW", "sha256": "SHA256:new"}
OLD = {"type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIOLD", "sha256": "SHA256:old"}


def test_allworx_drivers_get_the_policy_data_and_the_weak_list():
    server = Device(id=5, kind="allworx_server", name="pbx", address="127.0.0.1", ports={}, snmp={},
                    declared_facts={})
    driver = DeviceAccess(None, ["127.0.0.0/8"]).driver(server)
    assert not driver.is_open
    assert driver.policy == Policy().data                       # lockout signs and limits reach the driver
    assert driver.policy["credential_test"]["lockout_signs"] == Policy()["credential_test"]["lockout_signs"]
    assert driver.weak_passwords == list(weak_passwords())
    custom = DeviceAccess(None, None, policy={"credential_test": {"lockout_signs": ["nope"]}}).driver(server)
    assert custom.policy == {"credential_test": {"lockout_signs": ["nope"]}}


def test_device_outside_the_allow_list_is_refused():
    server = Device(id=5, kind="allworx_server", name="pbx", address="127.0.0.1", ports={}, snmp={},
                    declared_facts={})
    with pytest.raises(EgressRefused, match="pbx: 127.0.0.1 is outside"):
        DeviceAccess(None, ["10.0.0.0/8"]).driver(server)


class _Router:
    outcome: object = None

    def __init__(self, platform, **kwargs):
        self.presented_host_key = None

    def open(self):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        self.presented_host_key = self.outcome

    def close(self):
        pass


@pytest.fixture
def router(app, client, auth, site, monkeypatch):
    monkeypatch.setattr(opener, "driver_class", lambda key: _Router)
    made = client.post("/api/v1/devices", headers=auth("admin"), json={
        "site_id": site["id"], "kind": "router", "name": "edge", "address": "127.0.0.1", "device_type": "linux",
        "credentials": {"username": "root", "password": "pw"}}).json
    db = app.extensions["db"]

    def row():
        with db.session() as sess:
            device = sess.get(Device, made["id"])
            return device.ssh_host_key, device.ssh_host_key_presented
    return db, made["id"], row


def _open(app, db, device_id):
    with db.session() as sess, app.app_context():
        with DeviceAccess(app.extensions["secret_box"], ["127.0.0.0/8"]).open(sess.get(Device, device_id)) as drv:
            return drv


def test_first_contact_pins_the_key_on_the_row(app, router):
    db, device_id, row = router
    _Router.outcome = NEW
    _open(app, db, device_id)
    assert row() == (NEW, None)                                 # committed: another session sees it
    _Router.outcome = OLD                                       # a pinned device is never re-pinned here
    _open(app, db, device_id)
    assert row() == (NEW, None)


def test_changed_key_is_parked_for_an_admin_and_the_error_reraised(app, router):
    db, device_id, row = router
    _Router.outcome = NEW
    _open(app, db, device_id)
    _Router.outcome = HostKeyMismatch("127.0.0.1:22", "SHA256:new", "SHA256:old", OLD)
    with pytest.raises(HostKeyMismatch):
        _open(app, db, device_id)
    assert row() == (NEW, OLD)


@pytest.mark.parametrize("exc, code", [
    (EgressRefused("pbx: 8.8.8.8 is outside the appliance's allowed device networks"), 422),
    (HostKeyMismatch("h:22", "SHA256:a", "SHA256:b"), 409),
    (DeviceTimeout("h:22: connect timed out"), 504),
    (DeviceUnreachable("h:22: connection refused"), 502),
    (AuthFailed("h:22: refused"), 502),
    (ChangeRejected("h:22: exit 1"), 502),
    (DriverError("h:22: other"), 502),
    (RemediationError("remediation 3 is planned"), 409),
    (LockHeld("device 3 is being changed"), 409),
])
def test_one_http_map_for_device_faults(app, exc, code):
    from api.errors import device_faults
    with app.test_request_context(), pytest.raises(HTTPException) as err:
        with device_faults():
            raise exc
    assert err.value.code == code
    assert err.value.data["message"] == str(exc)
    if code == 422:
        assert err.value.data["errors"] == {"json": {"device_id": [str(exc)]}}


def test_other_errors_pass_through_the_map(app):
    from api.errors import device_faults
    with app.test_request_context(), pytest.raises(KeyError):
        with device_faults():
            raise KeyError("a bug stays a bug (500), never a made-up gateway error")


def test_every_device_endpoint_answers_egress_refusal_with_422_naming_the_device(client, auth):
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "far"}, headers=h).json
    router = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                                  "address": "192.168.50.1", "device_type": "linux"}, headers=h).json
    server = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                                  "address": "192.168.50.2",
                                                  "credentials": {"password": "x-Long-Pass-123"}}, headers=h).json
    answers = {
        "plan router": client.post("/api/v1/remediations", json={"device_id": router["id"]}, headers=h),
        "plan server": client.post("/api/v1/remediations", json={"device_id": server["id"]}, headers=h),
        "verify": client.post(f"/api/v1/sites/{site['id']}/port-forwards/verify", json={}, headers=h),
        "install window": client.post(f"/api/v1/sites/{site['id']}/install-windows", json={"minutes": 5}, headers=h),
    }
    for what, resp in answers.items():
        assert resp.status_code == 422, (what, resp.json)
        message = resp.json["message"]
        assert "allowed device networks" in message and "nothing was sent" in message, what
        assert resp.json["errors"]["json"]["device_id"] == [message], what
        assert message.startswith(("gw: ", "pbx: ")), what          # which device of the site it was
