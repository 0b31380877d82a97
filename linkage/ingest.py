"""Read every extract named in a job file into the output database, standardised.

:func:`ingest` writes ``source_records``, ``quarantine``, ``nulled_values``,
``unmapped_codes``, ``reconciliation``, ``relationships`` and ``events`` (``docs/tables.md``)
and returns an :class:`IngestReport`. All the work is set-based DuckDB SQL; Python only loops
over files. Nothing is lost: a row is used or quarantined with its reason, a bad value is
nulled and counted, and the counts are reconciled before returning. (On the Spark backend,
:mod:`famlink.linkage.spark.ingest` reads the extracts the same way and runs steps 3 and 4 on
Spark, from this module's SQL.)

Order of work:

1. every file's header is checked against the job file's column mapping (before any loading);
2. each extract is loaded as text into a temporary table (a malformed CSV is an
   :class:`~linkage.errors.InputDataError` naming the file and line — rows are never skipped);
3. each file's columns are mapped onto canonical fields and its dates parsed with its formats,
   into one staging table per file kind;
4. standardisation, quarantine and the output tables, over all sources at once;
5. reconciliation (:mod:`famlink.linkage.reconcile`).
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from famlink.linkage import standardise as std
from famlink.linkage.errors import InputDataError, JobFileError
from famlink.linkage.jobfile import (
    DATE_FIELDS,
    EVENT_TYPES,
    FIELDS,
    FILE_KINDS,
    RELATIONSHIPS,
    ROLES,
    SEX_VALUES,
    FileSpec,
    Job,
    SourceSpec,
)
from famlink.linkage.reconcile import FileReport, IngestReport, reconcile

__all__ = ["FileReport", "IngestReport", "ingest", "read_columns"]

q = std.quote_ident

_KIND_ORDER = "CASE {col} WHEN 'people' THEN 1 WHEN 'relationships' THEN 2 ELSE 3 END"
_DATE_TYPES = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class Extract:
    """One extract being ingested: its spec, header and temporary raw table."""

    number: int
    source: SourceSpec
    spec: FileSpec
    #: the header's column names, in file order
    columns: tuple[str, ...]
    #: header name -> DuckDB type (VARCHAR for CSV)
    types: Mapping[str, str]

    @property
    def raw_table(self) -> str:
        return q(f"_fl_raw_{self.number}")

    def col(self, name: str) -> str:
        """The raw table's column for header column ``name``: ``r.c1``, ``r.c2`` …

        The raw table names columns by position so that no header (``RowID``, ``rowid``)
        can shadow DuckDB's row id or another internal name.
        """
        return f"r.c{self.columns.index(name) + 1}"

    @property
    def internal_columns(self) -> list[str]:
        return [f"c{i}" for i in range(1, len(self.columns) + 1)]


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
        create_stage_tables(con)
        for extract in extracts:
            read_extract(con, extract, report)
            stage(con, extract, *line_numbers(con, extract))
        standardise(con, job)
        quarantine(con, extracts)
        reconcile(con, report, "_fl_files")
    finally:
        drop_temporary(con)
    report.seconds = time.perf_counter() - started
    return report


def standardise(con: Any, job: Job) -> None:
    """Steps 4 and 5 after staging: ``source_records``, ``relationships``, ``events``,
    ``nulled_values``, ``unmapped_codes`` and the quarantined rows' reasons (``_fl_q``).

    Set work only, over the staging and lookup tables: ``con`` is DuckDB's connection or
    the Spark backend's stand-in for it (:mod:`famlink.linkage.spark.sql`), which runs the same SQL.
    """
    _standardise_people(con, job)
    _relationships_and_events(con)
    _quarantine_reasons(con)
    _nulled_values(con)
    _unmapped_codes(con)


def read_extract(con: duckdb.DuckDBPyConnection, extract: Extract, report: IngestReport) -> None:
    """Read one extract into its raw table and note it in ``_fl_files`` and ``report``."""
    rows = _load(con, extract)
    con.execute("INSERT INTO _fl_files VALUES ($1, $2, $3, $4, $5)",
                [extract.source.name, extract.spec.kind, extract.spec.path_text,
                 extract.number, rows])
    report.files.append(FileReport(
        source=extract.source.name, kind=extract.spec.kind,
        file=extract.spec.path_text, path=str(extract.spec.path),
        format=extract.spec.format, sha256=_sha256(extract.spec.path), rows_read=rows,
    ))


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
            for canonical, mapped in spec.columns.items():
                for column in mapped:
                    if column in types:
                        continue
                    listing = ", ".join(types)
                    close = [c for c in types if c.strip().lower() == column.strip().lower()]
                    hint = f"the file's columns are: {listing}"
                    if close:
                        hint = f"did you mean {close[0]!r}? " + hint
                    raise JobFileError(
                        f"source {source.name!r}, {spec.kind}.columns.{canonical}: column "
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


def _stage_columns(kind: str) -> list[tuple[str, str]]:
    """Staging table columns: text of every canonical field, plus ``<field>__date``."""
    cols = [(name, "VARCHAR") for name in FIELDS[kind]]
    cols += [(f"{name}__date", "DATE") for name in FIELDS[kind] if name in DATE_FIELDS]
    return cols


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
    if codes:
        con.executemany("INSERT INTO _fl_codes VALUES ($1, $2, $3, $4, $5)", codes)


def create_stage_tables(con: Any) -> None:
    """The empty staging tables ``_fl_stage_<kind>`` (on DuckDB or the Spark stand-in)."""
    for kind in FILE_KINDS:
        cols = ", ".join(f"{q(n)} {t}" for n, t in _stage_columns(kind))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {q(f'_fl_stage_{kind}')} (source VARCHAR, "
            f"file_kind VARCHAR, file VARCHAR, file_no INTEGER, ord BIGINT, "
            f"line_number BIGINT, {cols})"
        )


def stage(con: Any, extract: Extract, line: str, join: str, ord_expr: str = "r.rowid") -> None:
    """Map one extract's columns onto canonical fields into ``_fl_stage_<kind>``.

    ``line`` (with ``join``, see :func:`line_numbers`) and ``ord_expr`` are SQL for each raw
    row's line in the file and position in the raw table: on the Spark backend the raw
    table arrives with both as columns (``r.line_number``, ``r.ord``)."""
    spec = extract.spec
    exprs = []
    for name, _type in _stage_columns(spec.kind):
        if name.endswith("__date"):
            canonical = name.removesuffix("__date")
            columns = spec.columns.get(canonical)
            if columns is None:
                exprs.append("NULL")
            elif extract.types[columns[0]].startswith(_DATE_TYPES):
                exprs.append(f"CAST({extract.col(columns[0])} AS DATE)")
            else:
                exprs.append(std.parse_date(std.text(extract.col(columns[0])), "$formats",
                                            spec.date_formats))
        else:
            columns = spec.columns.get(name)
            exprs.append("NULL" if columns is None
                         else std.joined([extract.col(c) for c in columns]))
    sql = (
        f"INSERT INTO {q(f'_fl_stage_{spec.kind}')} "  # noqa: S608 - identifiers quoted
        f"SELECT $source, $kind, $file, $file_no, {ord_expr}, {line}, {', '.join(exprs)} "
        f"FROM {extract.raw_table} r {join}"
    )
    params: dict[str, Any] = {"source": extract.source.name, "kind": spec.kind,
                              "file": spec.path_text, "file_no": extract.number}
    if "$formats" in sql:
        params["formats"] = list(spec.date_formats)
    con.execute(sql, params)


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


def _code_join(alias: str, table_alias: str, kind: str, name: str, raw: str) -> str:
    return (f"LEFT JOIN _fl_codes {alias} ON {alias}.source = {table_alias}.source "
            f"AND {alias}.file_kind = '{kind}' AND {alias}.field = '{name}' "
            f"AND {alias}.code = lower({raw})")


def _standardise_people(con: Any, job: Job) -> None:
    """``_fl_people``: every people row, standardised, with its quarantine reason (if any);
    then ``source_records`` from the rows used."""
    # names repeat: clean each distinct spelling once, then join
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_names AS
        SELECT raw, {std.clean_name('raw')} AS clean FROM (
            SELECT first_name AS raw FROM _fl_stage_people
            UNION SELECT middle_names FROM _fl_stage_people
            UNION SELECT surname FROM _fl_stage_people
        ) WHERE raw IS NOT NULL
        """  # noqa: S608
    )
    sex_value = std.map_code("s.sex", "csex.value", SEX_VALUES)
    rel_value = std.map_code("s.relationship", "crel.value", RELATIONSHIPS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_people AS
        WITH s AS (
            SELECT s.*,
                   nf.clean AS first_name_clean,
                   nm.clean AS middle_names_clean,
                   ns.clean AS surname_clean,
                   {std.nhs_digits('s.nhs_number')} AS nhs_digits,
                   {std.postcode_squashed('s.postcode')} AS postcode_squashed,
                   {std.uprn_digits('s.uprn')} AS uprn_digits,
                   {std.address_clean('s.address')} AS address_clean,
                   {sex_value} AS sex_value,
                   {rel_value} AS relationship_value
            FROM _fl_stage_people s
            LEFT JOIN _fl_names nf ON nf.raw = s.first_name
            LEFT JOIN _fl_names nm ON nm.raw = s.middle_names
            LEFT JOIN _fl_names ns ON ns.raw = s.surname
            {_code_join('csex', 's', 'people', 'sex', 's.sex')}
            {_code_join('crel', 's', 'people', 'relationship', 's.relationship')}
        ),
        v AS (
            SELECT s.*,
                   {std.nhs_number('s.nhs_digits')} AS nhs_number_value,
                   {std.postcode('s.postcode_squashed')} AS postcode_value,
                   {std.uprn('s.uprn_digits')} AS uprn_value,
                   CASE WHEN s.dob IS NULL THEN NULL
                        WHEN s.dob__date IS NULL THEN 'unparseable_date'
                        WHEN s.dob__date > $reference_date THEN 'dob_in_future'
                        WHEN s.dob__date < DATE '1900-01-01' THEN 'dob_before_1900'
                   END AS dob_problem,
                   split_part(s.first_name_clean, ' ', 1) AS first_name_head
            FROM s
        ),
        c AS (
            SELECT v.*,
                   CASE WHEN v.dob_problem IS NULL THEN v.dob__date END AS dob_value,
                   {std.canonical_first_name('v.first_name_clean', 'v.first_name_head',
                                             'nw.canonical', 'nh.canonical')}
                       AS first_name_canonical,
                   {std.first_token('v.surname_clean')} AS surname_first_token
            FROM v
            {std.nickname_join('nw', 'v.first_name_clean', 'v.sex_value')}
            {std.nickname_join('nh', 'v.first_name_head', 'v.sex_value')}
        ),
        r0 AS (
            SELECT c.*,
                   CASE WHEN c.record_id IS NULL THEN 'missing_record_id'
                        WHEN c.first_name_clean IS NULL AND c.surname_clean IS NULL
                             AND c.nhs_number_value IS NULL AND c.dob_value IS NULL
                        THEN 'no_identifying_fields'
                   END AS reason0
            FROM c
        ),
        dup AS (
            SELECT source, record_id, min(ord) AS first_ord, min(line_number) AS first_line
            FROM r0 WHERE reason0 IS NULL
            GROUP BY source, record_id HAVING count(*) > 1
        )
        SELECT r0.*,
               coalesce(r0.reason0, CASE WHEN r0.ord > dup.first_ord
                                         THEN 'duplicate_record_id' END) AS reason,
               CASE WHEN r0.reason0 = 'missing_record_id' THEN 'the record id is empty'
                    WHEN r0.reason0 = 'no_identifying_fields'
                    THEN 'no name, no valid NHS number and no valid date of birth'
                    WHEN r0.ord > dup.first_ord
                    THEN 'record id ' || r0.record_id || ' already used on line '
                         || dup.first_line
               END AS detail
        FROM r0
        LEFT JOIN dup ON r0.reason0 IS NULL AND dup.source = r0.source
                     AND dup.record_id = r0.record_id
        """,  # noqa: S608 - SQL built from famlink's own fragments; values are parameters
        {"reference_date": job.reference_date},
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE source_records AS
        SELECT p.source, s.agency, s.is_primary, p.record_id, p.file, p.line_number,
               p.first_name, p.middle_names, p.surname,
               p.dob AS dob_raw, p.sex AS sex_raw, p.nhs_number AS nhs_number_raw,
               p.postcode AS postcode_raw, p.uprn AS uprn_raw, p.address,
               p.first_name_clean, p.middle_names_clean, p.surname_clean,
               p.first_name_canonical, p.surname_first_token,
               p.dob_value AS dob, p.sex_value AS sex, p.nhs_number_value AS nhs_number,
               p.postcode_value AS postcode, p.address_clean, p.uprn_value AS uprn,
               p.address_from__date AS address_from, p.address_to__date AS address_to
        FROM _fl_people p JOIN _fl_sources s USING (source)
        WHERE p.reason IS NULL
        ORDER BY p.source, p.file_no, p.ord
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_used AS "
                "SELECT source, record_id FROM source_records")
    con.execute("DROP TABLE _fl_stage_people")
    con.execute("DROP TABLE _fl_names")


def _relationships_and_events(con: Any) -> None:
    rel_value = std.map_code("s.relationship", "crel.value", RELATIONSHIPS)
    type_value = std.map_code("s.event_type", "ctype.value", EVENT_TYPES)
    role_value = std.map_code("s.role", "crole.value", ROLES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_rels AS
        SELECT s.*, {rel_value} AS relationship_value,
               CASE WHEN s.record_id IS NULL THEN 'missing_record_id'
                    WHEN s.related_record_id IS NULL THEN 'missing_related_record_id'
                    WHEN s.relationship IS NULL THEN 'missing_relationship'
                    WHEN u1.record_id IS NULL THEN 'unknown_record_id'
                    WHEN u2.record_id IS NULL THEN 'unknown_related_record_id'
                    WHEN s.record_id = s.related_record_id THEN 'self_relationship'
               END AS reason,
               CASE WHEN s.record_id IS NULL THEN 'the record id is empty'
                    WHEN s.related_record_id IS NULL THEN 'the related record id is empty'
                    WHEN s.relationship IS NULL THEN 'the relationship is empty'
                    WHEN u1.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.record_id
                    WHEN u2.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.related_record_id || ' (related_record_id)'
                    WHEN s.record_id = s.related_record_id
                    THEN 'record ' || s.record_id || ' is related to itself'
               END AS detail
        FROM _fl_stage_relationships s
        {_code_join('crel', 's', 'relationships', 'relationship', 's.relationship')}
        LEFT JOIN _fl_used u1 ON u1.source = s.source AND u1.record_id = s.record_id
        LEFT JOIN _fl_used u2 ON u2.source = s.source AND u2.record_id = s.related_record_id
        """  # noqa: S608
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_events AS
        SELECT s.*, coalesce({type_value}, 'other') AS event_type_value,
               {type_value} IS NULL AND s.event_type IS NOT NULL AS event_type_unmapped,
               CASE WHEN s.role IS NOT NULL THEN coalesce({role_value}, 'other') END
                   AS role_value,
               {role_value} IS NULL AND s.role IS NOT NULL AS role_unmapped,
               CASE WHEN s.record_id IS NULL THEN 'missing_record_id'
                    WHEN s.event_date IS NULL THEN 'missing_event_date'
                    WHEN s.event_date__date IS NULL THEN 'unparseable_event_date'
                    WHEN u.record_id IS NULL THEN 'unknown_record_id'
               END AS reason,
               CASE WHEN s.record_id IS NULL THEN 'the record id is empty'
                    WHEN s.event_date IS NULL THEN 'the event date is empty'
                    WHEN s.event_date__date IS NULL
                    THEN 'the event date ' || s.event_date || ' is not a date in the '
                         || 'job file''s date_format'
                    WHEN u.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.record_id
               END AS detail
        FROM _fl_stage_events s
        {_code_join('ctype', 's', 'events', 'event_type', 's.event_type')}
        {_code_join('crole', 's', 'events', 'role', 's.role')}
        LEFT JOIN _fl_used u ON u.source = s.source AND u.record_id = s.record_id
        """  # noqa: S608
    )
    con.execute("DROP TABLE _fl_stage_relationships")
    con.execute("DROP TABLE _fl_stage_events")
    # people-file relationships: "this row's person is the <relationship> of relationship_to"
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_people_rels AS
        SELECT p.*, u.record_id IS NOT NULL AS target_known,
               CASE WHEN p.relationship IS NULL THEN 'missing_relationship'
                    WHEN p.relationship_to = p.record_id THEN 'self_reference'
                    WHEN u.record_id IS NULL THEN 'unknown_record_id'
               END AS problem
        FROM _fl_people p
        LEFT JOIN _fl_used u ON u.source = p.source AND u.record_id = p.relationship_to
        WHERE p.reason IS NULL AND p.relationship_to IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE relationships AS
        WITH r AS (
            SELECT source, 'relationships_file' AS origin, 'relationships' AS file_kind, file,
                   line_number, record_id, related_record_id,
                   coalesce(relationship_value, 'other') AS relationship,
                   relationship AS relationship_code,
                   start_date__date AS start_date, end_date__date AS end_date
            FROM _fl_rels WHERE reason IS NULL
            UNION ALL
            SELECT source, 'people_file', 'people', file, line_number, relationship_to,
                   record_id, coalesce(relationship_value, 'other'), relationship,
                   NULL::DATE, NULL::DATE
            FROM _fl_people_rels WHERE problem IS NULL
        )
        SELECT r.source, s.agency, s.is_primary,
               r.source || ':' || r.file_kind || ':' || r.line_number AS relationship_key,
               r.origin, r.file, r.line_number, r.record_id, r.related_record_id,
               r.relationship, r.relationship_code, r.start_date, r.end_date
        FROM r JOIN _fl_sources s USING (source)
        ORDER BY r.source, {_KIND_ORDER.format(col='r.file_kind')}, r.line_number
        """  # noqa: S608
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE events AS
        SELECT e.source, s.agency, s.is_primary,
               e.source || ':' || e.line_number AS event_key,
               coalesce(e.event_id, e.file || ':' || e.line_number) AS event_id,
               e.file, e.line_number, e.record_id, e.event_date__date AS event_date,
               e.event_type_value AS event_type, e.event_type AS event_code,
               e.role_value AS role, e.role AS role_code, e.summary
        FROM _fl_events e JOIN _fl_sources s USING (source)
        WHERE e.reason IS NULL
        ORDER BY e.source, e.line_number
        """
    )


def _quarantine_reasons(con: Any) -> None:
    """``_fl_q``: every row not used, with the position of its raw row and the reason."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_q AS
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_people WHERE reason IS NOT NULL
        UNION ALL
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_rels WHERE reason IS NOT NULL
        UNION ALL
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_events WHERE reason IS NOT NULL
        """
    )


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
        ORDER BY q.source, {_KIND_ORDER.format(col='q.file_kind')}, q.line_number
        """  # noqa: S608
    )


