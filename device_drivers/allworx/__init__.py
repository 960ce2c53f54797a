"""Allworx device drivers (server, phones, Px Expanders): facts with provenance, writers, discovery."""
from device_drivers.allworx.base import DriverOptions
from device_drivers.allworx.credtest import DailyAttemptBudget
from device_drivers.allworx.endpoints import AllworxPhoneDriver, PxExpanderDriver
from device_drivers.allworx.server import AllworxServerDriver

# the registry of kinds is device_drivers.DRIVERS (one for every device type); reach a device through
# device_drivers.opener
__all__ = ["AllworxServerDriver", "AllworxPhoneDriver", "PxExpanderDriver", "DriverOptions",
           "DailyAttemptBudget"]
