"""Device and change faults as HTTP answers, in one place; every blueprint that reaches a device uses it.

    EgressRefused                  422  (errors name the request field: device_id, or subnet for discovery)
    HostKeyMismatch                409  (the presented key is parked on the device for an admin)
    DeviceTimeout                  504
    any other DriverError          502  (unreachable, auth refused, garbled output, change rejected, ...)
    RemediationError, LockHeld     409  (the request does not fit the remediation's or the device's state)
"""
from __future__ import annotations

import contextlib
from typing import Iterator, NoReturn

from flask_smorest import abort

from device_drivers import egress
from device_drivers.exceptions import DeviceTimeout, DriverError, HostKeyMismatch
from hardening.remediation.engine import RemediationError
from hardening.remediation.locks import LockHeld

DEVICE_ERRORS = (409, 422, 502, 504)      # the codes to document (@blp.errors) on a view that reaches a device
FAULTS = (DriverError, RemediationError, LockHeld)


def abort_for(exc: BaseException, field: str = "device_id") -> NoReturn:
    """Abort with the HTTP answer for a device or change fault; anything else is re-raised as it is."""
    message = str(exc)
    if isinstance(exc, egress.EgressRefused):
        abort(422, message=message, errors={"json": {field: [message]}})
    if isinstance(exc, (HostKeyMismatch, RemediationError, LockHeld)):
        abort(409, message=message)
    if isinstance(exc, DeviceTimeout):
        abort(504, message=message)
    if isinstance(exc, DriverError):
        abort(502, message=message)
    raise exc


@contextlib.contextmanager
def device_faults(field: str = "device_id") -> Iterator[None]:
    """`with device_faults():` around the one hardening call of a view: its faults become their HTTP answer."""
    try:
        yield
    except FAULTS as exc:
        abort_for(exc, field)
