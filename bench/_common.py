"""Helpers shared by the benchmark's child scripts: a per-phase wall-time and RSS meter.

Each measured step of ``run_bench.py`` is its own process; the parent gets the process's
peak RSS from ``os.wait4``. Inside the process, :class:`PhaseMeter` says *which phase*
(ingest, train, predict, cluster …) the time and the memory went to: a daemon thread reads
``/proc/self/statm`` every ``interval`` seconds (DuckDB releases the GIL while it works, so
the thread keeps sampling during queries) and keeps the highest RSS seen per phase.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process now (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE


class PhaseMeter:
    """Wall seconds, CPU seconds (all threads) and sampled peak RSS per named phase."""

    def __init__(self, interval: float = 0.05) -> None:
        self._lock = threading.Lock()
        self._phase = "startup"
        self._t0 = time.perf_counter()
        self._phase_t0 = self._t0
        self._phase_cpu0 = time.process_time()
        self.cpu: dict[str, float] = {}
        self.order: list[str] = []
        self.seconds: dict[str, float] = {}
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._interval = interval
        # run_bench.py reads this file to say which phase a step was in if it had to kill it.
        self._progress = os.environ.get("BENCH_PROGRESS_FILE")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        rss = rss_bytes()
        with self._lock:
            phase = self._phase
            if rss > self.peaks.get(phase, 0):
                self.peaks[phase] = rss

    def mark(self, phase: str) -> None:
        """End the current phase and start ``phase`` (a repeated name accumulates)."""
        self._sample()
        now, cpu = time.perf_counter(), time.process_time()
        with self._lock:
            old = self._phase
            if old not in self.order:
                self.order.append(old)
            self.seconds[old] = self.seconds.get(old, 0.0) + now - self._phase_t0
            self.cpu[old] = self.cpu.get(old, 0.0) + cpu - self._phase_cpu0
            self._phase = phase
            self._phase_t0, self._phase_cpu0 = now, cpu
        self._sample()
        if self._progress:
            with self._lock:
                done = [{"phase": p, "seconds": round(self.seconds[p], 3), "peak_rss_bytes": self.peaks.get(p, 0)}
                        for p in self.order]
            write_json(self._progress, {"current_phase": phase, "done": done})

    def report(self) -> dict[str, Any]:
        self.mark("end")
        self._stop.set()
        self._thread.join()
        return {
            "phases": [
                {"phase": p, "seconds": round(self.seconds[p], 3), "cpu_seconds": round(self.cpu[p], 3),
                 "peak_rss_bytes": self.peaks.get(p, 0)}
                for p in self.order
            ],
            "process_seconds": round(time.perf_counter() - self._t0, 3),
            # ru_maxrss is in KiB on Linux
            "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


# Bench-only model experiments, applied inside a child process before famlink or bare Splink
# builds its settings (linkage/ itself is not changed). Each names the fix it measures.
EXPERIMENTS = {
    "single-swap": "count 'first name and surname swapped' once: drop that level from the surname "
                   "comparison (it is the same event as the first-name comparison's level, so the "
                   "model counts its evidence twice)",
}


def apply_experiment(name: str | None) -> None:
    if not name:
        return
    if name not in EXPERIMENTS:
        raise SystemExit(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    from linkage import splink_model

    if name == "single-swap":
        original = splink_model._name_comparison

        def name_comparison(column: str, *rest: Any, **kwargs: Any) -> Any:
            comparison = original(column, *rest, **kwargs)
            if column == "surname":
                comparison._comparison_levels = [
                    level for level in comparison._comparison_levels
                    if "swapped" not in str(getattr(level, "label_for_charts", "") or "").lower()
                ]
            return comparison

        splink_model._name_comparison = name_comparison
