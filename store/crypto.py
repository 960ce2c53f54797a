"""Secrets at rest: Fernet encryption with a key file (0600) or an env var, and key rotation."""
from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    """Encrypts dicts of secrets; `keys[0]` encrypts, every key decrypts (so rotation is gradual)."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("no encryption key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, secrets: dict[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())

    def decrypt(self, token: bytes) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise ValueError("stored secrets cannot be decrypted with the configured key") from None

    def rotate(self, token: bytes) -> bytes:
        return self._fernet.rotate(token)


def load_keys(data_dir: str, configured: str = "") -> list[bytes]:
    """Keys from config/env (comma-separated, newest first) or the key file, created 0600 on first use."""
    if configured:
        return [k.strip().encode() for k in configured.split(",") if k.strip()]
    path = Path(data_dir) / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} must not be readable by group or others (chmod 600)")
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def add_new_key(data_dir: str) -> bytes:
    """Prepend a fresh key to the key file (old keys stay to decrypt until rotation finishes)."""
    path = Path(data_dir) / "secret.key"
    key = Fernet.generate_key()
    old = path.read_bytes() if path.exists() else b""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n" + old)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return key


def drop_old_keys(data_dir: str) -> None:
    path = Path(data_dir) / "secret.key"
    first = path.read_bytes().splitlines()[0]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(first + b"\n")
    os.replace(tmp, path)
