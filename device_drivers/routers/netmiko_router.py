"""NetmikoRouterDriver: read a router's NAT/VLAN configuration over SSH with netmiko, for any platform.

One class serves every platform in PLATFORMS; what differs (netmiko class, enable, setup,
facts) is data. open() pins the SSH host key before credentials are sent (hostkeys.py),
connects with a timeout per phase, and retries only transient connect failures, never an
authentication failure (retries lock accounts out and look like an attack in the logs).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Sequence

from netmiko import BaseConnection, ConnectHandler

from device_drivers import hostkeys
from device_drivers.base import Facts, RouterDriver
from device_drivers.exceptions import (
    AuthFailed,
    ChangeRejected,
    DriverError,
    GarbledOutput,
    UnsupportedDeviceType,
    WrongPlatform,
)
from device_drivers.routers.errors import command_error, connect_error
from device_drivers.routers.platforms import PLATFORMS, Platform, hostname_from_prompt, parse_facts
from firewall import parsers
from firewall.model import ParseError, RouterConfig

_RC = re.compile(r"^__RC=(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed per phase."""
    conn: float = 5.0        # TCP connect, and the host-key exchange before login
    banner: float = 5.0      # the SSH banner
    auth: float = 10.0       # authentication
    read: float = 20.0       # one command, until the prompt returns


