"""Router drivers: one netmiko-based driver for every SSH-managed router platform."""
from device_drivers.routers.netmiko_router import NetmikoRouterDriver, Timeouts
from device_drivers.routers.platforms import PLATFORMS, Platform

__all__ = ["NetmikoRouterDriver", "Timeouts", "PLATFORMS", "Platform"]
