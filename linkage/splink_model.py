"""The Splink 5 model famlink uses: its comparisons, training, and the saved model.

Which comparisons, blocking rules and training blocks a job gets is decided from the data by
:mod:`famlink.linkage.model_spec`; this module holds the pieces it chooses from. Everything
here is declarative: Splink's own comparison and blocking libraries turn it into
SQL for the backend in use. The trained model is written as Splink's JSON so the user can
read it, keep it beside the outputs and reuse it with ``famlink link --model``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, Linker, SettingsCreator
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_library import CustomRule
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

from famlink.linkage.errors import FamlinkError

LinkType = Literal["link_only", "link_and_dedupe", "dedupe_only"]


def _dob_comparison() -> cl.CustomComparison:
    """Date of birth: exact, day/month swapped, one typo, within a month, a year, ten years, else.

    The swap level exists because one system in the partnership writes month first; a swapped
    date must count as evidence for a match, not against it.
    """
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                "extract(day FROM dob_l) = extract(month FROM dob_r) "
                "AND extract(month FROM dob_l) = extract(day FROM dob_r) "
                "AND extract(year FROM dob_l) = extract(year FROM dob_r)",
                label_for_charts="Day and month swapped",
                base_dialect_str="duckdb",
            ),
            cll.DamerauLevenshteinLevel(ColumnExpression("dob").cast_to_string(), 1),
            cll.AbsoluteDateDifferenceLevel("dob", threshold=1, metric="month", input_is_string=False),
            cll.AbsoluteDateDifferenceLevel("dob", threshold=1, metric="year", input_is_string=False),
            # A separate level below ten years leaves "else" for a generation apart, so a
            # father and his same-named son are told apart by a strongly negative weight.
            cll.AbsoluteDateDifferenceLevel("dob", threshold=10, metric="year", input_is_string=False),
            cll.ElseLevel(),
        ],
    )


#: the parts of an address the address comparison can use, each an input column
ADDRESS_PARTS = ("uprn", "postcode", "postcode_district", "address_number", "address_street")


def _address_comparison(parts: Sequence[str]) -> cl.CustomComparison:
    """Where the person lives, from the populated ``parts``: same property (UPRN), same
    postcode, same house number and street, same number with the street alike, postcode one
    keying error apart, same postcode district, else.

    One comparison, not several, because the parts are not independent: two records at the
    same flat always share a postcode and a street, and counting each would multiply the
    evidence. Address text (house number, street) matters where there is no UPRN and the
    postcode is missing, partial or not a UK one; it has no level of its own beside the
    postcode (a household shares postcode and house number, so the pair would say "same
    household", which the UPRN and postcode levels already say, and the sample's parents
    and children scored higher for it).
    """
    has = set(parts)
    text = {"address_number", "address_street"} <= has
    present = [p for p in ("uprn", "postcode", "address_street") if p in has]
    null = (cll.NullLevel(present[0]) if len(present) == 1
            else cll.And(*(cll.NullLevel(p) for p in present)))
    levels: list[Any] = [null.configure(is_null_level=True, label_for_charts="Address missing")]
    if "uprn" in has:
        levels.append(cll.ExactMatchLevel("uprn").configure(label_for_charts="Same property (UPRN)"))
    if "postcode" in has:
        levels.append(cll.ExactMatchLevel("postcode").configure(label_for_charts="Same postcode"))
    if text:
        levels.append(cll.And(cll.ExactMatchLevel("address_number"), cll.ExactMatchLevel("address_street"))
                      .configure(label_for_charts="Same house number and street"))
    # Keying errors in an address are common (a postcode's last two letters swapped, a
    # street name mistyped); each is its own, weaker level, which EM weighs from the data.
    if text:
        levels.append(cll.And(cll.ExactMatchLevel("address_number"), cll.JaroWinklerLevel("address_street", 0.88))
                      .configure(label_for_charts="Same house number, street alike"))
    if "postcode" in has:
        levels.append(cll.DamerauLevenshteinLevel("postcode", 1)
                      .configure(label_for_charts="Postcode one keying error apart"))
    if "postcode_district" in has:
        levels.append(cll.ExactMatchLevel("postcode_district").configure(label_for_charts="Same postcode district"))
    levels.append(cll.ElseLevel())
    described = ", ".join(p for p in parts)
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description=f"Address ({described})",
        comparison_levels=levels,
    )


def _names_swapped_level(label: str) -> cll.CustomLevel:
    """First name and surname entered the other way round (as written, before nicknames
    are resolved: "WILLIAMS CHARLIE" must match "Charlie Williams", not "Charles")."""
    return cll.CustomLevel(
        '"first_name_as_written_l" = "surname_r" AND "surname_l" = "first_name_as_written_r"',
        label_for_charts=label,
        base_dialect_str="duckdb",
    )


class _NamesSwappedTypoLevel(ComparisonLevelCreator):
    """Names the other way round with a keying error in one or both ("Leon Mason" and
    "Mason Leo n"): both crossings close (Jaro-Winkler >= 0.88). A level class rather than
    custom SQL so each backend gets its own Jaro-Winkler function."""

    def __init__(self, label: str, threshold: float = 0.88) -> None:
        self.label = label
        self.threshold = threshold

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        jw = sql_dialect.jaro_winkler_function_name
        first, surname = "first_name_as_written", "surname"
        return (f"{jw}({first}_l, {surname}_r) >= {self.threshold} "
                f"AND {jw}({surname}_l, {first}_r) >= {self.threshold}")

    def create_label_for_charts(self) -> str:
        return self.label


def _names_swapped_typo_level(label: str) -> ComparisonLevelCreator:
    return _NamesSwappedTypoLevel(label)


def _among_other_names_level(column: str, others: str, label: str) -> cll.CustomLevel:
    """One record's name is among the other's other names (middle, preferred or former):
    "Mary" and "Jane Mary Smith" who goes by her middle name; "Patel" and a former "Patel"."""
    return cll.CustomLevel(
        f'list_contains("{others}_r", "{column}_l") OR list_contains("{others}_l", "{column}_r")',
        label_for_charts=label,
        base_dialect_str="duckdb",
    )


def _name_comparison(column: str, label: str, *, swap_counts: bool,
                     other_names: str | None = None) -> cl.CustomComparison:
    """One name part: exact (term-frequency adjusted), swapped with the other part, among
    the other record's other names (when ``other_names`` is an input column), close, else.

    First name and surname are compared separately, not as one full-name comparison, so a
    completely different first name (twins: "Olivia" and "Amelia" Smith) counts strongly
    against a match even when the surname agrees; the swapped level keeps records entered
    surname-first.
    """
    levels: list[Any] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, term_frequency_adjustments=True),
        _names_swapped_level("First name and surname swapped")
        if swap_counts
        # The swap is one piece of evidence: the surname comparison has the level too (so
        # a swapped pair does not fall to "else") but with weight zero, fixed.
        else _names_swapped_level("Swapped (counted under first name)").configure(
            m_probability=0.5, u_probability=0.5, fix_m_probability=True, fix_u_probability=True
        ),
        _names_swapped_typo_level("Swapped, with a typo")
        if swap_counts
        else _names_swapped_typo_level("Swapped with a typo (counted under first name)").configure(
            m_probability=0.5, u_probability=0.5, fix_m_probability=True, fix_u_probability=True
        ),
    ]
    if other_names is not None:
        levels.append(_among_other_names_level(column, other_names, f"Among the other's {other_names.replace('_', ' ')}"))
    levels += [cll.JaroWinklerLevel(column, 0.92), cll.JaroWinklerLevel(column, 0.80), cll.ElseLevel()]
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=levels,
    )


def identifier_comparison(column: str) -> ComparisonCreator:
    """A declared identifier (``id_upn``, ``id_soc_sec_id`` …): exact, one edit, else.

    One keying error is not a wall: it has a level of its own, which EM weighs (it is far
    weaker evidence than the same number), and a wholly different number is evidence
    against, not a veto.
    """
    return cl.DamerauLevenshteinAtThresholds(column, [1])


def nhs_number_comparison() -> ComparisonCreator:
    # Two different valid NHS numbers are strong evidence of two people (twins!); a typo
    # mostly fails the check digit and leaves the number NULL, so no one-edit level.
    return cl.ExactMatch("nhs_number")


def sex_comparison() -> ComparisonCreator:
    return cl.ExactMatch("sex")


def swapped_names_rule() -> BlockingRuleCreator:
    """Candidate pairs whose first name and surname are entered the other way round."""
    return CustomRule(
        "l.first_name_as_written = r.surname AND l.surname = r.first_name_as_written",
        sql_dialect="duckdb",
    )


def settings(
    comparisons: Sequence[ComparisonCreator],
    blocking_rules: Sequence[BlockingRuleCreator],
    *,
    link_type: LinkType = "link_and_dedupe",
) -> SettingsCreator:
    """The Splink settings famlink trains (built by :mod:`famlink.linkage.model_spec`)."""
    # Splink's signature takes lists of "creator or dict"; ours are all creators.
    comparison_list: list[ComparisonCreator | dict[str, Any]] = [*comparisons]
    rule_list: list[BlockingRuleCreator | dict[str, Any]] = [*blocking_rules]
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparison_list,
        blocking_rules_to_generate_predictions=rule_list,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
    )


@dataclass(frozen=True)
class TrainingPlan:
    """How the model is trained (unsupervised), and how much work each step may do.

    The rules and blocks are chosen from the populated fields by
    :func:`famlink.linkage.model_spec.build_spec`, which explains the choice.
    """

    seed: int
    #: rules for λ (pairs almost certainly the same person), with their labels
    deterministic_rules: Sequence[tuple[str, BlockingRuleCreator]]
    #: one EM pass per block, with its label
    em_blocks: Sequence[tuple[str, BlockingRuleCreator]]
    u_max_pairs: float = 5e6
    em_max_pairs: float = 5e6
    deterministic_recall: float = 0.8


TRAINING_HINT = ("map the missing field in the job file's [sources.people.columns] or "
                 "[sources.people.identifiers], set [model] em_blocks to columns the data "
                 "shares, or reuse a model trained on similar data with --model")


def train(linker: Linker, plan: TrainingPlan) -> dict[str, Any]:
    """Unsupervised training: λ from deterministic rules, u by random sampling, m by EM.

    Returns the trained model as Splink's settings dictionary, with
    :data:`UNOBSERVED_M` filled in for levels no training pair reached (see there). Any
    failure of Splink's (a block with no pairs, a level EM cannot estimate) is raised as a
    :class:`FamlinkError` naming the step and what to do, never as Splink's own traceback.
    """
    rules = ", ".join(label for label, _ in plan.deterministic_rules)
    with _training_step(f"estimating the match rate from records sharing {rules}"):
        linker.training.estimate_probability_two_random_records_match(
            [rule for _, rule in plan.deterministic_rules], recall=plan.deterministic_recall
        )
    with _training_step("estimating u by random sampling"):
        linker.training.estimate_u_using_random_sampling(max_pairs=plan.u_max_pairs, seed=plan.seed)
    for label, rule in plan.em_blocks:
        with _training_step(f"training by EM on the pairs sharing {label}"):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=plan.em_max_pairs
            )
    model = linker.misc.save_model_to_json()
    return round_parameters(remove_matches_from_u(fill_unobserved_m(model), floor=1 / plan.u_max_pairs))


@contextmanager
def _training_step(step: str) -> Iterator[None]:
    try:
        yield
    except FamlinkError:
        raise
    except Exception as err:  # Splink's or the engine's: said as famlink's, with what to do
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "resulted in no record pairs" in message:
            message = "no two records share these fields, so there is nothing to learn from"
        raise FamlinkError(f"training the model failed while {step}: {message}",
                           hint=TRAINING_HINT) from err


# EM sums floats on several threads, so the last bits of a trained m vary run to run.
# Parameters are rounded (far below any meaningful precision) and the rounded model is the
# one used to predict and saved, so the same inputs and seed give byte-identical outputs.
PARAMETER_DIGITS = 12


def round_parameters(model: dict[str, Any]) -> dict[str, Any]:
    """Round λ and every m and u probability to :data:`PARAMETER_DIGITS` decimal places."""
    lam = model.get("probability_two_random_records_match")
    if lam is not None:
        model["probability_two_random_records_match"] = round(lam, PARAMETER_DIGITS)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if level.get(key) is not None:
                    level[key] = round(level[key], PARAMETER_DIGITS)
    return model


# A level that no matching pair in training reached (dates of birth a generation apart,
# different NHS numbers) is evidence *against* a match. Splink would give such a level a
# generic default m (0.05 spread over the levels), which makes "different NHS numbers"
# only mildly negative; famlink sets a small explicit m instead, visible in model.json.
UNOBSERVED_M = 0.001


def fill_unobserved_m(model: dict[str, Any]) -> dict[str, Any]:
    """Set ``m_probability`` of untrained, non-null levels to :data:`UNOBSERVED_M`."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("m_probability") is None:
                level["m_probability"] = UNOBSERVED_M
    return model


