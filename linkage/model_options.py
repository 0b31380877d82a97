"""The job file's ``[model]`` table: changes to the model famlink builds, in Splink's words.

famlink builds its comparisons and blocking rules from the fields the data populates
(:mod:`famlink.linkage.model_spec`); ``[model]`` adds, replaces or drops them using Splink's
own vocabulary — a comparison-library class name and its arguments, ``block_on`` columns —
and sets the thresholds the builder and the training use. See docs/jobfile.md.

This module only reads and checks the table; whether a named column exists in the data is
known when the run has read the extracts, and is checked then (``model_spec.build_spec``).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator

from famlink.linkage.errors import JobFileError

MODEL_KEYS = (
    "drop_comparisons", "comparisons", "blocking_rules", "add_blocking_rules",
    "drop_blocking_rules", "em_blocks", "max_empty_share", "em_max_pairs", "u_max_pairs",
    "deterministic_recall", "wide_rule_pairs_per_record",
)
_COMPARISON_KEYS = ("library", "column", "thresholds", "term_frequency_adjustments")
_COLUMN = re.compile(r"[a-z][a-z0-9_]*")


def comparison_library() -> dict[str, type[ComparisonCreator]]:
    """Splink's comparison-library classes by name (``JaroWinklerAtThresholds`` …)."""
    return {
        name: obj for name, obj in vars(cl).items()
        if inspect.isclass(obj) and issubclass(obj, ComparisonCreator) and name != "CustomComparison"
    }


@dataclass(frozen=True)
class ComparisonOption:
    """One ``[[model.comparisons]]`` entry: a Splink comparison-library class on a column."""

    library: str
    column: str
    #: the class's thresholds (its second argument), if given
    thresholds: tuple[float, ...] | None = None
    term_frequency_adjustments: bool = False
    #: any other keyword arguments of the class, as written
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def create(self) -> ComparisonCreator:
        """The Splink comparison this entry names."""
        cls = comparison_library()[self.library]
        args: list[Any] = [self.column]
        if self.thresholds is not None:
            args.append(list(self.thresholds))
        comparison = cls(*args, **dict(self.arguments))
        if self.term_frequency_adjustments:
            comparison = comparison.configure(term_frequency_adjustments=True)
        return comparison


@dataclass(frozen=True)
class ModelOptions:
    """``[model]``: what the job changes in the model famlink builds (defaults: nothing)."""

    #: comparison names (``sex``, ``address``, ``id_upn`` …) to leave out
    drop_comparisons: tuple[str, ...] = ()
    #: comparisons to add; one on a column famlink already compares replaces famlink's
    comparisons: tuple[ComparisonOption, ...] = ()
    #: block_on column lists replacing famlink's blocking rules (None: famlink's own)
    blocking_rules: tuple[tuple[str, ...], ...] | None = None
    add_blocking_rules: tuple[tuple[str, ...], ...] = ()
    drop_blocking_rules: tuple[tuple[str, ...], ...] = ()
    #: block_on column lists for the EM passes (None: chosen from the populated fields)
    em_blocks: tuple[tuple[str, ...], ...] | None = None
    #: a field this share empty, or more, gets no comparison and no blocking rule
    max_empty_share: float = 0.95
    em_max_pairs: float = 5e6
    u_max_pairs: float = 5e6
    deterministic_recall: float = 0.8
    #: a one-field blocking rule (date of birth alone, postcode alone) is used only when the
    #: pairs it makes are at most this many per record: on small or varied data it recovers
    #: pairs with both names mistyped; on a large extract it would compare too many
    wide_rule_pairs_per_record: float = 5.0


Fail = Callable[..., JobFileError]


def read_model_table(table: Mapping[str, Any], fail: Fail) -> ModelOptions:
    """Check ``[model]`` and return it as :class:`ModelOptions`.

    ``fail(key, message, hint=...)`` builds the job-file error (the job reader's own).
    """
    for key in table:
        if key not in MODEL_KEYS:
            close = difflib.get_close_matches(key, MODEL_KEYS, n=1, cutoff=0.6)
            raise fail(f"model.{key}", "unknown key",
                       hint=f"did you mean {close[0]!r}?" if close
                       else "allowed keys: " + ", ".join(MODEL_KEYS))
    defaults = ModelOptions()
    drop = table.get("drop_comparisons", [])
    if not isinstance(drop, list) or not all(isinstance(d, str) and d for d in drop):
        raise fail("model.drop_comparisons", "must be a list of comparison names",
                   hint='e.g. drop_comparisons = ["sex"]')
    comparisons = table.get("comparisons", [])
    if not isinstance(comparisons, list):
        raise fail("model.comparisons", "must be an array of tables ([[model.comparisons]])")
    rules = {key: _rules(table, key, fail) for key in
             ("blocking_rules", "add_blocking_rules", "drop_blocking_rules", "em_blocks")}
    return ModelOptions(
        drop_comparisons=tuple(drop),
        comparisons=tuple(_comparison(entry, i, fail) for i, entry in enumerate(comparisons)),
        blocking_rules=rules["blocking_rules"],
        add_blocking_rules=rules["add_blocking_rules"] or (),
        drop_blocking_rules=rules["drop_blocking_rules"] or (),
        em_blocks=rules["em_blocks"],
        max_empty_share=_number(table, "max_empty_share", defaults.max_empty_share, fail,
                                low=0.0, high=1.0),
        em_max_pairs=_number(table, "em_max_pairs", defaults.em_max_pairs, fail, low=1.0),
        u_max_pairs=_number(table, "u_max_pairs", defaults.u_max_pairs, fail, low=1.0),
        deterministic_recall=_number(table, "deterministic_recall", defaults.deterministic_recall,
                                     fail, low=0.01, high=1.0),
        wide_rule_pairs_per_record=_number(table, "wide_rule_pairs_per_record",
                                           defaults.wide_rule_pairs_per_record, fail, low=0.0),
    )


