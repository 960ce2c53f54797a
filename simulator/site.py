"""A whole simulated Allworx site on loopback: start_site() -> Site (a context manager)."""
from __future__ import annotations

import random
import threading
from typing import Any

from simulator import presets
from simulator.devices import PortPlan, SimDevice, build_phone, build_px, build_server

FAULTS = (None, "garbled", "reset")


class Site:
    """The running devices; every listener is on 127.0.0.0/8 and stops with stop() / the with-block."""

    def __init__(self, preset: str, config: dict[str, Any], block: str):
        self.preset, self.config, self.block = preset, config, block
        self.devices: list[SimDevice] = []

    def __enter__(self) -> "Site":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> SimDevice:
        return self.devices[0]

    def device(self, name: str) -> SimDevice:
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(f"no device {name!r}; devices: {', '.join(d.name for d in self.devices)}")

    def of_kind(self, kind: str) -> list[SimDevice]:
        return [d for d in self.devices if d.kind == kind]

    def inventory(self) -> list[dict[str, Any]]:
        """Device entries (kind, name, address, ports, snmp, credentials) for the appliance's inventory."""
        return [d.inventory_entry() for d in self.devices]

    def contacts(self) -> dict[str, dict[str, int]]:
        """Per device name, what reached it so far (SimDevice.contacts)."""
        return {d.name: d.contacts() for d in self.devices}

    def endpoints(self) -> dict[str, Any]:
        """What listens where, without credentials (printed by `python -m simulator`)."""
        devices = []
        for d in self.devices:
            services = {name: f"{'udp' if name == 'sip' else 'tcp'}://{d.address}:{port}"
                        for name, port in d.ports.items()}
            if d.snmp_port is not None:
                services["snmp"] = f"udp://{d.address}:{d.snmp_port}"
            if d.pptp is not None:
                services["pptp"] = f"tcp://{d.address}:{d.pptp.port}"
            devices.append({"kind": d.kind, "name": d.name, "address": d.address, "model": d.model,
                            "services": services})
        return {"preset": self.preset, "devices": devices}

    def set_latency(self, latency_ms: float) -> None:
        """Per-request delay for web, mail and SIP from now on (SNMP keeps its start-time delay)."""
        for d in self.devices:
            d.web.latency_ms = latency_ms
            d.sip.latency_ms = latency_ms
            for server in d.mail.values():
                server.latency_ms = latency_ms

    def set_fault(self, name: str, fault: str | None) -> None:
        """Make a device's web UI serve garbage ('garbled') or drop connections ('reset'); None heals."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {FAULTS}")
        self.device(name).web.fault = fault

    def set_password(self, name: str, password: str) -> None:
        """Change the password a device's web login accepts from now on, as an administrator would: the
        server's admin password; a phone's is the server's Phone Administration Password [I], so every
        phone changes with it; a Px Expander's own. inventory() then hands out the new one."""
        device = self.device(name)
        if device.kind == "allworx_server":
            device.state.admin_password = password
        elif device.kind == "allworx_phone":
            self.server.state.update({"phone_admin_password": password})
        else:
            device.state.update({"admin_password": password})

    def stop(self) -> None:
        """Close every device at once (each close waits for its listener threads)."""
        closing = [threading.Thread(target=d.close, daemon=True) for d in self.devices]
        self.devices = []
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(timeout=10)


def start_site(preset: str = "insecure", base_port: int = 0, latency_ms: float = 0.0, *,
               phones: int | None = None, px: int | None = None, address_block: str | None = None,
               real_ports: bool = False, snmp: bool = True, overrides: dict[str, Any] | None = None) -> Site:
    """Start every device of a preset. Ports are ephemeral unless base_port (sequential) or real_ports
    (standard ports such as 8080/25/5060/161/80; needs root and a private 127.x.y block, picked at random)."""
    config = presets.load(preset, overrides)
    phone_count = len(config["phones"]["models"]) if phones is None else phones
    px_count = config["px"]["count"] if px is None else px
    if not (0 <= phone_count <= 120 and 0 <= px_count <= 25):
        raise ValueError(f"phones must be 0..120 and px 0..25, got {phone_count} and {px_count}")
    block = _block(address_block, real_ports)
    plan = PortPlan(base_port, real_ports)
    site = Site(preset, config, block)
    try:
        site.devices.append(build_server(config, f"{block}.20", plan, latency_ms, snmp))
        for i in range(phone_count):
            site.devices.append(build_phone(config, i, f"{block}.{101 + i}", plan, latency_ms, site.server))
        for i in range(px_count):
            site.devices.append(build_px(config, i, f"{block}.{230 + i}", plan, latency_ms))
    except BaseException:
        site.stop()
        raise
    return site


def _block(address_block: str | None, real_ports: bool) -> str:
    """The first three octets of the site's loopback addresses."""
    if address_block is None:
        return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}" if real_ports else "127.0.0"
    octets = address_block.split(".")
    if len(octets) != 3 or octets[0] != "127" or not all(o.isdigit() and int(o) < 256 for o in octets):
        raise ValueError(f"address_block must look like '127.X.Y' (loopback only), got {address_block!r}")
    return address_block
