"""One answer to "is this forward / port covered by a required WAN service?" (hardening.model.services),
asked by the verify classification, the planner and AWX-SRV-003 alike: the same table through all three."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_drivers.facts import DeviceFacts, Fact
from firewall.model import PortForward, PortRange, RouterConfig, SourceRef
from firewall.parsers import parse
from hardening.checks.registry import load_all
from hardening.engine.analyze import site_facts_for
from hardening.model import services
from hardening.model.exposure import SiteContext, classify_forwards
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo
from hardening.remediation import planner

CHECKS = load_all()
ELSEWHERE = "192.168.1.97"          # no Allworx address: no check trips, only coverage decides
NFT = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples" / "linux" / "nft_lab_json.txt"

# (required, forward proto, external ports as (lo, hi) or None for every port, covered?)
TABLE = [
    pytest.param(["https"], "tcp", [(443, 443)], True, id="name"),
    pytest.param(["HTTPS"], "tcp", [(443, 443)], True, id="name-upper-case"),
    pytest.param(["Sip"], "udp", [(5060, 5061)], True, id="name-mixed-case"),
    pytest.param(["https"], "udp", [(443, 443)], False, id="name-wrong-proto"),
    pytest.param(["sip"], "tcp_udp", [(5060, 5060)], True, id="tcp_udp-forward-both-declared"),
    pytest.param(["sip"], "any", [(5061, 5061)], True, id="any-forward-both-declared"),
    pytest.param(["blf"], "udp", [(2088, 2088)], True, id="blf-udp"),
    pytest.param(["blf"], "tcp_udp", [(2088, 2088)], False, id="tcp_udp-forward-udp-only-service"),
    pytest.param(["blf", "tcp/2088"], "tcp_udp", [(2088, 2088)], True, id="tcp_udp-forward-union-of-two"),
    pytest.param(["tcp/5060"], "tcp_udp", [(5060, 5060)], False, id="tcp-declaration-tcp_udp-forward"),
    pytest.param(["TCP_UDP/5060"], "tcp_udp", [(5060, 5060)], True, id="tcp_udp-declaration-upper"),
    pytest.param(["tcp_udp/5060"], "udp", [(5060, 5060)], True, id="tcp_udp-declaration-udp-forward"),
    pytest.param(["rtp"], "udp", [(16384, 16393)], True, id="rtp-vendor-range"),
    pytest.param(["RTP"], "udp", [(10000, 20000)], True, id="rtp-lab-range-upper"),
    pytest.param(["rtp"], "udp", [(16384, 32767)], True, id="rtp-msp-range"),
    pytest.param(["rtp"], "udp", [(8000, 9500)], False, id="rtp-partly-outside"),
    pytest.param(["rtp"], "tcp", [(10000, 20000)], False, id="rtp-is-udp-only"),
    pytest.param(["rtp"], "tcp_udp", [(16384, 16393)], False, id="rtp-tcp_udp-forward"),
    pytest.param(["udp/15000-15511"], "udp", [(15000, 15511)], True, id="explicit-range"),
    pytest.param(["udp/15000-15511"], "udp", [(15100, 15100)], True, id="explicit-range-inside"),
    pytest.param(["udp/15000-15511"], "udp", [(15000, 15512)], False, id="explicit-range-partly-outside"),
    pytest.param(["udp/15000-15511"], "tcp", [(15000, 15511)], False, id="explicit-range-wrong-proto"),
    pytest.param(["udp/15000-15511", "UDP/15512-15600"], "udp", [(15000, 15600)], True, id="touching-merged"),
    pytest.param(["udp/15000-15510", "udp/15512-15600"], "udp", [(15000, 15600)], False, id="one-port-gap"),
    pytest.param(["http", "https"], "tcp", [(80, 80), (443, 443)], True, id="two-ranges-two-services"),
    pytest.param(["http"], "tcp", [(80, 80), (443, 443)], False, id="two-ranges-one-service"),
    pytest.param(["nonsense"], "tcp", [(443, 443)], False, id="unknown-covers-nothing"),
    pytest.param(["nonsense", "https"], "tcp", [(443, 443)], True, id="unknown-beside-known"),
    pytest.param([], "tcp", [(443, 443)], False, id="nothing-required"),
    pytest.param(["sip"], "udp", None, False, id="forward-all-never"),
    pytest.param(["vpn"], "other:gre", [(1723, 1723)], False, id="other-proto-never"),
]


def _forward(proto: str, ports, to: str = ELSEWHERE) -> PortForward:
    ext = None if ports is None else [PortRange(lo, hi) for lo, hi in ports]
    return PortForward("dnat", proto, to, external_ports=ext, source_ref=SourceRef("test", 1, rule_id="r1"))


def _facts(required) -> SiteFacts:
    return SiteFacts(SiteInfo(required_wan_services=list(required)))


def _srv003(required, proto: str, ports) -> str:
    """AWX-SRV-003 over every (proto, port) the forward carries, seen open on the server's WAN address."""
    protos = ("tcp", "udp") if proto in ("tcp_udp", "any") else (proto,)
    open_ports = [f"{p}/{n}" for p in protos for lo, hi in ports for n in range(lo, hi + 1)]
    server = DeviceFacts(7, "allworx_server", "pbx", "192.168.1.10")
    server.facts["wan_open_ports"] = Fact(open_ports, "observed", "probe:wan", "")
    facts = SiteFacts(SiteInfo(required_wan_services=list(required)), [server])
    [result] = CHECKS["AWX-SRV-003"].evaluate(facts, Policy())
    return result.status


