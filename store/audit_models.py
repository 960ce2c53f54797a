"""ORM models for audits and what hangs off them: results, waivers, baselines, schedules, webhooks."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models import Base, utcnow

ACTIVE_AUDIT_STATES = ("queued", "running")


class Audit(Base):
    __tablename__ = "audits"
    __table_args__ = (
        # at most one queued/running audit per site, enforced by the database across workers
        Index("ux_audits_one_active_per_site", "site_id", unique=True,
              sqlite_where=text("state IN ('queued', 'running')")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    profile: Mapped[str] = mapped_column(String(50), default="baseline")
    state: Mapped[str] = mapped_column(String(20), default="queued")   # queued|running|completed|interrupted|failed
    requested_by: Mapped[str] = mapped_column(String(120), default="")
    rerun_of: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]                   # a running audit's runner is alive
    runner: Mapped[str] = mapped_column(String(100), default="")
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)      # score, counts, drift, overall
    # per inventory device (and the site's outside probe): reached or not, on which channels, why not;
    # None until the audit has gathered, and for audits recorded before revision 0005
    health: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    results: Mapped[list["AuditResult"]] = relationship(back_populates="audit", cascade="all, delete-orphan",
                                                         passive_deletes=True, order_by="AuditResult.id")


class AuditResult(Base):
    __tablename__ = "audit_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(20))
    device_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    provenance: Mapped[str] = mapped_column(String(10), default="derived")
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    audit: Mapped[Audit] = relationship(back_populates="results")


class Waiver(Base):
    __tablename__ = "waivers"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(10))          # site | device
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    justification: Mapped[str] = mapped_column(Text)
    approver: Mapped[str] = mapped_column(String(120))
    risk: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SiteBaseline(Base):
    """The audit a site's drift is also compared with (pinned by an operator)."""
    __tablename__ = "site_baselines"
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Schedule(Base):
    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    cron: Mapped[str] = mapped_column(String(100))
    profile: Mapped[str] = mapped_column(String(50), default="baseline")
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_audit_id: Mapped[int | None]


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[Any]] = mapped_column(default=list)     # new_failures | resolved | audit_error
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)      # HMAC key, encrypted at rest
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")   # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class CredentialAttempt(Base):
    """Gentle credential tests per device and UTC day, so a restart cannot reset the daily cap."""
    __tablename__ = "credential_attempts"
    device_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class CredentialMemory(Base):
    """Per device key, the position in the weak-password list of the password a gentle credential test
    last saw accepted (never the password itself), so the next test tries it first. Never returned."""
    __tablename__ = "credential_memory"
    device_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    accepted_index: Mapped[int]
    remembered_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstallWindow(Base):
    """A time-boxed window in which Plug 'n' Play phone creates are allowed (AWX-PHN-004/005)."""
    __tablename__ = "install_windows"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    opened_by: Mapped[str] = mapped_column(String(120), default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(12), default="open")     # open | closed | failed
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Remediation(Base):
    """One planned change to one device: plan -> apply -> verify -> confirm, or roll back."""
    __tablename__ = "remediations"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # SET NULL: the record of a change outlives the device it changed (a device is never deleted while one runs)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    # planned | applying | awaiting_confirmation | confirmed | rolled_back | failed
    state: Mapped[str] = mapped_column(String(24), default="planned")
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    backup: Mapped[dict[str, Any]] = mapped_column(default=dict)      # the pre-change config snapshot
    verification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    confirm_timeout_seconds: Mapped[int] = mapped_column(default=300)
    confirm_deadline: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeviceLock(Base):
    """A change in progress on a device; the primary key makes taking it atomic across workers."""
    __tablename__ = "device_locks"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
