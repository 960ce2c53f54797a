"""No secret in any response, log line, error or file: planted canary secrets, a whole audit and remediation,
then every GET operation of the spec, every result format, the report, /metrics, the RMM check line, the
logs and the data directory are searched for them.

The canaries are the simulated site's real secrets (server admin, phone admin password, PnP key, Px
password) plus router credentials on an unreachable device, so they travel through every channel:
stored credentials, device reads, check evidence, remediation plans, error messages.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from simulator import start_site
from simulator.seed import flask_call, seed_site

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
CANARIES = {
    "server_admin": "CanaryAdmin-4d7e",
    "phone_admin": "canary91b2",
    "pnp_key": "canary0c55",
    "px": "canary7a13",
    "router_password": "CanaryRouter-e6f0",
    "router_enable": "CanaryEnable-2b98",
}
OVERRIDES = {"server": {"admin": {"password": CANARIES["server_admin"]},
                        "settings": {"phone_admin_password": CANARIES["phone_admin"],
                                     "pnp_secret_key": CANARIES["pnp_key"]}},
             "px": {"password": CANARIES["px"]}}


@pytest.fixture
def swept(app, client, auth, caplog):
    caplog.set_level(logging.DEBUG)
    # the webhook below points at loopback: allowed explicitly, as non-public receivers must be
    app.config.update(AUDIT_DEVICE_BUDGET_SECONDS=20.0, WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"])
    with start_site("insecure", snmp=False, phones=2, px=1, overrides=OVERRIDES) as site:
        router = {"kind": "router", "name": "edge", "address": "127.0.0.9", "device_type": "cisco_ios",
                  "ports": {"ssh": 1}, "credentials": {"username": "admin", "password": CANARIES["router_password"],
                                                       "enable_secret": CANARIES["router_enable"]}}
        site_id = seed_site(flask_call(client, auth("admin")), "canary-site", site.inventory(),
                            extra_devices=[router])
        ids = _exercise(app, client, auth, site_id)
        yield site_id, ids


def _exercise(app, client, auth, site_id):
    """An audit, a remediation with rotated secrets (shown once), a rollback, a waiver and a webhook."""
    runner = app.extensions["audit_runner"]
    audit = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=auth("audit")).json
    runner.wait(audit["id"], timeout=60)
    devices = client.get(f"/api/v1/devices?site_id={site_id}", headers=auth("read")).json
    server = next(d for d in devices if d["kind"] == "allworx_server")
    h = auth("remediate")
    rid = client.post("/api/v1/remediations", json={"device_id": server["id"]}, headers=h).json["id"]
    applied = client.post(f"/api/v1/remediations/{rid}/apply", headers=h).json
    generated = applied.get("generated") or {}
    assert generated, f"the remediation should have rotated at least one secret: {applied}"
    client.post(f"/api/v1/remediations/{rid}/rollback", headers=h)
    waiver = client.post(f"/api/v1/sites/{site_id}/waivers", headers=auth("admin"), json={
        "check_id": "AWX-SRV-001", "justification": "upgrade booked", "approver": "ops",
        "expires_at": "2099-01-01T00:00:00Z"}).json
    hook = client.post("/api/v1/webhooks", headers=auth("admin"), json={
        "url": "http://127.0.0.1:9/hook", "events": ["new_failures"], "secret": "CanaryHook-55aa"}).json
    second = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=auth("audit")).json
    runner.wait(second["id"], timeout=60)
    return {"site_id": site_id, "audit_id": second["id"], "device_id": server["id"], "remediation_id": rid,
            "waiver_id": waiver.get("id", 1), "webhook_id": hook.get("id", 1), "generated": generated}


def _get_everything(client, auth, ids) -> str:
    out = []
    for path, ops in SPEC["paths"].items():
        if "get" not in ops:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
        resp = client.get(url, headers=auth("admin"))
        assert resp.status_code < 500, f"GET {url}: {resp.status_code}"
        out.append(resp.get_data(as_text=True))
    for fmt in ("json", "junit", "sarif"):
        out.append(client.get(f"/api/v1/audits/{ids['audit_id']}/results?format={fmt}",
                              headers=auth("read")).get_data(as_text=True))
    out.append(client.get("/api/v1/openapi.json").get_data(as_text=True))
    return "\n".join(out)


def _errors(client, auth, ids) -> str:
    """Bad requests that carry a secret: the error must name the field, never echo the value."""
    device = ids["device_id"]
    calls = [
        client.put(f"/api/v1/devices/{device}/credentials", headers=auth("admin"),
                   json={"password": CANARIES["server_admin"], "bogus": CANARIES["server_admin"]}),
        client.post("/api/v1/devices", headers=auth("admin"), json={
            "site_id": ids["site_id"], "kind": "router", "name": "x", "address": CANARIES["router_password"],
            "credentials": {"password": CANARIES["router_password"]}}),
        client.post("/api/v1/webhooks", headers=auth("admin"), json={
            "url": "http://127.0.0.1:9/x", "events": ["no-such-event"], "secret": CANARIES["router_enable"]}),
    ]
    assert all(400 <= c.status_code < 500 for c in calls), [c.status_code for c in calls]
    return "\n".join(c.get_data(as_text=True) for c in calls)


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def test_no_secret_anywhere(app, client, auth, swept, caplog):
    site_id, ids = swept
    from hardening.outputs.check_cli import check_site
    line, _code = check_site(app, str(site_id), False, False, None)
    responses = _get_everything(client, auth, ids) + "\n" + line
    generated = {f"generated:{k}": v for k, v in ids["generated"].items()}
    secrets = {**CANARIES, "webhook": "CanaryHook-55aa", **generated}
    assert "canary-site" in responses and "<html" in responses.lower() and "testsuite" in responses   # real pages
    assert _leaks(responses, secrets) == [], "secret in an API response, report, metric or check line"
    assert _leaks(caplog.text, secrets) == [], "secret in a log line"
    # (the second bad request puts a canary in the address field too: an address is not secret, and
    # may be echoed; only the secret fields count there)
    errors = _errors(client, auth, ids)
    assert CANARIES["server_admin"] not in errors and CANARIES["router_enable"] not in errors
    assert "bogus" in errors                                     # the error names the field ...
    data_dir = Path(app.config["DATA_DIR"])
    stored = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != "secret.key")
    assert [n for n, v in secrets.items() if v.encode() in stored] == [], "secret stored in clear text"
    # and the sweep saw real content: the audit read the devices and judged the weak secrets
    results = client.get(f"/api/v1/audits/{ids['audit_id']}/results", headers=auth("read")).json
    assert {r["check_id"] for r in results if r["status"] in ("fail", "pass")} >= {"AWX-PHN-001", "AWX-PX-002"}
    assert any(r["status"] == "error" and "edge" in (r.get("target") or "") for r in results)
