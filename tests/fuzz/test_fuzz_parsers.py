"""Hostile input for every parser the property tests in tests/firewall and tests/hardening leave out.

The property: arbitrary and mutated-real input either parses or raises the parser's documented error
type (ParseError, WebMapError, Garbled, CronError, ValueError where that is the contract, or None
for "not a SIP request"), never another exception, and never hangs (the hypothesis deadline).

Already fuzzed elsewhere, so not repeated here: damaged real samples of the ten router platforms
given as pasted text (tests/firewall/test_parser_properties_a.py / _b.py), arbitrary text for the
group-B platforms, and arbitrary bytes into the SIP sensor's parser (tests/hardening/test_sensor.py).
New here: every platform's output keyed by each of its real commands and several outputs at once,
arbitrary text for the group-A platforms, the netfilter/ip low-level parsers (text and JSON trees),
platform sniffing, the Allworx form parser, web-map codec and SNMP facts, the SIP reply parser of
the probes, the simulator's SIP request handling, the sensor's mutated-real requests, replies, log
reader and scanner check, cron expressions, SSH host-key pins and router fact patterns.

Runs derandomized (the same examples every run: a CI failure reproduces); set AWXH_FUZZ_RANDOM=1
to explore new examples locally, AWXH_FUZZ_EXAMPLES to run more of them.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firewall.model import ParseError, RouterConfig
from firewall.parsers import PARSER_MODULES, detect_platform, get_parser, iplink, iptables, nft_json, nftables

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "router-samples"
EXAMPLES = int(os.environ.get("AWXH_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 40, deadline=timedelta(seconds=2), database=None,
                derandomize=not os.environ.get("AWXH_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])
FEW = settings(FUZZ, max_examples=EXAMPLES or 15)
MANY = settings(FUZZ, max_examples=EXAMPLES or 150)

# router-samples directory -> parser platform name (the registry's keys)
SAMPLE_DIRS = {"cisco_asa": "cisco_asa", "cisco_ios": "cisco_ios", "fortinet": "fortinet", "juniper": "juniper_junos",
               "linux": "linux", "mikrotik": "mikrotik_routeros", "openwrt": "openwrt", "pfsense": "pfsense",
               "edgeos": "ubiquiti_edgerouter", "vyos": "vyos"}
GROUP_A = ("cisco_ios", "cisco_asa", "mikrotik_routeros", "juniper_junos", "fortinet")   # no arbitrary-text test yet


def _sample_texts(directory: str) -> list[str]:
    paths = sorted(p for p in (SAMPLES / directory).iterdir()
                   if p.is_file() and not p.name.endswith((".md", ".yml", ".yaml")))
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths]


SEEDS = {platform: _sample_texts(directory) for directory, platform in SAMPLE_DIRS.items()}
ALL_SEEDS = [text for texts in SEEDS.values() for text in texts]


# --- mutation strategies --------------------------------------------------------------------------

NASTY = ["\x00", "\r", "\n", "\r\n", "\t", "{", "}", "[", "]", "\"", "'", "<", ">", "&", ";", "#", "!", "/", "\\",
         ":", "=", "-", ",", " ", "0", "65535", "65536", "-1", "999999999999", "0x1f", "..", "%", "$", "*",
         "\u00a0", "\ufeff", "\u2028", "\udcff", "é", "1.2.3.4", "300.1.1.1", "::", "/33", "tcp", "udp", "any"]


@st.composite
def mutated(draw, seeds: list[str], max_steps: int = 4) -> str:
    """A real text with lines deleted, duplicated, swapped, cut, or junk spliced in."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, max_steps))):
        lines = text.split("\n")
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["drop", "dup", "swap", "cut", "splice", "splice", "line", "repeat"]))
        if action == "drop" and len(lines) > 1:
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "cut":
            return text[:draw(st.integers(0, len(text)))]
        elif action == "splice":
            junk = draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=12),
                                  st.binary(max_size=12).map(lambda b: b.decode("latin-1"))))
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + junk + lines[i][cut:]
        elif action == "line":
            lines.insert(i, draw(st.text(max_size=60)))
        elif action == "repeat":                      # one line many times: quadratic behaviour shows
            lines[i:i + 1] = [lines[i]] * draw(st.integers(2, 200))
        text = "\n".join(lines)
    return text


