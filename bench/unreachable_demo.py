"""The demo site (simulator/demo.py, `make demo`) with its Allworx server address mistyped: what the
appliance says about it. Issue 13: this used to audit to a high score with AWX-SRV-004, -005 and -006
passing although nothing answered at that address. No timing: it prints.

    .venv/bin/python bench/unreachable_demo.py                    # both presets, server moved to 127.0.0.77
    .venv/bin/python bench/unreachable_demo.py --address 127.0.0.99 --preset secure

`make demo` audits the insecure preset (`app.py demo --preset secure` the other one); the secure one is
where the three checks used to pass, at 100/100 and WARNING with nothing failing.

Everything stays on loopback: the simulated site on 127.0.0.x, the appliance in this process (the
production settings of `make demo`, on a throw-away data directory), driven through its REST API.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKS = ("AWX-SRV-005", "AWX-SRV-004", "AWX-SRV-006")


def run(address: str, preset: str) -> dict:
    from api.auth import new_token
    from app import create_app
    from simulator import start_site
    from simulator.seed import flask_call, seed_site

    data_dir = tempfile.mkdtemp(prefix="awxh-unreachable-")
    try:
        app = create_app({"DATA_DIR": data_dir, "AUDITS_SYNCHRONOUS": True, "BACKGROUND_DUTIES": False})
        with app.app_context(), app.extensions["db"].session() as sess:
            _row, token = new_token(sess, "unreachable-demo", "admin")
            sess.commit()
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        with start_site(preset) as site:                 # as `make demo` starts it (SNMP on)
            inventory = site.inventory()
            server = next(d for d in inventory if d["kind"] == "allworx_server")
            typed = {"real": server["address"], "typed": address}
            server["address"] = address                      # the typo: nothing listens there
            site_id = seed_site(flask_call(client, headers), "Demo Dental Office", inventory,
                                site_fields={"lan_subnets": ["127.0.0.0/8"], "required_wan_services": ["sip", "vpn"]})
            started = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": "baseline"}, headers=headers)
            audit = client.get(started.headers["Location"], headers=headers).json
            rows = client.get(f"{started.headers['Location']}/results", headers=headers).json
            status = client.get(f"/api/v1/sites/{site_id}/status", headers=headers).json
        return {"addresses": typed, "audit": audit, "rows": rows, "status": status, "server": server["name"]}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def show(found: dict) -> None:
    audit, status = found["audit"], found["status"]
    summary = audit.get("summary") or {}
    score = status.get("score") or {}
    print(f"server address: {found['addresses']['typed']} (the simulator's server is at {found['addresses']['real']})")
    print(f"audit {audit['id']}: {audit['state']}")
    print(f"status: {status['overall']} (nagios {status['nagios_code']}, N-able {status['nable_code']})")
    print(f"score: raw {score.get('raw')}, waived {score.get('waived')}"
          + (f", withheld: {score['withheld']}" if score.get("withheld") else ""))
    for entry in audit.get("health") or summary.get("health") or []:
        if entry.get("name") == found["server"]:
            channels = ", ".join(f"{name} {c['state']}" + (f" ({c['reason']})" if c.get("reason") else "")
                                 for name, c in entry["channels"].items())
            print(f"health of {entry['name']}: reached {json.dumps(entry['reached'])}, reason {entry['reason']}: "
                  f"{channels}")
    for check_id in CHECKS:
        for row in (r for r in found["rows"] if r["check_id"] == check_id):
            print(f"{check_id} {row['target']}: {row['status']}: {row['message']}")
    print("problems, worst first:")
    for problem in (summary.get("problems") or [])[:5]:
        print(f"  [{problem['severity']}] {problem['text']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.77", help="the mistyped server address (loopback only)")
    parser.add_argument("--preset", default="both", choices=("both", "insecure", "secure"),
                        help="the simulator preset(s): the demo's (insecure), its --preset secure, or both")
    args = parser.parse_args()
    if not args.address.startswith("127."):
        parser.error("--address must be a loopback address (127.x.y.z): this script sends traffic to it")
    for number, preset in enumerate(("insecure", "secure") if args.preset == "both" else (args.preset,)):
        print(("\n" if number else "") + f"== the demo site, {preset} preset, server address mistyped")
        show(run(args.address, preset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
