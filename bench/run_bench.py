"""famlink vs bare Splink benchmark: wall time per stage, peak memory, F1, at several sizes.

For each size (the committed ``sample_data/`` first, as the F1 baseline, then each
``--sizes`` value in people records, generated at 20 records per family) it runs, each as
its own child process so that ``os.wait4`` gives that step's own peak RSS (``ru_maxrss``):

``generate``  ``famlink sample-data --families N/20 --seed S --out WORK/N/data``
``famlink``   ``famlink link JOB --out WORK/N/famlink --no-models`` (via ``bench/famlink_step.py``,
              famlink's own CLI entry point plus per-stage timing/RSS marks)
``models``    ``models.build_models`` on a copy of that database (``bench/models_step.py``)
``bare``      bare Splink, same input/settings/training/thresholds (``bench/bare_splink.py run``)
``views``     ``famlink view WORK/N/models --flagged`` (index + one view per flagged child; timed,
              counted, then deleted); with ``famlink`` and ``models``, the end-to-end figure
``evaluate``  ``famlink evaluate DIR --truth DATA/_truth --format json`` (+ bare Splink's clusters
              scored with the same code: ``bench/bare_splink.py score``)
``spark``     optional (``--spark``, or name it in ``--stages``): ``famlink link JOB --out WORK/N/spark
              --backend spark`` (with ``--no-models`` unless ``models`` is a stage) via
              ``bench/famlink_step.py --spark`` (Spark's phases: ingest, export, spark_start, train,
              predict, cluster_components, cluster, models), in each repeat after famlink and bare
              Splink, against DuckDB's famlink + models; with ``evaluate`` its persons are scored too. Its
              memory is the process tree's: the python process plus the JVM pyspark starts, which
              ``wait4`` of the python process does not see (see ``bench/_common.py``)

and writes ``WORK/results.json`` and ``WORK/results.md`` (the markdown tables, also printed).

Example::

    /work/venv/bin/python bench/run_bench.py --sizes 100000 1000000
    /work/venv/bin/python bench/run_bench.py --sizes 100000 --repeat 3 --work /tmp/bench
    /work/venv/bin/python bench/run_bench.py --sizes 100000 1000000 --no-models --spark
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EXPERIMENTS  # noqa: E402
from _one_size import bench_size  # noqa: E402
from _provenance import freeze, machine_facts, models_available  # noqa: E402
from _report import markdown  # noqa: E402
from _steps import BENCH, GB, MB, PYTHON, log, read_json  # noqa: E402
from _summary import summarise  # noqa: E402

STAGES = ("generate", "famlink", "models", "views", "bare", "evaluate", "spark")
# Spark is opt-in: a JVM beside DuckDB on a 2-core machine, and minutes of start-up per size.
DEFAULT_STAGES = tuple(s for s in STAGES if s != "spark")
SAMPLE_SEED = 20261126


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="people records in total, generated at 20 per family (default: 100000 1000000)")
    parser.add_argument("--work", type=Path, default=BENCH / "out", help="working folder (default: bench/out, git-ignored)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(DEFAULT_STAGES),
                        help="steps to run (default: all but spark); 'famlink' is needed by models/bare/evaluate")
    parser.add_argument("--spark", action="store_true",
                        help="also run the spark stage: famlink link --backend spark, timed and "
                        "scored like famlink, memory of python + JVM")
    parser.add_argument("--no-sample", action="store_true", help="skip the committed sample_data/ baseline")
    parser.add_argument("--no-models", action="store_true", help="skip the models stage")
    parser.add_argument("--reuse-data", action="store_true", help="keep already generated data of the same size")
    parser.add_argument("--repeat", type=int, default=1, help="run famlink and bare Splink alternately this many times")
    parser.add_argument("--max-rss", type=_bytes, default=_bytes("12GB"),
                        help="kill a step whose RSS goes above this (the machine is shared; "
                        "default 12GB, 0 = no cap); the step is reported as killed, with its phase")
    parser.add_argument("--duckdb-set", action="append", default=[], metavar="NAME=VALUE",
                        help="DuckDB setting for famlink's, the models step's and bare Splink's "
                        "connections alike (e.g. memory_limit=3GB, threads=2); repeatable")
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default=None,
                        help="bench-only model change applied to famlink and bare Splink alike "
                        "(see bench/_common.py EXPERIMENTS); linkage/ is not edited")
    parser.add_argument("--freeze", action="store_true",
                        help="copy linkage/, models/, visualise/, sample_data/ to WORK/src first and run "
                        "every step on that copy (PYTHONPATH), so edits made during a long run do not "
                        "mix versions; the git diff at copy time is saved beside it")
    parser.add_argument("--spark-driver-memory", default=None, metavar="SIZE",
                        help="[spark] driver_memory for the spark stage's job, e.g. 8g (default: Spark's)")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="generator seed (default: the sample's)")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only print the tables of an earlier run's results.json")
    args = parser.parse_args()
    if args.spark and "spark" not in args.stages:
        args.stages.append("spark")
    if args.render:
        earlier = read_json(args.render)
        for r in earlier["results"]:
            r["summary"] = summarise(r)
        print(markdown(earlier["results"]))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    frozen = freeze(args.work) if args.freeze else None
    with_models = not args.no_models and models_available()
    if not args.no_models and not with_models:
        log("models.build_models not available: the models stage is skipped (famlink runs with --no-models)")

    run: dict[str, Any] = {
        "command": " ".join([Path(PYTHON).as_posix(), *sys.argv]),
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "with_models": with_models,
        "frozen_source": frozen,
        "experiment": args.experiment,
        "duckdb_set": args.duckdb_set,
        "results": [],
    }
    plan: list[tuple[str, int | None]] = [] if args.no_sample else [("sample", None)]
    plan += [(_label(n), n) for n in args.sizes]
    results_path = args.work / "results.json"
    try:
        for label, size in plan:
            run["results"].append(bench_size(label, size, args, with_models))
            results_path.write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    finally:
        run["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        run["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        results_path.write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    md = markdown(run["results"])
    (args.work / "results.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    log(f"wrote {results_path} and {args.work / 'results.md'}")
    return 0


def _bytes(text: str) -> int:
    units = {"GB": GB, "MB": MB, "": 1}
    for unit, factor in units.items():
        if text.upper().endswith(unit):
            return int(float(text[: len(text) - len(unit)] or 0) * factor)
    raise argparse.ArgumentTypeError(f"not a size: {text}")


def _label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


if __name__ == "__main__":
    sys.exit(main())
