"""What famlink's shared set work needs from a SQL engine: :class:`SQLConnection`.

The clustering after the connected components, stable ids, staging and standardisation,
and the whole models stage are written once, in DuckDB's dialect. They run on a DuckDB
connection, or on the Spark backend's stand-in for one
(:class:`famlink.linkage.spark.sql.SparkSQLConnection`), and call only what this protocol
names, so the type checker checks both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

#: (column name, DuckDB type) of each column of a table
Columns = list[tuple[str, str]]


class SQLConnection(Protocol):
    """The part of DuckDB's connection API the shared SQL calls (DuckDB's dialect)."""

    def execute(self, query: str, parameters: Any = None, /) -> SQLConnection: ...

    def executemany(self, query: str, parameters: Any, /) -> SQLConnection: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...


@runtime_checkable
class MakesTables(Protocol):
    """An engine that makes a table of rows computed in Python itself (the Spark stand-in)
    rather than through SQL statements."""

    def create_table(self, name: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None: ...


def create_table(con: SQLConnection, name: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
    """Create table ``name`` from rows computed in Python, on DuckDB or the Spark stand-in."""
    if isinstance(con, MakesTables):
        con.create_table(name, columns, rows)
        return
    spec = ", ".join(f'"{n}" {t}' for n, t in columns)
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" ({spec})')
    if rows:
        # one statement for all rows: DuckDB's executemany runs one INSERT per row
        unnested = ", ".join(f"unnest(?::{t}[]) AS \"{n}\"" for n, t in columns)
        con.execute(f'INSERT INTO "{name}" SELECT {unnested}', [list(col) for col in zip(*rows, strict=True)])
