"""Server checks: software level, WAN services, voicemail mail ports, admin logins and password strength."""
from __future__ import annotations

import re
from typing import Any

from device_drivers.facts import DeviceFacts, Fact
from hardening.checks.common import (
    NO_SERVER,
    assess,
    bad_value,
    device_result,
    fact_evidence,
    login_result,
    outside_probes,
    per_device,
    prior_verdict,
    read_fact,
    reveal,
    secret_evidence,
    undecided,
)
from hardening.checks.registry import register_check
from hardening.model.probes import answered
from hardening.model.results import CheckResult, Evidence
from hardening.model.services import RequiredServices, required_services
from hardening.model.site import SiteFacts

SERVER = ("allworx_server",)
MAIL_GREETING = "inscitek ois"      # the Allworx mail service greets with this, lower-cased (nmap 3384, 2719)
UNKNOWN_LINE_POLICIES = ("manual", "pass", "fail")


# --- AWX-SRV-001: software level ----------------------------------------------------------------

def parse_version(text: Any) -> tuple[int, ...] | None:
    """'7.4.10.2' -> (7, 4, 10, 2); a leading 'v' is allowed; anything else -> None."""
    match = re.fullmatch(r"[vV]?(\d{1,9}(?:\.\d{1,9})*)", str(text).strip())
    return tuple(int(part) for part in match[1].split(".")) if match else None


