"""Renderers cannot be injected (issue 14, point 4): whatever string sits in a parsed field (comment,
interface, address-list, rule text) or comes from the API (source networks), the rendered commands,
read the way the device reads them, are exactly the intended changes and nothing else - or the plan
is refused with Unrenderable.

The RouterOS reader here is written from the scripting manual (`;` and line ends end a command, `[`
`]` substitute one, `$` interpolates, `#` comments, string escapes \\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b
\\f \\v and \\XX), independently of firewall.renderers._quote, so a quoting slip shows as a second
command or a different value. IOS and Vyatta renderings are read back with the project's parsers.
"""
import ipaddress
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firewall.model import ParseError, PortForward, SourceRef
from firewall.parsers import parse
from firewall.renderers import Unrenderable, render_removal, render_restrict

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_NETWORKS = st.builds(lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
                      st.ip_addresses(v=4), st.integers(8, 32))
ATTACK = '"] ; /user add name=x group=full password=y ; :put ["'
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$", "?": "?", "_": " ",
            "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


# ---- RouterOS, as the console reads a script -----------------------------------------------

def _string(script: str, i: int, word: bytearray) -> int:
    while True:
        assert i < len(script), "string literal never closed"
        char = script[i]
        if char == '"':
            return i + 1
        assert char != "$", "a variable is interpolated inside a string"
        assert char not in "\r\n", "a raw line break inside a string"
        if char == "\\":
            pair = script[i + 1:i + 3]
            if re.fullmatch(r"[0-9A-F]{2}", pair):
                word.append(int(pair, 16))
                i += 3
                continue
            assert pair[:1] in _ESCAPES, f"unknown escape {pair!r}"
            word += _ESCAPES[pair[0]].encode()
            i += 2
            continue
        word += char.encode("utf-8", "surrogateescape")
        i += 1


def routeros_commands(script: str) -> list[list[str]]:
    """The commands of a script, each a list of words (strings decoded, `[` and `]` as words)."""
    commands: list[list[str]] = [[]]
    word, in_word, i = bytearray(), False, 0

    def flush():
        nonlocal word, in_word
        if in_word:
            commands[-1].append(word.decode("utf-8", "surrogateescape"))
        word, in_word = bytearray(), False

    while i < len(script):
        char = script[i]
        if char == '"':
            in_word, i = True, _string(script, i + 1, word)
            continue
        if char in " \t;\r\n[]":
            flush()
            if char in ";\r\n":
                commands.append([])
            elif char in "[]":
                commands[-1].append(char)
            i += 1
            continue
        assert char not in "${}#()\\?", f"script syntax {char!r} outside a string"
        word += char.encode()
        in_word, i = True, i + 1
    flush()
    return [c for c in commands if c]


def export_string(value: str) -> str:
    """A value as a RouterOS export prints it (the device side of the round trip)."""
    out = []
    for byte in value.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        out.append("\\" + char if char in '"\\$?' else char if 0x20 <= byte < 0x7F else f"\\{byte:02X}")
    return '"' + "".join(out) + '"'


def removal_where(script: str) -> dict[str, str]:
    """The one `remove [find where ...]` command a removal must be, as attribute -> value."""
    commands = routeros_commands(script)
    assert len(commands) == 1, f"{len(commands)} commands in {script!r}"
    words = commands[0]
    assert words[:7] == ["/ip", "firewall", "nat", "remove", "[", "find", "where"] and words[-1] == "]", words
    pairs = [w.partition("=") for w in words[7:-1]]
    assert all(eq for _, eq, _ in pairs), words
    return {k: v for k, _, v in pairs}


def export_attrs(line: str) -> dict[str, str]:
    words = routeros_commands(line)[0]
    return dict(w.partition("=")[::2] for w in words if "=" in w)


def mikrotik_rule(comment: str, iface: str, address_list: str, port: int = 8080) -> str:
    return (f"add action=dst-nat chain=dstnat comment={export_string(comment)} dst-port={port} "
            f"in-interface={export_string(iface)} protocol=tcp src-address-list={export_string(address_list)} "
            "to-addresses=192.168.1.10 to-ports=80")


