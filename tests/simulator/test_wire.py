"""What the simulated site says on the wire matches the confirmed facts byte for byte."""
from __future__ import annotations

import re
import socket

from simulator import Site
from tests.simulator.wire import greeting, http, sip


def test_server_admin_root_is_a_bare_403_with_ist_ois(insecure_site: Site):
    server = insecure_site.server
    reply = http(server.address, server.ports["web_admin"], "/")
    assert reply == b"HTTP/1.0 403 Forbidden\r\nServer: IST OIS\r\n\r\n"        # nmap line 9221


def test_admin_pages_without_session_are_bare_403(insecure_site: Site):
    server = insecure_site.server
    for path in ("/home/about", "/servers/voip", "/network/configuration", "/nowhere"):
        assert http(server.address, server.ports["web_admin"], path) == \
            b"HTTP/1.0 403 Forbidden\r\nServer: IST OIS\r\n\r\n", path


def test_login_page_is_http10_ist_ois(insecure_site: Site):
    server = insecure_site.server
    reply = http(server.address, server.ports["web_admin"], "/login")
    head = reply.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.0 200 OK\r\nServer: IST OIS\r\n")
    assert 'name="username"' in reply.decode() and 'name="password"' in reply.decode()


def test_phone_status_page_title_and_server(insecure_site: Site):
    for phone in insecure_site.of_kind("allworx_phone"):
        reply = http(phone.address, phone.ports["web"], "/").decode()
        assert reply.startswith("HTTP/1.0 200 OK\r\nServer: IST OIS\r\n")
        assert "<title>Phone&nbsp;Station&nbsp;Information</title>" in reply            # nmap line 8548
        assert re.search(r'id="mac-address">00:0A:DD:', reply)


def test_px_status_page_and_admin_needs_login(insecure_site: Site):
    px = insecure_site.of_kind("px_expander")[0]
    assert b"Server: IST OIS" in http(px.address, px.ports["web"], "/")
    assert http(px.address, px.ports["web"], "/admin") == b"HTTP/1.0 403 Forbidden\r\nServer: IST OIS\r\n\r\n"


def test_mail_banners(insecure_site: Site):
    server = insecure_site.server
    host = "allworx-insecure.sim"
    assert greeting(server.address, server.ports["smtp"]) == f"220 {host} InSciTek OIS Ready here ESMTP"
    pop3 = greeting(server.address, server.ports["pop3"])
    assert re.fullmatch(rf"\+OK POP3 Server {re.escape(host)} \(InSciTek OIS\) ready <[^<>@]+@{re.escape(host)}>", pop3)
    assert greeting(server.address, server.ports["imap"]).startswith("* OK [CAPABILITY IMAP4rev1]")


def test_smtp_dialogue_ends_with_quit(insecure_site: Site):
    server = insecure_site.server
    with socket.create_connection((server.address, server.ports["smtp"]), timeout=5) as sock:
        lines = sock.makefile("rwb")
        lines.readline()
        for command, expected in ((b"EHLO audit\r\n", b"250 "), (b"VRFY root\r\n", b"502 "),
                                  (b"QUIT\r\n", b"221 ")):
            lines.write(command)
            lines.flush()
            assert lines.readline().startswith(expected), command


def test_sip_options_and_register(insecure_site: Site, secure_site: Site):
    for site, header in ((insecure_site, "Allworx-Sim-Server/7.4"), (secure_site, "Allworx-Sim-Server/8.3")):
        server = site.server
        ok = sip(server.address, server.ports["sip"], "OPTIONS")
        assert ok.startswith("SIP/2.0 200 OK\r\n") and f"\r\nServer: {header}\r\n" in ok
        assert "Call-ID: test-call-1" in ok and "CSeq: 1 OPTIONS" in ok and "branch=z9hG4bKtest1" in ok
        challenge = sip(server.address, server.ports["sip"], "REGISTER")
        assert challenge.startswith("SIP/2.0 401 Unauthorized\r\n")
        assert re.search(r'WWW-Authenticate: Digest realm="[^"]+", nonce="[0-9a-f]{32}"', challenge)
    phone = insecure_site.of_kind("allworx_phone")[0]
    assert "Server: Allworx-Sim-Phone" in sip(phone.address, phone.ports["sip"], "OPTIONS")


def test_every_listener_is_on_loopback(insecure_site: Site):
    for entry in insecure_site.inventory():
        assert entry["address"].startswith("127.")
    ports = [p for e in insecure_site.inventory() for p in e["ports"].values()]
    assert len(ports) == len(set(ports))
