"""How many *true* pairs each cannot-link rule forbids: its ceiling on recall.

Applies each built-in rule (famlink.linkage.cannot_link.RULES) to the TRUE persons of a
linked run — every pair of records of one true person — and reports, per rule, how many of
those pairs it forbids (count and share). A rule that forbids a true pair splits that person
whatever the model scores, so the share is recall the rule can never give back.

The records are a ``famlink link`` output folder (its ``famlink.duckdb`` holds
``source_records`` and ``relationships``, standardised as the rules see them) or a job file,
which is only ingested (no model, no linking: the ceiling does not depend on them). The truth is
either the ``_truth/`` folder ``famlink sample-data`` writes (``records.csv``: source,
record_id, true_person_id) or any CSV with a header ``source,record_id,true_entity`` (e.g.
FEBRL's truth, one row per record).

Usage:
    famlink sample-data --out data/ && famlink link data/job.toml --out out/ --no-models
    python bench/cannot_link_ceiling.py out/ --truth data/_truth
    python bench/cannot_link_ceiling.py --job febrl3.toml --truth-csv febrl3_truth.csv --json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from famlink.linkage.cannot_link import RULES, columns_of, forbidden_pairs_sql
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import load_job
from famlink.linkage.output import database_path


@dataclass(frozen=True)
class RuleCeiling:
    rule: str
    true_pairs_forbidden: int
    share: float  # of all true pairs


@dataclass(frozen=True)
class Ceiling:
    records: int
    true_persons: int
    true_pairs: int
    rules: list[RuleCeiling]
    any_rule: int  # true pairs forbidden by at least one rule

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_text(self) -> str:
        lines = [f"{self.records:,} records, {self.true_persons:,} true persons, "
                 f"{self.true_pairs:,} true pairs", "",
                 f"{'rule':<24}{'true pairs forbidden':>22}{'share':>9}"]
        for r in self.rules:
            lines.append(f"{r.rule:<24}{r.true_pairs_forbidden:>22,}{r.share:>9.3%}")
        share = self.any_rule / self.true_pairs if self.true_pairs else 0.0
        lines.append(f"{'any rule':<24}{self.any_rule:>22,}{share:>9.3%}")
        return "\n".join(lines)


def load_truth(con: duckdb.DuckDBPyConnection, *, truth_dir: Path | None, truth_csv: Path | None) -> None:
    """``truth_groups(person_id, source, record_id)``: the true person of each record the run
    used (records the run quarantined are not in ``source_records`` and are left out)."""
    if truth_dir is not None:
        path, entity = truth_dir / "records.csv", "true_person_id"
    elif truth_csv is not None:
        path, entity = truth_csv, "true_entity"
    else:
        raise ValueError("give the truth folder or a truth CSV")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE truth_groups AS
        SELECT DISTINCT t.{entity} AS person_id, t.source, t.record_id
        FROM read_csv(?, all_varchar = true, header = true) t
        JOIN source_records s ON s.source = t.source AND s.record_id = t.record_id
        """,  # noqa: S608 - a fixed column name
        [str(path)],
    )


def ceiling(con: duckdb.DuckDBPyConnection) -> Ceiling:
    """Each rule's forbidden true pairs, over ``truth_groups`` (see :func:`load_truth`)."""
    columns = columns_of(con)
    records, persons, pairs = con.execute(
        "SELECT count(*), count(DISTINCT person_id), "
        "(SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "
        " (SELECT count(*) AS n FROM truth_groups GROUP BY person_id)) FROM truth_groups"
    ).fetchall()[0]
    pairs_sql = forbidden_pairs_sql("truth_groups", columns, RULES)
    # each pair once, whichever way round a rule wrote it
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE forbidden AS SELECT DISTINCT rule,
            least(source_a || ':' || record_id_a, source_b || ':' || record_id_b) AS a,
            greatest(source_a || ':' || record_id_a, source_b || ':' || record_id_b) AS b
        FROM ({pairs_sql}) WHERE a <> b
    """)  # noqa: S608 - famlink's own SQL
    counts = dict(con.execute("SELECT rule, count(*) FROM forbidden GROUP BY rule").fetchall())
    any_rule = con.execute("SELECT count(*) FROM (SELECT DISTINCT a, b FROM forbidden)").fetchall()[0][0]
    pairs = int(pairs)
    return Ceiling(
        records=records,
        true_persons=persons,
        true_pairs=pairs,
        rules=[RuleCeiling(r.name, counts.get(r.name, 0), counts.get(r.name, 0) / pairs if pairs else 0.0)
               for r in RULES],
        any_rule=any_rule,
    )


def run(
    out_dir: Path | None = None, *, job: Path | None = None,
    truth_dir: Path | None = None, truth_csv: Path | None = None,
) -> Ceiling:
    """The ceiling of the records of ``out_dir`` (a linked run) or of ``job`` (ingested)."""
    con = duckdb.connect(":memory:")
    try:
        if job is not None:
            ingest(con, load_job(job))
        elif out_dir is not None:
            con.execute("ATTACH ? AS out (READ_ONLY)", [str(database_path(out_dir))])
            for table in ("source_records", "relationships"):
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM out.{table}")  # noqa: S608
        else:
            raise ValueError("give a run folder or a job file")
        load_truth(con, truth_dir=truth_dir, truth_csv=truth_csv)
        return ceiling(con)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    records = parser.add_mutually_exclusive_group(required=True)
    records.add_argument("out_dir", type=Path, nargs="?", help="a `famlink link` output folder")
    records.add_argument("--job", type=Path, help="a job file, only ingested (no linking)")
    truth = parser.add_mutually_exclusive_group(required=True)
    truth.add_argument("--truth", type=Path, help="the _truth/ folder of `famlink sample-data`")
    truth.add_argument("--truth-csv", type=Path, help="CSV with header source,record_id,true_entity")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = run(args.out_dir, job=args.job, truth_dir=args.truth, truth_csv=args.truth_csv)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.as_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
