"""Per-device change locks in the database: an INSERT either wins or fails, in every worker."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.exc import IntegrityError

from store.audit_models import DeviceLock, Remediation
from store.models import utcnow

# A change is live on the device: being applied, or made and awaiting its confirmation
LIVE_STATES = ("applying", "awaiting_confirmation")


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


def not_busy(device_id: int):
    """SQL condition: no unexpired lock on the device and no live change on it (for a guarded write)."""
    lock_held = exists().where(DeviceLock.device_id == device_id, DeviceLock.expires_at > utcnow())
    live = exists().where(Remediation.device_id == device_id, Remediation.state.in_(LIVE_STATES))
    return and_(~lock_held, ~live)


def busy_reason(sess, device_id: int) -> str | None:
    """Why nothing else may change the device (its record included) now, or None."""
    lock = sess.scalar(select(DeviceLock).where(DeviceLock.device_id == device_id,
                                                DeviceLock.expires_at > utcnow()))
    if lock is not None:
        return (f"Device {device_id} is being changed ({lock.holder}, locked until "
                f"{lock.expires_at:%Y-%m-%d %H:%M:%S} UTC); retry when that change is finished.")
    live = sess.scalars(select(Remediation.id).where(Remediation.device_id == device_id,
                                                     Remediation.state.in_(LIVE_STATES))).all()
    if live:
        return (f"Device {device_id} has a change in progress (remediation {', '.join(map(str, live))}); "
                "confirm or roll it back first.")
    return None
