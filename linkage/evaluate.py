"""Accuracy of a run against ground truth (the sample-data generator's ``_truth/`` folder).

Pairwise precision/recall/F1 count record pairs put in the same person; B-cubed scores
average, per record, how much of its cluster is right. Persons split and merged say how the
errors look to a reviewer; twins and same-named fathers and sons merged are the errors a
safeguarding tool must never make.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage import model_spec
from famlink.linkage.errors import FamlinkError, JobFileError
from famlink.linkage.model_options import ModelOptions, read_model_table


@dataclass
class LinkageAccuracy:
    records: int
    true_persons: int
    found_persons: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    persons_split: int
    persons_merged: int
    blocking_recall: float
    special_pairs_merged: dict[str, int] = field(default_factory=dict)
    special_pairs_total: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _truth_file(truth_dir: Path, name: str) -> Path:
    path = truth_dir / name
    if not path.exists():
        raise FamlinkError(
            f"truth file {name} not found in {truth_dir}",
            hint="point --truth at the _truth/ folder written by `famlink sample-data`",
        )
    return path


def load_truth(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> None:
    """Load the truth tables as temp tables ``truth_records`` and ``truth_special_pairs``."""
    records = _truth_file(truth_dir, "records.csv")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE truth_records AS "
        "SELECT source, record_id, true_person_id FROM read_csv(?, all_varchar = true, header = true)",
        [str(records)],
    )
    special = truth_dir / "special_pairs.csv"
    if special.exists():
        con.execute(
            "CREATE OR REPLACE TEMP TABLE truth_special_pairs AS "
            "SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(special)],
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE truth_special_pairs "
            "(pair_type VARCHAR, true_person_id_a VARCHAR, true_person_id_b VARCHAR)"
        )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def linkage_accuracy(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> LinkageAccuracy:
    """Score ``person_records`` against the truth. Only records famlink used are scored."""
    load_truth(con, truth_dir)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE eval_records AS
        SELECT pr.source, pr.record_id, pr.person_id, t.true_person_id
        FROM person_records pr
        JOIN truth_records t USING (source, record_id)
        """
    )
    counts = con.execute(
        """
        WITH found AS (SELECT person_id, count(*) AS n FROM eval_records GROUP BY 1),
             truth AS (SELECT true_person_id, count(*) AS n FROM eval_records GROUP BY 1),
             both_ AS (SELECT person_id, true_person_id, count(*) AS n FROM eval_records GROUP BY 1, 2)
        SELECT
            (SELECT count(*) FROM eval_records),
            (SELECT count(*) FROM truth),
            (SELECT count(*) FROM found),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM found),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM truth),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM both_),
            (SELECT sum(b.n * b.n / f.n) FROM both_ b JOIN found f USING (person_id)),
            (SELECT sum(b.n * b.n / t.n) FROM both_ b JOIN truth t USING (true_person_id)),
            (SELECT count(*) FROM (SELECT true_person_id FROM both_ GROUP BY 1 HAVING count(*) > 1)),
            (SELECT count(*) FROM (SELECT person_id FROM both_ GROUP BY 1 HAVING count(*) > 1))
        """
    ).fetchall()[0]
    records, true_persons, found_persons, found_pairs, true_pairs, tp, bp, br, split, merged = counts
    precision = tp / found_pairs if found_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    special = con.execute(
        """
        WITH p AS (
            SELECT DISTINCT s.pair_type, s.true_person_id_a, s.true_person_id_b,
                   a.person_id IS NOT NULL AS merged
            FROM truth_special_pairs s
            LEFT JOIN (eval_records a JOIN eval_records b ON a.person_id = b.person_id)
              ON a.true_person_id = s.true_person_id_a AND b.true_person_id = s.true_person_id_b
        )
        SELECT pair_type, count(DISTINCT (true_person_id_a, true_person_id_b)),
               count(DISTINCT (true_person_id_a, true_person_id_b)) FILTER (WHERE merged)
        FROM p GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    return LinkageAccuracy(
        records=records,
        true_persons=true_persons,
        found_persons=found_persons,
        pairwise_precision=round(precision, 4),
        pairwise_recall=round(recall, 4),
        pairwise_f1=round(f1, 4),
        bcubed_precision=round(bp / records, 4) if records else 1.0,
        bcubed_recall=round(br / records, 4) if records else 1.0,
        persons_split=split,
        persons_merged=merged,
        blocking_recall=round(blocking_recall(con), 4),
        special_pairs_total={t: n for t, n, _ in special},
        special_pairs_merged={t: m for t, _, m in special},
    )


def _run_model_options(con: duckdb.DuckDBPyConnection) -> ModelOptions:
    """The ``[model]`` table of the job that wrote this output (its last successful run), so
    blocking recall is measured on the rules that run used; defaults if there is none."""
    try:
        rows = con.execute(
            "SELECT job_toml FROM runs WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1"
        ).fetchall()
    except duckdb.Error:  # no runs table: an output written by hand or by a test
        return ModelOptions()
    if not rows or not rows[0][0]:
        return ModelOptions()
    try:
        table = tomllib.loads(rows[0][0]).get("model", {})
        return read_model_table(table, lambda key, message, hint=None: JobFileError(f"{key}: {message}"))
    except (tomllib.TOMLDecodeError, JobFileError):
        return ModelOptions()


def blocking_recall(con: duckdb.DuckDBPyConnection) -> float:
    """Share of true matching pairs that at least one blocking rule would compare.

    Evaluated with the blocking rules' own SQL (as Splink generates it for DuckDB) over the
    true pairs, so it measures exactly the rules the model predicts with.
    """
    spec = model_spec.build_spec(model_spec.profile(con), _run_model_options(con))
    conditions = " OR ".join(
        f"({rule.creator.get_blocking_rule('duckdb').blocking_rule_sql})"
        for rule in spec.blocking_rules
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE eval_blocking_input AS
        SELECT e.true_person_id, e.source, e.record_id, s.*
        FROM eval_records e
        JOIN (SELECT source AS __source, {model_spec.input_columns_sql(con)} FROM source_records) s
          ON s.__source = e.source AND s.unique_id = e.record_id
        """  # noqa: S608 - generated from famlink's own settings
    )
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE {conditions})
        FROM eval_blocking_input l JOIN eval_blocking_input r
          ON l.true_person_id = r.true_person_id AND (l.source, l.record_id) < (r.source, r.record_id)
        """  # noqa: S608 - generated from famlink's own settings
    ).fetchall()[0]
    total, blocked = row
    return blocked / total if total else 1.0