def _forward(text: str, kind: str = "dnat") -> PortForward:
    return PortForward(kind=kind, proto="tcp", internal_ip="192.168.1.10", source_ref=SourceRef(text=text))


def test_the_reported_comment_stays_a_comment():
    victim = mikrotik_rule(ATTACK, "ether1", "wan")
    [command] = render_removal("mikrotik_routeros", [_forward(victim)])
    assert removal_where(command)["comment"] == ATTACK
    assert "/user" not in " ".join(w for c in routeros_commands(command) for w in c[:1])


@PROPERTY
@given(comment=st.text(), iface=st.text(), address_list=st.text())
@example(comment=ATTACK, iface="$x", address_list="a\nb")
def test_mikrotik_removal_finds_exactly_the_victim(comment, iface, address_list):
    victim = mikrotik_rule(comment, iface, address_list)
    twin = mikrotik_rule(comment + "x", iface, address_list)          # differs only in its comment
    [command] = render_removal("mikrotik_routeros", [_forward(victim)])
    where = removal_where(command)
    assert where == {k: v for k, v in export_attrs(victim).items()}
    assert where["comment"] == comment and where["in-interface"] == iface
    assert any(export_attrs(twin).get(k) != v for k, v in where.items())


@PROPERTY
@given(text=st.text())
@example(text='add action=dst-nat chain=dstnat comment="x"] ; /user add" to-addresses=1.1.1.1')
@example(text='add action=dst-nat chain=dstnat comment=$evil to-addresses=1.1.1.1')
@example(text='add action=dst-nat chain=dstnat to-addresses=1.1.1.1\n/user add name=x')
def test_mikrotik_arbitrary_rule_text_is_refused_or_one_exact_command(text):
    try:
        commands = render_removal("mikrotik_routeros", [_forward("add action=dst-nat " + text)])
    except Unrenderable:
        return
    assert len(commands) == 1
    assert removal_where(commands[0])["action"] == "dst-nat"


@PROPERTY
@given(sources=st.lists(st.one_of(st.text(), _NETWORKS), min_size=1, max_size=3),
       comment=st.text())
@example(sources=['10.0.0.0/8"; /user add x'], comment="")
@example(sources=["10.0.0.0/8", "192.0.2.1"], comment=ATTACK)
def test_mikrotik_restrict_quotes_or_refuses_api_sources(sources, comment):
    rule = mikrotik_rule(comment, "ether1", "x")
    try:
        commands = render_restrict("mikrotik_routeros", [(_forward(rule), sources)])
    except Unrenderable:
        return
    networks = list(dict.fromkeys(str(ipaddress.ip_network(s)) for s in sources))
    *members, change = [routeros_commands(c) for c in commands]
    assert all(len(c) == 1 for c in [*members, change])
    change = change[0]
    end = change.index("]")
    assert change[:7] == ["/ip", "firewall", "nat", "set", "[", "find", "where"]
    assert dict(w.partition("=")[::2] for w in change[7:end]) == export_attrs(rule)
    if len(networks) == 1:
        assert not members and change[end + 1:] == [f"src-address={networks[0]}", "!src-address-list"]
        return
    name = change[end + 1].partition("=")[2]
    assert change[end + 1:] == [f"src-address-list={name}"]
    assert [m[0] for m in members] == [["/ip", "firewall", "address-list", "add", f"list={name}", f"address={n}"]
                                       for n in networks]


# ---- IOS: every `no` line is plain words and re-reads as exactly the victim ---------------

_IOS_PLAIN = re.compile(r"[A-Za-z0-9._:/ -]+")


def _ios_key(fwd):
    return (fwd.proto, fwd.internal_ip, fwd.external_ip, str(fwd.external_ports), str(fwd.internal_ports))


def assert_ios_removal(commands, victims):
    assert commands[0] == "configure terminal" and commands[-2:] == ["end", "write memory"]
    body = commands[1:-2]
    assert len(body) == len(victims)
    for line, victim in zip(body, victims):
        assert _IOS_PLAIN.fullmatch(line) and line.startswith("no ip nat inside source static "), line
        again = parse("cisco_ios", {"show running-config": line[3:]})
        assert [_ios_key(f) for f in again.forwards] == [_ios_key(victim)] and not again.warnings


