"""Configuration classes: non-secret defaults only; secrets come from env vars or files."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Embedded defaults; layered under a settings file (AWXH_SETTINGS_FILE) and AWXH_* env vars."""
    API_TITLE = "Allworx Hardening Appliance"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Served by the appliance itself (swagger-ui-bundle): the box often has no internet access.
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"
    API_SPEC_OPTIONS = {
        "info": {"description": "Audits an Allworx phone site and its router against Allworx's security "
                                "best practices, verifies router port-forwards and enforces fixes safely."},
        "servers": [{"url": "/"}],
    }
    DATA_DIR = os.environ.get("AWXH_DATA_DIR", str(PROJECT_DIR / "var"))
    DATABASE_URL = ""                       # default: sqlite:///<DATA_DIR>/appliance.db
    ENCRYPTION_KEY = ""                     # default: <DATA_DIR>/secret.key (0600), created on first start
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024    # bigger bodies get 413 before any parsing (configs can be large)
    AUTH_FAILURE_LIMIT = 10                 # failed auths per client address ...
    AUTH_FAILURE_WINDOW_SECONDS = 300       # ... within this window, then 429 (for failures only: a valid
                                            # token is never refused because others failed from its address)
    TRUSTED_PROXY_HOPS = 0                  # reverse proxies in front (TLS terminator: 1); their
                                            # X-Forwarded-For then names the client. 0: the peer is the client
    AUDIT_LOG_MAX_ROWS = 100_000            # newest entries kept (~20 MB); older ones roll out, and every
                                            # entry also goes to the log (journald keeps the long history)
    REMEDIATION_PLAN_TTL_SECONDS = 900      # a plan older than this is `expired`, never applied: plan again
    REQUEST_COUNTER_RETENTION_DAYS = 7      # per-minute counts of unauthenticated / unrouted requests
    ROLE = "appliance"                      # or "probe": the outside vantage point (same software)
    AUDITS_IN_PARALLEL = 2                  # per process; one site never has two at once
    AUDITS_SYNCHRONOUS = False              # run in the request (only for scripts and tests)
    AUDIT_DEVICE_BUDGET_SECONDS = 60.0      # a device not done by then is an error result
    AUDIT_GATHER_WORKERS = 32               # devices gathered at once (I/O bound)
    CREDENTIAL_TESTS = True                 # gentle default-password tests (policy caps them per day)
    DRIVER_OPTIONS: dict = {}               # e.g. {"allworx": {"options": DriverOptions(timeout=5)}}
    EGRESS_ALLOWED_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "fc00::/7"]
    APPLIANCE_ADDRESS = ""                  # this box's LAN address: plans never cut its management path
    OUTSIDE_PROBE_URL = ""                  # https://probe.example.net:8443 (the same software, ROLE=probe)
    OUTSIDE_PROBE_TOKEN = ""                # a token of the probe's own database (secret: env var only)
    OUTSIDE_PROBE_CA = ""                   # CA/cert file pinning the probe's TLS certificate
    PROBE_ALLOWED_TARGETS: list = []        # probe role: the only addresses it will probe (CIDRs)
    ROUTER_DRIVER_OPTIONS: dict = {}        # e.g. {"timeouts": Timeouts(...)}
    SIP_SENSOR_EVENTS = False               # audits read <DATA_DIR>/sensor/ (run python -m hardening.sipsensor)
    BACKGROUND_DUTIES = True                # schedules and webhook deliveries (one process leads)
    WEBHOOK_ALLOWED_NETWORKS: list = []     # non-public receivers allowed explicitly, e.g. ["10.0.5.0/24"]
    PUBLIC_BASE_URL = ""                    # https://awxh.example.net:8443 as receivers reach this box: webhook
                                            # links are absolute from it (unset: null links and a note saying so)
    JSON_SORT_KEYS = False


class TestConfig(DefaultConfig):
    TESTING = True
    BACKGROUND_DUTIES = False               # tests run the duties explicitly
    EGRESS_ALLOWED_NETWORKS = ["127.0.0.0/8"]   # tests contact loopback only (lab tests add their namespaces)
    AUTH_FAILURE_LIMIT = 5
