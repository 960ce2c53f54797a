"""The outside probe's new kinds on loopback: a PPTP Start-Control-Connection-Request against the simulated
Allworx VPN, one bounded HTTP GET of the password-recovery page against the simulated web admin, and
run_probes filing them under their own keys. The GET reports which words the page shows, never the page."""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from typing import Iterator

import pytest

from device_drivers import probe
from hardening.engine import outside
from simulator import Site, start_site
from simulator.testing import driver

MARKERS = ["Security Key", "System Unique ID", "Reset Code"]


@pytest.fixture(scope="module")
def secure() -> Iterator[Site]:
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        yield site


@pytest.fixture(scope="module")
def insecure() -> Iterator[Site]:
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        yield site


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RawServer:
    """A TCP listener on loopback that sends `payload` to each connection (or nothing), then waits."""

    def __init__(self, payload: bytes = b"", linger: float = 0.0):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port, self.payload, self.linger = self.sock.getsockname()[1], payload, linger
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.sendall(self.payload)
            except OSError:
                pass
            time.sleep(self.linger)

    def close(self) -> None:
        self.sock.close()


# --- PPTP ---------------------------------------------------------------------------------------

def test_the_request_is_laid_out_as_rfc_2637_says():
    request = probe.pptp_request()
    assert len(request) == 156
    assert struct.unpack("!HHIHH", request[:12]) == (156, 1, 0x1A2B3C4D, 1, 0)   # length, control, cookie, SCCRQ
    assert struct.unpack("!H", request[12:14]) == (0x0100,)                      # protocol version 1.0
    assert request[28:92].rstrip(b"\0") == request[92:156].rstrip(b"\0") == b"allworx-hardening-probe"


def test_the_allworx_vpn_answers_with_its_vendor_string(secure: Site):
    server = secure.server
    seen = probe.pptp_start_control(server.address, server.pptp.port, timeout=2.0)
    assert seen["state"] == "open" and seen["pptp"] is True
    assert (seen["vendor"], seen["protocol_version"], seen["result"]) == ("Allworx Server VPN", "1.0", "success")
    assert seen["hostname"] == "allworx-secure.sim"
    deadline = time.monotonic() + 5
    while not (server.pptp.requests and server.pptp.requests[-1].stopped) and time.monotonic() < deadline:
        time.sleep(0.02)
    last = server.pptp.requests[-1]
    assert last.valid and last.hostname == "allworx-hardening-probe" and last.stopped   # it said goodbye


def test_pptp_silence_another_protocol_and_a_closed_port_are_told_apart(secure: Site):
    server = secure.server
    silent = probe.pptp_start_control(server.address, server.ports["web_admin"], timeout=0.5)    # HTTP waits
    assert (silent["state"], silent["pptp"]) == ("open", None) and "no PPTP reply" in silent["reason"]
    ssh = RawServer(b"SSH-2.0-OpenSSH_9.2\r\n", linger=1.0)
    try:
        other = probe.pptp_start_control("127.0.0.1", ssh.port, timeout=0.5)
    finally:
        ssh.close()
    assert (other["state"], other["pptp"]) == ("open", False) and "not a PPTP" in other["reason"]
    closed = probe.pptp_start_control("127.0.0.1", closed_port(), timeout=0.5)
    assert (closed["state"], closed["pptp"]) == ("closed", None)


def test_a_reply_with_the_wrong_cookie_or_type_is_not_pptp():
    good = bytearray(struct.pack("!HHIHH", 156, 1, 0x1A2B3C4D, 2, 0) + bytes(144))
    assert probe.pptp_reply(bytes(good)) is not None
    bad_cookie = bytes(good[:4]) + b"\xde\xad\xbe\xef" + bytes(good[8:])
    assert probe.pptp_reply(bad_cookie) is None
    request_type = bytes(good[:8]) + b"\x00\x01" + bytes(good[10:])          # a request is not a reply
    assert probe.pptp_reply(request_type) is None
    assert probe.pptp_reply(bytes(good[:100])) is None


# --- http_get -------------------------------------------------------------------------------------

def test_the_recovery_form_is_recognised_by_its_words_and_never_returned(insecure: Site):
    server = insecure.server
    before = len(server.web.recovery_requests)
    seen = probe.http_get(server.address, server.ports["web_admin"], "/lostPass.asp", 2.0, MARKERS)
    assert (seen["state"], seen["status"], seen["server"]) == ("open", 200, "IST OIS")
    assert seen["markers_found"] == MARKERS and seen["truncated"] is False
    text = json.dumps(seen)
    assert server.state.security_key not in text and server.state.system_unique_id not in text
    assert server.web.recovery_requests[before:] == [("GET", "127.0.0.1")]           # one GET, never a POST


