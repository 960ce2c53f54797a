"""POST /sites/{id}/discover proposes inventory entries; nothing is added until an admin POSTs them."""
from __future__ import annotations

import ipaddress

import marshmallow as ma
from flask import current_app
from flask_smorest import abort
from sqlalchemy import select

from api.common import get_or_404
from api.errors import device_faults
from api.extensions import Blueprint, Schema
from api.fields import Network, Port
from device_drivers import egress
from device_drivers.allworx.discovery import discover
from store.db import session
from store.models import Device, Site

blp = Blueprint("Discovery", __name__, url_prefix="/api/v1", description="Find Allworx devices on the LAN")
MAX_HOSTS = 1024


class DiscoverArgsSchema(Schema):
    subnet = Network(required=True, metadata={"description": "A private LAN subnet, at most /22 (1024 hosts)"})
    tcp_ports = ma.fields.List(Port(), load_default=lambda: [8080, 80, 25, 110, 143],
                               validate=ma.validate.Length(1, 16))
    sip_ports = ma.fields.List(Port(), load_default=lambda: [5060], validate=ma.validate.Length(0, 4))
    snmp_ports = ma.fields.List(Port(), load_default=lambda: [161], validate=ma.validate.Length(0, 2))
    rate_per_second = ma.fields.Float(load_default=50.0, validate=ma.validate.Range(1, 200))
    concurrency = ma.fields.Integer(load_default=16, validate=ma.validate.Range(1, 64))
    total_seconds = ma.fields.Float(load_default=30.0, validate=ma.validate.Range(1, 90))


class ProposalSchema(Schema):
    kind = ma.fields.String()
    name = ma.fields.String()
    address = ma.fields.String()
    model = ma.fields.String()
    ports = ma.fields.Dict()
    snmp = ma.fields.Dict()
    mac = ma.fields.String(allow_none=True)
    evidence = ma.fields.List(ma.fields.Raw())
    in_inventory = ma.fields.Boolean(metadata={"description": "A device of this site already has the address"})


class DiscoveryReportSchema(Schema):
    proposals = ma.fields.List(ma.fields.Nested(ProposalSchema))
    unscanned = ma.fields.List(ma.fields.String(), metadata={"description": "Hosts cut off by the time limit"})
    probes_sent = ma.fields.Integer()
    elapsed_seconds = ma.fields.Float()


@blp.route("/sites/<int:site_id>/discover", methods=["POST"])
@blp.auth_required("audit")
@blp.arguments(DiscoverArgsSchema)
@blp.response(200, DiscoveryReportSchema)
@blp.errors(404)
def discover_site(args, site_id):
    """Probe a LAN subnet (bounded rate, concurrency and time) and propose inventory entries"""
    get_or_404(Site, site_id)
    net = ipaddress.ip_network(args.pop("subnet"))
    if not net.is_private:
        abort(422, message="Discovery only scans private LAN subnets.", errors={"json": {"subnet": ["Not private."]}})
    if net.num_addresses > MAX_HOSTS:
        abort(422, message=f"Subnet too large: at most {MAX_HOSTS} addresses per discovery.",
              errors={"json": {"subnet": [f"At most /{net.max_prefixlen - 10}."]}})
    with device_faults(field="subnet"):         # a subnet, not an inventory record: no opener, same allow-list
        egress.check_network(str(net), current_app.config["EGRESS_ALLOWED_NETWORKS"])
    hosts = [str(h) for h in (net.hosts() if net.num_addresses > 2 else net)]
    report = discover(hosts, **args)
    known = set(session().scalars(select(Device.address).where(Device.site_id == site_id)))
    proposals = [{**entry, "in_inventory": entry.get("address") in known} for entry in report.entries]
    return {"proposals": proposals, "unscanned": report.unscanned, "probes_sent": report.probes_sent,
            "elapsed_seconds": round(report.elapsed_seconds, 3)}
