"""Devices: Allworx servers, phones, Px Expanders, routers and switches."""
from api.devices.routes import blp  # noqa: F401
