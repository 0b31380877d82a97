"""The nothing-lost check: every row read is either used or quarantined.

:func:`reconcile` counts, for each source and file, the rows read (as loaded from the extract)
against the rows found in the output tables (``source_records``, ``relationships``,
``events``) and in ``quarantine``, writes the ``reconciliation`` table and raises
:class:`~linkage.errors.ReconciliationError` on any difference. :class:`IngestReport` carries
the same numbers for the run manifest and the CLI's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from famlink.linkage.errors import ReconciliationError


@dataclass
class FileReport:
    """What happened to one extract."""

    source: str
    kind: str
    #: the path as written in the job file
    file: str
    #: the path as resolved
    path: str
    format: str
    sha256: str
    rows_read: int = 0
    rows_used: int = 0
    #: reason -> rows
    quarantined: dict[str, int] = field(default_factory=dict)
    #: field -> values nulled
    nulled: dict[str, int] = field(default_factory=dict)
    #: field -> rows whose code had no mapping (kept as ``other``; sex: nulled)
    unmapped: dict[str, int] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def values_nulled(self) -> int:
        return sum(self.nulled.values())

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_used + self.rows_quarantined


#: a date column's formats read less than its ``date_min_parsed`` share of its values
DATE_FORMAT_UNPARSED = "date_format_unparsed"
#: no value is read only as written, some only with day and month exchanged
DATE_DAY_MONTH_SWAP = "date_day_month_swap"


@dataclass(frozen=True)
class DataWarning:
    """Data that does not fit the job file, found while reading (``famlink link`` prints it,
    records it in ``runs.counts`` and the ``warnings`` table and, with ``--strict``, stops).
    Today one kind: ``date_format``, a date column its formats do not fit
    (:mod:`famlink.linkage.date_check`), as one or both of :meth:`kinds`.
    """

    kind: str
    source: str
    file_kind: str
    #: the path as written in the job file
    file: str
    #: the canonical field and the extract's column
    field: str
    column: str
    formats: tuple[str, ...]
    non_empty: int
    parsed: int
    #: the file's ``date_min_parsed``: the share of ``non_empty`` the formats must read
    min_parsed: float
    #: the formats read less than ``min_parsed`` of the non-empty values
    low_parse_rate: bool
    #: no value is read only as written, some only with day and month exchanged
    day_month_swap: bool
    #: values read only with day and month exchanged
    swapped_only: int
    suggested_format: str | None
    suggested_parses: int | None

    def kinds(self) -> tuple[str, ...]:
        """The ``warnings`` table's kind of each problem found (a column can have both)."""
        found = ((DATE_FORMAT_UNPARSED, self.low_parse_rate),
                 (DATE_DAY_MONTH_SWAP, self.day_month_swap))
        return tuple(kind for kind, present in found if present)

    def problem(self) -> str:
        """What does not fit, with the counts (no place, no suggestion)."""
        share = self.parsed / self.non_empty if self.non_empty else 0.0
        formats = ", ".join(repr(f) for f in self.formats)
        text = (f"date_format {formats} reads {self.parsed:,} of {self.non_empty:,} non-empty "
                f"values ({share:.1%})")
        if self.day_month_swap:
            text += (f"; no value has a day above 12 while {self.swapped_only:,} read only with "
                     "day and month swapped: a likely day/month swap")
        return text

    def suggestion(self) -> str:
        if self.suggested_format is None:
            return "no common date format reads more of them"
        return (f"date_format = {self.suggested_format!r} reads {self.suggested_parses:,} of "
                f"the {self.non_empty:,}")

    def __str__(self) -> str:
        return (f"source {self.source!r} {self.file_kind}.{self.field} (column {self.column!r}"
                f" of {self.file}): {self.problem()}; {self.suggestion()}")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "file_kind": self.file_kind,
                "file": self.file, "field": self.field, "column": self.column,
                "formats": list(self.formats), "non_empty": self.non_empty,
                "parsed": self.parsed, "low_parse_rate": self.low_parse_rate,
                "day_month_swap": self.day_month_swap, "swapped_only": self.swapped_only,
                "suggested_format": self.suggested_format,
                "suggested_parses": self.suggested_parses}


