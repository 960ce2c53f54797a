"""One summary: an audit is summarized once when it completes (from the rows in hand, stored, sent to
webhooks), and both the site's audit list and the audit itself show the live summary (waivers,
baseline and previous audit as they stand now) beside the stored one, each labelled."""
import threading
from datetime import UTC, datetime, timedelta

from hardening.engine import summaries
from store.audit_models import WebhookDelivery
from tests.audits.test_rmm import _audit, app_runner_wait

SUMMARY_FIELDS = ("summary", "summary_as_of", "summary_at_completion")


def _listed(client, auth, site_id, **query):
    resp = client.get(f"/api/v1/sites/{site_id}/audits", query_string=query, headers=auth("read"))
    assert resp.status_code == 200, resp.json
    return {a["id"]: a for a in resp.json}


def _single(client, auth, audit_id):
    resp = client.get(f"/api/v1/audits/{audit_id}", headers=auth("read"))
    assert resp.status_code == 200, resp.json
    return resp.json


def _agreeing(client, auth, site_id, audit_ids):
    """Each audit as listed and as read alone: the same summaries; returns {id: audit as read alone}."""
    listed = _listed(client, auth, site_id)
    paged = {}
    for page in range(1, len(audit_ids) + 1):                  # one per page: no audit shares a request
        paged.update(_listed(client, auth, site_id, page=page, page_size=1))
    out = {}
    for audit_id in audit_ids:
        alone = _single(client, auth, audit_id)
        for field in ("summary", "summary_at_completion"):
            assert listed[audit_id][field] == alone[field] == paged[audit_id][field], (audit_id, field)
        for shown in (listed[audit_id], paged[audit_id], alone):
            as_of = datetime.fromisoformat(shown["summary_as_of"])
            assert abs(as_of - datetime.now(UTC)) < timedelta(minutes=1)
        out[audit_id] = alone
    return out


def test_list_and_audit_agree_on_the_live_summary_and_keep_the_one_at_completion(client, auth, insecure_site):
    first, second = _audit(client, auth, insecure_site), _audit(client, auth, insecure_site)
    ids = [first["id"], second["id"]]
    before = _agreeing(client, auth, insecure_site, ids)
    at_completion = {i: before[i]["summary_at_completion"] for i in ids}
    for i in ids:
        assert before[i]["summary"] == at_completion[i]            # nothing has changed since
        assert at_completion[i]["overall"] == "CRITICAL"
    assert at_completion[second["id"]]["drift"]["previous_audit_id"] == first["id"]

    failing = at_completion[first["id"]]["drift"]["since_previous"]["new_failures"][0]
    waiver = client.post(f"/api/v1/sites/{insecure_site}/waivers", headers=auth("admin"), json={
        "check_id": failing["check_id"], "scope": "site", "justification": "replaced in next week's window",
        "approver": "Dana (MSP lead)", "expires_at": None})
    assert waiver.status_code == 201, waiver.json
    waived = _agreeing(client, auth, insecure_site, ids)
    for i in ids:
        assert waived[i]["summary_at_completion"] == at_completion[i]          # history is not rewritten
        live = waived[i]["summary"]
        assert live != at_completion[i]
        assert live["score"]["raw"] == at_completion[i]["score"]["raw"]
        assert live["score"]["waived"] > at_completion[i]["score"]["waived"]
    new_now = {f["check_id"] for f in waived[first["id"]]["summary"]["drift"]["since_previous"]["new_failures"]}
    assert failing["check_id"] not in new_now                                  # waived now: not a surprise

    pinned = client.put(f"/api/v1/sites/{insecure_site}/baseline", json={"audit_id": first["id"]},
                        headers=auth("audit"))
    assert pinned.status_code == 200 and pinned.json["summary"]["drift"]["baseline_audit_id"] == first["id"]
    assert pinned.json["summary_at_completion"] == at_completion[first["id"]]
    based = _agreeing(client, auth, insecure_site, ids)
    assert based[second["id"]]["summary"]["drift"]["baseline_audit_id"] == first["id"]
    assert based[second["id"]]["summary_at_completion"]["drift"]["baseline_audit_id"] is None

    assert client.delete(f"/api/v1/waivers/{waiver.json['id']}", headers=auth("admin")).status_code == 204
    revoked = _agreeing(client, auth, insecure_site, ids)
    for i in ids:
        assert revoked[i]["summary_at_completion"] == at_completion[i]
        assert revoked[i]["summary"]["score"] == at_completion[i]["score"]
        assert revoked[i]["summary"]["counts"] == at_completion[i]["counts"]
        assert revoked[i]["summary"]["drift"]["since_previous"] == at_completion[i]["drift"]["since_previous"]


def test_an_audit_not_completed_has_no_summaries_yet(app, client, auth, insecure_site):
    from store.audit_models import Audit
    with app.extensions["db"].session() as sess:
        audit = Audit(site_id=insecure_site, state="failed", error="boom")
        sess.add(audit)
        sess.commit()
        audit_id = audit.id
    alone = _single(client, auth, audit_id)
    assert (alone["summary"], alone["summary_as_of"], alone["summary_at_completion"]) == ({}, None, None)
    assert {k: _listed(client, auth, insecure_site)[audit_id][k] for k in SUMMARY_FIELDS} == \
        {k: alone[k] for k in SUMMARY_FIELDS}


def test_audit_is_summarized_once_and_webhooks_send_that_summary(app, client, auth, insecure_site, monkeypatch):
    hook = client.post("/api/v1/webhooks", headers=auth("admin"), json={
        "url": "https://hooks.example.net/awx", "events": ["new_failures"], "secret": "s" * 20})
    assert hook.status_code == 201, hook.json
    summarized, read_back = [], []                       # by the audit's runner (requests read live summaries)
    summarize, result_rows = summaries.summarize, summaries.result_rows

    def runner(calls, audit):
        if threading.current_thread() is not threading.main_thread():
            calls.append(audit.id)
    monkeypatch.setattr(summaries, "summarize", lambda sess, audit, *a, **kw: runner(summarized, audit)
                        or summarize(sess, audit, *a, **kw))
    monkeypatch.setattr(summaries, "result_rows", lambda sess, audit, *a, **kw: runner(read_back, audit)
                        or result_rows(sess, audit, *a, **kw))
    resp = client.post(f"/api/v1/sites/{insecure_site}/audits", json={}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    audit_id = resp.json["id"]
    app_runner_wait(client, audit_id)
    assert summarized == [audit_id], "an audit is summarized once, when it completes"
    assert audit_id not in read_back, "its rows are summarized from memory, not written and read back"
    monkeypatch.undo()

    stored = _single(client, auth, audit_id)["summary_at_completion"]
    with app.extensions["db"].session() as sess:
        payload = sess.query(WebhookDelivery).filter_by(event="new_failures").one().payload
    assert payload["audit_id"] == audit_id
    assert (payload["overall"], payload["score"], payload["new_failures"]) == \
        (stored["overall"], stored["score"], stored["drift"]["since_previous"]["new_failures"])
    assert payload["new_failures"]                       # the first audit of a site: its failures are new


def test_check_command_needs_no_request(app, client, auth, insecure_site, monkeypatch):
    from hardening.outputs.check_cli import check_site
    _audit(client, auth, insecure_site)

    def refused(*_a, **_kw):
        raise AssertionError("the check command must not fake a request")
    monkeypatch.setattr(app, "test_request_context", refused)
    line, code = check_site(app, str(insecure_site), False, False, None)
    assert code == 2 and line.startswith("ALLWORX CRITICAL - site sim-insecure")
