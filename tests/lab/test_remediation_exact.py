"""A router change is defined by content, undone exactly, and confirmed truthfully (issue 14), asserted on the
lab router itself (`nft -j list ruleset` in its namespace), not only on the API's word.

The lab's prerouting chain is http (8080), sip (5060), imap (143); the site requires SIP, so the default
plan removes http and imap and keeps the SIP forward."""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from device_drivers import probe
from hardening.remediation import nft_live
from store.audit_models import Remediation
from store.models import utcnow
from tests.lab.test_remediation_live import _post, lab_site  # noqa: F401  (lab_site: the fixture below needs it)

CHAIN = "ip portfwd prerouting"


@pytest.fixture
def site_router(lab_site):  # noqa: F811
    """(site, router) of test_remediation_live's lab site; the router's ruleset is restored after the test."""
    return lab_site


def _chain(lab, chain=CHAIN) -> list[str]:
    """The comments (or the expression, for rules without one) of the chain's rules, in order, on the router."""
    doc = json.loads(lab.rtr_sh(f"nft -j list chain {chain}"))
    return [r["rule"].get("comment") or json.dumps(r["rule"]["expr"]) for r in doc["nftables"] if "rule" in r]


def _plan(client, lab, h, router, **extra):
    resp = _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"], **extra})
    assert resp.status_code == 201, resp.json
    return resp.json


def _step(client, lab, h, rid, step):
    return _post(client, lab, f"/api/v1/remediations/{rid}/{step}", h)


def _reload(lab, text: str) -> None:
    path = lab.run_dir / "reload.nft"
    path.write_text("flush ruleset\n" + text)
    lab.rtr_sh(f"nft -f {path}")


def test_reload_in_another_order_between_plan_and_apply_is_refused_with_the_diff(client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)
    text = lab.rtr_sh("nft list ruleset")
    sip = next(line for line in text.splitlines() if "fwd-pbx-sip" in line)
    head = "policy accept;\n"                                 # sip moved first, before http
    _reload(lab, text.replace(sip + "\n", "").replace(head, head + sip + "\n", 1))
    reordered = _chain(lab)
    assert reordered[0] == "fwd-pbx-sip"                       # the SIP forward now holds http's old place
    resp = _step(client, lab, h, plan["id"], "apply")
    assert resp.status_code == 409, resp.json
    assert resp.json["errors"]["diff"]["changed"] == [CHAIN]
    assert _chain(lab) == reordered                           # nothing was deleted: not the SIP forward, nothing


def test_same_ruleset_with_new_handles_removes_the_planned_rules_by_content(client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)
    text = lab.rtr_sh("nft list ruleset")
    # reload with a placeholder first in the chain, then delete it: same rules, same order, every handle moved
    _reload(lab, text.replace("policy accept;\n", 'policy accept;\n\t\tmeta mark 0x77 accept comment "placeholder"\n', 1))
    lab.rtr_sh(f"nft delete rule {CHAIN} handle {lab.rule_handle(CHAIN, 'placeholder')}")
    planned = {int(r["rule"].rsplit(" ", 1)[1]) for r in plan["plan"]["removals"]}
    assert lab.dnat_handle("fwd-pbx-sip") in planned          # deleting by the planned handles would hit it
    applied = _step(client, lab, h, plan["id"], "apply")
    assert applied.status_code == 200 and applied.json["verification"]["read_back"] == "ok", applied.json
    assert _chain(lab) == ["fwd-pbx-sip"]                      # http and imap gone, the SIP forward kept
    assert _step(client, lab, h, plan["id"], "rollback").json["verification"]["rollback_exact"] is True
    assert _chain(lab) == ["fwd-pbx-http", "fwd-pbx-sip", "fwd-pbx-imap"]