def test_a_server_without_the_page_answers_403_and_non_http_answers_nothing(secure: Site):
    server = secure.server
    seen = probe.http_get(server.address, server.ports["web_admin"], "/lostPass.asp", 2.0, MARKERS)
    assert (seen["status"], seen["markers_found"]) == (403, [])
    vpn = probe.http_get(server.address, server.pptp.port, "/lostPass.asp", 0.5, MARKERS)
    assert vpn["state"] == "open" and vpn["status"] is None and "no HTTP answer" in vpn["reason"]
    assert probe.http_get("127.0.0.1", closed_port(), "/lostPass.asp", 0.5)["state"] == "closed"


def test_the_read_is_capped_and_bounded_in_time():
    big = RawServer(b"HTTP/1.0 200 OK\r\nServer: big\r\n\r\n" + b"Security Key " * 200_000, linger=2.0)
    try:
        seen = probe.http_get("127.0.0.1", big.port, "/", 2.0, ["Security Key"])
    finally:
        big.close()
    assert seen["status"] == 200 and seen["truncated"] is True and seen["bytes"] < probe.HTTP_MAX_BYTES
    mute = RawServer(b"", linger=3.0)
    start = time.monotonic()
    try:
        quiet = probe.http_get("127.0.0.1", mute.port, "/", 0.5)
    finally:
        mute.close()
    assert time.monotonic() - start < 1.5 and quiet["status"] is None


@pytest.mark.parametrize("path", ["lostPass.asp", "/a b", "/x?y=1", "/x\r\nHost: evil", "/" + "a" * 200, ""])
def test_paths_that_could_smuggle_a_request_are_refused(path):
    with pytest.raises(ValueError, match="path"):
        probe.check_http_get(path, [])


def test_markers_are_bounded():
    with pytest.raises(ValueError, match="markers"):
        probe.check_http_get("/", ["w"] * 9)
    with pytest.raises(ValueError, match="markers"):
        probe.check_http_get("/", ["bad\x00word"])
    assert probe.check_http_get("/lostPass.asp", [" Reset Code "]) == ("/lostPass.asp", ["Reset Code"])


# --- run_probes and the LAN fact ----------------------------------------------------------------------

def test_run_probes_files_each_kind_under_its_key(secure: Site, insecure: Site):
    vpn, web = secure.server, insecure.server
    checks = [{"proto": "tcp", "port": vpn.pptp.port, "kind": "pptp"},
              {"proto": "tcp", "port": vpn.ports["web_admin"]}]
    results = outside.run_probes(vpn.address, checks, icmp=False, timeout=1.0)
    assert results[f"pptp/{vpn.pptp.port}"]["vendor"] == "Allworx Server VPN"
    assert results[f"tcp/{vpn.ports['web_admin']}"]["state"] == "open"
    gets = [{"proto": "tcp", "port": web.ports["web_admin"], "kind": "http_get", "path": f"/lostPass.asp{'/' * i}",
             "markers": MARKERS} for i in range(outside.MAX_HTTP_GETS + 1)]
    results = outside.run_probes(web.address, gets, icmp=False, timeout=1.0)
    key = f"http_get/{web.ports['web_admin']}/lostPass.asp"
    assert results[key]["markers_found"] == MARKERS
    over = results[f"{key}{'/' * outside.MAX_HTTP_GETS}"]
    assert over == {"state": "error", "reason": f"over {outside.MAX_HTTP_GETS} http_get probes"}


def test_the_server_driver_reads_the_recovery_page_from_the_lan(insecure: Site, secure: Site):
    served = driver(insecure, "allworx-server").gather(["probes"]).get("lost_password_page")
    assert served.provenance == "observed" and served.source == f"probe:http_get/{insecure.server.ports['web_admin']}"
    [record] = served.value
    assert (record["path"], record["status"], record["markers_found"]) == ("/lostPass.asp", 200, MARKERS)
    assert insecure.server.state.security_key not in json.dumps(served.value) + served.excerpt
    [absent] = driver(secure, "allworx-server").gather(["probes"]).get("lost_password_page").value
    assert (absent["status"], absent["markers_found"]) == (403, [])
