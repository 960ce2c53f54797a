"""Marshmallow fields for network values: validated and normalised to plain strings."""
from __future__ import annotations

import ipaddress

import marshmallow as ma

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_CIDR_PATTERN = rf"^({_OCTET}\.){{3}}{_OCTET}/(3[0-2]|[12]?[0-9])$"
_H = "[0-9a-fA-F]{1,4}"
_IPV6 = (f"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}"
         f"|({_H}:){{1,4}}(:{_H}){{1,3}}|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}"
         f"|{_H}:((:{_H}){{1,6}})|:((:{_H}){{1,7}}|:))")
IPV6_CIDR_PATTERN = f"^{_IPV6}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$"
IP_DOC = {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
NETWORK_DOC = {"anyOf": [{"pattern": IPV4_CIDR_PATTERN}, {"pattern": IPV6_CIDR_PATTERN},
                         {"format": "ipv4"}, {"format": "ipv6"}],
               "description": "CIDR network; host bits are cleared (192.168.1.5/24 -> 192.168.1.0/24)"}


class FullRegexp(ma.validate.Regexp):
    r"""Regexp validation of the whole value (documented as the same `pattern`).

    marshmallow's Regexp uses re.match, and Python's `$` also matches before a final newline: "name\n"
    would pass "^[^\x00-\x1f]+$". A JSON Schema validator (and so every client) would refuse it.
    """

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class IPAddress(ma.fields.String):
    """An IPv4/IPv6 address, stored as its canonical string."""
    default_error_messages = {"invalid_ip": "Not a valid IP address."}

    def __init__(self, **kwargs):
        kwargs["metadata"] = {**IP_DOC, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise self.make_error("invalid_ip") from None


class Network(ma.fields.String):
    """A CIDR network stored canonical (host bits cleared); a bare address means /32 or /128."""
    default_error_messages = {"invalid_network": "Not a valid network in CIDR form (e.g. 192.168.1.0/24)."}

    def __init__(self, **kwargs):
        kwargs["metadata"] = {**NETWORK_DOC, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise self.make_error("invalid_network") from None


SQLITE_MAX_INT = 2**63 - 1


class Id(ma.fields.Integer):
    """A row id given in a body or query: 1 .. 2**63-1 (SQLite's integer range; a bigger Python int
    cannot even be sent to the database)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(1, SQLITE_MAX_INT))
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


class Port(ma.fields.Integer):
    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(1, 65535))
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


def name_field(**kwargs) -> ma.fields.String:
    """A human name: 1-100 printable characters, no control characters."""
    return ma.fields.String(validate=[ma.validate.Length(1, 100),
                                      FullRegexp(r"^[^\x00-\x1f\x7f]+$",
                                                 error="Must not contain control characters.")],
                            **kwargs)


class UTCDateTime(ma.fields.DateTime):
    """Timestamps are stored naive in UTC; they leave the API as RFC 3339 with an explicit offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            from datetime import timezone
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)
