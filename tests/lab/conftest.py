"""The session-wide namespace router lab (`lab` fixture) for tests that need a real router.

The lab is built once per pytest session (or xdist worker) with a unique ID, after `lab.sh
gc` has removed labs left behind by killed sessions, and is torn down even when tests fail.
Without root, sshd, nft or ip the fixture skips with the reason.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.lab.labctl import Lab, missing_requirement, running_lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """A running lab: lab.app/rtr/pbx/inet namespaces, lab.router(), lab.rtr_sh(), ..."""
    reason = missing_requirement()
    if reason:
        pytest.skip(f"namespace router lab {reason}")
    with running_lab() as built:
        yield built
