"""The audit report as one offline HTML page, made the way the views are made
(:mod:`famlink.visualise.page`): the views' autoescaping templates and stylesheet, and a
Content-Security-Policy admitting only the page's own style and sorting script, by hash."""

from __future__ import annotations

from markupsafe import Markup

from famlink.models.audit import AuditReport
from famlink.visualise.page import asset, probability, render_page


def render_audit_report(report: AuditReport) -> str:
    """The report as a self-contained HTML page: no external resource, every value escaped;
    click a column heading to sort."""
    app_js = asset("audit_report.js")
    return render_page(
        "audit_report.html.j2",
        scripts=[app_js],
        styles=["audit_report.css"],
        app_js=Markup(app_js),
        probability=probability,
        generated_at=report.generated_at.isoformat(timespec="seconds"),
        run_id=report.run_id,
        counts=report.counts,
        verify=report.verify,
        flags=report.flags,
        orphans=report.orphaned,
        evidence=report.evidence,
    )