def test_a_planned_rule_changed_since_the_plan_is_refused(client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)
    handle = lab.dnat_handle("fwd-pbx-http")
    lab.rtr_sh(f"nft delete rule {CHAIN} handle {handle}")
    lab.rtr_sh(f'nft insert rule {CHAIN} iifname "wan0" tcp dport 8081 dnat to 10.77.1.20:8080 comment "fwd-pbx-http"')
    before = _chain(lab)
    resp = _step(client, lab, h, plan["id"], "apply")
    assert resp.status_code == 409 and CHAIN in resp.json["errors"]["diff"]["changed"], resp.json
    assert _chain(lab) == before


def test_an_expired_plan_is_refused(app, client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)
    with app.extensions["db"].session() as sess:
        row = sess.get(Remediation, plan["id"])
        row.plan = {**row.plan, "expires_at": (utcnow() - timedelta(seconds=1)).isoformat()}
        sess.commit()
    before = _chain(lab)
    resp = _step(client, lab, h, plan["id"], "apply")
    assert resp.status_code == 409 and "expired" in resp.json["message"]
    assert client.get(f"/api/v1/remediations/{plan['id']}", headers=h).json["state"] == "expired"
    assert _chain(lab) == before


def _manual_changes(lab) -> None:
    """A person at the router: closes the imap forward by hand and adds a drop rule first in the chain."""
    lab.rtr_sh(f"nft delete rule {CHAIN} handle {lab.dnat_handle('fwd-pbx-imap')}")
    lab.rtr_sh(f'nft insert rule {CHAIN} iifname "wan0" tcp dport 23 drop comment "drop-added"')


def _http_index(client, lab, auth, site) -> int:
    forwards = _post(client, lab, f"/api/v1/sites/{site['id']}/port-forwards/verify", auth("audit")).json
    return next(f["index"] for f in forwards["routers"][0]["forwards"] if f["external_ports"] == ["8080"])


@pytest.mark.parametrize("when", ["awaiting_confirmation", "confirmed"])
def test_rollback_puts_back_only_this_changes_rules_and_keeps_later_manual_changes(client, auth, lab, site_router,
                                                                                   when):
    site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router, forward_indices=[_http_index(client, lab, auth, site)])
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    if when == "confirmed":
        assert _step(client, lab, h, plan["id"], "confirm").json["state"] == "confirmed"
    _manual_changes(lab)
    assert _chain(lab) == ["drop-added", "fwd-pbx-sip"]
    rolled = _step(client, lab, h, plan["id"], "rollback")
    assert rolled.status_code == 200 and rolled.json["state"] == "rolled_back", rolled.json
    assert rolled.json["verification"]["rollback_exact"] is True
    # http back before its neighbour; the imap forward closed by hand stays closed, the drop rule stays first
    assert _chain(lab) == ["drop-added", "fwd-pbx-http", "fwd-pbx-sip"]


def test_rollback_without_a_place_left_is_refused_and_the_automatic_revert_says_it_guessed(
        app, client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)                     # http and imap
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    lab.rtr_sh(f"nft delete rule {CHAIN} handle {lab.dnat_handle('fwd-pbx-sip')}")
    lab.rtr_sh(f'nft insert rule {CHAIN} iifname "wan0" tcp dport 23 drop comment "drop-added"')
    refused = _step(client, lab, h, plan["id"], "rollback")
    assert refused.status_code == 409 and "none of its neighbours" in refused.json["errors"]["diff"]["conflicts"][0]
    assert _chain(lab) == ["drop-added"]                     # nothing done
    from hardening.remediation import flows
    from tests.lab.test_remediation_live import DeviceAccess
    with lab.netns(lab.app):
        row = flows.rollback(app.extensions["db"], plan["id"], DeviceAccess(app.extensions["secret_box"],
                                                                            egress_allowed=None), "deadline")
    assert row.state == "rolled_back" and row.verification["rollback_exact"] is False
    assert _chain(lab) == ["drop-added", "fwd-pbx-http", "fwd-pbx-imap"]