def mutated_bytes(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return mutated([s.decode("latin-1") for s in seeds]).map(lambda t: t.encode("latin-1", "replace"))


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                      st.text(max_size=20), st.sampled_from(["tcp", "udp", "dnat", "nat", "ip", "inet", "prerouting",
                                                             "10.0.0.1", "1.2.3.4/33", "5060", "eth0"]))
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                        max_leaves=20)


@st.composite
def mutated_json(draw, seeds: list[object]) -> object:
    """A real JSON document with one to three nodes replaced, removed or retyped."""
    doc = json.loads(json.dumps(draw(st.sampled_from(seeds))))

    def nodes(value, path=()):
        yield path
        if isinstance(value, dict):
            for key, child in value.items():
                yield from nodes(child, path + (key,))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from nodes(child, path + (index,))

    for _ in range(draw(st.integers(1, 3))):
        paths = list(nodes(doc))
        path = draw(st.sampled_from(paths))
        if not path:
            return draw(JSON_ANY)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_ANY)
    return doc


# --- router parsers -------------------------------------------------------------------------------

def _parses_or_parse_error(call, *args) -> RouterConfig | None:
    try:
        cfg = call(*args)
    except ParseError as exc:
        assert str(exc), "a ParseError must say what is wrong"
        return None
    assert isinstance(cfg, RouterConfig)
    json.dumps(cfg.to_dict())              # the API serialises every result
    return cfg


@pytest.mark.parametrize("platform", sorted(PARSER_MODULES))
@FUZZ
@given(data=st.data())
def test_each_real_command_output_mutated(platform, data):
    """The output under every command the driver really runs (not only pasted text)."""
    module = get_parser(platform)
    command = data.draw(st.sampled_from(module.COMMANDS))
    text = data.draw(mutated(SEEDS[platform]))
    _parses_or_parse_error(module.parse, {command: text})


@pytest.mark.parametrize("platform", sorted(PARSER_MODULES))
@FEW
@given(data=st.data())
def test_several_outputs_at_once(platform, data):
    module = get_parser(platform)
    commands = data.draw(st.lists(st.sampled_from(["", *module.COMMANDS]), min_size=2, max_size=4, unique=True))
    outputs = {c: data.draw(st.one_of(mutated(SEEDS[platform]), mutated(ALL_SEEDS), st.just(""))) for c in commands}
    _parses_or_parse_error(module.parse, outputs)


@pytest.mark.parametrize("platform", GROUP_A)
@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text_group_a(platform, text):
    _parses_or_parse_error(get_parser(platform).parse, {"": text})


@FUZZ
@given(text=st.one_of(mutated(ALL_SEEDS), st.text(max_size=300)))
def test_platform_detection(text):
    for platform in PARSER_MODULES:
        score = get_parser(platform).sniff(text)
        assert isinstance(score, (int, float)) and 0.0 <= score <= 1.0, (platform, score)
    try:
        platform, confidence = detect_platform(text)
    except ParseError:
        return
    assert platform in PARSER_MODULES and 0.2 <= confidence <= 1.0


LINUX = {name: (SAMPLES / "linux" / name).read_text() for name in
         ("iptables_lab_save.txt", "iptables_lab_nat_list.txt", "iptables_nat_list_docker_portmap_moby.txt",
          "nft_lab_text.txt", "nft_lab_text_handles.txt", "nft_ruleset_fw4_redirect.txt", "nft_lab_ruleset.nft",
          "ip_addr_vlan_subif_insights.txt")}
NFT_JSON = [json.loads((SAMPLES / "linux" / name).read_text())
            for name in ("nft_lab_json.txt", "nft_lab_iptables_nft_json.txt")]
