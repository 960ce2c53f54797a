"""FortiOS configuration (`show ...` / full config) reader: VIPs, policies using them, SIP, VLANs.

The `config` / `edit` / `set` / `next` / `end` tree is read into entries per config path.
Used: `firewall vip`, `vip6` and `vipgrp`, `firewall policy` / `policy6` (which VIPs an accepting,
enabled policy names as dstaddr, and the sources it accepts), `firewall address` / `addrgrp` (see
_fortios_addr), `system settings` (sip-helper, default-voip-alg-mode),
`system session-helper` (a `sip` helper), `system interface` (ip, type vlan, vlanid, parent,
role) and `system global` (hostname). Entries of every other config path are skipped without
warnings; a line that is not config syntax becomes a warning.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from firewall.model import FeatureState, Interface, PortForward, RouterConfig, SourceRef, Unparsed, Vlan, parse_ports
from firewall.parsers._addrbook import is_address, resolve_forwards
from firewall.parsers._fortios_addr import accepting, address_book, policy_sources
from firewall.parsers._text import Line, is_voice_name, network_of, ref, to_cidr, warn

_SYNTAX = re.compile(r"^(config|edit|set|unset|next|end|append|select|unselect|purge|delete|"
                     r"rename|get|show)\b")


@dataclass
class Entry:
    name: str
    values: dict[str, list[str]] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)


@dataclass
class Tree:
    """Entries by config path ('firewall vip'); settings set directly under a path use name ''."""
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    recognised: int = 0

    def read(self, cfg: RouterConfig, command: str, lines: list[Line]) -> None:
        frames: list[tuple[str, list[Entry | None]]] = []    # (config path, [open edit entry])
        for line in lines:
            text = line[1].strip()
            if not text or text.startswith("#"):
                self.recognised += bool(text)
            elif not _SYNTAX.match(text):
                cfg.warnings.append(warn(command, line, "not FortiOS configuration syntax"))
            else:
                self.recognised += 1
                self._step(_words(text), line, frames)

    def _step(self, words: list[str], line: Line, frames: list[tuple[str, list[Entry | None]]]) -> None:
        if words[0] == "config" and len(words) > 1:
            frames.append((" ".join(words[1:]), [None]))
            return
        if not frames:
            return
        path = _path([f[0] for f in frames])
        slot = frames[-1][1]
        if words[0] == "edit" and len(words) > 1:
            slot[0] = Entry(name=words[1], lines=[line])
            self.entries.setdefault(path, []).append(slot[0])
        elif words[0] in ("next", "end"):
            if slot[0]:
                slot[0].lines.append(line)
                slot[0] = None
            if words[0] == "end":
                frames.pop()
        elif words[0] in ("set", "append") and len(words) > 1:
            target = slot[0] or self._settings(path)
            if words[0] == "append":
                target.values.setdefault(words[1], []).extend(words[2:])
            else:
                target.values[words[1]] = words[2:]
            target.lines.append(line)

    def _settings(self, path: str) -> Entry:
        found = [e for e in self.entries.get(path, []) if e.name == ""]
        if found:
            return found[0]
        entry = Entry(name="", lines=[])
        self.entries.setdefault(path, []).append(entry)
        return entry

    def get(self, path: str) -> list[Entry]:
        return self.entries.get(path, [])


def _path(paths: list[str]) -> str:
    """The innermost config path; 'vdom' and 'global' wrappers carry no meaning here."""
    return " / ".join(p for p in paths if p not in ("vdom", "global"))


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def vip_forwards(tree: Tree, cfg: RouterConfig, command: str) -> None:
    """One forward per VIP (vip, vip6); a VIP no enabled accept policy uses is kept, disabled, and said so.

    Its sources are those its policies accept (see _fortios_addr), resolved through the address book."""
    by_vip = _policies_by_vip(tree)
    vips = [(e, path) for path in ("firewall vip", "firewall vip6") for e in tree.get(path)]
    if vips and by_vip is None:
        cfg.warnings.append(warn(command, None, "no 'config firewall policy' in the input: "
                                 "cannot tell which VIPs are in use"))
    made = []
    for entry, path in vips:
        try:
            forward = _vip(entry, command)
        except (ValueError, IndexError, KeyError) as exc:
            cfg.unparsed.append(Unparsed(command, entry.lines[0][0], entry.lines[0][1].strip(), "nat",
                                         f"{path} {entry.name!r} not understood: {exc}"))
            continue
        policies = by_vip.get(entry.name, []) if by_vip is not None else []
        if by_vip is not None and not policies:
            forward.enabled = False
            forward.comment = " ".join(x for x in (forward.comment, "defined but unused: no "
                                                   "enabled accept policy uses it as dstaddr") if x)
            cfg.warnings.append(warn(command, entry.lines[0], f"VIP {entry.name!r} is defined but unused"))
        elif policies:
            sources, forward.source_exclusions = policy_sources(policies)
            forward.source_restriction = sources if forward.source_restriction is None or sources is not None \
                else forward.source_restriction       # the VIP's own src-filter when the policies allow all
        cfg.forwards.append(forward)
        made.append(forward)
    resolve_forwards(cfg, address_book(tree), made, where="'config firewall address' / 'addrgrp'")
    if vips:
        cfg.unparsed += _unknown_destinations(tree, command)


_DESTINATION_TABLES = ("firewall vip", "firewall vip6", "firewall vipgrp", "firewall vipgrp6", "firewall address",
                       "firewall address6", "firewall addrgrp", "firewall addrgrp6")


def _unknown_destinations(tree: Tree, command: str) -> list[Unparsed]:
    """Accept policies naming a dstaddr defined nowhere in the input: it may be a VIP that was not read."""
    known = {e.name for path in _DESTINATION_TABLES for e in tree.get(path)} | {"all", "any"}
    out = []
    for policy in filter(accepting, tree.get("firewall policy") + tree.get("firewall policy6")):
        for name in policy.values.get("dstaddr", []) + policy.values.get("dstaddr6", []):
            if name not in known:
                line = next((l for l in policy.lines if " dstaddr" in l[1]), policy.lines[0])
                out.append(Unparsed(command, line[0], line[1].strip(), "nat",
                                    f"policy {policy.name} accepts traffic to {name!r}, which is neither a VIP "
                                    "nor an address in the input: it may forward to an inside host"))
    return out


def _policies_by_vip(tree: Tree) -> dict[str, list[Entry]] | None:
    """The enabled accept policies naming each VIP (VIP groups expanded) as dstaddr; None without policies."""
    policies = tree.get("firewall policy") + tree.get("firewall policy6")
    if not policies:
        return None
    groups = {g.name: g.values.get("member", []) for path in ("firewall vipgrp", "firewall vipgrp6")
              for g in tree.get(path)}
    out: dict[str, list[Entry]] = {}
    for policy in filter(accepting, policies):
        for name in policy.values.get("dstaddr", []) + policy.values.get("dstaddr6", []):
            for vip in groups.get(name, [name]):
                out.setdefault(vip, []).append(policy)
    return out


def _vip(entry: Entry, command: str) -> PortForward:
    if not entry.name:
        raise ValueError("'set' lines outside any 'edit': the VIP they belong to is unknown")
    value = {k: " ".join(v) for k, v in entry.values.items()}
    kind = value.get("type", "static-nat")
    if kind not in ("static-nat", "server-load-balance"):
        raise ValueError(f"VIP type {kind} is not modelled")
    mapped = value["mappedip"]                       # a pool stays 'a-b', as the analysis reads it
    if not mapped.split() or not all(is_address(m) for m in mapped.split()):
        raise ValueError(f"mappedip {mapped!r} is not an address or range")
    extip = value.get("extip", "0.0.0.0").split("-")[0].split("/")[0]
    extintf = value.get("extintf", "any")
    common = dict(internal_ip=mapped, external_ip=None if extip in ("0.0.0.0", "::") else extip,
                  external_if=None if extintf == "any" else extintf, comment=value.get("comment", ""),
                  enabled=value.get("status", "enable") != "disable",
                  source_restriction=entry.values.get("src-filter") or None,
                  source_ref=ref(command, entry.lines, entry.name))
    if value.get("portforward") != "enable":
        return PortForward(kind="static_1to1", proto="any", **common)
    proto = value.get("protocol", "tcp")                  # `show` omits the default, tcp
    ext = parse_ports(value["extport"])
    return PortForward(kind="static_pat", proto=proto if proto in ("tcp", "udp") else f"other:{proto}",
                       external_ports=ext,
                       internal_ports=parse_ports(value["mappedport"]) if "mappedport" in value else None,
                       **common)


def sip_state(tree: Tree, command: str) -> FeatureState | None:
    """SIP ALG: the proxy-based VoIP ALG (default mode) or the kernel `sip` session helper."""
    settings = next((e for e in tree.get("system settings") if e.name == ""), None)
    helpers = tree.get("system session-helper")
    if settings is None and not helpers:
        if not (_has(tree, "system interface") and (_has(tree, "system global") or _has(tree, "firewall policy"))):
            return None
        return FeatureState(enabled=True, source_ref=SourceRef(command=command, rule_id="system settings"),
                            detail="a configuration with neither 'config system settings' nor 'config system "
                            "session-helper': FortiOS defaults, the sip session helper and the proxy-based VoIP ALG")
    values = settings.values if settings else {}
    mode = " ".join(values.get("default-voip-alg-mode", ["proxy-based"]))
    sip_helper = " ".join(values.get("sip-helper", [])) or None
    helper_entry = next((h for h in helpers if h.values.get("name") == ["sip"]), None)
    helper_on = sip_helper == "enable" if sip_helper else (helper_entry is not None if helpers else True)
    default = " (platform default)" if "default-voip-alg-mode" not in values else ""
    detail = f"default-voip-alg-mode {mode}{default}; sip session helper {'on' if helper_on else 'off'}"
    lines = (settings.lines if settings else []) or (helper_entry.lines if helper_entry else [])
    where = ref(command, lines, "system settings") if lines else SourceRef(command=command)
    return FeatureState(enabled=mode == "proxy-based" or helper_on, detail=detail, source_ref=where)


def _has(tree: Tree, path: str) -> bool:
    """Whether the tree holds a config path, also written abbreviated as the CLI accepts it ('sys glo')."""
    want = path.split()
    return any(len(words) == len(want) and all(w.startswith(x) for w, x in zip(want, words))
               for words in (key.split() for key in tree.entries))


def interfaces(tree: Tree, cfg: RouterConfig, command: str) -> None:
    """`config system interface`: addresses, roles, and VLAN sub-interfaces."""
    for entry in tree.get("system interface"):
        value = {k: " ".join(v) for k, v in entry.values.items()}
        try:
            ip = value.get("ip", "0.0.0.0 0.0.0.0").split()
            cidr = to_cidr(ip[0], ip[1] if len(ip) > 1 else "32")
            vlan_id = int(value["vlanid"]) if "vlanid" in value else None
        except (ValueError, IndexError) as exc:
            cfg.warnings.append(warn(command, entry.lines[0], f"interface {entry.name!r}: {exc}"))
            continue
        addresses = [] if cidr.startswith("0.0.0.0") else [cidr]
        label = value.get("alias") or value.get("description", "")
        cfg.interfaces.append(Interface(name=entry.name, addresses=addresses, role=value.get("role", ""),
                                        vlan_id=vlan_id, parent=value.get("interface"), description=label))
        if vlan_id is not None:
            cfg.vlans.append(Vlan(vlan_id=vlan_id, name=entry.name, interface=entry.name,
                                  subnet=network_of(addresses[0]) if addresses else None,
                                  voice=is_voice_name(f"{entry.name} {label}"),
                                  source_ref=ref(command, entry.lines, entry.name)))
