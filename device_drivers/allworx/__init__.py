"""Allworx device drivers (server, phones, Px Expanders): facts with provenance, writers, discovery."""
from device_drivers.allworx.base import DriverOptions
from device_drivers.allworx.credtest import DailyAttemptBudget
from device_drivers.allworx.endpoints import AllworxPhoneDriver, PxExpanderDriver
from device_drivers.allworx.server import AllworxServerDriver

DRIVERS = {
    AllworxServerDriver.kind: AllworxServerDriver,
    AllworxPhoneDriver.kind: AllworxPhoneDriver,
    PxExpanderDriver.kind: PxExpanderDriver,
}

__all__ = ["AllworxServerDriver", "AllworxPhoneDriver", "PxExpanderDriver", "DriverOptions",
           "DailyAttemptBudget", "DRIVERS"]
