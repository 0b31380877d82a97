"""DuckDB SQL run on Spark: a stand-in for the DuckDB connection.

famlink's set work is written once, in DuckDB's dialect: the clustering after the connected
components (`linkage/persons.py`, `linkage/stable_ids.py`), staging and standardisation
(`linkage/staging.py`) and the whole models stage (`models/`); it calls only what
:class:`famlink.linkage.connection.SQLConnection` names. On the Spark backend it runs on
Spark instead, unchanged:
:class:`SparkSQLConnection` takes each statement as the DuckDB connection would, has sqlglot
transpile it to Spark SQL (as Splink does for its own SQL) and runs it, keeping every table
as a Spark temporary view over materialised data. The handful of DuckDB features sqlglot
does not map are rewritten on the parsed statement (:func:`_to_spark`): session variables
become literals, ``x IN (SELECT unnest(list))`` an ``IN`` list, ``to_months(n)`` an
interval, ``list_has_any`` ``arrays_overlap``, row values ``(a, b)`` structs.

:func:`duckdb_schema_of` gives the column types a DuckDB run would write, so tables built on
Spark are loaded back into the output database exactly as DuckDB would have typed them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from famlink.linkage.connection import Columns
from famlink.linkage.spark.dialect import SparkSQL, to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_SET_VARIABLE = re.compile(r"SET\s+VARIABLE\s+(\w+)\s*=\s*(.+)", re.IGNORECASE | re.DOTALL)


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
    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> SparkSQLConnection:
        variable = _SET_VARIABLE.fullmatch(sql.strip().rstrip(";"))
        if variable:  # SET VARIABLE name = ?[::TYPE]: kept here, substituted as a literal
            name, value = variable.groups()
            self.variables[name] = (
                list(parameters or [None])[0] if value.startswith("?") and not isinstance(parameters, dict)
                else sqlglot.parse_one(value).to_py()
            )
            self._rows = []
            return self
        for statement in sqlglot.parse(sql, read="duckdb"):
            if isinstance(statement, exp.Expression):
                self._run(statement, parameters if isinstance(parameters, dict) else list(parameters or []))
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

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    # -- catalogue ----------------------------------------------------------------------
    def table_names(self) -> set[str]:
        return set(self._frames)

    def frame(self, name: str) -> DataFrame:
        return self._frames[name]

    def register(self, name: str, frame: DataFrame, *, materialise: bool = False) -> None:
        """Make a DataFrame a table the SQL can read (e.g. one read from Parquet)."""
        self._store(name, frame, materialise=materialise)

    def query(self, sql: str) -> DataFrame:
        """One DuckDB query as a Spark DataFrame, not materialised (e.g. for Splink)."""
        statement = sqlglot.parse_one(sql, read="duckdb")
        if not isinstance(statement, exp.Expression):
            raise ValueError(f"not a query: {sql[:80]!r}")
        return self._query(statement)

    def create_table(self, name: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
        """A table of rows computed in Python (a handful: e.g. the rebuilt clusters' ids)."""
        schema = ", ".join(f"`{n}` {_spark_type(t)}" for n, t in columns)  # Spark's DDL
        self._store(name, self.spark.createDataFrame([tuple(r) for r in rows], schema=schema))

    def drop(self, name: str) -> None:
        frame = self._frames.pop(name, None)
        if frame is not None:
            self.spark.catalog.dropTempView(name)
            frame.unpersist()

    # -- statements ---------------------------------------------------------------------
    def _run(self, statement: exp.Expression, parameters: list[Any] | dict[str, Any]) -> None:
        self._rows = []
        if isinstance(statement, exp.Drop):
            for table in statement.args.get("tables") or [statement.this]:
                self.drop(table.name)
            return
        if isinstance(statement, exp.Create):
            target = statement.this
            query = statement.expression
            if isinstance(target, exp.Schema):  # CREATE TABLE t(col TYPE, …): empty
                columns = ", ".join(
                    f"CAST(NULL AS {c.args['kind'].sql(dialect=SparkSQL)}) AS {c.name}"
                    for c in target.expressions
                )
                frame = self.spark.sql(f"SELECT {columns}").limit(0)
                self._store(target.this.name, frame)
                return
            self._store(target.name, self._query(query, parameters))
            return
        if isinstance(statement, exp.Insert):
            name = statement.this.name
            existing = self._frames[name]
            # by position, as INSERT INTO … SELECT does, in the table's column types
            added = self._query(statement.expression, parameters).toDF(*existing.columns)
            aligned = added.select(*[added[f.name].cast(f.dataType) for f in existing.schema.fields])
            self._store(name, existing.unionByName(aligned))
            return
        self._rows = [tuple(row) for row in self._query(statement, parameters).collect()]

    def _query(self, query: exp.Expression, parameters: list[Any] | dict[str, Any] | None = None) -> DataFrame:
        sql = to_spark(query, self.variables, parameters)
        try:
            frame = self.spark.sql(sql)
        except Exception as err:  # Spark's error names the position in this SQL
            reason = err.getMessage() if hasattr(err, "getMessage") else repr(err)  # pyspark's own
            raise RuntimeError(f"Spark could not run famlink's SQL: {reason}"[:3000] + f"\n{sql}"[:6000]) from err
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


def _spark_type(duckdb_type: str) -> str:
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect=SparkSQL)


def describe(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, Columns]:
    """Each table's (column, DuckDB type) list."""
    return {t: [(r[0], r[1]) for r in con.execute(f'DESCRIBE "{t}"').fetchall()] for t in tables}


def duckdb_schema_of(
    inputs: dict[str, Columns], build: Callable[[duckdb.DuckDBPyConnection], Any], outputs: Iterable[str]
) -> dict[str, Columns]:
    """The column names and DuckDB types of ``outputs`` as ``build`` writes them on DuckDB,
    from a run over empty tables shaped like ``inputs`` (milliseconds): the types a Spark
    run's tables are loaded back as, so the output database is the same on both backends."""
    con = duckdb.connect()
    try:
        for table, columns in inputs.items():
            spec = ", ".join(f'"{n}" {t}' for n, t in columns)
            con.execute(f'CREATE TABLE "{table}" ({spec})')
        build(con)
        return describe(con, outputs)
    finally:
        con.close()


def to_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> Columns:
    """Write a DuckDB table or query to one Parquet file for Spark; return its columns. The
    file name must not start with ``_`` or ``.``: Spark's reader skips such files."""
    source = f'"{query}"' if query.isidentifier() else f"({query})"
    con.execute(f"COPY {source} TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]  # noqa: S608 - famlink's own tables and queries


def load_into_duckdb(
    con: duckdb.DuckDBPyConnection, engine: SparkSQLConnection, table: str, columns: Columns,
    folder: str, *, order_by: str | None = None, temporary: bool = False,
) -> None:
    """Write the stand-in's ``table`` to Parquet in ``folder`` and load it into ``con`` with
    ``columns``' DuckDB types (and, if given, DuckDB's ``order_by``: a Spark table has no
    row order, a DuckDB run's table does)."""
    engine.frame(table).write.mode("overwrite").parquet(folder)
    pattern = (folder.rstrip("/") + "/*.parquet").replace("'", "''")
    select = ", ".join(f'CAST("{n}" AS {t}) AS "{n}"' for n, t in columns)
    order = f" ORDER BY {order_by}" if order_by else ""
    con.execute(
        f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE \"{table}\" AS "  # noqa: S608 - names from our own schema
        f"SELECT {select} FROM read_parquet('{pattern}'){order}"
    )
