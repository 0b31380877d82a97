"""What the Spark tests share: the sample job, and a check that Spark can run here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "sample_data" / "job.toml"
TRUTH = ROOT / "sample_data" / "_truth"


def require_spark() -> None:
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark (pip install 'famlink[spark]')")
    from famlink.linkage.spark.session import java_executable

    if java_executable() is None:
        missing.append("Java 17+ (java on PATH or JAVA_HOME)")
    if not missing:
        return
    reason = "the Spark backend needs " + " and ".join(missing)
    if "CI" in os.environ:  # set at all: CI must not pass without running these
        pytest.fail(f"{reason}; CI must install famlink[spark] and run these tests")
    pytest.skip(reason)


def job_with(tmp_path: Path, spark_table: str) -> Path:
    text = JOB.read_text(encoding="utf-8").replace("[family]", spark_table + "\n[family]", 1)
    job = tmp_path / "job.toml"
    job.write_text(text, encoding="utf-8")
    for child in JOB.parent.iterdir():  # the extracts, next to the job file
        if child.is_dir() and not (tmp_path / child.name).exists():
            (tmp_path / child.name).symlink_to(child)
    return job
