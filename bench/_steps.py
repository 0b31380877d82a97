"""Running one measured step of the benchmark as its own child process: its wall time, CPU time
and own peak RSS (``os.wait4``), an RSS cap on a shared machine, and the environment every
child gets (``CHILD_ENV``, which ``--freeze`` fills).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import descendants, rss_of

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOT = [ROOT]  # where linkage/, models/ and sample_data/ are read from (see --freeze)
BENCH = ROOT / "bench"
PYTHON = sys.executable
FAMLINK = str(Path(sys.executable).with_name("famlink"))
MB = 1_000_000
GB = 1_000_000_000

# Extra environment for every child (``--freeze`` points PYTHONPATH at the frozen copy).
CHILD_ENV: dict[str, str] = {}


class StepFailed(RuntimeError):
    def __init__(self, message: str, step: dict[str, Any]) -> None:
        super().__init__(message)
        self.step = step


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run_step(name: str, argv: list[str], logdir: Path, max_rss: int | None = None,
             tree: bool = False) -> dict[str, Any]:
    """Run one child process; its wall time, CPU time and own peak RSS (``os.wait4``).

    With ``max_rss`` (bytes) the child is killed when its RSS goes above it (the machine is
    shared); the phase it was in comes from the progress file the child's PhaseMeter writes.
    With ``tree`` the RSS is that of the child and all its descendants (a Spark run's JVM),
    sampled here as ``peak_tree_rss_bytes``, and the cap applies to that sum.
    """
    logdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logdir / f"{name}.stdout", logdir / f"{name}.stderr"
    progress = logdir / f"{name}.progress.json"
    progress.unlink(missing_ok=True)
    load_before = os.getloadavg()
    log(f"{name}: {' '.join(argv)}")
    killed = None
    sampled_peak = 0
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        env = {**os.environ, **CHILD_ENV, "BENCH_PROGRESS_FILE": str(progress)}
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)  # noqa: S603 - our own argv
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            kids = descendants(proc.pid) if tree else {}
            rss = rss_of(proc.pid) + sum(rss_of(pid) for pid in kids)
            sampled_peak = max(sampled_peak, rss)
            if max_rss and rss > max_rss and killed is None:
                killed = {"rss_bytes": rss, "after_s": round(time.perf_counter() - t0, 1)}
                log(f"{name}: RSS {rss / MB:,.0f} MB > cap {max_rss / MB:,.0f} MB: killing it")
                proc.kill()
                _kill(kids)
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    step = {
        "step": name,
        "argv": argv,
        "returncode": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # KiB on Linux
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "stdout": str(out_path),
        "stderr": str(err_path),
    }
    if tree:
        step["peak_tree_rss_bytes"] = sampled_peak
    if killed:
        step["killed_over_rss_cap"] = {**killed, "cap_bytes": max_rss}
    if progress.exists():
        step["progress"] = read_json(progress)
    tree_note = f" (with descendants {sampled_peak / MB:,.0f} MB)" if tree else ""
    log(f"{name}: rc={proc.returncode} {wall:.1f}s wall, {step['cpu_s']:.1f}s cpu, "
        f"peak RSS {step['peak_rss_bytes'] / MB:,.0f} MB{tree_note}, load {step['loadavg_after'][0]}")
    if proc.returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        where = step.get("progress", {}).get("current_phase")
        raise StepFailed(f"step {name} failed (rc {proc.returncode}) in phase {where}:\n{tail}", step)
    return step


def _kill(pids: dict[int, str]) -> None:
    # The JVM would exit by itself once it sees the killed python's end of its stdin close;
    # killed with it, its memory is free before the next step starts.
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
