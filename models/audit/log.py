"""The decision log: the `flag_decisions` table, appended to and never rewritten.

Each row stores the SHA-256 of its own content and of the previous row's hash, so an edited or
deleted row breaks the chain and :func:`verify_chain` finds it. (Rewriting the whole chain, or
deleting its newest rows, leaves a chain that still verifies: keep the head hash printed by
``famlink audit DIR verify`` and shown in the report to pin it.)
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.models.audit.evidence import (
    FLAG_COLUMNS,
    evidence_by_flag,
    evidence_fingerprint,
    evidence_summary,
    flag_row,
    json_value,
    latest_run_id,
    require_flags,
    table_names,
)

TABLE = "flag_decisions"
STATUSES = ("confirmed", "dismissed", "needs_info")
"""What an auditor can decide about a flag."""
GENESIS_HASH = "0" * 64
"""`prev_hash` of the first decision."""

# The flag as the auditor saw it: kept with each decision (from `flags` and its evidence, or
# carried from the previous decision on a key no longer raised).
_SNAPSHOT_COLUMNS = (
    *FLAG_COLUMNS[1:],
    "evidence_summary",
    "evidence_fingerprint",
)

# The columns of `flag_decisions`, in order (docs/tables.md).
COLUMNS = (
    "decision_id",
    "flag_key",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    *_SNAPSHOT_COLUMNS,
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


def has_log(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has a `flag_decisions` table."""
    return TABLE in table_names(con)


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


def row_hash(content: dict[str, Any]) -> str:
    """SHA-256 of a decision's content (every column but `row_hash`, `prev_hash` included),
    as canonical JSON: sorted keys, UTF-8, timestamps to the microsecond."""
    text = json.dumps(
        {k: json_value(v) for k, v in content.items()},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc_naive(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) in UTC, without a time zone, as the log stores it."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _snapshot(con: duckdb.DuckDBPyConnection, flag_key: str) -> dict[str, Any]:
    """The flag as it is now — or, for a key no longer raised, as its latest decision kept
    it; :class:`UnknownFlagError` for a key that is neither."""
    flag = flag_row(con, flag_key)
    if flag is not None:
        items = evidence_by_flag(con, [flag_key]).get(flag_key, [])
        return {k: flag[k] for k in FLAG_COLUMNS[1:]} | {
            "evidence_summary": evidence_summary(items),
            "evidence_fingerprint": evidence_fingerprint(items),
        }
    earlier = read_decisions(con, "flag_key = ?", [flag_key])
    if not earlier:
        raise UnknownFlagError(flag_key, suggest_flag_keys(con, flag_key))
    return {k: getattr(earlier[-1], k) for k in _SNAPSHOT_COLUMNS}


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
    snapshot = _snapshot(con, flag_key)
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
            "decided_at": utc_naive(now),
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
