"""The server's mail services: greeting banners and a few harmless commands (no mail is stored)."""
from __future__ import annotations

import os
import socketserver
import threading
import time
from typing import Callable

# protocol -> (greeting, quit command, quit reply, reply to anything else).
# SMTP [C-3p] nmap line 3384; POP3 [C-3p] nmap line 2719 (the <...> part is an APOP-style stamp);
# IMAP: no published banner, this one is [I] (the InSciTek OIS product string carried over).
PROTOCOLS = {
    "smtp": ("220 {host} InSciTek OIS Ready here ESMTP", "QUIT", "221 2.0.0 Bye", "502 5.5.2 Command not recognized"),
    "pop3": ("+OK POP3 Server {host} (InSciTek OIS) ready <{stamp}@{host}>", "QUIT", "+OK Bye", "-ERR Unknown command"),
    "imap": ("* OK [CAPABILITY IMAP4rev1] {host} InSciTek OIS IMAP4 Server ready", "LOGOUT", "* BYE Logging out",
             "BAD Unknown command"),
}
SMTP_HELLO = ("EHLO", "HELO")


class MailHandler(socketserver.StreamRequestHandler):
    timeout = 10
    server: "MailServer"

    def handle(self) -> None:
        srv = self.server
        with srv.count:
            srv.connections += 1
        if srv.latency_ms:
            time.sleep(srv.latency_ms / 1000.0)
        greeting, quit_cmd, quit_reply, other = PROTOCOLS[srv.protocol]
        stamp = f"{os.getpid()}.{int(time.time())}"
        self._send(greeting.format(host=srv.host(), stamp=stamp))
        try:
            for raw in self.rfile:
                words = raw.decode("ascii", "replace").strip().split()
                if not words:
                    continue
                tag, verb = self._verb(words)
                if verb == quit_cmd:
                    self._send(quit_reply if srv.protocol != "imap" else f"{quit_reply}\r\n{tag} OK LOGOUT completed")
                    return
                self._send(self._reply(tag, verb, other))
        except (OSError, TimeoutError):
            return

    def _verb(self, words: list[str]) -> tuple[str, str]:
        if self.server.protocol == "imap":
            return words[0], (words[1].upper() if len(words) > 1 else "")
        return "", words[0].upper()

    def _reply(self, tag: str, verb: str, other: str) -> str:
        proto = self.server.protocol
        if proto == "smtp" and verb in SMTP_HELLO:
            return f"250 {self.server.host()}"
        if verb == "NOOP":
            return f"{tag} OK NOOP completed" if proto == "imap" else ("250 2.0.0 OK" if proto == "smtp" else "+OK")
        return f"{tag} {other}" if proto == "imap" else other

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")


class MailServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], protocol: str, host: Callable[[], str], latency_ms: float):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown mail protocol {protocol!r}; known: {sorted(PROTOCOLS)}")
        self.protocol, self.host, self.latency_ms = protocol, host, latency_ms
        self.connections = 0              # every connection served, for tests (what an audit contacted)
        self.count = threading.Lock()
        super().__init__(address, MailHandler)


def serve(address: str, port: int, protocol: str, host: Callable[[], str],
          latency_ms: float = 0.0) -> MailServer:
    server = MailServer((address, port), protocol, host, latency_ms)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name=f"{protocol}-{address}:{server.server_address[1]}", daemon=True).start()
    return server