class NetmikoRouterDriver(RouterDriver):
    """A router reached over SSH; get_config() returns the parsed RouterConfig."""

    serves_many_types = True         # get_driver passes the device_type as `platform`

    def __init__(self, platform: str, host: str, username: str, password: str | None = None, *,
                 port: int = 22, secret: str | None = None, key_file: str | None = None,
                 host_key_pin: dict[str, str] | None = None, timeouts: Timeouts = Timeouts(),
                 connect_retries: int = 1, retry_delay: float = 0.5):
        if platform not in PLATFORMS:
            raise UnsupportedDeviceType(platform, sorted(PLATFORMS))
        if not host or not username:
            raise ValueError("host and username are required")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is not in 1..65535")
        self.platform: Platform = PLATFORMS[platform]
        self.device_type = platform
        self.host, self.port, self.username = host, port, username
        self._password, self._secret, self._key_file = password, secret, key_file
        self.host_key_pin = hostkeys.check_pin(host_key_pin) if host_key_pin is not None else None
        self.timeouts = timeouts
        self.connect_retries = max(0, connect_retries)
        self.retry_delay = retry_delay
        self.presented_host_key: dict[str, str] | None = None
        self._conn: BaseConnection | None = None

    def __repr__(self) -> str:          # never shows credentials
        return f"NetmikoRouterDriver({self.device_type!r}, {self.username}@{self.target})"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def open(self) -> None:
        """Pin-check the host key, log in, and prepare the session (bounded retries)."""
        if self._conn is not None:
            return
        for attempt in range(self.connect_retries + 1):
            try:
                self._connect_once()
                return
            except DriverError as err:
                if not err.transient or attempt == self.connect_retries:
                    raise
            time.sleep(self.retry_delay)

    def _connect_once(self) -> None:
        # without a pin, the key seen first (on an earlier attempt or open) is the pin from then on
        pin = self.host_key_pin or self.presented_host_key
        presented = hostkeys.verify_host_key(self.host, self.port, pin, self.timeouts.conn)
        self.presented_host_key = presented
        # netmiko may load only this key: a key swapped after the check above is refused
        with hostkeys.known_hosts_file(self.host, self.port, presented) as known_hosts:
            try:
                conn = ConnectHandler(**self._netmiko_args(known_hosts))
            except Exception as exc:   # netmiko raises many unrelated types; all are classified
                raise connect_error(exc, self.target) from exc
        try:
            self._prepare(conn)
        except BaseException:
            _disconnect(conn)
            raise
        self._conn = conn

    def _netmiko_args(self, known_hosts: str) -> dict[str, Any]:
        return {
            "device_type": self.platform.netmiko_type, "host": self.host, "port": self.port,
            "username": self.username, "password": self._password, "secret": self._secret or "",
            "use_keys": bool(self._key_file), "key_file": self._key_file, "allow_agent": False,
            "conn_timeout": self.timeouts.conn, "banner_timeout": self.timeouts.banner,
            "auth_timeout": self.timeouts.auth, "fast_cli": True,
            **hostkeys.netmiko_host_key_args(known_hosts),
        }

    def _prepare(self, conn: BaseConnection) -> None:
        if self.platform.needs_enable and not conn.check_enable_mode():
            try:
                conn.enable()
            except Exception as exc:
                raise AuthFailed(f"{self.target}: enable (privileged mode) was refused: "
                                 f"{type(exc).__name__}") from exc
        for command in self.platform.session_setup:
            self._send(conn, command, self.timeouts.read)

    def close(self) -> None:
        """Log out; errors while logging out are ignored (the session is going away anyway)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _disconnect(conn)

    def _require_open(self) -> BaseConnection:
        if self._conn is None:
            raise DriverError(f"{self.target}: driver is not open; call open() or use 'with'")
        return self._conn

    def _send(self, conn: BaseConnection, command: str, read_timeout: float) -> str:
        try:
            # the base prompt is known since login; re-finding it per command costs a round trip
            return conn.send_command(command, read_timeout=read_timeout, auto_find_prompt=False)
        except Exception as exc:
            if conn is self._conn:       # the channel is out of step now: never reuse it
                self.close()
            raise command_error(exc, self.target, command, read_timeout) from exc

    def run(self, command: str, read_timeout: float | None = None) -> str:
        """Run one command and return its output (no check of success)."""
        return self._send(self._require_open(), command, read_timeout or self.timeouts.read)

    def put_file(self, path: str, text: str, mode: int = 0o600) -> None:
        """Write a file on the device over SFTP on the already authenticated (host-key pinned) transport.

        Long shell lines are not an option: the tty wraps the echo and netmiko loses the prompt.
        """
        conn = self._require_open()
        try:
            sftp = conn.remote_conn_pre.open_sftp()
        except Exception as exc:
            raise DriverError(f"{self.target}: SFTP is not available ({exc}); cannot upload {path}") from None
        try:
            with sftp.open(path, "w") as fh:
                fh.write(text)
            sftp.chmod(path, mode)
        finally:
            sftp.close()

    def run_checked(self, command: str, read_timeout: float | None = None) -> str:
        """Run a shell command; raise ChangeRejected when its exit status is not 0 (shell platforms)."""
        if not self.platform.shell:
            raise DriverError(f"{self.device_type} has no shell exit status; use run()")
        output = self.run(f"{command}; printf '\\n__RC=%s\\n' $?", read_timeout)
        found = _RC.findall(output)
        if not found:
            raise GarbledOutput(f"{self.target}: no exit status after {command!r}")
        body = _RC.sub("", output).rstrip("\n")
        if found[-1] != "0":
            raise ChangeRejected(f"{self.target}: {command!r} exited {found[-1]}: {body[-500:]}")
        return body

    def gather(self, commands: Sequence[str] | None = None) -> dict[str, str]:
        """Outputs of the platform's read-only commands (or the given ones), keyed by command."""
        conn = self._require_open()
        chosen = list(commands) if commands is not None else self.platform.commands()
        return {command: self._send(conn, command, self.timeouts.read) for command in chosen}

    def parse(self, outputs: dict[str, str]) -> RouterConfig:
        """Parse gathered outputs; GarbledOutput names the host when they are not this platform's, and
        WrongPlatform names the platform they look like (firewall.parsers.platform_mismatch)."""
        mismatch = parsers.platform_mismatch(self.device_type, outputs)
        if mismatch is not None:
            raise WrongPlatform(self.target, self.device_type, *mismatch)
        try:
            config = parsers.parse(self.device_type, outputs)
        except ParseError as exc:
            raise GarbledOutput(f"{self.target}: {exc}") from exc
        if not config.hostname and self._conn is not None:
            config.hostname = hostname_from_prompt(self._conn.base_prompt or "")
        return config

    def get_config(self) -> RouterConfig:
        """Run the read-only commands and return the parsed RouterConfig."""
        return self.parse(self.gather())

    def get_facts(self) -> Facts:
        """Host name, vendor, model, version and serial from the platform's version command."""
        conn = self._require_open()
        output = self._send(conn, self.platform.facts_command, self.timeouts.read)
        found = parse_facts(self.platform, output)
        hostname = found["hostname"] or hostname_from_prompt(conn.base_prompt or "")
        return Facts(device_type=self.device_type, hostname=hostname, vendor=self.platform.vendor,
                     model=found["model"], os_version=found["os_version"], serial=found["serial"])


def _disconnect(conn: BaseConnection) -> None:
    try:
        conn.disconnect()
    except Exception:       # logging out of a dead session fails; nothing is left to clean up
        pass
