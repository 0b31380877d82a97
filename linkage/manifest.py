"""The run log: every run of famlink leaves a row in ``runs`` saying what was processed, by
whom, when, with which versions and model — the record a DPIA asks a partnership to keep."""

from __future__ import annotations

import getpass
import hashlib
import json
import platform
import socket
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    command VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,
    error VARCHAR,
    user_name VARCHAR,
    host VARCHAR,
    famlink_version VARCHAR,
    splink_version VARCHAR,
    duckdb_version VARCHAR,
    python_version VARCHAR,
    job_path VARCHAR,
    job_sha256 VARCHAR,
    job_toml VARCHAR,
    inputs JSON,
    seed BIGINT,
    reference_date DATE,
    config JSON,
    model_path VARCHAR,
    model_sha256 VARCHAR,
    model_trained BOOLEAN,
    counts JSON
)
"""


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class InputFile:
    source: str
    kind: str
    path: Path


def describe_inputs(files: Iterable[InputFile]) -> list[dict[str, Any]]:
    return [
        {"source": f.source, "kind": f.kind, "path": str(f.path), "sha256": sha256_file(f.path)}
        for f in files
    ]


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    command: str,
    job_path: Path | None,
    job_toml: str | None,
    inputs: list[dict[str, Any]],
    seed: int | None,
    reference_date: Any,
    config: dict[str, Any],
) -> str:
    """Insert a ``running`` row and return its run id (so a crashed run still shows)."""
    con.execute(RUNS_DDL)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    con.execute(
        """
        INSERT INTO runs (run_id, command, started_at, status, user_name, host, famlink_version,
            splink_version, duckdb_version, python_version, job_path, job_sha256, job_toml,
            inputs, seed, reference_date, config)
        VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            run_id,
            command,
            datetime.now(UTC).replace(tzinfo=None),
            _user(),
            socket.gethostname(),
            _version("famlink"),
            _version("splink"),
            duckdb.__version__,
            f"{platform.python_implementation()} {sys.version.split()[0]}",
            str(job_path) if job_path else None,
            sha256_file(job_path) if job_path else None,
            job_toml,
            json.dumps(inputs),
            seed,
            reference_date,
            json.dumps(config, default=str, sort_keys=True),
        ],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    error: str | None = None,
    model_path: Path | None = None,
    model_trained: bool | None = None,
    counts: dict[str, Any] | None = None,
) -> None:
    con.execute(
        """
        UPDATE runs SET finished_at = ?, status = ?, error = ?, model_path = ?, model_sha256 = ?,
            model_trained = ?, counts = ?
        WHERE run_id = ?
        """,
        [
            datetime.now(UTC).replace(tzinfo=None),
            status,
            error,
            str(model_path) if model_path else None,
            sha256_file(model_path) if model_path and model_path.exists() else None,
            model_trained,
            json.dumps(counts or {}, default=str, sort_keys=True),
            run_id,
        ],
    )
