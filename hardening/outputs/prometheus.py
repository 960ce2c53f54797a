"""Prometheus exposition through prometheus_client: a custom collector over the database.

Every scrape reads the latest completed audit of each site afresh (SiteCollector.collect), so every
gunicorn worker answers the same and nothing is counted per process. The site's state, withheld
score and UNKNOWN rules are the status's (hardening.outputs.status), as for the API and the check
command. Alert rules over these metrics: hardening/data/prometheus/alerts.yml.
"""
from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any, Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardening.engine import summaries
from hardening.outputs import status as status_out
from store.models import Site, utcnow

SEVERITIES = ("critical", "high", "medium", "low", "info")
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
HELP = {
    "awxh_site_score": "Hardening index 0-100 of the latest completed audit (kind=raw|waived); NaN when withheld",
    "awxh_site_failing_checks": "Unwaived failing results by severity",
    "awxh_check_failing": "1 when the check fails (unwaived) on the target",
    "awxh_audit_last_finished_timestamp_seconds": "When the latest completed audit finished",
    "awxh_site_state": "1 for the site's overall state (OK, WARNING, CRITICAL, UNKNOWN), 0 for the others",
    "awxh_site_score_withheld": "1 when the latest audit's score is withheld (reason says why: missing evidence)",
    "awxh_site_audit_age_seconds": "Seconds since the latest completed audit finished (+Inf: never audited)",
    "awxh_device_reachable": "1 when the latest audit reached the device, 0 when it could not (devices it did "
                             "not need to contact are left out)",
}
LABELS = {
    "awxh_site_score": ("site", "kind"), "awxh_site_failing_checks": ("site", "severity"),
    "awxh_check_failing": ("site", "check_id", "target"), "awxh_audit_last_finished_timestamp_seconds": ("site",),
    "awxh_site_state": ("site", "state"), "awxh_site_score_withheld": ("site", "reason"),
    "awxh_site_audit_age_seconds": ("site",), "awxh_device_reachable": ("site", "device", "kind"),
}


def site_entries(sess: Session, now: datetime) -> list[dict[str, Any]]:
    """One entry per site: its name, the live summary of its latest completed audit (None: never
    audited), when that audit finished, and the audit's device health list."""
    entries = []
    for site in sess.scalars(select(Site).order_by(Site.id)):
        audit = summaries.latest_completed(sess, site.id)
        summary = summaries.audit_summary(sess, audit, now) if audit else None
        health = (summary or {}).get("health")
        if health is None and audit is not None:
            health = getattr(audit, "health", None)           # the audit row's own record of it
        entries.append({"site": site.name, "summary": summary, "health": health or [],
                        "finished_ts": _epoch(audit.finished_at) if audit else None})
    return entries


def _epoch(value: datetime) -> float:
    """A naive UTC datetime (the store's) as seconds since the epoch."""
    return (value - datetime(1970, 1, 1)).total_seconds()


def families(entries: Iterable[dict[str, Any]], now_ts: float | None = None) -> list[Metric]:
    now_ts = time.time() if now_ts is None else now_ts
    out = {name: GaugeMetricFamily(name, text, labels=LABELS[name]) for name, text in HELP.items()}
    seen: set[tuple] = set()

    def add(name: str, labels: tuple, value: float) -> None:
        key = (name, *labels)
        if key not in seen:                                   # one sample per series (Prometheus refuses twins)
            seen.add(key)
            out[name].add_metric([str(v) for v in labels], value)

    for entry in entries:
        site, summary = entry["site"], entry["summary"]
        finished = entry.get("finished_ts")
        add("awxh_site_audit_age_seconds", (site,), max(0.0, now_ts - finished) if finished is not None else math.inf)
        if summary is None:
            for state in STATES:
                add("awxh_site_state", (site, state), 1 if state == "UNKNOWN" else 0)
            continue
        status = status_out.render(summary)
        for state in STATES:
            add("awxh_site_state", (site, state), 1 if status["overall"] == state else 0)
        withheld = (summary.get("score") or {}).get("withheld")
        add("awxh_site_score_withheld", (site, withheld or ""), 1 if withheld else 0)
        for kind in ("raw", "waived"):
            value = (summary.get("score") or {}).get(kind)
            add("awxh_site_score", (site, kind), math.nan if value is None else value)
        for sev in SEVERITIES:
            add("awxh_site_failing_checks", (site, sev), summary["counts"]["failing_by_severity"].get(sev, 0))
        for row in summary["results"]:
            if row["status"] == "fail" and not row["waived"]:
                add("awxh_check_failing", (site, row["check_id"], row["target"] or "site"), 1)
        if finished is not None:
            add("awxh_audit_last_finished_timestamp_seconds", (site,), finished)
        for device in entry.get("health") or summary.get("health") or []:
            if device.get("reached") is not None and device.get("kind") != status_out.SITE_ENTRY:
                # null: nothing needed it, not contacted; the site's outside-probe entry is no device
                add("awxh_device_reachable", (site, device.get("name"), device.get("kind")),
                    1 if device["reached"] else 0)
    return list(out.values())


class SiteCollector(Collector):
    """A prometheus_client collector that reads the database on every collect()."""

    def __init__(self, sess: Session, now: datetime | None = None):
        self.sess, self.now = sess, now

    def collect(self) -> Iterable[Metric]:
        now = self.now or utcnow()
        return families(site_entries(self.sess, now), _epoch(now))


class _Fixed(Collector):
    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def _text(collector: Collector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)


def exposition(sess: Session, now: datetime | None = None) -> tuple[bytes, str]:
    """(body, content type) of GET /metrics: the text format 0.0.4, read from the database now."""
    return _text(SiteCollector(sess, now)), CONTENT_TYPE_PLAIN_0_0_4


def render(entries: list[dict[str, Any]], now_ts: float | None = None) -> str:
    """`entries`: [{"site": name, "summary": audit summary or None, "finished_ts": float|None,
    "health": [...] (optional)}] as text (what site_entries gives, for tests and tools)."""
    return _text(_Fixed(families(entries, now_ts))).decode("utf-8")
