"""Secrets are encrypted at rest, never returned, never logged, and survive key rotation."""
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CANARIES = {"password": "Canary-Pass-7f3a9c", "enable_secret": "Canary-Enable-51be", "snmp_community":
            "canary-community-0d2e", "phone_admin_password": "Canary-Phone-88aa", "pnp_secret_key": "Canary-PnP-3c1d"}


@pytest.fixture
def device_with_canaries(client, auth, site, caplog):
    caplog.set_level(logging.DEBUG)
    resp = client.post("/api/v1/devices", json={
        "site_id": site["id"], "kind": "allworx_server", "name": "pbx", "address": "192.168.1.2",
        "credentials": {"username": "admin", **CANARIES}}, headers=auth("admin"))
    assert resp.status_code == 201
    return resp.json


def _all_responses(client, auth, device):
    paths = ["/api/v1/devices", f"/api/v1/devices/{device['id']}", "/api/v1/sites", "/api/v1/audit-log",
             "/api/v1/tokens", "/api/v1/openapi.json"]
    return "".join(client.get(p, headers=auth("admin")).get_data(as_text=True) for p in paths)


def test_no_canary_in_database_file_logs_or_responses(app, client, auth, device_with_canaries, caplog):
    data_dir = Path(app.config["DATA_DIR"])
    stored = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file() and p.name != "secret.key")
    responses = _all_responses(client, auth, device_with_canaries)
    # a bad update whose error message must not echo the secret back
    bad = client.put(f"/api/v1/devices/{device_with_canaries['id']}/credentials",
                     json={"password": CANARIES["password"], "pin": CANARIES["password"]}, headers=auth("admin"))
    assert bad.status_code == 422
    for value in CANARIES.values():
        assert value.encode() not in stored, "secret stored in clear text"
        assert value not in responses
        assert value not in bad.get_data(as_text=True)
        assert value not in caplog.text


def test_key_file_is_private(app):
    key = Path(app.config["DATA_DIR"]) / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_readable_key_file_is_refused(tmp_path):
    from store.crypto import load_keys
    load_keys(str(tmp_path))
    os.chmod(tmp_path / "secret.key", 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_keys(str(tmp_path))


def test_rotate_key_reencrypts_and_old_key_no_longer_decrypts(app, client, auth, device_with_canaries, tmp_path):
    from store.crypto import SecretBox
    from store.models import Credential
    data_dir = app.config["DATA_DIR"]
    old_key = (Path(data_dir) / "secret.key").read_bytes().strip()
    env = {**os.environ, "AWXH_DATA_DIR": data_dir}
    out = subprocess.run([sys.executable, "app.py", "rotate-key"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "re-encrypted 1 credential set" in out.stdout
    new_key = (Path(data_dir) / "secret.key").read_bytes().strip()
    assert new_key != old_key and b"\n" not in new_key
    with app.extensions["db"].session() as sess:
        blob = sess.query(Credential).one().secrets_enc
    assert SecretBox([new_key]).decrypt(blob)["password"] == CANARIES["password"]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([old_key]).decrypt(blob)


def test_logging_filter_masks_tokens_and_passwords():
    from api.logging_setup import mask
    assert "awxh_abcdefghijklmnopqrstuvwxyz" not in mask("token awxh_abcdefghijklmnopqrstuvwxyz used")
    assert "hunter2" not in mask("login failed password=hunter2 for admin")
    assert "s3cr3t" not in mask('{"secret": "s3cr3t"}')
