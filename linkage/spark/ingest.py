"""Ingest on the Spark backend: extracts read where they are, standardised on Spark.

Reading an extract stays with the DuckDB reader on the machine that holds the files: it
is strict (a malformed CSV is an error naming the file and line, rows are never skipped)
and knows each row's line in the file, which Spark's CSV reader does not. Each extract's
raw rows, with their position and line, then go to Spark as Parquet, and everything after
— mapping columns to canonical fields, parsing dates with the job file's formats,
standardising names, identifiers and addresses, quarantine reasons, nulled values,
unmapped codes, ``relationships`` and ``events`` — runs there, the DuckDB backend's SQL
(:mod:`famlink.linkage.staging`) through :class:`famlink.linkage.spark.sql.SparkSQLConnection`.

The tables come back into the output database with a DuckDB run's column types and order;
``quarantine`` (each unused row as read, from the raw tables) and the reconciliation are
then built there, so every count is checked against what Spark wrote.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from famlink.linkage import ingest as reading
from famlink.linkage import staging
from famlink.linkage.connection import SQLConnection
from famlink.linkage.errors import FamlinkError
from famlink.linkage.job_sources import identifier_names
from famlink.linkage.jobfile import Job, SparkSettings
from famlink.linkage.reconcile import IngestReport, reconcile
from famlink.linkage.spark.dialect import UnsupportedOnSpark
from famlink.linkage.spark.session import spark_failure, spark_session
from famlink.linkage.spark.sql import (
    Columns,
    SparkSQLConnection,
    duckdb_schema_of,
    load_into_duckdb,
    to_parquet,
)

#: working folder inside the output folder; it holds personal data and is removed
WORK_DIR_NAME = "spark-ingest-work"

#: lookup tables ingest builds before reading (nicknames, the job's sources and codes)
LOOKUPS = ("_fl_nicknames", "_fl_sources", "_fl_codes")

_KIND = "CASE file_kind WHEN 'people' THEN 1 WHEN 'relationships' THEN 2 ELSE 3 END"
#: what Spark writes, and each table's row order in a DuckDB run
OUTPUTS = {
    "source_records": "source, line_number",  # one people file per source
    "relationships": "source, CASE origin WHEN 'people_file' THEN 1 ELSE 2 END, line_number",
    "events": "source, line_number",
    "nulled_values": f"source, {_KIND}, line_number, field",
    "unmapped_codes": f"source, {_KIND}, field, code",
    "_fl_q": None,  # the quarantined rows' reasons, for `quarantine` (built in DuckDB)
}


def ingest_on_spark(
    con: duckdb.DuckDBPyConnection, job: Job, *, settings: SparkSettings, work_dir: Path,
) -> IngestReport:
    """:func:`famlink.linkage.ingest.ingest` with the standardisation on Spark: the same tables."""
    started = time.perf_counter()
    extracts = reading.check_headers(con, job)
    report = IngestReport()
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "in").mkdir(parents=True)
    try:
        reading.setup_lookups(con, job)
        inputs: dict[str, Columns] = {}
        for extract in extracts:
            reading.read_extract(con, extract, report)
            inputs[extract.raw_table.strip('"')] = _export_raw(con, extract, work_dir)
        for table in LOOKUPS:
            inputs[table] = to_parquet(con, table, _parquet(work_dir, table))
        schema = duckdb_schema_of(
            inputs, lambda empty: _standardise(empty, job, extracts), list(OUTPUTS))
        checkpoints = settings.checkpoint_dir or str(work_dir / "checkpoints")
        with spark_session(settings, work_dir=work_dir, checkpoint_dir=checkpoints) as spark:
            engine = SparkSQLConnection(spark)
            for table in inputs:
                engine.register(table, spark.read.parquet(str(_parquet(work_dir, table))))
            _standardise(engine, job, extracts)
            for table, order in OUTPUTS.items():
                load_into_duckdb(con, engine, table, schema[table], str(work_dir / "out" / table),
                                 order_by=order, temporary=table.startswith("_"))
        reading.quarantine(con, extracts)
        reconcile(con, report, "_fl_files")
    except UnsupportedOnSpark as err:
        raise FamlinkError(f"this job cannot be standardised on Spark: {err}",
                           file=str(job.path), hint="run it with --backend duckdb") from err
    except FamlinkError:
        raise
    except Exception as err:  # Spark's own failures (memory, a lost executor): said plainly
        raise spark_failure("ingest", err) from err
    finally:
        reading.drop_temporary(con)
        shutil.rmtree(work_dir, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _standardise(con: SQLConnection, job: Job, extracts: list[staging.Extract]) -> None:
    """Staging and standardisation over raw tables that carry ``ord`` and ``line_number``."""
    staging.create_stage_tables(con, job)
    identifiers = identifier_names(job.sources)
    for extract in extracts:
        staging.stage(con, extract, "r.line_number", "", ord_expr="r.ord", identifiers=identifiers)
    staging.standardise(con, job)


def _parquet(work_dir: Path, table: str) -> Path:
    # not "_fl_…" (see to_parquet)
    return work_dir / "in" / f"table{table}.parquet"


def _export_raw(con: duckdb.DuckDBPyConnection, extract: staging.Extract, work_dir: Path) -> Columns:
    """The extract's raw rows as read, each with its position (``ord``) and its line in the
    file (``line_number``), to Parquet; returns the columns."""
    line, join = reading.line_numbers(con, extract)
    columns = ", ".join(f"r.{c}" for c in extract.internal_columns)
    select = (f"SELECT r.rowid AS ord, CAST({line} AS BIGINT) AS line_number, {columns} "  # noqa: S608
              f"FROM {extract.raw_table} r {join}")
    return to_parquet(con, select, _parquet(work_dir, extract.raw_table.strip('"')))
