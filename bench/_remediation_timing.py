"""Timing of plan + apply + verify (and the rollback that restores the lab) on the lab router."""
from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any


def measure_remediation(lab, runs: int) -> dict[str, list[float]]:
    """Per run: plan (read + classify + render), apply (backup, timer, atomic nft -f, read-back), rollback."""
    from api.auth import new_token
    from app import create_app
    app = create_app({"DATA_DIR": tempfile.mkdtemp(prefix="awxh-bench-"), "BACKGROUND_DUTIES": False,
                      "EGRESS_ALLOWED_NETWORKS": ["10.77.1.0/24"]})
    with app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "bench", "admin")
        sess.commit()
    client, h = app.test_client(), {"Authorization": f"Bearer {token}"}
    site = client.post("/api/v1/sites", json={"name": "bench", "required_wan_services": ["sip"]}, headers=h).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "10.77.2.20", "wan_address": lab.pbx_ip}, headers=h)
    router = client.post("/api/v1/devices", json={
        "site_id": site["id"], "kind": "router", "name": "gw", "address": lab.router_lan, "device_type": "linux",
        "credentials": {"username": lab.username, "password": lab.password}}, headers=h).json
    times: dict[str, list[float]] = {"plan": [], "apply+verify": [], "rollback": []}
    with lab.netns(lab.app):
        for _ in range(runs):
            rid = _timed(times["plan"], lambda: client.post("/api/v1/remediations", json={
                "device_id": router["id"]}, headers=h).json["id"])
            _timed(times["apply+verify"], lambda: _ok(client.post(f"/api/v1/remediations/{rid}/apply", headers=h)))
            _timed(times["rollback"], lambda: _ok(client.post(f"/api/v1/remediations/{rid}/rollback", headers=h)))
    return times


def _timed(bucket: list[float], fn) -> Any:
    start = time.perf_counter()
    out = fn()
    bucket.append(time.perf_counter() - start)
    return out


def _ok(resp):
    if resp.status_code != 200:
        raise SystemExit(f"remediation step failed: {resp.status_code} {resp.get_json()}")
    return resp


def report(times: dict[str, list[float]]) -> str:
    lines = ["| step | best | median |", "|---|---|---|"]
    lines += [f"| {k} | {min(v):.3f} | {statistics.median(v):.3f} |" for k, v in times.items()]
    return "\n".join(lines)
