"""The model fits the job: comparisons, blocking rules and training blocks from the data.

famlink profiles what the job's sources populate (:func:`profile`: the share of records with
a value, per column of the model's input, after standardisation, over the records of the
sources that map the column) and builds the model from the fields that are there
(:func:`build_spec`): a field absent, mapped by no source, or ``max_empty_share`` (95 %) or
more empty where it is mapped, gets no comparison and no blocking rule, and the run says so,
one line per field naming the sources that map it. A field only one source maps is still
compared when that source fills it: it finds that source's duplicates. The
job file's ``[model]`` table (:mod:`famlink.linkage.model_options`) then adds, replaces or
drops comparisons and blocking rules in Splink's vocabulary. A saved model reused with
``--model`` is checked against the same profile (:func:`check_model_fits`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

from famlink.linkage import splink_model
from famlink.linkage.errors import FamlinkError
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.standardise import quote_ident

# --- the model's input: one row per used people record ----------------------------------------

#: (input column, SQL over ``source_records``) always present
_BASE_INPUT = (
    ("unique_id", "record_id"),
    # nickname-resolved first token, so "Bob" and "Robert" agree exactly
    ("first_name", "first_name_canonical"),
    ("first_name_as_written", "first_name_clean"),
    ("surname", "surname_clean"),
    ("surname_first_token", "surname_first_token"),
    ("dob", "dob"),
    ("sex", "sex"),
    ("nhs_number", "nhs_number"),
    ("postcode", "postcode"),
    ("uprn", "uprn"),
    # The first number in the address (house or flat number) and the first two words
    # of letters (the street: "126 rochdale terrace birstall" → "rochdale terrace").
    ("address_number", r"nullif(regexp_extract(address_clean, '([0-9]+[a-z]?)', 1), '')"),
    ("address_street", r"nullif(regexp_extract(address_clean, '([a-z]{2,} [a-z]{2,})', 1), '')"),
)
#: the outward code, when ingest has not written ``postcode_district`` itself
_DISTRICT_FROM_POSTCODE = r"nullif(regexp_extract(postcode, '^([A-Z]{1,2}[0-9][A-Z0-9]?) ', 1), '')"
#: columns of ``source_records`` used as they are when they exist (ingest adds them)
_OPTIONAL_INPUT = ("other_forenames", "other_surnames")
IDENTIFIER_PREFIX = "id_"


def source_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of ``source_records``, in order."""
    return [r[0] for r in con.execute("DESCRIBE source_records").fetchall()]


