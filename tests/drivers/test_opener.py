"""device_drivers.opener: the one way from an inventory record to a driver (egress, dispatch, host keys),
and a check that every caller in the code base goes through it."""
from __future__ import annotations

import ast
import socket
import subprocess
from pathlib import Path
from typing import Iterator

import paramiko
import pytest

from device_drivers import DRIVERS, opener
from device_drivers.allworx import (
    AllworxPhoneDriver,
    AllworxServerDriver,
    DriverOptions,
    PxExpanderDriver,
)
from device_drivers.egress import EgressRefused
from device_drivers.exceptions import HostKeyMismatch, UnsupportedDeviceType
from device_drivers.hostkeys import pin_from_key
from device_drivers.inventory import DeviceSpec
from device_drivers.opener import build_driver, open_device
from device_drivers.routers import NetmikoRouterDriver, Timeouts
from tests.ssh_stub import RefuseLogins, refusing_ssh_server

ROOT = Path(__file__).resolve().parents[2]
ROUTER_TYPES = sorted(k for k in DRIVERS if k not in opener.ALLWORX_KINDS)
ALLWORX = {"allworx_server": AllworxServerDriver, "allworx_phone": AllworxPhoneDriver,
           "px_expander": PxExpanderDriver}
QUICK = Timeouts(conn=1.0, banner=1.0, auth=1.0, read=1.0)


def _router(address: str = "127.0.0.1", port: int = 22, pin: dict | None = None, device_type: str = "linux",
            kind: str = "router") -> DeviceSpec:
    return DeviceSpec(7, kind, "edge", address, ports={"ssh": port}, device_type=device_type,
                      credentials={"username": "admin", "password": "pw-1", "enable_secret": "en-2"},
                      host_key_pin=pin)


def _allworx(kind: str, address: str = "127.0.0.1") -> DeviceSpec:
    return DeviceSpec(3, kind, f"my-{kind}", address, ports={"web_admin" if kind == "allworx_server" else "web": 8081},
                      model="Connect 731" if kind == "allworx_server" else "", credentials={"password": "pw"})


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP listener that records whether anyone connected."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


def _nobody_connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


# ---- egress -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["router", *opener.ALLWORX_KINDS])
def test_egress_refused_before_any_packet(listener, kind):
    port = listener.getsockname()[1]
    spec = _router(port=port) if kind == "router" else _allworx(kind)
    if kind != "router":
        spec.ports = {next(iter(spec.ports)): port}
    with pytest.raises(EgressRefused, match="nothing was sent") as err:
        with open_device(spec, egress_allowed=["10.0.0.0/8"], options={"router": {"timeouts": QUICK}}):
            pytest.fail("opened a device outside the allowed networks")
    assert spec.name in str(err.value) and "127.0.0.1" in str(err.value)
    assert _nobody_connected(listener)
    with pytest.raises(EgressRefused):
        build_driver(spec, egress_allowed=[])             # nothing allowed: nothing contacted
    build_driver(spec, egress_allowed=["127.0.0.0/8"])    # inside the allow-list: built (not opened)
    assert _nobody_connected(listener)


def test_public_address_is_refused_by_the_default_allow_list():
    from device_drivers import egress
    with pytest.raises(EgressRefused, match="203.0.113.9"):
        build_driver(_router("203.0.113.9"), egress_allowed=egress.DEFAULT)


# ---- dispatch -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", opener.ALLWORX_KINDS)
def test_allworx_kinds_get_their_driver_policy_weak_list_and_options(kind):
    policy = {"credential_test": {"lockout_signs": ["locked out"], "delay_seconds": 0}}
    quick = DriverOptions(timeout=0.5)
    driver = build_driver(_allworx(kind), egress_allowed=None, policy=policy, weak_passwords=("1234", ""),
                          options={"allworx": {"options": quick}})
    assert type(driver) is ALLWORX[kind] and not driver.is_open
    assert driver.policy is policy and driver.weak_passwords == ["1234", ""] and driver.options is quick
    assert driver.device_id == 3 and driver.name == f"my-{kind}" and driver.credentials == {"password": "pw"}
    assert driver.ports == _allworx(kind).ports
    # a DriverOptions object as options["allworx"] is the driver's options; the mapping form can override policy
    assert build_driver(_allworx(kind), egress_allowed=None, options={"allworx": quick}).options is quick
    other = {"credential_test": {}}
    assert build_driver(_allworx(kind), egress_allowed=None, policy=policy,
                        options={"allworx": {"policy": other}}).policy is other


