"""`build_models`: read linkage's tables, write every models table, return counts."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb

from famlink.linkage.connection import SQLConnection
from famlink.linkage.errors import OutputError
from famlink.models import chronology, edges, flags, residences
from famlink.models.graph import months_before

if TYPE_CHECKING:
    from famlink.linkage.spark.sql import SparkSQLConnection

INPUT_TABLES = ("source_records", "person_records", "persons", "relationships", "events")
MODELS_TABLES = (
    "relationships_resolved",
    "relationship_evidence",
    "residences",
    "households",
    "families",
    "flags",
    "flag_evidence",
    "chronology",
    "models_run",
)


@dataclass(frozen=True)
class ModelsReport:
    """What `build_models` wrote."""

    reference_date: date
    window_start: date
    persons: int
    children: int
    families: int
    relationships: dict[str, int]  # by basis
    residences: int
    households: int
    flags: dict[str, int]  # by flag type (every type present, 0 if none)
    chronology_entries: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """A few lines for the end of `famlink link`."""
        raised = ", ".join(f"{t} {n}" for t, n in self.flags.items() if n) or "none"
        return [
            f"families: {self.families:,} ({self.persons:,} people, {self.children:,} children in scope)",
            "relationships: " + ", ".join(f"{n:,} {b}" for b, n in self.relationships.items()),
            f"flags: {raised}",
            f"chronology entries: {self.chronology_entries:,}",
        ]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["reference_date"] = self.reference_date.isoformat()
        data["window_start"] = self.window_start.isoformat()
        return data


def check_linkage_tables(con: SQLConnection) -> None:
    present = {
        row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    missing = [t for t in INPUT_TABLES if t not in present]
    if missing:
        raise OutputError(
            f"the database has no {', '.join(missing)} table(s) from linkage",
            hint="run `famlink link JOB.toml --out DIR` first",
        )


def build_families(con: SQLConnection) -> None:
    """`families`: connected components of the family graph (every edge of
    `relationships_resolved`), by min-label propagation in DuckDB. Every person is in
    exactly one family; someone with no edges is a family of one."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_und AS
        SELECT DISTINCT person_id AS a, related_person_id AS b FROM relationships_resolved;
        CREATE OR REPLACE TEMP TABLE m_label AS
        SELECT person_id, person_id AS label FROM persons;
        """
    )
    for _ in range(10_000):
        # each round: the smallest label among the neighbours, then a jump to the label of
        # one's label (pointer jumping: long chains converge in far fewer rounds)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE m_label_next AS
            WITH step AS (
                SELECT l.person_id, least(l.label, min(n.label)) AS label
                FROM m_label l LEFT JOIN m_und e ON e.a = l.person_id
                LEFT JOIN m_label n ON n.person_id = e.b
                GROUP BY l.person_id, l.label
            )
            SELECT s.person_id, least(s.label, coalesce(j.label, s.label)) AS label
            FROM step s LEFT JOIN step j ON j.person_id = s.label
            """
        )
        changed = con.execute(
            """SELECT count(*) FROM m_label_next x JOIN m_label l USING (person_id)
               WHERE x.label <> l.label"""
        ).fetchone()[0]  # type: ignore[index]
        con.execute("CREATE OR REPLACE TEMP TABLE m_label AS SELECT * FROM m_label_next")
        if not changed:
            break
    con.execute(
        """
        CREATE OR REPLACE TABLE families AS
        SELECT 'F' || left(sha256(label), 12) AS family_id, person_id
        FROM m_label
        """
    )


# The steps of `build_models`, in order; each reads linkage's tables and earlier steps' output.
STEPS = (
    ("record_probability", edges.build_record_probability),
    ("recorded_edges", edges.build_recorded_edges),
    ("residences", residences.build_residences),
    ("co_residence", residences.build_co_residence),
    ("derived_siblings", edges.build_derived_siblings),
    ("relationships_resolved", edges.write_relationships_resolved),
    ("families", build_families),
    ("people", flags.build_people),
    ("adults_around", flags.build_adults_around),
    ("flags", flags.build_flags),  # with the job's flag settings (`build_tables`)
    ("chronology", chronology.build_chronology),
)
# Working (`m_*`) tables no step after this one reads.
RELEASE_AFTER = {
    "record_probability": ("m_best_link",),
    "recorded_edges": ("m_inverse",),
    "residences": ("m_addr_lookup",),
    "co_residence": ("m_res_window", "m_communal", "m_residences"),
    "derived_siblings": ("m_parent_items", "m_parent_of", "m_sibling_pairs"),
    "relationships_resolved": ("m_co_items",),
    "families": ("m_und", "m_label", "m_label_next"),
    "flags": ("m_primary_known", "m_around", "m_flag_adults", "m_flag_items", "m_injuries",
              "m_sib_hits", "m_parent", "m_role_text", "m_flag_heads", "m_risk_events",
              "m_sib_events"),
}


