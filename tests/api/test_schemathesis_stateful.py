"""Schemathesis in stateful mode: sequences of calls that follow the spec's links, checked at every step.

The committed spec links each create to the calls that use its result: read, replace and delete with
the id and the ETag for If-Match (sites, devices), revoke (tokens, waivers), delete (schedules,
webhooks), follow / results / rerun / pin as baseline (audits), close (install windows), apply /
confirm / rollback (remediations). Schemathesis adds the links it infers from ids in responses.
Three machines: the site-centred chains and the token/webhook chains over the spec's links only (few
starting points, so the chains get walked), and every operation with the inferred links as well.
Each step is checked like tests/api/test_schemathesis.py checks single calls (no 5xx, status, headers
and body as documented, with the same documented exclusions), plus schemathesis' stateful checks (a
deleted resource is gone, a created one can be read) and one of ours: an ETag the API just returned
for a site or device is accepted as If-Match.

Deterministic as far as a live server allows: fixed seeds, no example database, and every scenario
starts from the same seeded database (a scenario's writes would otherwise change what the next one
draws). Bounded: AWXH_STATEFUL_SCENARIOS scenarios (default 30: twice that for the site chains and
for every operation, whose deeper chains (site -> device -> audit -> results) need the draws; half for
tokens and webhooks) of up to AWXH_STATEFUL_STEPS steps (default 20).
"""
import atexit
import copy
import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky, FlakyFailure
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import missing_required_header, negative_data_rejection, positive_data_acceptance
from sqlalchemy import event

from api.settings import TestConfig
from app import create_app
from hardening.jobs import cron
from store.db import get_db
from tests.api.spec_exclusions import DEVICE_CONTACT, SEMANTIC, negates_authorization

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
SPEC_DOC = json.loads(SPEC.read_text(encoding="utf-8"))
SCENARIOS = int(os.environ.get("AWXH_STATEFUL_SCENARIOS", "30"))        # Linked- and AllWorkflows 2x
STEPS_PER_SCENARIO = int(os.environ.get("AWXH_STATEFUL_STEPS", "20"))

# Resources with ETags: an ETag the API returned (and nothing changed since) must be accepted.
ETAGGED = {"/api/v1/sites/{site_id}": "site_id", "/api/v1/devices/{device_id}": "device_id"}
COLLECTIONS = {"/api/v1/sites": "/api/v1/sites/{site_id}", "/api/v1/devices": "/api/v1/devices/{device_id}"}


def _seeded_app():
    """One app, a site with a device, the fuzzer's admin token and a spare token; then a snapshot of
    the database file that every scenario starts from."""
    from api.auth import new_token
    from device_drivers.allworx.base import DriverOptions
    data_dir = tempfile.mkdtemp(prefix="awxh-stateful-")
    atexit.register(shutil.rmtree, data_dir, True)
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATA_DIR": data_dir, "AUTH_FAILURE_LIMIT": 10**6, "AUDITS_SYNCHRONOUS": True,
                      "PROPAGATE_EXCEPTIONS": False,
                      # nothing answers at the seeded device's address: short waits keep audits quick
                      "DRIVER_OPTIONS": {"allworx": {"options": DriverOptions(
                          timeout=0.3, probe_timeout=0.1, snmp_timeout=0.1, snmp_retries=0)}}})
    # a throw-away database: no fsync per commit (after the app's own pragmas, so this one wins)
    event.listen(app.extensions["db"].engine, "connect", lambda conn, _rec: conn.execute("PRAGMA synchronous=OFF"))
    app.extensions["db"].engine.dispose()
    with app.app_context(), get_db().session() as sess:
        row, token = new_token(sess, "fuzzer", "admin")
        spare, _ = new_token(sess, "spare", "read")
        sess.commit()
        ids = {"fuzzer": row.id, "spare": spare.id}
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    site = client.post("/api/v1/sites", json={"name": "fuzz-site"}, headers=headers).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "127.0.0.2"}, headers=headers)
    db_file = Path(data_dir) / "appliance.db"
    app.extensions["db"].engine.dispose()          # the last connection closing checkpoints the WAL
    return app, headers, ids, db_file, db_file.read_bytes()


APP, HEADERS, TOKEN_IDS, DB_FILE, SNAPSHOT = _seeded_app()


def _restore() -> None:
    APP.extensions["db"].engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    DB_FILE.write_bytes(SNAPSHOT)


