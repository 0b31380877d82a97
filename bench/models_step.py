"""Time the models stage alone: ``models.build_models`` on a copy of a linkage-only database.

``famlink link`` runs the same call in the same process right after linkage; run here in
its own process (on a copy of ``famlink link --no-models``'s output, made by ``run_bench.py``
before the timer starts) it gets its own wall time and its own peak RSS, and linkage is not
run twice. The arguments are the job file's, as ``linkage.pipeline`` passes them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from _common import PhaseMeter, write_json


def _mark_substeps(meter: PhaseMeter) -> None:
    """Wrap each of `build_models`' steps (``models.build.STEPS``) so that it becomes a
    phase ("models:<function>") and the peak RSS of each step is known."""
    from famlink.models import build

    def marked(func: Any) -> Any:
        name = func.__name__

        def wrapper(*a: Any, **kw: Any) -> Any:
            meter.mark(f"models:{name}")
            try:
                return func(*a, **kw)
            finally:
                meter.mark(f"models:after {name}")

        return wrapper

    build.STEPS = tuple((step, marked(func)) for step, func in build.STEPS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a copy of famlink.duckdb after `famlink link --no-models`")
    parser.add_argument("--job", required=True, help="the job file (reference date, family settings)")
    parser.add_argument("--result", required=True, help="JSON file for timings and per-phase RSS")
    parser.add_argument("--duckdb-set", action="append", default=[], metavar="NAME=VALUE",
                        help="DuckDB setting, e.g. memory_limit=3GB (repeatable)")
    args = parser.parse_args()

    meter = PhaseMeter()
    import duckdb

    from famlink.linkage.jobfile import load_job
    from famlink.models import build_models

    _mark_substeps(meter)

    job = load_job(args.job)
    con = duckdb.connect(args.db)
    for name, value in (kv.split("=", 1) for kv in args.duckdb_set):
        con.execute(f"SET {name} = ?", [value])
    # as `famlink link` runs this stage (famlink/pipeline.py): with the job's models share
    con.execute("SET memory_limit = ?", [job.linkage.models_memory_limit])
    meter.mark("models:setup")
    report = build_models(
        con,
        reference_date=job.reference_date,
        co_residence_window_months=job.family.co_residence_window_months,
        non_mobile_age_months=job.family.non_mobile_age_months,
    )
    meter.mark("checkpoint")
    con.execute("CHECKPOINT")
    con.close()
    result = {**meter.report(), "report": report.as_dict(), "duckdb_set": args.duckdb_set}
    result["models_seconds"] = round(sum(v for k, v in meter.seconds.items() if k.startswith("models")), 3)
    write_json(args.result, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