@PROPERTY
@given(iface=st.text(), option=st.text())
@example(iface="Gi0/1\nusername x privilege 15", option="")
@example(iface="Gi0/1?", option="")
@example(iface="Gi0/1", option="route-map\tX")
def test_ios_removal_of_arbitrary_interface_names(iface, option):
    config = f"ip nat inside source static tcp 10.1.1.5 80 interface {iface} 8080 {option}".rstrip()
    try:
        forwards = parse("cisco_ios", {"show running-config": config}).forwards
    except ValueError:
        return                                   # not IOS config at all: nothing to render
    for fwd in forwards:
        try:
            commands = render_removal("cisco_ios", [fwd])
        except Unrenderable:
            continue
        assert_ios_removal(commands, [fwd])


@PROPERTY
@given(iface=st.from_regex(r"\A(GigabitEthernet|Dialer|FastEthernet)[0-9]/[0-9](\.[0-9]{1,3})?\Z"))
def test_ios_plain_interface_names_render(iface):
    config = f"ip nat inside source static udp 10.1.1.5 5060 interface {iface} 5060"
    [fwd] = parse("cisco_ios", {"show running-config": config}).forwards
    assert_ios_removal(render_removal("cisco_ios", [fwd]), [fwd])


@PROPERTY
@given(text=st.text())
def test_ios_arbitrary_rule_text_is_refused_or_exact(text):
    fwd = PortForward(kind="static_pat", proto="tcp", internal_ip="10.1.1.5",
                      source_ref=SourceRef(text="ip nat inside source static " + text))
    try:
        commands = render_removal("cisco_ios", [fwd])
    except Unrenderable:
        return
    again = parse("cisco_ios", {"show running-config": commands[1][3:]}).forwards
    assert len(again) == 1
    assert_ios_removal(commands, again)


# ---- Vyatta: removals name fixed words and an ASCII rule number ----------------------------

_VYATTA_DELETE = re.compile(r"delete (nat destination|service nat|port-forward) rule [0-9]+")
# what a single-quoted set-line value can hold; control characters are left out because the parser
# rightly refuses text with many of them as not CLI output (render-side refusal is tested below)
_NO_QUOTE = st.text(alphabet=st.characters(blacklist_characters="'", blacklist_categories=("Cs", "Cc")))


def vyos_rule(number: int, description: str, iface: str, port: int) -> str:
    node = f"set nat destination rule {number}"
    return "\n".join([f"{node} description '{description}'", f"{node} destination port '{port}'",
                      f"{node} inbound-interface name '{iface}'", f"{node} protocol 'tcp'",
                      f"{node} translation address '192.168.1.{number % 250 + 1}'"])


def apply_vyatta(text: str, commands: list[str]) -> str:
    """configure-mode lines applied to set-line text: `delete X` drops X's lines, `set` lines are added."""
    assert commands[0] == "configure" and commands[-3:] == ["commit", "save", "exit"]
    lines = text.split("\n")
    for command in commands[1:-3]:
        verb, _, path = command.partition(" ")
        if verb == "delete":
            lines = [l for l in lines if not (l == f"set {path}" or l.startswith(f"set {path} "))]
        else:
            assert verb == "set", command
            lines.append(command)
    return "\n".join(lines)


def _vy_key(fwd):
    return (fwd.proto, str(fwd.external_ports), fwd.internal_ip, fwd.comment, fwd.external_if,
            fwd.source_restriction, fwd.enabled)


@PROPERTY
@given(descriptions=st.lists(_NO_QUOTE, min_size=2, max_size=2), iface=_NO_QUOTE)
@example(descriptions=["x; delete system", "$(reboot)"], iface="`id`")
def test_vyos_removal_with_arbitrary_descriptions_round_trips(descriptions, iface):
    text = "\n".join(vyos_rule(n, d, iface, 8000 + n) for n, d in zip((10, 20), descriptions))
    try:
        config = parse("vyos", {"show configuration commands": text})
    except ParseError:
        return                  # mostly unprintable: not CLI output, nothing to render
    assert len(config.forwards) == 2
    commands = render_removal("vyos", config.forwards[:1])
    assert [c for c in commands if c.startswith("delete")] == ["delete nat destination rule 10"]
    after = parse("vyos", {"show configuration commands": apply_vyatta(text, commands)})
    assert [_vy_key(f) for f in after.forwards] == [_vy_key(config.forwards[1])]


