"""A real SSH server on loopback (paramiko) that completes the key exchange and refuses every login,
counting the attempts: for tests of host-key pinning and of a router whose password stopped working."""
from __future__ import annotations

import contextlib
import socket
import threading
from typing import Iterator

import paramiko


class RefuseLogins(paramiko.ServerInterface):
    def __init__(self):
        self.auth_attempts = 0

    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        self.auth_attempts += 1
        return paramiko.AUTH_FAILED


@contextlib.contextmanager
def refusing_ssh_server() -> Iterator[tuple[int, paramiko.PKey, RefuseLogins]]:
    """(port, host key, the server interface counting login attempts); closed on exit."""
    key = paramiko.RSAKey.generate(2048)
    iface = RefuseLogins()
    server = socket.create_server(("127.0.0.1", 0))
    transports = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(key)
            transports.append(transport)
            try:
                transport.start_server(server=iface)
            except (paramiko.SSHException, EOFError, OSError):
                pass
    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1], key, iface
    finally:
        server.close()
        for transport in transports:
            transport.close()
