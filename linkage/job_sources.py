"""The ``[[sources]]`` of a job file: the canonical vocabularies, each agency's extracts
(:class:`SourceSpec`, :class:`FileSpec`) and how their columns and codes are read and checked.

:class:`TableReader` is the checking both this module and :mod:`famlink.linkage.jobfile` use:
every mistake is a :class:`~linkage.errors.JobFileError` naming the job file, the source and
the key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage.code_hints import meaning, suggest
from famlink.linkage.errors import JobFileError

# --- canonical vocabularies (docs/jobfile.md) ------------------------------------------------

FILE_KINDS = ("people", "relationships", "events")

SEX_VALUES = ("male", "female", "unknown")
#: the ``relationships`` table's vocabulary: "related_record_id is record_id's <relationship>".
#: ``co_parent``: the other parent of the person's child; ``partner_of_parent``: a partner of
#: the person's parent who is not recorded as a step-parent (a mother's new partner, seen from
#: her child)
RELATIONSHIPS = (
    "mother", "father", "parent", "step_parent", "partner", "ex_partner", "child", "step_child",
    "sibling", "half_sibling", "grandparent", "grandchild", "co_parent", "partner_of_parent",
    "carer", "household_member", "other",
)
#: a code mapped to ``<relationship>_of`` reads the other way round: "record_id is
#: related_record_id's <relationship>" (``child_of``: the record is the related record's
#: child). Ingest swaps the two ids, so the table keeps one direction, and marks the row
#: ``reversed``.
REVERSED_SUFFIX = "_of"
REVERSED_RELATIONSHIPS = tuple(f"{r}{REVERSED_SUFFIX}" for r in RELATIONSHIPS if r != "other")
#: what ``codes.relationship`` may map to
RELATIONSHIP_CODE_VALUES = RELATIONSHIPS + REVERSED_RELATIONSHIPS
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
    "relationship": RELATIONSHIP_CODE_VALUES,
    "event_type": EVENT_TYPES,
    "role": ROLES,
}

#: canonical fields of each file kind, in table order
FIELDS: dict[str, tuple[str, ...]] = {
    "people": (
        "record_id", "first_name", "middle_names", "surname", "dob", "sex", "nhs_number",
        "address", "postcode", "uprn", "address_from", "address_to", "relationship_to",
        "relationship", "preferred_name", "former_surname", "title", "person_id",
    ),
    "relationships": ("record_id", "related_record_id", "relationship", "start_date", "end_date"),
    "events": ("record_id", "event_id", "event_date", "event_type", "role", "summary",
               "end_date"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("record_id",),
    "relationships": ("record_id", "related_record_id", "relationship"),
    "events": ("record_id", "event_date", "event_type"),
}
#: fields that may be a list of columns joined by spaces
JOINABLE_FIELDS = frozenset({"address", "first_name", "middle_names", "surname", "summary",
                             "preferred_name", "former_surname"})
#: fields that may be a list of columns of which the first non-empty one is read
FIRST_OF_FIELDS = frozenset({"sex"})
#: fields parsed as dates with the file's date_format
DATE_FIELDS = frozenset({"dob", "address_from", "address_to", "start_date", "end_date",
                         "event_date"})
#: fields whose codes may be mapped, per file kind
CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("sex", "relationship"),
    "relationships": ("relationship",),
    "events": ("event_type", "role"),
}
FORMATS = ("csv", "parquet")
ENCODINGS = ("utf-8", "latin-1")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
#: ``date_min_parsed``: below this share of a date column's non-empty values read by its
#: ``date_format``, ingest warns (``famlink link --strict``: stops)
DEFAULT_DATE_MIN_PARSED = 0.9
SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: an identifier's name in ``[sources.people.identifiers]`` (its column: ``id_<name>``)
IDENTIFIER_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: identifiers with a canonical field of their own (validated, compared as such)
RESERVED_IDENTIFIERS = ("nhs_number", "uprn")
#: ``postcode_format``: ``uk`` validates UK postcodes; ``any`` keeps any postcode as written
POSTCODE_FORMATS = ("uk", "any")
_SOURCE_KEYS = ("name", "agency", "primary", *FILE_KINDS)
_FILE_KEYS = ("path", "format", "delimiter", "encoding", "date_format", "date_min_parsed",
              "columns", "codes", "episode_ends")
#: keys only a people file has
_PEOPLE_KEYS = ("identifiers", "postcode_format")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
               ".pq": "parquet"}

@dataclass(frozen=True)
class FileSpec:
    """One extract of a source (``[sources.people]``, ``.relationships`` or ``.events``)."""

    kind: str
    #: the path as written in the job file (shown to users, stored in the tables' ``file``)
    path_text: str
    #: the path resolved against the job file's folder (or ``famlink link --data DIR``)
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
    #: events only: {extract code (trimmed, lower case) -> the canonical event type whose
    #: episode it ends} (``[sources.events.episode_ends]``)
    episode_ends: Mapping[str, str] = field(default_factory=dict)
    #: people files: identifier name -> extract column (``[sources.people.identifiers]``)
    identifiers: Mapping[str, str] = field(default_factory=dict)
    #: people files: ``uk`` (validated UK postcodes) or ``any`` (kept as written)
    postcode_format: str = "uk"
    #: a date column whose formats read less than this share of its non-empty values is
    #: reported (:mod:`famlink.linkage.date_check`)
    date_min_parsed: float = DEFAULT_DATE_MIN_PARSED

    def mapped_columns(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every extract column the job file names, with the key that names it
        (``columns.surname``, ``identifiers.upn``): each must be in the file's header."""
        return ([(f"columns.{name}", cols) for name, cols in self.columns.items()]
                + [(f"identifiers.{name}", (col,)) for name, col in self.identifiers.items()])


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


