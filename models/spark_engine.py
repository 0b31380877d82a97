"""The models stage on Spark: the same SQL as on DuckDB, run by Spark SQL.

The family graph, flags and chronologies are set queries written once, in DuckDB's dialect
(`models/edges.py`, `residences.py`, `flags.py`, `chronology.py`, `build.py`). On the Spark
backend they run on Spark instead, unchanged: :class:`SparkSQLConnection` takes each
statement as the DuckDB connection would, has sqlglot transpile it to Spark SQL (as Splink
does for its own SQL) and runs it, keeping every table as a Spark temporary view. The
handful of DuckDB features sqlglot does not map are rewritten on the parsed statement
(:func:`_to_spark`): session variables become literals, ``x IN (SELECT unnest(list))`` an
``IN`` list, ``to_months(n)`` an interval, ``list_has_any`` ``arrays_overlap``.

:func:`build_models_on_spark` reads linkage's tables from the output database (through
Parquet), builds every models table on Spark, and loads them back into the output database
with the column types a DuckDB build gives, so flags, chronology, audit and views read
them unchanged. Families are connected components found by label propagation in Spark SQL;
NetworkX runs later, per family, when a reviewer opens one.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

from linkage.errors import FamlinkError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from linkage.jobfile import SparkSettings
    from models.build import ModelsReport


_SET_VARIABLE = re.compile(r"SET\s+VARIABLE\s+(\w+)\s*=\s*(.+)", re.IGNORECASE | re.DOTALL)


#: working folder inside the output folder (linkage's tables as Parquet, the models tables
#: on their way back); it holds personal data and is removed when the stage ends
MODELS_WORK_DIR_NAME = "spark-models-work"


class _SparkSQL(Spark):  # type: ignore[misc]
    """Spark SQL as sqlglot writes it, with the array functions Spark names differently."""

    class Generator(Spark.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            # DuckDB's list_has_any: sqlglot writes `a && b`, which Spark does not parse
            exp.ArrayOverlaps: lambda self, e: self.func("ARRAYS_OVERLAP", e.this, e.expression),
        }


def _literal(value: Any) -> exp.Expression:
    """A session variable's value as a SQL literal."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def _to_spark(statement: exp.Expression, variables: dict[str, Any]) -> str:
    """One parsed DuckDB statement as Spark SQL."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable":
            name = node.expressions[0].name
            if name not in variables:
                raise KeyError(f"session variable {name!r} is not set")
            return _literal(variables[name])
        if isinstance(node, exp.Tuple) and isinstance(node.parent, exp.Func):
            return exp.Struct(expressions=node.expressions)  # a sort key: arg_min(x, (a, b))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months":
            months = node.expressions[0].transform(rewrite)
            if isinstance(months, exp.Literal):
                return exp.Interval(this=exp.Literal.string(months.this), unit=exp.var("MONTH"))
            return exp.Anonymous(this="make_ym_interval", expressions=[exp.Literal.number(0), months])
        return node

    tree = statement.transform(rewrite)

    def in_list(node: exp.Expression) -> exp.Expression:
        # x IN (SELECT unnest([...])) -> x IN (...)
        query = node.args.get("query") if isinstance(node, exp.In) else None
        inner = query.this if isinstance(query, exp.Subquery) else query
        if isinstance(inner, exp.Select) and len(inner.expressions) == 1 and not inner.args.get("from_"):
            only = inner.expressions[0]
            if isinstance(only, exp.Explode | exp.Unnest) and isinstance(only.this, exp.Array):
                return exp.In(this=node.this, expressions=list(only.this.expressions))
        return node

    tree = tree.transform(in_list)
    return tree.sql(dialect=_SparkSQL)


class SparkSQLConnection:
    """The part of DuckDB's connection API the models stage uses, run on Spark.

    Tables are Spark temporary views over materialised (checkpointed) data, so each
    statement reads what the previous ones wrote, as it would in DuckDB.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.variables: dict[str, Any] = {}
        self._frames: dict[str, DataFrame] = {}
        self._rows: list[tuple] = []

    # -- the DuckDB connection API ------------------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> SparkSQLConnection:
        variable = _SET_VARIABLE.fullmatch(sql.strip().rstrip(";"))
        if variable:  # SET VARIABLE name = ?[::TYPE]: kept here, substituted as a literal
            name, value = variable.groups()
            self.variables[name] = (
                list(parameters or [None])[0] if value.startswith("?") else sqlglot.parse_one(value).to_py()
            )
            self._rows = []
            return self
        for statement in sqlglot.parse(sql, read="duckdb"):
            if isinstance(statement, exp.Expression):
                self._run(statement, list(parameters or []))
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> SparkSQLConnection:
        statement = sqlglot.parse_one(sql, read="duckdb")
        if not (isinstance(statement, exp.Insert) and isinstance(statement.expression, exp.Values)):
            raise NotImplementedError(f"executemany supports INSERT … VALUES only: {sql[:80]!r}")  # noqa: S608 - a message
        name = statement.this.name
        existing = self._frames[name]
        added = self.spark.createDataFrame([tuple(r) for r in rows], schema=existing.schema)
        self._store(name, existing.unionByName(added))
        return self

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    # -- catalogue ----------------------------------------------------------------------
    def table_names(self) -> set[str]:
        return set(self._frames)

    def frame(self, name: str) -> DataFrame:
        return self._frames[name]

    def register(self, name: str, frame: DataFrame) -> None:
        """Make a DataFrame a table the SQL can read (linkage's tables)."""
        self._store(name, frame, materialise=False)

    def drop(self, name: str) -> None:
        frame = self._frames.pop(name, None)
        if frame is not None:
            self.spark.catalog.dropTempView(name)
            frame.unpersist()

    # -- statements ---------------------------------------------------------------------
    def _run(self, statement: exp.Expression, parameters: list[Any]) -> None:
        self._rows = []
        if parameters:
            raise NotImplementedError("parameters are supported in SET VARIABLE only")
        if isinstance(statement, exp.Drop):
            for table in statement.args.get("tables") or [statement.this]:
                self.drop(table.name)
            return
        if isinstance(statement, exp.Create):
            target = statement.this
            query = statement.expression
            if isinstance(target, exp.Schema):  # CREATE TABLE t(col TYPE, …): empty
                columns = ", ".join(
                    f"CAST(NULL AS {c.args['kind'].sql(dialect=_SparkSQL)}) AS {c.name}"
                    for c in target.expressions
                )
                frame = self.spark.sql(f"SELECT {columns}").limit(0)
                self._store(target.this.name, frame)
                return
            self._store(target.name, self._query(query))
            return
        if isinstance(statement, exp.Insert):
            name = statement.this.name
            existing = self._frames[name]
            # by position, as INSERT INTO … SELECT does, in the table's column types
            added = self._query(statement.expression).toDF(*existing.columns)
            aligned = added.select(*[added[f.name].cast(f.dataType) for f in existing.schema.fields])
            self._store(name, existing.unionByName(aligned))
            return
        self._rows = [tuple(row) for row in self._query(statement).collect()]

    def _query(self, query: exp.Expression) -> DataFrame:
        sql = _to_spark(query, self.variables)
        try:
            frame = self.spark.sql(sql)
        except Exception as err:  # Spark's error names the position in this SQL
            raise RuntimeError(f"Spark could not run the models SQL:\n{sql}\n{err!r}"[:6000]) from err
        # a bare NULL column has no type in Spark; DuckDB would call it a string
        from pyspark.sql.types import NullType, StringType

        fields = frame.schema.fields
        if any(isinstance(f.dataType, NullType) for f in fields):
            # by position: an INSERT's SELECT may repeat a name (several NULL columns)
            numbered = frame.toDF(*[f"_c{i}" for i in range(len(fields))])
            frame = numbered.select(
                *[
                    (numbered[i].cast(StringType()) if isinstance(f.dataType, NullType) else numbered[i]).alias(f.name)
                    for i, f in enumerate(fields)
                ]
            )
        return frame

    def _store(self, name: str, frame: DataFrame, *, materialise: bool = True) -> None:
        if materialise:
            # computed once, here: later statements read it as DuckDB reads a table, and
            # its plan (lineage) stops growing with every INSERT
            frame = frame.localCheckpoint(eager=True)
        old = self._frames.get(name)
        self._frames[name] = frame
        frame.createOrReplaceTempView(name)
        if old is not None and old is not frame:
            old.unpersist()


