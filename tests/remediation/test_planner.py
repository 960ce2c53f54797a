"""Planner refusals (allow-list, management path) and the per-device lock."""
from pathlib import Path

import pytest

from firewall.model import Interface, PortForward, PortRange, SourceRef
from firewall.parsers import parse
from hardening.engine.analyze import site_facts_for
from hardening.model.policy import Policy
from hardening.remediation import locks, planner

NFT = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples" / "linux" / "nft_lab_json.txt"


def _lab():
    config = parse("linux", {"nft -j list ruleset": NFT.read_text()})
    facts = site_facts_for(config, server_lan_ip="10.77.2.20", server_wan_ip="10.77.1.20")
    facts.site.required_wan_services = ["sip"]
    return config, facts


def test_default_plan_removes_dangerous_and_keeps_the_allow_listed():
    config, facts = _lab()
    plan = planner.plan(config, facts, Policy())
    removed = {r["rule"] for r in plan["removals"]}
    assert "ip portfwd prerouting handle 6" in removed and "ip portfwd prerouting handle 8" in removed
    assert "ip portfwd prerouting handle 7" not in removed                     # udp 5060: sip is required
    assert len(plan["diff"]["after"]) == len(plan["diff"]["before"]) - len(plan["removals"])
    assert all(c.startswith("delete rule ") for c in plan["commands"])


def test_selecting_an_allow_listed_forward_is_refused():
    config, facts = _lab()
    plan = planner.plan(config, facts, Policy(), indices=[1])
    assert plan["removals"] == [] and "allow-list" in plan["refused"][0]["reason"]


def test_forwards_that_carry_management_are_refused():
    config, facts = _lab()
    config.interfaces.append(Interface("wan0", ["192.0.2.1/24"], "wan"))
    ssh = PortForward("dnat", "tcp", "192.0.2.1", external_ports=[PortRange(22, 22)],
                      source_ref=SourceRef("nft -j list ruleset", rule_id="ip portfwd prerouting handle 99"))
    to_appliance = PortForward("dnat", "tcp", "10.77.1.10", external_ports=[PortRange(8443, 8443)],
                               source_ref=SourceRef("nft -j list ruleset", rule_id="ip portfwd prerouting handle 98"))
    config.forwards += [ssh, to_appliance]
    n = len(config.forwards)
    plan = planner.plan(config, facts, Policy(), indices=[n - 2, n - 1], appliance_ip="10.77.1.10")
    reasons = [r["reason"] for r in plan["refused"]]
    assert plan["removals"] == [] and "SSH port 22" in reasons[0] and "appliance itself" in reasons[1]


def test_unknown_index_is_an_error():
    config, facts = _lab()
    with pytest.raises(ValueError, match="no forward with index"):
        planner.plan(config, facts, Policy(), indices=[999])


def test_device_lock_is_exclusive_and_expires(app, site, client, auth):
    dev = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                               "address": "192.168.1.1", "device_type": "linux"},
                      headers=auth("admin")).json
    db = app.extensions["db"]
    locks.acquire(db, dev["id"], "first", 60)
    with pytest.raises(locks.LockHeld, match="first"):
        locks.acquire(db, dev["id"], "second", 60)
    locks.release(db, dev["id"], "first")
    locks.acquire(db, dev["id"], "second", -1)          # already expired: the next taker wins
    locks.acquire(db, dev["id"], "third", 60)
