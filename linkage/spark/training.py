"""Splink training, prediction and clustering on Spark (``[linkage] backend = "spark"``).

Training, prediction and the clustering run on Spark; ingest and standardisation stay in
DuckDB (they are linear and write ``source_records``). Each source's ``source_records`` are
exported to Parquet (the same columns as the DuckDB path registers); Spark trains on them
with the same :class:`TrainingPlan` and predicts; the predictions come back as Parquet into
``record_links``. While the session is alive, the clustering runs on Spark
(:func:`cluster_on_spark`): Splink's connected components over the same edges the DuckDB
backend builds, then the cannot-links, the rebuild of the clusters holding one, person ids,
stable ids and ``persons`` — the DuckDB backend's SQL, run through
:class:`famlink.linkage.spark.sql.SparkSQLConnection` — and its tables come back as Parquet.

The Splink model JSON is bound to its SQL dialect (DuckDB and Spark quote identifiers and
name their similarity functions differently), so the model is rebuilt from
:func:`famlink.linkage.model_spec.build_spec` for Spark (decided from the data on DuckDB), and a saved model must come from a Spark
run to be reused here (:func:`load_spark_model`). See docs/scaling.md.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from famlink.linkage import model_spec, splink_model, stable_ids
from famlink.linkage.cannot_link import RULES, CannotLinkRule
from famlink.linkage.errors import FamlinkError
from famlink.linkage.jobfile import SparkSettings
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.persons import (
    COMPONENTS_TABLE,
    ClustersSplit,
    cluster_edges_sql,
    cluster_links_sql,
    cluster_nodes_sql,
    cluster_persons,
    must_links_sql,
)
from famlink.linkage.predict import (
    SPLINK_LOG_LEVEL,
    Prediction,
    only_source,
    read_model,
    write_record_links,
)
from famlink.linkage.spark.session import (
    check_available,
    shuffle_partitions,
    spark_failure,
    spark_session,
)
from famlink.linkage.spark.sql import (
    SparkSQLConnection,
    duckdb_schema_of,
    load_into_duckdb,
    to_parquet,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from splink.backends.spark import SparkAPI

#: working folder inside the output folder (Parquet in and out, Spark's checkpoints);
#: it holds personal data and is removed when the linkage stage ends
WORK_DIR_NAME = "spark-work"


def load_spark_model(path: Path) -> dict[str, Any]:
    """A saved model for Spark; a model trained on another backend is refused (its SQL is
    that backend's dialect and fails on Spark)."""
    loaded = read_model(path)
    dialect = loaded.get("sql_dialect")
    if dialect != "spark":
        raise FamlinkError(
            f"this model was trained on the {dialect or 'unknown'} backend; its SQL is in "
            f"{dialect or 'another'} dialect and cannot run on Spark",
            file=str(path),
            hint="reuse a model.json from a --backend spark run, leave out --model to train "
                 "on Spark, or run this job with --backend duckdb",
        )
    return loaded


def export_inputs(con: duckdb.DuckDBPyConnection, folder: Path) -> list[tuple[str, Path]]:
    """Write each source's records, as the model compares them, to ``folder/<source>.parquet``."""
    sources = [r[0] for r in con.execute(
        "SELECT DISTINCT source FROM source_records ORDER BY 1").fetchall()]
    if not sources:
        raise FamlinkError("no usable people records in any source; nothing to link")
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for source in sources:
        path = folder / f"{source}.parquet"
        con.sql(model_spec.splink_input_sql(con), params=[source]).write_parquet(str(path))
        files.append((source, path))
    return files


#: linkage's tables the clustering reads, as DuckDB holds them when prediction is done
CLUSTERING_INPUTS = ("source_records", "relationships", "record_links", "link_decisions",
                     stable_ids.PREVIOUS_TABLE)
#: the tables the clustering writes, and each one's row order in a DuckDB run
CLUSTERING_OUTPUTS = {
    "person_records": "source, record_id",
    "persons": "person_id",
    "person_changes": "change, previous_person_id NULLS FIRST, person_id NULLS FIRST",
}


def spark_components(engine: SparkSQLConnection, db_api: SparkAPI, *, match_threshold: float) -> str:
    """Splink's connected components on Spark over the stand-in's tables, into
    ``COMPONENTS_TABLE`` (node_id, cluster_id); returns its name. The nodes and edges are
    the same SQL as the DuckDB backend's (:func:`famlink.linkage.persons.cluster_links_sql`): links at
    the threshold plus the reviewers' must-links."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    links = cluster_links_sql("record_links", f"({must_links_sql(engine)})", match_threshold)
    clustered = cluster_pairwise_predictions_at_threshold(
        nodes=engine.query(cluster_nodes_sql("source_records")),
        edges=engine.query(cluster_edges_sql(f"({links}) AS links")),
        db_api=db_api,
        node_id_column_name="node_id",
        edge_id_column_name_left="node_id_l",
        edge_id_column_name_right="node_id_r",
        threshold_match_probability=match_threshold,
    )
    engine.register(COMPONENTS_TABLE, clustered.as_spark_dataframe().select("node_id", "cluster_id"),
                    materialise=True)
    return COMPONENTS_TABLE


def cluster_on_spark(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, db_api: SparkAPI, *,
    match_threshold: float, folder: Path, cannot_link: Sequence[CannotLinkRule] = RULES,
) -> tuple[ClustersSplit, stable_ids.PersonChanges]:
    """The whole clustering on Spark: connected components, cannot-links, the rebuild of
    the clusters holding one, person ids, stable ids and ``persons`` — the DuckDB backend's
    code (:func:`famlink.linkage.persons.cluster_persons`) run through the Spark stand-in. Its inputs
    go from ``con`` to Spark as Parquet (``record_links`` as DuckDB rounded it, so both
    engines cluster the very same links); ``person_records``, ``persons`` and
    ``person_changes`` come back into ``con`` with a DuckDB run's column types and order."""
    engine = SparkSQLConnection(spark)
    (folder / "in").mkdir(parents=True, exist_ok=True)
    inputs = {}
    for table in CLUSTERING_INPUTS:
        path = folder / "in" / f"{table}.parquet"
        inputs[table] = to_parquet(con, table, path)
        engine.register(table, spark.read.parquet(str(path)))
    components = spark_components(engine, db_api, match_threshold=match_threshold)
    clustered = cluster_persons(engine, match_threshold=match_threshold, components=components,
                                rules=cannot_link)
    schema = duckdb_schema_of(
        {**inputs, COMPONENTS_TABLE: [("node_id", "VARCHAR"), ("cluster_id", "VARCHAR")]},
        lambda empty: cluster_persons(empty, match_threshold=match_threshold, components=COMPONENTS_TABLE,
                                      rules=cannot_link),
        CLUSTERING_OUTPUTS,
    )
    for table, order in CLUSTERING_OUTPUTS.items():
        load_into_duckdb(con, engine, table, schema[table], str(folder / "out" / table), order_by=order)
    return clustered


def predict_spark(
    con: duckdb.DuckDBPyConnection,
    *,
    out_dir: Path,
    seed: int,
    match_threshold: float,
    link_floor: float,
    model: Path | None,
    settings: SparkSettings,
    options: ModelOptions | None = None,
    cannot_link: Sequence[CannotLinkRule] = RULES,
) -> Prediction:
    """Train (or load) the model, predict and cluster on Spark (with the ``cannot_link``
    rules); write ``record_links``, ``person_records``, ``persons`` and ``person_changes`` into ``con`` and the Spark model
    to ``out_dir/model.json``."""
    from splink import Linker

    check_available()
    options = options or ModelOptions()
    loaded = load_spark_model(model) if model is not None else None
    # The model is decided from the data's profile, on DuckDB, before anything goes to Spark.
    prof = model_spec.profile(con)
    if loaded is None:
        spec = model_spec.build_spec(prof, options)
        summary = spec.summary()
    else:
        model_spec.check_model_fits(loaded, prof, options, file=str(model))
        summary = model_spec.model_summary(loaded, options)
    single = only_source(con)
    work = out_dir / WORK_DIR_NAME
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    inputs = export_inputs(con, work / "inputs")
    timings["export"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    checkpoint_dir = settings.checkpoint_dir or str(work / "checkpoints")
    spark_checkpoints: str | None = None
    try:
        from splink.backends.spark import SparkAPI

        with spark_session(settings, work_dir=work, checkpoint_dir=checkpoint_dir) as spark:
            # setCheckpointDir made a fresh subfolder of checkpoint_dir: only that is ours
            spark_checkpoints = spark.sparkContext.getCheckpointDir()
            timings["spark_start"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            db_api = SparkAPI(spark_session=spark, num_partitions_on_repartition=shuffle_partitions(settings))
            frames = [
                db_api.register(spark.read.parquet(str(path)), dataset_display_name=source,
                                table_name=f"famlink_in_{source}")
                for source, path in inputs
            ]
            tables = frames if len(frames) > 1 else frames[0]
            link_type: splink_model.LinkType = "link_and_dedupe" if len(frames) > 1 else "dedupe_only"
            if loaded is None:
                linker = Linker(tables, spec.settings(link_type=link_type), SPLINK_LOG_LEVEL)
                trained = splink_model.train(linker, spec.plan(seed=seed))
            else:
                trained = {**loaded, "link_type": link_type}
            linker = Linker(tables, trained, SPLINK_LOG_LEVEL)
            timings["train"] = time.perf_counter() - t0
            model_path = out_dir / "model.json"
            splink_model.save_model(linker, model_path)

            t0 = time.perf_counter()
            predictions = linker.inference.predict(threshold_match_probability=link_floor)
            folder = work / "predictions"
            # a one-source (dedupe_only) job's predictions have no source_dataset columns
            columns = ["unique_id_l", "unique_id_r", "match_weight", "match_probability", "match_key"]
            if single is None:
                columns += ["source_dataset_l", "source_dataset_r"]
            predictions.as_spark_dataframe().select(*columns).write.mode("overwrite").parquet(str(folder))
            pattern = str(folder / "*.parquet").replace("'", "''")
            write_record_links(con, f"read_parquet('{pattern}')", only_source=single)
            timings["predict"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            clustered = cluster_on_spark(con, spark, db_api, match_threshold=match_threshold,
                                         folder=work / "clustering", cannot_link=cannot_link)
            timings["cluster_on_spark"] = time.perf_counter() - t0
    except FamlinkError:
        raise
    except Exception as err:  # Spark's own failures (memory, a lost executor): said plainly
        raise spark_failure("linkage", err) from err
    finally:
        if spark_checkpoints and spark_checkpoints.startswith(("file:", "/")):
            shutil.rmtree(spark_checkpoints.removeprefix("file:"), ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return Prediction(model_path=model_path, timings=timings, clustered=clustered,
                      model_summary=summary)