def _number(table: Mapping[str, Any], key: str, default: float, fail: Fail, *,
            low: float, high: float | None = None) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low or (
            high is not None and value > high):
        span = f"from {low:g} to {high:g}" if high is not None else f">= {low:g}"
        raise fail(f"model.{key}", f"must be a number {span}, not {value!r}")
    return float(value)


def _rules(table: Mapping[str, Any], key: str, fail: Fail) -> tuple[tuple[str, ...], ...] | None:
    """A list of ``block_on`` column lists: ``[["dob", "surname"], ["nhs_number"]]``."""
    if key not in table:
        return None
    value = table[key]
    hint = f'a list of block_on column lists, e.g. {key} = [["dob", "surname"], ["nhs_number"]]'
    if not isinstance(value, list):
        raise fail(f"model.{key}", "must be a list of column lists", hint=hint)
    rules = []
    for i, rule in enumerate(value):
        if not isinstance(rule, list) or not rule or not all(
                isinstance(c, str) and _COLUMN.fullmatch(c) for c in rule):
            raise fail(f"model.{key}[{i}]", f"must be a non-empty list of column names, not {rule!r}",
                       hint=hint)
        rules.append(tuple(rule))
    return tuple(rules)


def _comparison(entry: Any, i: int, fail: Fail) -> ComparisonOption:
    key = f"model.comparisons[{i}]"
    if not isinstance(entry, dict):
        raise fail(key, "must be a table with library and column",
                   hint='e.g. [[model.comparisons]] library = "ExactMatch", column = "sex"')
    library = entry.get("library")
    known = comparison_library()
    if not isinstance(library, str) or library not in known:
        close = difflib.get_close_matches(str(library), known, n=1, cutoff=0.5)
        raise fail(f"{key}.library", f"not a class of splink.comparison_library: {library!r}",
                   hint=f"did you mean {close[0]!r}?" if close
                   else "one of: " + ", ".join(sorted(known)))
    column = entry.get("column")
    if not isinstance(column, str) or not _COLUMN.fullmatch(column):
        raise fail(f"{key}.column", f"must be a column name, not {column!r}",
                   hint="a column of the model's input, e.g. surname, dob, postcode, id_upn")
    parameters = list(inspect.signature(known[library]).parameters)
    thresholds = entry.get("thresholds")
    if thresholds is not None:
        if not isinstance(thresholds, list) or not all(
                isinstance(t, int | float) and not isinstance(t, bool) for t in thresholds):
            raise fail(f"{key}.thresholds", f"must be a list of numbers, not {thresholds!r}")
        if len(parameters) < 2 or parameters[1] in ("regex_extract", "include_exact_match_level"):
            raise fail(f"{key}.thresholds", f"{library} takes no thresholds")
    tf = entry.get("term_frequency_adjustments", False)
    if not isinstance(tf, bool):
        raise fail(f"{key}.term_frequency_adjustments", "must be true or false")
    arguments = {k: v for k, v in entry.items() if k not in _COMPARISON_KEYS}
    for name in arguments:
        if name not in parameters[1:]:
            allowed = [p for p in parameters[1:]] + list(_COMPARISON_KEYS)
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            raise fail(f"{key}.{name}", f"{library} has no argument {name!r}",
                       hint=f"did you mean {close[0]!r}?" if close
                       else "its arguments: " + ", ".join(allowed))
    option = ComparisonOption(
        library=library, column=column,
        thresholds=tuple(float(t) if isinstance(t, float) else t for t in thresholds)
        if thresholds is not None else None,
        term_frequency_adjustments=tf, arguments=arguments)
    try:
        option.create()
    except Exception as err:  # Splink checks its own arguments: said as a job-file error
        raise fail(key, f"Splink refuses {library} with these arguments: {err}") from err
    return option
