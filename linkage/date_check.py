"""Does each extract's ``date_format`` fit its data? A check run on the raw rows as read.

A wrong format is silent otherwise: a date that does not parse is nulled (and counted), and
a day/month swap parses every date whose day is at most 12 — wrongly. So, per extract and
mapped date column (text, not a Parquet ``DATE``), over its non-empty values:

- **low parse rate**: the job file's formats read less than the file's ``date_min_parsed``
  share of them (default :data:`~famlink.linkage.job_sources.DEFAULT_DATE_MIN_PARSED`, 90 %);
- **likely day/month swap**: no value is read *only* by the formats as written while some
  are read only with ``%d`` and ``%m`` exchanged. A value whose first field is above 12
  settles which is the day; in genuine day-first data about 60 % of dates have a day above
  12, so none at all, while others have a "month" above 12, is the swap's signature — and
  unlike "parsed days never above 12" it does not depend on how many values failed.

Either gives a :class:`~famlink.linkage.reconcile.DataWarning` with the counts and the
common format (:data:`COMMON_FORMATS`, tried in DuckDB on the same values) that reads the
most of them. The check parses each *distinct* value once, so it costs little beside
reading the extract.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from famlink.linkage import standardise as std
from famlink.linkage.job_sources import DATE_FIELDS
from famlink.linkage.reconcile import DataWarning
from famlink.linkage.staging import Extract

#: formats tried on a column's values to suggest one that fits (in order: ties go to the
#: earlier one, so day-first UK formats come before month-first ones)
COMMON_FORMATS = (
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y", "%Y/%m/%d",
    "%Y%m%d", "%d%m%Y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d, %Y",
    "%d/%m/%y", "%m/%d/%y", "%d-%b-%y", "%d-%m-%y", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
)


def swap_day_month(fmt: str) -> str | None:
    """``fmt`` with ``%d`` and ``%m`` exchanged, or None when it lacks one of them.

    >>> swap_day_month("%d/%m/%Y")
    '%m/%d/%Y'
    >>> swap_day_month("%Y%j") is None
    True
    """
    if "%d" not in fmt or "%m" not in fmt:
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def check_date_formats(con: duckdb.DuckDBPyConnection, extract: Extract) -> list[DataWarning]:
    """Warnings for the extract's date columns whose formats do not fit (raw table loaded)."""
    warnings = []
    spec = extract.spec
    for name, columns in spec.columns.items():
        if name not in DATE_FIELDS or extract.types[columns[0]].startswith(("DATE", "TIMESTAMP")):
            continue  # a Parquet date is used as it is (staging does the same)
        warning = _check_column(con, extract, name, columns[0])
        if warning is not None:
            warnings.append(warning)
    return warnings


def _parsed(value: str, formats: Sequence[str], param: str) -> str:
    return f"{std.parse_date(value, '$' + param, formats)} IS NOT NULL"


def _check_column(con: duckdb.DuckDBPyConnection, extract: Extract, name: str,
                  column: str) -> DataWarning | None:
    spec = extract.spec
    formats = list(spec.date_formats)
    swapped = [s for s in (swap_day_month(f) for f in formats) if s is not None]
    value = std.text(extract.col(column))
    # each distinct value parsed once; the raw table's name and column are famlink's own
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fl_date_values AS SELECT v, count(*) AS n FROM ("  # noqa: S608
        f"SELECT {value} AS v FROM {extract.raw_table} r) WHERE v IS NOT NULL GROUP BY v"
    )
    try:
        params: dict[str, object] = {"formats": formats}
        only_swapped = "0"
        only_written = "0"
        if swapped:
            params["swapped"] = swapped
            as_written = _parsed("v", formats, "formats")
            as_swapped = _parsed("v", swapped, "swapped")
            only_swapped = f"sum(n) FILTER (WHERE {as_swapped} AND NOT {as_written})"
            only_written = f"sum(n) FILTER (WHERE {as_written} AND NOT {as_swapped})"
        as_written_sql = _parsed("v", formats, "formats")
        ((non_empty, parsed, swap_only, written_only),) = con.execute(
            f"SELECT sum(n), sum(n) FILTER (WHERE {as_written_sql}), "  # noqa: S608
            f"{only_swapped}, {only_written} FROM _fl_date_values",
            params,
        ).fetchall()
        non_empty, parsed = int(non_empty or 0), int(parsed or 0)
        swap_only, written_only = int(swap_only or 0), int(written_only or 0)
        low = non_empty > 0 and parsed < spec.date_min_parsed * non_empty
        swap = swap_only > 0 and written_only == 0
        if not (low or swap):
            return None
        suggestion, suggested_parses = _best_format(con)
    finally:
        con.execute("DROP TABLE IF EXISTS _fl_date_values")
    if suggested_parses <= parsed and not swap:
        suggestion = None  # nothing common reads more of them than the job file's formats
    return DataWarning(
        kind="date_format", source=extract.source.name, file_kind=spec.kind,
        file=spec.path_text, field=name, column=column, formats=tuple(formats),
        non_empty=non_empty, parsed=parsed, min_parsed=spec.date_min_parsed,
        low_parse_rate=low, day_month_swap=swap,
        swapped_only=swap_only, suggested_format=suggestion,
        suggested_parses=suggested_parses if suggestion else None,
    )


def _best_format(con: duckdb.DuckDBPyConnection) -> tuple[str | None, int]:
    """The common format reading the most values of ``_fl_date_values`` (and how many)."""
    counts = ", ".join(
        f"coalesce(sum(n) FILTER (WHERE {_parsed('v', [f], f'f{i}')}), 0)"
        for i, f in enumerate(COMMON_FORMATS)
    )
    (row,) = con.execute(f"SELECT {counts} FROM _fl_date_values",  # noqa: S608
                         {f"f{i}": [f] for i, f in enumerate(COMMON_FORMATS)}).fetchall()
    best = max(range(len(COMMON_FORMATS)), key=lambda i: (int(row[i]), -i))
    return (COMMON_FORMATS[best], int(row[best])) if row[best] else (None, 0)
