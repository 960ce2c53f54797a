"""What people really paste parses to the same forwards as the clean output, on every platform, with every
forward's line number still pointing at its line in the pasted text, and the removals noted.

The session framing is written the way published pastes show it: a Packet Tracer session log
(github.com/lex0819/gb-net seminar08/logs/Router1-serv.sh: `Router>en`, `Router#sh run`, `Building
configuration...`, `Current configuration : N bytes`, config, `Router#`), forum-style `user@host:~$ sudo
nft list ruleset`, `[admin@MikroTik] > /export`, `admin@srx> show configuration | display set`, FortiGate
`FGT # show`, the pfSense shell prompt, IOS/ASA/Junos/FortiGate pager remnants as terminals log them
(marker, then backspaces or CR and spaces erasing it), bash's bracketed-paste mode switches. That repo
states no licence, so none of its text is copied: the framing is re-typed around this repository's own
licensed fixtures (tests/fixtures/router-samples/*/<name>.source.md), whose clean parse is the expectation.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from firewall import parsers
from firewall.parsers._paste import clean_outputs

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"
IOS_MORE = " --More-- " + "\b" * 10 + " " * 10 + "\b" * 10      # what IOS sends, as a session log keeps it


def _with_pager(text: str, line: int, remnant: str) -> str:
    """The pager remnant in front of line `line` (1-based), as a logged terminal has it."""
    lines = text.split("\n")
    lines[line - 1] = remnant + lines[line - 1]
    return "\n".join(lines)


# platform, clean fixture, session before, session after, what else the terminal adds
CASES = {
    "cisco_ios": ("cisco_ios/running_config_nat_static_margrave.txt",
                  "Router>\nRouter>en\nPassword:\nRouter#terminal length 0\nRouter#sh run\nBuilding configuration...\n"
                  "\nCurrent configuration : 1008 bytes\n", "\n\nRouter#\nRouter#",
                  lambda t: _with_pager(t, 12, IOS_MORE).replace("\n", "\r\n")),
    "cisco_asa": ("cisco_asa/show_nat_ntc.txt",
                  "ciscoasa> en\nPassword: ********\nciscoasa# terminal pager 0\nciscoasa# show nat\n", "\nciscoasa# ",
                  lambda t: _with_pager(t, 6, "<--- More --->\r              \r")),
    "juniper_junos": ("juniper/srx_show_configuration_display_set_labvalidation.txt",
                      "admin@srx> show configuration | display set | no-more\n", "\n\n{master:0}\nadmin@srx> exit\n",
                      lambda t: _with_pager(t, 4, "---(more 45%)---\r                \r")),
    "fortinet": ("fortinet/firewall_vip_userdata_template_40netse.txt",
                 "FGT60E # config system console\nFGT60E (console) # set output standard\nFGT60E (console) # end\n"
                 "FGT60E # show\n", "\nFGT60E # ",
                 lambda t: _with_pager(t, 30, "--More-- \r         \r")),
    "mikrotik_routeros": ("mikrotik/firewall_dstnat_script_oenik.txt", "[admin@MikroTik] > /export\n",
                          "\n[admin@MikroTik] > ", lambda t: "\x1b[m" + t.replace("/ip/firewall", "\x1b[36m/ip/firewall\x1b[m")),
    "pfsense": ("pfsense/config_xml_nat_port_forward_pfsensible.txt",
                "[2.7.2-RELEASE][admin@pfSense.home.arpa]/root: cat /conf/config.xml\n",
                "\n[2.7.2-RELEASE][admin@pfSense.home.arpa]/root: ", lambda t: t.replace("\n", "\r\n")),
    "vyos": ("vyos/show_configuration_commands_nat_basic.txt",
             "\x1b[?2004hvyos@vyos:~$ show configuration commands\n\x1b[?2004l\r", "\n\x1b[?2004hvyos@vyos:~$ ",
             lambda t: t.replace("\n", "\r\n")),
    "ubiquiti_edgerouter": ("edgeos/config_boot_port_forward_upnp_adrienkohlbecker.txt",
                            "ubnt@ubnt:~$ cat /config/config.boot\n", "\nubnt@ubnt:~$ ", lambda t: t.replace("\n", "\r")),
    "linux": ("linux/nft_lab_text.txt", "\x1b]0;root@gw: ~\x07root@gw:~# sudo nft list ruleset\n", "\nroot@gw:~# ",
              lambda t: "\x1b[200~" + t + "\x1b[201~"),
    "openwrt": ("openwrt/etc_config_firewall_pklaus.txt", "root@OpenWrt:~# cat /etc/config/firewall\n",
                "\nroot@OpenWrt:~# ", lambda t: t.replace("\n", "\r\n")),
}


def _view(fwd) -> tuple:
    return (fwd.kind, fwd.proto, fwd.internal_ip, fwd.external_ip, fwd.external_if, str(fwd.external_ports),
            str(fwd.internal_ports), tuple(fwd.source_restriction or ()), fwd.enabled)


def _pasted(platform: str) -> tuple[str, str, int]:
    """(clean text, pasted text, lines the session adds in front)."""
    path, before, after, terminal = CASES[platform]
    clean = (SAMPLES / path).read_text().replace("\r\n", "\n")
    return clean, terminal(before + clean + after), before.count("\n")


def test_every_platform_has_a_paste_case():
    assert sorted(CASES) == parsers.PLATFORMS


@pytest.mark.parametrize("platform", sorted(CASES))
def test_pasted_form_parses_to_the_same_forwards_on_the_same_lines(platform):
    clean_text, pasted_text, shift = _pasted(platform)
    clean, pasted = parsers.parse(platform, clean_text), parsers.parse(platform, pasted_text)
    assert clean.forwards, "the clean fixture must hold forwards for this test to mean anything"
    assert [_view(f) for f in pasted.forwards] == [_view(f) for f in clean.forwards]
    assert [f.source_ref.line for f in pasted.forwards] == [f.source_ref.line + shift for f in clean.forwards]
    notes = [w for w in pasted.warnings if w.message.startswith("removed before parsing:")]
    assert any("session prompts" in w.message and w.line == 1 for w in notes), notes
    assert not [w for w in clean.warnings if w.message.startswith("removed before parsing:")]


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_asa", "juniper_junos", "fortinet"])
def test_pager_remnants_are_removed_and_noted(platform):
    _, pasted_text, _ = _pasted(platform)
    notes = " | ".join(w.message for w in parsers.parse(platform, pasted_text).warnings)
    assert "backspace erasures" in notes or "carriage-return overwrites" in notes
    cleaned = "\n".join(clean_outputs({"": pasted_text})[0].values())
    assert "More" not in cleaned and "more 45%" not in cleaned and "\b" not in cleaned and "\r" not in cleaned


def test_a_whole_ios_session_with_commands_the_parser_does_not_read():
    """Modelled on a published Packet Tracer log: several commands, one without output, two it has no reader
    for. Each output is read by its command; the unread ones are named in warnings, not fatal."""
    session = "\n".join([
        "Router>", "Router>en", "Router#sh run", "Building configuration...", "", "Current configuration : 640 bytes",
        "!", "hostname Router", "!", "interface GigabitEthernet0/0/0", " ip address 10.0.0.1 255.255.0.0",
        " ip nat inside", "!", "interface GigabitEthernet0/0/1", " ip address 198.51.100.1 255.255.255.0",
        " ip nat outside", "!",
        "ip nat inside source static tcp 10.0.1.100 80 198.51.100.1 80 ",            # line 18
        "ip nat inside source static tcp 10.0.1.101 443 198.51.100.1 443 ",          # line 19
        "!", "end", "", "", "Router#", "Router#sh ip ospf neighbor ", "", "",
        "Neighbor ID     Pri   State           Dead Time   Address         Interface",
        "6.6.6.6           1   FULL/DR         00:00:30    198.51.100.2    GigabitEthernet0/0/1",
        "Router#sh ip route", "Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP",
        "", "Gateway of last resort is not set", "", "Router#", "Router#sh ip nat tr",
        "Router#sh ip nat translations ",
        "Pro  Inside global     Inside local       Outside local      Outside global",
        "tcp 198.51.100.1:443   10.0.1.101:443     ---                ---",             # line 39
        "tcp 198.51.100.1:443   10.0.1.101:443     203.0.113.9:1026   203.0.113.9:1026",
        "tcp 198.51.100.1:80    10.0.1.100:80      ---                ---",             # line 41
        "", "Router#", "Router#"])
    cfg = parsers.parse("cisco_ios", session)
    assert [(f.kind, f.internal_ip, str(f.external_ports), f.source_ref.line) for f in cfg.forwards] == [
        ("static_pat", "10.0.1.100", "[PortRange(lo=80, hi=80)]", 18),
        ("static_pat", "10.0.1.101", "[PortRange(lo=443, hi=443)]", 19),
        ("runtime_translation", "10.0.1.101", "[PortRange(lo=443, hi=443)]", 39),
        ("runtime_translation", "10.0.1.100", "[PortRange(lo=80, hi=80)]", 41)]
    skipped = [w for w in cfg.warnings if "skipped: not a command this parser reads" in w.message]
    assert [(w.command, w.line) for w in skipped] == [("sh ip ospf neighbor", 28), ("sh ip route", 31)]
    assert [i.role for i in cfg.interfaces] == ["lan", "wan"]


def test_configuration_typed_at_a_config_prompt_is_read_as_configuration():
    transcript = ("R1#conf t\nEnter configuration commands, one per line.  End with CNTL/Z.\n"
                  "R1(config)#ip nat inside source static tcp 192.168.1.10 8080 203.0.113.5 8080\n"
                  "R1(config)#interface GigabitEthernet0/1\nR1(config-if)#ip nat outside\nR1(config-if)#end\n"
                  "R1#do-not-care\n")
    cfg = parsers.parse("cisco_ios", transcript)
    assert [(f.internal_ip, f.external_ip, f.source_ref.line) for f in cfg.forwards] == [
        ("192.168.1.10", "203.0.113.5", 3)]
    assert [(i.name, i.role) for i in cfg.interfaces] == [("GigabitEthernet0/1", "wan")]


def test_removed_lines_are_blanked_so_numbers_hold_and_binary_is_left_to_the_parser():
    cleaned, notes = clean_outputs({"": "Router#sh run\r\nBuilding configuration...\r\nhostname R\r\nRouter#"})
    assert cleaned == {"sh run": "\n\nhostname R"}
    assert [(n.line, n.message) for n in notes] == [
        (1, "removed before parsing: CRLF line ends (made LF)"),
        (1, "removed before parsing: session prompts (2 times)")]
    binary = {"show run": "ip nat\x00\x01"}
    assert clean_outputs(binary) == (binary, [])


def test_the_same_command_twice_keeps_both_outputs_at_their_lines():
    cleaned, _ = clean_outputs({"": "R#sh ver\nCisco IOS Software, x\nR#sh run\nhostname A\nR#sh ver\nR uptime is 1"})
    assert cleaned == {"sh ver": "\nCisco IOS Software, x\n\n\n\nR uptime is 1", "sh run": "\n\n\nhostname A"}


@pytest.mark.parametrize("path", sorted(p.relative_to(SAMPLES) for p in SAMPLES.glob("*/*.txt")), ids=str)
def test_published_clean_outputs_are_left_as_they_are(path):
    """No fixture's own lines are taken for a prompt, a pager or session noise (only device headers)."""
    text = (SAMPLES / path).read_text().replace("\r\n", "\n")
    cleaned, notes = clean_outputs({"cmd": text})
    assert notes == [] and list(cleaned) == ["cmd"]
    changed = [(a, b) for a, b in zip(text.split("\n"), cleaned["cmd"].split("\n")) if a != b]
    assert all(b == "" and a.strip() in ("{master:0}", "Building configuration...") for a, b in changed), changed
