"""Drive the namespace router lab (lab.sh) from Python: requirements, up/down, and the Lab handle.

Used by tests/lab/conftest.py (the session `lab` fixture) and bench/router_live.py. A Lab
knows its namespaces and addresses, runs commands in them, reads the router's SSH host key,
and builds a NetmikoRouterDriver for the lab router.

A network namespace shares the host's process table, so a Lab never stops processes by name
pattern: it stops one PID at a time, found from a PID file (the sshd's own PidFile in the lab's
run dir, the revert timer's PID file that nft_live.arm_revert writes in the router's own /tmp) or from the parent links
under /proc, and only after checking that the PID is still that process (its program or command
line) and lives in this lab's router namespace. The signal goes through a pidfd, so a PID that
is reused between the check and the kill is never hit.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

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


def _cmdline(pid: int) -> list[str]:
    """The process's argv ([] for a zombie, a kernel thread or a process that is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1] if raw else []


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])      # after "(comm)": state, ppid


def _netns_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _tcp_connections(pid: int, port: int) -> dict[tuple[str, str], str]:
    """(local, remote) -> state (hex, as the kernel shows it) of the TCP sockets on local `port`,
    other than listeners, in the network namespace of process `pid`."""
    found = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":     # 0A: LISTEN
                found[(fields[1], fields[2])] = fields[3]
    return found


_TCP_CLOSED_BOTH_WAYS = {"06", "07"}        # TIME_WAIT (the peer closed too), CLOSE


