"""The flag rules, in order, and the settings a job file's ``[flags]`` table gives them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from famlink.linkage.errors import JobFileError
from famlink.models.flags.adult_rules import (
    ADULT_RISK_HISTORY,
    UNRECORDED_MALE_CARER,
    UNRECORDED_NON_BIRTHING_PARTNER,
)
from famlink.models.flags.child_rules import (
    FATHER_NOT_RECORDED,
    NEGLECT_WITHOUT_GCP2,
    NON_MOBILE_INJURY,
    SIBLING_SAFEGUARDING_HISTORY,
)
from famlink.models.flags.rule import FlagRule, ParameterValue

RULES: tuple[FlagRule, ...] = (
    UNRECORDED_MALE_CARER,
    UNRECORDED_NON_BIRTHING_PARTNER,
    FATHER_NOT_RECORDED,
    SIBLING_SAFEGUARDING_HISTORY,
    ADULT_RISK_HISTORY,
    NON_MOBILE_INJURY,
    NEGLECT_WITHOUT_GCP2,
)
RULES_BY_NAME: dict[str, FlagRule] = {rule.name: rule for rule in RULES}
FLAG_TYPES: tuple[str, ...] = tuple(RULES_BY_NAME)
#: Flag types whose key and meaning include an adult.
ADULT_FLAG_TYPES: tuple[str, ...] = tuple(rule.name for rule in RULES if rule.names_adult)

#: the key of ``[flags.<rule>]`` that switches a rule off
ENABLED = "enabled"


@dataclass(frozen=True)
class FlagSettings:
    """Which rules run, and their parameters' values (each rule's defaults unless set)."""

    disabled: frozenset[str] = frozenset()
    values: Mapping[str, Mapping[str, ParameterValue]] = field(default_factory=dict)

    def enabled_rules(self) -> tuple[FlagRule, ...]:
        return tuple(rule for rule in RULES if rule.name not in self.disabled)

    def value(self, rule: str, parameter: str) -> ParameterValue:
        given = self.values.get(rule, {})
        if parameter in given:
            return given[parameter]
        return RULES_BY_NAME[rule].parameter(parameter).default


def flag_settings(
    table: Mapping[str, Mapping[str, Any]] | None,
    *,
    job_file: str | None = None,
    non_mobile_age_months: int | None = None,
) -> FlagSettings:
    """Check a job file's ``[flags]`` table against the rules and return their settings.

    ``non_mobile_age_months`` (the job file's ``[family]`` key) is the default of
    ``non_mobile_injury.age_months``. A rule, parameter or value that does not fit is a
    :class:`JobFileError` naming ``flags.<rule>.<parameter>`` and the job file.
    """
    values: dict[str, dict[str, ParameterValue]] = {}
    if non_mobile_age_months is not None:
        values[NON_MOBILE_INJURY.name] = {"age_months": non_mobile_age_months}
    disabled: set[str] = set()
    for name, given in (table or {}).items():
        rule = RULES_BY_NAME.get(name)
        if rule is None:
            raise _error(f"flags.{name}", "unknown flag rule", job_file, FLAG_TYPES)
        allowed = (ENABLED, *(p.name for p in rule.parameters))
        for key, value in given.items():
            where = f"flags.{name}.{key}"
            if key == ENABLED:
                if not isinstance(value, bool):
                    raise JobFileError(f"{where}: must be true or false, not {value!r}",
                                       file=job_file)
                if not value:
                    disabled.add(name)
                continue
            if key not in allowed:
                raise _error(where, "unknown parameter", job_file, allowed)
            param = rule.parameter(key)
            problem = param.problem(value)
            if problem:
                hint = "allowed: " + ", ".join(param.choices) if param.choices else None
                raise JobFileError(f"{where}: {problem}", file=job_file, hint=hint)
            values.setdefault(name, {})[key] = tuple(value) if param.is_list else value
    return FlagSettings(disabled=frozenset(disabled), values=values)


def _error(key: str, message: str, job_file: str | None,
           allowed: tuple[str, ...]) -> JobFileError:
    name = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return JobFileError(f"{key}: {message}", file=job_file,
                        hint=hint + "allowed: " + ", ".join(allowed))