@pytest.mark.parametrize("required, proto, ports, covered", TABLE)
def test_the_matcher(required, proto, ports, covered):
    coverage = services.required_services(required, Policy()).forward(_forward(proto, ports))
    assert coverage.covered is covered
    assert (coverage.label is not None) is covered
    if covered:
        assert set(coverage.services) <= set(required)


@pytest.mark.parametrize("required, proto, ports, covered", TABLE)
def test_the_three_callers_agree(required, proto, ports, covered):
    fwd = _forward(proto, ports)
    [item] = classify_forwards(RouterConfig("vyos", forwards=[fwd]), SiteContext([], [], list(required)), Policy())
    assert (item["classification"] == "expected") is covered, item["reasons"]
    assert (item["allow_listed"] is not None) is covered
    assert (planner.allow_listed(fwd, _facts(required), Policy()) is not None) is covered
    if ports is not None and proto in ("tcp", "udp", "tcp_udp", "any"):
        assert _srv003(required, proto, ports) == ("pass" if covered else "fail")


def test_port_level_answers_name_the_service():
    required = services.required_services(["SIP", "rtp", "udp/15000-15511"], Policy())
    assert required.port("udp", 5060).label == "SIP"
    assert required.port("tcp", 5061).label == "SIP"
    assert required.port("udp", 16390).label == "rtp"
    assert required.port("udp", 15000).label == "rtp, udp/15000-15511"      # both ranges hold it
    assert required.port("udp", 8999).label is None and required.port("tcp", 16390).label is None
    assert required.port("icmp", 1).label is None and required.port("udp", 0).label is None


def test_rtp_is_the_policys_known_ranges_and_follows_overrides():
    required = services.required_services(["rtp"], Policy())
    assert required.union["udp"] == services.merge(PortRange(lo, hi) for lo, hi in Policy()["rtp_known_ranges"])
    assert required.union["tcp"] == ()
    narrow = services.required_services(["rtp"], Policy({"rtp_known_ranges": [[16384, 16393]]}))
    assert narrow.forward(_forward("udp", [(16384, 16393)])).covered
    assert not narrow.forward(_forward("udp", [(10000, 20000)])).covered
    empty = services.required_services(["rtp"], Policy({"rtp_known_ranges": []}))
    assert not empty.forward(_forward("udp", [(16384, 16393)])).covered
    assert "rtp_known_ranges is empty" in empty.notes[0]


def test_merge_joins_touching_and_overlapping_ranges():
    merged = services.merge([PortRange(20, 30), PortRange(1, 10), PortRange(11, 12), PortRange(25, 40)])
    assert merged == (PortRange(1, 12), PortRange(20, 40))


# --- unknown names: refused by the API, harmless in stored data ----------------------------------

@pytest.mark.parametrize("entry", ["sip", "SIP", "Sip_Tls", "rtp", "RTP", "vpn", "udp/15000-15511", "UDP/5060",
                                   "tcp_udp/1-65535", "Tcp/443", "udp/15511-15000"])
def test_valid_entries(entry):
    assert services.validation_error(entry) is None
    assert re.fullmatch(services.schema_pattern(), entry)


@pytest.mark.parametrize("entry", ["nonsense", "sip ", "sip\n", " sip", "sip; rm -rf /", "udp/0", "udp/65536",
                                   "udp/05060", "icmp/8", "udp/", "udp/5060-", "5060/udp", "tcp/80,443",
                                   "any/5060", "rtp/5060", "", "\u212aey", 5060, None])
def test_invalid_entries(entry):
    why = services.validation_error(entry)
    assert why is not None and "required_wan_services" in why
    assert not (isinstance(entry, str) and re.fullmatch(services.schema_pattern(), entry))


def test_unknown_name_lists_the_known_names():
    [why] = services.validate(["sip", "nonsense", "rtp"])
    assert "'nonsense'" in why
    for name in ("blf", "http", "https", "rtp", "sip", "sip_tls", "vpn"):
        assert name in why


def test_known_names_follow_the_policy():
    policy = Policy({"wan_services": {"Teams": ["udp/3478-3481"]}})
    assert "Teams" in services.known_names(policy)
    assert services.validation_error("teams", policy) is None and services.validation_error("teams") is not None
    assert services.required_services(["TEAMS"], policy).port("udp", 3479).label == "TEAMS"


