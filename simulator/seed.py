"""Load a simulated site's inventory into an appliance through its REST API (demo, tests, benchmarks)."""
from __future__ import annotations

from typing import Any, Callable

# call(method, path, json) -> (status_code, body); works over a Flask test client or requests
Call = Callable[[str, str, Any], tuple[int, Any]]
DEVICE_KEYS = ("kind", "name", "address", "wan_address", "model", "ports", "snmp", "declared_facts")


def flask_call(client, headers: dict[str, str]) -> Call:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        resp = client.open(path, method=method, json=body, headers=headers)
        return resp.status_code, resp.get_json(silent=True)
    return call


def seed_site(call: Call, name: str, inventory: list[dict[str, Any]], *, site_fields: dict | None = None,
              extra_devices: list[dict[str, Any]] = ()) -> int:
    """Create the site and every device (with credentials); returns the site id. Raises on any refusal."""
    status, site = call("POST", "/api/v1/sites", {"name": name, **(site_fields or {})})
    if status != 201:
        raise RuntimeError(f"site not created ({status}): {site}")
    for entry in [*inventory, *extra_devices]:
        body = {k: entry[k] for k in DEVICE_KEYS if entry.get(k) not in (None, {}, "")}
        body.update(site_id=site["id"], credentials=entry.get("credentials") or {})
        if entry.get("device_type"):
            body["device_type"] = entry["device_type"]
        status, dev = call("POST", "/api/v1/devices", body)
        if status != 201:
            raise RuntimeError(f"device {entry.get('name')} not created ({status}): {dev}")
    return site["id"]