IP_JSON = [json.loads((SAMPLES / "linux" / "ip_lab_addr_json.txt").read_text())]


@FUZZ
@given(text=mutated([LINUX["iptables_lab_save.txt"]]))
def test_iptables_save(text):
    _parses_or_parse_error(iptables.parse_save, text)


@FUZZ
@given(text=mutated([LINUX["iptables_lab_nat_list.txt"], LINUX["iptables_nat_list_docker_portmap_moby.txt"]]))
def test_iptables_list(text):
    _parses_or_parse_error(iptables.parse_list, text)


@FUZZ
@given(text=mutated([LINUX[name] for name in ("nft_lab_text.txt", "nft_lab_text_handles.txt",
                                              "nft_ruleset_fw4_redirect.txt", "nft_lab_ruleset.nft")]))
@example(text="table ip nat {\n" * 2000)                       # deep blocks: no recursion
@example(text="table ip nat {\nchain p {\n" + "tcp dport { " * 500 + "\n}\n}")
def test_nft_text(text):
    _parses_or_parse_error(nftables.parse_text, text)


@MANY
@given(doc=st.one_of(mutated_json(NFT_JSON), JSON_ANY, st.fixed_dictionaries({"nftables": st.lists(JSON_ANY)})))
def test_nft_json_trees(doc):
    """Valid JSON of the wrong shape is the likely hostile input: every node may be anything."""
    _parses_or_parse_error(nft_json.parse_json, json.dumps(doc))


@FUZZ
@given(text=mutated([json.dumps(d, indent=1) for d in NFT_JSON]))
@example(text='{"nftables": ' + "[" * 100000 + "]" * 100000 + "}")
def test_nft_json_text(text):
    _parses_or_parse_error(nft_json.parse_json, text)


@MANY
@given(doc=st.one_of(mutated_json(IP_JSON), JSON_ANY))
@example(doc=[{"ifname": "eth0", "addr_info": [{"local": "10.0.0.1", "prefixlen": 99}]}])
@example(doc=[{"ifname": "eth0", "addr_info": [{"local": "not-an-ip", "prefixlen": "24"}]}])
def test_ip_json_trees(doc):
    _parses_or_parse_error(iplink.parse_json, json.dumps(doc))


@FUZZ
@given(text=mutated([LINUX["ip_addr_vlan_subif_insights.txt"]]))
def test_ip_text(text):
    _parses_or_parse_error(iplink.parse_text, text)


def test_billion_laughs_in_pfsense_config_is_a_parse_error_quickly():
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
            + ']><pfsense><nat>&lol9;</nat></pfsense>')
    started = time.monotonic()
    with pytest.raises(ParseError):
        get_parser("pfsense").parse({"cat /conf/config.xml": bomb})
    assert time.monotonic() - started < 2


# --- Allworx: form parser, web-map codec, SNMP facts ---------------------------------------------

from device_drivers.allworx import forms, snmp, webmap  # noqa: E402
from device_drivers.allworx.errors import Garbled  # noqa: E402
from simulator import html  # noqa: E402


def _value_for(setting: webmap.Setting):
    enc = setting.encoding
    kind = enc["type"]
    if kind == "checkbox_group":
        return {name: True for name in enc["fields"]}
    if kind in ("checkbox", "checkbox_inverted"):
        return True
    if kind in ("select", "bool_select"):
        return next(iter(enc["options"]))
    if kind == "int":
        return enc["min"]
    return "s3cret"


def _real_pages() -> list[str]:
    """Every settings page of every web-map line, as the simulator renders it, plus login and status pages."""
    pages = []
    maps = [webmap.for_line(line) for line in webmap.lines()] + [webmap.for_section(k) for k in ("phone", "px")]
    for site_map in maps:
        for name, page in site_map.pages.items():
            settings_ = site_map.page_settings(name)
            if settings_:
                values = {s.name: _value_for(s) for s in settings_}
                pages.append(html.page(page.get("menu", name), html.settings_form(page["path"], settings_, values,
                                                                                  note="Saved.")))
    pages.append(html.page("Allworx&nbsp;Connect 731", html.login_form("/login", [("user", "text"),
                                                                                   ("password", "password")]),
                           raw_title=True))
    pages.append(html.page("Status", html.cells({"Software Version": "8.3.5.4", "MAC": "00:0A:DD:01:02:03"})))
    return pages


