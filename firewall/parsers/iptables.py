"""iptables NAT: `iptables-save` / `iptables -t nat -S` and the `iptables -t nat -vnL --line-numbers` list view.

Rules are turned into the nftables reader's chain/rule records so both share one walker:
PREROUTING and every chain it jumps to (DOCKER, zone_wan_prerouting, UBNT_PFOR_DNAT_RULES,
MINIUPNPD, ...) are followed; `-j DNAT --to-destination` rules become forwards, rules in a
MINIUPNPD chain become `upnp_dynamic` forwards and mean UPnP is on. The `raw` table is read
only for `-j CT --helper sip` (SIP ALG on). Skipped as a whole: filter, mangle and security
tables, and nat chains not reachable from PREROUTING (OUTPUT, POSTROUTING).
"""
from __future__ import annotations

import re
import shlex

from firewall.model import FeatureState, ParseError, RouterConfig, SourceRef, Unparsed
from firewall.parsers._fields import NatMatch, norm_proto, try_ports, warn
from firewall.parsers._netfilter import NftChain, NftRule, collect
from firewall.parsers._text import numbered_lines

_IGNORED_OPTS = {"-m", "--match", "--dst-type", "--ctstate", "--state", "-o", "--out-interface",
                 "--to-ports", "--to-source", "--mode", "--tcp-flags", "--syn", "--random",
                 "--persistent", "--log-prefix", "--log-level", "--set-xmark", "--set-mark",
                 "--icmpv6-type", "--icmp-type", "--reject-with", "--limit", "--limit-burst"}
_LIST_HEADER = re.compile(r"^\s*(num\s+)?(pkts\s+bytes\s+)?target\s+prot\s+opt\s")
_CHAIN_HEADER = re.compile(r"^Chain (\S+) \(")
_TARGETS = {"ACCEPT", "DROP", "RETURN", "SNAT", "MASQUERADE", "LOG", "NFLOG", "MARK", "CONNMARK",
            "CT", "NETMAP", "TPROXY", "QUEUE", "NFQUEUE", "REJECT", "NOTRACK", "TRACE", "TCPMSS",
            "CLASSIFY", "DSCP", "TOS", "TTL", "AUDIT", "CHECKSUM", "SET", "ULOG"}
_OTHER_PROTOS = {"icmp", "icmpv6", "ipv6-icmp", "sctp", "gre", "esp", "ah", "udplite", "dccp", "mh", "1", "47", "50",
                 "51", "58", "132"}
_NO_VALUE = {"--syn", "--random", "--persistent", "--fully-random"}


def _option(m: NatMatch, opt: str, value: str, negated: bool, out: dict[str, str]) -> None:
    bang = "!" if negated else ""
    if opt in ("-i", "--in-interface"):
        m.iif = bang + value
    elif opt in ("-s", "--source", "--src"):
        m.saddr = [bang + v for v in value.split(",")]
    elif opt in ("-d", "--destination", "--dst"):
        m.daddr = bang + value
    elif opt in ("-p", "--protocol"):
        m.protos = set() if negated or norm_proto(value) == "any" else {norm_proto(value)}
        if norm_proto(value).startswith("other:") and value.lower() not in _OTHER_PROTOS:
            m.unknown.append(f"-p {value}")
    elif opt in ("--dport", "--destination-port", "--dports", "--destination-ports") and not negated:
        m.dports = try_ports(value)
        if m.dports is None:
            m.unknown.append(f"{opt} {value}")
    elif opt == "--dst-type" and value != "LOCAL":
        m.unknown.append(f"--dst-type {value}")
    elif opt in ("-j", "--jump", "-g", "--goto", "--to-destination", "--helper"):
        out[opt] = value
    elif opt == "--comment":
        m.comment = value
    elif opt not in _IGNORED_OPTS:
        m.unknown.append(f"{bang}{opt} {value}".strip())