def identifier_names(sources: tuple[SourceSpec, ...] | list[SourceSpec]) -> tuple[str, ...]:
    """Every identifier name any source declares, sorted: ``source_records`` has one
    ``id_<name>`` column for each (the same name in two sources is the same identifier)."""
    return tuple(sorted({name for s in sources for name in s.people.identifiers}))


class TableReader:
    """Walks the parsed TOML, raising JobFileError with the job file and key for mistakes."""

    def __init__(self, where: str, base: Path, *, data_base: Path | None = None) -> None:
        self.where = where
        #: the job file's folder
        self.base = base
        #: ``--data DIR``: the folder extract paths are relative to (None: ``base``)
        self.data_base = data_base

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
            raise self.fail(f"{prefix}{key}", f"must be a table, not {kind_of(value)}",
                            source=source)
        return value


class SourceReader(TableReader):
    """Reads ``[[sources]]``: each agency's extracts, their columns and codes."""

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
        allowed = _FILE_KEYS + _PEOPLE_KEYS if kind == "people" else _FILE_KEYS
        self.check_keys(table, allowed, f"{kind}.", source=source)
        path_text = table.get("path")
        if not isinstance(path_text, str) or not path_text.strip():
            raise self.fail(f"{kind}.path", "missing (required): the extract's path",
                            source=source)
        path = ((self.data_base or self.base) / path_text).resolve()
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
            relative_to = (f"the --data folder {self.data_base}" if self.data_base
                           else "the job file's folder (or give famlink link --data DIR)")
            raise self.fail(f"{kind}.path", f"file not found: {path}", source=source,
                            hint=f"extract paths are relative to {relative_to}")
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
        codes = self.codes(table.get("codes"), kind, source)
        return FileSpec(
            kind=kind,
            path_text=path_text,
            path=path,
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
            date_formats=self.date_formats(table.get("date_format"), kind, source),
            date_min_parsed=self.date_min_parsed(table.get("date_min_parsed"), kind, source),
            columns=self.columns(table.get("columns"), kind, source),
            codes=codes,
            episode_ends=self.episode_ends(table.get("episode_ends"), kind, source,
                                           codes.get("event_type", {})),
            identifiers=self.identifiers(table.get("identifiers"), source),
            postcode_format=self.postcode_format(table.get("postcode_format"), source),
        )

    def identifiers(self, value: Any, source: str) -> dict[str, str]:
        """``[sources.people.identifiers]``: identifier name = extract column."""
        prefix = "people.identifiers"
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(prefix, "must be a table of name = column", source=source,
                            hint='e.g. [sources.people.identifiers] then ni_number = "NI No"')
        identifiers: dict[str, str] = {}
        for name, column in value.items():
            key = f"{prefix}.{name}"
            if name in RESERVED_IDENTIFIERS:
                raise self.fail(key, f"{name} is a canonical field, not an identifier name",
                                source=source,
                                hint=f"map it under [sources.people.columns]: {name} = "
                                     f"{column!r}" if isinstance(column, str) else None)
            if not IDENTIFIER_NAME.fullmatch(name):
                raise self.fail(key, f"bad identifier name {name!r}", source=source,
                                hint="a lower-case name: a letter, then letters, digits or _ "
                                     "(e.g. 'ni_number', 'upn')")
            if not isinstance(column, str) or not column:
                raise self.fail(key, "must be one column name", source=source)
            identifiers[name] = column
        return identifiers

    def postcode_format(self, value: Any, source: str) -> str:
        if value is None:
            return "uk"
        if value not in POSTCODE_FORMATS:
            raise self.fail("people.postcode_format", f"unknown postcode format {value!r}",
                            source=source,
                            hint='"uk" (the default: valid UK postcodes) or "any" (kept as '
                                 "written, upper case, spaces removed)")
        return str(value)

    def episode_ends(self, value: Any, kind: str, source: str,
                     type_codes: Mapping[str, str]) -> dict[str, str]:
        """``[sources.events.episode_ends]``: end code = the event type whose episode it
        ends (``CPP_END = "cp_plan"``)."""
        key = f"{kind}.episode_ends"
        if value is None:
            return {}
        if kind != "events":
            raise self.fail(key, "only an events file has episode ends", source=source,
                            hint="move it to [sources.events.episode_ends]")
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table of end code = event type", source=source,
                            hint='e.g. [sources.events.episode_ends] with CPP_END = "cp_plan"')
        ends: dict[str, str] = {}
        for code, target in value.items():
            if not isinstance(target, str) or target not in EVENT_TYPES:
                close = suggest("event_type", str(target), EVENT_TYPES)
                hint = (f"did you mean {close!r}?" if close
                        else "use one of: " + ", ".join(EVENT_TYPES))
                raise self.fail(f"{key}.{code}", f"{target!r} is not a canonical event type",
                                source=source, hint=hint)
            norm = code.strip().lower()
            if norm in type_codes or norm in EVENT_TYPES:
                what = (f"mapped to {type_codes[norm]!r} in codes.event_type" if norm in type_codes
                        else "a canonical event type, which marks a start")
                raise self.fail(f"{key}.{code}", f"code {code!r} is {what}", source=source,
                                hint="an end code closes an episode; its start has another code")
            if norm in ends and ends[norm] != target:
                raise self.fail(f"{key}.{code}", f"code {code!r} is given twice (codes are "
                                "matched trimmed and case-insensitively)", source=source)
            ends[norm] = target
        return ends

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

    def date_min_parsed(self, value: Any, kind: str, source: str) -> float:
        """``date_min_parsed``: a share in (0, 1]. 0 would silence the check, which is not
        what a data officer lowering it for a known-messy column means."""
        if value is None:
            return DEFAULT_DATE_MIN_PARSED
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise self.fail(f"{kind}.date_min_parsed",
                            f"must be a number above 0 and at most 1, not {value!r}",
                            source=source,
                            hint="the share of a date column's non-empty values its date_format "
                                 "must read, e.g. date_min_parsed = 0.8 (default 0.9)")
        return float(value)

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
                if len(mapped) > 1 and canonical not in JOINABLE_FIELDS | FIRST_OF_FIELDS:
                    raise self.fail(key, "only one column allowed for this field", source=source,
                                    hint="lists are allowed for: "
                                         + ", ".join(sorted(JOINABLE_FIELDS | FIRST_OF_FIELDS)))
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
                    meant = suggest(canonical, str(target), vocabulary)
                    hint = (f"did you mean {meant!r}?{meaning(canonical, meant)}" if meant
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


def kind_of(value: Any) -> str:
    """How a TOML value's type is named in messages."""
    return {str: "text", int: "a number", float: "a number", bool: "true/false",
            list: "a list"}.get(type(value), type(value).__name__)
