"""The audit report as data: every flag (filtered) with its status, decision and evidence,
the orphaned decisions, counts by status and the state of the log — computed once, then
rendered as HTML (`famlink.visualise.audit_report`) or as CSV rows (:func:`report_rows`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from famlink.models.audit.evidence import evidence_by_flag, evidence_summary, latest_run_id
from famlink.models.audit.log import VerifyResult, utc_naive, verify_chain
from famlink.models.audit.status import (
    LIST_COLUMNS,
    LIST_STATUSES,
    FlagStatus,
    current_status,
    orphaned,
)


@dataclass(frozen=True)
class AuditReport:
    """Everything the audit report shows, computed once, rendered as HTML or CSV."""

    generated_at: datetime
    run_id: str | None
    flags: list[FlagStatus]
    orphaned: list[FlagStatus]
    evidence: dict[str, list[dict[str, Any]]]  # flag_key -> flag_evidence rows, by item_no
    verify: VerifyResult
    counts: dict[str, int] = field(default_factory=dict)  # by status


def build_report(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = None,
    flag_type: str | None = None,
    now: datetime | None = None,
) -> AuditReport:
    """Compute the audit report: flags (filtered) with evidence and decisions, orphans."""
    flags = current_status(con, status=status, flag_type=flag_type)
    orphans = orphaned(con, flag_type=flag_type) if status in (None, "orphaned") else []
    counts = dict.fromkeys(LIST_STATUSES, 0)
    for f in current_status(con, flag_type=flag_type) + orphaned(con, flag_type=flag_type):
        counts[f.status] += 1
    return AuditReport(
        generated_at=utc_naive(now),
        run_id=latest_run_id(con),
        flags=flags,
        orphaned=orphans,
        evidence=evidence_by_flag(con, [f.flag_key for f in flags]),
        verify=verify_chain(con),
        counts=counts,
    )


REPORT_COLUMNS = (
    "section",
    "flag_key",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    *LIST_COLUMNS[LIST_COLUMNS.index("decisions") :],
    "evidence",
)
"""Columns of :func:`report_rows`, in order (the CSV report's header)."""


def report_rows(report: AuditReport) -> list[list[Any]]:
    """The report as one row per flag (`section` = `flags`), then per orphaned key
    (`orphaned`), in :data:`REPORT_COLUMNS` order; the evidence is one line per item in the
    `evidence` cell (for orphans: as when decided)."""
    out = []
    for section, flags in (("flags", report.flags), ("orphaned", report.orphaned)):
        for f in flags:
            if section == "flags":
                evidence = evidence_summary(report.evidence.get(f.flag_key, []))
            else:
                evidence = (f.latest.evidence_summary if f.latest else None) or ""
            row = f.as_row() | {"section": section, "evidence": evidence}
            out.append([row[c] for c in REPORT_COLUMNS])
    return out