def rule_from_args(args: list[str], ref: SourceRef) -> NftRule:
    """An `-A CHAIN ...` argument list (after the chain) as a walker rule."""
    m, out, i, negated, problems = NatMatch(), {}, 0, False, []
    while i < len(args):
        opt = args[i]
        if opt == "!":
            negated, i = True, i + 1
            continue
        if opt == "--match-set" and i + 2 < len(args):
            i, negated = _match_set(m, args[i + 1], args[i + 2], negated, problems) + i, False
            continue
        takes_value = opt.startswith("-") and opt not in _NO_VALUE
        value = args[i + 1] if takes_value and i + 1 < len(args) else ""
        _option(m, opt if opt.startswith("-") else f"?{opt}", value, negated, out)
        i, negated = i + (2 if takes_value else 1), False
    target = out.get("-j") or out.get("--jump") or ""
    action = {"REDIRECT": "redirect", "ACCEPT": "accept"}.get(target) or (
        "other" if target in _TARGETS or not target else "jump")
    if target == "CT" and out.get("--helper") == "sip":
        action = "sip_helper"
    if out.get("-g") or out.get("--goto"):
        action, target = "goto", out.get("-g") or out.get("--goto", "")
    elif target == "DNAT":
        action, target = "dnat", out.get("--to-destination", "")
    if not target:               # legal (a counting rule) but pointless in NAT: most likely a cut line
        problems.append("rule without a target (-j/-g): truncated or garbled?")
    return NftRule(m, action, target, ref, unparsed=problems)


def _match_set(m: NatMatch, name: str, flags: str, negated: bool, problems: list[str]) -> int:
    """`-m set [!] --match-set NAME src|dst`: the ipset's members are not in iptables output."""
    direction = flags.split(",")[0]
    if direction == "src":
        m.saddr = (m.saddr or []) + [("!" if negated else "") + f"ipset:{name}"]
    problems.append(f"--match-set {name} {flags}: ipset {name!r} members are not in this output "
                    f"(read them with `ipset list {name}`)")
    return 3


def parse_save(text: str, command: str = "iptables-save") -> RouterConfig:
    """Parse `iptables-save` (any tables) or `iptables -t nat -S` output; of ip6tables-save also the
    filter table, whose FORWARD accepts to an inside IPv6 host are pinholes (IPv6 needs no NAT)."""
    cfg = RouterConfig(platform="linux", commands=[command])
    chains: dict[tuple[str, str, str], NftChain] = {}
    table, valid = "nat", 0
    read = ("nat", "raw", "filter") if is_ip6(command, text) else ("nat", "raw")
    for number, line in numbered_lines(text):
        line = re.sub(r"^\[\d+:\d+\]\s*", "", line.strip())
        words = line.split()
        if not line or line.startswith("#"):
            continue
        valid += 1
        if line == "COMMIT" or (line.startswith("-") and table not in read):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") or (words[0] in ("-N", "-P") and len(words) > 1):
            name = words[0][1:] if line.startswith(":") else words[1]
            chains.setdefault(("ip", table, name), _new_chain(table, name))
        elif words[0] == "-A":
            _add_rule(chains, table, number, line, command, cfg)
        else:
            valid -= 1
            warn(cfg, command, number, line, "not an iptables-save line")
    if not valid:
        raise ParseError(f"{command}: no iptables-save lines (*table, :CHAIN, -A ...) found")
    _finish(chains, cfg, command)
    return cfg


def is_ip6(command: str, text: str) -> bool:
    return command.lstrip().startswith("ip6tables") or "# Generated by ip6tables-save" in text[:4000]


def _new_chain(table: str, name: str) -> NftChain:
    if table == "filter" and name == "FORWARD":
        return NftChain("ip", table, name, "filter", "forward")
    hooked = table == "nat" and name == "PREROUTING"
    return NftChain("ip", table, name, "nat" if hooked else "", "prerouting" if hooked else "")


def _add_rule(chains: dict, table: str, number: int, line: str, command: str, cfg: RouterConfig) -> None:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        if table == "nat":
            cfg.unparsed.append(Unparsed(command, number, line, "nat", f"cannot split the rule into words: {exc}"))
        else:
            warn(cfg, command, number, line, f"cannot split rule: {exc}")
        return
    if len(words) < 2:
        warn(cfg, command, number, line, "-A without a chain name")
        return
    chain = chains.setdefault(("ip", table, words[1]), _new_chain(table, words[1]))
    ref = SourceRef(command, number, None, f"{table} {words[1]} {len(chain.rules) + 1}", line)
    chain.rules.append(rule_from_args(words[2:], ref))


