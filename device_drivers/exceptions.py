"""The driver error tree: every device fault a driver raises is a DriverError with its reason.

The API maps these onto HTTP codes (unreachable 502, timeout 504, change conflict 409); the
audit engine turns them into `error` results. Messages name the device and the phase, and
never carry credentials.
"""
from __future__ import annotations


class DriverError(Exception):
    """Base of every driver fault. `transient` marks faults worth one bounded retry."""

    transient: bool = False

    def __init__(self, message: str, *, transient: bool | None = None):
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class DeviceUnreachable(DriverError):
    """No usable connection: refused, no route, not an SSH/HTTP service, session dropped."""


class DeviceTimeout(DriverError):
    """The device did not answer within the phase's timeout (connect, banner, auth, read)."""

    transient = True


class AuthFailed(DriverError):
    """The device rejected the credentials. Never retried: retries lock accounts out."""


class HostKeyMismatch(DriverError):
    """The SSH host key differs from the pinned one; no credentials were sent."""

    def __init__(self, host: str, expected: str, presented: str, presented_key: dict | None = None):
        super().__init__(f"{host}: SSH host key changed: pinned {expected}, presented {presented}; "
                         "credentials were not sent (re-pin only after checking the device)")
        self.host = host
        self.expected = expected
        self.presented = presented
        self.presented_key = presented_key       # the full key, so an admin can accept it after checking


class UnexpectedPrompt(DriverError):
    """Logged in, but the CLI did not show a prompt the platform's driver recognises."""


class GarbledOutput(DriverError):
    """A command's output could not be parsed as that platform's output."""


class WrongPlatform(GarbledOutput):
    """The output looks like another platform than the configured device_type (so nothing was parsed: a wrong
    parser can read foreign output as an empty configuration, which would pass every check)."""

    def __init__(self, target: str, configured: str, looks_like: str, confidence: float, why: str = ""):
        how = f"; {why}" if why and why != "by its content" else ""
        super().__init__(f"{target}: the output looks like {looks_like} (confidence {confidence}), not {configured} "
                         f"as configured{how}: set the device's device_type to the platform it runs")
        self.configured, self.looks_like, self.confidence = configured, looks_like, confidence


class UnsupportedDeviceType(DriverError, ValueError):
    """No driver for this device type; the message lists the supported ones."""

    def __init__(self, device_type: str, supported: list[str]):
        super().__init__(f"unsupported device_type {device_type!r}; supported: {', '.join(supported)}")
        self.device_type = device_type
        self.supported = supported


class ChangeRejected(DriverError):
    """The device refused a change (syntax error, conflict, non-zero exit status)."""


__all__ = ["DriverError", "DeviceUnreachable", "DeviceTimeout", "AuthFailed", "HostKeyMismatch",
           "UnexpectedPrompt", "GarbledOutput", "WrongPlatform", "UnsupportedDeviceType", "ChangeRejected"]
