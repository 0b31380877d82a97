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
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from famlink.linkage import model_spec, splink_model, stable_ids
from famlink.linkage.errors import FamlinkError
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.persons import ClustersSplit

# Probabilities are rounded before they are stored: the last bits of a float sum depend on
# how DuckDB's threads split the work, and outputs must be byte-identical run to run.
PROBABILITY_DIGITS = 10

# Splink narrates every training step at INFO; a data officer follows famlink's stages
# instead, and the trained model itself is saved as model.json.
SPLINK_LOG_LEVEL = logging.ERROR


def _sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT source FROM source_records ORDER BY 1").fetchall()]


def read_model(path: Path) -> dict[str, Any]:
    """A saved model.json, as Splink's settings dictionary."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FamlinkError(f"cannot read the saved model: {err}", file=str(path)) from err
    if not isinstance(loaded, dict) or "comparisons" not in loaded:
        raise FamlinkError("not a Splink model (no comparisons)", file=str(path))
    return loaded


def build_linker(
    con: duckdb.DuckDBPyConnection,
    *,
    model: Path | None,
    keep_comparison_details: bool = False,
    spec: model_spec.ModelSpec | None = None,
    options: ModelOptions | None = None,
) -> tuple[Linker, DuckDBAPI, list[SplinkDataFrame]]:
    """Register each source's records with Splink and build the linker (settings or model).

    Without ``model`` the settings are ``spec``'s (default: built from this data's profile
    and ``options``); a saved ``model`` must fit this data's fields
    (:func:`famlink.linkage.model_spec.check_model_fits`).
    ``keep_comparison_details`` keeps the compared values and each comparison's weight in
    the output, which Splink's waterfall (``famlink explain``) needs.
    """
    sources = _sources(con)
    if not sources:
        raise FamlinkError("no usable people records in any source; nothing to link")
    options = options or ModelOptions()
    db_api = DuckDBAPI(con)
    frames = []
    select = model_spec.splink_input_sql(con)
    for source in sources:
        table = f"__famlink_splink_input_{source}"
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS {select}', [source])
        frames.append(db_api.register(table, dataset_display_name=source, table_name=f"__famlink_in_{source}"))
    link_type: splink_model.LinkType = "link_and_dedupe" if len(frames) > 1 else "dedupe_only"
    if model is not None:
        loaded = read_model(model)
        prof = model_spec.profile(con)
        if loaded.get("sql_dialect", "duckdb") != "duckdb":
            # A Spark run's model: its SQL is Spark's. Explaining a pair re-scores it here
            # with the same trained parameters; linking must use a DuckDB-trained model.
            if not keep_comparison_details:
                raise FamlinkError(
                    f"this model was trained on the {loaded['sql_dialect']} backend; its SQL "
                    "cannot run on DuckDB", file=str(model),
                    hint="run with --backend spark, or leave out --model to train on DuckDB")
            rebuilt = model_spec.build_spec(prof, options).settings(link_type=link_type)
            loaded = splink_model.parameters_in_dialect(loaded, rebuilt, "duckdb", file=str(model))
        model_spec.check_model_fits(loaded, prof, options, file=str(model))
        loaded["link_type"] = link_type
        if keep_comparison_details:
            loaded["retain_matching_columns"] = True
            loaded["retain_intermediate_calculation_columns"] = True
        linker = Linker(frames if len(frames) > 1 else frames[0], loaded, SPLINK_LOG_LEVEL)
    else:
        spec = spec or model_spec.build_spec(model_spec.profile(con), options)
        linker = Linker(
            frames if len(frames) > 1 else frames[0], spec.settings(link_type=link_type), SPLINK_LOG_LEVEL)
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
    #: what the model compares, left out and blocks on (printed by the CLI)
    model_summary: model_spec.ModelSummary | None = None


def write_record_links(
    con: duckdb.DuckDBPyConnection, predictions: str, *, only_source: str | None = None
) -> None:
    """(Re)write ``record_links`` from Splink's predictions in ``predictions`` (a table, view
    or ``read_parquet(...)`` expression with Splink's output columns): each pair once, the
    smaller (source, record id) on the left, scores rounded, in a fixed order.

    A one-source job is Splink's ``dedupe_only``, whose output has no ``source_dataset``
    columns: ``only_source`` names the source then.
    """
    if only_source is None:
        sources = "source_dataset_l AS sl, unique_id_l AS rl, source_dataset_r AS sr"
        params: list[str] = []
    else:
        sources = "?::VARCHAR AS sl, unique_id_l AS rl, ?::VARCHAR AS sr"
        params = [only_source, only_source]
    con.execute(
        f"""
        CREATE OR REPLACE TABLE record_links AS
        WITH p AS (
            SELECT {sources},
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
        """,  # noqa: S608 - Splink's own table name or famlink's own Parquet path
        params,
    )


def only_source(con: duckdb.DuckDBPyConnection) -> str | None:
    """The one source of a one-source (dedupe-only) job, else None."""
    sources = _sources(con)
    return sources[0] if len(sources) == 1 else None


def predict_duckdb(
    con: duckdb.DuckDBPyConnection,
    *,
    out_dir: Path,
    seed: int,
    link_floor: float,
    model: Path | None,
    options: ModelOptions | None = None,
) -> Prediction:
    """Train (or load) the model and predict with Splink on ``con`` itself (DuckDB)."""
    options = options or ModelOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if model is None:
        spec = model_spec.build_spec(model_spec.profile(con), options)
        summary = spec.summary()
        linker, db_api, frames = build_linker(con, model=None, spec=spec)
        trained = splink_model.train(linker, spec.plan(seed=seed))
        linker = Linker(frames if len(frames) > 1 else frames[0], trained, SPLINK_LOG_LEVEL)
    else:
        linker, db_api, frames = build_linker(con, model=model, options=options)
        summary = model_spec.model_summary(read_model(model), options)
    timings["train"] = time.perf_counter() - t0
    model_path = out_dir / "model.json"
    splink_model.save_model(linker, model_path)

    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=link_floor)
    write_record_links(con, predictions.physical_name, only_source=only_source(con))
    db_api.delete_tables_created_by_splink_from_db()
    timings["predict"] = time.perf_counter() - t0
    return Prediction(model_path=model_path, timings=timings, model_summary=summary)
