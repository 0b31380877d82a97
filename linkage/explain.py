"""Why two records were (or were not) linked: Splink's waterfall for one pair.

The saved model (``DIR/model.json``) scores the pair again, comparison by comparison, so
whoever challenges a link sees each piece of evidence and its weight, and the total. When
the two records are in different persons, it also says what kept them apart: a reviewer's
decision, a cannot-link rule (:mod:`famlink.linkage.cannot_link`) between a record of each
person, or neither (no chain of links at or above the threshold joins them).
Splink works on an in-memory copy of ``source_records``: the output database is only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from splink.internals.waterfall_chart import records_to_waterfall_data

from famlink.linkage import cannot_link, model_spec
from famlink.linkage.errors import FamlinkError
from famlink.linkage.output import DATABASE_NAME, database_path
from famlink.linkage.predict import build_linker
from famlink.linkage.review import LATEST_DECISIONS_SQL, RecordRef


@dataclass(frozen=True)
class WaterfallStep:
    """One bar of the waterfall: a comparison (or its term-frequency adjustment)."""

    comparison: str
    level: str
    value_a: str
    value_b: str
    match_weight: float


@dataclass(frozen=True)
class PairExplanation:
    record_a: RecordRef
    record_b: RecordRef
    steps: list[WaterfallStep]
    match_weight: float
    match_probability: float
    person_a: str | None
    person_b: str | None
    chart_html: str
    #: when the records are in different persons: what kept those persons apart, one line
    #: per reason (empty when they are one person)
    kept_apart: tuple[str, ...] = ()

    def as_text(self) -> str:
        """The waterfall as a plain-text table (values as the model compares them)."""
        a = f"{self.record_a[0]}:{self.record_a[1]}"
        b = f"{self.record_b[0]}:{self.record_b[1]}"
        rows = [("comparison", a, b, "level", "weight")]
        rows += [
            (s.comparison, s.value_a, s.value_b, s.level, f"{s.match_weight:+.2f}")
            for s in self.steps
        ]
        widths = [min(max(len(str(r[i])) for r in rows), 34) for i in range(5)]
        lines = ["  ".join(_fit(str(v), w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        verdict = (
            f"one person ({self.person_a})" if self.person_a and self.person_a == self.person_b
            else f"different persons ({self.person_a} and {self.person_b})"
        )
        lines += [
            "",
            f"Total match weight {self.match_weight:+.2f} → match probability {self.match_probability:.6f}",
            f"In this output the two records are {verdict}.",
        ]
        lines += list(self.kept_apart)
        return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _splink_record(con: duckdb.DuckDBPyConnection, ref: RecordRef) -> dict[str, Any]:
    columns = model_spec.input_columns_sql(con)
    sql = f"SELECT source AS source_dataset, {columns} FROM source_records WHERE source = ? AND record_id = ?"  # noqa: S608
    cursor = con.execute(sql, list(ref))
    rows = cursor.fetchall()
    if not rows:
        raise FamlinkError(
            f"no record {ref[0]}:{ref[1]} in this output",
            hint="record references are SOURCE:RECORD_ID, e.g. from `famlink review DIR queue`",
        )
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


def explain_pair(out_dir: str | Path, record_a: RecordRef, record_b: RecordRef) -> PairExplanation:
    """Score one pair with the run's saved model and return its waterfall."""
    database = database_path(out_dir)
    model = Path(out_dir) / "model.json"
    if not model.exists():
        raise FamlinkError(f"no saved model in {out_dir}", hint="run `famlink link` into it first")
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS out (READ_ONLY)", [str(database)])
        con.execute("CREATE TABLE source_records AS SELECT * FROM out.source_records")
        for ref in (record_a, record_b):
            _splink_record(con, ref)  # a clear error for an unknown record
        people = dict(
            ((s, r), p) for s, r, p in con.execute(
                "SELECT source, record_id, person_id FROM out.person_records "
                "WHERE (source = ? AND record_id = ?) OR (source = ? AND record_id = ?)",
                [*record_a, *record_b],
            ).fetchall()
        )
        kept_apart: tuple[str, ...] = ()
        person_a, person_b = people.get(record_a), people.get(record_b)
        if person_a and person_b and person_a != person_b:
            kept_apart = why_apart(con, person_a, person_b)
        linker, db_api, _ = build_linker(con, model=model, keep_comparison_details=True)
        # Typed one-row tables rather than dicts: a missing date of birth must stay a NULL
        # DATE, not become an untyped NULL that Splink's date functions cannot bind.
        frames = []
        for name, ref in (("__famlink_explain_a", record_a), ("__famlink_explain_b", record_b)):
            columns = model_spec.input_columns_sql(con)
            con.execute(
                f"CREATE TABLE {name} AS SELECT source AS source_dataset, {columns} "  # noqa: S608
                "FROM source_records WHERE source = ? AND record_id = ?",
                list(ref),
            )
            frames.append(db_api.register(name))
        scored = linker.inference.score_pair(frames[0], frames[1]).as_record_list()[0]
        chart = linker.visualisations.waterfall_chart([scored], filter_nulls=False)
        data = records_to_waterfall_data([scored], linker._settings_obj, False)
    finally:
        con.close()
    steps = [
        WaterfallStep(
            comparison=str(d["column_name"]),
            level=str(d["label_for_charts"]),
            value_a=str(d["value_l"]),
            value_b=str(d["value_r"]),
            match_weight=float(d["log2_bayes_factor"] or 0.0),
        )
        for d in data
        if d["column_name"] != "Final score"
        and not (d["term_frequency_adjustment"] and not d["log2_bayes_factor"])
    ]
    return PairExplanation(
        record_a=record_a,
        record_b=record_b,
        steps=steps,
        match_weight=float(scored["match_weight"]),
        match_probability=float(scored["match_probability"]),
        person_a=people.get(record_a),
        person_b=people.get(record_b),
        chart_html=chart.to_html(inline=True),
        kept_apart=kept_apart,
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'out' AND table_name = ?",
        [name]).fetchall()[0][0])


