"""Read every extract named in a job file into the output database, standardised.

:func:`ingest` writes ``source_records``, ``quarantine``, ``nulled_values``,
``unmapped_codes``, ``reconciliation``, ``relationships`` and ``events`` (``docs/tables.md``)
and returns an :class:`IngestReport`. All the work is set-based DuckDB SQL; Python only loops
over files. Nothing is lost: a row is used or quarantined with its reason, a bad value is
nulled and counted, and the counts are reconciled before returning. (On the Spark backend,
:mod:`famlink.linkage.spark.ingest` reads the extracts the same way and runs steps 3 and 4 on
Spark, from :mod:`famlink.linkage.staging`'s SQL.)

Order of work:

1. every file's header is checked against the job file's column mapping (before any loading);
2. each extract is loaded as text into a temporary table (a malformed CSV is an
   :class:`~linkage.errors.InputDataError` naming the file and line — rows are never skipped);
3. each file's columns are mapped onto canonical fields and its dates parsed with its formats,
   into one staging table per file kind (:mod:`famlink.linkage.staging`);
4. standardisation, quarantine and the output tables, over all sources at once
   (:mod:`famlink.linkage.staging`);
5. reconciliation (:mod:`famlink.linkage.reconcile`).
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from famlink.linkage import standardise as std
from famlink.linkage.date_check import check_date_formats
from famlink.linkage.errors import InputDataError, JobFileError
from famlink.linkage.job_sources import identifier_names
from famlink.linkage.jobfile import FileSpec, Job
from famlink.linkage.reconcile import DataWarning, FileReport, IngestReport, reconcile
from famlink.linkage.staging import KIND_ORDER, Extract, create_stage_tables, stage, standardise

__all__ = ["DataFitError", "FileReport", "IngestReport", "check_strict", "ingest", "read_columns"]


q = std.quote_ident


def ingest(con: duckdb.DuckDBPyConnection, job: Job) -> IngestReport:
    """Read, standardise and reconcile every extract of ``job`` into ``con``.

    Creates (or replaces) ``source_records``, ``quarantine``, ``nulled_values``,
    ``unmapped_codes``, ``reconciliation``, ``relationships`` and ``events``.

    Raises
    ------
    JobFileError
        a mapped column is not in the extract's header (checked for every file first).
    InputDataError
        an extract cannot be read (malformed CSV, not Parquet, bad encoding).
    ReconciliationError
        rows read differ from rows used plus rows quarantined for some file.
    """
    started = time.perf_counter()
    extracts = check_headers(con, job)
    report = IngestReport()
    try:
        setup_lookups(con, job)
        create_stage_tables(con, job)
        identifiers = identifier_names(job.sources)
        for extract in extracts:
            read_extract(con, extract, report)
            check_strict(job, report)  # before the work of standardising
            stage(con, extract, *line_numbers(con, extract), identifiers=identifiers)
        standardise(con, job)
        quarantine(con, extracts)
        reconcile(con, report, "_fl_files")
    finally:
        drop_temporary(con)
    report.seconds = time.perf_counter() - started
    return report


def read_extract(con: duckdb.DuckDBPyConnection, extract: Extract, report: IngestReport) -> None:
    """Read one extract into its raw table and note it in ``_fl_files`` and ``report``."""
    rows = _load(con, extract)
    report.warnings.extend(check_date_formats(con, extract))
    con.execute("INSERT INTO _fl_files VALUES ($1, $2, $3, $4, $5)",
                [extract.source.name, extract.spec.kind, extract.spec.path_text,
                 extract.number, rows])
    report.files.append(FileReport(
        source=extract.source.name, kind=extract.spec.kind,
        file=extract.spec.path_text, path=str(extract.spec.path),
        format=extract.spec.format, sha256=_sha256(extract.spec.path), rows_read=rows,
    ))


class DataFitError(InputDataError):
    """``famlink link --strict``: data that does not fit the job file, as an error. Carries
    the warnings found so far, so the run that stopped still records them."""

    def __init__(self, message: str, *, warnings: Sequence[DataWarning], file: str,
                 column: str, hint: str) -> None:
        super().__init__(message, file=file, column=column, hint=hint)
        self.warnings = tuple(warnings)


def check_strict(job: Job, report: IngestReport) -> None:
    """With ``famlink link --strict``, the first of ``report``'s warnings as an error."""
    if not job.strict or not report.warnings:
        return
    first = report.warnings[0]
    more = len(report.warnings) - 1
    others = f" ({more} more warning(s) so far)" if more else ""
    raise DataFitError(
        f"source {first.source!r}, {first.file_kind}.{first.field}: {first.problem()}{others}",
        warnings=report.warnings, file=first.file, column=first.column,
        hint=f"{first.suggestion()}: set it in the job file for this extract; "
             "without --strict famlink warns and goes on",
    )


