"""A simulated Allworx site loaded into the appliance's inventory."""
import pytest

from simulator import start_site
from simulator.seed import flask_call, seed_site
from simulator.testing import quick_policy


@pytest.fixture
def audit_app(app):
    # no pause between gentle login tries here (the pause itself is tested with the drivers)
    app.config.update(AUDIT_DEVICE_BUDGET_SECONDS=20.0, DRIVER_OPTIONS={"allworx": {"policy": quick_policy()}})
    return app


def _seeded(client, auth, preset):
    site = start_site(preset, snmp=False)
    # the site needs SIP (remote phones, ITSP) and the Allworx VPN on the WAN; nothing else
    site_id = seed_site(flask_call(client, auth("admin")), f"sim-{preset}", site.inventory(),
                        site_fields={"required_wan_services": ["sip", "vpn"]})
    return site, site_id


@pytest.fixture
def insecure_site(audit_app, client, auth):
    site, site_id = _seeded(client, auth, "insecure")
    with site:
        yield site_id


@pytest.fixture
def secure_site(audit_app, client, auth):
    site, site_id = _seeded(client, auth, "secure")
    with site:
        yield site_id
