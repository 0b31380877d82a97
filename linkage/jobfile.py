"""Read and check a job file (``job.toml``): where each agency's extracts are and how their
columns and codes map onto famlink's canonical fields.

The contract is ``docs/jobfile.md``. :func:`load_job` returns a frozen :class:`Job`; every
mistake is a :class:`~linkage.errors.JobFileError` naming the job file, the source and the key.
This module only reads the job file and checks that the extracts exist; reading the extracts
(and checking their headers) is :mod:`famlink.linkage.ingest`'s work.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage.errors import JobFileError

# --- canonical vocabularies (docs/jobfile.md) ------------------------------------------------

FILE_KINDS = ("people", "relationships", "events")

SEX_VALUES = ("male", "female", "unknown")
RELATIONSHIPS = (
    "mother", "father", "parent", "step_parent", "partner", "ex_partner", "child", "sibling",
    "half_sibling", "carer", "household_member", "other",
)
EVENT_TYPES = (
    "referral", "assessment", "cin_plan", "cp_plan", "looked_after", "gcp2_assessment",
    "domestic_abuse", "mental_health_admission", "mental_health_detention",
    "mental_health_referral", "substance_misuse", "injury", "neglect_concern",
    "missed_appointment", "send", "offence", "birth", "other",
)
ROLES = ("subject", "victim", "suspect", "witness", "child_present", "other")

#: canonical value vocabulary of each field that has codes
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "sex": SEX_VALUES,
    "relationship": RELATIONSHIPS,
    "event_type": EVENT_TYPES,
    "role": ROLES,
}

#: canonical fields of each file kind, in table order
FIELDS: dict[str, tuple[str, ...]] = {
    "people": (
        "record_id", "first_name", "middle_names", "surname", "dob", "sex", "nhs_number",
        "address", "postcode", "uprn", "address_from", "address_to", "relationship_to",
        "relationship",
    ),
    "relationships": ("record_id", "related_record_id", "relationship", "start_date", "end_date"),
    "events": ("record_id", "event_id", "event_date", "event_type", "role", "summary"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("record_id",),
    "relationships": ("record_id", "related_record_id", "relationship"),
    "events": ("record_id", "event_date", "event_type"),
}
#: fields that may be a list of columns joined by spaces
JOINABLE_FIELDS = frozenset({"address", "first_name", "middle_names", "surname", "summary"})
#: fields parsed as dates with the file's date_format
DATE_FIELDS = frozenset({"dob", "address_from", "address_to", "start_date", "end_date",
                         "event_date"})
#: fields whose codes may be mapped, per file kind
CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("sex", "relationship"),
    "relationships": ("relationship",),
    "events": ("event_type", "role"),
}

BACKENDS = ("duckdb", "spark")
FORMATS = ("csv", "parquet")
ENCODINGS = ("utf-8", "latin-1")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")

_TOP_KEYS = ("job", "linkage", "spark", "family", "sources")
_JOB_KEYS = ("name", "reference_date", "seed")
_LINKAGE_KEYS = ("backend", "match_threshold", "link_floor", "model", "memory_limit")
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
_SOURCE_KEYS = ("name", "agency", "primary", *FILE_KINDS)
_FILE_KEYS = ("path", "format", "delimiter", "encoding", "date_format", "columns", "codes")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
               ".pq": "parquet"}


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
class FileSpec:
    """One extract of a source (``[sources.people]``, ``.relationships`` or ``.events``)."""

    kind: str
    #: the path as written in the job file (shown to users, stored in the tables' ``file``)
    path_text: str
    #: the path resolved against the job file's folder
    path: Path
    format: str
    delimiter: str
    encoding: str
    #: strptime formats tried in order
    date_formats: tuple[str, ...]
    #: canonical field -> extract column(s); several columns are joined by spaces
    columns: Mapping[str, tuple[str, ...]]
    #: canonical field -> {extract code (trimmed, lower case) -> canonical value}
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceSpec:
    """One agency's extracts (one ``[[sources]]`` entry)."""

    name: str
    agency: str
    primary: bool
    people: FileSpec
    relationships: FileSpec | None = None
    events: FileSpec | None = None

    def files(self) -> tuple[FileSpec, ...]:
        """The source's extracts in the order people, relationships, events."""
        return tuple(f for f in (self.people, self.relationships, self.events) if f is not None)


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

    def source(self, name: str) -> SourceSpec:
        """The source called ``name`` (KeyError if there is none)."""
        for spec in self.sources:
            if spec.name == name:
                return spec
        raise KeyError(name)