def compare_versions(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """-1, 0 or 1, part by part as numbers; missing parts count as 0 ('7.4' == '7.4.0.0')."""
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


def _minimum_for(version: tuple[int, ...], table: dict[str, Any]) -> tuple[str, tuple[int, ...]] | None:
    """The table entry of the longest line ('7.4', or '8') that prefixes the version; ValueError names a bad entry."""
    best: tuple[str, tuple[int, ...]] | None = None
    for line, minimum in table.items():
        key, floor = parse_version(line), parse_version(minimum)
        if key is None or floor is None:
            raise ValueError(f"policy min_versions entry {line!r}: {minimum!r} is not a version")
        if version[:len(key)] == key and (best is None or len(key) > len(parse_version(best[0]))):
            best = (str(line), floor)
    return best


def _policy_error(dev: DeviceFacts, evidence: list[Evidence], why: str) -> CheckResult:
    return device_result("AWX-SRV-001", dev, "error", f"could not decide: {why}", evidence)


def _judge_version(dev: DeviceFacts, fact: Fact, policy) -> CheckResult:
    text = str(fact.value).strip()
    evidence = [fact_evidence(fact, f"software version {text}")]
    version = parse_version(text)
    if version is None or len(version) < 2:
        return bad_value("AWX-SRV-001", dev, "software_version", fact, "is not a version like 7.4.10.2")
    floor_text = str(policy.get("min_version_floor", ""))
    floor, line_policy = parse_version(floor_text), str(policy.get("unknown_line_policy", "manual"))
    if floor is None:
        return _policy_error(dev, evidence, f"policy min_version_floor {floor_text!r} is not a version")
    if line_policy not in UNKNOWN_LINE_POLICIES:
        return _policy_error(dev, evidence, f"policy unknown_line_policy {line_policy!r} is not one of "
                             f"{', '.join(UNKNOWN_LINE_POLICIES)}")
    if compare_versions(version[:len(floor)], floor) < 0:
        return device_result("AWX-SRV-001", dev, "fail", f"{text} is older than line {floor_text}, the oldest "
                             "acceptable", evidence, text, f">= {floor_text}")
    try:
        entry = _minimum_for(version, policy.get("min_versions") or {})
    except ValueError as exc:
        return _policy_error(dev, evidence, str(exc))
    if entry is None:
        line = ".".join(map(str, version[:2]))
        message = f"line {line} has no minimum build in policy min_versions (unknown_line_policy: {line_policy})"
        return device_result("AWX-SRV-001", dev, line_policy, message, evidence, text)
    line, minimum = entry
    wanted = ".".join(map(str, minimum))
    if compare_versions(version, minimum) < 0:
        return device_result("AWX-SRV-001", dev, "fail", f"{text} is below {wanted}, the minimum of line {line}",
                             evidence, text, f">= {wanted}")
    return device_result("AWX-SRV-001", dev, "pass", f"{text} is at or above {wanted} (line {line})", evidence,
                         text, f">= {wanted}")


@register_check("AWX-SRV-001")
def software_level(facts: SiteFacts, policy) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        fact, instead = read_fact("AWX-SRV-001", dev, "software_version", "software version unknown: read it "
                                  "over SNMP or the web admin, or declare it")
        return instead or _judge_version(dev, fact, policy)
    return per_device("AWX-SRV-001", facts, SERVER, NO_SERVER, one)


# --- AWX-SRV-003: WAN services ------------------------------------------------------------------

def parse_port(entry: Any) -> tuple[str, int] | None:
    """'tcp/25', '25/tcp', 'udp/5060' or 25 (tcp) -> (proto, port); None when unreadable."""
    if isinstance(entry, int) and not isinstance(entry, bool):
        return ("tcp", entry) if 0 < entry < 65536 else None
    text = str(entry).strip().lower()
    left, _, right = text.partition("/")
    proto, number = (left, right) if right and not left.isdigit() else (right or "tcp", left)
    if proto not in ("tcp", "udp") or not number.isdigit() or not 0 < int(number) < 65536:
        return None
    return proto, int(number)


def covering_service(proto: str, port: int, services: RequiredServices) -> str | None:
    """The required WAN service(s) that explain an open port (hardening.model.services), or None."""
    return services.port(proto, port).label


def _open_wan_ports(dev: DeviceFacts, facts: SiteFacts, notes: list[Evidence]) -> list[tuple[Any, Evidence]]:
    """(port entry, evidence) for every port seen open on the WAN address: the fact and outside probes.
    A probe that could not decide (answered None) is noted, never taken as closed or open."""
    found: list[tuple[Any, Evidence]] = []
    fact = dev.get("wan_open_ports")
    if fact is not None and isinstance(fact.value, (list, tuple, set)):
        found += [(entry, fact_evidence(fact, f"{entry} open on the WAN address")) for entry in fact.value]
    for key, record in outside_probes(dev, facts).items():
        heard = answered(record) if parse_port(key) else False    # icmp, pptp/..., http_get/...: not ports
        if heard is None:
            notes.append(Evidence(f"outside probe: {key} undecided on the WAN address (not evidence)",
                                  str(record)[:200], f"probe:{key}", "observed"))
        elif heard:
            found.append((key, Evidence(f"outside probe: {key} answers on the WAN address", str(record)[:200],
                                        f"probe:{key}", "observed")))
    return found


def _service_fails(dev: DeviceFacts, required: list[str], fails: list[Evidence], notes: list[Evidence]) -> list[str]:
    """Sort the wan_services fact into the verdict; returns the enabled services not required."""
    fact = dev.get("wan_services")
    if fact is None:
        return []
    wanted = {name.lower() for name in required}
    enabled = sorted(str(name) for name, on in fact.value.items() if on is True)
    extra = [name for name in enabled if name.lower() not in wanted]
    fails += [fact_evidence(fact, f"WAN service {name!r} is enabled but not a required service") for name in extra]
    notes.append(fact_evidence(fact, f"WAN services enabled: {', '.join(enabled) or 'none'}"))
    return extra


@register_check("AWX-SRV-003")
def wan_services_minimal(facts: SiteFacts, policy) -> list[CheckResult]:
    required = list(facts.site.required_wan_services)
    matcher = required_services(required, policy)
    shown = ", ".join(required) or "none"
    declared = [Evidence(note, ", ".join(required), "site:required_wan_services", "declared")
                for note in matcher.notes]

    def one(dev: DeviceFacts) -> CheckResult:
        notes: list[Evidence] = list(declared)
        services, ports = dev.get("wan_services"), _open_wan_ports(dev, facts, notes)
        if services is not None and not isinstance(services.value, dict):
            return bad_value("AWX-SRV-003", dev, "wan_services", services, "is not a name -> enabled mapping")
        if services is None and not ports:
            return undecided("AWX-SRV-003", dev, "wan_services", "WAN services unknown: read the web admin, "
                             "probe the WAN address from outside, or declare wan_services", evidence=notes)
        fails: list[Evidence] = []
        extra = _service_fails(dev, required, fails, notes)
        for entry, evidence in ports:
            parsed = parse_port(entry)
            service = covering_service(*parsed, matcher) if parsed else None
            evidence.detail += f" (required service {service})" if service else " (not a required service)"
            (notes if service else fails).append(evidence)
            extra += [] if service else [f"{entry} open"]
        if fails:
            return device_result("AWX-SRV-003", dev, "fail", f"WAN services beyond the required ones ({shown}): "
                                 + ", ".join(extra), fails + notes, observed=extra, expected=required)
        if any(answered(record) is None for key, record in outside_probes(dev, facts).items() if parse_port(key)):
            return device_result("AWX-SRV-003", dev, "error", "could not decide: the outside probe could not "
                                 "tell which ports answer on the WAN address", notes, expected=required)
        return device_result("AWX-SRV-003", dev, "pass", f"only required WAN services are on ({shown})", notes,
                             expected=required)
    return per_device("AWX-SRV-003", facts, SERVER, NO_SERVER, one)


# --- AWX-SRV-004: voicemail mail ports ----------------------------------------------------------

def _as_port(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 and not isinstance(value, bool) else None


def _banner_fails(dev: DeviceFacts, standard: set[int]) -> list[Evidence]:
    fact = dev.get("banners")
    if fact is None or not isinstance(fact.value, dict):
        return []
    hits = []
    for key, banner in fact.value.items():
        parsed = parse_port(key)
        if parsed and parsed[1] in standard and MAIL_GREETING in str(banner).lower():
            hits.append(fact_evidence(fact, f"the Allworx mail service greets on standard port {key}",
                                      excerpt=f"{key}: {banner}"))
    return hits


def _probe_answers(dev: DeviceFacts) -> Evidence | None:
    """Evidence that the probes reached the server: its probes channel did not fail and it answered on at
    least one port. Every standard mail port closed on a host that answers nothing (a mistyped address,
    a dead server) says nothing about where its mail service listens: None then."""
    if "probes" in dev.errors or "gather" in dev.errors:
        return None
    for key, what in (("open_ports", "open"), ("banners", "greeting")):
        fact = dev.get(key)
        if fact is not None and fact.provenance == "observed" and isinstance(fact.value, (list, dict)) and fact.value:
            return fact_evidence(fact, f"probe of the standard mail ports: the server answered ({what} on "
                                 f"{', '.join(sorted(map(str, fact.value)))[:120]})")
    return None


@register_check("AWX-SRV-004")
def mail_ports_moved(facts: SiteFacts, policy) -> list[CheckResult]:
    smtp_std, imap_std = set(policy["standard_smtp_ports"]), set(policy["standard_imap_ports"])

    def one(dev: DeviceFacts) -> CheckResult:
        fails, notes = _banner_fails(dev, smtp_std | imap_std), []
        for name, key, standard in (("SMTP", "smtp_port", smtp_std), ("IMAP", "imap_port", imap_std)):
            fact = dev.get(key)
            if fact is None:
                continue
            port = _as_port(fact.value)
            if port is None:
                return bad_value("AWX-SRV-004", dev, key, fact, "is not a port number")
            on_standard = port in standard
            evidence = fact_evidence(fact, f"voicemail {name} on {'standard' if on_standard else 'port'} {port}")
            (fails if on_standard else notes).append(evidence)
        if fails:
            return device_result("AWX-SRV-004", dev, "fail", fails[0].detail, fails + notes)
        settings = None
        if dev.get("smtp_port") is not None:
            # an error instead when the setting is only declared and the web admin could not be read
            settings = device_result("AWX-SRV-004", dev, "pass", "voicemail SMTP/IMAP are off the standard ports "
                                     "(device settings)", notes)
            if settings.status == "pass":
                return settings
        heard = _probe_answers(dev)
        if heard is not None:          # the probes decide; a declared port setting is only a note beside them
            read = [n for n in notes if n.provenance in ("device", "observed")]
            return device_result("AWX-SRV-004", dev, "pass", "voicemail SMTP/IMAP are off the standard ports (no "
                                 "Allworx mail greeting on them; the server answered the probes)", read + [heard])
        return settings or undecided("AWX-SRV-004", dev, "smtp_port", "mail ports unknown: read the web admin, "
                                     "probe the server, or declare smtp_port and imap_port")
    return per_device("AWX-SRV-004", facts, SERVER, NO_SERVER, one)


# --- AWX-SRV-005 / 006: admin logins and password strength --------------------------------------

@register_check("AWX-SRV-005")
def admin_default_credentials(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-SRV-005", facts, SERVER, NO_SERVER,
                      lambda dev: login_result("AWX-SRV-005", dev, "the server admin login",
                                               prior_verdict(facts, "AWX-SRV-005", dev)))


def _stored_secrets(dev: DeviceFacts) -> list[tuple[str, Fact, Any]]:
    """(label, fact, secret) for the server admin, phone admin and every user password the appliance holds."""
    found = [(label, dev.get(key), dev.value(key)) for key, label in
             (("admin_password", "server admin password"), ("phone_admin_password", "phone admin password"))
             if dev.get(key) is not None]
    users = dev.get("user_passwords")
    if users is not None and isinstance(users.value, dict):
        found += [(f"user {name} password", users, secret) for name, secret in sorted(users.value.items())]
    return found


@register_check("AWX-SRV-006")
def strong_passwords(facts: SiteFacts, policy) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        fails, notes = [], []
        secrets = _stored_secrets(dev)
        for label, fact, secret in secrets:
            password = reveal(secret)
            if password is None:
                fails.append(fact_evidence(fact, f"{label}: not a password value", excerpt=""))
                continue
            strength = assess(password, policy, [dev.name, facts.site.name])
            (fails if strength.failed else notes).append(secret_evidence(fact, strength, label))
        require = dev.get("require_strong_passwords")
        if require is not None:
            on = require.value is True
            evidence = fact_evidence(require, f"'Require Strong Passwords' is {'on' if on else 'off'}")
            (notes if on else fails).append(evidence)
        if fails:
            return device_result("AWX-SRV-006", dev, "fail", f"{len(fails)} problem(s): {fails[0].detail}",
                                 fails + notes)
        if require is None:
            return undecided("AWX-SRV-006", dev, "require_strong_passwords", "'Require Strong Passwords' unknown: "
                             "read the web admin or declare it", evidence=notes)
        if not secrets:
            return device_result("AWX-SRV-006", dev, "manual", "'Require Strong Passwords' is on, but the appliance "
                                 "holds no password to score: a person must confirm the admin passwords", notes)
        return device_result("AWX-SRV-006", dev, "pass", f"{len(secrets)} stored password(s) are strong and "
                             "'Require Strong Passwords' is on", notes)
    return per_device("AWX-SRV-006", facts, SERVER, NO_SERVER, one)
