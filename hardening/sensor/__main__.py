"""Command line: `python -m hardening.sensor --data-dir D --listen 0.0.0.0:5060 [--tcp] [--reply-200]`."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from hardening.sensor.listener import Sensor, SensorConfig


def parse_listen(text: str) -> tuple[str, int]:
    """'0.0.0.0:5060', '[::]:5060' or ':5060' -> (host, port); argparse shows the error on bad input."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"--listen {text!r}: expected HOST:PORT, e.g. 0.0.0.0:5060")
    return host, int(port)


def _positive(kind: type):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hardening.sensor",
                                     description="Silent SIP sensor: records SIP requests (scanners) to "
                                                 "<DATA_DIR>/sensor/events.jsonl for NET-SCAN-001.")
    parser.add_argument("--data-dir", required=True, type=Path, help="the appliance's DATA_DIR")
    parser.add_argument("--listen", action="append", type=parse_listen, metavar="HOST:PORT",
                        help="address to listen on (repeatable; default 0.0.0.0:5060)")
    parser.add_argument("--tcp", action="store_true", help="listen on TCP as well as UDP")
    parser.add_argument("--reply-200", action="store_true", help="answer '200 OK' (off: a sensor stays silent)")
    parser.add_argument("--scanners-only", action="store_true", help="record only requests from known scanners")
    parser.add_argument("--max-file-bytes", type=_positive(int), default=5 * 1024 * 1024)
    parser.add_argument("--keep-files", type=int, default=3, help="rotated files kept")
    parser.add_argument("--rate", type=_positive(float), default=1.0, help="records/second per source")
    parser.add_argument("--burst", type=_positive(int), default=20, help="records per source at once")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = SensorConfig(args.data_dir, args.listen or [("0.0.0.0", 5060)], args.tcp, args.reply_200,
                          args.scanners_only, args.max_file_bytes, args.keep_files, args.rate, args.burst)
    try:
        sensor = Sensor(config)
        bound = sensor.open()
    except (OSError, ValueError) as exc:
        print(f"sip sensor: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for proto, host, port in bound:
        print(f"sip sensor listening on {proto} {host}:{port}", flush=True)
    try:
        sensor.serve(stop)
    finally:
        sensor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
