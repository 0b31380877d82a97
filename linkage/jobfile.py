"""Read and check a job file (``job.toml``): where each agency's extracts are and how their
columns and codes map onto famlink's canonical fields.

The contract is ``docs/jobfile.md``. :func:`load_job` returns a frozen :class:`Job`; every
mistake is a :class:`~linkage.errors.JobFileError` naming the job file, the source and the key.
This module only reads the job file and checks that the extracts exist; reading the extracts
(and checking their headers) is :mod:`famlink.linkage.ingest`'s work.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from famlink.linkage.cannot_link import CannotLinkSettings, read_settings
from famlink.linkage.errors import JobFileError
from famlink.linkage.job_sources import (  # noqa: F401 - the vocabularies are part of this module's surface
    CODE_FIELDS,
    DATE_FIELDS,
    DEFAULT_DATE_FORMATS,
    ENCODINGS,
    EVENT_TYPES,
    FIELDS,
    FILE_KINDS,
    FORMATS,
    JOINABLE_FIELDS,
    RELATIONSHIP_CODE_VALUES,
    RELATIONSHIPS,
    REQUIRED_FIELDS,
    REVERSED_RELATIONSHIPS,
    ROLES,
    SEX_VALUES,
    SOURCE_NAME,
    VOCABULARIES,
    FileSpec,
    SourceReader,
    SourceSpec,
    kind_of,
)
from famlink.linkage.model_options import ModelOptions, read_model_table

BACKENDS = ("duckdb", "spark")

_TOP_KEYS = ("job", "linkage", "spark", "family", "flags", "model", "sources")
_JOB_KEYS = ("name", "reference_date", "seed")
_LINKAGE_KEYS = ("backend", "match_threshold", "link_floor", "model", "memory_limit", "cannot_link")
_FAMILY_KEYS = ("co_residence_window_months", "non_mobile_age_months")
_SPARK_KEYS = ("master", "driver_memory", "executor_memory", "shuffle_partitions",
               "checkpoint_dir", "conf")
#: Spark settings with their own key in [spark]; [spark.conf] must not set them again
SPARK_DEDICATED_CONF = {
    "spark.master": "master",
    "spark.driver.memory": "driver_memory",
    "spark.executor.memory": "executor_memory",
    "spark.sql.shuffle.partitions": "shuffle_partitions",
}
SPARK_MEMORY = re.compile(r"[1-9][0-9]*[kmgt]?", re.IGNORECASE)


#: a value in ``[flags.<rule>]``: true/false, a whole number or a list of codes
FlagValue = bool | int | list[str]


# --- the parsed job ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkageSettings:
    """``[linkage]``: how records are linked."""

    backend: str = "duckdb"
    match_threshold: float = 0.9
    link_floor: float = 0.3
    #: a saved Splink model to reuse (resolved against the job file's folder); None = train
    model: Path | None = None
    #: DuckDB's memory limit for the run (it spills to disk beyond it); DuckDB's own default
    #: is 80 % of the machine's memory, which a shared server cannot give one job
    memory_limit: str = "3GB"
    #: ``[linkage.cannot_link]``: the built-in cannot-link rules switched on (all by default)
    cannot_link: CannotLinkSettings = field(default_factory=CannotLinkSettings)

    @property
    def models_memory_limit(self) -> str:
        """The models stage's share of ``memory_limit``: half.

        Its joins are over persons and families and spill cheaply: on 1M records (bench
        run D) it ran about 10 % slower with half the limit and peaked at 1.6 GB instead of
        2.2 GB, below linkage's 1.8 GB, so it never sets the run's peak. Splink's scoring,
        in linkage, is what needs the full limit.

        >>> LinkageSettings(memory_limit="3GB").models_memory_limit
        '1.5GB'
        """
        number, unit = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", self.memory_limit).groups()  # type: ignore[union-attr]
        return f"{float(number) / 2:g}{unit}"


@dataclass(frozen=True)
class SparkSettings:
    """``[spark]``: the Spark session used when ``backend = "spark"`` (ignored otherwise)."""

    master: str = "local[*]"
    #: e.g. "4g"; None = half this machine's RAM for a local master, else Spark's default
    #: (see ``spark_backend.driver_memory``)
    driver_memory: str | None = None
    executor_memory: str | None = None
    #: None = one per thread for a local master, else Spark's default (200)
    shuffle_partitions: int | None = None
    #: a local folder (resolved against the job file's folder) or a URI such as
    #: hdfs://…; None = a folder inside the output folder
    checkpoint_dir: str | None = None
    #: extra Spark settings, e.g. {"spark.sql.adaptive.enabled": "true"}
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FamilySettings:
    """``[family]``: how families and households are built."""

    co_residence_window_months: int = 12
    non_mobile_age_months: int = 6


@dataclass(frozen=True)
class Job:
    """A checked job file."""

    path: Path
    name: str
    reference_date: date
    seed: int
    linkage: LinkageSettings
    family: FamilySettings
    sources: tuple[SourceSpec, ...]
    raw_toml: str
    sha256: str
    spark: SparkSettings = field(default_factory=SparkSettings)
    #: ``[flags]`` as written: ``{rule: {parameter: value}}``, shape checked here; the rules
    #: and their parameters are the models stage's (`famlink.models.flags.flag_settings`)
    flags: Mapping[str, Mapping[str, FlagValue]] = field(default_factory=dict)
    #: ``famlink link --data DIR``: the folder the extracts were read from (None: the job
    #: file's folder)
    data_dir: Path | None = None
    #: ``famlink link --strict``: a warning about the data (a date format that does not fit
    #: its column) stops the run instead
    strict: bool = False
    #: ``[model]``: changes to the model famlink builds (`famlink.linkage.model_options`)
    model: ModelOptions = field(default_factory=ModelOptions)

    def source(self, name: str) -> SourceSpec:
        """The source called ``name`` (KeyError if there is none)."""
        for spec in self.sources:
            if spec.name == name:
                return spec
        raise KeyError(name)


# --- loading ----------------------------------------------------------------------------------


def load_job(path: str | Path, *, data_dir: str | Path | None = None) -> Job:
    """Read and check the job file at ``path``.

    ``data_dir`` (``famlink link --data DIR``): the folder the extracts' paths are relative
    to, so one job file serves every month's delivery; default the job file's folder. Other
    paths (``[linkage] model``, ``[spark] checkpoint_dir``) stay relative to the job file.

    Raises :class:`JobFileError` naming the job file, the source and the key for any mistake:
    bad TOML, a missing or unknown key (with a "did you mean"), a bad value, an extract or model
    file that does not exist (named as resolved).
    """
    job_path = Path(path)
    where = str(path)
    if not job_path.is_file():
        raise JobFileError(f"job file not found: {job_path.resolve()}", file=where)
    data_base: Path | None = None
    if data_dir is not None:
        data_base = Path(data_dir).resolve()
        if not data_base.is_dir():
            raise JobFileError(f"--data folder not found: {data_base}", file=where,
                               hint="give the folder that holds this delivery's extracts")
    raw_bytes = job_path.read_bytes()
    try:
        raw_toml = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise JobFileError(f"not UTF-8 text ({err})", file=where) from err
    try:
        data = tomllib.loads(raw_toml)
    except tomllib.TOMLDecodeError as err:
        raise JobFileError(f"not valid TOML: {err}", file=where) from err
    reader = _Reader(where, job_path.resolve().parent, data_base=data_base)
    job = reader.job(data, job_path, raw_toml, hashlib.sha256(raw_bytes).hexdigest())
    return replace(job, data_dir=data_base) if data_base is not None else job


class _Reader(SourceReader):
    """Reads the whole job file: ``[job]``, the settings tables and, through
    :class:`SourceReader`, ``[[sources]]``."""

    # -- top level

    def job(self, data: dict[str, Any], job_path: Path, raw_toml: str, sha256: str) -> Job:
        self.check_keys(data, _TOP_KEYS, "")
        job = self.table(data, "job", "", required=True)
        assert job is not None
        self.check_keys(job, _JOB_KEYS, "job.")
        name = job.get("name", job_path.stem)
        if not isinstance(name, str) or not name.strip():
            raise self.fail("job.name", "must be non-empty text")
        seed = job.get("seed", 42)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise self.fail("job.seed", f"must be a whole number >= 0, not {seed!r}")
        sources = self.sources(data.get("sources"))
        return Job(
            path=job_path,
            name=name.strip(),
            reference_date=self.reference_date(job),
            seed=seed,
            linkage=self.linkage(self.table(data, "linkage", "", required=False) or {}),
            family=self.family(self.table(data, "family", "", required=False) or {}),
            sources=sources,
            raw_toml=raw_toml,
            sha256=sha256,
            spark=self.spark(self.table(data, "spark", "", required=False) or {}),
            flags=self.flags(self.table(data, "flags", "", required=False) or {}),
            model=read_model_table(self.table(data, "model", "", required=False) or {}, self.fail),
        )

    def reference_date(self, job: Mapping[str, Any]) -> date:
        value = job.get("reference_date")
        hint = 'write an ISO date, e.g. reference_date = "2026-09-30"'
        if value is None:
            raise self.fail("job.reference_date", "missing (required)", hint=hint)
        if isinstance(value, datetime):
            raise self.fail("job.reference_date", f"must be a date without a time, not {value}",
                            hint=hint)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail("job.reference_date", f"not an ISO date (YYYY-MM-DD): {value!r}",
                        hint=hint)

    def linkage(self, table: Mapping[str, Any]) -> LinkageSettings:
        self.check_keys(table, _LINKAGE_KEYS, "linkage.")
        defaults = LinkageSettings()
        backend = table.get("backend", defaults.backend)
        if backend not in BACKENDS:
            raise self.fail("linkage.backend", f"unknown backend {backend!r}",
                            hint="use one of: " + ", ".join(BACKENDS))
        threshold = self.probability(table, "match_threshold", defaults.match_threshold)
        floor = self.probability(table, "link_floor", defaults.link_floor)
        if floor > threshold:
            raise self.fail("linkage.link_floor",
                            f"{floor} is above match_threshold {threshold}",
                            hint="link_floor keeps weaker links for review; make it lower")
        model: Path | None = None
        if "model" in table:
            text = table["model"]
            if not isinstance(text, str) or not text.strip():
                raise self.fail("linkage.model", "must be a path (text)")
            model = (self.base / text).resolve()
            if not model.is_file():
                raise self.fail("linkage.model", f"model file not found: {model}",
                                hint="paths are relative to the job file's folder")
        memory_limit = table.get("memory_limit", defaults.memory_limit)
        if not isinstance(memory_limit, str) or not re.fullmatch(
            r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", memory_limit, flags=re.IGNORECASE
        ):
            raise self.fail("linkage.memory_limit", f"not a memory size: {memory_limit!r}",
                            hint='for example "3GB" or "500MB"')
        return LinkageSettings(backend=backend, match_threshold=threshold, link_floor=floor,
                               model=model, memory_limit=memory_limit.strip(),
                               cannot_link=read_settings(table.get("cannot_link", {}), where=self.where))

    def probability(self, table: Mapping[str, Any], key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.fail(f"linkage.{key}", f"must be a number from 0 to 1, not {value!r}")
        return float(value)

    def spark(self, table: Mapping[str, Any]) -> SparkSettings:
        self.check_keys(table, _SPARK_KEYS, "spark.")
        defaults = SparkSettings()
        master = table.get("master", defaults.master)
        if not isinstance(master, str) or not master.strip():
            raise self.fail("spark.master", f"must be a Spark master URL, not {master!r}",
                            hint='e.g. "local[*]", "local[4]", "spark://host:7077", "yarn"')
        memory: dict[str, str | None] = {}
        for key in ("driver_memory", "executor_memory"):
            value = table.get(key)
            if value is not None and (not isinstance(value, str)
                                      or not SPARK_MEMORY.fullmatch(value.strip())):
                raise self.fail(f"spark.{key}", f"not a Spark memory size: {value!r}",
                                hint='a whole number with k, m, g or t, e.g. "4g" or "512m"')
            memory[key] = value.strip().lower() if isinstance(value, str) else None
        partitions = table.get("shuffle_partitions")
        if partitions is not None and (isinstance(partitions, bool)
                                       or not isinstance(partitions, int) or partitions <= 0):
            raise self.fail("spark.shuffle_partitions",
                            f"must be a whole number > 0, not {partitions!r}")
        checkpoint_dir: str | None = None
        if "checkpoint_dir" in table:
            text = table["checkpoint_dir"]
            if not isinstance(text, str) or not text.strip():
                raise self.fail("spark.checkpoint_dir", "must be a folder path or URI (text)")
            text = text.strip()
            checkpoint_dir = text if "://" in text else str((self.base / text).resolve())
        conf = self.spark_conf(table.get("conf", {}))
        return SparkSettings(master=master.strip(), driver_memory=memory["driver_memory"],
                             executor_memory=memory["executor_memory"],
                             shuffle_partitions=partitions, checkpoint_dir=checkpoint_dir,
                             conf=conf)

    def spark_conf(self, value: Any, prefix: str = "") -> dict[str, str]:
        """``[spark.conf]`` flattened: ``spark.sql.adaptive.enabled = true`` written unquoted
        in TOML is a nested table; either spelling gives the same setting."""
        if not isinstance(value, dict):
            raise self.fail(f"spark.conf{'.' + prefix if prefix else ''}",
                            f"must be a table of Spark settings, not {kind_of(value)}",
                            hint='e.g. [spark.conf] "spark.sql.adaptive.enabled" = true')
        conf: dict[str, str] = {}
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(item, dict):
                conf.update(self.spark_conf(item, name))
                continue
            if name in SPARK_DEDICATED_CONF:
                raise self.fail(f"spark.conf.{name}", "has its own key in [spark]",
                                hint=f"write spark.{SPARK_DEDICATED_CONF[name]} instead")
            if isinstance(item, bool):
                conf[name] = "true" if item else "false"
            elif isinstance(item, int | float | str):
                conf[name] = str(item)
            else:
                raise self.fail(f"spark.conf.{name}",
                                f"must be text, a number or true/false, not {kind_of(item)}")
        return conf

    def family(self, table: Mapping[str, Any]) -> FamilySettings:
        self.check_keys(table, _FAMILY_KEYS, "family.")
        values = {}
        for key in _FAMILY_KEYS:
            value = table.get(key, getattr(FamilySettings, key))
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise self.fail(f"family.{key}", f"must be a whole number of months > 0, "
                                f"not {value!r}")
            values[key] = value
        return FamilySettings(**values)

    def flags(self, table: Mapping[str, Any]) -> dict[str, dict[str, FlagValue]]:
        """``[flags.<rule>]`` tables of settings; which rules and keys exist is checked by
        the models stage, which owns the rules."""
        flags: dict[str, dict[str, FlagValue]] = {}
        for rule, settings in table.items():
            if not isinstance(settings, dict):
                raise self.fail(f"flags.{rule}", f"must be a table ([flags.{rule}]), not "
                                f"{kind_of(settings)}",
                                hint=f"e.g. [flags.{rule}] with enabled = false")
            for key, value in settings.items():
                is_codes = isinstance(value, list) and all(isinstance(v, str) for v in value)
                if not (isinstance(value, bool | int) or is_codes):
                    raise self.fail(f"flags.{rule}.{key}", "must be true/false, a whole "
                                    f"number or a list of text, not {kind_of(value)}")
            flags[rule] = dict(settings)
        return flags
