"""The SIP sensor: defensive parsing (hypothesis), rate limiting, rotation, read_events, real loopback sockets."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardening.sensor import read_events
from hardening.sensor.listener import Sensor, SensorConfig
from hardening.sensor.sip import MAX_HEADERS, MAX_VALUE, ok_reply, parse_request
from hardening.sensor.store import EventLog, RateLimiter, sensor_dir

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = (b"OPTIONS sip:100@10.77.1.10 SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 10.77.1.20:5060;branch=z9hG4bK-1\r\n"
           b"f: \"sipvicious\"<sip:100@1.1.1.1>;tag=abc\r\n"
           b"To: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
           b"Call-ID: 42\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n")


# --- parsing -------------------------------------------------------------------------------------

def test_parse_a_scanner_request():
    request = parse_request(OPTIONS)
    assert request.method == "OPTIONS" and request.uri == "sip:100@10.77.1.10"
    assert request.header("user-agent") == "friendly-scanner"
    assert request.header("from").startswith('"sipvicious"')        # compact form 'f' read as From
    assert request.header("call-id") == "42"


@pytest.mark.parametrize("data", [b"", b"SIP/2.0 200 OK\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", b"\x00\xff" * 50,
                                  b"options sip:x SIP/2.0\r\n", b"OPTIONS  SIP/2.0\r\n", b"INVITE sip:x SIP/3.0"])
def test_non_requests_are_none(data):
    assert parse_request(data) is None


def test_limits_on_values_headers_and_control_characters():
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    long_agent = b"User-Agent: " + b"A" * 5000 + b"\x1b[31m\r\n"
    request = parse_request(b"REGISTER sip:x SIP/2.0\r\n" + long_agent + many + b"\r\n")
    assert len(request.headers) <= MAX_HEADERS and len(request.header("user-agent")) == MAX_VALUE
    evil = parse_request(b"OPTIONS sip:x SIP/2.0\r\nUser-Agent: bad\x1b[2J\x00agent\r\n\r\n")
    assert evil.header("user-agent") == "bad?[2J?agent"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12000))
def test_arbitrary_bytes_never_crash_the_parser(data):
    request = parse_request(data)
    assert request is None or (request.method.isupper() and all(len(v) <= MAX_VALUE for v in request.headers.values()))


SIPISH = st.lists(st.sampled_from(["OPTIONS sip:a SIP/2.0", "User-Agent: x", "\r\n", "\n", " folded", ":", "f:",
                                   "Via", "\x00", "é", "SIP/2.0", " ", "\t", "REGISTER", "To: <sip:1@2>"]),
                  max_size=60).map("".join)


@pytest.fixture(scope="module")
def loose_sensor(tmp_path_factory) -> Sensor:
    """A sensor that is never opened: handle() only, with replies on and no rate limit in the way."""
    return Sensor(SensorConfig(tmp_path_factory.mktemp("sensor"), reply_200=True, rate=1e6, burst=10**6,
                               total_rate=1e6))


@settings(max_examples=300, deadline=None)
@given(text=SIPISH)
def test_sip_like_text_never_crashes_parser_or_sensor(loose_sensor, text):
    event, reply = loose_sensor.handle(text.encode("utf-8", "surrogatepass"), ("192.0.2.1", 5060))
    assert reply == b"" or reply.startswith(b"SIP/2.0 200 OK\r\n")
    assert event is None or json.dumps(event)


def test_ok_reply_echoes_dialog_headers():
    reply = ok_reply(parse_request(OPTIONS)).decode()
    assert reply.startswith("SIP/2.0 200 OK\r\n") and "Call-ID: 42\r\n" in reply and "CSeq: 1 OPTIONS" in reply


# --- store ---------------------------------------------------------------------------------------

def test_rate_limiter_per_key_with_refill_and_refused_count():
    limiter = RateLimiter(rate=1.0, burst=3)
    assert [limiter.allow("a", 0.0) for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("b", 0.0) is True                  # other sources are not affected
    assert limiter.take_refused("a") == 2 and limiter.take_refused("a") == 0
    assert limiter.allow("a", 1.0) is True and limiter.allow("a", 1.0) is False


def test_rate_limiter_forgets_old_keys():
    limiter = RateLimiter(rate=1.0, burst=1, max_keys=2)
    for key in "abc":
        limiter.allow(key, 0.0)
    assert limiter.allow("a", 0.0) is True                   # 'a' was evicted, so it starts with a full bucket


def test_log_rotates_and_stays_capped(tmp_path: Path):
    log = EventLog(tmp_path, max_bytes=4096, keep=2)
    for batch in range(40):
        log.append([{"time": f"2026-11-27T10:00:{batch:02d}", "source": "203.0.113.9", "pad": "x" * 200}] * 5)
    files = sorted(p.name for p in sensor_dir(tmp_path).iterdir())
    assert files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    assert sum(p.stat().st_size for p in sensor_dir(tmp_path).iterdir()) <= 3 * 4096
    events = read_events(tmp_path)
    times = [e["time"] for e in events]
    assert times == sorted(times) and times[-1] == "2026-11-27T10:00:39"    # oldest first, newest kept


def test_read_events_none_empty_since_and_torn_lines(tmp_path: Path):
    assert read_events(tmp_path) is None                      # the sensor never ran here
    log = EventLog(tmp_path)
    assert read_events(tmp_path) == []
    log.append([{"time": "2026-11-27T10:00:00+00:00", "n": 1}, {"time": "2026-11-27T12:00:00+00:00", "n": 2}])
    with open(log.path, "a") as fh:
        fh.write('{"time": "2026-11-27T13:00:00+00:00", "n": 3\n[1, 2]\n')
    assert [e["n"] for e in read_events(tmp_path)] == [1, 2]
    assert [e["n"] for e in read_events(tmp_path, since="2026-11-27T11:00:00Z")] == [2]
    assert [e["n"] for e in read_events(tmp_path, since=datetime(2026, 11, 27, 11))] == [2]
    with pytest.raises(ValueError, match="since="):
        read_events(tmp_path, since="yesterday")


# --- the sensor on real loopback sockets ---------------------------------------------------------

@pytest.fixture
def running(tmp_path: Path):
    """Start a sensor on 127.0.0.1 (free ports) in a thread; yields (sensor, udp port, tcp port)."""
    made = []

    def start(**options):
        sensor = Sensor(SensorConfig(tmp_path, [("127.0.0.1", 0)], tcp=True, flush_interval=0.05, **options))
        bound = {proto: port for proto, _host, port in sensor.open()}
        stop = threading.Event()
        thread = threading.Thread(target=sensor.serve, args=(stop,), daemon=True)
        thread.start()
        made.append((sensor, stop, thread))
        return sensor, bound["udp"], bound["tcp"]
    yield start
    for sensor, stop, thread in made:
        stop.set()
        thread.join(5)
        sensor.close()


def udp_exchange(port: int, data: bytes, wait: float) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait)
        sock.sendto(data, ("127.0.0.1", port))
        try:
            return sock.recv(4096)
        except socket.timeout:
            return None


def wait_for_events(data_dir: Path, count: int) -> list[dict]:
    for _ in range(100):
        events = read_events(data_dir) or []
        if len(events) >= count:
            return events
        threading.Event().wait(0.05)
    return read_events(data_dir) or []


def test_udp_request_is_recorded_and_not_answered(running, tmp_path: Path):
    _sensor, udp, _tcp = running()
    assert udp_exchange(udp, OPTIONS, 0.3) is None           # silent by default
    assert udp_exchange(udp, b"\x00garbage", 0.05) is None
    [event] = wait_for_events(tmp_path, 1)
    assert event["source"] == "127.0.0.1" and event["transport"] == "udp" and event["method"] == "OPTIONS"
    assert event["user_agent"] == "friendly-scanner" and event["scanner"] == "SIPVicious"


def test_reply_switch_and_tcp(running, tmp_path: Path):
    _sensor, udp, tcp = running(reply_200=True)
    assert udp_exchange(udp, OPTIONS, 2.0).startswith(b"SIP/2.0 200 OK\r\n")
    with socket.create_connection(("127.0.0.1", tcp), timeout=2) as conn:
        conn.sendall(OPTIONS.replace(b"friendly-scanner", b"sipcli/v1.8").replace(b"sipvicious", b"alice"))
        assert conn.recv(4096).startswith(b"SIP/2.0 200 OK")
    events = wait_for_events(tmp_path, 2)
    assert sorted((e["transport"], e["scanner"]) for e in events) == [("tcp", "sipcli"), ("udp", "SIPVicious")]


def test_flood_from_one_source_is_rate_limited(running, tmp_path: Path):
    sensor, udp, _tcp = running(burst=5, rate=0.01)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(200):
            sock.sendto(OPTIONS, ("127.0.0.1", udp))
    assert len(wait_for_events(tmp_path, 5)) == 5
    threading.Event().wait(0.3)
    assert len(read_events(tmp_path)) == 5 and sensor.per_source.take_refused("127.0.0.1") > 0


# --- command line --------------------------------------------------------------------------------

def sensor_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hardening.sensor", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_cli_runs_records_and_stops_on_sigterm(tmp_path: Path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = sensor_cli("--data-dir", str(tmp_path), "--listen", f"127.0.0.1:{port}")
    try:
        assert proc.stdout.readline().strip() == f"sip sensor listening on udp 127.0.0.1:{port}"
        udp_exchange(port, OPTIONS, 0.05)
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    [event] = read_events(tmp_path)
    assert event["user_agent"] == "friendly-scanner"


@pytest.mark.parametrize("args, words", [(["--listen", "nonsense"], "expected HOST:PORT"),
                                         (["--rate", "-1"], "must be greater than 0")])
def test_cli_bad_arguments_are_named(tmp_path: Path, args, words):
    proc = sensor_cli("--data-dir", str(tmp_path), *args)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and words in err


def test_cli_bind_failure_is_a_clear_error(tmp_path: Path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        proc = sensor_cli("--data-dir", str(tmp_path), "--listen", f"127.0.0.1:{taken.getsockname()[1]}")
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1 and "cannot start" in err and "in use" in err
