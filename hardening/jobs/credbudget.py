"""The daily cap on gentle credential tests, kept in the database so restarts cannot reset it."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from store.audit_models import CredentialAttempt


class PersistentAttemptBudget:
    """take_attempt(device_key) -> bool: True while the device has attempts left today (UTC)."""

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
