"""Issue 13, gentle credential tests through the API on a simulated site: a spent daily budget carries
the last verdict forward (score, status, drift and webhooks unmoved), the password accepted before is
tried first, a fixed one then passes, and a strong stored password on an unreachable server is an error.

The daily budget is the appliance's own (PersistentAttemptBudget, in the database) with a test clock, put
in place through the audit hooks; the simulated devices count every login they see."""
from __future__ import annotations

import socket
from datetime import date

import pytest

from hardening.engine import inputs
from hardening.jobs import webhooks
from hardening.jobs.credbudget import PersistentAttemptBudget
from simulator import start_site
from simulator.seed import flask_call, seed_site
from store.audit_models import Audit, AuditResult, WebhookDelivery
from store.models import utcnow
from tests.audits.test_audit_api import _wait

LOGIN_CHECKS = ("AWX-SRV-005", "AWX-PHN-006", "AWX-PX-001")
FIXED = "Juniper-Orbit-Castle-5150!"          # strong: what the devices are changed to


class Clock:
    def __init__(self):
        self.day = date(2026, 11, 30)

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def budget(audit_app):
    clock = Clock()
    made = PersistentAttemptBudget(audit_app.extensions["db"], 6, today=clock)
    made.clock = clock

    def install(app, context):
        context.take_attempt = made
    audit_app.extensions.setdefault("audit_hooks", []).append(install)
    return made


@pytest.fixture
def insecure(audit_app, client, auth, budget):
    site = start_site("insecure", snmp=False)
    with site:
        site_id = seed_site(flask_call(client, auth("admin")), "sim-carry", site.inventory(),
                            site_fields={"required_wan_services": ["sip", "vpn"]})
        hook = client.post("/api/v1/webhooks", headers=auth("admin"), json={
            "url": "https://hooks.example.net/awx", "events": list(webhooks.EVENTS), "secret": "s" * 20})
        assert hook.status_code == 201, hook.json
        yield site, site_id


def _audit(client, auth, site_id):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": "baseline"}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = _wait(client, auth, resp.headers["Location"], timeout=60)
    assert done["state"] == "completed", done
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json
    return done, {(r["check_id"], r["device_id"]): r for r in rows if r["check_id"] in LOGIN_CHECKS}


def _logins(site) -> dict[str, int]:
    return {d.name: d.guard.attempts for d in site.devices}


def _spend_today(site, budget) -> None:
    """Other audits used up today's attempts (as a busy schedule would)."""
    for device in site.devices:
        while budget.take_attempt(f"{device.kind}:{device.address}"):
            pass


def _events_of(app, audit_id) -> list[str]:
    with app.extensions["db"].session() as sess:
        return [d.event for d in sess.query(WebhookDelivery).all() if d.payload.get("audit_id") == audit_id]


def test_a_spent_budget_carries_the_verdict_of_audit_1_over_audits_2_and_3(app, client, auth, insecure, budget):
    site, site_id = insecure
    first, decided = _audit(client, auth, site_id)
    # what the insecure preset accepts: the server "Allworx", the phones "1234", the Px "admin"
    assert len(decided) == 5 and {r["status"] for r in decided.values()} == {"fail"}
    assert not any(r["message"].startswith("carried") for r in decided.values())
    _spend_today(site, budget)
    day = first["finished_at"][:10]
    later = []
    for _ in range(2):
        before = _logins(site)
        done, rows = _audit(client, auth, site_id)
        later.append(done)
        seen = _logins(site)
        assert seen[site.server.name] - before[site.server.name] == 1          # the web session only
        assert all(seen[n] == before[n] for n in seen if n != site.server.name)  # no login test reached anyone
        assert rows.keys() == decided.keys()
        for key, row in rows.items():
            was = decided[key]
            assert row["status"] == "fail" and row["provenance"] == was["provenance"]
            assert row["message"] == (f"carried forward from audit {first['id']} ({day}): {was['message']}; "
                                      "not re-tested today: the daily login-attempt budget is spent"), row["message"]
            assert row["evidence"] == was["evidence"]                          # provenance and evidence as decided
        assert (done["summary"]["score"], done["summary"]["overall"]) == \
            (first["summary"]["score"], first["summary"]["overall"])
        since = done["summary"]["drift"]["since_previous"]
        assert since["new_failures"] == [] and since["resolved"] == [] and since["new_errors"] == []
        assert not since.get("changed_failures")
        assert {(r["check_id"], r["device_id"]) for r in since["unchanged_failures"]} >= decided.keys()
        assert _events_of(app, done["id"]) == []                               # nothing for a webhook to say
    status = client.get(f"/api/v1/sites/{site_id}/status", headers=auth("read")).json
    assert status["overall"] == first["summary"]["overall"] and status["score"] == first["summary"]["score"]


