"""The README's "Webhooks" section verifies a real signed delivery: its Python snippet, run verbatim,
accepts what the appliance sent to a loopback receiver and refuses a changed body, another secret and
an old (replayed) timestamp; its openssl line agrees. The doc cannot drift from the code."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hardening.jobs import webhook_events, webhooks
from tests.jobs.test_webhooks import Receiver, _hook

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = b"k" * 32                                   # the secret tests.jobs.test_webhooks._hook stores


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Webhooks\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def _block(language: str) -> str:
    found = re.findall(rf"^```{language}\n(.*?)^```$", _section(), re.MULTILINE | re.DOTALL)
    assert len(found) == 1, f"one ```{language} block in the README's Webhooks section, found {len(found)}"
    return found[0]


@pytest.fixture
def delivered(app):
    """(headers, body) of one real delivery: queued as an audit would, signed and POSTed by deliver_due."""
    receiver = Receiver()
    try:
        site_id, _ = _hook(app, receiver.url, events=webhooks.EVENTS)
        with app.extensions["db"].session() as sess:
            part = dict(webhook_events.audit_events({"overall": "CRITICAL", "drift": {"since_previous": {
                "new_failures": [{"check_id": "AWX-SRV-007", "evidence": [{"detail": "admin port 8080 ü"}]}]}}},
                "completed"))["new_failures"]
            body = webhook_events.payload({"id": site_id, "name": "Dental North"}, 7, "https://awxh.example.net", part)
            assert webhooks.enqueue(sess, site_id, "new_failures", body) == 1
        assert webhooks.deliver_due(app.extensions["db"], app.extensions["secret_box"], ["127.0.0.0/8"]) == 1
        (headers, raw), = receiver.requests
        return headers, raw
    finally:
        receiver.close()


def test_the_readme_python_snippet_verifies_a_real_delivery(delivered):
    headers, body = delivered
    namespace: dict = {}
    exec(compile(_block("python"), "README.md (Webhooks)", "exec"), namespace)     # verbatim
    verify = namespace["verify"]
    assert verify(SECRET, headers, body) is True
    assert json.loads(body)["links"]["audit"] == "https://awxh.example.net/api/v1/audits/7"
    assert verify(SECRET, headers, body.replace(b"8080", b"8081")) is False        # a changed body
    assert verify(b"another secret", headers, body) is False
    old = str(int(time.time()) - 3600)                                           # a replay an hour later,
    replayed = {**headers, "X-AWXH-Timestamp": old,                              # signed correctly for it
                "X-AWXH-Signature": webhooks.sign(SECRET, old, body)}
    assert verify(SECRET, replayed, body) is False
    assert verify(SECRET, {k: v for k, v in headers.items() if k != "X-AWXH-Signature"}, body) is False


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_readme_openssl_line_agrees(delivered, tmp_path):
    headers, body = delivered
    script = _block("sh")

    def run(raw: bytes, secret: bytes) -> str:
        (tmp_path / "body.json").write_bytes(raw)
        env = {"PATH": "/usr/bin:/bin", "TS": headers["X-AWXH-Timestamp"], "SIG": headers["X-AWXH-Signature"],
               "SECRET": secret.decode()}
        return subprocess.run(["sh", "-c", script], check=False, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    assert run(body, SECRET) == "signature ok"
    assert run(body + b" ", SECRET) == "" and run(body, b"another secret") == ""