PAGES = _real_pages()
ALL_SETTINGS = sorted({(m.line, s.name): s for m in [webmap.for_line(line) for line in webmap.lines()] +
                       [webmap.for_section(k) for k in ("phone", "px")] for s in m.settings.values()}.items())


def _parse_page(text: str) -> forms.ParsedPage | None:
    try:
        page = forms.parse(text)
    except Garbled as exc:
        assert "garbled" in str(exc)
        return None
    assert isinstance(page, forms.ParsedPage)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in page.values.items())
    return page


@MANY
@given(text=st.one_of(mutated(PAGES), st.text(max_size=300),
                      st.lists(st.sampled_from(["<", ">", "<!", "<![", "[", "]", "CDATA", "--", "<?", "</", "a", "=",
                                                "\"", "&", "#", ";", "x", "<select name=s>", "<option selected>",
                                                "<input name=n type=checkbox checked>", "<title>", "<p class=message>",
                                                "<td id=i>"]), max_size=30).map("".join)))
@example(text="<![foo[ bar")                                  # html.parser: unknown marked-section keyword
@example(text="<html><![if !IE]><title>x</title>")
def test_allworx_form_parser(text):
    _parse_page(text)


@FUZZ
@given(data=st.data())
def test_webmap_decode_of_parsed_hostile_pages(data):
    """The real read path: a (hostile) page is parsed, then every setting on it is decoded."""
    page = _parse_page(data.draw(mutated(PAGES)))
    if page is None:
        return
    (_key, setting) = data.draw(st.sampled_from(ALL_SETTINGS))
    for present in (None, page.fields):
        try:
            webmap.decode(setting, page.values, present)
        except webmap.WebMapError:
            pass


@MANY
@given(data=st.data())
def test_webmap_decode_arbitrary_values(data):
    (_key, setting) = data.draw(st.sampled_from(ALL_SETTINGS))
    fields = setting.fields() + ["other"]
    values = data.draw(st.dictionaries(st.sampled_from(fields), st.one_of(
        st.text(max_size=20), st.sampled_from(["", "on", "1" * 5000, "٣", "²", " 5 ", "-0", "1e3", "0x10"])),
        max_size=4))
    try:
        webmap.decode(setting, values, data.draw(st.none() | st.sets(st.sampled_from(fields))))
    except webmap.WebMapError:
        pass


@FUZZ
@given(version=st.one_of(st.text(max_size=30), st.from_regex(r"\A[0-9.]{0,12}\Z"), st.none()))
def test_webmap_version_lines(version):
    try:
        line = webmap.line_for(version)
    except webmap.WebMapError:
        return
    assert line in webmap.lines()


SNMPREC = (ROOT / "tests" / "fixtures" / "allworx" / "snmp" / "connect731.snmprec").read_text()


def _real_reading() -> snmp.SnmpReading:
    values = dict(line.split("|", 2)[::2] for line in SNMPREC.splitlines() if line.count("|") >= 2)
    reading = snmp.SnmpReading(scalars={o: values[o] for o in (snmp.SYS_DESCR, snmp.SYS_OBJECT_ID) if o in values})
    reading.scalars[snmp.APPL_VERSION] = "8.3.5.4"
    for oid, value in values.items():
        if oid.startswith(snmp.IF_DESCR + "."):
            reading.if_descr[oid.rsplit(".", 1)[1]] = value
        elif oid.startswith(snmp.IF_PHYS_ADDRESS + "."):
            reading.if_phys[oid.rsplit(".", 1)[1]] = snmp._mac(value)
    return reading


REAL_READING = _real_reading()
SNMP_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["LAN port (eth0)", "WAN port (eth1)", "LAN port ()",
                                                             "WAN port (a b)", "00:00:00:00:00:00", ":", "",
                                                             ".1.3.6.1.4.1.38516.2", "1.3.6.1.4.1.38516"]))