def test_allworx_kind_wins_over_a_device_type():
    spec = _allworx("allworx_server")
    spec.device_type = "linux"
    assert type(build_driver(spec, egress_allowed=None)) is AllworxServerDriver


@pytest.mark.parametrize("device_type", ROUTER_TYPES)
@pytest.mark.parametrize("kind", ["router", "switch"])
def test_every_router_platform_gets_the_netmiko_driver_with_credentials_port_and_pin(device_type, kind):
    pin = {"type": "ssh-ed25519", "sha256": "SHA256:" + "A" * 43}
    driver = build_driver(_router(port=2222, pin=pin, device_type=device_type, kind=kind), egress_allowed=None,
                          options={"router": {"timeouts": QUICK, "connect_retries": 0}})
    assert type(driver) is NetmikoRouterDriver and not driver.is_open
    assert driver.device_type == device_type and driver.platform.name == device_type
    assert (driver.host, driver.port, driver.username) == ("127.0.0.1", 2222, "admin")
    assert driver._password == "pw-1" and driver._secret == "en-2"
    assert driver.host_key_pin == pin and driver.timeouts is QUICK and driver.connect_retries == 0
    assert build_driver(_router(device_type=device_type), egress_allowed=None).port == 22    # the SSH default


@pytest.mark.parametrize("device_type", ["cisco_xyz", None, "", "allworx_server"])
def test_unknown_type_lists_the_known_ones(device_type):
    with pytest.raises(UnsupportedDeviceType) as err:
        build_driver(_router(device_type=device_type), egress_allowed=None)
    assert err.value.supported == sorted(DRIVERS)
    assert ", ".join(sorted(DRIVERS)) in str(err.value) and repr(str(device_type)) in str(err.value)


def test_unknown_kind_without_a_device_type_is_refused():
    with pytest.raises(UnsupportedDeviceType, match="supported: allworx_phone"):
        build_driver(DeviceSpec(1, "fax", "fax", "127.0.0.1"), egress_allowed=None)


# ---- host keys: callback plumbing (stub driver) --------------------------------------------------

class _Stub:
    """Stands in for NetmikoRouterDriver: open() presents a key or raises the mismatch."""
    presented = {"type": "ssh-ed25519", "key": "AAAA", "sha256": "SHA256:new"}
    mismatch = False
    events: list[str] = []

    def __init__(self, platform, **kwargs):
        self.kwargs, self.presented_host_key = kwargs, None

    def open(self):
        self.events.append("open")
        if self.mismatch:
            raise HostKeyMismatch("127.0.0.1:22", "SHA256:old", "SHA256:new", dict(self.presented))
        self.presented_host_key = dict(self.presented)

    def close(self):
        self.events.append("close")


@pytest.fixture
def stub(monkeypatch):
    _Stub.events, _Stub.mismatch = [], False
    monkeypatch.setattr(opener, "driver_class", lambda key: _Stub)
    return _Stub


def test_first_contact_reports_the_key_to_store(stub):
    calls = []
    spec = _router(pin=None)
    with open_device(spec, egress_allowed=None, on_host_key=lambda *a: calls.append(a)) as drv:
        assert calls == [(spec, stub.presented, False)]       # before the caller uses the session
        assert drv.kwargs["host_key_pin"] is None
    assert stub.events == ["open", "close"]


def test_a_pinned_key_that_matches_reports_nothing(stub):
    calls = []
    pin = {"type": "ssh-ed25519", "key": "AAAA", "sha256": "SHA256:new"}
    with open_device(_router(pin=pin), egress_allowed=None, on_host_key=lambda *a: calls.append(a)) as drv:
        assert drv.kwargs["host_key_pin"] == pin
    assert calls == []


