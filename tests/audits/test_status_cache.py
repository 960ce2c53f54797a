"""The site status and audit results endpoints cache their answers: they must never serve one that a
fresh computation would not give, whatever changed (a new audit, a waiver, its expiry across a clock
jump, a revocation, a rename, a baseline), and status must really serve from the cache when nothing did."""
from datetime import timedelta

import pytest

from api.audits import views
from api.audits.schemas import ResultSchema, SiteStatusSchema
from hardening.engine.summaries import result_rows
from hardening.outputs import status as status_out
from store.audit_models import Audit
from store.db import session
from store.models import Site, utcnow
from tests.audits.test_rmm import _audit

STATUS_OF = status_out.status_of       # the computation itself, kept before a test counts its calls


@pytest.fixture
def clock(monkeypatch):
    """The status view's clock, movable: {"offset": timedelta}."""
    state = {"offset": timedelta(0)}
    monkeypatch.setattr(views, "utcnow", lambda: utcnow() + state["offset"])
    return state


@pytest.fixture
def computed(monkeypatch):
    """How many times the status was computed (cache misses)."""
    calls = []
    monkeypatch.setattr(status_out, "status_of",
                        lambda sess, site, now=None: calls.append(1) or STATUS_OF(sess, site, now))
    return calls


def _served_and_fresh(app, client, auth, site_id, clock):
    served = client.get(f"/api/v1/sites/{site_id}/status", headers=auth("read"))
    assert served.status_code == 200 and served.mimetype == "application/json", served.data
    with app.extensions["db"].session() as sess:          # the computation needs no request
        fresh = SiteStatusSchema().dump(STATUS_OF(sess, sess.get(Site, site_id), utcnow() + clock["offset"]))
    assert served.json == fresh
    return served.json


def test_status_cache_follows_everything_it_depends_on(app, client, auth, insecure_site, clock, computed):
    def status():
        return _served_and_fresh(app, client, auth, insecure_site, clock)

    assert status()["overall"] == "UNKNOWN"
    first = _audit(client, auth, insecure_site)
    audited = status()
    assert audited["last_audit"]["id"] == first["id"] and audited["overall"] == "CRITICAL"

    misses = len(computed)
    assert status() == audited and status() == audited
    assert len(computed) == misses, "an unchanged site must be answered from the cache"

    failing = audited["new_failures"][0]
    body = {"check_id": failing["check_id"], "scope": "site", "justification": "replaced in next week's window",
            "approver": "Dana (MSP lead)", "expires_at": (utcnow() + timedelta(hours=1)).isoformat() + "Z"}
    waiver = client.post(f"/api/v1/sites/{insecure_site}/waivers", json=body, headers=auth("admin")).json
    waived = status()
    assert waived["counts"] != audited["counts"]
    assert failing["check_id"] not in {f["check_id"] for f in waived["new_failures"]}

    clock["offset"] = timedelta(hours=2)                     # the clock jumps past the waiver's expiry
    assert status()["counts"] == audited["counts"]
    clock["offset"] = timedelta(0)                           # ... and back
    assert status() == waived

    assert client.delete(f"/api/v1/waivers/{waiver['id']}", headers=auth("admin")).status_code == 204
    assert status()["counts"] == audited["counts"]

    got = client.get(f"/api/v1/sites/{insecure_site}", headers=auth("read"))
    renamed = client.put(f"/api/v1/sites/{insecure_site}", json={"name": "renamed"},
                         headers={**auth("admin"), "If-Match": got.headers["ETag"]})
    assert renamed.status_code == 200, renamed.json
    assert status()["site"]["name"] == "renamed"

    second = _audit(client, auth, insecure_site)
    again = status()
    assert again["last_audit"]["id"] == second["id"]
    assert again["new_failures"] == []                       # drift against the first audit now
    assert client.put(f"/api/v1/sites/{insecure_site}/baseline", json={"audit_id": first["id"]},
                      headers=auth("audit")).status_code == 200
    assert status() == again


def test_status_of_an_unknown_site_is_404(client, auth):
    for site_id in (999, 2**70):
        resp = client.get(f"/api/v1/sites/{site_id}/status", headers=auth("read"))
        assert resp.status_code == 404 and "Site" in resp.json["message"]


def test_results_cache_follows_waivers_and_the_clock(app, client, auth, insecure_site, clock):
    audit = _audit(client, auth, insecure_site)
    url = f"/api/v1/audits/{audit['id']}/results"

    def served(query=""):
        resp = client.get(url + query, headers=auth("read"))
        assert resp.status_code == 200 and resp.mimetype == "application/json", resp.data
        with app.test_request_context():
            fresh = ResultSchema(many=True).dump(result_rows(session(), session().get(Audit, audit["id"]),
                                                             utcnow() + clock["offset"]))
        return resp.json, fresh

    rows, fresh = served()
    assert rows == fresh and not any(r["waived"] for r in rows)
    failing = next(r for r in rows if r["status"] == "fail")
    body = {"check_id": failing["check_id"], "scope": "site", "justification": "replaced in next week's window",
            "approver": "Dana (MSP lead)", "expires_at": (utcnow() + timedelta(hours=1)).isoformat() + "Z"}
    waiver = client.post(f"/api/v1/sites/{insecure_site}/waivers", json=body, headers=auth("admin")).json
    rows, fresh = served()
    assert rows == fresh and any(r["waived"] for r in rows)
    only, fresh = served(f"?check_id={failing['check_id']}&status=fail")
    assert only == [r for r in fresh if r["check_id"] == failing["check_id"] and r["status"] == "fail"]
    assert only and all(r["waived"] for r in only)
    clock["offset"] = timedelta(hours=2)                     # past the expiry: shown as expired, not waived
    rows, fresh = served()
    assert rows == fresh and not any(r["waived"] for r in rows)
    assert any(r["waiver"] and r["waiver"]["expired"] for r in rows)
    clock["offset"] = timedelta(0)
    assert client.delete(f"/api/v1/waivers/{waiver['id']}", headers=auth("admin")).status_code == 204
    rows, fresh = served()
    assert rows == fresh and not any(r["waiver"] for r in rows)
