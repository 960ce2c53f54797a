"""The daily cap on gentle credential tests, kept in the database so restarts cannot reset it, and what
the tests learned between audits: which weak-list entry a device accepted (its position, never the
password), so the next test tries it first (device_drivers.allworx.credtest recall/remember)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from store.audit_models import CredentialAttempt, CredentialMemory
from store.models import utcnow


class PersistentAttemptBudget:
    """take_attempt(device_key) -> bool: True while the device has attempts left today (UTC).
    recall(device_key) / remember(device_key, index | None): the list position last seen accepted."""

    def __init__(self, db, per_day: int, today=lambda: datetime.now(timezone.utc).date()):
        self.db, self.per_day, self.today = db, per_day, today

    def __call__(self, device_key: str) -> bool:
        return self.take_attempt(device_key)

    def take_attempt(self, device_key: str) -> bool:
        if self.per_day <= 0:
            return False
        day = self.today().isoformat()
        with self.db.session() as sess:
            # one conditional UPDATE: concurrent audits cannot both take the last attempt
            taken = sess.execute(update(CredentialAttempt).where(
                CredentialAttempt.device_key == device_key, CredentialAttempt.day == day,
                CredentialAttempt.count < self.per_day).values(count=CredentialAttempt.count + 1)).rowcount
            if taken == 0:
                try:
                    sess.execute(insert(CredentialAttempt).values(device_key=device_key, day=day, count=1))
                    taken = 1
                except IntegrityError:      # the row exists and is at the cap
                    sess.rollback()
                    return False
            sess.commit()
            return taken == 1

    def used(self, device_key: str) -> int:
        """Attempts taken today for this device key."""
        with self.db.session() as sess:
            row = sess.get(CredentialAttempt, (device_key, self.today().isoformat()))
            return row.count if row is not None else 0

    def recall(self, device_key: str) -> int | None:
        with self.db.session() as sess:
            row = sess.get(CredentialMemory, device_key)
            return row.accepted_index if row is not None else None

    def remember(self, device_key: str, accepted_index: int | None) -> None:
        with self.db.session() as sess:
            sess.execute(delete(CredentialMemory).where(CredentialMemory.device_key == device_key))
            if accepted_index is not None:
                sess.add(CredentialMemory(device_key=device_key, accepted_index=int(accepted_index),
                                          remembered_at=utcnow()))
            sess.commit()
