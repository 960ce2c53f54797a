"""Why an Allworx channel could not be read. Each error names its reason first; that text is what
lands in DeviceFacts.errors[channel]. They subclass the shared DriverError tree, so the API maps
them like any driver fault (unreachable 502, timeout 504, rejected change 409)."""
from __future__ import annotations

from device_drivers import exceptions as shared


class ChannelError(shared.DriverError):
    """A channel (snmp, web, probes, credential_test) failed; str() starts with the reason."""
    reason = "error"

    def __init__(self, detail: str):
        super().__init__(f"{self.reason}: {detail}")
        self.detail = detail


class ChannelTimeout(ChannelError, shared.DeviceTimeout):
    reason = "timeout"


class Unreachable(ChannelError, shared.DeviceUnreachable):
    reason = "unreachable"


class AuthFailed(ChannelError, shared.AuthFailed):
    reason = "auth failure"


class LockedOut(AuthFailed):
    """The device answered with a lockout sign: stop logging in."""
    reason = "lockout sign"


class Garbled(ChannelError, shared.GarbledOutput):
    reason = "garbled page"


class ChangeRejected(ChannelError, shared.ChangeRejected):
    """A write the device did not take (its page still shows the old value)."""
    reason = "change rejected"
