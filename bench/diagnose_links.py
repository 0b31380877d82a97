"""Why a run's clusters are what they are: provisional cluster sizes, false links by blocking
rule, and links made by swapped names (the evidence behind docs/benchmarks.md's 1M section).

Usage::

    python bench/diagnose_links.py --db bench/out/A/1M/famlink/famlink.duckdb --truth bench/out/A/1M/data/_truth

Needs a run's ``record_links``, ``source_records`` and ``model.json`` (beside the database),
and the generator's truth. Read-only; works in an in-memory DuckDB limited to 3GB.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--threshold", type=float, default=None, help="default: the job's match_threshold (0.9)")
    args = parser.parse_args()

    import duckdb
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    thr = args.threshold if args.threshold is not None else 0.9
    model = json.loads((Path(args.db).parent / "model.json").read_text(encoding="utf-8"))
    swap_weights = [
        math.log2(lv["m_probability"] / lv["u_probability"])
        for c in model["comparisons"] if c["output_column_name"] in ("first_name", "surname")
        for lv in c["comparison_levels"]
        if "swapped" in (lv.get("label_for_charts") or "") and lv.get("m_probability") and lv.get("u_probability")
    ]
    print(f"lambda {model['probability_two_random_records_match']:.3g}; swapped-names levels and their "
          f"weights: {', '.join(f'{w:+.2f}' for w in swap_weights)} bits")

    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'")
    con.execute("SET temp_directory = ?", [tempfile.mkdtemp(prefix="diagnose-links-")])
    con.execute("ATTACH ? AS f (READ_ONLY)", [args.db])
    con.execute("CREATE TABLE nodes AS SELECT source || ':' || record_id AS node_id FROM f.source_records")
    con.execute(
        "CREATE TABLE edges AS SELECT source_l || ':' || record_id_l AS node_id_l, "
        "source_r || ':' || record_id_r AS node_id_r, match_probability "
        "FROM f.record_links WHERE match_probability >= ?", [thr])
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes="nodes", edges="edges", db_api=DuckDBAPI(con), node_id_column_name="node_id",
        edge_id_column_name_left="node_id_l", edge_id_column_name_right="node_id_r",
        threshold_match_probability=thr)
    n, largest, pairs = con.execute(
        f"SELECT count(*), max(n), sum(n * (n - 1) / 2)::BIGINT FROM "  # noqa: S608
        f"(SELECT count(*) AS n FROM {clusters.physical_name} GROUP BY cluster_id)").fetchall()[0]
    print(f"provisional clusters at {thr}: {n:,}; largest {largest:,} records; "
          f"record pairs inside clusters (what the cannot-link query enumerates) {pairs:,}")

    con.execute("CREATE TABLE t AS SELECT source, record_id, true_person_id FROM read_csv(?, all_varchar = true)",
                [f"{args.truth}/records.csv"])
    con.execute(
        """
        CREATE TABLE e AS
        SELECT l.match_weight, l.match_probability, l.match_key,
               tl.true_person_id = tr.true_person_id AS same,
               (a.first_name_canonical = b.surname_clean AND a.surname_clean = b.first_name_canonical) AS swapped
        FROM f.record_links l
        JOIN t tl ON tl.source = l.source_l AND tl.record_id = l.record_id_l
        JOIN t tr ON tr.source = l.source_r AND tr.record_id = l.record_id_r
        JOIN f.source_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
        JOIN f.source_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
        """)
    links, false = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT same) FROM e WHERE match_probability >= ?", [thr]).fetchall()[0]
    print(f"links >= {thr}: {links:,}; false (different true persons): {false:,} ({false / links:.1%})")
    print("\n| match_key (blocking rule, 0-based) | links | false |\n|---|---:|---:|")
    for key, total, bad in con.execute(
            "SELECT match_key, count(*), count(*) FILTER (WHERE NOT same) FROM e "
            "WHERE match_probability >= ? GROUP BY 1 ORDER BY 1", [thr]).fetchall():
        print(f"| {key} | {total:,} | {bad:,} |")
    if swap_weights:
        w, cut = swap_weights[0], math.log2(thr / (1 - thr))
        row = con.execute(
            f"""SELECT count(*) FILTER (WHERE match_probability >= ? AND NOT same),
                       count(*) FILTER (WHERE match_weight - {w} >= {cut} AND NOT same),
                       count(*) FILTER (WHERE match_probability >= ? AND same),
                       count(*) FILTER (WHERE match_weight - {w} >= {cut} AND same)
                FROM e WHERE swapped""", [thr, thr]).fetchall()[0]  # noqa: S608
        print(f"\nlinks with swapped names: false {row[0]:,} (if the swap counted once: {row[1]:,}); "
              f"true {row[2]:,} (if counted once: {row[3]:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