def input_columns(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(name, SQL) of each input column, given ``source_records``' ``columns``."""
    present = set(columns)
    district = "postcode_district" if "postcode_district" in present else _DISTRICT_FROM_POSTCODE
    out = [*_BASE_INPUT, ("postcode_district", district)]
    out += [(c, c) for c in _OPTIONAL_INPUT if c in present]
    out += [(c, c) for c in sorted(c for c in present if c.startswith(IDENTIFIER_PREFIX))]
    return out


def input_columns_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The select list turning ``source_records`` into the model's input columns."""
    return ",\n    ".join(
        expr if expr == name else f"{expr} AS {name}" for name, expr in input_columns(source_columns(con)))


def splink_input_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT of one source's records as the model compares them; one parameter: the source."""
    return (f"SELECT {input_columns_sql(con)} FROM source_records "  # noqa: S608 - famlink's own SQL
            "WHERE source = ? ORDER BY record_id")


# --- profile ----------------------------------------------------------------------------------

#: the raw column of ``source_records`` behind an input column, where it keeps one: a source
#: whose values standardisation nulled (NHS numbers failing their check digit) still maps it
_RAW_OF = {
    "first_name": "first_name", "first_name_as_written": "first_name", "surname": "surname",
    "surname_first_token": "surname", "dob": "dob_raw", "sex": "sex_raw",
    "nhs_number": "nhs_number_raw", "postcode": "postcode_raw", "postcode_district": "postcode_raw",
    "uprn": "uprn_raw", "address_number": "address", "address_street": "address",
}


@dataclass(frozen=True)
class FieldFill:
    """How full one input column is where it is mapped."""

    column: str
    #: share of the mapping sources' records with a value; None when the input has no column
    share: float | None
    #: the sources that map it, and how many sources the job has
    sources: tuple[str, ...] = ()
    of_sources: int = 0

    def describe(self) -> str:
        """Where the column is empty, for the line the run prints.

        >>> FieldFill("id_ni_number", 0.04, ("housing",), 8).describe()
        '96% empty in the 1 source that maps it (housing)'
        >>> FieldFill("sex", 0.0, ("a", "b"), 2).describe()
        '100% empty in all 2 sources'
        >>> FieldFill("uprn", 0.0, (), 2).describe()
        'mapped by no source'
        """
        if self.share is None:
            return "absent from the model's input"
        if not self.sources:
            return "mapped by no source"
        empty = f"{1 - self.share:.0%} empty"
        n = len(self.sources)
        if n == self.of_sources and n > 1:
            return f"{empty} in all {n} sources"
        maps = "source that maps" if n == 1 else "sources that map"
        return f"{empty} in the {n} {maps} it ({', '.join(self.sources)})"


@dataclass(frozen=True)
class Profile:
    """Share of records with a value, per input column (absent columns are not in it),
    measured over the records of the sources that map the column: a source that does not
    map a field cannot leave it empty, so an identifier only some agencies hold is judged
    by how well those agencies fill it."""

    records: int
    filled: Mapping[str, float]
    #: pairs of records sharing a value, per column a one-field rule or EM block may use
    pairs: Mapping[tuple[str, ...], int] = field(default_factory=dict)
    #: per column, the sources that map it (all of them when not given)
    mapped_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def share(self, column: str) -> float | None:
        """The share filled where mapped, or None when the data has no such column."""
        return self.filled.get(column)

    def fill(self, column: str) -> FieldFill:
        return FieldFill(column, self.share(column), tuple(self.mapped_by.get(column, self.sources)),
                         len(self.sources))


def _filled_sql(name: str) -> str:
    """Whether input column ``name`` holds a value (a SQL condition)."""
    if name in _OPTIONAL_INPUT:
        return f"len({quote_ident(name)}) > 0"
    if name == "sex":
        return "sex IN ('male', 'female')"  # agreeing on "unknown" says nothing
    return f"{quote_ident(name)} IS NOT NULL"


def profile(con: duckdb.DuckDBPyConnection) -> Profile:
    """Profile ``source_records`` as the model's input: per column, the share of non-empty
    values over the records of the sources that map it.

    Empty means NULL, an empty list, or sex ``unknown``. A source maps a column when any of
    its records has a value there, after standardisation or before (the raw column, where
    ``source_records`` keeps one): the job's mapping as the data shows it.
    """
    present = source_columns(con)
    columns = [name for name, _ in input_columns(present) if name != "unique_id"]
    counts = ", ".join(f"count(*) FILTER (WHERE {_filled_sql(name)})" for name in columns)
    filled = con.execute(
        f"SELECT source, count(*), {counts} FROM (SELECT source, {input_columns_sql(con)} "  # noqa: S608
        "FROM source_records) GROUP BY source ORDER BY source").fetchall()
    raw = sorted({_RAW_OF[name] for name in columns if _RAW_OF.get(name) in present})
    raw_counts = {row[0]: dict(zip(raw, row[1:], strict=True)) for row in con.execute(
        f"SELECT source{''.join(f', count({quote_ident(c)})' for c in raw)} FROM source_records "  # noqa: S608
        "GROUP BY source").fetchall()}
    records = {row[0]: row[1] for row in filled}
    per_source = {row[0]: dict(zip(columns, row[2:], strict=True)) for row in filled}
    shares: dict[str, float] = {}
    mapped_by: dict[str, tuple[str, ...]] = {}
    for name in columns:
        mapping = tuple(src for src in records if per_source[src][name] > 0
                        or raw_counts[src].get(_RAW_OF.get(name, ""), 0) > 0)
        total = sum(records[src] for src in mapping)
        shares[name] = sum(per_source[src][name] for src in mapping) / total if total else 0.0
        mapped_by[name] = mapping
    return Profile(records=sum(records.values()), filled=shares, pairs=_pairs(con, columns),
                   mapped_by=mapped_by, sources=tuple(records))


def _pairs(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> dict[tuple[str, ...], int]:
    """Pairs of records sharing a value, per one-field rule and per identifier (the pairs an
    EM block on it would train on)."""
    candidates = [*WIDE_RULES, *((c,) for c in columns if c == "nhs_number" or c.startswith(IDENTIFIER_PREFIX))]
    pairs = {}
    for rule in candidates:
        if all(name in columns for name in rule):
            keys = ", ".join(quote_ident(name) for name in rule)
            filled = " AND ".join(f"{quote_ident(name)} IS NOT NULL" for name in rule)
            pairs[rule] = int(con.execute(
                f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM "  # noqa: S608
                f"(SELECT {input_columns_sql(con)} FROM source_records) WHERE {filled} "
                f"GROUP BY {keys})").fetchall()[0][0])
    return pairs


#: blocking rules on one fact alone, used when the data makes few enough pairs on them (see
#: ModelOptions.wide_rule_pairs_per_record): the same date of birth, postcode, or house
WIDE_RULES: tuple[tuple[str, ...], ...] = (("dob",), ("postcode",), ("address_number", "address_street"))


# --- the spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A blocking rule: its ``block_on`` columns (or a name for a custom one) and Splink's rule."""

    columns: tuple[str, ...]
    creator: BlockingRuleCreator

    @property
    def label(self) -> str:
        return " + ".join(self.columns)


#: the name of the custom rule for swapped first name and surname (usable in [model])
SWAPPED_NAMES = "swapped_names"


@dataclass(frozen=True)
class ModelSummary:
    """What the model compares, what it left out and how it picks pairs: printed at training."""

    comparisons: tuple[str, ...]
    #: each candidate field left out, with where it is empty
    left_out: tuple[FieldFill, ...]
    blocking_rules: tuple[str, ...]
    em_blocks: tuple[str, ...] = ()
    max_empty_share: float = 0.95
    trained: bool = True

    def lines(self) -> list[str]:
        lines = [f"Model compares: {', '.join(self.comparisons)}"]
        # one line per field: which sources map it and how empty they leave it
        lines += [f"{f.column}: {f.describe()} — not compared" for f in self.left_out]
        lines.append(f"Blocking rules: {'; '.join(self.blocking_rules)}")
        if self.em_blocks:
            lines.append(f"EM trained on pairs sharing: {'; '.join(self.em_blocks)}")
        return lines


@dataclass(frozen=True)
class ModelSpec:
    """The model built for this job: comparisons, blocking rules, training blocks."""

    comparisons: tuple[tuple[str, ComparisonCreator], ...]
    blocking_rules: tuple[Rule, ...]
    deterministic_rules: tuple[Rule, ...]
    em_blocks: tuple[Rule, ...]
    left_out: tuple[FieldFill, ...]
    options: ModelOptions = field(default_factory=ModelOptions)

    def settings(self, *, link_type: splink_model.LinkType) -> SettingsCreator:
        return splink_model.settings([c for _, c in self.comparisons],
                                     [r.creator for r in self.blocking_rules], link_type=link_type)

    def plan(self, *, seed: int) -> splink_model.TrainingPlan:
        return splink_model.TrainingPlan(
            seed=seed,
            deterministic_rules=[(r.label, r.creator) for r in self.deterministic_rules],
            em_blocks=[(r.label, r.creator) for r in self.em_blocks],
            u_max_pairs=self.options.u_max_pairs,
            em_max_pairs=self.options.em_max_pairs,
            deterministic_recall=self.options.deterministic_recall,
        )

    def summary(self) -> ModelSummary:
        return ModelSummary(
            comparisons=tuple(name for name, _ in self.comparisons),
            left_out=self.left_out,
            blocking_rules=tuple(r.label for r in self.blocking_rules),
            em_blocks=tuple(r.label for r in self.em_blocks),
            max_empty_share=self.options.max_empty_share,
        )


def _rule(*columns: str) -> Rule:
    if columns == (SWAPPED_NAMES,):
        return Rule(columns, splink_model.swapped_names_rule())
    return Rule(columns, block_on(*columns))


def _rule_fields(rule: Sequence[str]) -> set[str]:
    """The input columns a rule's column expressions use."""
    if tuple(rule) == (SWAPPED_NAMES,):
        return {"first_name_as_written", "surname"}
    return {m for expr in rule for m in re.findall(r"[a-z_][a-z0-9_]*", expr)
            if m not in {"substr", "substring", "lower", "upper", "left", "right"}}


def build_spec(prof: Profile, options: ModelOptions | None = None) -> ModelSpec:
    """Comparisons, blocking rules and training blocks for the data ``prof`` describes.

    Raises :class:`FamlinkError` when ``[model]`` names a column the data lacks or leaves
    empty, or when nothing is left to train on.
    """
    options = options or ModelOptions()

    def usable(column: str) -> bool:
        share = prof.share(column)
        return share is not None and share > 1 - options.max_empty_share

    identifiers = [c for c in prof.filled if c.startswith(IDENTIFIER_PREFIX)]
    candidates = ["first_name", "surname", "dob", "nhs_number", *identifiers, "uprn", "postcode",
                  "postcode_district", "address_street", "sex", *_OPTIONAL_INPUT]
    left_out = tuple(prof.fill(c) for c in candidates if not usable(c))

    comparisons: list[tuple[str, ComparisonCreator]] = []
    if usable("first_name"):
        comparisons.append(("first_name", splink_model._name_comparison(
            "first_name", "First name (nicknames resolved)", swap_counts=True,
            other_names="other_forenames" if usable("other_forenames") else None)))
    if usable("surname"):
        comparisons.append(("surname", splink_model._name_comparison(
            "surname", "Surname", swap_counts=False,
            other_names="other_surnames" if usable("other_surnames") else None)))
    if usable("dob"):
        comparisons.append(("dob", splink_model._dob_comparison()))
    if usable("nhs_number"):
        comparisons.append(("nhs_number", splink_model.nhs_number_comparison()))
    comparisons += [(c, splink_model.identifier_comparison(c)) for c in identifiers if usable(c)]
    parts = [p for p in splink_model.ADDRESS_PARTS if usable(p)]
    if parts:
        comparisons.append(("address", splink_model._address_comparison(parts)))
    if usable("sex"):
        comparisons.append(("sex", splink_model.sex_comparison()))
    comparisons = _apply_comparison_options(comparisons, prof, options, usable)
    if not comparisons:
        raise FamlinkError("no field is populated enough to compare records",
                           hint="map names, date of birth or an identifier in [sources.people.columns]")

    rules = _blocking_rules(prof, options, usable, identifiers)
    deterministic = _deterministic_rules(usable, identifiers)
    em_blocks = _em_blocks(comparisons, options, usable, identifiers, prof)
    return ModelSpec(tuple(comparisons), tuple(rules), tuple(deterministic), tuple(em_blocks),
                     left_out, options)


def _check_column(column: str, key: str, prof: Profile, usable: Any) -> None:
    share = prof.share(column)
    if share is None:
        raise FamlinkError(
            f"[model] {key} names column {column!r}, which the model's input does not have",
            hint="the model's input columns: " + ", ".join(prof.filled))
    if not usable(column):
        raise FamlinkError(
            f"[model] {key} names column {column!r}, which is {prof.fill(column).describe()}",
            hint="map a column that holds it, or leave it out of [model]")


def _apply_comparison_options(
    comparisons: list[tuple[str, ComparisonCreator]], prof: Profile, options: ModelOptions, usable: Any,
) -> list[tuple[str, ComparisonCreator]]:
    names = [name for name, _ in comparisons]
    for name in options.drop_comparisons:
        if name not in names:
            raise FamlinkError(f"[model] drop_comparisons: the model has no comparison {name!r}",
                               hint="its comparisons: " + ", ".join(names))
    kept = [(n, c) for n, c in comparisons if n not in options.drop_comparisons]
    for i, option in enumerate(options.comparisons):
        _check_column(option.column, f"comparisons[{i}]", prof, usable)
        # one on a column famlink already compares replaces famlink's
        kept = [(n, c) for n, c in kept if n != option.column]
        kept.append((option.column, option.create()))
    return kept


def _blocking_rules(prof: Profile, options: ModelOptions, usable: Any, identifiers: list[str]) -> list[Rule]:
    """Each rule catches a kind of error the others miss: a new surname (dob + first name),
    a typo in the first name (dob + surname), typos in both names (dob + postcode), no date
    of birth (names + postcode), names entered the wrong way round (the swapped rule); an identifier finds the same person
    whatever their names and dates say. Rules on a field the data does not populate are left
    out (they would compare nothing)."""
    if options.blocking_rules is not None:
        wanted = [tuple(r) for r in options.blocking_rules]
    else:
        wanted = [
            ("nhs_number",), *((c,) for c in identifiers),
            ("first_name", "surname"),
            ("dob", "first_name"),
            ("dob", "surname"),
            ("dob", "surname_first_token"),
            # both names mistyped, or swapped and one mistyped (FEBRL4: 25 of its 34 pairs
            # no other rule compares); few pairs: one household's people born that day
            ("dob", "postcode"),
            ("postcode", "substr(first_name, 1, 1)"),
            ("uprn", "substr(first_name, 1, 1)"),
            (SWAPPED_NAMES,),
        ]
        wanted = [r for r in wanted if all(usable(f) or f == "first_name_as_written"
                                           or f == "surname_first_token" and usable("surname")
                                           for f in _rule_fields(r))]
        # One field alone finds the pairs whose names are both mistyped or replaced — when
        # the data makes few enough pairs on it to afford (sized from the data, not fixed).
        budget = options.wide_rule_pairs_per_record * prof.records
        wanted += [r for r in WIDE_RULES
                   if all(usable(c) or c == "address_number" and usable("address_street") for c in r)
                   and budget > 0 and prof.pairs.get(r, budget + 1) <= budget]
    for rule in options.add_blocking_rules:
        if rule not in wanted:
            wanted.append(tuple(rule))
    for rule in options.drop_blocking_rules:
        match = [r for r in wanted if set(r) == set(rule)]
        if not match:
            raise FamlinkError(f"[model] drop_blocking_rules: no blocking rule on {list(rule)}",
                               hint="its rules: " + "; ".join(str(list(r)) for r in wanted))
        wanted = [r for r in wanted if set(r) != set(rule)]
    if options.blocking_rules is not None or options.add_blocking_rules:
        for rule in wanted:
            for column in _rule_fields(rule) - {"first_name_as_written", "surname_first_token"}:
                _check_column(column, "blocking rule " + str(list(rule)), prof, usable)
    if not wanted:
        raise FamlinkError("no blocking rule is left: the model would compare no pairs",
                           hint="set [model] blocking_rules to columns the data populates")
    return [_rule(*r) for r in wanted]


def _deterministic_rules(usable: Any, identifiers: list[str]) -> list[Rule]:
    """Pairs that are almost surely one person, to estimate how often two records match:
    the same NHS number or declared identifier, and the same names and date of birth (or,
    without dates of birth, names and postcode)."""
    rules = [_rule(c) for c in ("nhs_number", *identifiers) if usable(c)]
    for extra in ("dob", "postcode", "uprn"):
        if usable("first_name") and usable("surname") and usable(extra):
            rules.append(_rule("first_name", "surname", extra))
            break
    if not rules:
        raise FamlinkError(
            "cannot train: no identifier and no names with a date of birth or address to find "
            "pairs that are surely the same person", hint=splink_model.TRAINING_HINT)
    return rules


#: the fewest pairs sharing an identifier for it to be an EM block (a profile without pair
#: counts is trusted)
EM_BLOCK_MIN_PAIRS = 100


def _em_blocks(
    comparisons: list[tuple[str, ComparisonCreator]], options: ModelOptions, usable: Any,
    identifiers: list[str], prof: Profile,
) -> list[Rule]:
    """The EM passes, so every comparison is trained by at least one of them.

    Each EM pass fixes the comparisons in its blocking rule and trains the others. The
    blocks are chosen so that the pairs the model must learn to *reject* do not look like
    matches inside them: sharing an NHS number (or another identifier) excludes twins
    (different numbers) and fathers and sons; sharing first name, surname and date of birth
    excludes them too. A block on date of birth alone would teach EM that twins with
    different first names are the same person (the m of "first name differs" rises), and a
    block on the name alone that a father and son a generation apart are — so those two are
    used only when the data has no identifier to train the names and dates on.

    An identifier trains EM only when at least :data:`EM_BLOCK_MIN_PAIRS` pairs share it
    (the NHS number first, then the declared identifier most pairs share): one that a small
    source alone holds may make a handful of pairs, too few to estimate the names' and
    dates' m from — or none, and the training step fails.
    """
    if options.em_blocks is not None:
        for block in options.em_blocks:
            for column in _rule_fields(block):
                _check_column(column, f"em_blocks {list(block)}", prof, usable)
        return [_rule(*b) for b in options.em_blocks]
    trains: dict[str, set[str]] = {
        "first_name": {"first_name", "first_name_as_written", "surname"},
        "surname": {"surname", "first_name_as_written", "first_name"},
        "address": set(splink_model.ADDRESS_PARTS),
    }
    untrained = [name for name, _ in comparisons]
    by_pairs = sorted(identifiers, key=lambda c: -prof.pairs.get((c,), EM_BLOCK_MIN_PAIRS))
    candidates: list[tuple[str, ...]] = [
        *((c,) for c in ("nhs_number", *by_pairs)
          if prof.pairs.get((c,), EM_BLOCK_MIN_PAIRS) >= EM_BLOCK_MIN_PAIRS),
        ("first_name", "surname", "dob"),
        ("first_name", "surname"),
        ("dob",),
        ("postcode",), ("uprn",),
    ]
    blocks: list[Rule] = []
    identifier_block = False
    for block in candidates:
        if not all(usable(c) for c in block):
            continue
        if block[0] in ("nhs_number", *identifiers):
            if identifier_block:
                continue  # one identifier trains the names and dates; a second adds nothing
            identifier_block = True
        fixed = {name for name in untrained if set(block) & trains.get(name, {name})}
        newly = [name for name in untrained if name not in fixed]
        if newly:
            blocks.append(_rule(*block))
            untrained = [name for name in untrained if name in fixed]
        if not untrained:
            break
    if untrained:
        raise FamlinkError(
            "cannot train the comparison(s) " + ", ".join(untrained) + ": no populated field "
            "to find likely matches on without them", hint=splink_model.TRAINING_HINT)
    return blocks


# --- reusing a saved model -------------------------------------------------------------------

_COMPARED = re.compile(r'["`]?([A-Za-z_][A-Za-z0-9_]*)_l\b')
_BLOCKED = re.compile(r'\bl\.["`]?([A-Za-z_][A-Za-z0-9_]*)')


def model_summary(model: Mapping[str, Any], options: ModelOptions) -> ModelSummary:
    """A saved model's summary (its comparisons and blocking rules), for a run that reuses it."""
    rules = tuple(r.get("blocking_rule", "") if isinstance(r, dict) else str(r)
                  for r in model.get("blocking_rules_to_generate_predictions", []))
    return ModelSummary(
        comparisons=tuple(c.get("output_column_name", "?") for c in model.get("comparisons", [])),
        left_out=(), blocking_rules=rules, max_empty_share=options.max_empty_share, trained=False)


def check_model_fits(model: Mapping[str, Any], prof: Profile, options: ModelOptions, *, file: str) -> None:
    """Refuse a saved model that compares or blocks on a column this job's data does not have,
    or leaves (almost) empty: its weights would be for evidence this data cannot give."""
    problems = []
    for comparison in model.get("comparisons", []):
        columns = set()
        for level in comparison.get("comparison_levels", []):
            columns |= set(_COMPARED.findall(level.get("sql_condition", "")))
        for column in sorted(columns):
            share = prof.share(column)
            name = comparison.get("output_column_name", "?")
            if share is None:
                problems.append(f"comparison {name!r} uses {column!r}, which this job does not have")
            elif share <= 1 - options.max_empty_share and column not in _OPTIONAL_INPUT:
                problems.append(f"comparison {name!r} uses {column!r}, which is "
                                f"{prof.fill(column).describe()}")
    for rule in model.get("blocking_rules_to_generate_predictions", []):
        sql = rule.get("blocking_rule", "") if isinstance(rule, dict) else str(rule)
        for column in sorted(set(_BLOCKED.findall(sql))):
            if prof.share(column) is None and column not in ("first_name_as_written", "surname_first_token"):
                problems.append(f"blocking rule {sql!r} uses {column!r}, which this job does not have")
    if problems:
        raise FamlinkError(
            "the saved model does not fit this job's fields: " + "; ".join(problems), file=file,
            hint="leave out --model to train a model on this data, or map the missing fields")
