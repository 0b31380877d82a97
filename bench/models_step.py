"""Time the models stage alone: ``models.build_models`` on a copy of a linkage-only database.

``famlink link`` runs the same call in the same process right after linkage; run here in
its own process (on a copy of ``famlink link --no-models``'s output, made by ``run_bench.py``
before the timer starts) it gets its own wall time and its own peak RSS, and linkage is not
run twice. The arguments are the job file's, as ``linkage.pipeline`` passes them.
"""

from __future__ import annotations

import argparse
import sys

from _common import PhaseMeter, write_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a copy of famlink.duckdb after `famlink link --no-models`")
    parser.add_argument("--job", required=True, help="the job file (reference date, family settings)")
    parser.add_argument("--result", required=True, help="JSON file for timings and per-phase RSS")
    args = parser.parse_args()

    meter = PhaseMeter()
    import duckdb

    from linkage.jobfile import load_job
    from models import build_models

    job = load_job(args.job)
    con = duckdb.connect(args.db)
    meter.mark("models")
    report = build_models(
        con,
        reference_date=job.reference_date,
        co_residence_window_months=job.family.co_residence_window_months,
        non_mobile_age_months=job.family.non_mobile_age_months,
    )
    meter.mark("checkpoint")
    con.execute("CHECKPOINT")
    con.close()
    seconds_in_models = {p: s for p, s in meter.seconds.items()}
    result = {**meter.report(), "report": report.as_dict(), "models_seconds": round(seconds_in_models["models"], 3)}
    write_json(args.result, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