# The site-centred chains of the spec's links (tokens and webhooks, one link deep, device contact,
# discovery and the collections are left to AllWorkflows): few starting points, so most steps follow
# links.
LINKED = {("POST", "/api/v1/sites"), ("GET", "/api/v1/sites/{site_id}"), ("PUT", "/api/v1/sites/{site_id}"),
          ("DELETE", "/api/v1/sites/{site_id}"), ("GET", "/api/v1/sites/{site_id}/status"),
          ("POST", "/api/v1/sites/{site_id}/audits"), ("POST", "/api/v1/sites/{site_id}/schedules"),
          ("POST", "/api/v1/sites/{site_id}/waivers"), ("GET", "/api/v1/sites/{site_id}/waivers"),
          ("POST", "/api/v1/devices"), ("GET", "/api/v1/devices/{device_id}"), ("PUT", "/api/v1/devices/{device_id}"),
          ("DELETE", "/api/v1/devices/{device_id}"), ("PUT", "/api/v1/devices/{device_id}/credentials"),
          ("DELETE", "/api/v1/schedules/{schedule_id}"), ("DELETE", "/api/v1/waivers/{waiver_id}"),
          ("GET", "/api/v1/audits/{audit_id}"), ("GET", "/api/v1/audits/{audit_id}/results"),
          ("GET", "/api/v1/audits/{audit_id}/report"), ("POST", "/api/v1/audits/{audit_id}/rerun"),
          ("PUT", "/api/v1/sites/{site_id}/baseline")}
# The admin objects' chains: create, then revoke / delete / read the delivery log.
LINKED_ADMIN = {("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}"), ("POST", "/api/v1/webhooks"),
                ("DELETE", "/api/v1/webhooks/{webhook_id}"), ("GET", "/api/v1/webhooks/{webhook_id}/deliveries")}


def _schema(linked_only: set | None):
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SPEC_DOC)))
    schema.app = APP
    if linked_only:               # only the spec's own links, between these operations
        schema.config.phases.stateful.inference.algorithms = []
        schema = schema.include(lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in linked_only)
    return schema


STEPS: list[tuple[str, str, int]] = []        # every step of the run, for the coverage checks below
SCENARIO_COUNT = [0]


def _excluded(case) -> list:
    method, path = case.method.upper(), case.operation.path
    excluded = []
    if path in DEVICE_CONTACT and method == "POST":
        excluded += [not_a_server_error, positive_data_acceptance]
    if path.startswith("/api/v1/devices") and method in ("POST", "PUT"):
        excluded.append(positive_data_acceptance)
    if (method, path) in SEMANTIC or path == "/api/v1/router-configs/analyze":
        excluded.append(positive_data_acceptance)
    if method in ("PUT", "DELETE"):
        # an If-Match from a link can be stale (another step changed the resource since): 412 is right.
        # ETags that are still current are checked by _etag_chain_problem instead.
        excluded += [missing_required_header, positive_data_acceptance]
    return excluded


def _repair(case, device_sites: dict) -> None:
    """Positive bodies made to satisfy the rules OpenAPI 3.0 cannot state (each has its own 422 tests,
    named in SEMANTIC's comment in tests/api/spec_exclusions.py and in tests/api/test_bad_input.py):
    without this, almost no device, webhook, schedule or waiver is ever created and no chain from them
    is walked. A replaced device keeps its (existing) site. Negative cases are left alone."""
    path = case.operation.path
    if case.meta is None or case.meta.generation.mode.is_negative or not isinstance(case.body, dict):
        return
    # a copy: the generated value may be shared with hypothesis (examples, link bodies); changing it
    # in place would change later draws
    case.body = body = copy.deepcopy(case.body)
    if path.startswith("/api/v1/devices") and "kind" in body:
        if body["kind"] in ("router", "switch"):
            body["device_type"] = body.get("device_type") or "linux"
        else:
            body["device_type"] = None
        # dict keys are validated but OpenAPI 3.0 cannot document them (no propertyNames), and a
        # nullable nested object is rendered as "any object"
        body["declared_facts"] = {}
        body["ports"] = {k: v for k, v in (body.get("ports") or {}).items() if re.fullmatch(r"[a-z][a-z0-9_]{0,31}", k)}
        if not (isinstance(body.get("ssh_host_key"), dict) and set(body["ssh_host_key"]) == {"type", "key"}):
            body["ssh_host_key"] = None
        if case.method.upper() == "PUT" and case.path_parameters.get("device_id") in device_sites:
            body["site_id"] = device_sites[case.path_parameters["device_id"]]
    elif path == "/api/v1/webhooks" and "url" in body:
        body["url"] = "https://hooks.example.net/awx"          # stored only: no delivery is run here
    elif path == "/api/v1/sites/{site_id}/schedules" and "cron" in body:
        try:
            cron.next_run(body["cron"], datetime(2024, 1, 1))
        except cron.CronError:
            body["cron"] = "0 3 * * *"
    elif path == "/api/v1/sites/{site_id}/waivers" and "scope" in body:
        if body["scope"] == "device" and body.get("device_id") is None:
            body["scope"] = "site"
        elif body["scope"] == "site":
            body["device_id"] = None


