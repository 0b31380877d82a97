"""The flag audit: a case auditor's decisions on flags, kept in an append-only hash chain.

A decision says of one flag — by its key `type:child_person_id[:adult_person_id]` — that it is
`confirmed`, `dismissed` or `needs_info`, why, who decided and when. Decisions live in the
table `flag_decisions` of the output database, which `famlink link` never rewrites: flags are
rebuilt on every run and decisions re-attach to them by flag key. A decision whose flag is no
longer raised is *orphaned*: it is kept and listed, with the flag as it was when decided.

- :mod:`.log` — the table and its hash chain: :func:`decide`, :func:`verify_chain`.
- :mod:`.status` — where each flag stands: :func:`audit_list`, :func:`history`,
  :func:`audit_summary`.
- :mod:`.report` — the report's data, :func:`build_report`; the HTML page is rendered by
  ``famlink.visualise.audit_report``.
- :mod:`.evidence` — the flags and evidence of the latest run, as the audit reads them.

This package only reads tables and inserts into `flag_decisions`; it never prints and does
no file I/O.
"""

from famlink.models.audit.evidence import (
    evidence_by_flag,
    evidence_fingerprint,
    evidence_summary,
    flag_row,
    latest_run_id,
    require_flags,
)
from famlink.models.audit.log import (
    COLUMNS,
    GENESIS_HASH,
    STATUSES,
    TABLE,
    Decision,
    UnknownFlagError,
    VerifyResult,
    decide,
    has_log,
    read_decisions,
    row_hash,
    suggest_flag_keys,
    verify_chain,
)
from famlink.models.audit.report import REPORT_COLUMNS, AuditReport, build_report, report_rows
from famlink.models.audit.status import (
    LIST_COLUMNS,
    LIST_STATUSES,
    AuditSummary,
    FlagStatus,
    audit_list,
    audit_summary,
    current_status,
    history,
    orphaned,
    summary_lines,
)

__all__ = [
    "COLUMNS",
    "GENESIS_HASH",
    "LIST_COLUMNS",
    "LIST_STATUSES",
    "REPORT_COLUMNS",
    "STATUSES",
    "TABLE",
    "AuditReport",
    "AuditSummary",
    "Decision",
    "FlagStatus",
    "UnknownFlagError",
    "VerifyResult",
    "audit_list",
    "audit_summary",
    "build_report",
    "current_status",
    "decide",
    "evidence_by_flag",
    "evidence_fingerprint",
    "evidence_summary",
    "flag_row",
    "has_log",
    "history",
    "latest_run_id",
    "orphaned",
    "read_decisions",
    "report_rows",
    "require_flags",
    "row_hash",
    "suggest_flag_keys",
    "summary_lines",
    "verify_chain",
]
