"""What a benchmark run records about where it ran: the machine, the versions and the git
commit, whether the models stage is importable, and (``--freeze``) the frozen copy of the
code under test that every step runs on.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from _steps import CHILD_ENV, ROOT, SOURCE_ROOT, log

# famlink/ reaches the stages through links; copytree follows them, so the frozen famlink/
# holds real copies of linkage/, models/ and visualise/ (the folders are listed for the diff).
FROZEN = ("famlink", "sample_data")
DIFFED = ("famlink", "linkage", "models", "visualise", "sample_data")


def models_available() -> bool:
    try:
        from famlink import models
    except ImportError:
        return False
    return hasattr(models, "build_models")


def machine_facts() -> dict[str, Any]:
    mem_total = None
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    cpu_model = None
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603,S607
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_bytes": mem_total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("famlink", "splink", "duckdb", "pyarrow", "pandas")},
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty_files": [line for line in git("status", "--short").splitlines() if line],
    }


def freeze(work: Path) -> dict[str, Any]:
    """Copy the code under test to WORK/src and make every child import it from there."""
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in FROZEN:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    diff = subprocess.run(["git", "diff", "HEAD", "--", *DIFFED], cwd=ROOT, capture_output=True,  # noqa: S603,S607
                          text=True, check=False).stdout
    (src / "git-diff-at-freeze.patch").write_text(diff, encoding="utf-8")
    CHILD_ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src.resolve()), os.environ.get("PYTHONPATH")]))
    SOURCE_ROOT[0] = src.resolve()
    log(f"froze {', '.join(FROZEN)} into {src} ({len(diff.splitlines())} lines of uncommitted diff)")
    return {"path": str(src), "git_commit": machine_facts()["git_commit"], "diff_lines": len(diff.splitlines()),
            "frozen_at_utc": datetime.now(UTC).isoformat(timespec="seconds")}