# --- loading ----------------------------------------------------------------------------------


def load_job(path: str | Path) -> Job:
    """Read and check the job file at ``path``.

    Raises :class:`JobFileError` naming the job file, the source and the key for any mistake:
    bad TOML, a missing or unknown key (with a "did you mean"), a bad value, an extract or model
    file that does not exist (named as resolved).
    """
    job_path = Path(path)
    where = str(path)
    if not job_path.is_file():
        raise JobFileError(f"job file not found: {job_path.resolve()}", file=where)
    raw_bytes = job_path.read_bytes()
    try:
        raw_toml = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise JobFileError(f"not UTF-8 text ({err})", file=where) from err
    try:
        data = tomllib.loads(raw_toml)
    except tomllib.TOMLDecodeError as err:
        raise JobFileError(f"not valid TOML: {err}", file=where) from err
    reader = _Reader(where, job_path.resolve().parent)
    return reader.job(data, job_path, raw_toml, hashlib.sha256(raw_bytes).hexdigest())


class _Reader:
    """Walks the parsed TOML, raising JobFileError with the job file and key for mistakes."""

    def __init__(self, where: str, base: Path) -> None:
        self.where = where
        self.base = base

    def fail(self, key: str, message: str, *, source: str | None = None,
             hint: str | None = None) -> JobFileError:
        prefix = f"source {source!r}, " if source is not None else ""
        return JobFileError(f"{prefix}{key}: {message}", file=self.where, hint=hint)

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str,
                   *, source: str | None = None) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}?" if close
                        else "allowed keys: " + ", ".join(allowed))
                raise self.fail(f"{prefix}{key}", "unknown key", source=source, hint=hint)

    def table(self, data: Mapping[str, Any], key: str, prefix: str, *, required: bool,
              source: str | None = None) -> dict[str, Any] | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{prefix}{key}", "missing (required)", source=source)
            return None
        if not isinstance(value, dict):
            raise self.fail(f"{prefix}{key}", f"must be a table, not {_kind(value)}",
                            source=source)
        return value

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
                               model=model, memory_limit=memory_limit.strip())

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
                            f"must be a table of Spark settings, not {_kind(value)}",
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
                                f"must be text, a number or true/false, not {_kind(item)}")
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

    # -- sources

    def sources(self, value: Any) -> tuple[SourceSpec, ...]:
        if value is None:
            raise self.fail("sources", "no [[sources]] given",
                            hint="add one [[sources]] table per agency extract")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail("sources", "must be an array of tables ([[sources]])")
        if not value:
            raise self.fail("sources", "no [[sources]] given")
        specs: list[SourceSpec] = []
        seen: set[str] = set()
        for index, table in enumerate(value, start=1):
            spec = self.source(table, index)
            if spec.name in seen:
                raise self.fail("sources.name", f"duplicate source name {spec.name!r}",
                                hint="each [[sources]] needs its own name")
            seen.add(spec.name)
            specs.append(spec)
        return tuple(specs)

    def source(self, table: Mapping[str, Any], index: int) -> SourceSpec:
        name = table.get("name")
        if name is None:
            raise self.fail(f"sources[{index}].name", "missing (required)")
        if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
            raise self.fail(f"sources[{index}].name", f"bad source name {name!r}",
                            hint="a lower-case identifier: a letter, then letters, digits or _ "
                                 "(e.g. 'csc', 'police_2024')")
        self.check_keys(table, _SOURCE_KEYS, "", source=name)
        agency = table.get("agency", name)
        if not isinstance(agency, str) or not agency.strip():
            raise self.fail("agency", "must be non-empty text", source=name)
        primary = table.get("primary", False)
        if not isinstance(primary, bool):
            raise self.fail("primary", f"must be true or false, not {primary!r}", source=name)
        files: dict[str, FileSpec | None] = {}
        for kind in FILE_KINDS:
            sub = self.table(table, kind, "", required=kind == "people", source=name)
            files[kind] = self.file_spec(sub, kind, name) if sub is not None else None
        people = files["people"]
        assert people is not None
        return SourceSpec(name=name, agency=agency.strip(), primary=primary, people=people,
                          relationships=files["relationships"], events=files["events"])

    def file_spec(self, table: Mapping[str, Any], kind: str, source: str) -> FileSpec:
        self.check_keys(table, _FILE_KEYS, f"{kind}.", source=source)
        path_text = table.get("path")
        if not isinstance(path_text, str) or not path_text.strip():
            raise self.fail(f"{kind}.path", "missing (required): the extract's path",
                            source=source)
        path = (self.base / path_text).resolve()
        fmt = table.get("format")
        if fmt is None:
            fmt = _EXTENSIONS.get(path.suffix.lower())
            if fmt is None:
                raise self.fail(f"{kind}.format", f"cannot tell the format of {path_text!r}",
                                source=source, hint='add format = "csv" or format = "parquet"')
        if fmt not in FORMATS:
            raise self.fail(f"{kind}.format", f"unknown format {fmt!r}", source=source,
                            hint="use one of: " + ", ".join(FORMATS))
        if not path.is_file():
            raise self.fail(f"{kind}.path", f"file not found: {path}", source=source,
                            hint="paths are relative to the job file's folder")
        delimiter = table.get("delimiter", "\t" if path.suffix.lower() == ".tsv" else ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
            raise self.fail(f"{kind}.delimiter", f"must be one character, not {delimiter!r}",
                            source=source, hint='e.g. delimiter = "," or "|" or "\\t"')
        encoding = str(table.get("encoding", "utf-8")).lower().replace("_", "-")
        encoding = {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1"}.get(
            encoding, encoding)
        if encoding not in ENCODINGS:
            raise self.fail(f"{kind}.encoding", f"unsupported encoding {table['encoding']!r}",
                            source=source, hint="use one of: " + ", ".join(ENCODINGS))
        return FileSpec(
            kind=kind,
            path_text=path_text,
            path=path,
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
            date_formats=self.date_formats(table.get("date_format"), kind, source),
            columns=self.columns(table.get("columns"), kind, source),
            codes=self.codes(table.get("codes"), kind, source),
        )

    def date_formats(self, value: Any, kind: str, source: str) -> tuple[str, ...]:
        key = f"{kind}.date_format"
        if value is None:
            return DEFAULT_DATE_FORMATS
        formats = [value] if isinstance(value, str) else value
        if not isinstance(formats, list) or not formats or not all(
            isinstance(f, str) for f in formats
        ):
            raise self.fail(key, "must be a strptime format or a non-empty list of them",
                            source=source, hint='e.g. date_format = ["%d/%m/%Y", "%Y-%m-%d"]')
        for fmt in formats:
            if not _round_trips(fmt):
                raise self.fail(key, f"not a usable strptime date format: {fmt!r}",
                                source=source, hint="e.g. %d/%m/%Y, %Y-%m-%d, %d-%b-%Y, %Y%m%d")
        return tuple(formats)

    def columns(self, value: Any, kind: str, source: str) -> dict[str, tuple[str, ...]]:
        prefix = f"{kind}.columns"
        if value is None:
            raise self.fail(prefix, "missing (required): map canonical fields to columns",
                            source=source)
        if not isinstance(value, dict):
            raise self.fail(prefix, "must be a table", source=source)
        allowed = FIELDS[kind]
        columns: dict[str, tuple[str, ...]] = {}
        for canonical, mapped in value.items():
            key = f"{prefix}.{canonical}"
            if canonical not in allowed:
                close = difflib.get_close_matches(canonical, allowed, n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}?" if close
                        else f"{kind} fields are: " + ", ".join(allowed))
                raise self.fail(key, f"unknown canonical field {canonical!r}", source=source,
                                hint=hint)
            if isinstance(mapped, str):
                names = [mapped]
            elif isinstance(mapped, list) and mapped and all(isinstance(m, str) for m in mapped):
                if len(mapped) > 1 and canonical not in JOINABLE_FIELDS:
                    raise self.fail(key, "only one column allowed for this field", source=source,
                                    hint="lists are allowed for: "
                                         + ", ".join(sorted(JOINABLE_FIELDS)))
                names = mapped
            else:
                raise self.fail(key, "must be a column name or a list of column names",
                                source=source)
            if any(not n for n in names):
                raise self.fail(key, "empty column name", source=source)
            columns[canonical] = tuple(names)
        for required in REQUIRED_FIELDS[kind]:
            if required not in columns:
                raise self.fail(f"{prefix}.{required}", "missing (required)", source=source)
        if kind == "people" and ("relationship_to" in columns) != ("relationship" in columns):
            missing = "relationship" if "relationship_to" in columns else "relationship_to"
            raise self.fail(f"{prefix}.{missing}", "missing: relationship_to and relationship "
                            "go together", source=source)
        return columns

    def codes(self, value: Any, kind: str, source: str) -> dict[str, dict[str, str]]:
        prefix = f"{kind}.codes"
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(prefix, "must be a table", source=source)
        allowed = CODE_FIELDS[kind]
        codes: dict[str, dict[str, str]] = {}
        for canonical, mapping in value.items():
            key = f"{prefix}.{canonical}"
            if canonical not in allowed:
                close = difflib.get_close_matches(canonical, allowed, n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}?" if close
                        else f"{kind} codes can be given for: " + ", ".join(allowed))
                raise self.fail(key, "no codes for this field", source=source, hint=hint)
            if not isinstance(mapping, dict):
                raise self.fail(key, "must be a table of code = value", source=source)
            vocabulary = VOCABULARIES[canonical]
            normalised: dict[str, str] = {}
            for code, target in mapping.items():
                if not isinstance(target, str) or target not in vocabulary:
                    close = difflib.get_close_matches(str(target), vocabulary, n=1, cutoff=0.6)
                    hint = (f"did you mean {close[0]!r}?" if close
                            else "use one of: " + ", ".join(vocabulary))
                    raise self.fail(f"{key}.{code}", f"{target!r} is not a canonical "
                                    f"{canonical} value", source=source, hint=hint)
                norm = code.strip().lower()
                if norm in normalised and normalised[norm] != target:
                    raise self.fail(f"{key}.{code}", f"code {code!r} is mapped twice (codes are "
                                    "matched trimmed and case-insensitively)", source=source)
                normalised[norm] = target
            codes[canonical] = normalised
        return codes


def _round_trips(fmt: str) -> bool:
    """True if DuckDB formats and parses a full date with ``fmt`` (catches typos such as
    ``%Q`` and formats without a day, month and year)."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT CAST(try_strptime(strftime(TIMESTAMP '2001-02-03 04:05:06', $f), $f) AS DATE)",
            {"f": fmt},
        ).fetchall()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return rows == [(date(2001, 2, 3),)]


def _kind(value: Any) -> str:
    return {str: "text", int: "a number", float: "a number", bool: "true/false",
            list: "a list"}.get(type(value), type(value).__name__)
