"""device_drivers.opener.open_device against the lab router's real sshd: trust on first use, a matching
pin, a changed key reported and refused before credentials, and egress refused before any connection."""
from __future__ import annotations

import re
import time

import pytest

from device_drivers.egress import EgressRefused
from device_drivers.exceptions import HostKeyMismatch
from device_drivers.inventory import DeviceSpec
from device_drivers.opener import open_device
from tests.lab.labctl import FAST

pytestmark = pytest.mark.lab
AUTH_LINE = re.compile(r"^(Accepted|Failed) (password|publickey)", re.MULTILINE)
OPTIONS = {"router": {"timeouts": FAST}}


def _spec(lab, pin: dict | None) -> DeviceSpec:
    return DeviceSpec(1, "router", "lab-rtr", lab.router_lan, ports={"ssh": lab.ssh_port}, device_type="linux",
                      credentials={"username": lab.username, "password": lab.password}, host_key_pin=pin)


def _open(lab, pin, calls, allowed=None):
    allowed = allowed or [f"{lab.router_lan}/32"]
    return open_device(_spec(lab, pin), on_host_key=lambda spec, key, changed: calls.append((key, changed)),
                       egress_allowed=allowed, options=OPTIONS)


def _connections(lab) -> int:
    return lab.sshd_log().count("Connection from ")


def test_first_contact_matching_pin_and_changed_key(lab):
    calls: list = []
    with lab.netns(lab.app), _open(lab, None, calls) as drv:
        assert drv.run("echo ok").strip() == "ok"
    assert calls == [(lab.host_key_pin(), False)]            # trust on first use: the caller stores it
    first = calls.pop()[0]

    with lab.netns(lab.app), _open(lab, first, calls) as drv:
        assert drv.run("echo again").strip() == "again"
    assert calls == []                                         # pinned and matching: nothing to record

    fresh = lab.rekey()
    auth_before = AUTH_LINE.findall(lab.sshd_log())
    with lab.netns(lab.app), pytest.raises(HostKeyMismatch):
        with _open(lab, first, calls):
            pytest.fail("a changed key must not give a session")
    assert calls == [(fresh, True)]                            # parked by the caller for an admin
    time.sleep(0.2)
    assert AUTH_LINE.findall(lab.sshd_log()) == auth_before    # no credentials were sent


def test_egress_refused_before_any_connection(lab):
    before = _connections(lab)
    with lab.netns(lab.app), pytest.raises(EgressRefused, match="lab-rtr: .*nothing was sent"):
        with _open(lab, lab.host_key_pin(), [], allowed=["192.168.0.0/16"]):
            pytest.fail("opened a device outside the allowed networks")
    time.sleep(0.3)                                            # sshd logs each connection as it accepts it
    assert _connections(lab) == before