def _finish(chains: dict[tuple[str, str, str], NftChain], cfg: RouterConfig, command: str) -> None:
    """Walk the nat table; read UPnP and SIP helper state from chain names and the raw table."""
    nat = {key: chain for key, chain in chains.items() if key[1] == "nat"}
    collect(nat, cfg, command)
    collect({key: chain for key, chain in chains.items() if key[1] == "filter"}, cfg, command)
    for chain in nat.values():
        for rule in chain.rules:
            if rule.action == "jump" and "miniupnpd" in rule.target.lower() and cfg.upnp.enabled is None:
                cfg.upnp = FeatureState(True, f"chain {rule.target} (miniupnpd) is hooked into {chain.name}", rule.ref)
    for chain in chains.values():
        for rule in chain.rules:
            if rule.action == "sip_helper":
                cfg.sip_alg = FeatureState(True, "iptables raw table attaches the sip conntrack helper", rule.ref)
    if cfg.sip_alg.enabled is None and any(key[1] == "raw" for key in chains):
        cfg.sip_alg = FeatureState(False, "no -j CT --helper sip rule in the raw table")


def parse_list(text: str, command: str = "iptables -t nat -vnL --line-numbers") -> RouterConfig:
    """Parse the `iptables -t nat -L -n [-v] [--line-numbers]` list view."""
    cfg = RouterConfig(platform="linux", commands=[command])
    chains: dict[tuple[str, str, str], NftChain] = {}
    chain, columns = None, []
    for number, line in numbered_lines(text):
        header = _CHAIN_HEADER.match(line)
        if header:
            chain = chains.setdefault(("ip", "nat", header.group(1)), _new_chain("nat", header.group(1)))
        elif _LIST_HEADER.match(line):
            columns = line.split()
        elif line.strip() and chain is not None and columns:
            rule = _list_row(line, columns, chain, number, command)
            if rule is None:
                cfg.unparsed.append(Unparsed(command, number, line, "nat", "row does not fit the column header "
                                             f"({' '.join(columns)}) of chain {chain.name}"))
            else:
                chain.rules.append(rule)
        elif line.strip():
            warn(cfg, command, number, line, "line outside a chain listing")
    if not chains:
        raise ParseError(f"{command}: no 'Chain NAME (...)' header found; not iptables -L output")
    _finish(chains, cfg, command)
    return cfg


def _list_row(line: str, columns: list[str], chain: NftChain, number: int, command: str) -> NftRule | None:
    fields = line.split(None, len(columns))
    if len(fields) < len(columns):
        return None
    row = dict(zip(columns, fields))
    extra = fields[len(columns)] if len(fields) > len(columns) else ""
    rule_id = f"nat {chain.name} {row.get('num', len(chain.rules) + 1)}"
    args = ["-j", row["target"], "-p", row["prot"]]
    for column, opt in (("in", "-i"), ("source", "-s"), ("destination", "-d")):
        value = row.get(column, "*")
        if value not in ("*", "0.0.0.0/0", "::/0"):
            args += (["!", opt, value[1:]] if value.startswith("!") else [opt, value])
    rule = rule_from_args(args + _extra_args(extra), SourceRef(command, number, None, rule_id, line.strip()))
    return rule


def _extra_args(extra: str) -> list[str]:
    """The free-text tail of a list row ('tcp dpt:8080 /* c */ to:1.2.3.4:80') as iptables options."""
    args: list[str] = []
    comment = re.search(r"/\* (.*?) \*/", extra)
    if comment:
        args += ["--comment", comment.group(1)]
        extra = extra.replace(comment.group(0), " ")
    for pattern, opt in ((r"\bto:(\S+)", "--to-destination"), (r"\bdpts?:(\S+)", "--dport"),
                         (r"\bmultiport dports (\S+)", "--dports"), (r"\bredir ports (\S+)", "--to-ports")):
        found = re.search(pattern, extra)
        if found:
            args += [opt, found.group(1)]
            extra = extra.replace(found.group(0), " ")
    extra = re.sub(r"\bADDRTYPE match dst-type LOCAL\b|\b(ct)?state \S+|\b(tcp|udp)\b", " ", extra)
    return args + extra.split()