def test_changed_key_is_reported_then_reraised(stub):
    stub.mismatch = True
    calls = []
    spec = _router(pin={"type": "ssh-ed25519", "sha256": "SHA256:old"})
    with pytest.raises(HostKeyMismatch):
        with open_device(spec, egress_allowed=None, on_host_key=lambda *a: calls.append(a)):
            pytest.fail("a changed key must not give a session")
    assert calls == [(spec, stub.presented, True)]
    assert stub.events == ["open", "close"]                   # closed after the failed open too


def test_the_driver_is_closed_when_the_block_raises(stub):
    with pytest.raises(RuntimeError):
        with open_device(_router(), egress_allowed=None):
            raise RuntimeError("caller's fault")
    assert stub.events == ["open", "close"]


# ---- host keys: a real SSH key exchange (paramiko server on loopback) ---------------------------

@pytest.fixture
def ssh_server() -> Iterator[tuple[int, dict, RefuseLogins]]:
    with refusing_ssh_server() as (port, key, iface):
        yield port, pin_from_key(key), iface


def test_a_real_changed_key_is_parked_and_no_credentials_are_sent(ssh_server):
    port, presented, iface = ssh_server
    stale = pin_from_key(paramiko.RSAKey.generate(2048))
    calls = []
    with pytest.raises(HostKeyMismatch) as err:
        with open_device(_router(port=port, pin=stale), egress_allowed=["127.0.0.0/8"],
                         on_host_key=lambda *a: calls.append(a), options={"router": {"timeouts": QUICK}}):
            pytest.fail("a changed key must not give a session")
    assert err.value.presented_key == presented
    assert [(c[1], c[2]) for c in calls] == [(presented, True)]
    assert iface.auth_attempts == 0


# ---- every caller goes through the opener --------------------------------------------------------

# the registry's own lookup: its definition, the opener, and the driver tests that test it
LOOKUPS = {"get_driver", "driver_class", "from_inventory"}
DRIVER_CLASSES = {"NetmikoRouterDriver", "AllworxServerDriver", "AllworxPhoneDriver", "PxExpanderDriver"}
LOOKUP_ALLOWED = {"device_drivers/__init__.py", "device_drivers/opener.py", "device_drivers/allworx/base.py"}
EGRESS_ALLOWED = {"device_drivers/opener.py", "device_drivers/egress.py"}


def _python_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [p for p in listed if (ROOT / p).exists() and not p.startswith(".venv/")]


def _driver_test(path: str) -> bool:
    return path.startswith("tests/drivers/") or path in ("tests/lab/test_driver_contract.py",
                                                         "tests/lab/test_lab_router.py", "tests/lab/labctl.py")


def _called(path: str) -> list[tuple[str, int]]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            out.append((f"{owner}.{name}" if owner else name, node.lineno))
    return out


def test_drivers_are_built_only_by_the_opener():
    bad = []
    for path in _python_files():
        if path in LOOKUP_ALLOWED or _driver_test(path) or path.startswith("device_drivers/routers/"):
            continue
        for name, line in _called(path):
            short = name.rsplit(".", 1)[-1]
            if short in LOOKUPS or short in DRIVER_CLASSES:
                bad.append(f"{path}:{line} calls {name}")
    assert bad == []


def _imported_names(path: str, module: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == module
            for alias in node.names}


def test_device_addresses_are_checked_only_by_the_opener():
    # discovery's subnet check (egress.check_network, no inventory record) is the one other egress question
    bad = []
    for path in _python_files():
        if path in EGRESS_ALLOWED or path.startswith("tests/"):
            continue
        bad += [f"{path}:{line} calls {name}" for name, line in _called(path) if name == "egress.check"]
        bad += [f"{path} imports {name} from device_drivers.egress"
                for name in _imported_names(path, "device_drivers.egress") & {"check", "check_network"}]
    assert bad == []


def test_the_allworx_package_has_no_registry_of_its_own():
    import device_drivers.allworx as allworx
    assert not hasattr(allworx, "DRIVERS")
    assert not (ROOT / "hardening" / "remediation" / "access.py").exists()