def output_schema(input_tables: dict[str, list[tuple[str, str]]], **options: Any) -> dict[str, list[tuple[str, str]]]:
    """The column names and DuckDB types of every models table, from a DuckDB build over
    empty copies of linkage's tables (milliseconds): the types a Spark build is loaded as."""
    from models.build import MODELS_TABLES, build_models

    con = duckdb.connect()
    try:
        for table, columns in input_tables.items():
            cols = ", ".join(f'"{n}" {t}' for n, t in columns)
            con.execute(f'CREATE TABLE "{table}" ({cols})')
        build_models(con, **options)
        return {
            t: [(r[0], r[1]) for r in con.execute(f'DESCRIBE "{t}"').fetchall()]
            for t in MODELS_TABLES
            if t != "models_run"
        }
    finally:
        con.close()


def build_models_on_spark(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: SparkSettings,
    work_dir: Path,
    reference_date: date,
    co_residence_window_months: int = 12,
    non_mobile_age_months: int = 6,
) -> ModelsReport:
    """Build the models tables on Spark from linkage's tables in ``con`` and write them
    into ``con``, as :func:`models.build.build_models` does on DuckDB (same tables, same
    column types, ``models_run`` last)."""
    from linkage.spark_backend import spark_session
    from models import build

    build.check_linkage_tables(con)
    options: dict[str, Any] = {
        "reference_date": reference_date,
        "co_residence_window_months": co_residence_window_months,
        "non_mobile_age_months": non_mobile_age_months,
    }
    inputs = {
        t: [(r[0], r[1]) for r in con.execute(f'DESCRIBE "{t}"').fetchall()]
        for t in build.INPUT_TABLES
    }
    schema = output_schema(inputs, **options)
    con.execute("DROP TABLE IF EXISTS models_run")  # until the new build is complete
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "in").mkdir(parents=True)
    for table in build.INPUT_TABLES:
        target = str(work_dir / "in" / f"{table}.parquet").replace("'", "''")
        con.execute(f"COPY \"{table}\" TO '{target}' (FORMAT parquet)")
    started = time.perf_counter()
    checkpoints = settings.checkpoint_dir or str(work_dir / "checkpoints")
    try:
        with spark_session(settings, work_dir=work_dir, checkpoint_dir=checkpoints) as spark:
            engine = SparkSQLConnection(spark)
            for table in build.INPUT_TABLES:
                engine.register(table, spark.read.parquet(str(work_dir / "in" / f"{table}.parquet")))
            report = build.build_tables(engine, **options)
            for table, columns in schema.items():
                folder = work_dir / "out" / table
                engine.frame(table).write.mode("overwrite").parquet(str(folder))
                pattern = str(folder / "*.parquet").replace("'", "''")
                select = ", ".join(f'CAST("{n}" AS {t}) AS "{n}"' for n, t in columns)
                con.execute(
                    f"CREATE OR REPLACE TABLE \"{table}\" AS SELECT {select} FROM read_parquet('{pattern}')"  # noqa: S608 - names from our own schema
                )
    except FamlinkError:
        raise
    except Exception as err:  # Spark's own failures (memory, a lost executor): said plainly
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise FamlinkError(
            f"the models stage failed on Spark: {first}",
            hint="linkage's tables are written; `famlink link JOB --out DIR --backend duckdb` "
            "builds the models on DuckDB, or see [spark] in docs/jobfile.md for memory",
        ) from err
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report = build.with_seconds(report, time.perf_counter() - started)
    build.write_models_run(con, report, **options)
    return report
