"""Helpers shared by the benchmark's child scripts: a per-phase wall-time and RSS meter.

Each measured step of ``run_bench.py`` is its own process; the parent gets the process's
peak RSS from ``os.wait4``. Inside the process, :class:`PhaseMeter` says *which phase*
(ingest, train, predict, cluster …) the time and the memory went to: a daemon thread reads
``/proc/self/statm`` every ``interval`` seconds (DuckDB releases the GIL while it works, so
the thread keeps sampling during queries) and keeps the highest RSS seen per phase.

With :meth:`PhaseMeter.watch_descendants` it also sums the RSS of every process below this
one (the Spark backend's JVM, which pyspark starts as a child via spark-submit): the
parent's ``os.wait4`` does not see that memory, because pyspark never waits for the JVM, so
it is never reaped by this process (it dies after us, an orphan), and ``ru_maxrss`` of a
reaped child would be the *larger* of the two peaks, not their sum.
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


def rss_of(pid: int) -> int:
    """Resident set size of process ``pid`` now; 0 if it has gone."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def descendants(root: int) -> dict[int, str]:
    """Every process below ``root`` whose memory is its own: pid -> command name. From each
    /proc/PID/stat's parent pid (this kernel has no /proc/PID/task/TID/children); a scan of
    /proc takes ~1 ms.

    Left out: a child with its parent's command name and virtual size, i.e. a vfork (or a
    fork not yet diverged). The JVM starts every helper (chmod, bash …) with posix_spawn,
    whose child shares the JVM's memory until it execs, and /proc shows that child with the
    JVM's whole RSS: summed, the JVM would count twice (seen: 3.2 GB for a 1.8 GB tree). PSS
    (/proc/PID/smaps_rollup) would not double-count but takes ~30 ms per GB of the JVM.
    """
    procs: dict[int, tuple[int, str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            procs[int(entry.name)] = (int(fields[1]), stat[stat.index("(") + 1: stat.rindex(")")], int(fields[20]))
        except (OSError, IndexError, ValueError):
            continue
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        parent = todo.pop()
        for pid in children.get(parent, []):
            _, comm, vsize = procs[pid]
            if parent not in procs or procs[parent][1:] != (comm, vsize):
                found[pid] = comm
            todo.append(pid)
    return found


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
        # watch_descendants(): per phase, the peak of the descendants' summed RSS ("kids"),
        # of ours plus theirs at the same sample ("tree") and of each command's sum (a Spark
        # run has "java" and also Spark's own "python3" workers, children of the JVM)
        self._tree = False
        self._kids: dict[int, str] = {}
        self._kids_at = 0.0
        self.commands: set[str] = set()
        self.kid_peaks: dict[str, int] = {}
        self.tree_peaks: dict[str, int] = {}
        self.command_peaks: dict[str, dict[str, int]] = {}
        self._stop = threading.Event()
        self._interval = interval
        # run_bench.py reads this file to say which phase a step was in if it had to kill it.
        self._progress = os.environ.get("BENCH_PROGRESS_FILE")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def watch_descendants(self) -> None:
        """Also meter the processes below this one (a Spark run's JVM) from now on."""
        self._tree = True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self, rescan: bool = False) -> None:
        rss = rss_bytes()
        kids = self._descendants_rss(rescan) if self._tree else {}
        total = sum(kids.values())
        with self._lock:
            phase = self._phase
            if rss > self.peaks.get(phase, 0):
                self.peaks[phase] = rss
            if self._tree:
                self.kid_peaks[phase] = max(self.kid_peaks.get(phase, 0), total)
                self.tree_peaks[phase] = max(self.tree_peaks.get(phase, 0), rss + total)
                by_command = self.command_peaks.setdefault(phase, {})
                for command, value in kids.items():
                    by_command[command] = max(by_command.get(command, 0), value)

    def _descendants_rss(self, rescan: bool) -> dict[str, int]:
        """RSS of the descendants now, summed per command name."""
        # The JVM starts once and lives to the end: scanning /proc for it twice a second
        # (and at every phase mark) finds it without a scan every 50 ms on a 2-core machine.
        now = time.perf_counter()
        if rescan or now - self._kids_at > 0.5:
            kids = descendants(os.getpid())
            with self._lock:
                self._kids, self._kids_at = kids, now
                self.commands.update(kids.values())
        by_command: dict[str, int] = {}
        for pid, command in self._kids.items():
            by_command[command] = by_command.get(command, 0) + rss_of(pid)
        return by_command

    def mark(self, phase: str) -> None:
        """End the current phase and start ``phase`` (a repeated name accumulates)."""
        self._sample(rescan=True)
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
                done = [{"phase": p, "seconds": round(self.seconds[p], 3), "peak_rss_bytes": self.peaks.get(p, 0),
                         **self._tree_peaks(p)} for p in self.order]
            write_json(self._progress, {"current_phase": phase, "done": done})

    def _tree_peaks(self, phase: str) -> dict[str, int]:
        if not self._tree:
            return {}
        return {"peak_descendants_rss_bytes": self.kid_peaks.get(phase, 0),
                "peak_tree_rss_bytes": self.tree_peaks.get(phase, 0),
                "peak_descendants_by_command": dict(self.command_peaks.get(phase, {}))}

    def report(self) -> dict[str, Any]:
        self.mark("end")
        self._stop.set()
        self._thread.join()
        report: dict[str, Any] = {
            "phases": [
                {"phase": p, "seconds": round(self.seconds[p], 3), "cpu_seconds": round(self.cpu[p], 3),
                 "peak_rss_bytes": self.peaks.get(p, 0), **self._tree_peaks(p)}
                for p in self.order
            ],
            "process_seconds": round(time.perf_counter() - self._t0, 3),
            # ru_maxrss is in KiB on Linux
            "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }
        if self._tree:
            by_command: dict[str, int] = {}
            for peaks in self.command_peaks.values():
                for command, value in peaks.items():
                    by_command[command] = max(by_command.get(command, 0), value)
            report["descendants"] = {
                "commands": sorted(self.commands),
                "peak_rss_bytes_by_command": by_command,
                "peak_rss_bytes": max(self.kid_peaks.values(), default=0),
                "peak_tree_rss_bytes": max(self.tree_peaks.values(), default=0),
                # exact (kernel high-water mark) but only for children this process has
                # waited for, and the largest of them, not a sum
                "reaped_children_ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            }
        return report


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
    from famlink.linkage import splink_model

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
