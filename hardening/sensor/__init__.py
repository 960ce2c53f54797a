"""The appliance's SIP sensor: a silent listener recording SIP requests (scanners) for NET-SCAN-001.

One entry point: `python -m hardening.sensor --data-dir D --listen 0.0.0.0:5060`; the audit reads
what it recorded with `read_events(data_dir, since=None, limit=...)` (through `audit_source`).
"""
from hardening.sensor.reading import audit_source, read_events

__all__ = ["audit_source", "read_events"]
