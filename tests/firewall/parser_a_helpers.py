"""Helpers for the group-A parser tests (IOS, ASA, MikroTik, Junos, FortiOS): samples and views."""
from __future__ import annotations

from pathlib import Path

import yaml

from firewall.model import PortForward, Vlan

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "router-samples"


def read_sample(platform: str, name: str) -> str:
    return (SAMPLE_DIR / platform / name).read_text()


def expected_rows(platform: str, name: str) -> list[dict]:
    """The upstream TextFSM expectation saved next to a sample (`<name>.expected.yml`)."""
    return yaml.safe_load((SAMPLE_DIR / platform / name).read_text())["parsed_sample"]


def span(ranges) -> str | None:
    return None if ranges is None else ",".join(map(str, ranges))


def fwd(f: PortForward) -> tuple:
    """(kind, proto, ext ip, ext if, ext ports, int ip, int ports, enabled, line, rule id)."""
    return (f.kind, f.proto, f.external_ip, f.external_if, span(f.external_ports), f.internal_ip,
            span(f.internal_ports), f.enabled, f.source_ref.line, f.source_ref.rule_id)


def vlan_view(v: Vlan) -> tuple:
    return (v.vlan_id, v.name, v.interface, v.subnet, v.voice)


def nth_line(text: str, number: int) -> str:
    """The 1-based line `number` of `text`, as a SourceRef would quote it."""
    return text.split("\n")[number - 1].rstrip("\r")
