"""The models stage on Spark: the same SQL as on DuckDB, run by Spark SQL.

The family graph, flags and chronologies are set queries written once, in DuckDB's dialect
(`models/edges.py`, `residences.py`, `flags.py`, `chronology.py`, `build.py`). On the Spark
backend they run on Spark instead, unchanged, through
:class:`famlink.linkage.spark.sql.SparkSQLConnection` (sqlglot transpiles each statement).

:func:`build_models_on_spark` reads linkage's tables from the output database (through
Parquet), builds every models table on Spark, and loads them back into the output database
with the column types a DuckDB build gives, so flags, chronology, audit and views read
them unchanged. Families are connected components found by label propagation in Spark SQL;
NetworkX runs later, per family, when a reviewer opens one.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.linkage.spark.sql import (
    SparkSQLConnection,
    describe,
    duckdb_schema_of,
    load_into_duckdb,
    to_parquet,
)

if TYPE_CHECKING:
    from famlink.linkage.backend import Backend
    from famlink.linkage.jobfile import SparkSettings
    from famlink.models.build import ModelsReport
    from famlink.models.flags import FlagSettings


#: working folder inside the output folder (linkage's tables as Parquet, the models tables
#: on their way back); it holds personal data and is removed when the stage ends
MODELS_WORK_DIR_NAME = "spark-models-work"


def build_models_on(
    backend: Backend, con: duckdb.DuckDBPyConnection, *, out_dir: Path, **options: Any
) -> ModelsReport:
    """The models stage on the linkage stage's engine: the same tables either way.

    Linkage may not import the models stage, so the pairing of engine and models build
    lives here, on the models' side: the Spark backend builds on Spark
    (:func:`build_models_on_spark`), DuckDB in the output database itself with the models
    stage's share of memory (:func:`famlink.models.build.build_models`).
    """
    from famlink.linkage.backend import DuckDBBackend
    from famlink.linkage.spark.backend import SparkBackend
    from famlink.models import build

    if isinstance(backend, SparkBackend):
        return build_models_on_spark(
            con, settings=backend.settings, work_dir=out_dir / MODELS_WORK_DIR_NAME, **options)
    if isinstance(backend, DuckDBBackend) and backend.models_memory_limit is not None:
        con.execute("SET memory_limit = ?", [backend.models_memory_limit])
    return build.build_models(con, **options)


def build_models_on_spark(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: SparkSettings,
    work_dir: Path,
    reference_date: date,
    co_residence_window_months: int = 12,
    non_mobile_age_months: int = 6,
    flag_rules: FlagSettings | None = None,
) -> ModelsReport:
    """Build the models tables on Spark from linkage's tables in ``con`` and write them
    into ``con``, as :func:`models.build.build_models` does on DuckDB (same tables, same
    column types, ``models_run`` last)."""
    from famlink.linkage.spark.session import spark_failure, spark_session
    from famlink.models import build

    build.check_linkage_tables(con)
    options: dict[str, Any] = {
        "reference_date": reference_date,
        "co_residence_window_months": co_residence_window_months,
        "non_mobile_age_months": non_mobile_age_months,
    }
    outputs = [t for t in build.MODELS_TABLES if t != "models_run"]
    schema = duckdb_schema_of(
        describe(con, build.INPUT_TABLES), lambda empty: build.build_models(empty, **options, flag_rules=flag_rules), outputs)
    con.execute("DROP TABLE IF EXISTS models_run")  # until the new build is complete
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "in").mkdir(parents=True)
    for table in build.INPUT_TABLES:
        to_parquet(con, table, work_dir / "in" / f"{table}.parquet")
    started = time.perf_counter()
    checkpoints = settings.checkpoint_dir or str(work_dir / "checkpoints")
    try:
        with spark_session(settings, work_dir=work_dir, checkpoint_dir=checkpoints) as spark:
            engine = SparkSQLConnection(spark)
            for table in build.INPUT_TABLES:
                engine.register(table, spark.read.parquet(str(work_dir / "in" / f"{table}.parquet")))
            report = build.build_tables(engine, **options, flag_rules=flag_rules)
            for table, columns in schema.items():
                load_into_duckdb(con, engine, table, columns, str(work_dir / "out" / table))
    except FamlinkError:
        raise
    except Exception as err:  # Spark's own failures (memory, a lost executor): said plainly
        raise spark_failure(
            "models", err,
            hint="linkage's tables are written; `famlink link JOB --out DIR --backend duckdb` "
            "builds the models on DuckDB, or see [spark] in docs/jobfile.md for memory",
        ) from err
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report = build.with_seconds(report, time.perf_counter() - started)
    build.write_models_run(con, report, **options)
    return report
