"""The engine the linkage stage runs on: one :class:`Backend` protocol, one class per engine.

As Splink does with its ``DuckDBAPI`` and ``SparkAPI``: the pipeline asks the job's backend
(:func:`backend_for`, the one place the job file's ``[linkage] backend`` is read) to ingest
and to train, predict and cluster, and says where the work runs. :class:`DuckDBBackend`
does it all inside the output database; the Spark backend
(:class:`famlink.linkage.spark.backend.SparkBackend`) standardises, trains, predicts and
clusters on a Spark session and writes the same tables back. Either way the output
database holds the same tables, with the same columns and types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb

from famlink.linkage.cannot_link import RULES, CannotLinkRule
from famlink.linkage.errors import FamlinkError
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import BACKENDS, Job
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.predict import Prediction, predict_duckdb
from famlink.linkage.reconcile import IngestReport


class Backend(Protocol):
    """What the pipeline and the linkage stage need from an engine."""

    #: the job file's name for it (``[linkage] backend``)
    name: str

    def check_available(self) -> None:
        """Raise a FamlinkError if the engine cannot run here (before any work is done)."""
        ...

    def check_model(self, path: Path) -> None:
        """Refuse a saved model this engine cannot score with (before any work is done)."""
        ...

    def where(self) -> str:
        """Where the work runs, for progress lines: ``""`` or e.g. ``" on Spark (local[*])"``."""
        ...

    def run_settings(self) -> dict[str, Any]:
        """The engine's settings for the run log (sections of ``runs.config``)."""
        ...

    def ingest(self, con: duckdb.DuckDBPyConnection, job: Job, *, out_dir: Path) -> IngestReport:
        """Read, standardise and reconcile the job's extracts into ``con``."""
        ...

    def predict(
        self, con: duckdb.DuckDBPyConnection, *, out_dir: Path, seed: int, match_threshold: float,
        link_floor: float, model: Path | None, cannot_link: Sequence[CannotLinkRule] = RULES,
    ) -> Prediction:
        """Train (or load) the model and predict into ``record_links`` (and, if the engine
        clusters too, write the persons with the ``cannot_link`` rules: see
        :class:`Prediction`)."""
        ...


class DuckDBBackend:
    """Everything inside the output database's own DuckDB connection (the default)."""

    name = "duckdb"

    def __init__(self, *, models_memory_limit: str | None = None,
                 model_options: ModelOptions | None = None) -> None:
        #: DuckDB's memory limit for the models stage (half of ``[linkage] memory_limit``);
        #: None: leave the connection's own
        self.models_memory_limit = models_memory_limit
        #: the job's ``[model]`` table
        self.model_options = model_options or ModelOptions()

    def check_available(self) -> None:
        """DuckDB is always here."""

    def check_model(self, path: Path) -> None:
        """Nothing to check before ingest: the linker refuses another engine's model when it
        reads it (see :func:`famlink.linkage.predict.build_linker`)."""

    def where(self) -> str:
        return ""

    def run_settings(self) -> dict[str, Any]:
        return {}

    def ingest(self, con: duckdb.DuckDBPyConnection, job: Job, *, out_dir: Path) -> IngestReport:
        return ingest(con, job)

    def predict(
        self, con: duckdb.DuckDBPyConnection, *, out_dir: Path, seed: int, match_threshold: float,
        link_floor: float, model: Path | None, cannot_link: Sequence[CannotLinkRule] = RULES,
    ) -> Prediction:
        return predict_duckdb(con, out_dir=out_dir, seed=seed, link_floor=link_floor, model=model,
                              options=self.model_options)


def _duckdb(job: Job) -> Backend:
    return DuckDBBackend(models_memory_limit=job.linkage.models_memory_limit, model_options=job.model)


def _spark(job: Job) -> Backend:
    from famlink.linkage.spark.backend import SparkBackend  # pyspark is optional

    return SparkBackend(job.spark, model_options=job.model)


#: each ``[linkage] backend`` name (:data:`famlink.linkage.jobfile.BACKENDS`) and its engine
ENGINES: dict[str, Callable[[Job], Backend]] = {"duckdb": _duckdb, "spark": _spark}


def backend_for(job: Job) -> Backend:
    """The engine ``job`` names in ``[linkage] backend``: the one place that name is read."""
    engine = ENGINES.get(job.linkage.backend)
    if engine is None:
        raise FamlinkError(f"unknown linkage backend {job.linkage.backend!r}",
                           hint="use one of: " + ", ".join(BACKENDS))
    return engine(job)