def _nulled_values(con: Any) -> None:
    def people(name: str, reason: str, raw: str, condition: str) -> str:
        return (f"SELECT source, file_kind, file, line_number, record_id, '{name}' AS field, "  # noqa: S608
                f"{reason} AS reason, {raw} AS raw_value FROM _fl_people "
                f"WHERE reason IS NULL AND {condition}")

    def dates(table: str, name: str) -> str:
        return (f"SELECT source, file_kind, file, line_number, record_id, '{name}', "  # noqa: S608
                f"'unparseable_date', {name} FROM {table} WHERE reason IS NULL "
                f"AND {name} IS NOT NULL AND {name}__date IS NULL")

    parts = [
        people("dob", "dob_problem", "dob", "dob_problem IS NOT NULL"),
        dates("_fl_people", "address_from"),
        dates("_fl_people", "address_to"),
        people("nhs_number", "'invalid_nhs_number'", "nhs_number",
               "nhs_number IS NOT NULL AND nhs_number_value IS NULL"),
        people("postcode", "'invalid_postcode'", "postcode",
               "postcode IS NOT NULL AND postcode_value IS NULL"),
        people("uprn", "'invalid_uprn'", "uprn", "uprn IS NOT NULL AND uprn_value IS NULL"),
        people("sex", "'unmapped_code'", "sex", "sex IS NOT NULL AND sex_value IS NULL"),
        "SELECT source, file_kind, file, line_number, record_id, 'relationship_to', problem, "
        "relationship_to FROM _fl_people_rels WHERE problem IS NOT NULL",
        dates("_fl_rels", "start_date"),
        dates("_fl_rels", "end_date"),
    ]
    con.execute(
        "CREATE OR REPLACE TABLE nulled_values AS SELECT * FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + ") ORDER BY source, " + _KIND_ORDER.format(col="file_kind")
        + ", line_number, field"
    )


def _unmapped_codes(con: Any) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE unmapped_codes AS
        WITH u AS (
            SELECT source, file_kind, 'sex' AS field, sex AS code FROM _fl_people
            WHERE reason IS NULL AND sex IS NOT NULL AND sex_value IS NULL
            UNION ALL
            SELECT source, file_kind, 'relationship', relationship FROM _fl_people_rels
            WHERE problem IS NULL AND relationship_value IS NULL
            UNION ALL
            SELECT source, file_kind, 'relationship', relationship FROM _fl_rels
            WHERE reason IS NULL AND relationship_value IS NULL
            UNION ALL
            SELECT source, file_kind, 'event_type', event_type FROM _fl_events
            WHERE reason IS NULL AND event_type_unmapped
            UNION ALL
            SELECT source, file_kind, 'role', role FROM _fl_events
            WHERE reason IS NULL AND role_unmapped
        )
        SELECT source, file_kind, field, code, count(*) AS rows FROM u
        GROUP BY source, file_kind, field, code
        ORDER BY source, {_KIND_ORDER.format(col='file_kind')}, field, code
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