@dataclass
class IngestReport:
    """Per source and file: rows read, used, quarantined by reason, values nulled by field."""

    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    #: data that does not fit the job file (date formats), in reading order
    warnings: list[DataWarning] = field(default_factory=list)

    def file(self, source: str, kind: str) -> FileReport:
        """The report of one source's ``people`` / ``relationships`` / ``events`` file."""
        for report in self.files:
            if report.source == source and report.kind == kind:
                return report
        raise KeyError((source, kind))

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_used(self) -> int:
        return sum(f.rows_used for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def values_nulled(self) -> int:
        return sum(f.values_nulled for f in self.files)

    def inputs(self) -> list[dict[str, Any]]:
        """``runs.inputs``: ``[{source, kind, path, sha256, rows}]`` (path as in the job)."""
        return [
            {"source": f.source, "kind": f.kind, "path": f.file, "sha256": f.sha256,
             "rows": f.rows_read}
            for f in self.files
        ]

    def totals(self) -> dict[str, int]:
        """Totals over all files: rows_read, rows_used, rows_quarantined, values_nulled."""
        return {
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_quarantined": self.rows_quarantined,
            "values_nulled": self.values_nulled,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (for ``runs.counts``)."""
        return {
            **self.totals(),
            "seconds": round(self.seconds, 3),
            "warnings": [w.as_dict() for w in self.warnings],
            "files": [
                {"source": f.source, "kind": f.kind, "file": f.file, "sha256": f.sha256,
                 "rows_read": f.rows_read, "rows_used": f.rows_used,
                 "rows_quarantined": f.rows_quarantined, "quarantined": dict(f.quarantined),
                 "values_nulled": f.values_nulled, "nulled": dict(f.nulled),
                 "unmapped": dict(f.unmapped)}
                for f in self.files
            ],
        }

    def summary_lines(self) -> list[str]:
        """One line per source and file, e.g.::

            csc people  read 812  used 809  quarantined 3 (duplicate_record_id 2, no_identifying_fields 1)  nulled: dob 4, nhs_number 7
        """
        width = max((len(f"{f.source} {f.kind}") for f in self.files), default=0)
        lines = []
        for f in self.files:
            text = (f"{f'{f.source} {f.kind}':<{width}}  read {f.rows_read}  used {f.rows_used}"
                    f"  quarantined {f.rows_quarantined}")
            if f.quarantined:
                text += f" ({_counts(f.quarantined)})"
            if f.nulled:
                text += f"  nulled: {_counts(f.nulled)}"
            if f.unmapped:
                text += f"  unmapped codes: {_counts(f.unmapped)}"
            lines.append(text)
        return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def reconcile(con: duckdb.DuckDBPyConnection, report: IngestReport, files_table: str) -> None:
    """Write ``reconciliation`` and fill ``report`` from the output tables.

    ``files_table`` has one row per extract: ``source, file_kind, file, rows_read``.
    Raises ReconciliationError naming the first extract whose rows do not add up.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TABLE reconciliation AS
        WITH used AS (
            SELECT source, 'people' AS file_kind, count(*) AS n FROM source_records GROUP BY 1
            UNION ALL
            SELECT source, 'relationships', count(*) FROM relationships
            WHERE origin = 'relationships_file' GROUP BY 1
            UNION ALL
            -- an episode's row holds its start and, once paired, its end: two rows read
            SELECT source, 'events', count(*) + count(end_line_number) FROM events GROUP BY 1
        ),
        quarantined AS (SELECT source, file_kind, count(*) AS n FROM quarantine GROUP BY 1, 2),
        nulled AS (SELECT source, file_kind, count(*) AS n FROM nulled_values GROUP BY 1, 2)
        SELECT f.source, f.file_kind, f.file, f.rows_read,
               coalesce(u.n, 0) AS rows_used,
               coalesce(q.n, 0) AS rows_quarantined,
               coalesce(n.n, 0) AS values_nulled
        FROM {files_table} f
        LEFT JOIN used u USING (source, file_kind)
        LEFT JOIN quarantined q USING (source, file_kind)
        LEFT JOIN nulled n USING (source, file_kind)
        ORDER BY f.source, CASE f.file_kind WHEN 'people' THEN 1
                                            WHEN 'relationships' THEN 2 ELSE 3 END
        """  # noqa: S608 - files_table is famlink's own temp table name
    )
    by_file = {(f.source, f.kind): f for f in report.files}
    for source, kind, _file, read, used, _quarantined, _nulled in con.execute(
        "SELECT * FROM reconciliation"
    ).fetchall():
        by_file[(source, kind)].rows_read = read
        by_file[(source, kind)].rows_used = used
    for source, kind, reason, n in con.execute(
        "SELECT source, file_kind, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        by_file[(source, kind)].quarantined[reason] = n
    for source, kind, name, n in con.execute(
        "SELECT source, file_kind, field, count(*) FROM nulled_values GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        by_file[(source, kind)].nulled[name] = n
    for source, kind, name, n in con.execute(
        "SELECT source, file_kind, field, sum(rows) FROM unmapped_codes GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        by_file[(source, kind)].unmapped[name] = int(n)
    for f in report.files:
        if not f.balanced:
            raise ReconciliationError(
                f"source {f.source!r} {f.kind}: read {f.rows_read} rows but used {f.rows_used}"
                f" and quarantined {f.rows_quarantined}; {f.rows_read - f.rows_used - f.rows_quarantined}"
                " rows are unaccounted for",
                file=f.file,
                hint="this is a famlink bug, not a problem with the extract: please report it",
            )
