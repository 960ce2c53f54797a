"""What every Allworx driver shares: inventory inputs, channel loop, fact merging, credential test."""
from __future__ import annotations

import ipaddress
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from device_drivers.allworx import credtest, probes
from device_drivers.allworx.errors import AuthFailed, ChannelError
from device_drivers.allworx.web import WebClient
from device_drivers.base import DeviceDriver, Facts
from device_drivers.exceptions import DriverError
from device_drivers.facts import FACT_KEYS, DeviceFacts, Fact, Secret

# A device read beats an outside observation, which beats an operator's declaration.
RANK = {"device": 3, "observed": 2, "declared": 1, "derived": 0}
SECRET_CREDENTIALS = {"password": "admin_password", "phone_admin_password": "phone_admin_password",
                      "pnp_secret_key": "pnp_secret_key"}
INVENTORY_KEYS = ("address", "name", "device_id", "wan_address", "ports", "snmp", "credentials",
                  "declared_facts", "model")


@dataclass
class DriverOptions:
    timeout: float = 3.0             # one web request
    probe_timeout: float = 1.0       # one TCP connect / banner / SIP answer
    snmp_timeout: float = 1.0
    snmp_retries: int = 1
    scheme: str = "http"             # HTTPS on the admin UI is [U]


class AllworxDriverBase(DeviceDriver):
    """Building one does no I/O. gather() opens and closes its own sessions; open()/close() keep one
    web session for get_facts() and set_setting()."""

    kind = ""
    services: dict[str, int] = {}            # service name -> default port
    channels: tuple[str, ...] = ("snmp", "web", "probes")
    web_service = "web"                          # the port name of the device's web UI

    def __init__(self, address: str, *, name: str = "", device_id: int | None = None,
                 wan_address: str | None = None, ports: Mapping[str, int] | None = None,
                 snmp: Mapping[str, Any] | None = None, credentials: Mapping[str, str] | None = None,
                 declared_facts: Mapping[str, Any] | None = None, model: str = "",
                 options: DriverOptions | None = None, policy: Mapping[str, Any] | None = None,
                 weak_passwords: list[str] | None = None):
        self.address = _address(address, "address")
        self.wan_address = _address(wan_address, "wan_address") if wan_address else None
        self.name, self.device_id, self.model = name or address, device_id, model
        self.ports = self._check_ports(ports or {})
        self.snmp = dict(snmp or {})
        self.credentials = dict(credentials or {})
        self.declared = self._check_declared(declared_facts or {})
        self.options = options or DriverOptions()
        self.policy = policy if policy is not None else {}     # the caller's policy data (lockout signs, limits)
        self.weak_passwords = weak_passwords
        self.device_type = self.kind
        self._client: WebClient | None = None

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.address!r}, name={self.name!r})"     # never credentials

    # ---- DeviceDriver: one kept web session ------------------------------------------------
    def open(self) -> None:
        if self._client is None:
            self._client = self._new_session()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def is_open(self) -> bool:
        return self._client is not None

    def get_facts(self) -> Facts:
        if self._client is None:
            raise DriverError(f"{self.name}: not open; call open() first")
        model, version = self.identify(self._client)
        return Facts(device_type=self.kind, hostname=self.name, vendor="Allworx", model=model,
                     os_version=version, serial="")

    def identify(self, client: WebClient) -> tuple[str, str]:
        """(model, software version) as the web UI shows them."""
        raise NotImplementedError

    def _new_session(self) -> WebClient:
        password = self.credentials.get("password")
        if not password:
            raise AuthFailed(f"{self.name}: no password in the inventory credentials; web admin not read")
        client = self.web_client(self.web_service)
        try:
            client.login(self.login_config(), password, self.login_username())
        except ChannelError:
            client.close()
            raise
        return client

    @contextmanager
    def session(self) -> Iterator[WebClient]:
        """The open session, or a fresh logged-in one closed afterwards."""
        if self._client is not None:
            yield self._client
            return
        client = self._new_session()
        try:
            yield client
        finally:
            client.close()

    @classmethod
    def from_inventory(cls, entry: Mapping[str, Any], **extra: Any) -> "AllworxDriverBase":
        """Build from an inventory entry (as simulator.Site.inventory() returns, or a stored device)."""
        if entry.get("kind") not in (None, cls.kind):
            raise ValueError(f"{cls.__name__} drives kind {cls.kind!r}, not {entry.get('kind')!r}")
        args = {k: entry[k] for k in INVENTORY_KEYS if k in entry and entry[k] is not None}
        return cls(**{**args, **extra})          # extra (options, policy, overrides) wins

    @property
    def device_key(self) -> str:
        return f"{self.kind}:{self.address}"

    def port(self, service: str) -> int:
        return self.ports.get(service, self.services[service])

    # ---- gathering -------------------------------------------------------------------------
    def gather(self, channels: Iterable[str] | None = None, take_attempt: credtest.TakeAttempt | None = None,
               credtest_start_at: int = 0) -> DeviceFacts:
        """Facts from declared data and every channel; each failing channel lands in facts.errors.
        The gentle credential test runs only when the caller passes its attempt budget."""
        wanted = list(self.channels if channels is None else channels)
        unknown = [c for c in wanted if c not in self.channels]
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; {self.kind} has {list(self.channels)}")
        facts = DeviceFacts(self.device_id, self.kind, self.name, self.address, self.wan_address)
        self._add_declared(facts)
        for channel in self.channels:
            if channel in wanted:
                self._run(facts, channel, getattr(self, f"_gather_{channel}"))
        if take_attempt is not None:
            self._run(facts, "credential_test", lambda f: self._credential_test(f, take_attempt, credtest_start_at))
        return facts

    @staticmethod
    def _run(facts: DeviceFacts, channel: str, step: Callable[[DeviceFacts], None]) -> None:
        try:
            step(facts)
        except ChannelError as exc:
            facts.errors[channel] = str(exc)
        except Exception as exc:     # a driver bug must show as a channel error, never as a pass
            facts.errors[channel] = f"error: {exc.__class__.__name__}: {exc}"

    def _add_declared(self, facts: DeviceFacts) -> None:
        for key, value in self.declared.items():
            put(facts, key, Fact(value, "declared", "declared", ""))
        for field, key in SECRET_CREDENTIALS.items():
            if self.credentials.get(field):
                put(facts, key, Fact(Secret(self.credentials[field]), "declared", f"inventory:credentials.{field}"))

    def _gather_probes(self, facts: DeviceFacts) -> None:
        targets = self.probe_targets(facts)
        results = probes.probe_all(self.address, targets, self.options.probe_timeout)
        for key, fact in probes.to_facts(results).items():
            put(facts, key, fact)
        if not any(r.state == "open" for r in results):
            summary = ", ".join(f"{r.port} {r.state}" for r in results)
            raise ChannelError(f"no answer on any probed port ({summary})")

    def probe_targets(self, facts: DeviceFacts) -> list[tuple[str, int]]:
        raise NotImplementedError

    # ---- gentle credential test ------------------------------------------------------------
    def login_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def login_username(self) -> str | None:
        return None

    def web_client(self, port_service: str) -> WebClient:
        signs = self.policy.get("credential_test", {}).get("lockout_signs", ())
        return WebClient(self.address, self.port(port_service), self.options.timeout, signs, self.options.scheme)

    def _credential_test(self, facts: DeviceFacts, take_attempt: credtest.TakeAttempt, start_at: int) -> None:
        cfg = self.policy.get("credential_test")
        if not cfg:
            raise ChannelError("no credential-test policy was given to the driver: credential test not run")
        if self.weak_passwords is None:
            raise ChannelError("no weak-password list was given to the driver: credential test not run")
        passwords = list(self.weak_passwords)
        login = self.login_config()
        client = self.web_client(self.web_service)
        try:
            result = credtest.run(lambda pw: client.try_login(login, pw, self.login_username()), self.device_key,
                                  take_attempt, passwords, int(cfg["max_attempts_per_device_per_day"]),
                                  float(cfg["delay_seconds"]), start_at)
        finally:
            client.close()
        source = f"credtest:http:{login['path']}"
        facts.facts["credential_test"] = Fact(result.as_fact(), "observed", source,
                                              f"{result.attempts} login attempt(s); stopped: {result.stopped_reason}")
        if result.accepted is None:
            raise ChannelError(f"undecided: {result.stopped_reason} after {result.tried} of {result.list_size} "
                               f"passwords")
        facts.facts["default_credential_accepted"] = Fact(result.accepted, "observed", source,
                                                          "a listed password was accepted" if result.accepted
                                                          else "every listed password was refused")

    # ---- checks on inputs ------------------------------------------------------------------
    def _check_ports(self, ports: Mapping[str, int]) -> dict[str, int]:
        out = {}
        for service, port in ports.items():
            if service not in self.services:
                raise ValueError(f"{self.kind}: unknown port name {service!r}; known: {sorted(self.services)}")
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                raise ValueError(f"{self.kind}: port {service!r} must be 1..65535, got {port!r}")
            out[service] = port
        return out

    def _check_declared(self, declared: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(declared) - set(FACT_KEYS))
        if unknown:
            raise ValueError(f"{self.kind}: unknown declared fact(s) {unknown}; see device_drivers.facts.FACT_KEYS")
        return dict(declared)


def put(facts: DeviceFacts, key: str, fact: Fact) -> None:
    """Keep the stronger of two facts for one key (device > observed > declared > derived)."""
    current = facts.facts.get(key)
    if current is None or RANK[fact.provenance] > RANK[current.provenance]:
        facts.facts[key] = fact


def _address(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{what} must be an IP address, got {value!r}") from None

