"""The outside probe: the same software in the probe role, under gunicorn with TLS in the lab's
internet namespace; the appliance (app namespace) calls it over HTTPS with a token during verify."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def probe_server(lab, tmp_path):
    data = tmp_path / "probe-data"
    cert, key = tmp_path / "probe.pem", tmp_path / "probe.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=probe", "-addext", f"subjectAltName=IP:{lab.inet_ip}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    env = {**os.environ, "AWXH_DATA_DIR": str(data), "AWXH_ROLE": "probe", "AWXH_BACKGROUND_DUTIES": "false",
           "AWXH_PROBE_ALLOWED_TARGETS": f'["{lab.router_wan}/32"]', "AWXH_TLS_CERT": str(cert),
           "AWXH_TLS_KEY": str(key), "AWXH_BIND": f"{lab.inet_ip}:8443", "AWXH_WORKERS": "1"}
    token = subprocess.run([sys.executable, "app.py", "create-token", "--name", "appliance", "--scope", "audit"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.Popen(["ip", "netns", "exec", lab.inet, sys.executable, "-m", "gunicorn", "-c",
                             "gunicorn.conf.py", "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            if lab.sh(lab.inet, "ss -Hltn 'sport = :8443'", check=False).strip():
                break
            time.sleep(0.1)
        else:
            pytest.fail("probe did not start: " + proc.stderr.read().decode()[-1500:])
        yield f"https://{lab.inet_ip}:8443", token, str(cert)
    finally:
        proc.terminate()
        proc.wait(10)


def test_verify_reports_outside_reachability_through_the_probe(app, client, auth, lab, probe_server):
    url, token, cert = probe_server
    app.config.update(OUTSIDE_PROBE_URL=url, OUTSIDE_PROBE_TOKEN=token, OUTSIDE_PROBE_CA=cert,
                      EGRESS_ALLOWED_NETWORKS=["10.77.1.0/24"])
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "lab-probe", "wan_addresses": [lab.router_wan],
                                              "required_wan_services": ["sip"]}, headers=h).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "10.77.2.20", "wan_address": lab.pbx_ip}, headers=h)
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                         "address": lab.router_lan, "device_type": "linux",
                                         "credentials": {"username": lab.username, "password": lab.password}},
                headers=h)
    lab.flush_conntrack()
    with lab.netns(lab.app):
        resp = client.post(f"/api/v1/sites/{site['id']}/port-forwards/verify", json={}, headers=auth("audit"))
    assert resp.status_code == 200, resp.json
    outside = resp.json["outside"]
    assert "error" not in outside, outside
    assert outside["tcp/8080"]["state"] == "open" and outside["tcp/143"]["state"] == "open"
    assert outside["udp/5060"]["state"] == "open"
    assert isinstance(outside["icmp"]["answered"], bool)
    forwards = {f["external_ports"][0]: f for f in resp.json["routers"][0]["forwards"]}
    assert forwards["8080"]["outside"] == {"tcp/8080": True}
    srv7 = next(f for f in resp.json["findings"] if f["check_id"] == "AWX-SRV-007")
    assert srv7["status"] == "fail"


def test_probe_refuses_targets_outside_its_allow_list(lab, probe_server):
    import requests
    url, token, cert = probe_server
    with lab.netns(lab.app):
        resp = requests.post(f"{url}/api/v1/probe", json={"target": "10.77.1.20", "checks": []},
                             headers={"Authorization": f"Bearer {token}"}, verify=cert, timeout=10)
        assert resp.status_code == 422 and "allowed targets" in resp.json()["message"]
        unauth = requests.post(f"{url}/api/v1/probe", json={"target": lab.router_wan, "checks": []},
                               verify=cert, timeout=10)
        assert unauth.status_code == 401
