"""Reading the output database for the views: the tables a view needs, rows as dicts, dates and
JSON lists as DuckDB returns them, and the run manifest (the latest row of ``runs``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb

from famlink.linkage.errors import OutputError
from famlink.visualise.data import RunManifest


def require_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """Raise a clear OutputError if any of ``tables`` is missing."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    missing = [t for t in tables if t not in present]
    if missing:
        unfinished = (" (the models stage has not run there, or did not finish)"
                      if "models_run" in missing else "")
        raise OutputError(
            f"the output database has no table {', '.join(missing)}{unfinished}",
            hint="run `famlink link JOB.toml --out DIR` (which also builds families and flags) "
            "or `famlink demo`, then view that DIR",
        )


def query_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return list(value) if isinstance(value, list) else []


def run_manifest(con: duckdb.DuckDBPyConnection) -> RunManifest | None:
    """The latest run (by ``started_at``), or None if ``runs`` is empty."""
    rows = query_rows(con, "SELECT * FROM runs ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT 1")
    if not rows:
        return None
    run = rows[0]
    order = (
        "run_id",
        "status",
        "started_at",
        "finished_at",
        "user_name",
        "host",
        "reference_date",
        "seed",
        "famlink_version",
        "splink_version",
        "duckdb_version",
        "python_version",
        "job_path",
        "job_sha256",
        "model_path",
        "model_sha256",
        "model_trained",
    )
    fields = tuple(
        (name, plain_text(run[name])) for name in order if name in run and run[name] is not None
    )
    inputs = tuple(
        {k: plain_text(v) for k, v in item.items()}
        for item in json_list(run.get("inputs"))
        if isinstance(item, dict)
    )
    return RunManifest(
        fields=fields, inputs=inputs, reference_date=as_date(run.get("reference_date"))
    )


def plain_text(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)
