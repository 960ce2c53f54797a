"""Per-platform data for the netmiko router driver: which netmiko class, privilege, setup and facts.

The read-only commands themselves come from the platform's parser module (its COMMANDS list),
so what is collected and what is parsed never drift apart. Paging is switched off by netmiko's
own session_preparation for every type listed here (`terminal length 0`, `set cli
screen-length 0`, ...), so nothing here repeats it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from firewall.parsers import get_parser


@dataclass(frozen=True)
class Platform:
    name: str                                  # parser registry key (a netmiko device_type name)
    netmiko_type: str                          # netmiko ConnectHandler device_type
    vendor: str
    needs_enable: bool = False                 # NAT config is only shown in privileged mode
    shell: bool = False                        # a POSIX shell: exit status is readable as $?
    session_setup: tuple[str, ...] = ()        # run once after login
    facts_command: str = ""
    facts_patterns: dict[str, str] = field(default_factory=dict)   # Facts key -> regex, group 1

    def commands(self) -> list[str]:
        """The read-only commands the parser for this platform expects, in order."""
        return list(get_parser(self.name).COMMANDS)


# C locale: the parser recognises failed commands by their English messages ("command not
# found", "Permission denied"); no pager, in case a command would page on a tty.
_LINUX_SETUP = ("export LC_ALL=C PAGER=cat SYSTEMD_PAGER=",)
_UNAME = {"hostname": r"^\S+ (\S+)", "os_version": r"^\S+ \S+ (\S+)"}

PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("linux", "linux", "Linux", shell=True, session_setup=_LINUX_SETUP,
             facts_command="uname -snr", facts_patterns=_UNAME),
    Platform("openwrt", "linux", "OpenWrt", shell=True, session_setup=_LINUX_SETUP,
             facts_command="uname -snr", facts_patterns=_UNAME),
    Platform("cisco_ios", "cisco_ios", "Cisco", needs_enable=True, facts_command="show version",
             facts_patterns={"hostname": r"^(\S+) uptime is",
                             "os_version": r"^Cisco IOS Software.*?, Version ([^,\s]+)",
                             "model": r"^[Cc]isco (\S+) .*(?:processor|bytes of memory)",
                             "serial": r"Processor board ID (\w+)"}),
    Platform("cisco_asa", "cisco_asa", "Cisco", needs_enable=True, facts_command="show version",
             facts_patterns={"hostname": r"^(\S+) up \d", "os_version": r"Software Version (\S+)",
                             "model": r"^Hardware:\s+([^,]+)", "serial": r"^Serial Number: (\S+)"}),
    Platform("mikrotik_routeros", "mikrotik_routeros", "MikroTik",
             facts_command="/system resource print",
             facts_patterns={"os_version": r"^\s*version: (\S+)", "model": r"^\s*board-name: (.+)"}),
    Platform("ubiquiti_edgerouter", "ubiquiti_edgerouter", "Ubiquiti", facts_command="show version",
             facts_patterns={"os_version": r"^Version:\s+(\S+)", "model": r"^HW model:\s+(.+)",
                             "serial": r"^HW S/N:\s+(\S+)"}),
    Platform("vyos", "vyos", "VyOS", facts_command="show version",
             facts_patterns={"os_version": r"^Version:\s+(.+)", "model": r"^Hardware model:\s+(.+)",
                             "serial": r"^Hardware S/N:\s+(\S+)"}),
    Platform("juniper_junos", "juniper_junos", "Juniper", facts_command="show version",
             facts_patterns={"hostname": r"^Hostname: (\S+)", "model": r"^Model: (\S+)",
                             "os_version": r"^Junos: (\S+)"}),
    Platform("fortinet", "fortinet", "Fortinet", facts_command="get system status",
             facts_patterns={"hostname": r"^Hostname: (\S+)", "os_version": r"^Version: \S+ (v[^,\s]+)",
                             "model": r"^Version: (\S+) v", "serial": r"^Serial-Number: (\S+)"}),
)}


def parse_facts(platform: Platform, output: str) -> dict[str, str]:
    """Pull the facts a platform's version command shows; absent fields are empty strings."""
    found = {key: "" for key in ("hostname", "model", "os_version", "serial")}
    for key, pattern in platform.facts_patterns.items():
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            found[key] = match.group(1).strip()
    return found


def hostname_from_prompt(prompt: str) -> str:
    """The host name in a CLI prompt: 'root@lab-rtr1:~' -> 'lab-rtr1', 'R1#' -> 'R1'."""
    prompt = prompt.strip().rstrip("#>$%").strip()
    if "@" in prompt:                               # user@host:cwd (shells, Junos user@host)
        prompt = prompt.split("@", 1)[1]
    return re.split(r"[:\s(/\]]", prompt.lstrip("[<"), maxsplit=1)[0]
