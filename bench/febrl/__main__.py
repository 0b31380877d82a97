"""``python -m bench.febrl export DIR`` / ``run DIR``: see bench/febrl/__init__.py."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .export import FAMILY_RULES_ON, export, exported
from .score import read_truth, score
from .sets import SETS, FebrlSet
from .systems import run_ecm, run_famlink, run_splink

SYSTEMS = {"famlink": "famlink", "splink": "bare Splink (textbook model)", "ecm": "recordlinkage ECM"}
#: result rows: a system, or bare Splink's clusters at one threshold
ROWS = {"famlink": "famlink (the set's job: no family rules)",
        "famlink [job-family-rules-on]": "famlink, twins and generation rules on (famlink's defaults)", "splink@0.9": "bare Splink, textbook model, clusters at 0.9",
        "splink@0.99": "bare Splink, textbook model, clusters at 0.99", "ecm": "recordlinkage ECM"}
ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.febrl", description=__doc__,
                                     epilog="Example: python -m bench.febrl run bench/out/febrl")
    commands = parser.add_subparsers(dest="command", required=True)
    ex = commands.add_parser("export", help="write the FEBRL CSVs, job files and truth to DIR/<set>/",
                             epilog="Example: python -m bench.febrl export bench/out/febrl")
    ex.add_argument("dir", type=Path)
    ex.add_argument("--sets", nargs="+", choices=sorted(SETS), default=sorted(SETS),
                    help="data sets (default: febrl3 febrl4)")
    run = commands.add_parser(
        "run", help="export if needed, then run and score the systems side by side",
        epilog="Example: python -m bench.febrl run bench/out/febrl --sets febrl4 --systems famlink ecm")
    run.add_argument("dir", type=Path)
    run.add_argument("--sets", nargs="+", choices=sorted(SETS), default=sorted(SETS),
                     help="data sets (default: febrl3 febrl4)")
    run.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS),
                     help="systems (default: famlink splink ecm)")
    run.add_argument("--famlink-job", action="append", default=[], metavar="SET=JOB",
                     help="run famlink on this job file instead of DIR/SET/job.toml (e.g. a "
                     "workaround job for an older famlink), reported as 'famlink [JOB's name]'; "
                     "repeatable, also for one set")
    args = parser.parse_args(argv)

    if args.command == "export":
        for name in args.sets:
            print(f"wrote {export(SETS[name], args.dir)}", file=sys.stderr)
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    jobs: dict[str, list[Path]] = {}
    for item in args.famlink_job:
        name, _, path = item.partition("=")
        if name not in SETS or not path:
            raise SystemExit(f"--famlink-job {item!r}: expected SET=JOB with SET one of {', '.join(sorted(SETS))}")
        jobs.setdefault(name, []).append(Path(path))
    work = args.dir / "runs"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"started_utc": _now(), "machine": _machine(),
                               "loadavg_start": [round(x, 2) for x in os.getloadavg()], "sets": {}}
    for name in args.sets:
        febrl = SETS[name]
        folder = args.dir / name
        if not exported(folder, febrl):
            export(febrl, args.dir)
        truth = read_truth(str(folder / "_truth" / "records.csv"))
        results["sets"][name] = {"description": febrl.description, "systems": {}}
        for system in args.systems:
            print(f"{name}: {SYSTEMS[system]} …", file=sys.stderr)
            if system == "famlink":
                # the set's job, and the same job with famlink's default family rules on
                for job in jobs.get(name, [None, folder / FAMILY_RULES_ON]):  # type: ignore[list-item]
                    row = f"famlink [{job.stem}]" if job else "famlink"
                    _record(results["sets"][name]["systems"], row,
                            run_famlink(folder, febrl, work, job), febrl, truth)
                continue
            if system == "splink":
                outcome = run_splink(folder, febrl)
            else:
                outcome = run_ecm(folder, febrl)
            by_threshold = outcome.pop("clusters_by_threshold", None)
            rows = ({f"{system}@{t}": {**outcome, "cluster_threshold": t, "clusters": c}
                     for t, c in by_threshold.items()} if by_threshold else {system: outcome})
            for row, result in rows.items():
                _record(results["sets"][name]["systems"], row, result, febrl, truth)
    results["finished_utc"] = _now()
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    (args.dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = markdown(results)
    (args.dir / "results.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


def _record(rows: dict[str, Any], row: str, result: dict[str, Any], febrl: FebrlSet,
            truth: pd.DataFrame) -> None:
    """Score ``result``'s clusters (if it has any) and keep it as ``rows[row]``."""
    clusters = result.pop("clusters", None)
    if clusters is not None and len(febrl.files) == 1:
        # one file: record ids are unique, and a --famlink-job workaround may have split
        # the file into several sources
        clusters["source"] = next(iter(febrl.files))
    if clusters is not None:
        result.update(score(clusters, truth))
    rows[row] = result
    print(f"  {row}: {json.dumps(result)}", file=sys.stderr)


def markdown(results: dict[str, Any]) -> str:
    """One table: a row per set and system."""
    lines = [
        "| data | system | pairwise P | pairwise R | **pairwise F1** | exact-cluster P | exact-cluster R "
        "| **cluster F1** | clusters / true | seconds |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, data in results["sets"].items():
        for system, r in data["systems"].items():
            label = ROWS.get(system, system)
            if r.get("failed"):
                error = r["error"].replace("|", "\\|")
                lines.append(f"| {name} | {label} | failed: {error} | | | | | | | {r['seconds']} |")
                continue
            lines.append(
                f"| {name} | {label} | {r['pairwise_precision']:.4f} | {r['pairwise_recall']:.4f} "
                f"| **{r['pairwise_f1']:.4f}** | {r['cluster_precision']:.4f} | {r['cluster_recall']:.4f} "
                f"| **{r['cluster_f1']:.4f}** | {r['found_clusters']:,} / {r['true_persons']:,} "
                f"| {r['seconds']} |")
    return "\n".join(lines)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _machine() -> dict[str, Any]:
    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), None) if Path("/proc/cpuinfo").exists() else None
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S603,S607
                            text=True, check=False).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "git_commit": commit,
            "versions": {p: version(p) for p in ("famlink", "splink", "duckdb", "recordlinkage", "pandas")}}


if __name__ == "__main__":
    sys.exit(main())
