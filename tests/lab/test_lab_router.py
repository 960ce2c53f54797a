"""The netmiko router driver against the real lab router: forwards, host-key pinning, error paths."""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from device_drivers.exceptions import (
    AuthFailed,
    ChangeRejected,
    DeviceTimeout,
    DeviceUnreachable,
    GarbledOutput,
    HostKeyMismatch,
    UnexpectedPrompt,
)
from device_drivers.routers import Timeouts, netmiko_router

pytestmark = pytest.mark.lab
AUTH_LINE = re.compile(r"^(Accepted|Failed) (password|publickey)", re.MULTILINE)


def _auth_lines(lab) -> list[str]:
    return AUTH_LINE.findall(lab.sshd_log())


def _wait_for_connection_lines(lab, before: int, timeout: float = 2.0) -> int:
    """sshd logs each connection as it is accepted; wait until ours shows up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = lab.sshd_log().count("Connection from ")
        if count > before:
            return count
        time.sleep(0.02)
    return lab.sshd_log().count("Connection from ")


def _ssh_keygen_fingerprint(pub_path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub_path)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


def test_driver_reads_the_three_dnat_forwards(lab):
    with lab.router() as router:
        config = router.get_config()
        facts = router.get_facts()
    forwards = {(f.proto, str(f.external_ports[0]), f.internal_ip, str(f.internal_ports[0]))
                for f in config.forwards}
    assert forwards == {("tcp", "8080", lab.pbx_ip, "8080"), ("udp", "5060", lab.pbx_ip, "5060"),
                        ("tcp", "143", lab.pbx_ip, "143")}
    assert {f.comment for f in config.forwards} == {"fwd-pbx-http", "fwd-pbx-sip", "fwd-pbx-imap"}
    assert config.hostname == facts["hostname"] == f"lab-rtr{lab.id}"
    assert facts["os_version"] == subprocess.run(["uname", "-r"], capture_output=True,
                                                 text=True).stdout.strip()


def test_first_contact_records_the_host_key(lab):
    with lab.router(host_key_pin=None) as router:
        presented = router.presented_host_key
        assert router.run("echo ok").strip() == "ok"
    assert presented == lab.host_key_pin()
    assert presented["sha256"] == _ssh_keygen_fingerprint(lab.run_dir / "ssh_host_ed25519_key.pub")


def test_key_authentication(lab):
    with lab.router(password=None, key_file=str(lab.client_key)) as router:
        assert router.run("id -u").strip() == "0"


def test_trust_on_first_use_keeps_the_first_key_on_reopen(lab):
    driver = lab.driver(host_key_pin=None)
    with lab.netns(lab.app):
        driver.open()
        driver.close()
        first = driver.presented_host_key
        lab.rekey()
        with pytest.raises(HostKeyMismatch):
            driver.open()
    assert first is not None and driver.presented_host_key == first


def test_changed_host_key_is_refused_before_credentials(lab):
    old_pin = lab.host_key_pin()
    new_pin = lab.rekey()
    assert new_pin["key"] != old_pin["key"]
    auth_before, conns_before = _auth_lines(lab), lab.sshd_log().count("Connection from ")
    with lab.netns(lab.app), pytest.raises(HostKeyMismatch) as err:
        lab.driver(host_key_pin=old_pin).open()
    assert (err.value.expected, err.value.presented) == (old_pin["sha256"], new_pin["sha256"])
    assert _wait_for_connection_lines(lab, conns_before) > conns_before   # it did reach sshd
    assert _auth_lines(lab) == auth_before                                   # but never logged in
    with lab.router(host_key_pin=new_pin) as router:                         # the new pin works
        assert router.presented_host_key == new_pin


def test_netmiko_itself_rejects_a_key_swapped_after_the_check(lab, monkeypatch):
    """The race: the pre-check saw the pinned key, the login meets another one."""
    stale = lab.host_key_pin()
    fresh = lab.rekey()
    monkeypatch.setattr(netmiko_router.hostkeys, "verify_host_key", lambda *args: stale)
    auth_before = _auth_lines(lab)
    with lab.netns(lab.app), pytest.raises(HostKeyMismatch) as err:
        lab.driver(host_key_pin=stale).open()
    assert err.value.presented == fresh["sha256"] and err.value.expected == stale["sha256"]
    assert _auth_lines(lab) == auth_before


def test_wrong_password_fails_fast_and_is_not_retried(lab):
    failed_before = lab.sshd_log().count("Failed password")
    start = time.perf_counter()
    with lab.netns(lab.app), pytest.raises(AuthFailed, match="authentication failed"):
        lab.driver(password="wrong-password", connect_retries=3).open()
    assert time.perf_counter() - start < 2.0
    deadline = time.monotonic() + 2
    while lab.sshd_log().count("Failed password") == failed_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lab.sshd_log().count("Failed password") == failed_before + 1


def test_closed_port_is_unreachable(lab):
    with lab.netns(lab.app), pytest.raises(DeviceUnreachable, match="connection refused"):
        lab.driver(port=2222).open()


def test_filtered_port_times_out_after_one_retry(lab):
    """tcp/23 on the WAN side is dropped by the router's iptables rule: silence, not refusal."""
    quick = Timeouts(conn=0.3, banner=0.3, auth=1.0, read=2.0)
    start = time.perf_counter()
    with lab.netns(lab.inet), pytest.raises(DeviceTimeout, match="timed out"):
        lab.driver(host=lab.router_wan, port=23, timeouts=quick, connect_retries=1,
                   retry_delay=0.05).open()
    assert 0.6 <= time.perf_counter() - start < 2.0           # two attempts of 0.3 s each


def test_wrong_device_type_is_an_unexpected_prompt(lab):
    """netmiko's FortiOS class logs in to the Linux router but cannot recognise its CLI."""
    with lab.netns(lab.app), pytest.raises(UnexpectedPrompt, match="wrong device_type"):
        lab.driver("fortinet", connect_retries=0).open()


def test_command_timeout_closes_the_session(lab):
    with lab.router() as router:
        with pytest.raises(DeviceTimeout, match="'sleep 2' did not return"):
            router.run("sleep 2", read_timeout=0.3)
        assert not router.is_open


def test_run_checked_reports_a_failed_command(lab):
    with lab.router() as router:
        assert "table ip portfwd" in router.run_checked("nft list tables")
        with pytest.raises(ChangeRejected, match="exited 1"):
            router.run_checked("nft list table ip no_such_table")


def test_truncated_output_is_garbled_not_a_crash(lab):
    with lab.router() as router:
        # `; echo`: netmiko strips the last line as the prompt, so the output must end in a newline
        outputs = router.gather(["nft -j list ruleset | head -c 200; echo"])
        with pytest.raises(GarbledOutput, match=lab.router_lan):
            router.parse(outputs)
