"""The database and its WAL / shared-memory files are 0600 whatever the data directory's mode and the umask."""
from __future__ import annotations

import os
import stat

import pytest

from app import create_app

FILES = ("appliance.db", "appliance.db-wal", "appliance.db-shm")


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)               # a typical service umask: new files 0644
    yield
    os.umask(old)


def _modes(data_dir):
    return {name: stat.S_IMODE(os.stat(data_dir / name).st_mode) for name in FILES if (data_dir / name).exists()}


def _use(app):
    from api.auth import new_token
    with app.app_context(), app.extensions["db"].session() as sess:
        new_token(sess, "t", "read")
        sess.commit()


def test_new_database_files_are_private_in_an_open_directory(tmp_path, loose_umask):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    _use(app)
    with app.extensions["db"].engine.connect():                 # WAL and SHM exist while a connection is open
        modes = _modes(data_dir)
    assert set(modes) == set(FILES) and set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(os.stat(data_dir / ".migrate.lock").st_mode) == 0o600


def test_existing_readable_files_are_made_private_on_start(tmp_path, loose_umask):
    data_dir = tmp_path / "data"
    first = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    _use(first)
    first.extensions["db"].engine.dispose()
    for name in FILES:
        if (data_dir / name).exists():
            os.chmod(data_dir / name, 0o644)
    os.chmod(data_dir, 0o755)
    second = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    with second.extensions["db"].engine.connect():
        modes = _modes(data_dir)
    assert modes and set(modes.values()) == {0o600}, modes
