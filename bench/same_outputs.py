"""Are two famlink versions' outputs the same? Export every table of a run and compare.

A refactor must not change what users get. This script links the sample (or any job) with
whichever ``famlink`` is on the PATH, exports every table of the output database with
``famlink export`` (sorted, so byte-identical tables give byte-identical files) and records
each file's SHA-256 in a manifest; ``--compare`` then says which tables differ.

What records *when*, *how long* and *with what* a run happened differs on every run by
design and is left out: the ``runs`` table, and ``models_run``'s build time and timings.

Usage, to check a change against ``main``::

    # with main's famlink installed
    python bench/same_outputs.py run sample_data/job.toml --work /tmp/before
    # with the change's famlink installed
    python bench/same_outputs.py run sample_data/job.toml --work /tmp/after
    python bench/same_outputs.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb

MANIFEST = "tables.json"
# Tables whose rows say when, how long and with which versions a run happened.
VOLATILE_TABLES = {"runs"}
# Columns (and keys of JSON columns) that say when and how long, in otherwise stable tables.
VOLATILE_COLUMNS = {"models_run": {"built_at"}}
VOLATILE_JSON_KEYS = {"models_run": {"report": {"seconds", "timings"}}}


def stable_text(table: str, path: Path) -> bytes:
    """The exported file's bytes, less the columns and JSON keys that record time."""
    drop = VOLATILE_COLUMNS.get(table, set())
    json_keys = VOLATILE_JSON_KEYS.get(table, {})
    if not drop and not json_keys:
        return path.read_bytes()
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = []
    for row in rows:
        for column, keys in json_keys.items():
            value = json.loads(row[column])
            row[column] = json.dumps({k: v for k, v in value.items() if k not in keys},
                                     sort_keys=True)
        kept.append({k: v for k, v in row.items() if k not in drop})
    return json.dumps(kept, sort_keys=True).encode()


def export_tables(out_dir: Path, dest: Path) -> dict[str, str]:
    """Export every table in OUT_DIR with ``famlink export``; return table -> SHA-256."""
    con = duckdb.connect(str(out_dir / "famlink.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY 1").fetchall()]
    finally:
        con.close()
    dest.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    for table in tables:
        if table in VOLATILE_TABLES:
            continue
        target = dest / f"{table}.csv"
        subprocess.run(["famlink", "export", str(out_dir), table, "--format", "csv",
                        "--out", str(target)], check=True, capture_output=True)
        digests[table] = hashlib.sha256(stable_text(table, target)).hexdigest()
    return digests


def run(job: Path, work: Path, *, extra: list[str]) -> dict[str, str]:
    """Link JOB into WORK/out and export its tables to WORK/tables (manifest beside them)."""
    out_dir = work / "out"
    subprocess.run(["famlink", "link", str(job), "--out", str(out_dir), *extra], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    digests = export_tables(out_dir, work / "tables")
    (work / MANIFEST).write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
    return digests


def compare(before: Path, after: Path) -> list[str]:
    """Lines naming each table that differs, is missing or is new; empty if all the same."""
    old = json.loads((before / MANIFEST).read_text())
    new = json.loads((after / MANIFEST).read_text())
    problems = [f"missing after: {t}" for t in sorted(old.keys() - new.keys())]
    problems += [f"new after: {t}" for t in sorted(new.keys() - old.keys())]
    problems += [f"differs: {t}" for t in sorted(old.keys() & new.keys()) if old[t] != new[t]]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="link a job and export its tables")
    p_run.add_argument("job", type=Path)
    p_run.add_argument("--work", type=Path, required=True, help="folder for the run and exports")
    p_run.add_argument("--model", type=Path, help="a saved model.json (skips training)")
    p_cmp = sub.add_parser("compare", help="compare two `run` folders")
    p_cmp.add_argument("before", type=Path)
    p_cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        digests = run(args.job, args.work, extra=["--model", str(args.model)] if args.model else [])
        print(f"{len(digests)} tables exported to {args.work / 'tables'}")
        return 0
    problems = compare(args.before, args.after)
    for line in problems:
        print(line)
    print("all tables identical" if not problems else f"{len(problems)} tables differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
