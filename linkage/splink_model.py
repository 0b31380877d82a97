"""The Splink 5 model famlink uses: comparisons, blocking rules and training, as settings.

Everything here is declarative: Splink's own comparison and blocking libraries turn it into
SQL for the backend in use. The trained model is written as Splink's JSON so the user can
read it, keep it beside the outputs and reuse it with ``famlink link --model``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_library import CustomRule
from splink.internals.comparison_creator import ComparisonCreator

from famlink.linkage.errors import FamlinkError

LinkType = Literal["link_only", "link_and_dedupe", "dedupe_only"]

# The columns each source is registered with: one row per used people record.
SPLINK_INPUT_COLUMNS_SQL = """
    record_id AS unique_id,
    first_name_canonical AS first_name,
    first_name_clean AS first_name_as_written,
    surname_clean AS surname,
    surname_first_token,
    dob,
    sex,
    nhs_number,
    postcode,
    regexp_extract(postcode, '^([A-Z]{1,2}[0-9][A-Z0-9]?) ', 1) AS postcode_district,
    uprn
"""


def splink_input_sql() -> str:
    """SELECT turning one source's ``source_records`` into the columns the model compares.

    Takes one parameter: the source name. ``first_name`` is the nickname-resolved first name,
    so "Bob" and "Robert" agree exactly.
    """
    columns = SPLINK_INPUT_COLUMNS_SQL
    return f"SELECT {columns} FROM source_records WHERE source = ? ORDER BY record_id"  # noqa: S608


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


def _address_comparison() -> cl.CustomComparison:
    """Where the person lives: same property (UPRN), same postcode, same district, else.

    UPRN and postcode are one comparison, not two, because they are not independent: two
    records at the same flat always share a postcode, and counting both would double the
    evidence.
    """
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="Address (UPRN, postcode)",
        comparison_levels=[
            cll.And(cll.NullLevel("uprn"), cll.NullLevel("postcode")).configure(is_null_level=True, label_for_charts="UPRN and postcode missing"),
            cll.ExactMatchLevel("uprn").configure(label_for_charts="Same property (UPRN)"),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="Same postcode"),
            cll.ExactMatchLevel("postcode_district").configure(label_for_charts="Same postcode district"),
            cll.ElseLevel(),
        ],
    )


def _names_swapped_level(label: str) -> cll.CustomLevel:
    """First name and surname entered the other way round (as written, before nicknames
    are resolved: "WILLIAMS CHARLIE" must match "Charlie Williams", not "Charles")."""
    return cll.CustomLevel(
        '"first_name_as_written_l" = "surname_r" AND "surname_l" = "first_name_as_written_r"',
        label_for_charts=label,
        base_dialect_str="duckdb",
    )


def _name_comparison(column: str, label: str, *, swap_counts: bool) -> cl.CustomComparison:
    """One name part: exact (term-frequency adjusted), swapped with the other part, close, else.

    First name and surname are compared separately, not as one full-name comparison, so a
    completely different first name (twins: "Olivia" and "Amelia" Smith) counts strongly
    against a match even when the surname agrees; the swapped level keeps records entered
    surname-first.
    """
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column, term_frequency_adjustments=True),
            _names_swapped_level("First name and surname swapped")
            if swap_counts
            # The swap is one piece of evidence: the surname comparison has the level too (so
            # a swapped pair does not fall to "else") but with weight zero, fixed.
            else _names_swapped_level("Swapped (counted under first name)").configure(
                m_probability=0.5, u_probability=0.5, fix_m_probability=True, fix_u_probability=True
            ),
            cll.JaroWinklerLevel(column, 0.92),
            cll.JaroWinklerLevel(column, 0.80),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list[ComparisonCreator]:
    """The comparisons, built from Splink's comparison library."""
    return [
        _name_comparison("first_name", "First name (nicknames resolved)", swap_counts=True),
        _name_comparison("surname", "Surname", swap_counts=False),
        _dob_comparison(),
        # Two different valid NHS numbers are strong evidence of two people (twins!).
        cl.ExactMatch("nhs_number"),
        _address_comparison(),
        cl.ExactMatch("sex"),
    ]


def blocking_rules() -> list[BlockingRuleCreator]:
    """Rules that pick the candidate pairs; chosen for recall, measured on the sample truth.

    Each rule catches a kind of error the others miss: a new surname (dob + first name), a
    typo in the first name (dob + surname), no date of birth (names + postcode), names
    entered the wrong way round (the reversed rule).
    """
    return [
        block_on("nhs_number"),
        block_on("first_name", "surname"),
        block_on("dob", "first_name"),
        block_on("dob", "surname"),
        block_on("dob", "surname_first_token"),
        block_on("postcode", "substr(first_name, 1, 1)"),
        block_on("uprn", "substr(first_name, 1, 1)"),
        CustomRule(
            "l.first_name_as_written = r.surname AND l.surname = r.first_name_as_written",
            sql_dialect="duckdb",
        ),
    ]


def settings(*, link_type: LinkType = "link_and_dedupe") -> SettingsCreator:
    """The Splink settings famlink trains: comparisons and blocking rules above."""
    # Splink's signature takes lists of "creator or dict"; ours are all creators.
    comparison_list: list[ComparisonCreator | dict[str, Any]] = [*comparisons()]
    rule_list: list[BlockingRuleCreator | dict[str, Any]] = [*blocking_rules()]
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
    """How the model is trained (unsupervised), and how much work each step may do."""

    seed: int
    u_max_pairs: float = 5e6
    em_max_pairs: float = 5e6
    deterministic_recall: float = 0.8

    def deterministic_rules(self) -> Sequence[BlockingRuleCreator]:
        return [block_on("nhs_number"), block_on("first_name", "surname", "dob")]

    def em_blocks(self) -> Sequence[BlockingRuleCreator]:
        # Each EM pass fixes the comparisons in its blocking rule and trains the others.
        # The blocks are chosen so that the pairs the model must learn to *reject* do not
        # look like matches inside them: sharing an NHS number excludes twins (different
        # numbers) and fathers and sons; sharing first name, surname and date of birth
        # excludes them too. A block on date of birth alone would teach EM that twins with
        # different first names are the same person (the m of "first name differs" rises),
        # and a block on the name alone that a father and son a generation apart are.
        return [block_on("nhs_number"), block_on("first_name", "surname", "dob")]


def train(linker: Linker, plan: TrainingPlan) -> dict[str, Any]:
    """Unsupervised training: λ from deterministic rules, u by random sampling, m by EM.

    Returns the trained model as Splink's settings dictionary, with
    :data:`UNOBSERVED_M` filled in for levels no training pair reached (see there).
    """
    linker.training.estimate_probability_two_random_records_match(
        list(plan.deterministic_rules()), recall=plan.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=plan.u_max_pairs, seed=plan.seed)
    for rule in plan.em_blocks():
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=plan.em_max_pairs
        )
    model = linker.misc.save_model_to_json()
    return round_parameters(fill_unobserved_m(model))


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


def parameters_in_dialect(model: dict[str, Any], dialect: str, *, file: str) -> dict[str, Any]:
    """``model``'s trained parameters (λ, m, u) on famlink's settings rebuilt for ``dialect``.

    Used by ``famlink explain`` to re-score a pair in DuckDB with a Spark run's model. The
    model's comparisons and levels must be famlink's current ones (same names and labels).
    """
    link_type = model.get("link_type", "link_and_dedupe")
    target = settings(link_type=link_type).create_settings_dict(dialect)
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
