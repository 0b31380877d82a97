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
:func:`famlink.linkage.splink_model.settings` for Spark, and a saved model must come from a Spark
run to be reused here. See docs/scaling.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from famlink.linkage import review, splink_model, stable_ids
from famlink.linkage.errors import FamlinkError
from famlink.linkage.jobfile import SparkSettings
from famlink.linkage.link import (
    COMPONENTS_TABLE,
    SPLINK_LOG_LEVEL,
    Prediction,
    cluster_edges_sql,
    cluster_links_sql,
    cluster_nodes_sql,
    cluster_persons,
    write_record_links,
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

INSTALL_HINT = "install with pip install 'famlink[spark]'"

#: working folder inside the output folder (Parquet in and out, Spark's checkpoints);
#: it holds personal data and is removed when the linkage stage ends
WORK_DIR_NAME = "spark-work"

# Spark's own logging at ERROR only: a data officer follows famlink's stages. (pyspark
# prints a "Setting default log level" banner unless Spark's logger and the root logger
# are configured at the same level.)
LOG4J2_PROPERTIES = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.spark.name = org.apache.spark
logger.spark.level = error
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

_LOCAL_MASTER = re.compile(r"local(?:\[(\*|[0-9]+)(?:,\s*[0-9]+)?\])?")


def java_executable() -> str | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java``, else the first on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_available() -> None:
    """Raise a FamlinkError if pyspark or Java is missing (before any work is done)."""
    try:
        import pyspark  # noqa: F401
    except ImportError as err:
        raise FamlinkError(
            "the Spark backend needs pyspark, which is not installed", hint=INSTALL_HINT
        ) from err
    if java_executable() is None:
        raise FamlinkError(
            "the Spark backend needs Java 17 or later, and no java was found "
            "(neither $JAVA_HOME/bin/java nor java on PATH)",
            hint="install a Java runtime (e.g. apt-get install openjdk-17-jre-headless) "
                 "or set JAVA_HOME",
        )


def local_threads(master: str) -> int | None:
    """Worker threads of a local master (``local`` = 1, ``local[*]`` = cores); None if not local."""
    match = _LOCAL_MASTER.fullmatch(master.strip())
    if match is None:
        return None
    threads = match.group(1)
    if threads is None:
        return 1
    return (os.cpu_count() or 1) if threads == "*" else int(threads)


def shuffle_partitions(settings: SparkSettings) -> int:
    """``[spark] shuffle_partitions``, else one per local thread, else Spark's default 200.

    Also the partitions Splink repartitions its big tables (blocked pairs, predictions)
    into. On one machine there are no stragglers to balance, and every extra partition is
    one more task per step of training (hundreds of small Spark jobs): one per thread is
    the fastest local setting measured.
    """
    if settings.shuffle_partitions is not None:
        return settings.shuffle_partitions
    threads = local_threads(settings.master)
    return 200 if threads is None else threads


def physical_memory_bytes() -> int | None:
    """This machine's RAM, where the OS says (Linux, macOS); None elsewhere."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def driver_memory(settings: SparkSettings) -> str | None:
    """``[spark] driver_memory``; for a local master without one, half of this machine's
    RAM (at least 1g), since in local mode the driver's heap is all the memory Spark has
    and Spark's own default (1g) runs out beyond ~100k records. None: Spark's default
    (a cluster's driver only plans and collects small results)."""
    if settings.driver_memory:
        return settings.driver_memory
    ram = physical_memory_bytes()
    if local_threads(settings.master) is None or ram is None:
        return None
    return f"{max(1, ram // 2**31)}g"


def spark_conf(settings: SparkSettings, *, work_dir: Path) -> dict[str, str]:
    """Every Spark setting famlink starts the session with (``[spark.conf]`` wins, except
    that its ``spark.jars`` and ``spark.driver.extraJavaOptions`` are added to famlink's)."""
    from splink.backends.spark import similarity_jar_location

    log_config = work_dir / "log4j2.properties"
    log_config.write_text(LOG4J2_PROPERTIES, encoding="utf-8")
    conf: dict[str, str] = {
        "spark.master": settings.master,
        "spark.app.name": "famlink",
        "spark.sql.shuffle.partitions": str(shuffle_partitions(settings)),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if local_threads(settings.master) is not None:
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    memory = driver_memory(settings)
    if memory:
        conf["spark.driver.memory"] = memory
    if settings.executor_memory:
        conf["spark.executor.memory"] = settings.executor_memory
    extra = dict(settings.conf)
    jars = [similarity_jar_location(), *filter(None, extra.pop("spark.jars", "").split(","))]
    conf["spark.jars"] = ",".join(jars)
    java_options = f"-Dlog4j2.configurationFile={log_config.resolve().as_uri()}"
    user_options = extra.pop("spark.driver.extraJavaOptions", "")
    conf["spark.driver.extraJavaOptions"] = f"{java_options} {user_options}".strip()
    conf.update(extra)
    return conf


def build_session(settings: SparkSettings, *, work_dir: Path, checkpoint_dir: str) -> SparkSession:
    """Start (or join) the Spark session the job describes, with Splink's similarity jar."""
    check_available()
    from pyspark.sql import SparkSession

    work_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder
    for key, value in spark_conf(settings, work_dir=work_dir).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # pyspark raises its own errors for a JVM that will not start
        raise FamlinkError(
            f"could not start Spark (master {settings.master!r}): {str(err).strip()[:500]}",
            hint="the Spark backend needs Java 17 or later; check [spark] in the job file",
        ) from err
    spark.sparkContext.setLogLevel("ERROR")
    if "://" not in checkpoint_dir:  # a local folder (else e.g. hdfs://, made by Spark)
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir(checkpoint_dir)
    return spark


def load_spark_model(path: Path) -> dict[str, Any]:
    """A saved model for Spark; a model trained on another backend is refused (its SQL is
    that backend's dialect and fails on Spark)."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FamlinkError(f"cannot read the saved model: {err}", file=str(path)) from err
    if not isinstance(loaded, dict) or "comparisons" not in loaded:
        raise FamlinkError("not a Splink model (no comparisons)", file=str(path))
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


def parameters_in_dialect(model: dict[str, Any], dialect: str, *, file: str) -> dict[str, Any]:
    """``model``'s trained parameters (λ, m, u) on famlink's settings rebuilt for ``dialect``.

    Used by ``famlink explain`` to re-score a pair in DuckDB with a Spark run's model. The
    model's comparisons and levels must be famlink's current ones (same names and labels).
    """
    link_type = model.get("link_type", "link_and_dedupe")
    target = splink_model.settings(link_type=link_type).create_settings_dict(dialect)
    source_comparisons = model.get("comparisons", [])
    mismatch = FamlinkError(
        "the saved model's comparisons are not this famlink version's; it cannot be "
        f"translated to {dialect} SQL", file=file,
        hint="link again (on either backend) with this version of famlink")
    if len(source_comparisons) != len(target["comparisons"]):
        raise mismatch
    for old, new in zip(source_comparisons, target["comparisons"], strict=True):
        old_levels, new_levels = old["comparison_levels"], new["comparison_levels"]
        if old.get("output_column_name") != new.get("output_column_name") or len(old_levels) != len(new_levels):
            raise mismatch
        for old_level, new_level in zip(old_levels, new_levels, strict=True):
            if old_level.get("label_for_charts") != new_level.get("label_for_charts"):
                raise mismatch
            for key in ("m_probability", "u_probability"):
                if key in old_level:
                    new_level[key] = old_level[key]
    for key in ("probability_two_random_records_match", "linker_uid"):
        if key in model:
            target[key] = model[key]
    target["sql_dialect"] = dialect
    return target


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
        con.sql(splink_model.splink_input_sql(), params=[source]).write_parquet(str(path))
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
    the same SQL as the DuckDB backend's (:func:`famlink.linkage.link.cluster_links_sql`): links at
    the threshold plus the reviewers' must-links."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    links = cluster_links_sql("record_links", f"({review.MUST_LINK_SQL})", match_threshold)
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
    match_threshold: float, folder: Path,
) -> tuple[int, stable_ids.PersonChanges]:
    """The whole clustering on Spark: connected components, cannot-links, the rebuild of
    the clusters holding one, person ids, stable ids and ``persons`` — the DuckDB backend's
    code (:func:`famlink.linkage.link.cluster_persons`) run through the Spark stand-in. Its inputs
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
    clustered = cluster_persons(engine, match_threshold=match_threshold, components=components)
    schema = duckdb_schema_of(
        {**inputs, COMPONENTS_TABLE: [("node_id", "VARCHAR"), ("cluster_id", "VARCHAR")]},
        lambda empty: cluster_persons(empty, match_threshold=match_threshold, components=COMPONENTS_TABLE),
        CLUSTERING_OUTPUTS,
    )
    for table, order in CLUSTERING_OUTPUTS.items():
        load_into_duckdb(con, engine, table, schema[table], str(folder / "out" / table), order_by=order)
    return clustered


def spark_failure(stage: str, err: BaseException, hint: str | None = None) -> FamlinkError:
    """A failure inside Spark (out of memory, a lost executor, …) as a short message, with
    where to look: the first line of Spark's own error, never its stack trace."""
    first = (_spark_message(err).strip().splitlines() or [type(err).__name__])[0][:300]
    return FamlinkError(
        f"the {stage} stage failed on Spark: {first}",
        hint=hint or "see [spark] in docs/jobfile.md for memory and partitions, or run the job "
                     "with --backend duckdb",
    )


def _spark_message(err: BaseException) -> str:
    """pyspark's message for ``err`` without asking the JVM, which may be gone by now (its
    ``getMessage`` and even ``str`` call into it): the text pyspark kept, else str."""
    for kept in (getattr(err, "famlink_spark_message", None), getattr(err, "_desc", None)):
        if isinstance(kept, str) and kept.strip():  # ours, or pyspark's CapturedException's
            return kept
    try:
        return str(err) or type(err).__name__
    except Exception:  # noqa: BLE001 - a message must never become a second failure
        return type(err).__name__


@contextmanager
def spark_session(settings: SparkSettings, *, work_dir: Path, checkpoint_dir: str) -> Iterator[SparkSession]:
    """The job's Spark session (:func:`build_session`), ended afterwards — with the JVM,
    if famlink started it: pyspark leaves an idle JVM holding gigabytes otherwise."""
    check_available()  # a clear error, before pyspark is imported
    own_jvm = not _jvm_running()
    spark = build_session(settings, work_dir=work_dir, checkpoint_dir=checkpoint_dir)
    try:
        yield spark
    except Exception as err:
        _remember_message(err)  # while the JVM that knows it is still there
        raise
    finally:
        spark.catalog.clearCache()
        spark.stop()
        if own_jvm:
            _stop_jvm()


def _remember_message(err: BaseException) -> None:
    """Keep Spark's own message on ``err`` (``famlink_spark_message``) for :func:`spark_failure`:
    a Py4JJavaError has it only in the JVM, and that JVM is stopped before the error is shown."""
    java = getattr(err, "java_exception", None)
    try:
        text = java.getMessage() if java is not None else _spark_message(err)
    except Exception:  # noqa: BLE001 - a message must never become a second failure
        return
    if text:
        err.famlink_spark_message = text  # type: ignore[attr-defined]


def _jvm_running() -> bool:
    from pyspark import SparkContext

    return SparkContext._gateway is not None  # noqa: SLF001 - pyspark keeps its JVM there


def _stop_jvm() -> None:
    """End the JVM pyspark started: ``SparkSession.stop`` leaves it running, idle, holding
    over a gigabyte until the Python process exits — through clustering and the models
    stage. It exits when its stdin closes; a later session starts a new one."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway  # noqa: SLF001
    proc = getattr(gateway, "proc", None)
    if gateway is not None:
        gateway.shutdown()
    SparkContext._gateway = None  # noqa: SLF001
    SparkContext._jvm = None  # noqa: SLF001
    if proc is not None:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except Exception:  # noqa: BLE001 - a JVM that will not exit is killed, not waited on
            proc.kill()


def predict_spark(
    con: duckdb.DuckDBPyConnection,
    *,
    out_dir: Path,
    seed: int,
    match_threshold: float,
    link_floor: float,
    model: Path | None,
    settings: SparkSettings,
) -> Prediction:
    """Train (or load) the model, predict and cluster on Spark; write ``record_links``,
    ``person_records``, ``persons`` and ``person_changes`` into ``con`` and the Spark model
    to ``out_dir/model.json``."""
    from splink import Linker

    check_available()
    loaded = load_spark_model(model) if model is not None else None
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
                linker = Linker(tables, splink_model.settings(link_type=link_type), SPLINK_LOG_LEVEL)
                trained = splink_model.train(linker, splink_model.TrainingPlan(seed=seed))
            else:
                trained = {**loaded, "link_type": link_type}
            linker = Linker(tables, trained, SPLINK_LOG_LEVEL)
            timings["train"] = time.perf_counter() - t0
            model_path = out_dir / "model.json"
            splink_model.save_model(linker, model_path)

            t0 = time.perf_counter()
            predictions = linker.inference.predict(threshold_match_probability=link_floor)
            folder = work / "predictions"
            predictions.as_spark_dataframe().select(
                "source_dataset_l", "unique_id_l", "source_dataset_r", "unique_id_r",
                "match_weight", "match_probability", "match_key",
            ).write.mode("overwrite").parquet(str(folder))
            pattern = str(folder / "*.parquet").replace("'", "''")
            write_record_links(con, f"read_parquet('{pattern}')")
            timings["predict"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            clustered = cluster_on_spark(con, spark, db_api, match_threshold=match_threshold,
                                         folder=work / "clustering")
            timings["cluster_on_spark"] = time.perf_counter() - t0
    except FamlinkError:
        raise
    except Exception as err:  # Spark's own failures (memory, a lost executor): said plainly
        raise spark_failure("linkage", err) from err
    finally:
        if spark_checkpoints and spark_checkpoints.startswith(("file:", "/")):
            shutil.rmtree(spark_checkpoints.removeprefix("file:"), ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return Prediction(model_path=model_path, timings=timings, clustered=clustered)
