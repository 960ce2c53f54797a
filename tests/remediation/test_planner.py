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


# --- Linux plans by content (issue 14) -------------------------------------------------------------

import json  # noqa: E402

from firewall.nft_rules import Ruleset  # noqa: E402
from hardening.remediation import nft_change  # noqa: E402


def _linux_plan(peers=(), required=("sip",), indices=None):
    config, facts = _lab()
    facts.site.required_wan_services = list(required)
    facts.site.allowed_sip_peers = list(peers)
    return planner.plan(config, facts, Policy(), indices=indices, ruleset=Ruleset.parse(NFT.read_text()))


def _rules(ruleset, chain="ip portfwd prerouting"):
    return [e.body.get("comment") for e in ruleset.rules(chain)]


def test_sip_forward_open_to_anyone_is_restricted_to_the_allowed_peers_not_removed():
    plan = _linux_plan(peers=["203.0.113.5", "198.51.100.0/24"])
    restricted = {r["comment"] for r in plan["restrictions"]}
    # the SIP forward, the one carrying 5061 among web ports, and the RTP range SIP calls need
    assert restricted == {"fwd-pbx-sip", "fwd-pbx-web-set", "fwd-pbx-rtp-range"}
    assert not restricted & {r["comment"] for r in plan["removals"]}
    assert {r["comment"] for r in plan["removals"]} == {"fwd-pbx-http", "fwd-pbx-imap", "fwd-pbx-2088-jumped"}
    edit = next(e for e in plan["nft"]["edits"] if e["op"] == "replace" and e["rule"]["comment"] == "fwd-pbx-sip")
    added = [x for x in edit["with"]["expr"] if x not in edit["rule"]["expr"]]
    # sorted as nft lists a set back, the network first; placed after the matches, before the dnat
    assert added == [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                "right": {"set": [{"prefix": {"addr": "198.51.100.0", "len": 24}}, "203.0.113.5"]}}}]
    assert next(iter(edit["with"]["expr"][-1])) == "dnat" and edit["with"]["expr"][-2] == added[0]


def test_without_declared_peers_the_sip_forward_is_refused_with_the_reason():
    plan = _linux_plan()
    sip = next(r for r in plan["refused"] if r["comment"] == "fwd-pbx-sip")
    assert "allow-list" in sip["reason"] and "declares none" in sip["reason"]
    assert plan["restrictions"] == []


@pytest.mark.parametrize("required", [("sip", "rtp"), ("sip",)])
def test_rtp_forward_is_never_removed_when_sip_is_required(required):
    config, _facts = _lab()
    rtp = next(i for i, f in enumerate(config.forwards) if f.comment == "fwd-pbx-rtp-range")
    plan = _linux_plan(required=required, indices=[rtp])
    assert plan["removals"] == [] and [r["index"] for r in plan["refused"]] == [rtp]
    assert not any(e["op"] == "delete" and e["rule"].get("comment") == "fwd-pbx-rtp-range"
                   for e in plan["nft"]["edits"])


def test_default_plan_removes_the_sip_helper_and_the_rule_that_sets_it():
    plan = _linux_plan()
    assert plan["helpers"] == ["sip-5060"]
    ops = [(e["op"], e.get("rule", {}).get("chain")) for e in plan["nft"]["edits"]]
    assert ("delete", "sip_helper") in ops and ("delete_object", None) in ops
    assert "delete ct helper ip portfwd sip-5060" in plan["commands"]


def _renumbered(text: str, shift: int = 100) -> Ruleset:
    """The same ruleset after a reload that gave every object a new handle."""
    doc = json.loads(text)
    for item in doc["nftables"]:
        body = next(iter(item.values()))
        if isinstance(body, dict) and "handle" in body:
            body["handle"] += shift
    return Ruleset.parse(json.dumps(doc))


def test_apply_locates_rules_by_content_after_a_reload_renumbered_them():
    plan = _linux_plan()
    change = nft_change.forward(plan["nft"]["edits"], _renumbered(NFT.read_text()))
    deleted = [c["delete"]["rule"]["handle"] for c in change.commands if "rule" in c.get("delete", {})]
    assert 106 in deleted and 108 in deleted and 107 not in deleted       # http, imap; never the SIP forward
    assert _rules(change.expected).count("fwd-pbx-sip") == 1


def test_a_changed_planned_rule_is_a_conflict_and_a_reorder_is_a_stale_scope():
    plan = _linux_plan()
    doc = json.loads(NFT.read_text())
    http = next(i["rule"] for i in doc["nftables"] if i.get("rule", {}).get("comment") == "fwd-pbx-http")
    http["expr"][1]["match"]["right"] = 8081
    with pytest.raises(nft_change.Conflict, match="fwd-pbx-http"):
        nft_change.forward(plan["nft"]["edits"], Ruleset.parse(json.dumps(doc)))
    doc = json.loads(NFT.read_text())
    rules = [i for i in doc["nftables"] if "rule" in i]
    first, second = doc["nftables"].index(rules[0]), doc["nftables"].index(rules[1])
    doc["nftables"][first], doc["nftables"][second] = doc["nftables"][second], doc["nftables"][first]
    stale = nft_change.stale_scope(plan["nft"], Ruleset.parse(json.dumps(doc)))
    assert stale["changed"] == ["ip portfwd prerouting"]
    assert stale["chains"]["ip portfwd prerouting"]["before"][0].startswith("comment 'fwd-pbx-http'")
    assert nft_change.stale_scope(plan["nft"], _renumbered(NFT.read_text())) is None


