"""One inventory device as a driver needs it: addresses, ports, declared facts, decrypted credentials."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DeviceSpec:
    """One inventory device with its decrypted credentials (kept out of repr)."""
    device_id: int | None
    kind: str
    name: str
    address: str
    wan_address: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    snmp: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    device_type: str | None = None
    declared_facts: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    host_key_pin: dict[str, str] | None = None
