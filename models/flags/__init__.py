"""Flags: rules with evidence, computed for every child in a primary source — in DuckDB SQL.

Each rule is a :class:`FlagRule` (`rule.py`): its parameters, the SQL finding its flags and
their evidence, and its explanation; :data:`RULES` gathers them (`registry.py`) and a job
file's ``[flags]`` table switches rules off or sets their parameters (:func:`flag_settings`).
`around.py` finds who is around each child; `tables.py` runs the enabled rules and writes
`flags` and `flag_evidence`.
"""

from famlink.models.flags.around import build_adults_around, build_people, set_rule_variables
from famlink.models.flags.registry import (
    ADULT_FLAG_TYPES,
    FLAG_TYPES,
    RULES,
    RULES_BY_NAME,
    FlagSettings,
    flag_settings,
)
from famlink.models.flags.rule import FlagRule, Parameter
from famlink.models.flags.tables import build_flags

__all__ = [
    "ADULT_FLAG_TYPES",
    "FLAG_TYPES",
    "RULES",
    "RULES_BY_NAME",
    "FlagRule",
    "FlagSettings",
    "Parameter",
    "build_adults_around",
    "build_flags",
    "build_people",
    "flag_settings",
    "set_rule_variables",
]
