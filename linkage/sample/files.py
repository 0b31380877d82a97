"""The files the generator writes, row by row: CSV as most agencies export, Parquet as one does.

``write`` returns the row's line number (the header is line 1), which the ground truth keeps
for every deliberately bad row.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any


class CsvOut:
    """A CSV written row by row; ``write`` returns the row's line number (header = 1)."""

    def __init__(self, path: Path, header: list[str], *, delimiter: str = ",",
                 bom: bool = False, crlf: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        self._f: IO[str] = open(path, "w", encoding="utf-8-sig" if bom else "utf-8",  # noqa: SIM115
                                newline="")
        self._w = csv.writer(self._f, delimiter=delimiter,
                             lineterminator="\r\n" if crlf else "\n")
        self._w.writerow(header)
        self.line = 1
        self.rows = 0

    def write(self, row: list[Any]) -> int:
        if len(row) < len(self.header):  # a hand-made bad row: blank the columns it lacks
            row = [*row, *[""] * (len(self.header) - len(row))]
        self._w.writerow(row)
        self.line += 1
        self.rows += 1
        return self.line

    def close(self) -> None:
        self._f.close()


class ParquetOut:
    """A Parquet file written in row groups; every column is text, as agencies export it."""

    BATCH = 50_000

    def __init__(self, path: Path, header: list[str]) -> None:
        import pyarrow as pa

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        self._schema = pa.schema([(c, pa.string()) for c in header])
        self._writer: Any = None
        self._cols: list[list[str | None]] = [[] for _ in header]
        self.line = 1
        self.rows = 0

    def write(self, row: list[Any]) -> int:
        if len(row) < len(self.header):  # a hand-made bad row: blank the columns it lacks
            row = [*row, *[""] * (len(self.header) - len(row))]
        for col, value in zip(self._cols, row, strict=True):
            col.append(None if value in ("", None) else str(value))
        self.line += 1
        self.rows += 1
        if len(self._cols[0]) >= self.BATCH:
            self._flush()
        return self.line

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.path), self._schema, compression="snappy")
        table = pa.Table.from_arrays([pa.array(c, pa.string()) for c in self._cols],
                                     schema=self._schema)
        self._writer.write_table(table)
        self._cols = [[] for _ in self.header]

    def close(self) -> None:
        if self._cols[0] or self._writer is None:
            self._flush()
        self._writer.close()