def test_the_accepted_password_is_tried_first_and_a_fixed_one_then_passes(app, client, auth, insecure, budget):
    site, site_id = insecure
    server, px = site.server.name, site.of_kind("px_expander")[0].name
    before = _logins(site)
    _first, decided = _audit(client, auth, site_id)
    seen = _logins(site)
    assert seen[px] - before[px] == 3                              # "1234", "Allworx", then "admin" got in
    assert seen[server] - before[server] == 1 + 2                  # the web session; "1234", then "Allworx"

    budget.clock.day = date(2026, 12, 1)                           # a new day: a full budget
    before = _logins(site)
    _second, rows = _audit(client, auth, site_id)
    seen = _logins(site)
    assert seen[px] - before[px] == 1 and seen[server] - before[server] == 1 + 1   # the known one, first
    assert {r["status"] for r in rows.values()} == {"fail"}
    assert not any(r["message"].startswith("carried") for r in rows.values())      # decided again, today
    identity = lambda found: [[(e["source"], e["detail"]) for e in r["evidence"]] for r in found.values()]  # noqa: E731
    assert identity(rows) == identity(decided)                     # what drift compares reads the same

    # fixed: the server's admin password (and the appliance's stored copy), the Px Expander's on the box only
    site.set_password(server, FIXED)
    site.set_password(px, FIXED)
    server_id = next(dev_id for (check, dev_id) in rows if check == "AWX-SRV-005")
    put = client.put(f"/api/v1/devices/{server_id}/credentials", headers=auth("admin"),
                     json={"username": "admin", "password": FIXED, "snmp_community": "public"})
    assert put.status_code in (200, 204), put.json
    budget.clock.day = date(2026, 12, 2)
    before = _logins(site)
    third, rows = _audit(client, auth, site_id)
    seen = _logins(site)
    by_check = {check: row for (check, _), row in rows.items() if check != "AWX-PHN-006"}
    assert by_check["AWX-SRV-005"]["status"] == "pass", by_check["AWX-SRV-005"]
    assert "refuses the default it accepted before" in by_check["AWX-SRV-005"]["message"]
    assert seen[server] - before[server] == 1 + 1                  # the new stored password, then "Allworx": refused
    assert by_check["AWX-PX-001"]["status"] == "pass" and "refused every listed password" in \
        by_check["AWX-PX-001"]["message"]
    assert seen[px] - before[px] == 6                              # "admin" first, then the other five
    assert {r["status"] for (check, _), r in rows.items() if check == "AWX-PHN-006"} == {"fail"}   # still "1234"
    resolved = {r["check_id"] for r in third["summary"]["drift"]["since_previous"]["resolved"]}
    assert {"AWX-SRV-005", "AWX-PX-001"} <= resolved
    assert "resolved" in _events_of(app, third["id"])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_strong_stored_password_on_an_unreachable_server_is_an_error_not_a_pass(audit_app, client, auth, budget):
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        entries = site.inventory()
        reached = seed_site(flask_call(client, auth("admin")), "sim-secure", entries)
        entries[0]["ports"]["web_admin"] = _closed_port()             # a mistyped port: nothing answers there
        dead = seed_site(flask_call(client, auth("admin")), "sim-dead", entries)
        _done, ok = _audit(client, auth, reached)
        [row] = [r for (check, _), r in ok.items() if check == "AWX-SRV-005"]
        assert row["status"] == "pass" and row["provenance"] == "derived" and "logged in" in row["message"]
        assert site.server.guard.attempts == 1                        # the web session: no default guessed
        _done, bad = _audit(client, auth, dead)
        name = site.server.name
    [row] = [r for (check, _), r in bad.items() if check == "AWX-SRV-005"]
    assert row["status"] == "error", row
    assert name in row["message"] and "Connection refused" in row["message"]


def test_the_prior_verdict_is_the_one_that_decided_not_a_carrier_nor_a_later_error(app):
    """Read straight from the store: audit 1 decided, audit 2 carried it, audit 3 could not decide."""
    with app.app_context(), app.extensions["db"].session() as sess:
        from store.models import Device, Site
        site = Site(name="carry-store")
        sess.add(site)
        sess.flush()
        device = Device(site_id=site.id, kind="allworx_server", name="pbx", address="192.168.1.10")
        sess.add(device)
        sess.flush()
        audits = [Audit(site_id=site.id, state="completed", finished_at=utcnow().replace(year=2026, month=11, day=d))
                  for d in (28, 29, 30)]
        sess.add_all(audits)
        sess.flush()
        evidence = [{"detail": "d", "excerpt": "e", "source": "credtest:http:/login", "provenance": "observed"}]
        first = AuditResult(audit_id=audits[0].id, check_id="AWX-SRV-005", device_id=device.id, status="fail",
                            severity="critical", message="the server admin login accepted a default",
                            provenance="observed", evidence=evidence)
        carried = AuditResult(audit_id=audits[1].id, check_id="AWX-SRV-005", device_id=device.id, status="fail",
                              severity="critical", provenance="observed", evidence=evidence,
                              message=f"carried forward from audit {audits[0].id} (2026-11-28): the server admin "
                                      "login accepted a default; not re-tested today: the budget is spent")
        error = AuditResult(audit_id=audits[2].id, check_id="AWX-SRV-005", device_id=device.id, status="error",
                            severity="critical", message="not reached", provenance="device", evidence=[])
        sess.add_all([first, carried, error])
        sess.commit()
        found = inputs.prior_verdicts(sess, site.id)
    verdict = found[("AWX-SRV-005", device.id)]
    assert (verdict.status, verdict.audit_id, verdict.decided_on) == ("fail", audits[0].id, "2026-11-28")
    assert verdict.message == "the server admin login accepted a default" and verdict.evidence == tuple(evidence)
