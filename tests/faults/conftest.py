"""Fault tests: the appliance as a real gunicorn process that is killed and restarted, on its own data dir.

`Appliance` runs `gunicorn -c gunicorn.conf.py 'app:create_app()'` from the repository in its own process
group (optionally inside a lab network namespace), so SIGKILL takes the master and every worker at once,
exactly like a power cut of the service. Everything it starts is stopped in teardown, also on failure.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

# the settings file is Python (Flask's from_envvar): objects that env vars cannot carry
SETTINGS = """\
from simulator.testing import quick_policy
DRIVER_OPTIONS = {"allworx": {"policy": quick_policy()}}     # no pause between gentle login tries
AUDIT_DEVICE_BUDGET_SECONDS = 20.0
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def integrity(db_path: Path) -> tuple[str, list]:
    """PRAGMA integrity_check and foreign_key_check of the appliance's database file."""
    con = sqlite3.connect(str(db_path), timeout=30)
    try:
        return (con.execute("PRAGMA integrity_check").fetchone()[0],
                con.execute("PRAGMA foreign_key_check").fetchall())
    finally:
        con.close()


def query(db_path: Path, sql: str, *args: Any) -> list[tuple]:
    """One statement on the appliance's database (committed), next to the running service."""
    con = sqlite3.connect(str(db_path), timeout=30)
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def make_admin_token(data_dir: Path) -> str:
    """Create the data dir (migrations, key file) and an admin token, in this process, then let go of it."""
    from api.auth import new_token
    from app import create_app
    app = create_app({"DATA_DIR": str(data_dir), "BACKGROUND_DUTIES": False, "TESTING": True})
    db = app.extensions["db"]
    with db.session() as sess:
        _row, token = new_token(sess, "faults-admin", "admin")
        sess.commit()
    db.engine.dispose()
    return token


class Appliance:
    """One appliance service (gunicorn master + workers) on `data_dir`; start(), kill(), stop()."""

    def __init__(self, data_dir: Path, log_path: Path, *, netns: str | None = None, host: str = "127.0.0.1",
                 port: int | None = None, env: dict[str, str] | None = None, workers: int = 2):
        self.data_dir, self.log_path, self.ns, self.host = data_dir, log_path, netns, host
        self.port = port or free_port(host)
        self.base = f"http://{host}:{self.port}"
        settings = data_dir.parent / "faults-settings.py"
        settings.write_text(SETTINGS)
        self.env = {**os.environ, "AWXH_DATA_DIR": str(data_dir), "AWXH_BIND": f"{host}:{self.port}",
                    "AWXH_WORKERS": str(workers), "AWXH_THREADS": "4", "AWXH_SETTINGS_FILE": str(settings),
                    "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.token = ""
        self.http = requests.Session()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "appliance.db"

    def _in_ns(self):
        if self.ns is None:
            return nullcontext()
        from tests.lab.netns import netns
        return netns(self.ns)

    def start(self, timeout: float = 60.0) -> None:
        prefix = ["ip", "netns", "exec", self.ns] if self.ns else []
        log = open(self.log_path, "ab")
        try:
            # ip netns exec execs gunicorn: the Popen pid is the master, and the leader of a new group
            # no control socket: gunicorn 27 puts it in $HOME, shared by every instance on the machine
            self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                          "--no-control-socket", "app:create_app()"], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if self.request("GET", "/api/v1/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /health within {timeout}s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (the whole process group), and reap them."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._wait_group_gone()
        self.http = requests.Session()       # pooled connections died with the server

    def _wait_group_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        raise AssertionError(f"processes of group {self.proc.pid} survived SIGKILL")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)          # gunicorn's quick shutdown
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)
        self.proc = None
        self.http.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def request(self, method: str, path: str, timeout: float = 30, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with self._in_ns():
            return self.http.request(method, self.base + path, headers=headers, timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body if body is not None else {}, **kwargs)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The `call` shape simulator.seed expects."""
        resp = self.request(method, path, json=body)
        return resp.status_code, (resp.json() if resp.content else None)


@pytest.fixture
def appliance(tmp_path) -> Iterator[Callable[..., Appliance]]:
    """appliance(data_dir, netns=..., host=...) -> a started Appliance with an admin token; all stopped at exit."""
    started: list[Appliance] = []

    def make(data_dir: Path | None = None, **kwargs: Any) -> Appliance:
        data_dir = data_dir or tmp_path / "data"
        token = make_admin_token(data_dir)
        app = Appliance(data_dir, tmp_path / f"gunicorn-{len(started)}.log", **kwargs)
        app.token = token
        started.append(app)
        app.start()
        return app

    yield make
    for app in started:
        app.stop()


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll until predicate() returns something truthy; return it (AssertionError at the deadline)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {json.dumps(last, default=str)[:500]})")


@pytest.fixture(scope="module")
def fault_lab():
    """A namespace router lab of this module's own (tests/lab/conftest.py is not visible here)."""
    from tests.lab.labctl import missing_requirement, running_lab
    reason = missing_requirement()
    if reason:
        pytest.skip(f"namespace router lab {reason}")
    with running_lab() as lab:
        yield lab
