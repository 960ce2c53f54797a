"""Device schemas; credentials are write-only (load_only) and never dumped."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import FullRegexp, Id, IPAddress, Port, UTCDateTime, name_field
from device_drivers.facts import FACT_KEYS
from device_drivers.hostkeys import check_pin
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


SHA256_FINGERPRINT = r"^SHA256:[A-Za-z0-9+/]{43}$"


class HostKeySchema(Schema):
    type = ma.fields.String(required=True, validate=FullRegexp(r"^(ssh-|ecdsa-)[a-z0-9@.-]+$"))
    key = ma.fields.String(validate=FullRegexp(r"^[A-Za-z0-9+/]+={0,2}$"),
                           metadata={"description": "Base64 public-key blob (or give only sha256)"})
    sha256 = ma.fields.String(validate=FullRegexp(SHA256_FINGERPRINT), metadata={
        "description": "OpenSSH SHA256 fingerprint; must match `key` when both are given"})

    @ma.post_load
    def _normalised(self, data, **kwargs):
        try:
            return check_pin(data)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class HostKeyAcceptSchema(Schema):
    sha256 = ma.fields.String(required=True, validate=FullRegexp(SHA256_FINGERPRINT), metadata={
        "description": "The fingerprint of the presented key (ssh_host_key_presented.sha256) that was checked "
                       "on the device; 409 when the device now presents another key"})


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
    ssh_host_key = ma.fields.Nested(HostKeySchema, allow_none=True, metadata={"description": (
        "Pinned SSH host key (else recorded on first contact). Left out of a PUT: the pin stays; null: "
        "unpinned (the next contact pins what it sees)")})
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


READ_ONLY_FIELDS = [name for name, f in DeviceSchema().fields.items() if f.dump_only]


class DeviceUpdateSchema(DeviceSchema):
    """A PUT body: the device's fields, and the read-only ones of its GET as they were (a round trip)."""

    @ma.pre_load
    def _read_only_echoes(self, data, **kwargs):
        # compared with the stored device by the view (echoed_read_only_fields), not loaded
        return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS} if isinstance(data, dict) else data


class DeviceQueryArgsSchema(Schema):
    site_id = Id(strict=False)
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
