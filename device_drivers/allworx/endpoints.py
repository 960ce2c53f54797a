"""AllworxPhoneDriver and PxExpanderDriver: status page, admin login, optional SNMP, probes."""
from __future__ import annotations

from typing import Any

from device_drivers.allworx import snmp, web, webmap
from device_drivers.allworx.base import AllworxDriverBase, put
from device_drivers.allworx.errors import Garbled
from device_drivers.allworx.forms import ParsedPage
from device_drivers.allworx.web import WebClient
from device_drivers.facts import DeviceFacts, Fact


class _EndpointDriver(AllworxDriverBase):
    """Shared by phones and Px Expanders: both run the IST OIS web stack and a SIP UA."""

    section = ""
    services = {"web": 80, "sip": 5060}        # SIP 5060 [C]; HTTP on 80 [I]
    policy_web_ports = ""

    def _gather_snmp(self, facts: DeviceFacts) -> None:
        if not (self.snmp.get("port") or self.credentials.get("snmp_community")):
            return                   # SNMP on phones and expanders is optional: only when configured
        reading = snmp.read(self.address, int(self.snmp.get("port", 161)),
                            self.credentials.get("snmp_community") or "public",
                            self.options.snmp_timeout, self.options.snmp_retries)
        for key, fact in snmp.to_facts(reading).items():
            put(facts, key, fact)

    def _gather_web(self, facts: DeviceFacts) -> None:
        cfg = webmap.section(self.section)
        client = self.web_client("web")
        try:
            page = self._status_page(client)
        finally:
            client.close()
        source = f"http:{cfg['status_path']}"
        for key, cell in (("model", cfg["ids"]["model"]), ("mac", cfg["ids"]["mac"])):
            if page.ids.get(cell):
                value = page.ids[cell].strip()
                put(facts, key, Fact(value.upper() if key == "mac" else value, "device", source, f"{cell}: {value}"))
        with self.session():
            pass                      # the admin login must work with the stored password

    def _status_page(self, client: WebClient) -> ParsedPage:
        """The page anyone may read; its title tells a phone or expander from anything else."""
        cfg = webmap.section(self.section)
        page, _text = client.fetch(cfg["status_path"])
        if page.title.strip() != cfg["title"]:
            raise Garbled(f"{cfg['status_path']} title is {page.title.strip()[:60]!r}, expected {cfg['title']!r}")
        return page

    def identify(self, client: WebClient) -> tuple[str, str]:
        page = self._status_page(client)
        return page.ids.get(webmap.section(self.section)["ids"]["model"], "").strip(), ""   # firmware format [U]

    def probe_targets(self, facts: DeviceFacts) -> list[tuple[str, int]]:
        tcp = {self.port("web"), *self.policy.get(self.policy_web_ports, [])}
        return [("http", port) for port in sorted(tcp)] + [("sip", self.port("sip"))]

    def login_config(self) -> dict[str, Any]:
        return webmap.section(self.section)["login"]


class AllworxPhoneDriver(_EndpointDriver):
    kind = "allworx_phone"
    section = "phone"
    policy_web_ports = "phone_web_ports"

    def set_setting(self, logical_name: str, value: Any, dry_run: bool = False) -> dict[str, Any]:
        raise webmap.WebMapError("a phone's admin password is set on the server: Servers > VoIP > Modify: "
                                 "Phone Administration Password (AllworxServerDriver.set_setting"
                                 "('phone_admin_password', ...))")


class PxExpanderDriver(_EndpointDriver):
    kind = "px_expander"
    section = "px"
    policy_web_ports = "px_web_ports"

    def set_setting(self, logical_name: str, value: Any, dry_run: bool = False) -> dict[str, Any]:
        """Write a Px setting (admin_password) and read it back; the driver then logs in with the new one."""
        setting = webmap.for_section("px").setting(logical_name)
        webmap.encode(setting, value)                      # bad values stop before any request
        with self.session() as client:
            result = web.write_setting(client, setting, value, dry_run)
        if logical_name == "admin_password" and not dry_run:
            self.credentials["password"] = value.reveal() if hasattr(value, "reveal") else value
        return result
