"""Why two records were (or were not) linked: Splink's waterfall for one pair.

The saved model (``DIR/model.json``) scores the pair again, comparison by comparison, so
whoever challenges a link sees each piece of evidence and its weight, and the total.
Splink works on an in-memory copy of ``source_records``: the output database is only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from splink.internals.waterfall_chart import records_to_waterfall_data

from famlink.linkage import model_spec
from famlink.linkage.errors import FamlinkError
from famlink.linkage.output import DATABASE_NAME, database_path
from famlink.linkage.predict import build_linker
from famlink.linkage.review import RecordRef


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
    )


__all__ = ["DATABASE_NAME", "PairExplanation", "WaterfallStep", "explain_pair"]
