"""The Spark session famlink starts for a stage, and Spark's failures as famlink's errors.

:func:`spark_session` starts (or joins) the session the job's ``[spark]`` table describes,
with Splink's similarity functions and Spark's logging at ERROR, and ends it afterwards,
with the JVM if famlink started it. :func:`spark_failure` turns a failure inside Spark
(out of memory, a lost executor) into a short message with Spark's own first line.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from famlink.linkage.errors import FamlinkError
from famlink.linkage.jobfile import SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "install with pip install 'famlink[spark]'"

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