def test_confirm_at_the_deadline_is_reverted_never_confirmed(app, client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    original = _chain(lab)
    plan = _plan(client, lab, h, router)
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    with app.extensions["db"].session() as sess:      # the window closed just now
        sess.get(Remediation, plan["id"]).confirm_deadline = utcnow() - timedelta(milliseconds=1)
        sess.commit()
    resp = _step(client, lab, h, plan["id"], "confirm")
    assert resp.status_code == 200 and resp.json["state"] == "reverted", resp.json
    assert "after the confirm window closed" in resp.json["error"]
    assert _chain(lab) == original                            # on the router: the change is undone
    assert lab.revert_timer_pid(plan["id"]) is None and lab.remediation_dirs(plan["id"]) == []


def test_confirm_after_the_routers_timer_fired_is_reverted(app, client, auth, lab, site_router):
    _site, router = site_router
    h = auth("remediate")
    original = _chain(lab)
    plan = _plan(client, lab, h, router, confirm_timeout_seconds=30)
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    (workdir,) = lab.remediation_dirs(plan["id"])
    lab.stop_revert_timer(plan["id"])
    # the timer's own last act, as if its sleep had ended: it wins the rename and restores
    script = f"/tmp/{workdir.name}/revert.sh"
    lab.sh(lab.rtr, f"nsenter -t {lab.sshd_pid()} -m sh -c 'sed -i \"s/^sleep [0-9]*/sleep 0/\" {script} && sh {script}'")
    assert _chain(lab) == original                            # the timer put back this change's rules
    resp = _step(client, lab, h, plan["id"], "confirm")
    assert resp.json["state"] == "reverted" and "timer fired" in resp.json["error"], resp.json
    assert _chain(lab) == original


def test_two_labs_never_share_the_files_of_a_remediation(client, auth, lab, site_router):
    from tests.lab.labctl import running_lab
    _site, router = site_router
    h = auth("remediate")
    plan = _plan(client, lab, h, router)
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    (workdir,) = lab.remediation_dirs(plan["id"])
    assert (workdir.stat().st_mode & 0o777) == 0o700
    with running_lab() as other:
        assert other.remediation_dirs(plan["id"]) == []        # its router has a /tmp of its own
    assert not list(Path("/tmp").glob(f"awxh-remediation-{plan['id']}.*"))
    assert _step(client, lab, h, plan["id"], "rollback").json["state"] == "rolled_back"


def test_restrict_fix_round_trip(app, client, auth, lab, site_router):
    site, router = site_router
    h = auth("remediate")
    peers = ["203.0.113.5", "198.51.100.0/24"]
    body = {k: site[k] for k in ("name", "wan_addresses", "required_wan_services")} | {"allowed_sip_peers": peers}
    etag = client.get(f"/api/v1/sites/{site['id']}", headers=auth("admin")).headers["ETag"]
    resp = client.put(f"/api/v1/sites/{site['id']}", json=body, headers={**auth("admin"), "If-Match": etag})
    assert resp.status_code == 200, resp.json
    original = json.loads(lab.rtr_sh(f"nft -j list chain {CHAIN}"))
    sip_index = next(f["index"] for f in _post(client, lab, f"/api/v1/sites/{site['id']}/port-forwards/verify",
                                               auth("audit")).json["routers"][0]["forwards"]
                     if f["external_ports"] == ["5060"])
    plan = _plan(client, lab, h, router, forward_indices=[sip_index])
    assert [r["comment"] for r in plan["plan"]["restrictions"]] == ["fwd-pbx-sip"] and plan["plan"]["removals"] == []
    applied = _step(client, lab, h, plan["id"], "apply")
    assert applied.status_code == 200 and applied.json["verification"]["read_back"] == "ok", applied.json
    listing = lab.rtr_sh(f"nft list chain {CHAIN}")
    assert "ip saddr { 198.51.100.0/24, 203.0.113.5 }" in next(x for x in listing.splitlines() if "fwd-pbx-sip" in x)
    assert _chain(lab) == ["fwd-pbx-http", "fwd-pbx-sip", "fwd-pbx-imap"]     # in its place
    lab.flush_conntrack()
    with lab.netns(lab.inet):                                  # 192.0.2.100 is not an allowed peer
        assert probe.sip_options(lab.router_wan, 5060, timeout=1.0)["state"] != "open"
    rolled = _step(client, lab, h, plan["id"], "rollback")
    assert rolled.json["verification"]["rollback_exact"] is True
    back = json.loads(lab.rtr_sh(f"nft -j list chain {CHAIN}"))
    assert nft_live.normalized(json.dumps(back)) == nft_live.normalized(json.dumps(original))
    lab.flush_conntrack()
    with lab.netns(lab.inet):
        assert probe.sip_options(lab.router_wan, 5060, timeout=1.0)["state"] == "open"


def test_sip_helper_removal_round_trip(app, client, auth, lab, site_router):
    """This kernel has the SIP conntrack helper (nf_conntrack_sip): the object is real, not only a name."""
    _site, router = site_router
    h = auth("remediate")
    lab.rtr_sh('nft add ct helper ip portfwd sip-5060 "{ type \\"sip\\" protocol udp; }"')
    lab.rtr_sh('nft add chain ip portfwd helpers "{ type filter hook prerouting priority filter; }"')
    lab.rtr_sh('nft add rule ip portfwd helpers iifname "wan0" udp dport 5060 ct helper set "sip-5060"')
    original = nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))
    plan = _plan(client, lab, h, router)
    assert plan["plan"]["helpers"] == ["sip-5060"]
    applied = _step(client, lab, h, plan["id"], "apply")
    assert applied.status_code == 200 and applied.json["verification"]["read_back"] == "ok", applied.json
    assert "sip-5060" not in lab.rtr_sh("nft list ruleset") and _chain(lab, "ip portfwd helpers") == []
    rolled = _step(client, lab, h, plan["id"], "rollback")
    assert rolled.json["verification"]["rollback_exact"] is True, rolled.json
    assert nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) == original


