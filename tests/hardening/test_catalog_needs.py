"""Every catalog check declares what it needs, from a small closed vocabulary checked when the catalog
loads; a profile's needs decide which devices and channels an audit contacts."""
import re

import pytest

from device_drivers.inventory import DeviceSpec
from hardening.engine.contact import DeviceContact, allworx_contact, device_needs
from hardening.model.catalog import (
    CHANNELS,
    DATA,
    DEVICE_NEEDS,
    NEEDS,
    SITE_NEEDS,
    CatalogError,
    catalog,
    load_catalog,
    validate,
)
from hardening.model.profiles import load_profile, profile_names

SERVER = DeviceSpec(1, "allworx_server", "pbx", "10.0.0.2")
PHONE = DeviceSpec(2, "allworx_phone", "phone-101", "10.0.0.101")
PX = DeviceSpec(3, "px_expander", "px-1", "10.0.0.230")
ROUTER = DeviceSpec(4, "router", "gw", "10.0.0.1", device_type="linux")


def test_every_check_declares_known_needs():
    for check_id, entry in catalog().items():
        assert entry["needs"] and entry["needs"] <= set(NEEDS), check_id


def test_the_vocabulary_is_documented_at_the_top_of_the_catalog():
    header = "\n".join(line for line in (DATA / "catalog.yaml").read_text().splitlines() if line.startswith("#"))
    for word in [*SITE_NEEDS, *DEVICE_NEEDS, *CHANNELS, "<device>_<channel>"]:
        assert re.search(rf"(?<![\w<]){re.escape(word)}(?![\w>])", header), word


@pytest.mark.parametrize("entry, problem", [
    ({"title": "t", "needs": ["server_web", "server_telnet"]}, "AWX-XXX-001: unknown need(s) server_telnet"),
    ({"title": "t"}, "AWX-XXX-001: `needs` must be a non-empty list"),
    ({"title": "t", "needs": []}, "AWX-XXX-001: `needs` must be a non-empty list"),
    ({"title": "t", "needs": "router_config"}, "AWX-XXX-001: `needs` must be a non-empty list"),
])
def test_a_bad_need_is_refused_naming_the_check(entry, problem):
    with pytest.raises(CatalogError, match=re.escape(problem)):
        validate({"AWX-SRV-001": {"title": "t", "needs": ["inventory"]}, "AWX-XXX-001": entry})


def test_loading_a_catalog_file_validates_it(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text('NET-FOO-001: {title: "x", severity: low, needs: [router_config, ssh_config]}\n')
    with pytest.raises(CatalogError, match=rf"{re.escape(str(path))}: check NET-FOO-001: unknown need\(s\) ssh_config"):
        load_catalog(path)


def test_network_only_needs_no_allworx_device():
    needs = load_profile("network-only").needs()
    assert needs == {"inventory", "router_config", "outside_probe", "sensor"}
    for spec in (SERVER, PHONE, PX):
        assert allworx_contact(spec, needs) == DeviceContact(), spec.kind      # nothing is sent to them
    assert device_needs(ROUTER, needs) == {"router_config"}


def test_baseline_contacts_what_its_checks_need_and_nothing_more():
    needs = load_profile("baseline").needs()
    assert allworx_contact(SERVER, needs) == DeviceContact(("snmp", "web", "probes"), True)
    assert allworx_contact(PHONE, needs) == DeviceContact((), True)            # the login test only
    assert allworx_contact(PX, needs) == DeviceContact((), True)
    assert device_needs(ROUTER, needs) == {"router_config"}
    assert device_needs(DeviceSpec(5, "switch", "sw", "10.0.0.3"), needs) == set()   # no device_type: not read


def test_every_profile_needs_what_each_of_its_checks_needs():
    for name in profile_names():
        profile = load_profile(name)
        for check_id in profile.check_ids():
            assert catalog()[check_id]["needs"] <= profile.needs(), (name, check_id)
