"""Where each flag stands: its latest decision (or `open`), the decisions whose flag is no
longer raised (`orphaned`), a flag's history, and the counts `famlink link` ends with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.models.audit.evidence import (
    FLAG_COLUMNS,
    evidence_by_flag,
    evidence_fingerprint,
    flag_row,
    latest_run_id,
    require_flags,
    table_names,
)
from famlink.models.audit.log import (
    STATUSES,
    Decision,
    UnknownFlagError,
    has_log,
    read_decisions,
    suggest_flag_keys,
    verify_chain,
)

LIST_STATUSES = ("open", *STATUSES, "orphaned")
"""Statuses a flag can be listed with: `open` (no decision yet), a decision, or `orphaned`."""


@dataclass(frozen=True)
class FlagStatus:
    """A flag with its latest decision — or, for status `orphaned`, a decision whose flag is
    no longer raised, with the flag as it was when decided."""

    flag_key: str
    status: str  # open | confirmed | dismissed | needs_info | orphaned
    flag_type: str | None
    child_person_id: str | None
    child_name: str | None
    adult_person_id: str | None
    adult_name: str | None
    explanation: str | None
    link_probability: float | None
    decisions: int = 0
    latest: Decision | None = None
    evidence_changed: bool | None = None  # None: no decision, or orphaned

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables, CSV and JSON (see :data:`LIST_COLUMNS`)."""
        d = self.latest
        changed = None if self.evidence_changed is None else (
            "yes" if self.evidence_changed else "no"
        )
        return {
            "flag_key": self.flag_key,
            "status": self.status,
            "last_decision": d.status if d else None,
            "decided_by": d.decided_by if d else None,
            "decided_at": d.decided_at.isoformat(timespec="seconds") + "Z" if d else None,
            "reason": d.reason if d else None,
            "decisions": self.decisions,
            "evidence_changed": changed,
            "flag_type": self.flag_type,
            "child_person_id": self.child_person_id,
            "child_name": self.child_name,
            "adult_person_id": self.adult_person_id,
            "adult_name": self.adult_name,
            "link_probability": self.link_probability,
            "explanation": self.explanation,
        }


LIST_COLUMNS = (
    "flag_key",
    "status",
    "last_decision",
    "decided_by",
    "decided_at",
    "reason",
    "decisions",
    "evidence_changed",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "link_probability",
    "explanation",
)
"""Columns of :meth:`FlagStatus.as_row`, in order."""


class AuditSummary(TypedDict):
    """Counts for the end of `famlink link` (see :func:`summary_lines`)."""

    decisions: int  # rows in the decision log
    flags_with_decision: int  # current flags with at least one decision
    reattached: int  # of those, flags decided before the latest run (carried across a re-run)
    evidence_changed: int  # current decided flags whose evidence records changed since
    orphaned: int  # flag keys with decisions but no current flag
    chain_intact: bool


def check_status_filter(status: str | None) -> None:
    """A `FamlinkError` for a status no flag can be listed with."""
    if status is not None and status not in LIST_STATUSES:
        raise FamlinkError(f"unknown status {status!r}; use one of {', '.join(LIST_STATUSES)}")


def _decisions_by_key(con: duckdb.DuckDBPyConnection) -> dict[str, list[Decision]]:
    by_key: dict[str, list[Decision]] = {}
    for d in read_decisions(con):
        by_key.setdefault(d.flag_key, []).append(d)
    return by_key


def current_status(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = None,
    flag_type: str | None = None,
) -> list[FlagStatus]:
    """Every current flag with its latest decision (status `open` if none), ordered by flag
    type, child, adult. `status` filters (`orphaned` gives none: see :func:`orphaned`)."""
    require_flags(con)
    check_status_filter(status)
    if status == "orphaned":
        return []
    by_key = _decisions_by_key(con)
    where, params = "true", []
    if flag_type:
        where, params = "flag_type = ?", [flag_type]
    rows = con.execute(
        f"SELECT {', '.join(FLAG_COLUMNS)} FROM flags WHERE {where} "  # noqa: S608
        "ORDER BY flag_type, child_person_id, adult_person_id NULLS FIRST",
        params,
    ).fetchall()
    evidence = evidence_by_flag(con, [r[0] for r in rows if r[0] in by_key])
    out = []
    for row in rows:
        flag = dict(zip(FLAG_COLUMNS, row, strict=True))
        decisions = by_key.get(flag["flag_key"], [])
        latest = decisions[-1] if decisions else None
        changed = None
        if latest is not None:
            now = evidence_fingerprint(evidence.get(flag["flag_key"], []))
            changed = latest.evidence_fingerprint != now
        item = FlagStatus(
            status=latest.status if latest else "open",
            decisions=len(decisions),
            latest=latest,
            evidence_changed=changed,
            **flag,
        )
        if status is None or item.status == status:
            out.append(item)
    return out


