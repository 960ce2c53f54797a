"""Map netmiko and paramiko exceptions onto the driver error tree, keeping the real reason.

netmiko wraps most paramiko failures in NetmikoTimeoutException with a multi-line advice text;
the original paramiko or socket exception survives as the __context__, so we walk the chain
and classify by the innermost cause instead of by message text where we can.
"""
from __future__ import annotations

import paramiko
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadException, ReadTimeout

from device_drivers.exceptions import (
    AuthFailed,
    DeviceTimeout,
    DeviceUnreachable,
    DriverError,
    HostKeyMismatch,
    UnexpectedPrompt,
)
from device_drivers.hostkeys import fingerprint, kex_error, socket_error


def _chain(exc: BaseException) -> list[BaseException]:
    """exc, then its causes/contexts, innermost last (cycle-safe)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def connect_error(exc: BaseException, target: str) -> DriverError:
    """Classify a failure of netmiko's ConnectHandler (connect, kex, auth, first prompt)."""
    chain = _chain(exc)
    for cause in chain:
        if isinstance(cause, paramiko.BadHostKeyException):
            return HostKeyMismatch(target, fingerprint(cause.expected_key.get_base64()),
                                   fingerprint(cause.key.get_base64()))
        if isinstance(cause, (NetmikoAuthenticationException, paramiko.AuthenticationException)):
            return AuthFailed(f"{target}: authentication failed ({_first_line(chain[-1])})")
    if isinstance(exc, (ReadTimeout, ValueError)):
        # logged in, but netmiko never saw the prompt it expects for this device type
        return UnexpectedPrompt(f"{target}: no recognisable CLI prompt after login "
                                f"(wrong device_type?): {_first_line(exc)}")
    inner = chain[-1]
    if isinstance(inner, OSError):
        return socket_error(inner, target, "connect")
    if isinstance(inner, (paramiko.SSHException, EOFError)):
        if "No existing session" in str(inner):
            return DeviceTimeout(f"{target}: SSH session did not start in time")
        return kex_error(inner, target)
    if isinstance(exc, NetmikoTimeoutException):
        return DeviceTimeout(f"{target}: {_first_line(exc)}")
    return DriverError(f"{target}: connection failed: {type(exc).__name__}: {_first_line(exc)}")


def command_error(exc: BaseException, target: str, command: str, read_timeout: float) -> DriverError:
    """Classify a failure while running one command on an open session."""
    if isinstance(exc, ReadTimeout):
        return DeviceTimeout(f"{target}: {command!r} did not return to the prompt within "
                             f"{read_timeout:g} s")
    if isinstance(exc, (OSError, EOFError, paramiko.SSHException, ReadException)):
        return DeviceUnreachable(f"{target}: session lost while running {command!r}: {_first_line(exc)}")
    return DriverError(f"{target}: {command!r} failed: {type(exc).__name__}: {_first_line(exc)}")
