"""Simulated sites shared by the simulator tests; tests that change state start their own."""
from __future__ import annotations

from typing import Iterator

import pytest

from simulator import Site, start_site


@pytest.fixture(scope="session")
def insecure_site() -> Iterator[Site]:
    with start_site("insecure") as site:
        yield site


@pytest.fixture(scope="session")
def secure_site() -> Iterator[Site]:
    with start_site("secure") as site:
        yield site


@pytest.fixture
def fresh_site() -> Iterator[Site]:
    """An insecure site without SNMP (fast to start), private to one test."""
    with start_site("insecure", snmp=False, phones=1, px=1) as site:
        yield site
