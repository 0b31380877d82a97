"""Clerical review of borderline links: decisions that the next ``famlink link`` obeys.

A reviewer looks at a pair of records the model was unsure about and says "same person" or
"different people". Decisions are appended to ``link_decisions`` (never updated or deleted:
the latest decision on a pair is the one in force, the rest is its history). On the next
run a "different" decision is a cannot-link that clustering respects (the weakest links
between the two records are left out) and a "same" decision a must-link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from famlink.linkage.errors import FamlinkError

DECISIONS_DDL = """
CREATE TABLE IF NOT EXISTS link_decisions (
    decision_id BIGINT,
    source_a VARCHAR,
    record_id_a VARCHAR,
    source_b VARCHAR,
    record_id_b VARCHAR,
    decision VARCHAR,          -- 'same' | 'different'
    reason VARCHAR,
    decided_by VARCHAR,
    decided_at TIMESTAMP,
    match_probability DOUBLE,  -- the model's view when the decision was made (NULL: no link)
    run_id VARCHAR
)
"""

# The decision in force for each pair: the latest one.
LATEST_DECISIONS_SQL = """
    SELECT source_a, record_id_a, source_b, record_id_b, decision
    FROM link_decisions
    QUALIFY row_number() OVER (
        PARTITION BY source_a, record_id_a, source_b, record_id_b ORDER BY decision_id DESC) = 1
"""

CANNOT_LINK_SQL = f"""
    SELECT source_a, record_id_a, source_b, record_id_b FROM ({LATEST_DECISIONS_SQL})
    WHERE decision = 'different'
"""  # noqa: S608 - constant SQL

MUST_LINK_SQL = f"""
    SELECT source_a, record_id_a, source_b, record_id_b FROM ({LATEST_DECISIONS_SQL})
    WHERE decision = 'same'
"""  # noqa: S608 - constant SQL

RecordRef = tuple[str, str]


def parse_record_ref(text: str) -> RecordRef:
    """``"csc:1000007"`` → ``("csc", "1000007")``; the source is before the first colon."""
    source, sep, record_id = text.partition(":")
    if not sep or not source or not record_id:
        raise FamlinkError(
            f"record reference {text!r} is not SOURCE:RECORD_ID",
            hint="for example csc:1000007 (source name from the job file, then the agency's id)",
        )
    return source, record_id


def _record(con: duckdb.DuckDBPyConnection, ref: RecordRef) -> dict[str, Any]:
    cursor = con.execute(
        "SELECT * FROM source_records WHERE source = ? AND record_id = ?", list(ref)
    )
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        raise FamlinkError(
            f"no record {ref[0]}:{ref[1]} in this output",
            hint="record references are SOURCE:RECORD_ID as in `famlink review DIR queue`",
        )
    return dict(zip(columns, rows[0], strict=True))


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DECISIONS_DDL)


@dataclass(frozen=True)
class LinkDecision:
    decision_id: int
    record_a: RecordRef
    record_b: RecordRef
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime


def decide(
    con: duckdb.DuckDBPyConnection,
    record_a: RecordRef,
    record_b: RecordRef,
    *,
    same: bool,
    reason: str,
    decided_by: str,
    now: datetime | None = None,
) -> LinkDecision:
    """Append a clerical decision on a pair of records."""
    if not reason.strip():
        raise FamlinkError("a decision needs a reason", hint="--reason 'DOB differs by 30 years'")
    if not decided_by.strip():
        raise FamlinkError("a decision needs the name of who made it", hint="--by 'A. Auditor'")
    a, b = sorted([record_a, record_b])
    if a == b:
        raise FamlinkError("both references name the same record")
    left, right = _record(con, a), _record(con, b)
    if same and left["nhs_number"] and right["nhs_number"] and left["nhs_number"] != right["nhs_number"]:
        raise FamlinkError(
            f"{a[0]}:{a[1]} and {b[0]}:{b[1]} have different valid NHS numbers; "
            "famlink never makes them one person",
            hint="check the NHS numbers with the agencies that hold the records",
        )
    ensure_table(con)
    probability = con.execute(
        "SELECT match_probability FROM record_links WHERE source_l = ? AND record_id_l = ? "
        "AND source_r = ? AND record_id_r = ?",
        [*a, *b],
    ).fetchall()
    run = con.execute("SELECT max(run_id) FROM runs").fetchall()
    next_id = con.execute("SELECT coalesce(max(decision_id), 0) + 1 FROM link_decisions").fetchall()[0][0]
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    decision = "same" if same else "different"
    con.execute(
        "INSERT INTO link_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [next_id, *a, *b, decision, reason.strip(), decided_by.strip(), stamp,
         probability[0][0] if probability else None, run[0][0] if run else None],
    )
    return LinkDecision(next_id, a, b, decision, reason.strip(), decided_by.strip(), stamp)


QUEUE_COLUMNS = (
    "record_a", "record_b", "match_probability", "match_weight", "same_person_now",
    "name_a", "name_b", "dob_a", "dob_b", "sex_a", "sex_b", "nhs_a", "nhs_b",
    "postcode_a", "postcode_b",
)


def review_queue(
    con: duckdb.DuckDBPyConnection, *, low: float, high: float, limit: int
) -> list[tuple[Any, ...]]:
    """Undecided record pairs with a match probability in [low, high], most uncertain first."""
    if not 0 <= low <= high <= 1:
        raise FamlinkError(f"band {low}-{high} is not within 0-1 with low <= high", hint="--band 0.5-0.95")
    decided = (
        "ANTI JOIN link_decisions d ON d.source_a = l.source_l AND d.record_id_a = l.record_id_l "
        "AND d.source_b = l.source_r AND d.record_id_b = l.record_id_r"
        if _has_table(con, "link_decisions") else ""
    )
    return con.execute(
        f"""
        SELECT l.source_l || ':' || l.record_id_l, l.source_r || ':' || l.record_id_r,
               round(l.match_probability, 4), round(l.match_weight, 2),
               pa.person_id = pb.person_id,
               concat_ws(' ', a.first_name, a.surname), concat_ws(' ', b.first_name, b.surname),
               coalesce(a.dob::VARCHAR, a.dob_raw), coalesce(b.dob::VARCHAR, b.dob_raw),
               a.sex, b.sex, a.nhs_number, b.nhs_number, a.postcode, b.postcode
        FROM record_links l
        {decided}
        JOIN source_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
        JOIN source_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
        JOIN person_records pa ON pa.source = l.source_l AND pa.record_id = l.record_id_l
        JOIN person_records pb ON pb.source = l.source_r AND pb.record_id = l.record_id_r
        WHERE l.match_probability BETWEEN ? AND ?
        ORDER BY abs(l.match_weight), l.source_l, l.record_id_l, l.source_r, l.record_id_r
        LIMIT ?
        """,  # noqa: S608 - fixed SQL fragments only
        [low, high, limit],
    ).fetchall()


def decisions(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Every decision, oldest first (the history)."""
    if not _has_table(con, "link_decisions"):
        return []
    return con.execute("SELECT * FROM link_decisions ORDER BY decision_id").fetchall()


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
        [name],
    ).fetchall()[0][0])

