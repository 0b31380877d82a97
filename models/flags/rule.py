"""`FlagRule`: one flag rule as data — its parameters, its SQL and its explanation.

A rule's SQL reads the working tables of `famlink.models.flags.around` and `m_events`, and
its parameters only through ``getvariable('<variable>')`` (see :meth:`FlagRule.variable`):
values reach SQL as DuckDB variables, never pasted into its text, and the same SQL runs on
Spark through `famlink.linkage.spark.sql.SparkSQLConnection`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ParameterValue = int | tuple[str, ...]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Parameter:
    """A setting of a rule that a job file's ``[flags.<rule>]`` table may change.

    ``default`` is a whole number (an age, a number of months) or a tuple of codes; for
    codes, ``choices`` is the vocabulary the values must come from.
    """

    name: str
    default: ParameterValue
    help: str
    choices: tuple[str, ...] = ()

    @property
    def is_list(self) -> bool:
        return isinstance(self.default, tuple)

    def problem(self, value: object) -> str | None:
        """Why ``value`` cannot be this parameter's value (None if it can)."""
        if not self.is_list:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                return f"must be a whole number > 0, not {value!r}"
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return f"must be a non-empty list of text, not {value!r}"
        unknown = [v for v in value if v not in self.choices]
        if unknown:
            return f"unknown value(s) {', '.join(map(repr, unknown))}"
        return None


@dataclass(frozen=True)
class FlagRule:
    """One flag rule.

    - ``candidates``: SQL inserting ``(flag_type, child_id, adult_id, role)`` into
      `m_flag_adults` — for rules whose flags name an adult: the adult, and the roles that
      place them around the child (their ``role`` evidence is drawn from those edges);
    - ``evidence``: SQL inserting the rule's other evidence items into `m_flag_items`;
    - ``explanation``: an SQL expression, the flag's English, over ``h`` (`m_flag_heads`:
      ``role_text``, ``agency_list``), ``c`` / ``a`` (the child's / adult's `m_people` row) and
      ``s`` (the row of ``trigger_summary`` for the flag: ``what``, ``n``);
    - ``trigger_summary``: SQL selecting ``(child_id, adult_id, what, n)`` from `m_flag_items`.
    """

    name: str
    summary: str
    explanation: str
    evidence: str = ""
    candidates: str = ""
    trigger_summary: str = ""
    parameters: tuple[Parameter, ...] = ()

    def __post_init__(self) -> None:
        # the name is written into SQL as a literal: keep it a plain identifier
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"not a rule name: {self.name!r}")

    @property
    def names_adult(self) -> bool:
        """Whether the rule's flags (and their keys) name an adult."""
        return bool(self.candidates)

    def variable(self, parameter: str) -> str:
        """The SQL variable holding ``parameter``'s value."""
        return f"m_{self.name}_{parameter}"

    def parameter(self, name: str) -> Parameter:
        for param in self.parameters:
            if param.name == name:
                return param
        raise KeyError(name)
