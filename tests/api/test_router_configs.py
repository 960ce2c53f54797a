"""analyze-config (CLI) and POST /router-configs/analyze agree and follow the DESIGN.md contract."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "router-samples"
LAB_NFT_JSON = SAMPLES / "linux" / "nft_lab_json.txt"
PYNENG = SAMPLES / "cisco_ios" / "ip_nat_static_tcp_interface_pyneng.txt"


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "app.py", "analyze-config", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def _status(result, check_id):
    return next(f for f in result["findings"] if f["check_id"] == check_id)


def test_cli_flags_admin_and_mail_forwards_on_the_lab_router():
    proc = _cli("--platform", "linux", "--server-lan-ip", "10.77.1.20", str(LAB_NFT_JSON))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["platform"] == "linux"
    assert {"platform", "forwards", "vlans", "findings"} <= set(out)
    assert _status(out, "AWX-SRV-007")["status"] == "fail"
    assert _status(out, "NET-NAT-002")["status"] == "fail"
    assert _status(out, "AWX-SRV-002")["status"] == "fail"          # forwards to the server's LAN address
    evidence = " ".join(e["excerpt"] + e["detail"] for e in _status(out, "AWX-SRV-007")["evidence"])
    assert "8080" in evidence and "handle" in evidence
    assert len({f["check_id"] for f in out["findings"]}) == len(out["findings"])   # one per check


def test_cli_detects_the_platform_and_reads_stdin():
    proc = _cli("--server-lan-ip", "10.66.37.11", "-", stdin=PYNENG.read_text())
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["detection"] == {"platform": "cisco_ios", "confidence": out["detection"]["confidence"],
                                "detected": True}
    assert out["detection"]["confidence"] >= 0.5
    assert _status(out, "AWX-SRV-007")["status"] == "fail"          # external 8080 -> internal 80


@pytest.mark.parametrize("args, needle", [
    (("--platform", "cisco_nonsense"), "--platform"),
    (("--platform", "linux", "--server-lan-ip", "10.1.1.300"), "server_lan_ip"),
    (("--platform", "linux", "--allowed-sip-source", "nonsense"), "allowed_sip_source"),
])
def test_cli_bad_input_exits_2_with_a_message(args, needle):
    proc = _cli(*args, str(LAB_NFT_JSON))
    assert proc.returncode == 2
    assert needle in proc.stderr


def test_cli_garbled_input_exits_2():
    proc = _cli("--platform", "linux", "-", stdin='{"nftables": [{"rule": ')
    assert proc.returncode == 2 and "Error" in proc.stderr


def test_http_analyze_matches_cli(client, auth):
    body = {"platform": "linux", "outputs": {"nft -j list ruleset": LAB_NFT_JSON.read_text()},
            "server_lan_ip": "10.77.1.20", "allowed_sip_sources": ["198.51.100.0/24"]}
    resp = client.post("/api/v1/router-configs/analyze", json=body, headers=auth("audit"))
    assert resp.status_code == 200, resp.json
    cli = json.loads(_cli("--platform", "linux", "--server-lan-ip", "10.77.1.20", "--allowed-sip-source",
                          "198.51.100.0/24", str(LAB_NFT_JSON)).stdout)
    assert [(f["check_id"], f["status"]) for f in resp.json["findings"]] == \
           [(f["check_id"], f["status"]) for f in cli["findings"]]
    assert len(resp.json["forwards"]) == len(cli["forwards"])
    assert client.post("/api/v1/router-configs/analyze", json=body, headers=auth("read")).status_code == 403


def test_http_analyze_bad_input(client, auth):
    h = auth("audit")
    assert client.post("/api/v1/router-configs/analyze", json={"platform": "linux"}, headers=h).status_code == 422
    resp = client.post("/api/v1/router-configs/analyze", json={"platform": "linux", "config": "\x00\x01garbage"},
                       headers=h)
    assert resp.status_code == 422 and "config" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/router-configs/analyze", json={"config": "hello world"}, headers=h)
    assert resp.status_code == 422
