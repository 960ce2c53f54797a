"""Drive the namespace router lab (lab.sh) from Python: requirements, up/down, and the Lab handle.

Used by tests/lab/conftest.py (the session `lab` fixture) and bench/router_live.py. A Lab
knows its namespaces and addresses, runs commands in them, reads the router's SSH host key,
and builds a NetmikoRouterDriver for the lab router.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from device_drivers.hostkeys import pin_from_openssh
from device_drivers.routers import NetmikoRouterDriver, Timeouts
from tests.lab.netns import netns

LAB_SH = Path(__file__).with_name("lab.sh")
TOOLS = ("ip", "nft", "iptables", "ssh-keygen", "openssl", "socat", "ss", "unshare", "setsid",
         "ping", "conntrack")
FAST = Timeouts(conn=2.0, banner=2.0, auth=3.0, read=10.0)
_serial = itertools.count(1)


def missing_requirement() -> str | None:
    """Why the lab cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, bind mounts)"
    if not os.path.exists("/usr/sbin/sshd"):
        return "needs /usr/sbin/sshd (Debian package openssh-server)"
    missing = [tool for tool in TOOLS if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if missing:
        return f"needs {', '.join(missing)} (openssh-server nftables iptables iproute2 " \
               "iputils-ping socat conntrack)"
    return None


def new_lab_id() -> str:
    """Unique per process, xdist worker and call; the leading digits are our PID (for `gc`)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{os.getpid()}{worker}x{next(_serial)}"


def lab_root() -> Path:
    return Path(os.environ.get("LAB_ROOT") or Path(tempfile.gettempdir()) / "hardening-lab")


def lab_sh(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run lab.sh with our interpreter for the PBX services and a known LAB_ROOT."""
    env = {**os.environ, "LAB_ROOT": str(lab_root()), "LAB_PY": sys.executable}
    return subprocess.run(["bash", str(LAB_SH), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@dataclass
class Lab:
    """One running lab. Namespaces are hl<id>-app|rtr|pbx|inet; addresses as in lab.sh."""
    id: str
    router_lan: str = "10.77.1.1"
    router_wan: str = "192.0.2.1"
    app_ip: str = "10.77.1.10"
    pbx_ip: str = "10.77.1.20"
    inet_ip: str = "192.0.2.100"
    ssh_port: int = 22
    username: str = "root"
    password: str = "labpass"
    app: str = field(init=False)      # namespace names
    rtr: str = field(init=False)
    pbx: str = field(init=False)
    inet: str = field(init=False)

    def __post_init__(self) -> None:
        self.app, self.rtr, self.pbx, self.inet = (f"hl{self.id}-{role}"
                                                   for role in ("app", "rtr", "pbx", "inet"))

    @property
    def run_dir(self) -> Path:
        return lab_root() / "run" / self.id

    @property
    def client_key(self) -> Path:
        return self.run_dir / "client_key"

    def sh(self, ns: str, command: str, check: bool = True, timeout: float = 10) -> str:
        """Run a shell command inside namespace `ns`; return stdout (raise with stderr if check)."""
        done = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", command], capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode:
            raise RuntimeError(f"[{ns}] {command!r} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def rtr_sh(self, command: str, check: bool = True) -> str:
        return self.sh(self.rtr, command, check)

    def netns(self, ns: str) -> contextlib.AbstractContextManager[None]:
        """Run the block's network I/O from namespace `ns` (self.app, self.inet, ...)."""
        return netns(ns)

    def host_key_pin(self) -> dict[str, str]:
        """The router's current SSH host key, read from the file sshd uses (not over the network)."""
        return pin_from_openssh((self.run_dir / "ssh_host_ed25519_key.pub").read_text())

    def rekey(self) -> dict[str, str]:
        """Give the router a new host key, restart its sshd, and return the new pin."""
        done = lab_sh("rekey", self.id)
        if done.returncode:
            raise RuntimeError(f"lab.sh rekey {self.id} failed: {done.stderr.strip()}")
        return self.host_key_pin()

    def sshd_log(self) -> str:
        return (self.run_dir / "sshd.log").read_text()

    def driver(self, platform: str = "linux", **overrides: Any) -> NetmikoRouterDriver:
        """An unopened driver for the lab router; open it inside `with lab.netns(lab.app)`."""
        args: dict[str, Any] = {"host": self.router_lan, "port": self.ssh_port,
                                "username": self.username, "password": self.password,
                                "host_key_pin": self.host_key_pin(), "timeouts": FAST}
        return NetmikoRouterDriver(platform, **{**args, **overrides})

    @contextlib.contextmanager
    def router(self, **overrides: Any) -> Iterator[NetmikoRouterDriver]:
        """An open driver to the router, connected from the appliance namespace."""
        with self.netns(self.app), self.driver(**overrides) as drv:
            yield drv

    def rule_handle(self, chain: str, comment: str) -> int:
        """The nft handle of the rule carrying `comment` in `chain` ("inet fw input", ...)."""
        listing = json.loads(self.rtr_sh(f"nft -j list chain {chain}"))
        for item in listing["nftables"]:
            rule = item.get("rule")
            if rule and rule.get("comment") == comment:
                return int(rule["handle"])
        raise LookupError(f"no rule with comment {comment!r} in {chain}")

    def dnat_handle(self, comment: str) -> int:
        """The handle of a port-forward rule ("fwd-pbx-http", "fwd-pbx-sip", "fwd-pbx-imap")."""
        return self.rule_handle("ip portfwd prerouting", comment)

    def flush_conntrack(self) -> None:
        """Forget the router's NAT flows, so a changed rule applies to the next packet."""
        self.rtr_sh("conntrack -F 2>/dev/null || true")


def start_lab(lab_id: str | None = None) -> Lab:
    """Build a lab (after collecting labs whose owner died); RuntimeError with lab.sh's stderr."""
    lab_sh("gc")
    lab = Lab(lab_id or new_lab_id())
    done = lab_sh("up", lab.id)
    if done.returncode:
        if done.returncode != 3:          # 3: the ID is someone else's lab; leave it alone
            stop_lab(lab)
        raise RuntimeError(f"lab.sh up {lab.id} failed (rc {done.returncode}): {done.stderr[-2000:]}")
    return lab


def stop_lab(lab: Lab) -> None:
    lab_sh("down", lab.id)


@contextlib.contextmanager
def running_lab(lab_id: str | None = None) -> Iterator[Lab]:
    """A lab for the duration of the block, torn down on any exit."""
    lab = start_lab(lab_id)
    try:
        yield lab
    finally:
        stop_lab(lab)
