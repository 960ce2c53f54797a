"""hardening.sipsensor and the sensor behind it: parser edge cases and fuzzing of mutated real requests,
per-minute rate limit, rotation, bounded read_events, the `python -m hardening.sipsensor` entry point
over loopback UDP, and the SIP_SENSOR_EVENTS wiring into an audit."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.wiring import audit_context
from hardening import sensor as sipsensor
from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo
from hardening.sensor.listener import Sensor, SensorConfig
from hardening.sensor.sip import MAX_MESSAGE, parse_request
from hardening.sensor.store import sensor_dir

ROOT = Path(__file__).resolve().parents[2]
# What SIPVicious 0.3 svmap sends (captured in the namespace lab), with its own line endings.
SVMAP_OPTIONS = (b"OPTIONS sip:100@10.77.1.10 SIP/2.0\r\n"
                 b"Via: SIP/2.0/UDP 10.77.1.20:5060;branch=z9hG4bK-3163712343;rport\r\n"
                 b"Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
                 b"From: \"sipvicious\"<sip:100@1.1.1.1>;tag=6134316462\r\n"
                 b"User-Agent: friendly-scanner\r\nCall-ID: 131178066281346018442627\r\n"
                 b"Contact: sip:100@10.77.1.20:5060\r\nCSeq: 1 OPTIONS\r\nAccept: application/sdp\r\n"
                 b"Content-Length: 0\r\n\r\n")


def sensor(tmp_path: Path, clock, **overrides) -> Sensor:
    """An unopened sensor (handle/flush only) on a fake clock."""
    return Sensor(SensorConfig(tmp_path, **overrides), clock=clock)


# --- parsing edge cases --------------------------------------------------------------------------

def test_folding_compact_forms_and_case_insensitive_names():
    request = parse_request(b"REGISTER sip:pbx SIP/2.0\n"          # bare LF line ends, as some tools send
                            b"uSeR-aGeNt: sipcli\n\t/v1.8\n"        # folded over two lines
                            b"v: SIP/2.0/UDP 192.0.2.7\nT: <sip:200@pbx>\nI: abc\n"
                            b"User-Agent: second-one-ignored\n\nbody: not a header\n")
    assert (request.method, request.uri) == ("REGISTER", "sip:pbx")
    assert request.header("user-agent") == "sipcli /v1.8"
    assert request.header("via") == "SIP/2.0/UDP 192.0.2.7"
    assert request.header("to") == "<sip:200@pbx>" and request.header("call-id") == "abc"
    assert request.header("body") == ""                              # after the blank line: body, not headers


def test_only_the_first_8_kib_of_a_datagram_is_looked_at():
    start, agent = b"OPTIONS sip:x SIP/2.0\r\n", b"User-Agent: friendly-scanner\r\n"

    def padded(total: int) -> bytes:           # a request whose User-Agent line ends at byte `total`
        filler = total - len(start) - len(agent) - len(b"X-Pad: \r\n")
        return start + b"X-Pad: " + b"p" * filler + b"\r\n" + agent + b"\r\n"
    assert parse_request(padded(MAX_MESSAGE)).header("user-agent") == "friendly-scanner"
    assert parse_request(padded(MAX_MESSAGE + 40)).header("user-agent") == ""


@pytest.mark.parametrize("data", [b"\r\n\r\n", b"OPTIONS", b"OPTIONS sip:x SIP/2.0 extra\r\n",
                                  b"\xff\xfeO\x00P\x00", b"OPTIONS\tsip:x\tSIP/2.0\r\n"])
def test_malformed_request_lines_are_not_requests(data):
    assert parse_request(data) is None


def _mutated(draw_ops: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(SVMAP_OPTIONS)
    for kind, where, value in draw_ops:
        where %= len(data) or 1
        if kind == 0:
            data[where] = value                        # flip a byte
        elif kind == 1:
            data.insert(where, value)                  # insert one
        elif data:
            del data[where]                            # delete one
    return bytes(data)


MUTATIONS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.integers(0, 255)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(ops=MUTATIONS, repeat=st.integers(1, 30))
def test_mutated_svmap_requests_never_raise(tmp_path_factory, ops, repeat):
    data = _mutated(ops) * repeat                       # repeated: also past the 8 KiB cap
    quiet = sensor(tmp_path_factory.mktemp("fuzz"), lambda: 0.0, rate=1e6, burst=10**6, total_rate=1e6)
    event, reply = quiet.handle(data, ("192.0.2.1", 5060))
    assert reply == b""                                  # silent by default, whatever came in
    assert event is None or json.loads(json.dumps(event)) == event


# --- rate limit and rotation ---------------------------------------------------------------------

def test_one_source_gets_20_lines_a_minute_and_the_rest_is_counted(tmp_path: Path):
    now = [0.0]
    limited = sensor(tmp_path, lambda: now[0], rate=20 / 60, burst=20, total_rate=1e6)
    written = [limited.handle(SVMAP_OPTIONS, ("198.51.100.9", 5060))[0] for _ in range(500)]
    assert sum(e is not None for e in written) == 20
    assert limited.handle(SVMAP_OPTIONS, ("198.51.100.10", 5060))[0] is not None   # other sources unaffected
    now[0] = 60.0
    later = [limited.handle(SVMAP_OPTIONS, ("198.51.100.9", 5060))[0] for _ in range(100)]
    assert sum(e is not None for e in later) == 20
    assert later[0]["suppressed_before"] == 480          # the flood is counted, not lost
    limited.flush()
    events = sipsensor.read_events(tmp_path)
    [result] = load_all()["NET-SCAN-001"].evaluate(SiteFacts(SiteInfo("t"), sensor_events=events), Policy())
    assert result.observed["198.51.100.9"] == 520


def test_a_flood_rotates_into_one_bounded_file_pair(tmp_path: Path):
    flood = sensor(tmp_path, time.monotonic, rate=1e6, burst=10**6, total_rate=1e6, max_file_bytes=4096,
                   keep_files=1)
    for n in range(300):
        flood.handle(SVMAP_OPTIONS, (f"203.0.113.{n % 250}", 5060))
        flood.flush()
    files = sorted(p.name for p in sensor_dir(tmp_path).iterdir())
    assert files == ["events.jsonl", "events.jsonl.1"]
    assert all((sensor_dir(tmp_path) / name).stat().st_size <= 4096 for name in files)
    events = sipsensor.read_events(tmp_path)
    assert 0 < len(events) < 300 and events[-1]["source"] == "203.0.113.49"      # newest kept, newest last


# --- read_events ---------------------------------------------------------------------------------

def _write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(line + "\n" for line in lines))


def test_read_events_both_files_newest_last_corrupt_lines_skipped_and_limit(tmp_path: Path):
    folder = sensor_dir(tmp_path)
    _write(folder, "events.jsonl.1", [json.dumps({"time": "2026-11-27T01:00:00+00:00", "source": "a"}),
                                      '{"time": "2026-11-27T01:00:01', "[1, 2]"])
    _write(folder, "events.jsonl", ["\x00\x00garbage", json.dumps({"time": "2026-11-27T02:00:00+00:00",
                                                                     "source": "b"})])
    assert [e["source"] for e in sipsensor.read_events(tmp_path)] == ["a", "b"]
    assert [e["source"] for e in sipsensor.read_events(tmp_path, limit=1)] == ["b"]
    assert [e["source"] for e in sipsensor.read_events(tmp_path, since="2026-11-27T01:30:00")] == ["b"]


def test_read_events_none_bad_limit_and_unreadable_log(tmp_path: Path):
    assert sipsensor.read_events(tmp_path) is None                    # never ran: not_applicable upstream
    for bad in (0, -5, "10", True):
        with pytest.raises(ValueError, match="limit="):
            sipsensor.read_events(tmp_path, limit=bad)
    (sensor_dir(tmp_path) / "events.jsonl").mkdir(parents=True)        # not a file: cannot be read
    with pytest.raises(OSError, match="SIP sensor records in .*sensor are unreadable"):
        sipsensor.read_events(tmp_path)


# --- the entry point over real loopback UDP ------------------------------------------------------

def test_entry_point_records_a_udp_request_silently_and_stops_on_sigterm(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-m", "hardening.sensor", "--data-dir", str(tmp_path),
                             "--listen", "127.0.0.1:0"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("sip sensor listening on udp 127.0.0.1:"), proc.stderr.read()
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            sock.sendto(SVMAP_OPTIONS, ("127.0.0.1", port))
            with pytest.raises(socket.timeout):                  # a sensor never answers a scanner
                sock.recv(4096)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    [event] = sipsensor.read_events(tmp_path)
    assert (event["source"], event["method"], event["user_agent"]) == ("127.0.0.1", "OPTIONS", "friendly-scanner")
    assert event["to"] == '"sipvicious"<sip:100@1.1.1.1>' and event["scanner"] == "SIPVicious"
    assert event["time"].endswith("+00:00") and isinstance(event["source_port"], int)


# --- wiring into the audit -----------------------------------------------------------------------

def test_sensor_events_reach_the_audit_only_when_switched_on(app):
    assert audit_context(app).sensor_events is None                    # default: off
    app.config["SIP_SENSOR_EVENTS"] = True
    source = audit_context(app).sensor_events
    assert source(None) is None                                         # switched on, sensor never ran
    _write(sensor_dir(app.config["DATA_DIR"]), "events.jsonl",
           [json.dumps({"time": "2026-11-27T01:00:00+00:00", "source": "192.0.2.66", "user_agent": "sipsak 0.9"})])
    facts = SiteFacts(SiteInfo("HQ"), sensor_events=source(None))
    [result] = load_all()["NET-SCAN-001"].evaluate(facts, Policy())
    assert result.status == "fail" and result.observed == {"192.0.2.66": 1}
