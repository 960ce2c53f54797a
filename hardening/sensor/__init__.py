"""The appliance's SIP sensor: a silent listener recording SIP requests (scanners) for NET-SCAN-001.

Run it with `python -m hardening.sensor --data-dir D --listen 0.0.0.0:5060`; the audit reads what it
recorded with `read_events(data_dir, since=None)`.
"""
from hardening.sensor.store import read_events

__all__ = ["read_events"]
