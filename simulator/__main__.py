"""`python -m simulator --preset insecure`: run a whole site in the foreground and print its endpoints."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from simulator import presets
from simulator.site import start_site


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--preset", default="insecure", choices=presets.names())
    parser.add_argument("--base-port", type=int, default=0, help="first of sequential ports (0: ephemeral)")
    parser.add_argument("--real-ports", action="store_true",
                        help="standard ports (8080, 25, 5060, 161, 80 ...) on a random 127.x.y block; needs root")
    parser.add_argument("--address-block", default=None, help="first three octets, e.g. 127.0.0")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    parser.add_argument("--phones", type=int, default=None)
    parser.add_argument("--px", type=int, default=None)
    parser.add_argument("--no-snmp", action="store_true", help="do not start snmpsim")
    parser.add_argument("--with-credentials", action="store_true",
                        help="also print the inventory with the simulated devices' credentials")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        site = start_site(args.preset, args.base_port, args.latency_ms, phones=args.phones, px=args.px,
                          address_block=args.address_block, real_ports=args.real_ports, snmp=not args.no_snmp)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with site:
        out = site.endpoints()
        if args.with_credentials:
            out["inventory"] = site.inventory()
        print(json.dumps(out, indent=2), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