def test_undo_puts_back_only_this_changes_rules_in_place_and_leaves_later_changes():
    plan = _linux_plan(indices=[0])                       # remove fwd-pbx-http (the first rule) only
    before = Ruleset.parse(NFT.read_text())
    after = nft_change.forward(plan["nft"]["edits"], before).expected
    imap = next(e for e in after.rules("ip portfwd prerouting") if e.body.get("comment") == "fwd-pbx-imap")
    after.entries.remove(imap)                            # closed by hand since
    sip = next(e for e in after.rules("ip portfwd prerouting") if e.body.get("comment") == "fwd-pbx-sip")
    drop = nft_rules_entry({**sip.body, "comment": "drop-added", "expr": [{"drop": None}]}, 500)
    after.entries.insert(after.entries.index(sip), drop)  # a rule added since, before the SIP forward
    undo = nft_change.backward(plan["nft"]["edits"], plan["nft"]["chains"], after)
    assert undo.conflicts == []
    # before its next original neighbour still there (the SIP forward, handle 7): the rule added since keeps
    # its effect, first in the chain
    assert undo.commands == [{"insert": {"rule": {**plan["nft"]["edits"][0]["rule"], "handle": 7}}}]
    assert _rules(undo.expected)[:4] == ["drop-added", "fwd-pbx-http", "fwd-pbx-sip", "fwd-pbx-ssh-restricted"]
    assert "fwd-pbx-imap" not in _rules(undo.expected)


def test_undo_refuses_when_no_neighbour_is_left_and_the_automatic_revert_appends():
    plan = _linux_plan(indices=[0])
    after = nft_change.forward(plan["nft"]["edits"], Ruleset.parse(NFT.read_text())).expected
    chain = after.rules("ip portfwd prerouting")
    for entry in chain[1:]:
        after.entries.remove(entry)
    chain[0].body = {**chain[0].body, "comment": "someone else's", "expr": [{"drop": None}]}
    undo = nft_change.backward(plan["nft"]["edits"], plan["nft"]["chains"], after)
    assert undo.commands == [] and "none of its neighbours" in undo.conflicts[0]
    lenient = nft_change.backward(plan["nft"]["edits"], plan["nft"]["chains"], after, lenient=True)
    assert lenient.conflicts == [] and "appended" in lenient.guesses[0]
    assert _rules(lenient.expected) == ["someone else's", "fwd-pbx-http"]


def nft_rules_entry(body, handle):
    from firewall.nft_rules import Entry
    return Entry("rule", body, handle)


ROS_EXPORT = """/ip firewall nat
add action=dst-nat chain=dstnat comment="pbx sip" dst-port=5060 in-interface=ether1 protocol=udp \\
    to-addresses=192.168.88.20 to-ports=5060
add action=dst-nat chain=dstnat comment="pbx admin" dst-port=8080 in-interface=ether1 protocol=tcp \\
    to-addresses=192.168.88.20 to-ports=8080
/ip firewall service-port
set sip disabled=no
"""


def _ros(peers):
    config = parse("mikrotik_routeros", {"/export": ROS_EXPORT})
    facts = site_facts_for(config, server_lan_ip="192.168.88.20", allowed_sip_sources=peers)
    facts.site.required_wan_services = ["sip"]
    return config, facts


def test_a_rendered_plan_restricts_sip_removes_the_admin_forward_and_turns_the_alg_off():
    """RouterOS (rendered for a person): the SIP forward open to anyone is limited to the carriers, the admin
    page forward is removed, and the SIP service-port helper is disabled; each by the platform's renderer."""
    config, facts = _ros(["198.51.100.0/24", "203.0.113.5/32"])
    assert config.sip_alg.enabled is True
    plan = planner.plan(config, facts, Policy())
    assert [r["comment"] for r in plan["restrictions"]] == ["pbx sip"]
    assert [r["comment"] for r in plan["removals"]] == ["pbx admin"]
    assert plan["helpers"] == ["sip"] and plan["live_apply"] is False
    text = "\n".join(plan["commands"])
    assert "remove [find where" in text and 'comment="pbx admin"' in text
    assert "198.51.100.0/24" in text and "203.0.113.5" in text
    assert "/ip firewall service-port set sip disabled=yes" in text


def test_a_restriction_the_platform_cannot_express_is_refused_not_dropped():
    """IOS static NAT cannot be limited by source (the renderer says so): that forward is refused with the
    reason, the rest of the plan stands."""
    config = parse("cisco_ios", {"show running-config": "interface Gi0/1\n ip nat outside\n!\n"
                                 "ip nat inside source static udp 10.0.0.20 5060 interface Gi0/1 5060\n"})
    facts = site_facts_for(config, server_lan_ip="10.0.0.20", allowed_sip_sources=["198.51.100.0/24"])
    facts.site.required_wan_services = ["sip"]
    plan = planner.plan(config, facts, Policy())
    assert plan["restrictions"] == [] and plan["removals"] == []
    assert any("cannot be rendered" in r["reason"] for r in plan["refused"])
