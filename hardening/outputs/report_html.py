"""The customer-facing audit report: self-contained HTML (inline CSS, no external assets), printable.

Every value from devices or operators is escaped: a device banner or a waiver justification is text,
never markup.
"""
from __future__ import annotations

from html import escape
from typing import Any

ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2733;margin:2rem auto;max-width:960px;padding:0 1rem}
h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;border-bottom:2px solid #e3e8ee;padding-bottom:.3rem;margin-top:2rem}
.meta{color:#5b6776}.cards{display:flex;gap:1rem;margin:1.2rem 0;flex-wrap:wrap}
.card{flex:1;min-width:150px;border:1px solid #e3e8ee;border-radius:8px;padding:.8rem 1rem}
.card b{display:block;font-size:1.9rem}.CRITICAL{color:#b42318}.WARNING{color:#b54708}.OK{color:#067647}.UNKNOWN{color:#5b6776}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #eef1f4;vertical-align:top}
th{background:#f6f8fa;font-weight:600}.sev{font-weight:600;text-transform:uppercase;font-size:.75rem}
.critical{color:#b42318}.high{color:#c4320a}.medium{color:#b54708}.low{color:#475467}.info{color:#475467}
code,pre{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f6f8fa;border-radius:4px}
pre{padding:.4rem .6rem;white-space:pre-wrap;margin:.3rem 0 0}.muted{color:#5b6776}
.withheld{border:2px solid #b54708;border-radius:8px;padding:.6rem 1rem;color:#7a2e0e;background:#fffaeb}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}.card{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _evidence(row: dict[str, Any]) -> str:
    items = []
    for ev in row.get("evidence") or []:
        excerpt = f"<pre>{_e(ev.get('excerpt'))}</pre>" if ev.get("excerpt") else ""
        items.append(f"<div>{_e(ev.get('detail'))} <span class='muted'>({_e(ev.get('provenance'))}, "
                     f"{_e(ev.get('source'))})</span>{excerpt}</div>")
    return "".join(items)


def _failures(rows: list[dict[str, Any]]) -> str:
    failing = sorted((r for r in rows if r["status"] == "fail" and not r["waived"]),
                     key=lambda r: (ORDER[r["severity"]], r["check_id"]))
    if not failing:
        return "<p>No unwaived failures.</p>"
    body = "".join(
        f"<tr><td class='sev {r['severity']}'>{_e(r['severity'])}</td><td><b>{_e(r['check_id'])}</b><br>"
        f"{_e(r['title'])}</td><td>{_e(r['target'] or 'site')}</td><td>{_e(r['message'])}{_evidence(r)}"
        f"<div class='muted'>Fix: {_e(r['remediation']['hint'])}</div></td></tr>" for r in failing)
    return f"<table><tr><th>Severity</th><th>Check</th><th>Where</th><th>What was found</th></tr>{body}</table>"


def _waivers(rows: list[dict[str, Any]]) -> str:
    waived = [r for r in rows if r.get("waiver")]
    if not waived:
        return "<p>No waivers apply.</p>"
    body = "".join(
        f"<tr><td>{_e(r['check_id'])}</td><td>{_e(r['target'] or 'site')}</td><td>{_e(r['status'])}</td>"
        f"<td>{_e(r['waiver']['justification'])}<div class='muted'>risk: {_e(r['waiver'].get('risk')) or '-'}"
        f"</div></td><td>{_e(r['waiver']['approver'])}</td><td>{_e(r['waiver'].get('expires_at') or 'never')}"
        f"{' <b class=CRITICAL>(expired)</b>' if r['waiver'].get('expired') else ''}</td></tr>" for r in waived)
    return ("<table><tr><th>Check</th><th>Where</th><th>Real status</th><th>Justification</th><th>Approver</th>"
            f"<th>Expires</th></tr>{body}</table>")


def _list(items: list[dict[str, Any]], empty: str) -> str:
    if not items:
        return f"<p>{_e(empty)}</p>"
    return "<ul>" + "".join(f"<li><b>{_e(i.get('check_id'))}</b> {_e(i.get('target') or 'site')}: "
                            f"{_e(i.get('title') or i.get('message'))}</li>" for i in items) + "</ul>"


def _unreached(health: list[dict[str, Any]] | None) -> str:
    """The devices the audit needed and did not reach, then the channels that failed on the others."""
    if health is None:
        return "<p class='muted'>Device health was not recorded for this audit.</p>"
    down = [h for h in health if h.get("reached") is False]
    partly = [h for h in health if h.get("reached") is not False
              and any(c.get("state") == "failed" for c in (h.get("channels") or {}).values())]
    if not down and not partly:
        return "<p>Every device the audit needed answered.</p>"

    def row(h: dict[str, Any]) -> str:
        failed = "; ".join(f"{name}: {c.get('reason') or 'failed'}" for name, c in (h.get("channels") or {}).items()
                           if c.get("state") == "failed")
        state = "not reached" if h.get("reached") is False else "partly read"
        return (f"<tr><td>{_e(h.get('name'))}</td><td>{_e(h.get('kind'))}</td><td>{_e(h.get('address'))}</td>"
                f"<td><b>{_e(state)}</b>: {_e(h.get('reason'))}</td><td>{_e(failed)}</td></tr>")
    body = "".join(row(h) for h in down + partly)
    return ("<table id='unreached'><tr><th>Device</th><th>Kind</th><th>Address</th><th>State</th>"
            f"<th>Channels that failed</th></tr>{body}</table>")


def render(summary: dict[str, Any], fixed: list[dict[str, Any]] | None = None) -> str:
    rows, score, counts = summary["results"], summary["score"], summary["counts"]
    since = (summary.get("drift") or {}).get("since_previous") or {}
    undecided = [r for r in rows if r["status"] in ("error", "manual", "not_applicable")]
    withheld = score.get("withheld")
    shown = "withheld" if withheld else score["raw"]
    banner = f'<p class="withheld" id="withheld">Score withheld: {_e(withheld)}</p>' if withheld else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Allworx security audit - {_e(summary['site']['name'])}</title><style>{CSS}</style></head><body>
<h1>Allworx security audit: {_e(summary['site']['name'])}</h1>
<div class="meta">Audit {_e(summary['audit_id'])} ({_e(summary['profile'])} profile), finished {_e(summary['finished_at'])}</div>
<div class="cards">
<div class="card">Overall<b class="{_e(summary['overall'])}">{_e(summary['overall'])}</b></div>
<div class="card">Hardening index<b id="score">{_e(shown)}</b><span class="muted">{'no index: see below' if withheld else f"/ 100; with waivers {_e(score['waived'])}"}</span></div>
<div class="card">Failing<b>{_e(sum(counts['failing_by_severity'].values()))}</b><span class="muted">{_e(counts['pass'])} passed, {_e(counts['waived'])} waived</span></div>
<div class="card">Not decided<b>{_e(len(undecided))}</b><span class="muted">errors, manual, n/a</span></div>
</div>
{banner}
<h2>Devices not reached</h2>{_unreached(summary.get('health'))}
<h2>What failed and why</h2>{_failures(rows)}
<h2>New since the last audit</h2>{_list(since.get('new_failures') or [], 'Nothing new failed since the last audit.')}
<h2>Resolved since the last audit</h2>{_list(since.get('resolved') or [], 'Nothing was resolved since the last audit.')}
<h2>What was fixed</h2>{_list(fixed or [], 'No remediation was applied in this period.')}
<h2>Waivers (accepted risks)</h2>{_waivers(rows)}
<h2>Not decided</h2>{_list([{**r, 'title': f"{r['status']}: {r['message']}"} for r in undecided], 'Every check was decided.')}
<p class="muted">The hardening index weighs decided checks by severity (critical 10, high 5, medium 3, low 1);
manual and not-applicable checks are left out. When a device the audit needed was not reached, or a check
that carries weight could not be decided, no index is given (it is withheld): a score built on missing
evidence would only look better than the site is.</p>
</body></html>"""