def orphaned(con: duckdb.DuckDBPyConnection, *, flag_type: str | None = None) -> list[FlagStatus]:
    """Flag keys that have decisions but are no longer raised: one row per key, with its
    latest decision and the flag as it was then. Ordered by flag type, child, adult."""
    require_flags(con)
    current = {r[0] for r in con.execute("SELECT flag_key FROM flags").fetchall()}
    out = []
    for key, decisions in _decisions_by_key(con).items():
        d = decisions[-1]
        if key in current or (flag_type and d.flag_type != flag_type):
            continue
        as_decided = {c: getattr(d, c) for c in FLAG_COLUMNS}  # the flag as it was then
        out.append(FlagStatus(status="orphaned", decisions=len(decisions), latest=d, **as_decided))
    out.sort(key=lambda f: (f.flag_type or "", f.child_person_id or "", f.adult_person_id or ""))
    return out


def audit_list(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = None,
    flag_type: str | None = None,
) -> list[FlagStatus]:
    """Current flags with their status, then orphaned decisions (what `famlink audit list`
    shows)."""
    check_status_filter(status)
    rows = current_status(con, status=status, flag_type=flag_type)
    if status in (None, "orphaned"):
        rows += orphaned(con, flag_type=flag_type)
    return rows


def history(con: duckdb.DuckDBPyConnection, flag_key: str) -> list[Decision]:
    """Every decision on `flag_key`, oldest first. Empty for a current flag with no decision;
    :class:`UnknownFlagError` for a key that is neither a flag nor in the log."""
    require_flags(con)
    decisions = read_decisions(con, "flag_key = ?", [flag_key])
    if not decisions and flag_row(con, flag_key) is None:
        raise UnknownFlagError(flag_key, suggest_flag_keys(con, flag_key))
    return decisions


def audit_summary(con: duckdb.DuckDBPyConnection) -> AuditSummary:
    """Counts of the decision log against the current flags (zeros without a log)."""
    if not has_log(con) or "flags" not in table_names(con):
        return AuditSummary(
            decisions=0, flags_with_decision=0, reattached=0, evidence_changed=0,
            orphaned=0, chain_intact=True,
        )
    run_id = latest_run_id(con)
    decided = [f for f in current_status(con) if f.decisions]
    log = read_decisions(con)
    runs: dict[str, set[str | None]] = {}
    for d in log:
        runs.setdefault(d.flag_key, set()).add(d.run_id)
    reattached = sum(1 for f in decided if runs[f.flag_key] - {run_id})
    return AuditSummary(
        decisions=len(log),
        flags_with_decision=len(decided),
        reattached=reattached,
        evidence_changed=sum(1 for f in decided if f.evidence_changed),
        orphaned=len(orphaned(con)),
        chain_intact=verify_chain(con).ok,
    )


def summary_lines(summary: AuditSummary, out_dir: str = "DIR") -> list[str]:
    """A few lines for the end of `famlink link` (none when no decision has been made)."""
    if not summary["decisions"]:
        return []
    lines = [
        f"audit: {summary['decisions']:,} decision(s) on {summary['flags_with_decision']:,} "
        f"current flag(s); {summary['reattached']:,} re-attached from earlier runs, "
        f"{summary['evidence_changed']:,} with changed evidence, "
        f"{summary['orphaned']:,} orphaned (flag no longer raised)"
    ]
    if summary["orphaned"]:
        lines.append(f"  review them: famlink audit {out_dir} list --status orphaned")
    if not summary["chain_intact"]:
        lines.append(f"  WARNING: the decision log is broken: famlink audit {out_dir} verify")
    return lines
