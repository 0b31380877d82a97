"""The flags of the latest run as the audit reads them: a flag's `flags` row, its
`flag_evidence` items, the fingerprint and summary of that evidence kept with a decision, and
the run the flags came from. Reads tables only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb

from famlink.linkage.errors import OutputError

FLAG_COLUMNS = (
    "flag_key",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "explanation",
    "link_probability",
)
"""The `flags` columns the audit shows and keeps with a decision."""

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


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the database's main schema."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }


def require_flags(con: duckdb.DuckDBPyConnection) -> None:
    """An `OutputError` saying what to run when the models stage has not been run."""
    present = table_names(con)
    if "flags" not in present or "flag_evidence" not in present:
        raise OutputError(
            "the database has no flags yet",
            hint="run `famlink link JOB.toml --out DIR` (it builds them by default)",
        )


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose flags are in the database: the latest succeeded run (else the latest
    run; None without a `runs` table)."""
    if "runs" not in table_names(con):
        return None
    row = con.execute(
        """SELECT run_id FROM runs
           ORDER BY status = 'succeeded' DESC, started_at DESC, run_id DESC LIMIT 1"""
    ).fetchone()
    return row[0] if row else None


def flag_row(con: duckdb.DuckDBPyConnection, flag_key: str) -> dict[str, Any] | None:
    """The current flag with this key (the `flags` columns audit uses), or None."""
    row = con.execute(
        f"SELECT {', '.join(FLAG_COLUMNS)} FROM flags WHERE flag_key = ?",  # noqa: S608
        [flag_key],
    ).fetchone()
    return dict(zip(FLAG_COLUMNS, row, strict=True)) if row else None


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


def json_value(value: Any) -> Any:
    """A value as hashed JSON holds it: timestamps to the microsecond, dates in ISO form."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


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
        json.dumps([json_value(item.get(f)) for f in _FINGERPRINT_FIELDS], ensure_ascii=False)
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