@FUZZ
@given(data=st.data())
def test_snmp_values_to_facts(data):
    """What an agent (possibly not Allworx, possibly hostile) answers becomes facts; nothing raises."""
    reading = snmp.SnmpReading(scalars=dict(REAL_READING.scalars), if_descr=dict(REAL_READING.if_descr),
                               if_phys=dict(REAL_READING.if_phys))
    for table in (reading.scalars, reading.if_descr, reading.if_phys):
        for _ in range(data.draw(st.integers(0, 3))):
            key = data.draw(st.one_of(st.sampled_from(sorted(table) or ["1"]), st.text(max_size=6)))
            if data.draw(st.booleans()):
                table[key] = data.draw(SNMP_TEXT)
            else:
                table.pop(key, None)
    reading.if_phys = {k: snmp._mac(v.encode("utf-8", "replace").hex()) if data.draw(st.booleans()) else v
                       for k, v in reading.if_phys.items()}
    facts = snmp.to_facts(reading)
    assert set(facts) <= {"model", "sys_object_id", "software_version", "port_roles", "mac"}
    assert isinstance(snmp.is_allworx(reading), bool)
    if "port_roles" in facts:
        assert set(facts["port_roles"].value.values()) <= {"lan", "wan"}


def test_real_reading_still_gives_the_real_facts():
    facts = snmp.to_facts(REAL_READING)
    assert facts["port_roles"].value == {"eth0": "lan", "eth1": "wan"} and facts["mac"].value == "00:0A:DD:05:41:6E"


# --- SIP: the probes' reply parser, the simulator, the sensor -------------------------------------

from device_drivers import probe  # noqa: E402
from hardening.sensor import sip as sensor_sip  # noqa: E402
from simulator import sip as sim_sip  # noqa: E402

OPTIONS = probe._options_request("10.1.1.1", 5060, ("10.1.1.9", 40000), "call-1")
REGISTER = (b"REGISTER sip:10.77.1.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.77.1.20:5061;branch=z9hG4bK-2\r\n"
            b"From: <sip:100@10.77.1.10>;tag=1\r\nTo: <sip:100@10.77.1.10>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\n"
            b"Contact: <sip:100@10.77.1.20:5061>\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n")
INVITE_LF = (b"INVITE sip:200@10.77.1.10 SIP/2.0\nv: SIP/2.0/UDP 10.77.1.20\nf: <sip:a@b>;tag=9\nt: <sip:200@c>\n"
             b"i: inv-1\nCSeq: 7 INVITE\nUser-Agent: sipcli/v1.8\n  folded continuation\nl: 0\n\n")
REQUESTS = [OPTIONS, REGISTER, INVITE_LF]
REPLIES = [sim_sip.build_response(m, h, "Allworx Connect 731/8.3.5.4", "allworx").encode()
           for m, h in (sim_sip.parse_request(r) for r in REQUESTS)]
SIP_BYTES = st.one_of(mutated_bytes(REQUESTS + REPLIES), st.binary(max_size=600),
                      st.lists(st.sampled_from([b"SIP/2.0 200 OK", b"OPTIONS sip:x SIP/2.0", b"\r\n", b"\n", b"\r",
                                                b":", b"Call-ID: c", b"Via: v", b" ", b"\t", b"\xff", b"\x00"]),
                               max_size=20).map(b"".join))


@MANY
@given(data=SIP_BYTES)
@example(data=b"SIP/2.0 200 OK\r\n" + b"X: " + b"a" * 65000)
@example(data=b"\r\n\r\n")
def test_probe_reply_parser(data):
    status, headers = probe._parse_response(data)
    assert (status == "" and headers == {}) or status.startswith("SIP/2.0 ")
    assert all(k == k.lower() for k in headers)


def test_probe_reply_parser_reads_a_real_reply():
    status, headers = probe._parse_response(REPLIES[0])
    assert status == "SIP/2.0 200 OK" and headers["call-id"] == "call-1" and headers["server"].startswith("Allworx")


