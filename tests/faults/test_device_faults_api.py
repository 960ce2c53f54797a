"""Device faults as the API answers them (the drivers' own handling is covered in tests/lab and
tests/drivers): a router that accepts TCP but never speaks times out, and one that answers garbage
instead of SSH is a bad gateway. Planning a change and verifying forwards answer 504 / 502 with a JSON
message naming the device and the fault, never a 500 or a traceback, and nothing is recorded.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Iterator

import pytest

from device_drivers.routers import Timeouts
from store.audit_models import Remediation
from store.models import Device

QUICK = Timeouts(conn=0.3, banner=0.3, auth=1.0, read=2.0)


@pytest.fixture
def fake_router() -> Iterator:
    """start(greeting) -> port of a loopback TCP service: None = silent (held open), bytes = say it and close."""
    servers: list[socket.socket] = []
    held: list[socket.socket] = []

    def start(greeting: bytes | None) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                if greeting is None:
                    held.append(conn)
                else:
                    try:
                        conn.sendall(greeting)
                    finally:
                        conn.close()
        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1]
    yield start
    for sock in servers + held:
        sock.close()


@pytest.mark.parametrize("greeting, code, words", [
    (None, 504, "in time"),
    (b"HTTP/1.0 400 Bad Request\r\nServer: not-ssh\r\n\r\n", 502, "no SSH service"),
    (b"\x00\xff garbage \xfe\r\n" * 4, 502, "no SSH service"),
], ids=["silent", "http-instead-of-ssh", "binary-garbage"])
def test_router_fault_is_a_clear_gateway_error(app, client, auth, site, fake_router, greeting, code, words):
    app.config["ROUTER_DRIVER_OPTIONS"] = {"timeouts": QUICK, "connect_retries": 0}
    port = fake_router(greeting)
    router = client.post("/api/v1/devices", headers=auth("admin"), json={
        "site_id": site["id"], "kind": "router", "name": "edge", "address": "127.0.0.1", "device_type": "linux",
        "ports": {"ssh": port}, "credentials": {"username": "root", "password": "pw"}}).json
    for method, url, body, scope in (
            ("POST", "/api/v1/remediations", {"device_id": router["id"]}, "remediate"),
            ("POST", f"/api/v1/sites/{site['id']}/port-forwards/verify", {}, "audit")):
        start = time.monotonic()
        resp = client.open(url, method=method, json=body, headers=auth(scope))
        assert time.monotonic() - start < 5, "the fault must be answered within the device timeouts"
        text = resp.get_data(as_text=True)
        assert resp.status_code == code, text
        assert resp.is_json and words in resp.json["message"] and f"127.0.0.1:{port}" in resp.json["message"]
        assert "Traceback" not in text and 'File "' not in text
    with app.extensions["db"].session() as sess:
        assert sess.query(Remediation).count() == 0                     # no plan from a device that did not answer
        device = sess.get(Device, router["id"])
        assert device.ssh_host_key is None                               # nothing was trusted on first use
