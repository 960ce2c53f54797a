"""A SIP sensor that saw no scanner says nothing about the site's devices and router: a site whose only
decided results are the sensor's passes is UNKNOWN, not OK; a scanner the sensor did see still counts."""
from hardening.model import scoring
from hardening.model.catalog import catalog

HEALTH = [{"device_id": 1, "name": "pbx", "kind": "allworx_server", "reached": None, "channels": {}, "reason": None}]


def _row(check_id: str, status: str) -> dict:
    return {"check_id": check_id, "status": status, "severity": catalog()[check_id]["severity"], "waived": False,
            "target": "", "message": ""}


def test_only_the_sensors_passes_decide_nothing():
    rows = [_row("NET-SCAN-001", "pass"), _row("NET-SCAN-002", "pass"), _row("NET-SCAN-003", "pass"),
            _row("AWX-SRV-001", "manual"), _row("NET-NAT-001", "not_applicable")]
    assert scoring.overall(rows, HEALTH) == "UNKNOWN"


def test_a_scanner_inside_the_lan_is_still_critical():
    rows = [_row("NET-SCAN-002", "fail"), _row("AWX-SRV-001", "manual")]
    assert scoring.overall(rows, HEALTH) == "CRITICAL"


def test_a_decided_device_check_beside_the_sensor_is_ok():
    rows = [_row("NET-SCAN-002", "pass"), _row("AWX-SRV-001", "pass")]
    assert scoring.overall(rows, HEALTH) == "OK"
