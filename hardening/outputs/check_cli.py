"""`python app.py check --site S`: the RMM/Nagios contract, read from the appliance's own database.

The status is the API's (hardening.outputs.status.status_of), read through a plain session of the
app's database: no request, no Flask context. The command prints one line on stdout and nothing on
stderr (quiet_run keeps library log lines and warnings off it) unless the command itself fails.
"""
from __future__ import annotations

import collections
import contextlib
import io
import logging
import traceback
import warnings
from datetime import timedelta
from typing import Callable

from sqlalchemy import func, select

from hardening.engine import audits, summaries
from hardening.outputs import nagios
from hardening.outputs.status import status_of
from store.models import Device, Site, utcnow


class AmbiguousSite(LookupError):
    pass


def _site(sess, ref: str) -> Site | None:
    """By id (digits), else by name: exactly, else ignoring case (two such matches: AmbiguousSite)."""
    if ref.isdigit() and (site := sess.get(Site, int(ref))) is not None:
        return site
    exact = sess.scalar(select(Site).where(Site.name == ref))
    if exact is not None:
        return exact
    folded = ref.casefold()
    matches = [s for s in sess.scalars(select(Site).order_by(Site.name)) if s.name.casefold() == folded]
    if len(matches) > 1:
        raise AmbiguousSite(f"site {ref!r} is ambiguous: " + ", ".join(repr(s.name) for s in matches))
    return matches[0] if matches else None


def check_site(app, site_ref: str, run: bool, nable: bool, max_age_hours: float | None,
               fail_on_new: bool = False) -> tuple[str, int]:
    with app.extensions["db"].session() as sess:
        try:
            site = _site(sess, site_ref)
        except AmbiguousSite as exc:
            return nagios.unknown(str(exc), nable)
        if site is None:
            return nagios.unknown(f"no site {site_ref!r}", nable)
        if not sess.scalar(select(func.count(Device.id)).where(Device.site_id == site.id)):
            return nagios.unknown(f"site {site.name}: the site has no devices", nable)
        if run:
            try:
                audit = audits.create_audit(sess, site.id, "baseline", "cli:check")
            except audits.AuditConflict as exc:
                return nagios.unknown(str(exc), nable)
            runner = app.extensions["audit_runner"]
            runner.submit(audit.id)
            runner.wait(audit.id)                    # a no-op when the runner is synchronous (the command's)
            sess.expire_all()
        latest = summaries.latest_completed(sess, site.id)
        if latest is not None and max_age_hours is not None and \
                utcnow() - latest.finished_at > timedelta(hours=max_age_hours):
            return nagios.unknown(f"site {site.name}: last audit finished {latest.finished_at:%Y-%m-%d %H:%M} "
                                  f"UTC, older than {max_age_hours:g} h", nable)
        status = status_of(sess, site)
        if fail_on_new and status["last_audit"] is not None:
            status = nagios.only_new(status)
        return nagios.render(status, nable=nable)


class _Keep(logging.Handler):
    """Keeps the last log records in memory: shown on stderr only if the command fails."""

    def __init__(self, size: int = 200):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: collections.deque[str] = collections.deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:                                    # a bad record never breaks the check
            self.lines.append(f"{record.levelname} {record.name}: (unformattable record)")


def quiet_run(work: Callable[[], tuple[str, int]], nable: bool = False,
              mask: Callable[[str], str] = lambda text: text) -> tuple[str, int, str]:
    """Run the check with every log record and warning kept in memory instead of printed: returns
    (line, exit code, what to print on stderr). Library INFO lines (paramiko's "Connected", netmiko,
    pysnmp) and warnings (urllib3, cryptography) never reach stderr; if the check itself raises, the
    line is UNKNOWN and stderr gets the kept log lines and the traceback, through `mask` (secrets)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    keep = _Keep()
    root.handlers[:] = [keep]                 # create_app's logging setup adds no stderr handler then
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    stray = io.StringIO()                     # whatever a library writes to sys.stderr by itself
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(stray):
            warnings.simplefilter("default")
            line, code = work()
        return line, code, ""
    except Exception as exc:
        line, code = nagios.unknown(f"check failed: {type(exc).__name__}: {exc}", nable)
        detail = "\n".join([*keep.lines, stray.getvalue().rstrip(), traceback.format_exc()]).strip() + "\n"
        return mask(line), code, mask(detail)
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