NEAR = st.one_of(st.text(max_size=24), st.from_regex(services.schema_pattern()),
                 st.builds(lambda a, b, c: a + b + c, st.text("tcpudpTCPUDP_/-", max_size=8),
                           st.sampled_from(["", "/", "rtp", "sip", "5060", "-"]), st.text("0123456789-/ ", max_size=8)))


@given(NEAR)
def test_schema_pattern_documents_exactly_what_is_accepted(text):
    assert (services.validation_error(text) is None) is bool(re.fullmatch(services.schema_pattern(), text))


@given(st.from_regex(services.DECLARATION, fullmatch=True))
def test_every_declaration_of_the_documented_shape_is_accepted(text):
    assert services.validation_error(text) is None
    assert services.parse_declaration(text)


def test_stored_unknown_names_cover_nothing_and_are_noted_never_raised():
    required = services.required_services(["nonsense", 5060, None, "udp/99999", "sip"], Policy())
    assert len(required.notes) == 4 and all("covers nothing" in n for n in required.notes)
    assert required.port("udp", 5060).label == "sip"
    [item] = classify_forwards(RouterConfig("vyos", forwards=[_forward("tcp", [(443, 443)])]),
                               SiteContext([], [], ["nonsense"]), Policy())
    assert item["classification"] == "unexpected" and any("'nonsense'" in r for r in item["reasons"])
    server = DeviceFacts(7, "allworx_server", "pbx", "192.168.1.10")
    server.facts["wan_open_ports"] = Fact(["udp/5060"], "observed", "probe:wan", "")
    [result] = CHECKS["AWX-SRV-003"].evaluate(SiteFacts(SiteInfo(required_wan_services=["nonsense", "sip"]),
                                                        [server]), Policy())
    assert result.status == "pass" and any("'nonsense'" in e.detail for e in result.evidence)


def test_malformed_policy_service_covers_nothing():
    policy = Policy({"wan_services": {"voip": ["udp/five"], "odd": "udp/5070"}})
    voip = services.required_services(["voip"], policy)
    assert voip.union == {"tcp": (), "udp": ()} and "wan_services.voip" in voip.notes[0]
    assert services.required_services(["odd"], policy).port("udp", 5070).covered      # one spec, not a list


# --- the allow-list in the classification and the planner ----------------------------------------

def _lab(required):
    config = parse("linux", {"nft -j list ruleset": NFT.read_text()})
    facts = site_facts_for(config, server_lan_ip="10.77.2.20", server_wan_ip="10.77.1.20")
    facts.site.required_wan_services = list(required)
    return config, facts


def _index(config, comment: str) -> int:
    return next(i for i, f in enumerate(config.forwards) if f.comment == comment)


def test_allow_listed_dangerous_forward_is_expected_with_advice():
    config, facts = _lab(["sip"])
    sip = _index(config, "fwd-pbx-sip")
    item = classify_forwards(config, facts, Policy())[sip]
    assert item["classification"] == "expected" and item["allow_listed"] == "sip"
    assert item["check_ids"] == ["NET-SIP-001"]
    assert any("SIP/BLF/RTP forward open to any source" in a for a in item["advice"])
    assert "allow-list" in item["reasons"][0]
    raw = classify_forwards(config, facts, Policy(), allow_list=False)[sip]
    assert raw["classification"] == "dangerous" and raw["advice"] == [] and raw["allow_listed"] == "sip"


def test_default_plan_keeps_the_rtp_forward_a_required_rtp_needs():
    """SIP calls carry their voice over RTP (issue 14): with only sip required the RTP forward is still never
    removed; with no service required it is."""
    config, facts = _lab(["sip"])
    rtp = _index(config, "fwd-pbx-rtp-range")
    plan = planner.plan(config, facts, Policy())
    assert rtp not in {r["index"] for r in plan["removals"]}
    config, facts = _lab([])
    assert rtp in {r["index"] for r in planner.plan(config, facts, Policy())["removals"]}     # not needed: removed
    config, facts = _lab(["sip", "rtp"])
    plan = planner.plan(config, facts, Policy())
    assert rtp not in {r["index"] for r in plan["removals"]}
    assert classify_forwards(config, facts, Policy())[rtp]["allow_listed"] == "rtp"
    chosen = planner.plan(config, facts, Policy(), indices=[rtp])
    assert chosen["removals"] == [] and "required WAN service rtp" in chosen["refused"][0]["reason"]


def test_planner_refuses_a_forward_carrying_some_ports_of_a_required_service():
    config, facts = _lab(["blf"])
    blf = _index(config, "fwd-pbx-2088-jumped")            # tcp_udp 2088: blf is udp/2088 only
    item = classify_forwards(config, facts, Policy())[blf]
    assert item["classification"] == "dangerous" and item["allow_listed"] is None
    plan = planner.plan(config, facts, Policy())
    assert blf not in {r["index"] for r in plan["removals"]}
    [refusal] = [r for r in plan["refused"] if r["index"] == blf]
    assert "carries ports of required WAN service blf" in refusal["reason"]
    config, facts = _lab([])
    assert blf in {r["index"] for r in planner.plan(config, facts, Policy())["removals"]}
