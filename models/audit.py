"""The flag audit: a case auditor's decisions on flags, kept in an append-only hash chain.

A decision says of one flag — by its key `type:child_person_id[:adult_person_id]` — that it is
`confirmed`, `dismissed` or `needs_info`, why, who decided and when. Decisions live in the
table `flag_decisions` of the output database, which `famlink link` never rewrites: flags are
rebuilt on every run and decisions re-attach to them by flag key. A decision whose flag is no
longer raised is *orphaned*: it is kept and listed, with the flag as it was when decided.

Each row stores the SHA-256 of its own content and of the previous row's hash, so an edited or
deleted row breaks the chain and :func:`verify_chain` finds it. (Rewriting the whole chain, or
deleting its newest rows, leaves a chain that still verifies: keep the head hash printed by
``famlink audit DIR verify`` and shown in the report to pin it.)

This module only reads tables and inserts into `flag_decisions`; it never prints and does no
file I/O. Rendering functions return strings for the CLI to write.
"""

from __future__ import annotations

import base64
import csv
import difflib
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

import duckdb
import jinja2
from markupsafe import Markup

from famlink.linkage.errors import FamlinkError, OutputError
from famlink.linkage.output import csv_safe

TABLE = "flag_decisions"
STATUSES = ("confirmed", "dismissed", "needs_info")
"""What an auditor can decide about a flag."""
LIST_STATUSES = ("open", *STATUSES, "orphaned")
"""Statuses a flag can be listed with: `open` (no decision yet), a decision, or `orphaned`."""
GENESIS_HASH = "0" * 64
"""`prev_hash` of the first decision."""

# The columns of `flag_decisions`, in order (docs/tables.md).
COLUMNS = (
    "decision_id",
    "flag_key",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "explanation",
    "link_probability",
    "evidence_summary",
    "evidence_fingerprint",
    "run_id",
    "prev_hash",
    "row_hash",
)

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    decision_id BIGINT PRIMARY KEY,
    flag_key VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    flag_type VARCHAR,
    child_person_id VARCHAR,
    child_name VARCHAR,
    adult_person_id VARCHAR,
    adult_name VARCHAR,
    explanation VARCHAR,
    link_probability DOUBLE,
    evidence_summary VARCHAR,
    evidence_fingerprint VARCHAR,
    run_id VARCHAR,
    prev_hash VARCHAR NOT NULL,
    row_hash VARCHAR NOT NULL
)
"""

# The evidence fields that say *which records* a flag rests on. A change in any of them (a
# record added or gone, an address period that now ends) makes a decided flag "changed";
# descriptions and link probabilities are left out (names, ages and re-trained models move).
_FINGERPRINT_FIELDS = (
    "part",
    "kind",
    "source",
    "record_id",
    "related_record_id",
    "relationship",
    "event_type",
    "date_from",
    "date_to",
)


class UnknownFlagError(FamlinkError):
    """No current flag has this key (and, unless `decisions` > 0, no decision either)."""

    def __init__(
        self,
        flag_key: str,
        suggestions: Sequence[str] = (),
        *,
        decisions: int = 0,
        out_dir: str = "DIR",
    ) -> None:
        self.flag_key = flag_key
        self.suggestions = list(suggestions)
        self.decisions = decisions
        if decisions:
            message = (
                f"flag {flag_key!r} is no longer raised by the latest run; its {decisions} "
                "decision(s) are kept (status orphaned)"
            )
            hint = (
                f"see `famlink audit {out_dir} history {flag_key}` and the orphaned section "
                f"of `famlink audit {out_dir} report`"
            )
        else:
            message = f"no flag {flag_key!r}"
            if self.suggestions:
                message += "; did you mean " + ", ".join(self.suggestions) + "?"
            hint = f"list the flags and their keys with `famlink audit {out_dir} list`"
        super().__init__(message, hint=hint)

    def for_dir(self, out_dir: str) -> UnknownFlagError:
        """The same error, its hint naming the real output folder."""
        return UnknownFlagError(
            self.flag_key, self.suggestions, decisions=self.decisions, out_dir=out_dir
        )


@dataclass(frozen=True)
class Decision:
    """One row of `flag_decisions`: a decision and the flag as the auditor saw it."""

    decision_id: int
    flag_key: str
    status: str
    reason: str
    decided_by: str
    decided_at: datetime  # UTC, naive
    flag_type: str | None
    child_person_id: str | None
    child_name: str | None
    adult_person_id: str | None
    adult_name: str | None
    explanation: str | None
    link_probability: float | None
    evidence_summary: str | None
    evidence_fingerprint: str | None
    run_id: str | None
    prev_hash: str
    row_hash: str

    def content(self) -> dict[str, Any]:
        """Everything the row hash covers (every column but `row_hash`)."""
        return {c: getattr(self, c) for c in COLUMNS if c != "row_hash"}


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


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_chain` found."""

    ok: bool
    rows: int
    head_hash: str | None  # row_hash of the newest decision (None: no decisions)
    broken_at: int | None = None  # decision_id of the first bad row
    problem: str | None = None

    def message(self) -> str:
        if self.ok:
            if not self.rows:
                return "decision log intact: no decisions yet"
            return f"decision log intact: {self.rows} decision(s), head hash {self.head_hash}"
        return f"decision log BROKEN at decision {self.broken_at}: {self.problem}"


