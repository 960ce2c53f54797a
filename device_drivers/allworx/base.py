"""What every Allworx driver shares: inventory inputs, channel loop, fact merging, credential test."""
from __future__ import annotations

import ipaddress
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from device_drivers.allworx import credtest, probes
from device_drivers.allworx.errors import AuthFailed, ChannelError, LockedOut
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
        # this gather's login with the stored password: None (not tried), True (it worked), or why it failed
        self._stored_login: bool | ChannelError | None = None
        self.credential_result: credtest.CredentialTestResult | None = None   # the last gentle test's run

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
        except ChannelError as exc:
            self._stored_login = exc
            client.close()
            raise
        self._stored_login = True
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
               credtest_start_at: int = 0, credtest_first: int | None = None,
               trust_stored: bool = False) -> DeviceFacts:
        """Facts from declared data and every channel; each failing channel lands in facts.errors.
        The gentle credential test runs only when the caller passes its attempt budget, or trust_stored.

        credtest_first: the list position of a password accepted before, tried first. trust_stored: the
        caller holds this login's real password and it is not a default: once it logs in (in this gather),
        no default can (one account), so nothing is guessed; a default accepted before is re-tried alone."""
        wanted = list(self.channels if channels is None else channels)
        unknown = [c for c in wanted if c not in self.channels]
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; {self.kind} has {list(self.channels)}")
        self._stored_login, self.credential_result = None, None
        facts = DeviceFacts(self.device_id, self.kind, self.name, self.address, self.wan_address)
        self._add_declared(facts)
        for channel in self.channels:
            if channel in wanted:
                self._run(facts, channel, getattr(self, f"_gather_{channel}"))
        if take_attempt is not None or trust_stored:
            self._run(facts, "credential_test", lambda f: self._credential_test(
                f, take_attempt, credtest_start_at, credtest_first, trust_stored))
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

    def _credential_test(self, facts: DeviceFacts, take_attempt: credtest.TakeAttempt | None, start_at: int,
                         first: int | None = None, trust_stored: bool = False) -> None:
        login = self.login_config()
        source = f"credtest:http:{login['path']}"
        stored_refused = False
        if first is not None and not 0 <= first < len(self.weak_passwords or ()):
            first = None                         # the list was shortened since: nothing known to re-try
        if trust_stored:
            if self._stored_password_logs_in(login):
                if first is None:
                    facts.facts["credential_test"] = Fact(
                        {"attempts": 0, "stopped_reason": None, "skipped": "stored password is not a default"},
                        "derived", "inventory credential", "no default guessed: the stored password logged in")
                    facts.facts["default_credential_accepted"] = Fact(
                        False, "derived", f"inventory credential; login {source}",
                        "the login's stored password is not on the weak list, and logged in during this audit")
                    return
                # a default was accepted before: it stays a fail until a login with it is refused
                self._list_test(facts, take_attempt, start_at, first, True, source, login)
                return
            stored_refused = True
        self._list_test(facts, take_attempt, start_at, first, False, source, login, stored_refused)

    def _stored_password_logs_in(self, login: dict[str, Any]) -> bool:
        """True when the stored password logged in during this gather (the web channel's session, else one
        login now, outside the attempt budget: it is no guess); False when it was refused. Anything else
        (unreachable, timeout, a lockout sign) is raised: the device was not reached, nothing is decided."""
        if self._stored_login is None:
            client = self.web_client(self.web_service)
            try:
                verdict = client.try_login(login, self.credentials.get("password") or "", self.login_username())
            finally:
                client.close()
            if verdict == "locked":
                raise LockedOut(f"{client.base}{login['path']} answered the stored password with a lockout message")
            self._stored_login = True if verdict == "ok" else AuthFailed("the stored password was refused")
        outcome = self._stored_login
        if outcome is True:
            return True
        if isinstance(outcome, AuthFailed) and not isinstance(outcome, LockedOut):
            return False
        raise type(outcome)(outcome.detail)          # as the web channel saw it: not reached, nothing decided

    def _list_test(self, facts: DeviceFacts, take_attempt: credtest.TakeAttempt | None, start_at: int,
                   first: int | None, only_first: bool, source: str, login: dict[str, Any],
                   stored_refused: bool = False) -> None:
        cfg = self.policy.get("credential_test")
        if take_attempt is None:
            why = "the stored password was refused" if stored_refused else "a default was accepted before"
            raise ChannelError(f"undecided: {why} and the appliance runs no credential test (no attempt budget)")
        if not cfg:
            raise ChannelError("no credential-test policy was given to the driver: credential test not run")
        if self.weak_passwords is None:
            raise ChannelError("no weak-password list was given to the driver: credential test not run")
        passwords = list(self.weak_passwords)
        client = self.web_client(self.web_service)
        try:
            result = credtest.run(lambda pw: client.try_login(login, pw, self.login_username()), self.device_key,
                                  take_attempt, passwords, int(cfg["max_attempts_per_device_per_day"]),
                                  float(cfg["delay_seconds"]), start_at, first=first, only_first=only_first)
        finally:
            client.close()
        self.credential_result = result
        fact = result.as_fact()
        if stored_refused:
            fact["stored_password"] = "refused"
        excerpt = ("stopped: accepted" if result.accepted       # not how many before it: that names the entry
                   else f"{result.attempts} login attempt(s); stopped: {result.stopped_reason}")
        facts.facts["credential_test"] = Fact(fact, "observed", source, excerpt)
        if result.accepted is None:
            if result.stopped_reason == credtest.BUDGET_SPENT:
                return          # not a device failure: the checks carry the last verdict forward, or say why not
            raise ChannelError(f"undecided: {result.stopped_reason} after {result.tried} of {result.list_size} "
                               f"passwords")
        if only_first:
            word = ("the stored password logged in and the default accepted before was accepted too"
                    if result.accepted else "the stored password logged in and the default accepted before is refused")
        else:
            word = "a listed password was accepted" if result.accepted else "every listed password was refused"
        facts.facts["default_credential_accepted"] = Fact(result.accepted, "observed", source, word)

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

