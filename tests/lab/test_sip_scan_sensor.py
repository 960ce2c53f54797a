"""NET-SCAN-001 end to end: `python -m hardening.sipsensor` in the appliance namespace, SIPVicious svmap
scanning it from the PBX namespace, and the audit context (SIP_SENSOR_EVENTS on) handing the records
to the check, which fails naming the scanner's address."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.wiring import audit_context
from hardening.checks.registry import REGISTRY, load_all
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent          # the interpreter running the tests (the project venv)
SVMAP = VENV_BIN / "sipvicious_svmap"
PORT = 5060


@pytest.fixture
def svmap() -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root (runs the sensor and svmap inside network namespaces)")
    if not SVMAP.exists():
        pytest.skip(f"sipvicious is not installed ({SVMAP} missing; pip package 'sipvicious')")
    return SVMAP


def _wait_listening(lab, proc: subprocess.Popen, timeout: float = 10) -> None:
    wanted = f"{lab.app_ip}:{PORT}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sensor exited {proc.returncode}: {proc.stderr.read()}")
        if wanted in lab.sh(lab.app, "ss -Hlun"):
            return
        time.sleep(0.1)
    raise AssertionError(f"sensor not listening on udp {wanted} after {timeout}s")


def test_svmap_scan_is_seen_by_the_sensor_and_fails_net_scan(lab, svmap, app):
    data_dir = app.config["DATA_DIR"]
    proc = subprocess.Popen(["ip", "netns", "exec", lab.app, sys.executable, "-m", "hardening.sensor",
                             "--data-dir", data_dir, "--listen", f"{lab.app_ip}:{PORT}"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_listening(lab, proc)
        output = lab.sh(lab.pbx, f"{svmap} {lab.app_ip} 2>&1; echo exit=$?", check=False, timeout=60)
        assert output.endswith("exit=30\n"), output          # 30: found nothing, the sensor stayed silent
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, proc.stderr.read()        # SIGTERM flushes and exits cleanly
    app.config["SIP_SENSOR_EVENTS"] = True
    events = audit_context(app).sensor_events(None)
    assert any(e["user_agent"] == "friendly-scanner" and e["source"] == lab.pbx_ip for e in events), events
    load_all()
    [result] = REGISTRY["NET-SCAN-001"].evaluate(SiteFacts(SiteInfo("lab"), sensor_events=events), Policy())
    assert result.status == "fail" and lab.pbx_ip in result.observed
    assert any(e.detail.startswith(f"{lab.pbx_ip}: ") and "friendly-scanner" in e.excerpt for e in result.evidence)
