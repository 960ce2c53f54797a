"""The SIP sensor for real: it listens in the appliance namespace, SIPVicious svmap scans it from the PBX
namespace, the scan is recorded with the scanner's User-Agent and address, and NET-SCAN-001 fails on it."""
from __future__ import annotations

import selectors
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo
from hardening.sensor import read_events

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
SVMAP = Path(sys.executable).with_name("sipvicious_svmap")


@pytest.fixture
def svmap() -> Path:
    if not SVMAP.exists():
        pytest.skip(f"sipvicious is not installed ({SVMAP} missing; pip package 'sipvicious')")
    return SVMAP


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline().strip()


@pytest.fixture
def sensor_in_app(lab, tmp_path: Path) -> Iterator[callable]:
    """start(port, *flags): a sensor process inside the appliance namespace on lab.app_ip:port."""
    procs: list[subprocess.Popen] = []

    def start(port: int, *flags: str) -> Path:
        data_dir = tmp_path / f"data{port}"
        proc = subprocess.Popen(["ip", "netns", "exec", lab.app, sys.executable, "-m", "hardening.sensor",
                                 "--data-dir", str(data_dir), "--listen", f"{lab.app_ip}:{port}", *flags],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = _first_line(proc, 10)
        assert line == f"sip sensor listening on udp {lab.app_ip}:{port}", proc.stderr.read() if not line else line
        return data_dir
    yield start
    for proc in procs:
        proc.terminate()
        assert proc.wait(10) == 0


def _scan(lab, svmap: Path, port: int) -> str:
    """svmap's output; it exits non-zero (30) when it found nothing, which is what a silent sensor wants."""
    return lab.sh(lab.pbx, f"{svmap} {lab.app_ip} -p {port} 2>&1; echo exit=$?", check=False, timeout=60)


def test_svmap_scan_is_recorded_and_fails_net_scan(lab, svmap, sensor_in_app):
    data_dir = sensor_in_app(5060)
    output = _scan(lab, svmap, 5060)
    assert "found nothing" in output and output.endswith("exit=30\n")           # the sensor stayed silent
    events = read_events(data_dir)
    assert events, f"no event recorded; svmap said: {output}"
    first = events[0]
    assert (first["source"], first["method"], first["user_agent"]) == (lab.pbx_ip, "OPTIONS", "friendly-scanner")
    assert first["scanner"] == "SIPVicious" and first["transport"] == "udp"
    facts = SiteFacts(SiteInfo("lab"), sensor_events=events)
    [result] = load_all()["NET-SCAN-001"].evaluate(facts, Policy())
    assert result.status == "fail" and result.observed == {lab.pbx_ip: len(events)}
    assert result.evidence[0].detail.startswith(f"{lab.pbx_ip}: {len(events)} scanner request(s) (SIPVicious)")
    assert "friendly-scanner" in result.evidence[0].excerpt


def test_reply_switch_lets_svmap_see_the_sensor(lab, svmap, sensor_in_app):
    data_dir = sensor_in_app(5062, "--reply-200")
    output = _scan(lab, svmap, 5062)
    assert f"{lab.app_ip}:5062" in output and "exit=0" in output, output      # svmap lists the answering host
    assert read_events(data_dir)[0]["source"] == lab.pbx_ip