def _header_lines(message: str) -> list[str]:
    return message.split("\r\n\r\n", 1)[0].split("\r\n")


@MANY
@given(data=SIP_BYTES)
@example(data=b"OPTIONS sip:x SIP/2.0\r\nVia: a\nInjected: yes\r\nCall-ID: c\r\n\r\n")
@example(data=b"OPTIONS sip:x SIP/2.0\r\nVia: a\rInjected: yes\r\n\r\n")
def test_simulator_request_handling(data):
    """The simulator's parse + reply: a request's header values cannot add lines to the reply."""
    parsed = sim_sip.parse_request(data)
    if parsed is None:
        return
    method, headers = parsed
    assert method and method == method.upper()
    reply = sim_sip.build_response(method, headers, "Allworx", "realm")
    copied = sum(len(headers.get(name, [])) for name in sim_sip.COPIED)
    fixed = {"OPTIONS": 4, "REGISTER": 4}.get(method, 3)            # status, Server, Allow/WWW-Authenticate, length
    assert len(_header_lines(reply)) == copied + fixed, reply
    assert all("\r" not in line and "\n" not in line for line in _header_lines(reply))


@MANY
@given(data=mutated_bytes(REQUESTS))
def test_sensor_parses_mutated_real_requests(data):
    """Arbitrary bytes are fuzzed in tests/hardening/test_sensor.py; here near-valid requests, and the reply."""
    request = sensor_sip.parse_request(data)
    if request is None:
        return
    assert request.method.isupper() and len(request.headers) <= sensor_sip.MAX_HEADERS
    assert all(len(v) <= sensor_sip.MAX_VALUE and not any(c in v for c in "\r\n\x00") for v in request.headers.values())
    reply = sensor_sip.ok_reply(request).decode("utf-8")
    copied = sum(1 for name in ("via", "from", "to", "call-id", "cseq") if request.header(name))
    assert len(_header_lines(reply)) == copied + 2                       # status line + Content-Length


from hardening import sensor  # noqa: E402
from hardening.checks.site import sip_scanning  # noqa: E402
from hardening.model.site import SiteFacts, SiteInfo  # noqa: E402
from hardening.sensor import signatures  # noqa: E402
from hardening.sensor.store import EVENTS_FILE, sensor_dir  # noqa: E402

EVENT = {"time": "2024-05-01T10:00:00+00:00", "source": "203.0.113.9", "transport": "udp", "method": "OPTIONS",
         "uri": "sip:100@10.0.0.1", "user_agent": "friendly-scanner", "from": "\"sipvicious\"<sip:100@1.1.1.1>",
         "to": "<sip:100@1.1.1.1>", "call_id": "1", "suppressed_before": 3}
SITE = SiteInfo("site")
EVENT_VALUES = st.one_of(JSON_ANY, st.sampled_from(["friendly-scanner", "sipvicious", "2024-13-45T99:00:00",
                                                    "2024-05-01T10:00:00Z", "2024-05-01", -5, 10**30, True]))


@st.composite
def hostile_records(draw) -> dict:
    record = dict(EVENT)
    for key in draw(st.lists(st.sampled_from(sorted(EVENT) + ["_tool", "extra"]), max_size=4)):
        if draw(st.booleans()):
            record[key] = draw(EVENT_VALUES)
        else:
            record.pop(key, None)
    return record


LOG_LINE = st.one_of(hostile_records().map(json.dumps), st.text(max_size=40),
                     st.sampled_from(["", "{", "[]", "null", "\"x\"", "{\"time\": 1}", "\x00\xff",
                                      "[" * 5000 + "]" * 5000, "{\"a\":" * 3000 + "1" + "}" * 3000]))


