"""Where famlink's cluster phase spends its time: each SQL statement of ``linkage.persons._cluster``
and ``_write_persons``, timed, on a copy of a finished run's database.

Usage::

    python bench/profile_cluster.py --db bench/out/1M/famlink/famlink.duckdb --job bench/out/1M/data/job.toml

Every call famlink makes on the connection is timed from its start to the next call (so a
statement's time includes fetching its rows and the Python work on them before the next
statement). Read-only for the given database: it works on a copy.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


class TimedConnection:
    """Wraps a DuckDB connection; records (label, seconds) per execute/executemany."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.log: list[list[Any]] = []
        self._open: list[Any] | None = None
        self._t = 0.0

    def _start(self, label: str) -> None:
        now = time.perf_counter()
        if self._open is not None:
            self._open[1] += now - self._t
        self._open = [label, 0.0]
        self.log.append(self._open)
        self._t = now

    def stop(self) -> None:
        self._start("(end)")

    def execute(self, sql: str, *args: Any) -> Any:
        self._start(_label(sql))
        return self.con.execute(sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        self._start(f"executemany x{len(rows)}: {_label(sql)}")
        return self.con.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def _label(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()[:90]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="famlink.duckdb of a finished `famlink link` run")
    parser.add_argument("--job", required=True, help="its job file (match_threshold)")
    args = parser.parse_args()

    import duckdb
    from splink import DuckDBAPI

    import famlink.linkage.persons as persons
    from famlink.linkage.clusters import split_conflicting_clusters
    from famlink.linkage.jobfile import load_job

    job = load_job(args.job)
    with tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        db = Path(tmp) / "famlink.duckdb"
        shutil.copyfile(args.db, db)
        con = duckdb.connect(str(db))
        timed = TimedConnection(con)
        persons.DuckDBAPI = lambda c: DuckDBAPI(c.con if isinstance(c, TimedConnection) else c)

        def timed_split(*a: Any, **kw: Any) -> Any:
            timed._start("python: split_conflicting_clusters")
            return split_conflicting_clusters(*a, **kw)

        persons.split_conflicting_clusters = timed_split
        # The same calls, in the same order, as link.link_records after predicting (this
        # follows linkage/persons.py as it is: optional arguments only when it takes them).
        kwargs: dict[str, Any] = {"match_threshold": job.linkage.match_threshold}
        params = inspect.signature(persons._cluster).parameters
        review = importlib.import_module("famlink.linkage.review") if "must_link_sql" in params else None
        if "cannot_link_sql" in params:
            kwargs["cannot_link_sql"] = getattr(review, "CANNOT_LINK_SQL", None)
        if "must_link_sql" in params:
            kwargs["must_link_sql"] = review.MUST_LINK_SQL
        stable_ids = getattr(persons, "stable_ids", None)
        if stable_ids is not None:
            stable_ids.snapshot_previous(timed)
        t0 = time.perf_counter()
        split = persons._cluster(timed, **kwargs)
        if stable_ids is not None:
            timed._start("python+sql: stable_ids.carry_forward")
            stable_ids.carry_forward(timed)
        t1 = time.perf_counter()
        persons._write_persons(timed)
        timed.stop()
        t2 = time.perf_counter()
        con.close()
    total = t2 - t0
    print(f"_cluster (+ carry_forward) {t1 - t0:.1f}s ({split} clusters split), "
          f"_write_persons {t2 - t1:.1f}s, total {total:.1f}s")
    print("| seconds | share | statement |")
    print("|---:|---:|---|")
    for label, seconds in sorted(timed.log, key=lambda x: -x[1]):
        if seconds >= 0.05:
            print(f"| {seconds:.2f} | {100 * seconds / total:.0f}% | `{label}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