def _is_person_identifier(column: str | None) -> bool:
    """NHS number or a declared identifier (``id_…``): a number one person has. Not the
    UPRN, which a household shares."""
    return column is not None and (column == "nhs_number" or column.startswith("id_"))


def remove_matches_from_u(model: dict[str, Any], *, floor: float) -> dict[str, Any]:
    """Take the true matches out of a person identifier's u: ``u = (u_sampled - λ·m) / (1 - λ)``.

    Splink estimates u from random record pairs as if none of them matched. A few do (a
    share λ), and when an identifier agrees they are most of what was counted: on FEBRL4
    the sampled u of ``soc_sec_id`` agreeing is 8.9e-5 while λ·m is 1.1e-4, so an agreeing
    identifier weighed 13 bits where two people almost never share one. A u below
    ``floor`` (one pair of the random sample) is set to it, and the comparison's u are
    scaled to sum to one again. Only identifiers: on the fields a household shares
    (surname, address) the people a record must be told apart from — its family — agree
    far more often than random pairs do, so a lower u there would merge relatives (on
    the sample, a mother's sister at her address).

    >>> m = {"probability_two_random_records_match": 0.01, "comparisons": [
    ...     {"output_column_name": "nhs_number", "comparison_levels": [
    ...         {"is_null_level": True},
    ...         {"m_probability": 0.9, "u_probability": 0.008},
    ...         {"m_probability": 0.1, "u_probability": 0.992}]}]}
    >>> levels = remove_matches_from_u(m, floor=1e-6)["comparisons"][0]["comparison_levels"]
    >>> [f"{lv['u_probability']:.3g}" for lv in levels[1:]]
    ['9.99e-07', '1']
    """
    lam = model.get("probability_two_random_records_match")
    if not lam or lam >= 1:
        return model
    for comparison in model["comparisons"]:
        if not _is_person_identifier(comparison.get("output_column_name")):
            continue
        levels = [lv for lv in comparison["comparison_levels"]
                  if not lv.get("is_null_level") and not lv.get("fix_u_probability")
                  and lv.get("u_probability") is not None and lv.get("m_probability") is not None]
        for level in levels:
            u = (level["u_probability"] - lam * level["m_probability"]) / (1 - lam)
            level["u_probability"] = max(u, floor)
        total = sum(level["u_probability"] for level in levels)
        for level in levels:
            level["u_probability"] /= total
    return model


def save_model(linker: Linker, path: Path) -> dict[str, Any]:
    """Write the model as Splink's JSON, byte-identical for identical training.

    Splink stamps each linker with a random ``linker_uid``; famlink replaces it with a
    hash of the model itself so two runs with the same inputs and seed write the same file.
    """
    model = linker.misc.save_model_to_json()
    model.pop("linker_uid", None)
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode("utf-8")).hexdigest()
    model["linker_uid"] = digest[:8]
    path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return model


def parameters_in_dialect(
    model: dict[str, Any], rebuilt: SettingsCreator, dialect: str, *, file: str
) -> dict[str, Any]:
    """``model``'s trained parameters (λ, m, u) on ``rebuilt`` (famlink's settings for the
    same data, built again) in ``dialect``.

    Used by ``famlink explain`` to re-score a pair in DuckDB with a Spark run's model. The
    model's comparisons and levels must be the rebuilt ones (same names and labels).
    """
    target = rebuilt.create_settings_dict(dialect)
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
