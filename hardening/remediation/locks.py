"""Per-device change locks in the database: an INSERT either wins or fails, in every worker."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from store.audit_models import DeviceLock
from store.models import utcnow


class LockHeld(Exception):
    pass


def acquire(db, device_id: int, holder: str, seconds: float) -> None:
    now = utcnow()
    with db.session() as sess:
        sess.execute(delete(DeviceLock).where(DeviceLock.device_id == device_id, DeviceLock.expires_at < now))
        sess.add(DeviceLock(device_id=device_id, holder=holder, acquired_at=now,
                            expires_at=now + timedelta(seconds=seconds)))
        try:
            sess.commit()
        except IntegrityError:
            sess.rollback()
            current = sess.get(DeviceLock, device_id)
            raise LockHeld(f"device {device_id} is being changed by {current.holder if current else 'another task'}") \
                from None


def release(db, device_id: int, holder: str) -> None:
    with db.session() as sess:
        sess.execute(delete(DeviceLock).where(DeviceLock.device_id == device_id, DeviceLock.holder == holder))
        sess.commit()