class _Workflows:
    """Mixed into the state machine schemathesis builds from a schema."""

    def setup(self) -> None:
        SCENARIO_COUNT[0] += 1
        _restore()
        self.etags: dict[tuple[str, int], str] = {}      # (resource path template, id) -> current ETag
        self.device_sites: dict[int, int] = {}           # device id -> its site id
        self.etag_problem: str | None = None

    def before_call(self, case) -> None:
        _repair(case, self.device_sites)
        # Revoking the fuzzer's own token is legal but ends the scenario's usefulness (all 401 after):
        # the spare token is revoked instead, so the revoke path is still exercised.
        if case.operation.path == "/api/v1/tokens/{token_id}" and \
                case.path_parameters.get("token_id") == TOKEN_IDS["fuzzer"]:
            case.path_parameters = {**case.path_parameters, "token_id": TOKEN_IDS["spare"]}

    def get_call_kwargs(self, case) -> dict:
        if negates_authorization(case):
            return {}                 # a case without (or with a broken) token on purpose: sent so, 401 expected
        return {"headers": HEADERS}

    def after_call(self, response, case) -> None:
        super().after_call(response, case)
        STEPS.append((case.method.upper(), case.operation.path, response.status_code))
        self.etag_problem = self._etag_chain_problem(response, case)     # before this response updates them
        self._track_etags(response, case)

    def _resource(self, case, response) -> tuple[str, int] | None:
        path = case.operation.path
        if path in ETAGGED:
            return path, case.path_parameters.get(ETAGGED[path])
        if path in COLLECTIONS and case.method.upper() == "POST" and response.status_code == 201:
            return COLLECTIONS[path], json.loads(response.content)["id"]
        return None

    def _track_etags(self, response, case) -> None:
        method, ok = case.method.upper(), 200 <= response.status_code < 300
        resource = self._resource(case, response)
        if ok and (method, case.operation.path) in (("POST", "/api/v1/devices"), ("GET", "/api/v1/devices/{device_id}"),
                                                    ("PUT", "/api/v1/devices/{device_id}")) and response.content:
            device = json.loads(response.content)
            self.device_sites[device["id"]] = device["site_id"]
        if resource and ok and method != "DELETE" and response.headers.get("etag"):     # keys are lower-case
            self.etags[resource] = response.headers["etag"][0]
        elif ok and method != "GET":
            # a write elsewhere may change a site or device (credentials, host key, deletion): forget
            # what might be stale rather than guess
            self.etags.clear()

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        code = response.status_code
        excluded = _excluded(case)
        if case.meta is not None and case.meta.generation.mode.is_negative and \
                case.operation.label in self._body_link_targets():
            # a link's requestBody is laid over the generated one and can replace exactly the invalid
            # part (schemathesis still calls the case negative); single calls cover these operations
            excluded.append(negative_data_rejection)
        if case.operation.path in DEVICE_CONTACT and case.method.upper() == "POST":
            documented = set(case.operation.definition.raw["responses"])
            assert code != 500 and (str(code) in documented or (code < 500 and "default" in documented)), \
                f"{case.method} {case.formatted_path}: {code}: {response.text[:300]}"
        assert self.etag_problem is None, self.etag_problem
        case.validate_response(response, additional_checks=additional_checks, excluded_checks=excluded,
                               headers=kwargs.get("headers"), transport_kwargs=kwargs or None, recorder=self.recorder)

    @classmethod
    def _body_link_targets(cls) -> set[str]:
        if "_body_targets" not in cls.__dict__:
            cls._body_targets = {link.target.label for ops in cls._transitions.operations.values()
                                 for link in ops.outgoing if link.body is not NOT_SET}
        return cls._body_targets

    def _etag_chain_problem(self, response, case) -> str | None:
        if case.method.upper() not in ("PUT", "DELETE") or case.operation.path not in ETAGGED:
            return None
        known = self.etags.get((case.operation.path, case.path_parameters.get(ETAGGED[case.operation.path])))
        sent = (case.headers or {}).get("If-Match")
        if known is not None and sent == known and response.status_code in (412, 428):
            return f"{case.method} {case.formatted_path} with the ETag the API just returned: {response.status_code}"
        return None


