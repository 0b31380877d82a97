"""Bare Splink 5 on famlink's standardised input: the reference ``famlink link`` is compared with.

``run``: what a user of plain Splink would do with famlink's model, nothing else:

1. *load* — open an in-memory DuckDB, attach famlink's output database read-only and make
   one table per source with famlink's own ``SELECT`` (``model_spec.splink_input_sql``
   over ``source_records``), then detach;
2. *register* — ``DuckDBAPI(con).register(table, dataset_display_name=source)`` per source
   and ``Linker(frames, spec.settings(link_type=...))`` (``model_spec.build_spec``);
3. *train* — ``splink_model.train(linker, spec.plan(seed=job seed))``: the same four
   Splink training calls famlink makes (λ from deterministic rules, u by random sampling,
   two EM passes, all with the plan's ``max_pairs``) and famlink's fill of unobserved m,
   then a ``Linker`` on the trained model, as famlink does;
4. *predict* — ``linker.inference.predict(threshold_match_probability=link_floor)``;
5. *cluster* — ``linker.clustering.cluster_pairwise_predictions_at_threshold(pred, match_threshold)``.

Then (untimed) the clusters go to ``clusters.parquet`` and the model to ``model.json``.

``score``: pairwise/B-cubed accuracy of those clusters with famlink's own scorer
(``linkage.evaluate.linkage_accuracy``), so famlink's F1 and bare Splink's are comparable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _common import PhaseMeter, apply_experiment, write_json


def run(args: argparse.Namespace) -> dict[str, Any]:
    meter = PhaseMeter()
    apply_experiment(args.experiment)
    import duckdb
    from splink import DuckDBAPI, Linker

    from famlink.linkage import model_spec, splink_model
    from famlink.linkage.jobfile import load_job
    from famlink.linkage.predict import SPLINK_LOG_LEVEL

    job = load_job(args.job)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    meter.mark("load")
    if args.database == "file":  # as famlink does: Splink's working tables go to a database file
        db_file = out / "bare.duckdb"
        db_file.unlink(missing_ok=True)
        con = duckdb.connect(str(db_file))
    else:
        con = duckdb.connect()
        # an in-memory database spills to ./.tmp by default; keep that out of the checkout
        con.execute("SET temp_directory = ?", [str(out / "duckdb.tmp")])
    for name, value in (kv.split("=", 1) for kv in args.duckdb_set):
        con.execute(f"SET {name} = ?", [value])
    home = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("ATTACH ? AS famlink (READ_ONLY)", [str(args.db)])
    con.execute("USE famlink")
    sources = [r[0] for r in con.execute(
        "SELECT DISTINCT source FROM source_records ORDER BY 1").fetchall()]
    # the model famlink builds for this data (model_spec), its input SELECT and settings
    spec = model_spec.build_spec(model_spec.profile(con), job.model)
    select = model_spec.splink_input_sql(con).replace("FROM source_records", "FROM famlink.source_records")
    con.execute(f'USE "{home}"')
    for source in sources:
        con.execute(f'CREATE TABLE "input_{source}" AS {select}', [source])
    con.execute("DETACH famlink")

    meter.mark("register")
    db_api = DuckDBAPI(con)
    frames = [db_api.register(f"input_{s}", dataset_display_name=s) for s in sources]
    link_type = "link_and_dedupe" if len(frames) > 1 else "dedupe_only"
    inputs = frames if len(frames) > 1 else frames[0]
    linker = Linker(inputs, spec.settings(link_type=link_type), SPLINK_LOG_LEVEL)

    meter.mark("train")
    trained = splink_model.train(linker, spec.plan(seed=job.seed))
    linker = Linker(inputs, trained, SPLINK_LOG_LEVEL)

    meter.mark("predict")
    predictions = linker.inference.predict(threshold_match_probability=job.linkage.link_floor)

    meter.mark("cluster")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, job.linkage.match_threshold
    )

    meter.mark("write_untimed")
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]  # noqa: S608
    literal = "'" + str(out / "clusters.parquet").replace("'", "''") + "'"
    columns = "source_dataset AS source, unique_id AS record_id, cluster_id AS person_id"
    copy_sql = f"COPY (SELECT {columns} FROM {clusters.physical_name}) TO {literal} (FORMAT parquet)"  # noqa: S608
    con.execute(copy_sql)
    records, persons = con.execute(
        f"SELECT count(*), count(DISTINCT cluster_id) FROM {clusters.physical_name}"  # noqa: S608
    ).fetchall()[0]
    links_kept = con.execute(
        f"SELECT count(*) FROM {predictions.physical_name} WHERE match_probability >= ?",  # noqa: S608
        [job.linkage.match_threshold],
    ).fetchall()[0][0]
    (out / "model.json").write_text(json.dumps(linker.misc.save_model_to_json(), indent=2), encoding="utf-8")
    settings = dict(con.execute(
        "SELECT name, value FROM duckdb_settings() "
        "WHERE name IN ('threads', 'memory_limit', 'temp_directory', 'preserve_insertion_order')"
    ).fetchall())
    con.close()
    report = meter.report()
    timed = ("load", "register", "train", "predict", "cluster")
    seconds = {p["phase"]: p["seconds"] for p in report["phases"]}
    return {
        **report,
        "timings": {p: seconds.get(p, 0.0) for p in timed},
        "linkage_seconds": round(sum(seconds.get(p, 0.0) for p in timed), 3),
        "records": records,
        "persons": persons,
        "pairs_scored": pairs,
        "links_kept": links_kept,
        "sources": sources,
        "database": args.database,
        "experiment": args.experiment,
        "duckdb_settings": settings,
    }


def score(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    from famlink.linkage.evaluate import linkage_accuracy

    con = duckdb.connect()
    con.execute("ATTACH ? AS famlink (READ_ONLY)", [str(args.db)])
    con.execute("CREATE TEMP TABLE source_records AS SELECT * FROM famlink.source_records")
    con.execute("CREATE TEMP TABLE person_records AS SELECT * FROM read_parquet(?)", [str(args.clusters)])
    return {"linkage": linkage_accuracy(con, Path(args.truth)).as_dict()}


def model_difference(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Largest |Δ| of m and u probabilities and of λ between two saved Splink models."""
    def levels(model: dict[str, Any]) -> dict[tuple[str, int], tuple[float | None, float | None]]:
        return {
            (c["output_column_name"], i): (lv.get("m_probability"), lv.get("u_probability"))
            for c in model["comparisons"]
            for i, lv in enumerate(c["comparison_levels"])
        }

    la, lb = levels(a), levels(b)
    dm = du = 0.0
    for key in la.keys() & lb.keys():
        (ma, ua), (mb, ub) = la[key], lb[key]
        if ma is not None and mb is not None:
            dm = max(dm, abs(ma - mb))
        if ua is not None and ub is not None:
            du = max(du, abs(ua - ub))
    return {
        "same_levels": la.keys() == lb.keys(),
        "max_abs_diff_m": dm,
        "max_abs_diff_u": du,
        "lambda": [a.get("probability_two_random_records_match"), b.get("probability_two_random_records_match")],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="train, predict and cluster with bare Splink")
    p_run.add_argument("--db", required=True, help="famlink.duckdb of a `famlink link` run")
    p_run.add_argument("--job", required=True, help="the job file (seed, link_floor, match_threshold)")
    p_run.add_argument("--out", required=True, help="folder for clusters.parquet and model.json")
    p_run.add_argument("--result", required=True, help="JSON file for timings and per-phase RSS")
    p_run.add_argument("--database", choices=("memory", "file"), default="memory",
                       help="Splink's DuckDB: in-memory (default, what a bare Splink user gets from "
                       "DuckDBAPI()) or a database file in --out (what famlink does)")
    p_run.add_argument("--experiment", default=None, help="bench-only model change (bench/_common.py)")
    p_run.add_argument("--duckdb-set", action="append", default=[], metavar="NAME=VALUE",
                       help="DuckDB setting, e.g. memory_limit=3GB or threads=1 (repeatable)")
    p_score = sub.add_parser("score", help="accuracy of bare Splink's clusters against the truth")
    p_score.add_argument("--db", required=True)
    p_score.add_argument("--clusters", required=True)
    p_score.add_argument("--truth", required=True)
    p_score.add_argument("--result", required=True)
    args = parser.parse_args()
    result = run(args) if args.command == "run" else score(args)
    write_json(args.result, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
