"""ORM models for the inventory, credentials, API tokens and the audit log."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    wan_addresses: Mapped[list[Any]] = mapped_column(default=list)
    lan_subnets: Mapped[list[Any]] = mapped_column(default=list)
    voice_vlan_id: Mapped[int | None]
    voice_subnet: Mapped[str | None] = mapped_column(String(50))
    required_wan_services: Mapped[list[Any]] = mapped_column(default=list)
    allowed_sip_peers: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")   # IANA; schedules run in it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    devices: Mapped[list["Device"]] = relationship(back_populates="site", passive_deletes=True)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("site_id", "name"), Index("ix_devices_site_kind", "site_id", "kind"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(50))
    wan_address: Mapped[str | None] = mapped_column(String(50))
    ports: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[str] = mapped_column(String(100), default="")
    device_type: Mapped[str | None] = mapped_column(String(50))        # netmiko device_type (routers/switches)
    snmp: Mapped[dict[str, Any]] = mapped_column(default=dict)          # version, port (community is a secret)
    declared_facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    ssh_host_key: Mapped[dict[str, Any] | None] = mapped_column(JSON)          # pinned key
    ssh_host_key_presented: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a changed key awaiting an admin
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    site: Mapped[Site] = relationship(back_populates="devices")
    credential: Mapped["Credential | None"] = relationship(back_populates="device", cascade="all, delete-orphan",
                                                           passive_deletes=True)


class Credential(Base):
    """A device's secrets as one encrypted blob; only the field names are readable."""
    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(100), default="")
    fields: Mapped[list[Any]] = mapped_column(default=list)            # names of the secrets that are set
    secrets_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    device: Mapped[Device] = relationship(back_populates="credential")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scope: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))                      # shown in lists to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditLogEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(20))                    # success | denied | rejected | error
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RequestCounter(Base):
    """Requests nobody authenticated (refused, unrouted), counted per minute and status instead of logged
    one row each: a flood of them cannot grow the database beyond a row per minute and status."""
    __tablename__ = "request_counters"
    minute: Mapped[datetime] = mapped_column(primary_key=True)         # UTC, seconds cut off
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)    # unauthenticated | unrouted
    status_code: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class AuthFailure(Base):
    """Failed authentications per client address in the current window (shared by all workers)."""
    __tablename__ = "auth_failures"
    remote_addr: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=0)