@PROPERTY
@given(rule_id=st.text(), text=st.text())
@example(rule_id="nat destination rule 10; delete system", text="set nat destination rule 1٠ x")
def test_vyatta_arbitrary_rule_ids_are_refused_or_fixed_words(rule_id, text):
    fwd = PortForward(kind="dnat", proto="tcp", internal_ip="10.0.0.1",
                      source_ref=SourceRef(rule_id=rule_id, text=text))
    try:
        commands = render_removal("vyos", [fwd])
    except Unrenderable:
        return
    assert all(_VYATTA_DELETE.fullmatch(c) for c in commands[1:-3]) and len(commands) == 5



@PROPERTY
@given(sources=st.lists(st.one_of(_NETWORKS, st.text()), min_size=1, max_size=3))
@example(sources=["10.0.0.0/8' ; delete system '"])
def test_vyos_restrict_quotes_or_refuses_api_sources(sources):
    text = vyos_rule(10, "pbx", "eth0", 5060)
    [fwd] = parse("vyos", {"show configuration commands": text}).forwards
    try:
        commands = render_restrict("vyos", [(fwd, sources)])
    except Unrenderable:
        return
    after = parse("vyos", {"show configuration commands": apply_vyatta(text, commands)})
    assert not after.warnings
    [restricted] = after.forwards
    group = [c.split()[-1].strip("'") for c in commands if "source group address-group" in c]
    assert restricted.source_restriction in ([*group], [f"list:{g}" for g in group]) \
        or spans(restricted.source_restriction) == spans(sources)
    for command in commands[1:-3]:                    # fixed words, then at most one single-quoted value
        assert re.fullmatch(r"(set|delete) [A-Za-z0-9 -]+( '[^'\n\\$`]*')?", command), command


def spans(entries):
    """Source entries as the address spans they cover (CIDR, range or address); a list name stays a name."""
    out = []
    for entry in entries:
        first, dash, last = entry.partition("-")
        try:
            if dash:
                out.append((int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))))
            else:
                net = ipaddress.ip_network(entry)
                out.append((int(net[0]), int(net[-1])))
        except ValueError:
            out.append(entry)
    return sorted(set(out), key=str)


# ---- nftables: a rule's comment never reaches the nft -f script ---------------------------

def _nft_ruleset(**changes) -> str:
    data = json.loads((SAMPLES / "linux" / "nft_lab_json.txt").read_text())
    for item in data["nftables"]:
        if "rule" in item and item["rule"]["handle"] == 6:
            item["rule"].update(changes)
    return json.dumps(data)


@PROPERTY
@given(comment=st.text())
@example(comment='"; flush ruleset; add rule ip portfwd prerouting accept #')
@example(comment="x\nflush ruleset\n")
def test_nft_comment_cannot_add_nft_commands(comment):
    config = parse("linux", {"nft -j list ruleset": _nft_ruleset(comment=comment)})
    victim = next(f for f in config.forwards if f.source_ref.rule_id.endswith("handle 6"))
    assert victim.comment == comment
    assert render_removal("linux", [victim]) == ["delete rule ip portfwd prerouting handle 6"]


def _nft_table_renamed(name: str) -> str:
    data = json.loads(_nft_ruleset())
    for item in data["nftables"]:
        body = next(iter(item.values()))
        if body.get("table") == "portfwd":
            body["table"] = name
        if "table" in item and body.get("name") == "portfwd":
            body["name"] = name
    return json.dumps(data)


def test_nft_table_name_with_separators_is_refused():
    config = parse("linux", {"nft -j list ruleset": _nft_table_renamed("x;flush")})
    [victim] = [f for f in config.forwards if f.source_ref.rule_id.endswith("handle 6")]
    with pytest.raises(Unrenderable):
        render_removal("linux", [victim])