def _rules_in_force(con: duckdb.DuckDBPyConnection) -> tuple[cannot_link.CannotLinkRule, ...]:
    """The built-in rules the last run used (its ``[linkage.cannot_link]``, kept in ``runs``)."""
    if not _has_table(con, "runs"):
        return cannot_link.RULES
    row = con.execute(
        "SELECT json_extract(config, '$.linkage.cannot_link') FROM out.runs "
        "WHERE config IS NOT NULL ORDER BY started_at DESC LIMIT 1").fetchall()
    switches = json.loads(row[0][0]) if row and row[0][0] else {}
    return tuple(r for r in cannot_link.RULES if switches.get(r.name, True))


def why_apart(con: duckdb.DuckDBPyConnection, person_a: str, person_b: str) -> tuple[str, ...]:
    """What keeps two persons apart: reviewers' "different people" decisions and built-in
    cannot-link rules between a record of each (``con`` has the output attached as ``out``
    and ``source_records`` copied), or a line saying there is neither."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __famlink_apart AS SELECT 'both' AS person_id, source, "
        "record_id, person_id AS own FROM out.person_records WHERE person_id IN (?, ?)",
        [person_a, person_b])
    lines: list[str] = []
    if _has_table(con, "link_decisions"):
        con.execute("CREATE OR REPLACE TEMP TABLE link_decisions AS SELECT * FROM out.link_decisions")
        for sa, ra, sb, rb in con.execute(
            f"""
            SELECT d.source_a, d.record_id_a, d.source_b, d.record_id_b
            FROM ({LATEST_DECISIONS_SQL}) d
            JOIN __famlink_apart a ON a.source = d.source_a AND a.record_id = d.record_id_a
            JOIN __famlink_apart b ON b.source = d.source_b AND b.record_id = d.record_id_b
            WHERE d.decision = 'different' AND a.own <> b.own
            ORDER BY 1, 2, 3, 4
            """  # noqa: S608 - famlink's own SQL
        ).fetchall():
            lines.append(f"Kept apart by a reviewer's decision: {sa}:{ra} and {sb}:{rb} are "
                         "different people (see `famlink review DIR history`).")
    relationships = "out.relationships" if _has_table(con, "relationships") else (
        "(SELECT '' AS source, '' AS record_id, '' AS related_record_id, '' AS relationship WHERE false)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE relationships AS SELECT * FROM {relationships}")  # noqa: S608
    rules = _rules_in_force(con)
    pairs = con.execute(
        f"""
        SELECT f.rule, f.source_a, f.record_id_a, f.source_b, f.record_id_b
        FROM ({cannot_link.forbidden_pairs_sql("__famlink_apart", cannot_link.columns_of(con), rules)}) f
        JOIN __famlink_apart a ON a.source = f.source_a AND a.record_id = f.record_id_a
        JOIN __famlink_apart b ON b.source = f.source_b AND b.record_id = f.record_id_b
        WHERE a.own <> b.own
        ORDER BY 1, 2, 3, 4, 5
        """  # noqa: S608 - famlink's own SQL
    ).fetchall()
    by_rule: dict[str, list[str]] = {}
    for rule, sa, ra, sb, rb in pairs:
        by_rule.setdefault(rule, []).append(f"{sa}:{ra} and {sb}:{rb}")
    for rule in rules:
        found = by_rule.get(rule.name)
        if found:
            more = f" (and {len(found) - 3} more pair(s))" if len(found) > 3 else ""
            lines.append(f"Kept apart by cannot-link rule {rule.name}: " + "; ".join(found[:3])
                         + f"{more} — {rule.why}.")
    if not lines:
        lines.append("No cannot-link rule or reviewer's decision separates the two persons: no "
                     "chain of links at or above the match threshold joins them (or a record "
                     "that fits two people equally was left on its own).")
    return tuple(lines)


__all__ = ["DATABASE_NAME", "PairExplanation", "WaterfallStep", "explain_pair"]
