"""AllworxServerDriver: facts from SNMP, the web admin (TCP 8080) and probes; writes through the web map."""
from __future__ import annotations

from typing import Any

from device_drivers import probe
from device_drivers.allworx import snmp, web, webmap
from device_drivers.allworx.base import AllworxDriverBase, put
from device_drivers.allworx.errors import ChannelError
from device_drivers.facts import DeviceFacts, Fact

MAIL = {"smtp": ("smtp_port", 25), "pop3": ("pop3_port", 110), "imap": ("imap_port", 143)}   # defaults [I]
DEFAULT_COMMUNITY = "public"        # [U] the real default community is unknown


class AllworxServerDriver(AllworxDriverBase):
    kind = "allworx_server"
    services = {"web_admin": 8080, "sip": 5060, "smtp": 25, "pop3": 110, "imap": 143}   # 8080, 5060 [C]
    web_service = "web_admin"

    def _gather_snmp(self, facts: DeviceFacts) -> None:
        community = self.credentials.get("snmp_community") or DEFAULT_COMMUNITY
        reading = snmp.read(self.address, int(self.snmp.get("port", 161)), community,
                            self.options.snmp_timeout, self.options.snmp_retries)
        if not reading.scalars:
            raise ChannelError("the agent answered but returned none of sysDescr, sysObjectID, applVersion")
        for key, fact in snmp.to_facts(reading).items():
            put(facts, key, fact)

    def _gather_web(self, facts: DeviceFacts) -> None:
        with self.session() as client:
            version, model, source = web.about(client)
            put(facts, "software_version", Fact(version, "device", source, f"software version {version}"))
            if model:
                put(facts, "model", Fact(model, "device", source, f"model {model}"))
            settings, problems = web.read_settings(client, self._map(version))
        for key, fact in settings.items():
            put(facts, key, fact)
        self._add_wan_admin_service(facts)
        if problems:
            raise web.combined(problems)

    @staticmethod
    def _add_wan_admin_service(facts: DeviceFacts) -> None:
        """'WAN Admin' is the one WAN service the sources name [C-3p]; list it with the others."""
        services, admin = facts.get("wan_services"), facts.get("wan_admin_enabled")
        if services is not None and admin is not None:
            services.value = {**services.value, "admin": admin.value}
            services.excerpt = f"{services.excerpt} WANAdmin={admin.value}"

    def _gather_probes(self, facts: DeviceFacts) -> None:
        super()._gather_probes(facts)
        page = self.policy.get("lost_password_page") or {}     # the caller's policy: paths and marker words
        if page.get("paths"):
            put(facts, "lost_password_page", self._recovery_page(page))

    def _recovery_page(self, page: dict[str, Any]) -> Fact:
        """GET (never POST) the admin UI's password-recovery page(s) on the LAN admin port: status and which
        marker words it shows, never its text (it shows values a reset would use)."""
        port, found = self.port("web_admin"), []
        for path in list(page["paths"])[:4]:
            try:
                seen = probe.http_get(self.address, port, path, self.options.probe_timeout,
                                      page.get("markers", []), tls=self.options.scheme == "https")
            except ValueError as exc:                    # a path or marker the policy got wrong
                seen = {"state": "error", "reason": str(exc)}
            found.append({"port": port, "path": path, **seen})
        said = "; ".join(f"GET {r['path']}: HTTP {r.get('status')} markers {r.get('markers_found', [])}" for r in found)
        return Fact(found, "observed", f"probe:http_get/{port}", said)

    def probe_targets(self, facts: DeviceFacts) -> list[tuple[str, int]]:
        http = {self.port("web_admin"), *self.policy.get("admin_ports", [])}
        tcp = set(self.policy.get("mail_ports", []))
        for service, (setting, default) in MAIL.items():
            tcp.add(self.ports.get(service, default))
            if facts.value(setting):                   # the port the device says it uses
                tcp.add(int(facts.value(setting)))
        return [("http", port) for port in sorted(http)] + [("tcp", port) for port in sorted(tcp - http)] + \
            [("sip", self.port("sip"))]

    # ---- login and writes ----------------------------------------------------------------
    def login_config(self) -> dict[str, Any]:
        return webmap.common()["login"]

    def login_username(self) -> str:
        return self.credentials.get("username") or self.login_config()["default_username"]

    def identify(self, client: web.WebClient) -> tuple[str, str]:
        version, model, _source = web.about(client)
        return model, version

    @staticmethod
    def _map(version: str) -> webmap.WebMap:
        try:
            return webmap.for_version(version)
        except webmap.WebMapError as exc:
            raise ChannelError(f"unsupported software version: {exc}") from None

    def set_setting(self, logical_name: str, value: Any, dry_run: bool = False) -> dict[str, Any]:
        """Write one logical setting (see webmap.yaml) and read it back: {setting, before, after, changed,
        menu, source, dry_run}. Raises WebMapError for a bad name/value, ChannelError for device faults."""
        if not any(logical_name in webmap.for_line(line).settings for line in webmap.lines()):
            webmap.for_line(webmap.lines()[0]).setting(logical_name)      # raises, naming the known ones
        with self.session() as client:
            version, _model, _source = web.about(client)
            setting = self._map(version).setting(logical_name)
            return web.write_setting(client, setting, value, dry_run)

    def manual_step(self, logical_name: str, software_version: str) -> str:
        """The menu path and label a person follows to change a setting by hand on this version."""
        return self._map(software_version).setting(logical_name).manual_step()
