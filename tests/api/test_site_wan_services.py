"""required_wan_services through the API: known names in any case, 'rtp' and proto/ports declarations
are accepted; an unknown name is a 422 naming the field and the known names; stored old data still reads."""
from store.db import get_db
from store.models import Site

ACCEPTED = ["udp/15000-15511", "SIP", "rtp"]


def _messages(resp) -> str:
    return " ".join(str(m) for m in resp.json["errors"]["json"]["required_wan_services"].values())


def test_post_and_put_accept_names_rtp_and_declarations(client, auth):
    h = auth("admin")
    resp = client.post("/api/v1/sites", json={"name": "MSP", "required_wan_services": ACCEPTED}, headers=h)
    assert resp.status_code == 201, resp.json
    assert resp.json["required_wan_services"] == ACCEPTED
    etag = client.get(f"/api/v1/sites/{resp.json['id']}", headers=h).headers["ETag"]
    body = {"name": "MSP", "required_wan_services": ["TCP_UDP/5060", "Blf", "vpn", "tcp/443", *ACCEPTED]}
    put = client.put(f"/api/v1/sites/{resp.json['id']}", json=body, headers={**h, "If-Match": etag})
    assert put.status_code == 200, put.json
    assert put.json["required_wan_services"] == body["required_wan_services"]


def test_unknown_name_is_422_naming_the_field_and_the_known_names(client, auth, site):
    h = auth("admin")
    resp = client.post("/api/v1/sites", json={"name": "B", "required_wan_services": ["sip", "nonsense"]}, headers=h)
    assert resp.status_code == 422
    assert list(resp.json["errors"]["json"]) == ["required_wan_services"]
    text = _messages(resp)
    assert "'nonsense'" in text and "required_wan_services" in text
    assert all(name in text for name in ("blf", "http", "https", "rtp", "sip", "sip_tls", "vpn"))
    assert set(resp.json["errors"]["json"]["required_wan_services"]) == {"1"}        # only 'nonsense' refused
    etag = client.get(f"/api/v1/sites/{site['id']}", headers=h).headers["ETag"]
    put = client.put(f"/api/v1/sites/{site['id']}", json={"name": "HQ", "required_wan_services": ["nonsense"]},
                     headers={**h, "If-Match": etag})
    assert put.status_code == 422 and "'nonsense'" in _messages(put)
    assert client.get(f"/api/v1/sites/{site['id']}", headers=h).json["required_wan_services"] == []


def test_malformed_declarations_are_422(client, auth):
    for bad in ("udp/70000", "udp/0", "icmp/8", "udp/1-2-3", "tcp/ 80"):
        resp = client.post("/api/v1/sites", json={"name": "C", "required_wan_services": [bad]},
                           headers=auth("admin"))
        assert resp.status_code == 422, bad
        assert "not a valid declaration" in _messages(resp) or "unknown service" in _messages(resp)


def test_a_stored_unknown_name_still_reads(app, client, auth):
    with app.app_context(), get_db().session() as sess:
        sess.add(Site(name="old", required_wan_services=["nonsense", "sip"]))
        sess.commit()
    listed = client.get("/api/v1/sites?name=old", headers=auth("read")).json
    assert listed[0]["required_wan_services"] == ["nonsense", "sip"]