def test_deleting_the_router_during_a_change_is_refused_and_loses_nothing(client, auth, lab, site_router):
    """The review's case: a DELETE while a change awaits its confirmation was a 500 that lost the record.
    Now it is 409, the router still holds the change (its timer still armed), the rollback still works;
    after it the device can go, and the remediation record stays, with no device."""
    site, router = site_router
    h, admin = auth("remediate"), auth("admin")
    plan = _plan(client, lab, h, router, forward_indices=[_http_index(client, lab, auth, site)])
    assert _step(client, lab, h, plan["id"], "apply").json["state"] == "awaiting_confirmation"
    changed = _chain(lab)
    assert "fwd-pbx-http" not in changed
    etag = client.get(f"/api/v1/devices/{router['id']}", headers=admin).headers["ETag"]
    refused = client.delete(f"/api/v1/devices/{router['id']}", headers={**admin, "If-Match": etag})
    assert refused.status_code == 409 and f"remediation:{plan['id']}" in refused.json["message"], refused.json
    assert _chain(lab) == changed and lab.remediation_dirs(plan["id"])            # the change and its timer are intact
    rolled = _step(client, lab, h, plan["id"], "rollback")
    assert rolled.json["state"] == "rolled_back" and "fwd-pbx-http" in _chain(lab)
    etag = client.get(f"/api/v1/devices/{router['id']}", headers=admin).headers["ETag"]
    assert client.delete(f"/api/v1/devices/{router['id']}", headers={**admin, "If-Match": etag}).status_code == 204
    kept = client.get(f"/api/v1/remediations/{plan['id']}", headers=h).json
    assert kept["device_id"] is None and kept["state"] == "rolled_back" and kept["plan"]["removals"]