def _signal_if(pid: int, still_it: Callable[[int], bool], sig: int = signal.SIGTERM,
               wait: float = 5.0) -> bool:
    """Send `sig` to `pid` only if still_it(pid) holds once a pidfd pins the process; wait for its exit.

    The pidfd is opened before the check, so if the process ends and its PID is reused the signal
    goes nowhere (ESRCH) instead of to the newcomer. True if the signal was sent.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if not still_it(pid):
            return False
        try:
            signal.pidfd_send_signal(fd, sig)
        except ProcessLookupError:
            return False
        if wait:
            select.select([fd], [], [], wait)       # a pidfd turns readable when the process exits
        return True
    finally:
        os.close(fd)


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

    # --- processes of this lab, by PID -------------------------------------------------------

    def in_router_ns(self, pid: int) -> bool:
        """Whether process `pid` runs in this lab's router network namespace."""
        mine = _netns_id(f"/run/netns/{self.rtr}")
        return mine is not None and _netns_id(f"/proc/{pid}/ns/net") == mine

    def sshd_pid(self) -> int:
        """The PID of the router's sshd listener, from the PidFile lab.sh gives it (run/<ID>/sshd.pid)."""
        try:
            pid = int((self.run_dir / "sshd.pid").read_text().strip())
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"lab {self.id}: no sshd pid file ({exc})") from None
        if not (_exe(pid) or "").startswith("/usr/sbin/sshd") or not self.in_router_ns(pid):
            raise RuntimeError(f"lab {self.id}: pid {pid} from sshd.pid is not the lab router's sshd")
        return pid

    def ssh_session_pids(self) -> list[int]:
        """The sshd processes serving connections to the router: the lab sshd's children (a root
        login's session process, or a [priv] monitor) and their sshd children, never the listener
        itself nor the shells and commands they run (a revert timer started over SSH survives)."""
        listener = self.sshd_pid()
        program = _exe(listener)
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                ppid = _ppid(int(entry))
                if ppid is not None:
                    children.setdefault(ppid, []).append(int(entry))
        found, todo = [], list(children.get(listener, []))
        while todo:
            pid = todo.pop()
            if _exe(pid) == program and self.in_router_ns(pid):
                found.append(pid)
                todo.extend(children.get(pid, []))
        return sorted(found)

    def kill_ssh_sessions(self, wait: float = 5.0) -> list[int]:
        """Drop every SSH connection to the router (SIGTERM to each session PID); the PIDs signalled.

        Returns once each dropped connection is closed on both ends (TIME_WAIT in the router's
        namespace; paramiko closes its socket only after marking its transport and channels
        closed), so the client's next command fails at once instead of waiting for its read timeout.
        """
        listener = self.sshd_pid()
        program = _exe(listener)
        open_before = [conn for conn, state in _tcp_connections(listener, self.ssh_port).items()
                       if state not in _TCP_CLOSED_BOTH_WAYS]

        def still_session(pid: int) -> bool:
            # still an sshd of this router below the listener (not a reused PID)
            if _exe(pid) != program or not self.in_router_ns(pid):
                return False
            seen: int | None = pid
            for _ in range(8):
                seen = _ppid(seen)
                if seen == listener:
                    return True
                if seen is None or seen <= 1:
                    return False
            return False
        killed = [pid for pid in self.ssh_session_pids() if _signal_if(pid, still_session)]
        deadline = time.monotonic() + (wait if killed else 0)
        while time.monotonic() < deadline:
            now = _tcp_connections(listener, self.ssh_port)
            if all(now.get(conn, "07") in _TCP_CLOSED_BOTH_WAYS for conn in open_before):
                break
            time.sleep(0.005)
        return killed

    def router_tmp(self) -> Path:
        """The router's own /tmp (a tmpfs in its sshd's mount namespace), seen from the host."""
        return Path(f"/proc/{self.sshd_pid()}/root/tmp")

    def remediation_dirs(self, rid: int) -> list[Path]:
        """Remediation `rid`'s work directories (mktemp -d) in this router's /tmp."""
        return sorted(self.router_tmp().glob(f"awxh-remediation-{int(rid)}.*"))

    def revert_pid_file(self, rid: int) -> "_RemediationFile":
        """Where remediation `rid`'s timer PID is, looked up each time it is read (the directory is made at apply)."""
        return _RemediationFile(self, rid, "revert.pid")

    def is_revert_timer(self, pid: int, rid: int, anywhere: bool = False) -> bool:
        """Whether `pid` is remediation `rid`'s router-side revert timer (sh <its dir>/revert.sh),
        running in this lab's router (in any namespace with anywhere=True)."""
        argv = _cmdline(pid)
        script = rf"/tmp/awxh-remediation-{int(rid)}\.[A-Za-z0-9]{{10}}/revert\.sh"
        return (len(argv) == 2 and os.path.basename(argv[0]) == "sh" and re.fullmatch(script, argv[1]) is not None
                and (anywhere or self.in_router_ns(pid)))

    def revert_timer_pid(self, rid: int, anywhere: bool = False) -> int | None:
        """The PID in remediation `rid`'s revert PID file while that process is still its timer, else None."""
        try:
            pid = int(self.revert_pid_file(rid).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self.is_revert_timer(pid, rid, anywhere) else None

    def stop_revert_timer(self, rid: int) -> int | None:
        """Stop remediation `rid`'s revert timer in this lab's router, if it still runs; the PID stopped."""
        pid = self.revert_timer_pid(rid)
        if pid is not None and _signal_if(pid, lambda p: self.is_revert_timer(p, rid)):
            return pid
        return None

    def remove_remediation_files(self, rid: int) -> None:
        """Delete remediation `rid`'s directories from this router's /tmp (no other lab sees them)."""
        for path in self.remediation_dirs(rid):
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class _RemediationFile:
    """A file in a remediation's router-side directory, found anew on every call (like a Path for reading)."""
    lab: Lab
    rid: int
    name: str

    def _path(self) -> Path | None:
        found = [d / self.name for d in self.lab.remediation_dirs(self.rid) if (d / self.name).exists()]
        return found[-1] if found else None

    def exists(self) -> bool:
        return self._path() is not None

    def read_text(self) -> str:
        path = self._path()
        if path is None:
            raise FileNotFoundError(f"no {self.name} of remediation {self.rid} in the router's /tmp")
        return path.read_text()


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
