"""Driver contract without the lab: dispatcher, pin validation, facts, real error paths on loopback."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from device_drivers import DRIVERS, DeviceDriver, driver_class, get_driver
from device_drivers.exceptions import DeviceTimeout, DeviceUnreachable, DriverError, UnsupportedDeviceType
from device_drivers.hostkeys import check_pin, fingerprint, verify_host_key
from device_drivers.routers import PLATFORMS, NetmikoRouterDriver, Timeouts
from device_drivers.routers.platforms import hostname_from_prompt, parse_facts

FACTS = Path(__file__).parents[1] / "fixtures" / "routers" / "facts"
ED25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIGA6toUZsia9izeT+Py97zzrTFYjRdBoUUHbyscA2xnK"
QUICK = Timeouts(conn=0.5, banner=0.5, auth=1.0, read=2.0)


def test_get_driver_unknown_type_lists_sorted_keys():
    with pytest.raises(UnsupportedDeviceType) as err:
        get_driver("cisco_xyz", host="127.0.0.1", username="u")
    assert err.value.supported == sorted(DRIVERS)
    assert "cisco_xyz" in str(err.value) and ", ".join(sorted(DRIVERS)) in str(err.value)


def test_get_driver_builds_unopened_router_driver():
    driver = get_driver("linux", host="127.0.0.1", username="root", password="secret-pw")
    assert isinstance(driver, NetmikoRouterDriver) and driver.device_type == "linux"
    assert not driver.is_open and driver.presented_host_key is None
    assert "secret-pw" not in repr(driver)
    with pytest.raises(DriverError, match="not open"):
        driver.get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"host": "", "username": "root"}, "host and username"),
    ({"host": "127.0.0.1", "username": "root", "port": 70000}, "port 70000"),
    ({"host": "127.0.0.1", "username": "root", "host_key_pin": {"type": "ssh-dss", "key": "x"}},
     "host_key_pin.type"),
])
def test_bad_driver_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_driver("linux", **kwargs)


def test_pin_validation():
    pin = check_pin({"type": "ssh-ed25519", "key": ED25519})
    assert pin["sha256"] == fingerprint(ED25519) and pin["sha256"].startswith("SHA256:")
    assert check_pin({"type": "ssh-ed25519", "sha256": pin["sha256"]}) == \
        {"type": "ssh-ed25519", "sha256": pin["sha256"]}
    with pytest.raises(ValueError, match="not a ssh-rsa key"):
        check_pin({"type": "ssh-rsa", "key": ED25519})
    with pytest.raises(ValueError, match="does not match"):
        check_pin({"type": "ssh-ed25519", "key": ED25519, "sha256": "SHA256:AAAA"})
    with pytest.raises(ValueError, match="not valid base64"):
        check_pin({"type": "ssh-ed25519", "key": "!!notbase64"})
    with pytest.raises(ValueError, match="needs 'key'"):
        check_pin({"type": "ssh-ed25519"})


def test_every_platform_has_parser_commands_or_a_clear_gap():
    for name, platform in PLATFORMS.items():
        try:
            commands = platform.commands()
        except ModuleNotFoundError:
            continue                      # the parser for this platform has not landed yet
        assert commands and all(isinstance(c, str) and c for c in commands), name


@pytest.mark.parametrize("platform, fixture, expected", [
    ("cisco_ios", "show_version_c1801_ntc.txt",
     {"hostname": "stud-adsl", "os_version": "12.4(6)T2", "model": "1801", "serial": "FHK102KKKKK"}),
    ("cisco_ios", "show_version_isr_iosxe_ntc.txt",
     {"hostname": "AKBTESTW01", "os_version": "16.9.5", "model": "C9500-40X", "serial": "FCW2233FFG3"}),
    ("fortinet", "get_system_status_labvalidation.txt",
     {"hostname": "d2_fw", "os_version": "v6.4.4", "model": "FortiGate-VM64-KVM",
      "serial": "FGVMEVPG2KLL8K76"}),
])
def test_facts_from_recorded_version_output(platform, fixture, expected):
    assert parse_facts(PLATFORMS[platform], (FACTS / fixture).read_text()) == expected


@pytest.mark.parametrize("prompt, host", [
    ("root@lab-rtr1:~#", "lab-rtr1"), ("R1#", "R1"), ("R1(config)#", "R1"),
    ("[admin@MikroTik] >", "MikroTik"), ("ubnt@edge:~$", "edge"), ("FGT60F #", "FGT60F"),
])
def test_hostname_from_prompt(prompt, host):
    assert hostname_from_prompt(prompt) == host


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_service() -> Iterator[Callable[[bytes | None], tuple[int, list[int]]]]:
    """Start a loopback TCP server that greets with `greeting` (None = silent, b"" = close)."""
    servers: list[socket.socket] = []

    def start(greeting: bytes | None) -> tuple[int, list[int]]:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)
        accepted: list[int] = []

        def serve() -> None:
            held = []
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                accepted.append(1)
                if greeting is None:
                    held.append(conn)          # say nothing, keep it open
                else:
                    conn.sendall(greeting)
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1], accepted
    yield start
    for server in servers:
        server.close()


def test_closed_loopback_port_is_unreachable_without_retry():
    driver = NetmikoRouterDriver("linux", "127.0.0.1", "root", "pw", port=_free_port(),
                                 timeouts=QUICK, retry_delay=2.0)
    start = time.perf_counter()
    with pytest.raises(DeviceUnreachable, match="connection refused"):
        driver.open()
    assert time.perf_counter() - start < 1.0          # refused is final: no 2 s retry delay
    assert not driver.is_open


def test_non_ssh_service_is_reported_and_retried_once(fake_service):
    port, accepted = fake_service(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    driver = NetmikoRouterDriver("linux", "127.0.0.1", "root", "pw", port=port, timeouts=QUICK,
                                 connect_retries=1, retry_delay=0.01)
    with pytest.raises(DeviceUnreachable, match="no SSH service") as err:
        driver.open()
    assert err.value.transient and len(accepted) == 2


def test_silent_service_times_out_in_the_banner_phase(fake_service):
    port, accepted = fake_service(None)
    start = time.perf_counter()
    with pytest.raises(DeviceTimeout):
        verify_host_key("127.0.0.1", port, None, timeout=0.3)
    assert 0.25 < time.perf_counter() - start < 2.0 and len(accepted) == 1


def test_registry_covers_every_router_platform_and_resolves():
    assert {name for name, target in DRIVERS.items() if target.endswith(":NetmikoRouterDriver")} \
        == set(PLATFORMS)
    for device_type in DRIVERS:
        assert issubclass(driver_class(device_type), DeviceDriver), device_type
