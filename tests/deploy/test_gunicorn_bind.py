"""gunicorn refuses plain HTTP beyond loopback (tokens would cross the LAN in clear)."""
import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(tmp_path, bind, **env):
    environ = {**os.environ, "AWXH_DATA_DIR": str(tmp_path), **env}
    environ.pop("AWXH_TLS_CERT", None)
    environ.pop("AWXH_TLS_KEY", None)
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", bind,
                             "app:create_app()"], cwd=ROOT, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_plain_http_on_all_interfaces_is_refused_before_binding(tmp_path):
    proc = _start(tmp_path, "0.0.0.0:18765")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "refusing to serve plain HTTP on 0.0.0.0:18765" in out
    assert "Listening at" not in out


def test_loopback_starts(tmp_path):
    proc = _start(tmp_path, "127.0.0.1:0")
    try:
        for line in proc.stdout:
            if "Listening at" in line or "refusing" in line:
                assert "Listening at: http://127.0.0.1:" in line
                break
    finally:
        # A worker that gets the master's SIGTERM between fork and installing its own handlers misses it,
        # and the master then waits out graceful_timeout before killing it: allow for that.
        proc.terminate()
        proc.communicate(timeout=_conf().graceful_timeout + 15)


def _conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hook():
    return _conf().on_starting


class _Server:
    def __init__(self, bind, certfile=None):
        self.cfg = types.SimpleNamespace(bind=bind, certfile=certfile)
        self.log = types.SimpleNamespace(error=lambda message: None)


@pytest.mark.parametrize("bind, certfile, allow, refused", [
    (["0.0.0.0:8443"], None, None, True),
    (["[::]:8443"], None, None, True),
    (["127.0.0.1:8000", "10.0.0.5:8000"], None, None, True),
    (["0.0.0.0:8443"], "/tls/cert.pem", None, False),
    (["0.0.0.0:8443"], None, "1", False),
    (["[::1]:8000", "localhost:8000", "unix:/run/awxh.sock"], None, None, False),
])
def test_bind_rules(monkeypatch, bind, certfile, allow, refused):
    monkeypatch.delenv("AWXH_ALLOW_PLAINTEXT", raising=False)
    if allow:
        monkeypatch.setenv("AWXH_ALLOW_PLAINTEXT", allow)
    if refused:
        with pytest.raises(SystemExit, match="refusing to serve plain HTTP"):
            _hook()(_Server(bind, certfile))
    else:
        _hook()(_Server(bind, certfile))