@FUZZ
@given(lines=st.lists(LOG_LINE, max_size=8), since=st.none() | st.sampled_from(["2024-05-01T09:00:00", "2030-01-01"]))
def test_sensor_log_reader_and_scan_check(tmp_path_factory, lines, since):
    """A corrupt, hand-edited or truncated sensor log: read_events skips what it cannot read, and the
    NET-SCAN-001 check over what was read gives results, never an exception."""
    data_dir = tmp_path_factory.mktemp("sensor")
    folder = sensor_dir(data_dir)
    folder.mkdir(parents=True)
    (folder / EVENTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    events = sensor.read_events(data_dir, since=since)
    assert isinstance(events, list) and all(isinstance(e, dict) for e in events)
    for event in events:
        assert signatures.match(event) in (None, *(s.name for s in signatures.load_signatures()))
    facts = SiteFacts(SITE, sensor_events=events)
    results = sip_scanning(facts, None)
    assert results and all(r.check_id == "NET-SCAN-001" and r.status in ("pass", "fail") for r in results)


def test_scan_check_reads_a_real_scanner_record(tmp_path):
    folder = sensor_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / EVENTS_FILE).write_text(json.dumps(EVENT) + "\n" + "[" * 5000 + "\n", encoding="utf-8")
    events = sensor.read_events(tmp_path)
    assert events == [EVENT]                    # the deeply nested line is skipped like any corrupt line
    result = sip_scanning(SiteFacts(SITE, sensor_events=events), None)[0]
    assert result.status == "fail" and result.observed == {"203.0.113.9": 4}


# --- cron, host-key pins, router facts ------------------------------------------------------------

from device_drivers import hostkeys  # noqa: E402
from device_drivers.routers.platforms import PLATFORMS as ROUTER_PLATFORMS  # noqa: E402
from device_drivers.routers.platforms import hostname_from_prompt, parse_facts  # noqa: E402
from hardening.jobs import cron  # noqa: E402

CRON_PART = st.one_of(st.sampled_from(["*", "*/5", "0", "59", "60", "1-5", "5-1", "0-59/0", "*/999999999999", "7",
                                       "31", "2", "1,2,3", "-1", "", "a", "1-", "٣", "²", "1/2/3"]),
                      st.text(alphabet="0123456789*,/- ", max_size=8))


@MANY
@given(expr=st.one_of(st.lists(CRON_PART, min_size=4, max_size=6).map(" ".join), st.text(max_size=30)))
@example(expr="0 0 30 2 *")                 # never fires: bounded search, CronError
@example(expr="59 23 31 12 0")
def test_cron_expressions(expr):
    try:
        cron.parse(expr)
        moment = cron.next_run(expr, datetime(2024, 2, 29, 23, 59))
    except cron.CronError:
        return
    assert moment > datetime(2024, 2, 29, 23, 59)


REAL_KEY = {"type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}


@MANY
@given(pin=st.one_of(JSON_ANY, st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"]), JSON_LEAF),
    "key": st.one_of(st.just(REAL_KEY["key"]), st.text(max_size=40), st.binary(max_size=40).map(
        lambda b: __import__("base64").b64encode(b).decode()), JSON_LEAF),
    "sha256": st.one_of(st.just(hostkeys.fingerprint(REAL_KEY["key"])), st.text(max_size=10), JSON_LEAF)})))
def test_host_key_pins(pin):
    try:
        checked = hostkeys.check_pin(pin)
    except ValueError as exc:
        assert str(exc)
        return
    assert checked["type"] == pin["type"] and checked["sha256"].startswith("SHA256:")


FACT_SEEDS = [p.read_text() for p in sorted((ROOT / "tests" / "fixtures" / "routers" / "facts").glob("*.txt"))]


@FUZZ
@given(text=st.one_of(mutated(FACT_SEEDS), st.text(max_size=200)), prompt=st.text(max_size=40))
def test_router_fact_patterns_and_prompts(text, prompt):
    for platform in ROUTER_PLATFORMS.values():
        facts = parse_facts(platform, text)
        assert set(facts) == {"hostname", "model", "os_version", "serial"}
        assert all("\n" not in v for v in facts.values())
    assert isinstance(hostname_from_prompt(prompt), str)
