"""The Spark backend (``[linkage] backend = "spark"``): :class:`SparkBackend`.

Ingest reads the extracts with DuckDB and standardises them on Spark
(:mod:`famlink.linkage.spark.ingest`); training, prediction and the clustering run on Spark
(:mod:`famlink.linkage.spark.training`), each stage in a session of its own
(:mod:`famlink.linkage.spark.session`). The tables come back into the output database as a
DuckDB run writes them. See docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage.cannot_link import RULES, CannotLinkRule
from famlink.linkage.jobfile import Job, SparkSettings
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.predict import Prediction
from famlink.linkage.reconcile import IngestReport
from famlink.linkage.spark import ingest as spark_ingest
from famlink.linkage.spark import session, training


class SparkBackend:
    """Splink on a Spark session (a :class:`famlink.linkage.backend.Backend`)."""

    name = "spark"

    def __init__(self, settings: SparkSettings, *, model_options: ModelOptions | None = None) -> None:
        #: the job's ``[spark]`` table: master, memory, partitions, Spark settings
        self.settings = settings
        #: the job's ``[model]`` table
        self.model_options = model_options or ModelOptions()

    def check_available(self) -> None:
        session.check_available()

    def check_model(self, path: Path) -> None:
        """A DuckDB model is refused now, not after ingest."""
        training.load_spark_model(path)

    def where(self) -> str:
        return f" on Spark ({self.settings.master})"

    def run_settings(self) -> dict[str, Any]:
        settings = self.settings
        return {"spark": {
            "master": settings.master,
            "driver_memory": session.driver_memory(settings),
            "executor_memory": settings.executor_memory,
            "shuffle_partitions": session.shuffle_partitions(settings),
            "checkpoint_dir": str(settings.checkpoint_dir) if settings.checkpoint_dir else None,
            "conf": dict(settings.conf),
        }}

    def ingest(self, con: duckdb.DuckDBPyConnection, job: Job, *, out_dir: Path) -> IngestReport:
        return spark_ingest.ingest_on_spark(
            con, job, settings=self.settings, work_dir=out_dir / spark_ingest.WORK_DIR_NAME)

    def predict(
        self, con: duckdb.DuckDBPyConnection, *, out_dir: Path, seed: int, match_threshold: float,
        link_floor: float, model: Path | None, cannot_link: Sequence[CannotLinkRule] = RULES,
    ) -> Prediction:
        return training.predict_spark(
            con, out_dir=out_dir, seed=seed, match_threshold=match_threshold,
            link_floor=link_floor, model=model, settings=self.settings, options=self.model_options,
            cannot_link=cannot_link)
