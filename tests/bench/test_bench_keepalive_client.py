"""The load generator's HTTP client (bench/api_load.py KeepAliveClient) against a scripted server: it
reads each framing right, keeps the connection when it may, and never mistakes a fault for an answer."""
from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.api_load import KeepAliveClient  # noqa: E402


class ScriptedServer:
    """Answers the n-th request of each connection with script[k] (raw bytes), k counting over the run;
    None closes the connection without answering."""

    def __init__(self, script: list[bytes | None]):
        self.script, self.requests, self.connections = list(script), [], 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.script:
            conn, _ = self.listener.accept()
            self.connections += 1
            with conn:
                buf = b""
                while self.script:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buf += data
                    if b"\r\n\r\n" not in buf:
                        break
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    self.requests.append(head)
                    answer = self.script.pop(0)
                    if answer is None:
                        break
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break


def _client(server):
    return KeepAliveClient(server.port, "/api/v1/x?y=1", {"Authorization": "Bearer t"}, timeout=5)


def test_lengths_chunks_and_keep_alive():
    server = ScriptedServer([
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=1\r\ndefg\r\n0\r\nT: 1\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\n\r\n",
        b"HTTP/1.1 503 Busy\r\ncontent-length: 2\r\nConnection: close\r\n\r\nno",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    client = _client(server)
    assert [client.get() for _ in range(5)] == [200, 200, 304, 503, 200]
    assert server.connections == 2            # one kept for four answers; a new one after "Connection: close"
    assert server.requests[0].startswith(b"GET /api/v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer t" in server.requests[0]
    client.close()


@pytest.mark.parametrize("answer, error", [
    (None, OSError),                                                       # closed without an answer
    (b"garbage\r\n\r\n", ValueError),                                      # no status code
    (b"HTTP/1.1 200 OK\r\n\r\nbody until close", ValueError),             # no framing: not an answer
])
def test_a_fault_raises_and_the_next_call_reconnects(answer, error):
    server = ScriptedServer([answer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    client = _client(server)
    with pytest.raises(error):
        client.get()
    assert client.get() == 200 and server.connections == 2
    client.close()
