"""The ``warnings`` table: every data-fit warning of a run, as rows a data officer (or a
later stage) can query, beside the printed lines and ``runs.counts``.

One row per problem: a date column whose formats read too few of its values *and* look
day/month swapped gives two rows (kinds ``date_format_unparsed`` and
``date_day_month_swap``) with the same counts and message, so ``WHERE kind = …`` finds every
column with that problem. Rows are sorted, so the same inputs give the same table (apart
from ``run_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from famlink.linkage.connection import Columns
from famlink.linkage.reconcile import DataWarning

TABLE = "warnings"

#: the table's columns in order (docs/tables.md)
COLUMNS: Columns = [
    ("run_id", "VARCHAR"),
    ("source", "VARCHAR"),
    ("file_kind", "VARCHAR"),
    ("file", "VARCHAR"),
    ("field", "VARCHAR"),
    ("column_name", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("formats", "VARCHAR[]"),
    ("non_empty", "BIGINT"),
    ("parsed", "BIGINT"),
    ("swapped_only", "BIGINT"),
    ("min_parsed", "DOUBLE"),
    ("suggested_format", "VARCHAR"),
    ("suggested_parses", "BIGINT"),
    ("message", "VARCHAR"),
]

#: files in the job file's order within a source, as the other tables sort them
_FILE_ORDER = {"people": 1, "relationships": 2, "events": 3}


def warning_rows(run_id: str, warnings: Sequence[DataWarning]) -> list[tuple[Any, ...]]:
    """The table's rows for ``warnings``, sorted by source, file, field and kind."""
    rows = [
        (run_id, w.source, w.file_kind, w.file, w.field, w.column, kind, list(w.formats),
         w.non_empty, w.parsed, w.swapped_only, w.min_parsed, w.suggested_format,
         w.suggested_parses, str(w))
        for w in warnings for kind in w.kinds()
    ]
    return sorted(rows, key=lambda r: (r[1], _FILE_ORDER.get(r[2], 9), r[4], r[5], r[6]))


def write_warnings(con: duckdb.DuckDBPyConnection, run_id: str,
                   warnings: Sequence[DataWarning]) -> None:
    """Create (or replace) ``warnings`` with the run's data-fit warnings (possibly none:
    an empty table says this run found none, rather than leaving a previous run's)."""
    spec = ", ".join(f'"{name}" {dtype}' for name, dtype in COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} ({spec})")
    rows = warning_rows(run_id, warnings)
    if rows:
        marks = ", ".join("?" for _ in COLUMNS)
        # a handful of rows (one or two per date column at most): executemany is fine
        con.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", rows)  # noqa: S608
