"""SSH host-key pinning: read the server's key before any credentials go out, then make netmiko check it.

A pin is {"type": "ssh-ed25519", "key": "<base64 blob>", "sha256": "SHA256:<b64, no padding>"}.
`key` (with `type`) is what is compared; `sha256` is the human-readable form an operator can
check on the device (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`). A pin that carries
only `type` + `sha256` is accepted too and compared by fingerprint.

Flow (see NetmikoRouterDriver.open):
1. `verify_host_key` runs only the SSH key exchange (paramiko Transport.start_client) and
   returns the presented key as a pin. No pin = trust on first use: the caller stores it.
   A different key raises HostKeyMismatch; no authentication was attempted.
2. `known_hosts_file` writes exactly that key to a private temporary known_hosts file and
   `netmiko_host_key_args` makes netmiko load only that file with ssh_strict=True (RejectPolicy),
   so a key swapped between step 1 and the login is refused by paramiko before it authenticates.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import socket
import struct
import tempfile
from typing import Any, Iterator

import paramiko

from device_drivers.exceptions import DeviceTimeout, DeviceUnreachable, DriverError, HostKeyMismatch

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "ssh-rsa")
# an RSA host key is negotiated under the rsa-sha2 signature names
_NEGOTIATED = {"ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256"]}


def fingerprint(key_b64: str) -> str:
    """OpenSSH's SHA256 fingerprint of a base64 key blob."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def pin_from_key(key: paramiko.PKey) -> dict[str, str]:
    """The pin of a paramiko key."""
    blob = key.get_base64()
    return {"type": key.get_name(), "key": blob, "sha256": fingerprint(blob)}


def pin_from_openssh(line: str) -> dict[str, str]:
    """The pin of an OpenSSH public-key line ('ssh-ed25519 AAAA... comment', a .pub file)."""
    parts = line.split()
    if len(parts) < 2:
        raise ValueError("host key line must be '<type> <base64> [comment]'")
    return check_pin({"type": parts[0], "key": parts[1]})


def check_pin(pin: Any) -> dict[str, str]:
    """Validate a pin and return it normalised (sha256 filled in); ValueError names the problem."""
    if not isinstance(pin, dict):
        raise ValueError("host_key_pin must be an object with 'type' and 'key' (or 'sha256')")
    key_type, blob, sha = pin.get("type"), pin.get("key"), pin.get("sha256")
    if key_type not in KEY_TYPES:
        raise ValueError(f"host_key_pin.type {key_type!r} is not one of {', '.join(KEY_TYPES)}")
    if not blob and not sha:
        raise ValueError("host_key_pin needs 'key' (base64) or 'sha256' ('SHA256:...')")
    if sha is not None and (not isinstance(sha, str) or not sha.startswith("SHA256:")):
        raise ValueError("host_key_pin.sha256 must look like 'SHA256:<base64>'")
    if not blob:
        return {"type": key_type, "sha256": sha}
    if _blob_type(blob) != key_type:
        raise ValueError(f"host_key_pin.key is not a {key_type} key")
    if sha is not None and sha != fingerprint(blob):
        raise ValueError("host_key_pin.sha256 does not match host_key_pin.key")
    return {"type": key_type, "key": blob, "sha256": fingerprint(blob)}


def _blob_type(blob: Any) -> str:
    """The key type written inside an SSH public-key blob (its first length-prefixed string)."""
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        return raw[4:4 + length].decode("ascii")
    except (TypeError, ValueError, binascii.Error, struct.error, UnicodeDecodeError):
        raise ValueError("host_key_pin.key is not valid base64 of an SSH public key") from None


def pin_matches(pin: dict[str, str], presented: dict[str, str]) -> bool:
    """True when the presented key is the pinned one."""
    if pin["type"] != presented["type"]:
        return False
    if pin.get("key"):
        return pin["key"] == presented["key"]
    return pin["sha256"] == presented["sha256"]


def fetch_host_key(host: str, port: int, timeout: float, prefer: str | None = None) -> dict[str, str]:
    """Run only the SSH key exchange with host:port and return the presented host key as a pin."""
    target = f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise socket_error(exc, target, "connect") from exc
    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.handshake_timeout = timeout
    if prefer:
        options = transport.get_security_options()
        first = _NEGOTIATED.get(prefer, [prefer])
        options.key_types = first + [k for k in options.key_types if k not in first]
    try:
        # banner and key exchange are each bounded by `timeout`; start_client returns quietly
        # (kex unfinished) when its own overall limit passes, so that case is checked by hand
        transport.start_client(timeout=2 * timeout)
        if not transport.initial_kex_done:
            raise DeviceTimeout(f"{target}: SSH key exchange did not finish within {2 * timeout:g} s")
        return pin_from_key(transport.get_remote_server_key())
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise kex_error(exc, target) from exc
    finally:
        transport.close()


def verify_host_key(host: str, port: int, pin: dict[str, str] | None, timeout: float) -> dict[str, str]:
    """Return the presented key (as a pin); raise HostKeyMismatch when it is not the pinned one."""
    pin = check_pin(pin) if pin is not None else None
    presented = fetch_host_key(host, port, timeout, prefer=pin["type"] if pin else None)
    if pin is not None and not pin_matches(pin, presented):
        raise HostKeyMismatch(f"{host}:{port}", pin["sha256"], presented["sha256"], presented)
    return presented


@contextlib.contextmanager
def known_hosts_file(host: str, port: int, pin: dict[str, str]) -> Iterator[str]:
    """A private temporary known_hosts file holding exactly the pinned key for host:port."""
    name = host if port == 22 else f"[{host}]:{port}"     # paramiko's lookup name
    fd, path = tempfile.mkstemp(prefix="hostkey-", suffix=".known_hosts")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{name} {pin['type']} {pin['key']}\n")
        yield path
    finally:
        os.unlink(path)


def netmiko_host_key_args(known_hosts_path: str) -> dict[str, Any]:
    """ConnectHandler arguments that accept only the key in `known_hosts_path`."""
    return {"ssh_strict": True, "system_host_keys": False, "alt_host_keys": True,
            "alt_key_file": known_hosts_path}


def socket_error(exc: OSError, target: str, phase: str) -> DriverError:
    """Map a socket-level failure onto the driver error tree."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return DeviceTimeout(f"{target}: {phase} timed out")
    if isinstance(exc, socket.gaierror):
        return DeviceUnreachable(f"{target}: cannot resolve host name ({exc.strerror})")
    if isinstance(exc, ConnectionRefusedError):
        return DeviceUnreachable(f"{target}: connection refused (nothing listens on that port)")
    transient = isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))
    reason = exc.strerror or str(exc) or type(exc).__name__
    return DeviceUnreachable(f"{target}: {phase} failed: {reason}", transient=transient)


def kex_error(exc: BaseException, target: str) -> DriverError:
    """Map a failure during the SSH banner / key exchange onto the driver error tree."""
    if isinstance(exc, OSError):
        return socket_error(exc, target, "SSH handshake")
    if isinstance(exc.__context__, (socket.timeout, TimeoutError)):
        return DeviceTimeout(f"{target}: no SSH banner/key exchange in time ({exc})")
    if isinstance(exc, EOFError) or "banner" in str(exc).lower():
        # no SSH banner: a non-SSH service, or sshd dropping us under MaxStartups load
        return DeviceUnreachable(f"{target}: no SSH service answered ({exc or 'connection closed'})",
                                 transient=True)
    return DeviceUnreachable(f"{target}: SSH handshake failed: {exc}")
