"""Site schemas."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import FullRegexp, IPAddress, Network, UTCDateTime, name_field

SERVICE_NAME = FullRegexp(r"^(tcp|udp)/\d{1,5}$|^[a-z][a-z0-9_-]{0,31}$",
                          error="Use a service name (e.g. 'sip') or 'tcp/5060'.")


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
                                           metadata={"description": "WAN services the site needs, e.g. 'sip', "
                                                                    "'tcp/443'; forwards for them are expected"})
    allowed_sip_peers = ma.fields.List(Network(), load_default=list, validate=ma.validate.Length(max=64),
                                       metadata={"description": "Sources (ITSP, remote offices) allowed to "
                                                                "reach SIP/RTP forwards"})
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class SiteQueryArgsSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