def build_models(
    con: duckdb.DuckDBPyConnection,
    *,
    reference_date: date,
    co_residence_window_months: int = 12,
    non_mobile_age_months: int = 6,
    flag_rules: flags.FlagSettings | None = None,
) -> ModelsReport:
    """Build family graphs' tables, flags and chronologies from linkage's tables.

    ``flag_rules`` (the job file's ``[flags]``, checked by `flags.flag_settings`) says which
    flag rules run with which parameters; by default every rule, with its defaults and
    ``non_mobile_age_months``.

    Reads `source_records`, `person_records`, `persons`, `relationships` and `events`;
    writes `relationships_resolved`, `relationship_evidence`, `residences`, `households`,
    `families`, `flags`, `flag_evidence`, `chronology` and, last,
    `models_run`, replacing earlier versions. Deterministic: the same tables in give the
    same rows out. (On the Spark backend, `models.spark_engine.build_models_on_spark` runs
    the same steps on Spark.)
    """
    check_linkage_tables(con)
    options: dict[str, Any] = {
        "reference_date": reference_date,
        "co_residence_window_months": co_residence_window_months,
        "non_mobile_age_months": non_mobile_age_months,
    }
    # `models_run` is written last and marks a complete build: every reader of the models
    # tables requires it, so a build that fails part-way leaves no half-new tables in use.
    # (One transaction would say the same, but DuckDB holds a transaction's new tables in
    # memory until it commits: on 1M records that doubled the stage's peak memory.)
    con.execute("DROP TABLE IF EXISTS models_run")
    report = build_tables(con, **options, flag_rules=flag_rules)
    write_models_run(con, report, **options)
    return report


def build_tables(
    con: SQLConnection,
    *,
    reference_date: date,
    co_residence_window_months: int,
    non_mobile_age_months: int,
    flag_rules: flags.FlagSettings | None = None,
) -> ModelsReport:
    """Run every step (`STEPS`) on `con` — a DuckDB connection, or the Spark stand-in
    `famlink.linkage.spark.sql.SparkSQLConnection` — and count what they wrote."""
    window_start = months_before(reference_date, co_residence_window_months)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    settings = {
        "m_ref": reference_date,
        "m_wstart": window_start,
        "m_months": non_mobile_age_months,
        "m_cap": residences.COMMUNAL_ADDRESS_PEOPLE,
    }
    # The SQL reads its settings through getvariable(), so multi-statement scripts need no
    # string formatting of values.
    for name, value in settings.items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    rules = flag_rules or flags.flag_settings(None, non_mobile_age_months=non_mobile_age_months)
    try:
        for name, func in STEPS:
            t0 = time.perf_counter()
            if func is flags.build_flags:
                flags.build_flags(con, rules)
            else:
                func(con)
            timings[name] = round(time.perf_counter() - t0, 3)
            # Working tables go as soon as no later step reads them (they live in memory).
            for table in RELEASE_AFTER.get(name, ()):
                con.execute(f'DROP TABLE IF EXISTS temp."{table}"')
        counts = _counts(con)
        return ModelsReport(
            reference_date=reference_date,
            window_start=window_start,
            seconds=round(time.perf_counter() - started, 3),
            timings=timings,
            **counts,
        )
    finally:
        _drop_working_tables(con)


def with_seconds(report: ModelsReport, seconds: float) -> ModelsReport:
    """The report with the stage's whole time (e.g. including Spark's start and the copy)."""
    return replace(report, seconds=round(seconds, 3))


def write_models_run(
    con: duckdb.DuckDBPyConnection,
    report: ModelsReport,
    *,
    reference_date: date,
    co_residence_window_months: int,
    non_mobile_age_months: int,
) -> None:
    """Write `models_run`, the mark of a complete build (the last table written)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE models_run AS
        SELECT $built_at::TIMESTAMP AS built_at, $ref::DATE AS reference_date,
               $wstart::DATE AS window_start, $window::INTEGER AS co_residence_window_months,
               $months::INTEGER AS non_mobile_age_months, $report::JSON AS report
        """,
        {
            "built_at": datetime.now(UTC).replace(tzinfo=None),
            "ref": reference_date,
            "wstart": months_before(reference_date, co_residence_window_months),
            "window": co_residence_window_months,
            "months": non_mobile_age_months,
            "report": json.dumps(report.as_dict()),
        },
    )


def _drop_working_tables(con: SQLConnection) -> None:
    """Free the temporary `m_*` tables (they can hold gigabytes on a large run)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'm_')"
            ).fetchall()
        ]
    else:
        names = sorted(n for n in cast("SparkSQLConnection", con).table_names() if n.startswith("m_"))
    for name in names:
        con.execute(f'DROP TABLE IF EXISTS temp."{name}"')


def _counts(con: SQLConnection) -> dict:
    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])  # type: ignore[index]

    by_type = dict.fromkeys(flags.FLAG_TYPES, 0)
    by_type.update(
        dict(con.execute("SELECT flag_type, count(*) FROM flags GROUP BY ALL").fetchall())
    )
    return {
        "persons": one("SELECT count(*) FROM persons"),
        "children": one("SELECT count(*) FROM m_children"),
        "families": one("SELECT count(DISTINCT family_id) FROM families"),
        "relationships": dict(
            con.execute(
                "SELECT basis, count(*) FROM relationships_resolved GROUP BY ALL ORDER BY 1"
            ).fetchall()
        ),
        "residences": one("SELECT count(*) FROM residences"),
        "households": one("SELECT count(DISTINCT household_id) FROM households"),
        "flags": by_type,
        "chronology_entries": one("SELECT count(*) FROM chronology"),
    }
