"""Recall per phenomenon on the messy sample: which of real data's quirks cost famlink links.

For every true pair of records (same true person), the pair counts for each phenomenon either
record carries (``_truth/record_phenomena.csv``, and the person's ``name_phenomena.csv``
entries); the table gives, per phenomenon, the true pairs and the share famlink put in one
person. A benchmark aid, not a test.

    famlink sample-data --messy --families 300 --out /tmp/messy
    famlink link /tmp/messy/job.toml --out /tmp/messy-out --no-models
    python bench/messy_phenomena.py /tmp/messy-out /tmp/messy/_truth
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def phenomenon_recall(database: Path, truth: Path) -> list[tuple[str, int, int, float]]:
    """(phenomenon, true pairs touched, of them linked, recall), worst recall first."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute(
            "CREATE TEMP TABLE t AS SELECT source, record_id, true_person_id "
            "FROM read_csv(?, all_varchar = true)", [str(truth / "records.csv")])
        con.execute(
            "CREATE TEMP TABLE ph AS "
            "SELECT source, record_id, phenomenon FROM read_csv(?, all_varchar = true) "
            "UNION SELECT t.source, t.record_id, n.phenomenon "
            "FROM read_csv(?, all_varchar = true) n JOIN t USING (true_person_id)",
            [str(truth / "record_phenomena.csv"), str(truth / "name_phenomena.csv")])
        return con.execute(
            """
            WITH r AS (SELECT pr.source, pr.record_id, pr.person_id, t.true_person_id
                       FROM person_records pr JOIN t USING (source, record_id)),
                 pairs AS (SELECT a.source AS sa, a.record_id AS ra, b.source AS sb,
                                  b.record_id AS rb, a.person_id = b.person_id AS linked
                           FROM r a JOIN r b ON a.true_person_id = b.true_person_id
                            AND (a.source, a.record_id) < (b.source, b.record_id)),
                 tagged AS (SELECT DISTINCT p.*, ph.phenomenon FROM pairs p JOIN ph
                            ON (ph.source, ph.record_id) IN ((p.sa, p.ra), (p.sb, p.rb)))
            SELECT phenomenon, count(*), count(*) FILTER (WHERE linked),
                   round(avg(linked::INT), 4)
            FROM (SELECT * FROM tagged UNION ALL
                  SELECT *, '(all true pairs)' FROM pairs)
            GROUP BY 1 ORDER BY 4, 1
            """).fetchall()
    finally:
        con.close()


if __name__ == "__main__":
    out_dir, truth_dir = Path(sys.argv[1]), Path(sys.argv[2])
    print(f"{'phenomenon':42s} {'true pairs':>10s} {'linked':>7s} {'recall':>7s}")
    for name, n, linked, recall in phenomenon_recall(out_dir / "famlink.duckdb", truth_dir):
        print(f"{name:42s} {n:10d} {linked:7d} {recall:7.4f}")