# --- 1. headers -------------------------------------------------------------------------------


def read_columns(con: duckdb.DuckDBPyConnection, spec: FileSpec) -> dict[str, str]:
    """The extract's columns in file order, with their types (``VARCHAR`` for CSV).

    Raises InputDataError if the header cannot be read.
    """
    if spec.format == "parquet":
        try:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet($path)",
                               {"path": str(spec.path)}).fetchall()
        except duckdb.Error as err:
            raise InputDataError(f"cannot read as Parquet: {_first_line(err)}",
                                 file=spec.path_text) from err
        return {name: str(dtype) for name, dtype, *_ in rows}
    encoding = "utf-8-sig" if spec.encoding == "utf-8" else spec.encoding
    try:
        with open(spec.path, encoding=encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=spec.delimiter, quotechar='"'), None)
    except UnicodeDecodeError as err:
        raise InputDataError(
            f"the header is not {spec.encoding} text ({err.reason})", file=spec.path_text,
            row=1, hint='set encoding = "latin-1" for this file in the job file'
        ) from err
    except csv.Error as err:
        raise InputDataError(f"cannot read the CSV header: {err}", file=spec.path_text,
                             row=1) from err
    if not header:
        raise InputDataError("the file is empty: no header line", file=spec.path_text, row=1)
    names = [name if name.strip() else f"column{i}" for i, name in enumerate(header, start=1)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputDataError(f"column {name!r} appears twice in the header",
                                 file=spec.path_text, row=1)
        seen.add(name)
    return dict.fromkeys(names, "VARCHAR")


def check_headers(con: duckdb.DuckDBPyConnection, job: Job) -> list[Extract]:
    extracts: list[Extract] = []
    for source in job.sources:
        for spec in source.files():
            types = read_columns(con, spec)
            for key, mapped in spec.mapped_columns():
                for column in mapped:
                    if column in types:
                        continue
                    listing = ", ".join(types)
                    close = [c for c in types if c.strip().lower() == column.strip().lower()]
                    hint = f"the file's columns are: {listing}"
                    if close:
                        hint = f"did you mean {close[0]!r}? " + hint
                    raise JobFileError(
                        f"source {source.name!r}, {spec.kind}.{key}: column "
                        f"{column!r} is not in {spec.path_text}",
                        file=str(job.path), hint=hint,
                    )
            extracts.append(Extract(len(extracts) + 1, source, spec, tuple(types), types))
    return extracts


# --- 2. loading -------------------------------------------------------------------------------


def _load(con: duckdb.DuckDBPyConnection, extract: Extract) -> int:
    """Load the extract into its raw temporary table (all columns as read); return rows."""
    spec = extract.spec
    try:
        if spec.format == "parquet":
            renames = ", ".join(f"{q(name)} AS {internal}" for name, internal
                                in zip(extract.columns, extract.internal_columns, strict=True))
            con.execute(f"CREATE OR REPLACE TEMP TABLE {extract.raw_table} AS "  # noqa: S608
                        f"SELECT {renames} FROM read_parquet($path)",
                        {"path": str(spec.path)})
        else:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {extract.raw_table} AS SELECT * FROM read_csv("  # noqa: S608
                "$path, header = true, auto_detect = false, columns = $columns, delim = $delim,"
                " quote = '\"', escape = '\"', comment = '', skip = 0, strict_mode = true,"
                " null_padding = false, encoding = $encoding)",
                {"path": str(spec.path),
                 "columns": dict.fromkeys(extract.internal_columns, "VARCHAR"),
                 "delim": spec.delimiter, "encoding": spec.encoding},
            )
    except duckdb.Error as err:
        raise _input_error(err, spec) from err
    ((rows,),) = con.execute(f"SELECT count(*) FROM {extract.raw_table}").fetchall()  # noqa: S608
    return int(rows)


_CSV_PROBLEMS = re.compile(
    r"Expected Number of Columns: \d+ Found: \d+|Value with unterminated quote found\."
    r"|Invalid unicode[^\n]*|Maximum line size[^\n]*"
)


def _input_error(err: duckdb.Error, spec: FileSpec) -> InputDataError:
    text = str(err)
    if spec.format == "parquet":
        return InputDataError(f"cannot read as Parquet: {_first_line(err)}", file=spec.path_text)
    match = re.search(r"CSV Error on Line: (\d+)", text)
    known = _CSV_PROBLEMS.search(text)
    problem = known.group(0) if known else _first_line(err)
    original = re.search(r"Original Line: ([^\n]*)", text)
    if original:
        problem += f" (the line reads: {original.group(1)[:120]})"
    return InputDataError(
        f"not a well-formed CSV: {problem}", file=spec.path_text,
        row=int(match.group(1)) if match else None,
        hint=f"check the delimiter ({spec.delimiter!r}), quoting and encoding "
             f"({spec.encoding}); famlink never skips bad rows, so fix or re-export the extract",
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else repr(err)
    return re.sub(r"^[A-Za-z ]*Error: ", "", first)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- 3. staging -------------------------------------------------------------------------------


def setup_lookups(con: duckdb.DuckDBPyConnection, job: Job) -> None:
    """``_fl_nicknames``, ``_fl_files`` (filled as extracts are read), ``_fl_sources`` and
    ``_fl_codes``: the lookups the staging and standardisation SQL joins."""
    std.load_nicknames(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_files (source VARCHAR, file_kind VARCHAR, "
                "file VARCHAR, file_no INTEGER, rows_read BIGINT)")
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_sources (source VARCHAR, agency VARCHAR, "
                "is_primary BOOLEAN)")
    con.executemany("INSERT INTO _fl_sources VALUES ($1, $2, $3)",
                    [[s.name, s.agency, s.primary] for s in job.sources])
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_codes (source VARCHAR, file_kind VARCHAR, "
                "field VARCHAR, code VARCHAR, value VARCHAR)")
    codes = [[s.name, f.kind, name, code, value]
             for s in job.sources for f in s.files()
             for name, mapping in f.codes.items() for code, value in mapping.items()]
    codes += [[s.name, f.kind, "episode_end", code, value]
              for s in job.sources for f in s.files() for code, value in f.episode_ends.items()]
    if codes:
        con.executemany("INSERT INTO _fl_codes VALUES ($1, $2, $3, $4, $5)", codes)


def line_numbers(con: duckdb.DuckDBPyConnection, extract: Extract) -> tuple[str, str]:
    """SQL for each raw row's line in the file (header = line 1), and a join if needed.

    Parquet has no lines: the 1-based row position is used. For CSV the line is 2 + the row's
    position + the line breaks inside quoted values of earlier rows. DuckDB skips blank lines,
    so when the file's physical line count disagrees (blank lines mid-file) the lines are
    counted exactly with Python's csv module instead.
    """
    if extract.spec.format == "parquet":
        return "r.rowid + 1", ""
    breaks = " + ".join(
        f"coalesce(length(r.{c}) - length(replace(r.{c}, chr(10), '')), 0)"
        for c in extract.internal_columns
    )
    header_breaks = sum(c.count("\n") for c in extract.columns)
    expr = (f"{2 + header_breaks} + r.rowid + coalesce(sum({breaks}) OVER (ORDER BY r.rowid "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)")
    ((rows, inner_breaks),) = con.execute(
        f"SELECT count(*), coalesce(sum({breaks}), 0) FROM {extract.raw_table} r"  # noqa: S608
    ).fetchall()
    if 1 + header_breaks + rows + inner_breaks == _physical_lines(extract.spec.path):
        return (expr if inner_breaks else f"{2 + header_breaks} + r.rowid"), ""
    lines = _csv_line_numbers(extract.spec)
    if len(lines) != rows:
        return expr, ""  # the csv module reads the file differently: keep the estimate
    table = q(f"_fl_lines_{extract.number}")
    arrow_lines = pa.table({"ord": pa.array(range(rows), pa.int64()),
                            "line_number": pa.array(lines, pa.int64())})
    con.register("_fl_arrow_lines", arrow_lines)
    try:
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM _fl_arrow_lines")  # noqa: S608
    finally:
        con.unregister("_fl_arrow_lines")
    return "l.line_number", f"JOIN {table} l ON l.ord = r.rowid"


def _physical_lines(path: Path) -> int:
    """Lines in the file, not counting blank lines at its end."""
    newlines = 0
    tail = b""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            newlines += block.count(b"\n")
            tail = (tail + block)[-4096:]
    stripped = tail.rstrip(b"\r\n\t ")
    if len(stripped) == 0 and len(tail) == 4096:
        return -1  # a huge blank tail: let the caller count exactly
    trailing = tail[len(stripped):].count(b"\n")
    return newlines - trailing + 1


def _csv_line_numbers(spec: FileSpec) -> list[int]:
    """The first line of every data row, as Python's csv module reads the file."""
    encoding = "utf-8-sig" if spec.encoding == "utf-8" else spec.encoding
    starts: list[int] = []
    with open(spec.path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=spec.delimiter, quotechar='"')
        previous = 0
        for index, record in enumerate(reader):
            start, previous = previous + 1, reader.line_num
            if index and record:
                starts.append(start)
            elif not index and not record:
                return []
    return starts


# --- 4. standardisation and output tables -----------------------------------------------------


def quarantine(con: duckdb.DuckDBPyConnection, extracts: list[Extract]) -> None:
    """``quarantine``: each row of ``_fl_q`` with the row as read, from the raw tables."""
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_q_raw (file_no INTEGER, ord BIGINT, "
                "raw_row JSON)")
    with_rows = {row[0] for row in con.execute("SELECT DISTINCT file_no FROM _fl_q").fetchall()}
    for extract in extracts:
        if extract.number in with_rows:
            # the row as read, keyed by the file's own column names (bound as parameters)
            pairs = ", ".join(f"$k{i}, r.{c}" for i, c in
                              enumerate(extract.internal_columns, start=1))
            keys = {f"k{i}": name for i, name in enumerate(extract.columns, start=1)}
            con.execute(
                f"INSERT INTO _fl_q_raw SELECT $file_no, r.rowid, json_object({pairs}) "  # noqa: S608
                f"FROM {extract.raw_table} r "
                f"WHERE r.rowid IN (SELECT ord FROM _fl_q WHERE file_no = $file_no)",
                {"file_no": extract.number, **keys},
            )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE quarantine AS
        SELECT q.source, q.file_kind, q.file, q.line_number, q.reason, q.detail, r.raw_row
        FROM _fl_q q LEFT JOIN _fl_q_raw r USING (file_no, ord)
        ORDER BY q.source, {KIND_ORDER.format(col='q.file_kind')}, q.line_number
        """  # noqa: S608
    )


def _temporary_tables(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, "
        "'_fl_') ORDER BY table_name"
    ).fetchall():
        yield name


def drop_temporary(con: duckdb.DuckDBPyConnection) -> None:
    for name in list(_temporary_tables(con)):
        con.execute(f"DROP TABLE IF EXISTS temp.{q(name)}")
