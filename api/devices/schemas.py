"""Device schemas; credentials are write-only (load_only) and never dumped."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import FullRegexp, Id, IPAddress, Port, UTCDateTime, name_field
from device_drivers.facts import FACT_KEYS
from firewall.parsers import PLATFORMS
from store.secrets import SECRET_FIELDS

KINDS = ("allworx_server", "allworx_phone", "px_expander", "router", "switch")
NETWORK_KINDS = ("router", "switch")
SECRET_FACTS = ("phone_admin_password", "pnp_secret_key", "admin_password", "user_passwords")


CredentialsSchema = Schema.from_dict(
    {"username": ma.fields.String(validate=ma.validate.Length(max=100)),
     **{name: ma.fields.String(load_only=True, validate=ma.validate.Length(max=16384)) for name in SECRET_FIELDS}},
    name="CredentialsSchema")


class SnmpSchema(Schema):
    version = ma.fields.String(load_default="2c", validate=ma.validate.OneOf(("1", "2c", "3")))
    port = Port(load_default=161)
    username = ma.fields.String(validate=ma.validate.Length(max=100), metadata={"description": "SNMPv3 user"})


class HostKeySchema(Schema):
    type = ma.fields.String(required=True, validate=FullRegexp(r"^(ssh-|ecdsa-)[a-z0-9@.-]+$"))
    key = ma.fields.String(required=True, validate=FullRegexp(r"^[A-Za-z0-9+/]+={0,2}$"))
    sha256 = ma.fields.String(dump_only=True)


class DeviceSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    site_id = Id(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    name = name_field(required=True)
    address = IPAddress(required=True, metadata={"description": "LAN address"})
    wan_address = IPAddress(allow_none=True, load_default=None,
                            metadata={"description": "WAN address (Allworx server WAN port)"})
    ports = ma.fields.Dict(keys=ma.fields.String(validate=FullRegexp(r"^[a-z][a-z0-9_]{0,31}$")),
                           values=Port(), load_default=dict, validate=ma.validate.Length(max=32),
                           metadata={"description": "Service ports that differ from defaults, e.g. "
                                                    "{\"ssh\": 2222, \"web_admin\": 8080}"})
    model = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    device_type = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.OneOf(PLATFORMS),
                                   metadata={"description": "netmiko device_type (routers and switches)"})
    snmp = ma.fields.Nested(SnmpSchema, load_default=dict)
    declared_facts = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(
        [k for k in FACT_KEYS if k not in SECRET_FACTS])), load_default=dict,
        metadata={"description": "Facts an operator attests where no channel can read them"})
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    credentials = ma.fields.Nested(CredentialsSchema, load_only=True,
                                   metadata={"description": "Write-only; stored encrypted"})
    credentials_set = ma.fields.Method("_credentials_set", dump_only=True,
                                       metadata={"description": "Names of the secrets stored (never values)"})
    username = ma.fields.Method("_username", dump_only=True)
    ssh_host_key = ma.fields.Nested(HostKeySchema, allow_none=True, load_default=None,
                                    metadata={"description": "Pinned SSH host key (else recorded on first "
                                                             "contact)"})
    ssh_host_key_presented = ma.fields.Dict(dump_only=True, allow_none=True,
                                            metadata={"description": "A changed key the device presented; "
                                                                     "an admin must accept it"})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)

    def _credentials_set(self, obj):
        return list(obj.credential.fields) if obj.credential else []

    def _username(self, obj):
        return obj.credential.username if obj.credential else ""

    @ma.validates_schema
    def _device_type_for_network_kinds(self, data, **kwargs):
        if data.get("kind") in NETWORK_KINDS and not data.get("device_type"):
            raise ma.ValidationError("Required for routers and switches.", "device_type")
        if data.get("kind") not in NETWORK_KINDS and data.get("device_type"):
            raise ma.ValidationError("Only for routers and switches.", "device_type")


class DeviceQueryArgsSchema(Schema):
    site_id = Id(strict=False)
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