class AuditSummary(TypedDict):
    """Counts for the end of `famlink link` (see :func:`summary_lines`)."""

    decisions: int  # rows in the decision log
    flags_with_decision: int  # current flags with at least one decision
    reattached: int  # of those, flags decided before the latest run (carried across a re-run)
    evidence_changed: int  # current decided flags whose evidence records changed since
    orphaned: int  # flag keys with decisions but no current flag
    chain_intact: bool


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


# --- reading ---------------------------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }


def has_log(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has a `flag_decisions` table."""
    return TABLE in _tables(con)


def require_flags(con: duckdb.DuckDBPyConnection) -> None:
    """An `OutputError` saying what to run when the models stage has not been run."""
    present = _tables(con)
    if "flags" not in present or "flag_evidence" not in present:
        raise OutputError(
            "the database has no flags yet",
            hint="run `famlink link JOB.toml --out DIR` (it builds them by default)",
        )


def read_decisions(
    con: duckdb.DuckDBPyConnection, where: str = "true", params: Sequence[Any] = ()
) -> list[Decision]:
    """Rows of `flag_decisions` matching `where` (SQL written by the caller, values passed
    as `params`), oldest first; none without the table."""
    if not has_log(con):
        return []
    cols = ", ".join(COLUMNS)
    rows = con.execute(
        f"SELECT {cols} FROM {TABLE} WHERE {where} ORDER BY decision_id",  # noqa: S608
        list(params),
    ).fetchall()
    return [Decision(*row) for row in rows]


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose flags are in the database: the latest succeeded run (else the latest
    run; None without a `runs` table)."""
    if "runs" not in _tables(con):
        return None
    row = con.execute(
        """SELECT run_id FROM runs
           ORDER BY status = 'succeeded' DESC, started_at DESC, run_id DESC LIMIT 1"""
    ).fetchone()
    return row[0] if row else None


def evidence_by_flag(
    con: duckdb.DuckDBPyConnection, flag_keys: Iterable[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """`flag_evidence` rows by flag key (all flags when `flag_keys` is None)."""
    if flag_keys is None:
        cur = con.execute("SELECT * FROM flag_evidence ORDER BY flag_key, item_no")
    else:
        keys = sorted(set(flag_keys))
        if not keys:
            return {}
        cur = con.execute(
            "SELECT * FROM flag_evidence WHERE flag_key IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY flag_key, item_no",
            [keys],
        )
    cols = [d[0] for d in cur.description]
    out: dict[str, list[dict[str, Any]]] = {}
    for row in cur.fetchall():
        item = dict(zip(cols, row, strict=True))
        out.setdefault(item["flag_key"], []).append(item)
    return out


def evidence_fingerprint(items: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the records a flag's evidence rests on (order-free; descriptions and link
    probabilities left out), to tell whether a decided flag's evidence has changed.

    >>> a = {"part": "role", "source": "housing", "record_id": "T1", "date_to": None}
    >>> b = {"part": "trigger", "source": "police", "record_id": "P9", "description": "x"}
    >>> evidence_fingerprint([a, b]) == evidence_fingerprint([b, dict(a, link_probability=0.5)])
    True
    >>> evidence_fingerprint([a]) == evidence_fingerprint([dict(a, date_to="2026-01-31")])
    False
    """
    keys = sorted(
        json.dumps([_plain(item.get(f)) for f in _FINGERPRINT_FIELDS], ensure_ascii=False)
        for item in items
    )
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


def evidence_summary(items: Sequence[dict[str, Any]]) -> str:
    """The evidence as one line per item, as stored with a decision."""
    lines = []
    for item in items:
        p = item.get("link_probability")
        prob = f", link probability {p:.3f}" if p is not None else ""
        lines.append(
            f"{item.get('item_no')}. [{item.get('part')}] {item.get('description')} "
            f"(source {item.get('source')} record {item.get('record_id')}{prob})"
        )
    return "\n".join(lines)


_FLAG_COLS = (
    "flag_key",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "explanation",
    "link_probability",
)


def flag_row(con: duckdb.DuckDBPyConnection, flag_key: str) -> dict[str, Any] | None:
    """The current flag with this key (the `flags` columns audit uses), or None."""
    row = con.execute(
        f"SELECT {', '.join(_FLAG_COLS)} FROM flags WHERE flag_key = ?",  # noqa: S608
        [flag_key],
    ).fetchone()
    return dict(zip(_FLAG_COLS, row, strict=True)) if row else None


def suggest_flag_keys(con: duckdb.DuckDBPyConnection, flag_key: str, *, n: int = 5) -> list[str]:
    """Flag keys close to `flag_key`: containing it, then similar by spelling."""
    keys = [r[0] for r in con.execute("SELECT flag_key FROM flags ORDER BY flag_key").fetchall()]
    if has_log(con):
        keys = sorted(set(keys) | {r[0] for r in con.execute(f"SELECT flag_key FROM {TABLE}").fetchall()})  # noqa: S608
    needle = flag_key.strip()
    found = [k for k in keys if needle and needle in k][:n]
    for k in difflib.get_close_matches(needle, keys, n=n, cutoff=0.75):
        if k not in found and len(found) < n:
            found.append(k)
    return found


def current_status(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = None,
    flag_type: str | None = None,
) -> list[FlagStatus]:
    """Every current flag with its latest decision (status `open` if none), ordered by flag
    type, child, adult. `status` filters (`orphaned` gives none: see :func:`orphaned`)."""
    require_flags(con)
    _check_status_filter(status)
    if status == "orphaned":
        return []
    by_key: dict[str, list[Decision]] = {}
    for d in read_decisions(con):
        by_key.setdefault(d.flag_key, []).append(d)
    where, params = "true", []
    if flag_type:
        where, params = "flag_type = ?", [flag_type]
    rows = con.execute(
        f"SELECT {', '.join(_FLAG_COLS)} FROM flags WHERE {where} "  # noqa: S608
        "ORDER BY flag_type, child_person_id, adult_person_id NULLS FIRST",
        params,
    ).fetchall()
    decided_keys = [r[0] for r in rows if r[0] in by_key]
    evidence = evidence_by_flag(con, decided_keys)
    out = []
    for row in rows:
        flag = dict(zip(_FLAG_COLS, row, strict=True))
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
    by_key: dict[str, list[Decision]] = {}
    for d in read_decisions(con):
        if d.flag_key not in current:
            by_key.setdefault(d.flag_key, []).append(d)
    out = []
    for key, decisions in by_key.items():
        d = decisions[-1]
        if flag_type and d.flag_type != flag_type:
            continue
        out.append(
            FlagStatus(
                flag_key=key,
                status="orphaned",
                flag_type=d.flag_type,
                child_person_id=d.child_person_id,
                child_name=d.child_name,
                adult_person_id=d.adult_person_id,
                adult_name=d.adult_name,
                explanation=d.explanation,
                link_probability=d.link_probability,
                decisions=len(decisions),
                latest=d,
            )
        )
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
    _check_status_filter(status)
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


# --- writing ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def row_hash(content: dict[str, Any]) -> str:
    """SHA-256 of a decision's content (every column but `row_hash`, `prev_hash` included),
    as canonical JSON: sorted keys, UTF-8, timestamps to the microsecond."""
    text = json.dumps(
        {k: _plain(v) for k, v in content.items()},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_status_filter(status: str | None) -> None:
    if status is not None and status not in LIST_STATUSES:
        raise FamlinkError(f"unknown status {status!r}; use one of {', '.join(LIST_STATUSES)}")


def _utc(now: datetime | None) -> datetime:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def decide(
    con: duckdb.DuckDBPyConnection,
    flag_key: str,
    *,
    status: str,
    reason: str,
    decided_by: str,
    now: datetime | None = None,
) -> Decision:
    """Append a decision on `flag_key` to `flag_decisions` (created if absent) and return it.

    The flag must be raised now, or be an orphaned key already in the log (its snapshot is
    then carried from the latest decision). `reason` and `decided_by` must be non-empty;
    `now` (default: the current time) is stored as UTC. Needs a read-write connection.
    """
    if status not in STATUSES:
        raise FamlinkError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    reason, decided_by = (reason or "").strip(), (decided_by or "").strip()
    if not reason:
        raise FamlinkError("a reason is required: say why (it is what a later reviewer reads)")
    if not decided_by:
        raise FamlinkError("the name of who decided is required (--by NAME)")
    require_flags(con)
    flag = flag_row(con, flag_key)
    if flag is not None:
        items = evidence_by_flag(con, [flag_key]).get(flag_key, [])
        snapshot: dict[str, Any] = {
            k: flag[k] for k in _FLAG_COLS if k != "flag_key"
        } | {
            "evidence_summary": evidence_summary(items),
            "evidence_fingerprint": evidence_fingerprint(items),
        }
    else:
        earlier = read_decisions(con, "flag_key = ?", [flag_key])
        if not earlier:
            raise UnknownFlagError(flag_key, suggest_flag_keys(con, flag_key))
        last = earlier[-1]
        snapshot = {
            k: getattr(last, k)
            for k in (
                "flag_type", "child_person_id", "child_name", "adult_person_id", "adult_name",
                "explanation", "link_probability", "evidence_summary", "evidence_fingerprint",
            )
        }
    run_id = latest_run_id(con)
    con.execute(_CREATE)
    con.execute("BEGIN TRANSACTION")
    try:
        prev = con.execute(
            f"SELECT decision_id, row_hash FROM {TABLE} ORDER BY decision_id DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        content = {
            "decision_id": (prev[0] + 1) if prev else 1,
            "flag_key": flag_key,
            "status": status,
            "reason": reason,
            "decided_by": decided_by,
            "decided_at": _utc(now),
            **snapshot,
            "run_id": run_id,
            "prev_hash": prev[1] if prev else GENESIS_HASH,
        }
        decision = Decision(**content, row_hash=row_hash(content))
        con.execute(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            [getattr(decision, c) for c in COLUMNS],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return decision


def verify_chain(con: duckdb.DuckDBPyConnection) -> VerifyResult:
    """Check the decision log: ids run 1, 2, 3 … with no gap, each row's `prev_hash` is the
    previous row's `row_hash`, and each `row_hash` matches the row's content. Returns the
    first broken row, if any."""
    decisions = read_decisions(con)
    prev_hash = GENESIS_HASH
    for expected, d in enumerate(decisions, start=1):

        def broken(problem: str, d: Decision = d) -> VerifyResult:
            return VerifyResult(False, len(decisions), None, d.decision_id, problem)

        if d.decision_id != expected:
            missing = (
                f"decision {expected} is missing"
                if d.decision_id > expected
                else f"decision id {d.decision_id} appears twice"
            )
            return broken(f"{missing} (deleted or renumbered rows)")
        if d.prev_hash != prev_hash:
            return broken(
                "its prev_hash does not match the row before it (a row before it was edited "
                "or deleted)"
            )
        if row_hash(d.content()) != d.row_hash:
            return broken("its content does not match its row_hash (the row was edited)")
        prev_hash = d.row_hash
    return VerifyResult(True, len(decisions), decisions[-1].row_hash if decisions else None)


def audit_summary(con: duckdb.DuckDBPyConnection) -> AuditSummary:
    """Counts of the decision log against the current flags (zeros without a log)."""
    if not has_log(con) or "flags" not in _tables(con):
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


# --- the report ------------------------------------------------------------------------------


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
        generated_at=_utc(now),
        run_id=latest_run_id(con),
        flags=flags,
        orphaned=orphans,
        evidence=evidence_by_flag(con, [f.flag_key for f in flags]),
        verify=verify_chain(con),
        counts=counts,
    )


REPORT_CSV_COLUMNS = (
    "section",
    "flag_key",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    "decisions",
    "evidence_changed",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "link_probability",
    "explanation",
    "evidence",
)


def render_report_csv(report: AuditReport) -> str:
    """One row per flag (`section` = `flags`), then per orphaned key (`orphaned`); the
    evidence is one line per item in the `evidence` cell (for orphans: as when decided)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REPORT_CSV_COLUMNS)
    for section, rows in (("flags", report.flags), ("orphaned", report.orphaned)):
        for f in rows:
            row = f.as_row()
            if section == "flags":
                evidence = evidence_summary(report.evidence.get(f.flag_key, []))
            else:
                evidence = (f.latest.evidence_summary if f.latest else None) or ""
            row |= {"section": section, "evidence": evidence}
            writer.writerow(["" if row[c] is None else csv_safe(row[c]) for c in REPORT_CSV_COLUMNS])
    return buf.getvalue()


_REPORT_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#eee;cursor:pointer;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.open{background:#fff}.confirmed{background:#fde2e2}.dismissed{background:#e5f3e5}
.needs_info{background:#fff5d6}.orphaned{background:#eee}.broken{color:#a00;font-weight:bold}
details{margin-top:4px}ol{margin:4px 0;padding-left:1.5em}code{font-size:12px}
.small{font-size:12px;color:#444}pre{white-space:pre-wrap;margin:0}
"""

_REPORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
        return (asc ? 1 : -1) * x.localeCompare(y, undefined, {numeric: true});
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_REPORT_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src {{ style_hash }}; script-src {{ script_hash }}">
<meta name="referrer" content="no-referrer">
<title>famlink flag audit{% if run_id %} — run {{ run_id }}{% endif %}</title>
<style>{{ css }}</style>
</head>
<body>
<h1>Flag audit</h1>
<p class="small">Generated {{ generated_at }} UTC from run {{ run_id or "(unknown)" }}.
A flag is not a finding, a risk score or a judgement: it says a rule's conditions are met by the
records famlink was given, and lists those records to check at source.</p>
<p>{% for status, n in counts.items() %}{{ status }}: <strong>{{ n }}</strong>{% if not loop.last %} · {% endif %}{% endfor %}</p>
<p class="{{ 'small' if verify.ok else 'broken' }}">{{ verify.message() }}</p>

<h2>Flags ({{ flags|length }})</h2>
{% if flags %}
<table class="sortable">
<thead><tr><th>Flag</th><th>Status</th><th>Child</th><th>Adult</th><th>Link prob.</th>
<th>Decision</th><th>Explanation and evidence</th></tr></thead>
<tbody>
{% for f in flags %}
<tr class="{{ f.status }}">
<td data-sort="{{ f.flag_key }}"><code>{{ f.flag_key }}</code></td>
<td>{{ f.status }}{% if f.evidence_changed %}<br><strong>evidence changed since decided</strong>{% endif %}</td>
<td>{{ f.child_name or "" }}<br><code>{{ f.child_person_id or "" }}</code></td>
<td>{% if f.adult_person_id %}{{ f.adult_name or "" }}<br><code>{{ f.adult_person_id }}</code>{% endif %}</td>
<td>{{ "%.3f"|format(f.link_probability) if f.link_probability is not none else "" }}</td>
<td data-sort="{{ f.latest.decided_at if f.latest else '' }}">{% if f.latest %}{{ f.latest.reason }}<br>
<span class="small">— {{ f.latest.decided_by }}, {{ f.latest.decided_at.isoformat(timespec="seconds") }}Z
({{ f.decisions }} decision{{ "s" if f.decisions != 1 }})</span>{% endif %}</td>
<td>{{ f.explanation or "" }}
{% set items = evidence.get(f.flag_key, []) %}
<details><summary>{{ items|length }} evidence item{{ "s" if items|length != 1 }}</summary><ol>
{% for e in items %}<li>[{{ e.part }}] {{ e.description }} <span class="small">({{ e.agency }}: source {{ e.source }}, record {{ e.record_id }}{% if e.related_record_id %} / {{ e.related_record_id }}{% endif %}{% if e.date_from or e.date_to %}, {{ e.date_from or "…" }} to {{ e.date_to or "…" }}{% endif %}{% if e.link_probability is not none %}, link probability {{ "%.3f"|format(e.link_probability) }}{% endif %}; {{ e.basis }})</span></li>
{% endfor %}</ol></details></td>
</tr>
{% endfor %}
</tbody>
</table>
{% else %}<p>(none)</p>{% endif %}

<h2>Orphaned decisions ({{ orphans|length }})</h2>
<p class="small">Decisions on flags that the latest run no longer raises (the records behind them
changed or are gone). Kept as they were when decided: check why the flag went.</p>
{% if orphans %}
<table class="sortable">
<thead><tr><th>Flag</th><th>Last decision</th><th>Child</th><th>Adult</th><th>Decided in run</th>
<th>Decision</th><th>The flag as it was when decided</th></tr></thead>
<tbody>
{% for f in orphans %}
<tr class="orphaned">
<td><code>{{ f.flag_key }}</code></td>
<td>{{ f.latest.status }}</td>
<td>{{ f.child_name or "" }}<br><code>{{ f.child_person_id or "" }}</code></td>
<td>{% if f.adult_person_id %}{{ f.adult_name or "" }}<br><code>{{ f.adult_person_id }}</code>{% endif %}</td>
<td>{{ f.latest.run_id or "" }}</td>
<td>{{ f.latest.reason }}<br><span class="small">— {{ f.latest.decided_by }}, {{ f.latest.decided_at.isoformat(timespec="seconds") }}Z ({{ f.decisions }} decision{{ "s" if f.decisions != 1 }})</span></td>
<td>{{ f.explanation or "" }}<details><summary>evidence when decided</summary><pre>{{ f.latest.evidence_summary or "" }}</pre></details></td>
</tr>
{% endfor %}
</tbody>
</table>
{% else %}<p>(none)</p>{% endif %}
<script>{{ js }}</script>
</body>
</html>
"""


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_report_html(report: AuditReport) -> str:
    """The report as one self-contained HTML page: no external resource, every value
    escaped, a Content-Security-Policy allowing only its own inline style and script."""
    css, js = Markup(_REPORT_CSS), Markup(_REPORT_JS)
    return _ENV.from_string(_REPORT_TEMPLATE).render(
        css=css,
        js=js,
        style_hash=Markup(_csp_hash(_REPORT_CSS)),
        script_hash=Markup(_csp_hash(_REPORT_JS)),
        generated_at=report.generated_at.isoformat(timespec="seconds"),
        run_id=report.run_id,
        counts=report.counts,
        verify=report.verify,
        flags=report.flags,
        orphans=report.orphaned,
        evidence=report.evidence,
    )
