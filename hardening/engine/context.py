"""What an audit run takes from the process that accepted it: one typed, explicit set of inputs.

api.wiring.audit_context builds it from the app (its config and extensions) when the audit is
submitted; the runner hands it to audits.execute, which reads it by attribute (no optional dict keys).
Tests build one directly: every field has a safe default (no credential tests, no outside probe, no
SIP sensor, egress limited to the private ranges).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from device_drivers import egress
from hardening.engine.outside import ProbeEndpoint

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from store.audit_models import Audit
    from store.models import Site
    from store.secrets import SecretBox

TakeAttempt = Callable[[str], bool]        # device_key -> True while the device has login attempts left today
SensorSource = Callable[["Site"], "list[dict[str, Any]] | None"]
OnFinished = Callable[["Session", "Audit"], None]


@dataclass
class AuditContext:
    """The inputs of one audit run besides its database row (site, profile)."""

    # Decrypts the devices' stored credentials (store.secrets.SecretBox); None: the process's default box.
    secret_box: SecretBox | None = None
    # Each device must be read within this many seconds (else: an error result, never a pass).
    device_budget_seconds: float = 60.0
    # Devices gathered at once (the gathering is I/O bound).
    gather_workers: int = 32
    # Networks devices may be contacted in (EGRESS_ALLOWED_NETWORKS); None: no check, for tests only.
    egress_allowed: list[str] | None = field(default_factory=lambda: list(egress.DEFAULT))
    # The opener's driver options: {"allworx": from_inventory keyword arguments or a DriverOptions,
    # "router": NetmikoRouterDriver keyword arguments} (app config DRIVER_OPTIONS).
    driver_options: dict[str, Any] = field(default_factory=dict)
    # The gentle credential test's attempt budget (CREDENTIAL_TESTS); None: no credential test runs.
    take_attempt: TakeAttempt | None = None
    # site -> this appliance's SIP sensor records for NET-SCAN-001 (SIP_SENSOR_EVENTS); None: no sensor.
    sensor_events: SensorSource | None = None
    # The outside probe (OUTSIDE_PROBE_URL/TOKEN/CA); None: not configured, nothing is asked.
    outside_probe: ProbeEndpoint | None = None
    # Called with (session, audit) once the audit has completed or failed (webhooks); errors are logged.
    on_finished: OnFinished | None = None
