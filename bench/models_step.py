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

# build_models' steps, by the module attribute it calls them through: each becomes a phase
# ("models:<function>") so the peak RSS of each step is known.
SUBSTEPS = {
    "models.edges": ("build_record_probability", "build_recorded_edges", "build_derived_siblings",
                     "write_relationships_resolved"),
    "models.residences": ("build_residences", "build_co_residence"),
    "models.build": ("build_families",),
    "models.flags": ("build_people", "build_adults_around", "build_flags"),
    "models.chronology": ("build_chronology",),
}


def _mark_substeps(meter: PhaseMeter) -> None:
    import functools
    import importlib

    for module_name, names in SUBSTEPS.items():
        module = importlib.import_module(module_name)
        for name in names:
            original = getattr(module, name, None)
            if original is None:
                continue

            def wrapper(*a: Any, __f: Any = original, __n: str = name, **kw: Any) -> Any:
                meter.mark(f"models:{__n}")
                try:
                    return __f(*a, **kw)
                finally:
                    meter.mark(f"models:after {__n}")

            setattr(module, name, functools.wraps(original)(wrapper))


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

    from linkage.jobfile import load_job
    from models import build_models

    _mark_substeps(meter)

    job = load_job(args.job)
    con = duckdb.connect(args.db)
    for name, value in (kv.split("=", 1) for kv in args.duckdb_set):
        con.execute(f"SET {name} = ?", [value])
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
