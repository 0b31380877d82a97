"""Run ``famlink link`` exactly as the CLI does, recording time and peak RSS per stage.

Usage (what ``run_bench.py`` runs as a child process)::

    python bench/famlink_step.py --result R.json -- link JOB --out OUT --no-models

Everything after ``--`` is passed to famlink's own click entry point (``famlink.cli.main``),
so the code path is the ``famlink`` command's. The only additions are thin wrappers around
the pipeline's stage functions (``ingest``, ``link_records``, ``splink_model.train``,
``persons._cluster``, ``spark_engine.build_models_on``) that mark phase boundaries for the RSS meter and
keep the ``RunSummary``, whose timings (``ingest``/``link``/``models`` and linkage's own
``train``/``predict``/``cluster``) go into the result file. They add no measurable work.

With ``--spark`` (for ``link … --backend spark``) the phases are Spark's: ``ingest`` (read
by DuckDB, standardised on Spark), ``export``, ``spark_start``, ``train``, ``predict``,
``cluster_components`` and ``cluster`` (both on Spark) and ``models``; the meter also sums the RSS of this process's
descendants (the JVM), and at the end the JVM is waited for (phase ``jvm_exit``) so that its
exact peak RSS is in this process's ``RUSAGE_CHILDREN`` (see ``_common.py``).
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
from typing import Any

from _common import PhaseMeter, apply_experiment, write_json

METER = PhaseMeter()


def _wrap(module: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            METER.mark(before)
        result = original(*args, **kwargs)
        if after:
            METER.mark(after)
        return result

    setattr(module, name, wrapper)


def _wrap_linkage_session(spark_session: Any) -> None:
    original = spark_session.build_session

    @functools.wraps(original)
    def build_session(*args: Any, **kwargs: Any) -> Any:
        in_linkage = METER._phase == "export"  # noqa: SLF001 - this script's own meter
        if in_linkage:
            METER.mark("spark_start")
        session = original(*args, **kwargs)
        if in_linkage:
            METER.mark("train")
        return session

    spark_session.build_session = build_session


class _DuckdbWithSettings:
    """Stands in for the ``duckdb`` module inside ``linkage.pipeline`` only: ``connect`` applies
    the given settings, everything else is duckdb's own."""

    def __init__(self, settings: list[tuple[str, ...]]) -> None:
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        import duckdb

        return getattr(duckdb, name)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        import duckdb

        con = duckdb.connect(*args, **kwargs)
        for name, value in self._settings:
            con.execute(f"SET {name} = ?", [value])
        return con


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", required=True, help="JSON file for timings and per-phase RSS")
    parser.add_argument("--duckdb-set", action="append", default=[], metavar="NAME=VALUE",
                        help="experiment: SET this on famlink's output-database connection right "
                        "after it is opened (e.g. memory_limit=3GB, threads=1); repeatable")
    parser.add_argument("--experiment", default=None, help="bench-only model change (bench/_common.py)")
    parser.add_argument("--spark", action="store_true",
                        help="a --backend spark run: mark Spark's phases and meter the JVM too")
    parser.add_argument("famlink_args", nargs=argparse.REMAINDER, help="-- then famlink's arguments")
    args = parser.parse_args()
    famlink_args = [a for a in args.famlink_args if a != "--"] if args.famlink_args[:1] == ["--"] else args.famlink_args

    apply_experiment(args.experiment)
    import famlink.linkage.backend as backend
    import famlink.linkage.persons as persons
    import famlink.linkage.splink_model as splink_model
    import famlink.pipeline as pipeline
    from famlink.cli import main as famlink_main

    # Phase names: "train" includes registering the inputs (build_linker) and the rebuild
    # of the trained linker; "predict" includes writing record_links; "cluster" includes the
    # cannot-link splits and writing person_records/persons.
    _wrap(backend, "ingest", "ingest", "between")
    if args.spark:
        import famlink.linkage.spark.ingest as spark_ingest
        import famlink.linkage.spark.session as spark_session
        import famlink.linkage.spark.training as spark_training

        _wrap(spark_ingest, "ingest_on_spark", "ingest", "between")

        METER.watch_descendants()
        # "cluster_components" is Splink's connected components on Spark; "cluster" is the
        # rest of the clustering on Spark, loading its tables into DuckDB and stopping the
        # Spark session.
        _wrap(pipeline, "link_records", "export", "finish")
        # Ingest and the models stage start Spark sessions of their own: only linkage's
        # (started in its "export" phase) is its own phase, the others stay in theirs.
        _wrap_linkage_session(spark_session)
        _wrap(spark_training, "spark_components", "cluster_components", None)
    else:
        _wrap(pipeline, "link_records", "train", "finish")
    _wrap(splink_model, "train", None, "predict")
    _wrap(persons, "_cluster", "cluster", None)
    try:
        import famlink.models.spark_engine as spark_engine

        _wrap(spark_engine, "build_models_on", "models", "finish")  # either engine's models stage
    except ImportError:
        pass

    if args.duckdb_set:
        pipeline.duckdb = _DuckdbWithSettings([tuple(kv.split("=", 1)) for kv in args.duckdb_set])

    captured: dict[str, Any] = {}
    run_link = pipeline.run_link

    @functools.wraps(run_link)
    def capturing_run_link(*a: Any, **kw: Any) -> Any:
        summary = run_link(*a, **kw)
        captured["summary"] = summary
        return summary

    pipeline.run_link = capturing_run_link
    METER.mark("cli")
    famlink_main.main(args=famlink_args, prog_name="famlink", standalone_mode=False)
    METER.mark("exit")
    jvm = None
    if args.spark:
        METER.mark("jvm_exit")
        jvm = _reap_jvm()

    summary = captured.get("summary")
    result: dict[str, Any] = {
        "argv": ["famlink", *famlink_args], "duckdb_set": args.duckdb_set,
        "experiment": args.experiment, **METER.report()}
    if jvm is not None:
        result["jvm"] = jvm
    if summary is not None:
        result.update(
            timings={k: round(v, 3) for k, v in summary.timings.items()},
            link_timings={k: round(v, 3) for k, v in summary.link.timings.items()},
            records=summary.link.records,
            persons=summary.link.persons,
            pairs_scored=summary.link.pairs_scored,
            links_kept=summary.link.links_kept,
            clusters_split=summary.link.clusters_split,
            models=summary.models.as_dict() if hasattr(summary.models, "as_dict") else None,
        )
    write_json(args.result, result)
    return 0


def _reap_jvm() -> dict[str, Any]:
    """Wait for pyspark's JVM to exit. pyspark never does: the JVM leaves when our end of
    its stdin closes, i.e. when this process exits, and is then nobody's child to account
    for. Closing stdin here ends it the same way, a little earlier, and makes it our reaped
    child: RUSAGE_CHILDREN (and run_bench's wait4) then hold its exact peak RSS."""
    try:
        from pyspark import SparkContext
    except ImportError:
        return {"reaped": False, "why": "pyspark not importable"}
    proc = getattr(SparkContext._gateway, "proc", None)  # noqa: SLF001 - pyspark keeps it there
    if proc is None:
        # famlink ends the JVM it started (famlink.linkage.spark.session._stop_jvm) and waits for
        # it, so RUSAGE_CHILDREN already holds its peak
        return {"reaped": True, "by": "famlink", "seconds": 0.0}
    t0 = time.perf_counter()
    if proc.stdin:
        proc.stdin.close()
    try:
        returncode = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        returncode = proc.wait()
    return {"reaped": True, "pid": proc.pid, "returncode": returncode,
            "seconds": round(time.perf_counter() - t0, 3)}


if __name__ == "__main__":
    sys.exit(main())
