"""The fact types every driver returns: one vocabulary of keys, each value with its provenance.

This is the drivers' contract (as NAPALM keeps its models in its base layer): hardening reads these,
drivers never read anything of hardening. Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fact:
    value: Any
    provenance: str                  # observed | device | declared | derived
    source: str = ""                 # "snmp:1.3.6.1.2.1.27.1.1.4.1", "http:/network/configuration", "declared"
    excerpt: str = ""


@dataclass
class DeviceFacts:
    device_id: int | None
    kind: str                        # allworx_server | allworx_phone | px_expander | router | switch
    name: str
    address: str                     # LAN address
    wan_address: str | None = None
    facts: dict[str, Fact] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)   # channel -> why it could not be read

    def get(self, key: str) -> Fact | None:
        return self.facts.get(key)

    def value(self, key: str, default: Any = None) -> Any:
        fact = self.facts.get(key)
        return default if fact is None else fact.value


class Secret:
    """A secret value in facts: usable by checks, never shown by repr, str, logs or JSON."""
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", len(self._value)))



# The fact keys drivers produce and checks read (DeviceFacts.facts). One vocabulary for every channel:
# a key read over SNMP, the web admin, a probe or declared by an operator means the same thing.
FACT_KEYS = {
    # identity
    "model": "model name, e.g. 'Allworx Connect 731' / 'ALLWORX 9308'",
    "software_version": "server software / firmware version string, e.g. '8.3.5.4'",
    "sys_object_id": "SNMP sysObjectID",
    "mac": "MAC address of the LAN port",
    "port_roles": "dict interface name -> 'lan' | 'wan' (from SNMP ifDescr)",
    # server network settings (Network > Configuration)
    "network_mode": "'nat_firewall' | 'standard_router' | other string",
    "stealth": "bool: Stealth DMZ on (WAN does not answer ping)",
    "wan_admin_enabled": "bool: WAN Admin",
    "wan_services": "dict service name -> bool enabled on the WAN side",
    "pppoe": "bool: WAN uses PPPoE",
    "vpn_configured": "bool: Allworx VPN configured",
    # mail (Email Server)
    "smtp_port": "int", "imap_port": "int", "pop3_port": "int",
    # Servers > VoIP
    "pnp_lan_creates_enabled": "bool: True = phones may self-create via LAN PnP (fails AWX-PHN-004)",
    "pnp_wan_creates_enabled": "bool: True = remote phones may self-create (fails AWX-PHN-005)",
    "phone_admin_password": "Secret: phone administration password",
    "pnp_secret_key": "Secret: Plug 'n' Play secret key",
    "require_strong_passwords": "bool: Business > Users > Password Requirements",
    # credentials known to the appliance (declared or stored) and gentle login tests
    "admin_password": "Secret: the device's admin password as stored in the appliance",
    "user_passwords": "dict user -> Secret",
    "default_credential_accepted": "bool: a gentle login test got in with a default/trivial password",
    "credential_test": "dict: attempts, stopped_reason (e.g. lockout sign), tried count; never the passwords",
    # observed from the network
    "open_ports": "list of 'tcp/8080', 'udp/5060' seen open on the LAN address",
    "banners": "dict 'tcp/25' -> banner line",
    "sip_server_header": "Server/User-Agent of a SIP OPTIONS reply",
    "wan_open_ports": "list of ports open on the WAN address (probe)",
    "wan_icmp_answers": "bool: WAN address answers ICMP echo (outside probe)",
    "lost_password_page": "list of {port, path, state, status, markers_found}: GET of the admin UI's password-"
                          "recovery page from the LAN (AWX-SRV-009); never the page's text",
    "av_attested_until": "ISO date: LAN anti-malware attestation expiry (LAN-AV-001)",
}