LinkedWorkflows = type("LinkedWorkflows", (_Workflows, _schema(LINKED).as_state_machine()), {})
AdminWorkflows = type("AdminWorkflows", (_Workflows, _schema(LINKED_ADMIN).as_state_machine()), {})
AllWorkflows = type("AllWorkflows", (_Workflows, _schema(None).as_state_machine()), {})


def _run(machine, scenarios: int) -> set[tuple[str, str]]:
    """Run `scenarios` scenarios with fixed seeds; the successful (method, path) pairs.

    Hypothesis replays scenarios and stops with FlakyStrategyDefinition when a replay draws differently
    (the server's answers feed the draws: ids, links, bundle contents). Schemathesis' own runner ends
    the suite quietly then; here the run continues with the next seed until the budget is spent. A
    failure that does not reproduce (FlakyFailure) still fails the test."""
    STEPS.clear()
    SCENARIO_COUNT[0] = 0
    for seed in range(1, 6):
        if SCENARIO_COUNT[0] >= scenarios:
            break
        machine._hypothesis_internal_use_seed = 20240 + seed          # what @seed sets on a state machine
        try:
            machine.run(settings=settings(
                max_examples=scenarios - SCENARIO_COUNT[0], stateful_step_count=STEPS_PER_SCENARIO, deadline=None,
                database=None, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck)))
        except FlakyFailure:
            raise
        except Flaky:
            continue
    assert SCENARIO_COUNT[0] >= scenarios / 2, f"only {SCENARIO_COUNT[0]} scenarios ran"
    return {(m, p) for m, p, code in STEPS if 200 <= code < 300}


def test_linked_workflows():
    """The spec's links: create, then read / replace / delete with the returned ETag, revoke, follow."""
    done = _run(LinkedWorkflows, 2 * SCENARIOS)
    # the run must have walked the chains, not stopped at their first call: the site's whole life
    # every time; of the longer chains most (which ones depends on the draws, and the draws on what
    # else is imported: schemathesis mines the loaded modules for constants)
    site = {("POST", "/api/v1/sites"), ("GET", "/api/v1/sites/{site_id}"), ("PUT", "/api/v1/sites/{site_id}"),
            ("DELETE", "/api/v1/sites/{site_id}"), ("POST", "/api/v1/devices"),
            ("POST", "/api/v1/sites/{site_id}/audits")}
    assert site <= done, f"{sorted(site - done)} never succeeded in {len(STEPS)} steps"
    deeper = {("GET", "/api/v1/devices/{device_id}"), ("DELETE", "/api/v1/devices/{device_id}"),
              ("PUT", "/api/v1/devices/{device_id}/credentials"), ("GET", "/api/v1/audits/{audit_id}"),
              ("GET", "/api/v1/audits/{audit_id}/results"), ("GET", "/api/v1/audits/{audit_id}/report"),
              ("PUT", "/api/v1/sites/{site_id}/baseline"), ("POST", "/api/v1/sites/{site_id}/waivers"),
              ("DELETE", "/api/v1/waivers/{waiver_id}"), ("POST", "/api/v1/sites/{site_id}/schedules"),
              ("DELETE", "/api/v1/schedules/{schedule_id}"), ("GET", "/api/v1/sites/{site_id}/status")}
    assert len(deeper & done) >= 0.75 * len(deeper), f"{sorted(deeper - done)} never succeeded in {len(STEPS)} steps"


def test_admin_workflows():
    """Tokens and webhooks: created, revoked / deleted, the delivery log read."""
    done = _run(AdminWorkflows, SCENARIOS // 2)
    assert LINKED_ADMIN <= done, sorted(LINKED_ADMIN - done)


def test_all_workflows():
    """The spec's links and those schemathesis infers from ids in responses: every operation in play."""
    _run(AllWorkflows, 2 * SCENARIOS)
    called = {(m, p) for m, p, _code in STEPS}
    every = {(m.upper(), p) for p, ops in SPEC_DOC["paths"].items() for m in ops
             if m in ("get", "post", "put", "delete") and not p.startswith(("/api/v1/health", "/metrics",
                                                                               "/api/v1/audit-log", "/api/v1/probe",
                                                                               "/api/v1/router-configs"))}
    assert len(called & every) >= 0.8 * len(every), sorted(every - called)
