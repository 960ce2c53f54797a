"""Site schemas."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import FullRegexp, IPAddress, Network, UTCDateTime, name_field
from hardening.jobs import cron
from hardening.model import services


class WanService(FullRegexp):
    """A required WAN service: a known policy service name (any case), 'rtp', or 'proto/ports'.

    hardening.model.services decides (validation_error) and words the refusal (it names the field and
    the known names); the pattern documents exactly the same set."""

    def __init__(self):
        super().__init__(services.schema_pattern())

    def __call__(self, value):
        why = services.validation_error(value)
        if why is not None:
            raise ma.ValidationError(why)
        return value


SERVICE_NAME = WanService()


def _known_zone(value: str) -> None:
    try:
        cron.zone(value)
    except cron.CronError as exc:
        raise ma.ValidationError(str(exc)) from None


class SiteSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = name_field(required=True)
    wan_addresses = ma.fields.List(IPAddress(), load_default=list, validate=ma.validate.Length(max=16),
                                   metadata={"description": "Public addresses of the site"})
    lan_subnets = ma.fields.List(Network(), load_default=list, validate=ma.validate.Length(max=64))
    voice_vlan_id = ma.fields.Integer(allow_none=True, load_default=None, strict=True,
                                      validate=ma.validate.Range(1, 4094))
    voice_subnet = Network(allow_none=True, load_default=None)
    required_wan_services = ma.fields.List(ma.fields.String(validate=SERVICE_NAME), load_default=list,
                                           validate=ma.validate.Length(max=64),
                                           metadata={"description": "WAN services the site needs: a policy "
                                                                    "service name (any case, e.g. 'sip'), 'rtp' (the "
                                                                    "policy's RTP ranges, UDP) or proto/ports with "
                                                                    "proto tcp, udp or tcp_udp (e.g. 'tcp/443', "
                                                                    "'udp/15000-15511'); forwards they cover are "
                                                                    "expected and never removed"})
    allowed_sip_peers = ma.fields.List(Network(), load_default=list, validate=ma.validate.Length(max=64),
                                       metadata={"description": "Sources (ITSP, remote offices) allowed to "
                                                                "reach SIP/RTP forwards"})
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    timezone = ma.fields.String(load_default=cron.UTC, validate=[ma.validate.Length(1, 64), _known_zone],
                                metadata={"description": "IANA time zone of the site (e.g. 'America/New_York'); "
                                                         "its schedules run on these clocks",
                                          "enum": list(cron.zone_names())})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class SiteQueryArgsSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
