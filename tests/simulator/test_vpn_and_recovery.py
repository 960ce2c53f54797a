"""The simulated Allworx VPN (PPTP control channel, RFC 2637) and the admin UI's password-recovery page
(lostPass.asp), checked on the wire with raw sockets, independently of the appliance's probe code."""
from __future__ import annotations

import socket
import struct

from simulator import Site, start_site
from simulator.pptp import VENDOR
from tests.simulator.wire import http

MAGIC = 0x1A2B3C4D


def sccrq(host: bytes = b"tester", vendor: bytes = b"test-vendor", magic: int = MAGIC) -> bytes:
    """A Start-Control-Connection-Request laid out by hand from RFC 2637 section 2.1 (156 octets)."""
    return (struct.pack("!HHIHH", 156, 1, magic, 1, 0) + struct.pack("!HH", 0x0100, 0) + struct.pack("!II", 1, 1)
            + struct.pack("!HH", 0, 0) + host.ljust(64, b"\0") + vendor.ljust(64, b"\0"))


def exchange(address: str, port: int, request: bytes, then: bytes = b"") -> bytes:
    with socket.create_connection((address, port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while len(data) < 156 and (chunk := sock.recv(156 - len(data))):
            data += chunk
        if then:
            sock.sendall(then)
            data += sock.recv(64)
    return data


def test_the_secure_preset_answers_the_pptp_handshake_as_the_allworx_vpn():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        server = site.server
        assert site.endpoints()["devices"][0]["services"]["pptp"] == f"tcp://{server.address}:{server.pptp.port}"
        stop = struct.pack("!HHIHHBBH", 16, 1, MAGIC, 3, 0, 1, 0, 0)
        reply = exchange(server.address, server.pptp.port, sccrq(), stop)
        length, msg_type, magic, control, _r0, version, result, error = struct.unpack("!HHIHHHBB", reply[:16])
        assert (length, msg_type, magic, control) == (156, 1, MAGIC, 2)        # a Start-Control-Connection-Reply
        assert (version, result, error) == (0x0100, 1, 0)                      # 1.0, channel established
        assert reply[28:92].rstrip(b"\0") == b"allworx-secure.sim"             # host name: the server's
        assert reply[92:156].rstrip(b"\0") == VENDOR.encode() == b"Allworx Server VPN"
        assert struct.unpack("!HHIHHBBH", reply[156:172])[3] == 4              # Stop-Control-Connection-Reply
        [seen] = server.pptp.requests
        assert seen.valid and (seen.hostname, seen.vendor) == ("tester", "test-vendor")
        assert seen.source[0] == "127.0.0.1" and seen.stopped


def test_anything_but_a_request_gets_no_answer_and_is_recorded():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        server = site.server
        assert exchange(server.address, server.pptp.port, sccrq(magic=0xDEADBEEF)) == b""
        assert exchange(server.address, server.pptp.port, b"GET / HTTP/1.0\r\n\r\n" + b"x" * 140) == b""
        assert [r.valid for r in server.pptp.requests] == [False, False]


def test_the_insecure_preset_has_no_vpn():
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        assert site.server.pptp is None and "pptp" not in site.endpoints()["devices"][0]["services"]


def test_lost_pass_is_served_without_login_only_where_the_preset_says(insecure_site: Site, secure_site: Site):
    server = insecure_site.server
    page = http(server.address, server.ports["web_admin"], "/lostPass.asp").decode()
    assert page.startswith("HTTP/1.0 200") and "Server: IST OIS" in page
    for words in ("Security Key", "System Unique ID", "Reset Code", server.state.security_key,
                  server.state.system_unique_id):
        assert words in page
    login = http(server.address, server.ports["web_admin"], "/login").decode()
    assert 'href="lostPass.asp"' in login
    other = secure_site.server
    assert http(other.address, other.ports["web_admin"], "/lostPass.asp").startswith(b"HTTP/1.0 403")
    assert "lostPass.asp" not in http(other.address, other.ports["web_admin"], "/login").decode()


def test_a_posted_reset_code_is_never_checked_and_changes_nothing():
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        server = site.server
        before = server.state.admin_password
        reply = http(server.address, server.ports["web_admin"], "/lostPass.asp", "POST",
                     {"Reset Code": "0000-0000", "New Password": "owned"}).decode()
        assert "The reset code is not valid." in reply
        assert server.state.admin_password == before
        assert server.web.recovery_requests == [("POST", "127.0.0.1")]
