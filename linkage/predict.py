"""Training and prediction with Splink 5 on DuckDB, inside famlink's output database.

Splink works on the output database's own connection (its ``DuckDBAPI`` accepts one), so
nothing is copied out; its working tables are dropped afterwards. Writes ``record_links``
(see docs/tables.md) and the trained model, ``model.json``. The Spark backend trains and
predicts on Spark instead (:mod:`famlink.linkage.spark.training`) and writes
``record_links`` with the same :func:`write_record_links`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from famlink.linkage import splink_model, stable_ids
from famlink.linkage.errors import FamlinkError
from famlink.linkage.persons import ClustersSplit

# Probabilities are rounded before they are stored: the last bits of a float sum depend on
# how DuckDB's threads split the work, and outputs must be byte-identical run to run.
PROBABILITY_DIGITS = 10

# Splink narrates every training step at INFO; a data officer follows famlink's stages
# instead, and the trained model itself is saved as model.json.
SPLINK_LOG_LEVEL = logging.ERROR


def _sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT source FROM source_records ORDER BY 1").fetchall()]


def build_linker(
    con: duckdb.DuckDBPyConnection, *, model: Path | None, keep_comparison_details: bool = False
) -> tuple[Linker, DuckDBAPI, list[SplinkDataFrame]]:
    """Register each source's records with Splink and build the linker (settings or model).

    ``keep_comparison_details`` keeps the compared values and each comparison's weight in
    the output, which Splink's waterfall (``famlink explain``) needs.
    """
    sources = _sources(con)
    if not sources:
        raise FamlinkError("no usable people records in any source; nothing to link")
    db_api = DuckDBAPI(con)
    frames = []
    for source in sources:
        table = f"__famlink_splink_input_{source}"
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS {splink_model.splink_input_sql()}', [source])
        frames.append(db_api.register(table, dataset_display_name=source, table_name=f"__famlink_in_{source}"))
    link_type: splink_model.LinkType = "link_and_dedupe" if len(frames) > 1 else "dedupe_only"
    if model is not None:
        try:
            loaded = json.loads(Path(model).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise FamlinkError(f"cannot read the saved model: {err}", file=str(model)) from err
        if isinstance(loaded, dict) and loaded.get("sql_dialect", "duckdb") != "duckdb":
            # A Spark run's model: its SQL is Spark's. Explaining a pair re-scores it here
            # with the same trained parameters; linking must use a DuckDB-trained model.
            if not keep_comparison_details:
                raise FamlinkError(
                    f"this model was trained on the {loaded['sql_dialect']} backend; its SQL "
                    "cannot run on DuckDB", file=str(model),
                    hint="run with --backend spark, or leave out --model to train on DuckDB")
            loaded = splink_model.parameters_in_dialect(loaded, "duckdb", file=str(model))
        loaded["link_type"] = link_type
        if keep_comparison_details:
            loaded["retain_matching_columns"] = True
            loaded["retain_intermediate_calculation_columns"] = True
        linker = Linker(frames if len(frames) > 1 else frames[0], loaded, SPLINK_LOG_LEVEL)
    else:
        linker = Linker(
            frames if len(frames) > 1 else frames[0],
            splink_model.settings(link_type=link_type),
            SPLINK_LOG_LEVEL,
        )
    return linker, db_api, frames


@dataclass
class Prediction:
    """What a prediction step leaves behind: ``record_links`` written, the model saved, and
    on Spark the persons too (clustered while its session and predictions are alive)."""

    model_path: Path
    timings: dict[str, float] = field(default_factory=dict)
    #: (clusters rebuilt, person changes) if the backend also clustered and wrote
    #: ``person_records``, ``persons`` and ``person_changes`` (Spark); None: cluster here
    clustered: tuple[ClustersSplit, stable_ids.PersonChanges] | None = None


def write_record_links(con: duckdb.DuckDBPyConnection, predictions: str) -> None:
    """(Re)write ``record_links`` from Splink's predictions in ``predictions`` (a table, view
    or ``read_parquet(...)`` expression with Splink's output columns): each pair once, the
    smaller (source, record id) on the left, scores rounded, in a fixed order."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE record_links AS
        WITH p AS (
            SELECT source_dataset_l AS sl, unique_id_l AS rl, source_dataset_r AS sr,
                   unique_id_r AS rr, match_weight, match_probability, match_key
            FROM {predictions}
        )
        SELECT
            CASE WHEN (sl, rl) <= (sr, rr) THEN sl ELSE sr END AS source_l,
            CASE WHEN (sl, rl) <= (sr, rr) THEN rl ELSE rr END AS record_id_l,
            CASE WHEN (sl, rl) <= (sr, rr) THEN sr ELSE sl END AS source_r,
            CASE WHEN (sl, rl) <= (sr, rr) THEN rr ELSE rl END AS record_id_r,
            round(match_weight, {PROBABILITY_DIGITS}) AS match_weight,
            round(match_probability, {PROBABILITY_DIGITS}) AS match_probability,
            match_key::VARCHAR AS match_key
        FROM p
        ORDER BY source_l, record_id_l, source_r, record_id_r
        """  # noqa: S608 - Splink's own table name or famlink's own Parquet path
    )


def predict_duckdb(
    con: duckdb.DuckDBPyConnection,
    *,
    out_dir: Path,
    seed: int,
    link_floor: float,
    model: Path | None,
) -> Prediction:
    """Train (or load) the model and predict with Splink on ``con`` itself (DuckDB)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    linker, db_api, frames = build_linker(con, model=model)
    if model is None:
        trained = splink_model.train(linker, splink_model.TrainingPlan(seed=seed))
        linker = Linker(frames if len(frames) > 1 else frames[0], trained, SPLINK_LOG_LEVEL)
    timings["train"] = time.perf_counter() - t0
    model_path = out_dir / "model.json"
    splink_model.save_model(linker, model_path)

    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=link_floor)
    write_record_links(con, predictions.physical_name)
    db_api.delete_tables_created_by_splink_from_db()
    timings["predict"] = time.perf_counter() - t0
    return Prediction(model_path=model_path, timings=timings)
