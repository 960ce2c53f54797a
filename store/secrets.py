"""Read and write a device's encrypted credentials through the app's SecretBox."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.crypto import SecretBox
from store.models import Credential, Device

SECRET_FIELDS = ("password", "enable_secret", "snmp_community", "snmp_auth_key", "snmp_priv_key",
                 "ssh_private_key", "web_password", "phone_admin_password", "pnp_secret_key")


def secret_box() -> SecretBox:
    return current_app.extensions["secret_box"]


def set_credentials(device: Device, username: str | None, secrets: dict[str, str], box: SecretBox | None = None,
                    merge: bool = True) -> None:
    """Store secrets on the device (merged into what is there unless merge=False); caller commits."""
    box = box or secret_box()
    current = get_secrets(device, box) if (merge and device.credential) else {}
    current.update({k: v for k, v in secrets.items() if v is not None})
    current = {k: v for k, v in current.items() if v != ""}
    cred = device.credential or Credential(secrets_enc=b"")
    if username is not None:
        cred.username = username
    cred.fields = sorted(current)
    cred.secrets_enc = box.encrypt(current)
    device.credential = cred


def get_secrets(device: Device, box: SecretBox | None = None) -> dict[str, str]:
    if device.credential is None:
        return {}
    return (box or secret_box()).decrypt(device.credential.secrets_enc)


def rotate_all(sess: Session, box: SecretBox) -> int:
    """Re-encrypt every credential with the box's newest key; returns how many were rewritten."""
    count = 0
    for cred in sess.scalars(select(Credential)):
        cred.secrets_enc = box.rotate(cred.secrets_enc)
        count += 1
    return count
