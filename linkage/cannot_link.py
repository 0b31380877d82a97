"""Cannot-link rules: pairs of records that are never one person, whatever the model says.

Each rule is a small named unit — its name (the key in the job file's
``[linkage.cannot_link]``), why it holds, and the SQL that finds the pairs it forbids — so
the run can say how many clusters each rule split, ``famlink explain`` can say which rule
kept two records apart, and ``bench/cannot_link_ceiling.py`` can measure how many *true*
pairs each rule would forbid (its ceiling on recall).

A rule is a fact about people, and it only fires on evidence that cannot be an everyday
recording error: a typo in a date or a name, a forename field holding middle names, a
nickname, a preferred or former name, a surname typed as a forename. Records that share an
identifier (an NHS number or any declared ``id_<name>``) are never kept apart by the name
and date rules: an identifier two agencies agree on outweighs a name or date one of them
got wrong. A difference in a *declared* identifier (``id_<name>``) is no rule at all: those
identifiers carry no check digit, so a typo in one is weak evidence, which the model weighs.
Only two different *valid* NHS numbers (mod-11 checked, which catches every single-digit
error and transposition) are a wall.

The SQL is written once, in DuckDB's dialect, over a table of *groups* (``person_id,
source, record_id``: the provisional persons when clustering, the true persons in the
ceiling benchmark) and runs on DuckDB or, on the Spark backend, on Spark.

Precedence, strongest first: a reviewer's decision (``link_decisions``), then a source's own
person id (rows of one source sharing ``source_person_id`` are one person: no built-in rule
separates them), then the built-in rules, then the model's links.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from famlink.linkage.errors import JobFileError

#: a rule's SQL from the columns ``source_records`` has (optional columns are tolerated)
RuleSQL = Callable[["Columns"], str]


@dataclass(frozen=True)
class CannotLinkRule:
    """One built-in cannot-link rule.

    ``sql`` returns ``(source_a, record_id_a, source_b, record_id_b)`` pairs, both records in
    one group of ``m`` (see :func:`members_sql`), each pair forbidden to be one person.
    """

    name: str
    #: one line a user reads: what the rule says about the two records
    why: str
    sql: RuleSQL


@dataclass(frozen=True)
class Columns:
    """Which of the optional ``source_records`` columns are present."""

    identifiers: tuple[str, ...] = ()  # id_<name> columns
    other_forenames: bool = False
    other_surnames: bool = False
    source_person_id: bool = False

    @classmethod
    def of(cls, names: Iterable[str]) -> Columns:
        names = set(names)
        return cls(
            identifiers=tuple(sorted(n for n in names if n.startswith("id_"))),
            other_forenames="other_forenames" in names,
            other_surnames="other_surnames" in names,
            source_person_id="source_person_id" in names,
        )


class _Executes(Protocol):
    def execute(self, query: str, parameters: Any = None, /) -> Any: ...


def columns_of(con: _Executes, table: str = "source_records") -> Columns:
    """The optional columns ``table`` has, on DuckDB or the Spark stand-in (which keeps its
    tables as DataFrames: ``frame(name)``)."""
    frame = getattr(con, "frame", None)
    if frame is not None:
        return Columns.of(frame(table).columns)
    cursor = con.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608 - famlink's own table name
    return Columns.of(d[0] for d in cursor.description)


# --- the records each rule looks at -----------------------------------------------------------


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def members_sql(groups: str, columns: Columns) -> str:
    """The CTE body ``m``: the records of the groups with more than one record, with what the
    rules compare. ``forenames`` and ``names`` are space-padded token lists as text (`` mary
    jane molly ``), so "is this name one of theirs" is a plain string search on both engines.
    """
    other_forenames = "array_to_string(s.other_forenames, ' ')" if columns.other_forenames else "NULL"
    other_surnames = "array_to_string(s.other_surnames, ' ')" if columns.other_surnames else "NULL"
    person_id = "s.source_person_id" if columns.source_person_id else "CAST(NULL AS VARCHAR)"
    identifiers = "".join(f", s.{_quoted(c)}" for c in columns.identifiers)
    forenames = (f"concat_ws(' ', s.first_name_canonical, s.first_name_clean, s.middle_names_clean, "
                 f"{other_forenames})")
    return f"""
        SELECT g.person_id, s.source, s.record_id, s.nhs_number, s.dob,
               s.first_name_canonical AS first, s.first_name_clean AS first_written,
               split_part(s.first_name_clean, ' ', 1) AS first_token, s.surname_clean AS surname,
               ' ' || {forenames} || ' ' AS forenames,
               ' ' || concat_ws(' ', {forenames}, s.surname_clean, {other_surnames}) || ' ' AS names,
               strftime(s.dob, '%Y%m%d') AS ymd, strftime(s.dob, '%Y%d%m') AS ydm,
               strftime(s.dob, '%Y') AS yyyy, strftime(s.dob, '%m%d') AS mmdd,
               strftime(s.dob, '%d%m') AS ddmm,
               {person_id} AS source_person_id{identifiers}
        FROM {groups} g
        JOIN (SELECT person_id FROM {groups} GROUP BY 1 HAVING count(*) > 1) USING (person_id)
        JOIN source_records s ON s.source = g.source AND s.record_id = g.record_id
    """  # noqa: S608 - famlink's own table and column names


def _near_same_sql(x: str, y: str, *, consecutive_apart: bool) -> str:
    """``x`` and ``y`` are the same identifier or one keying error apart (a character changed,
    or two neighbours swapped). With ``consecutive_apart``, not when they could be numbers
    issued one after the other (twins registered together): numbers at most 2 apart, or for
    an identifier with letters, a character changed in the last two."""
    near = f"length({x}) >= 6 AND damerau_levenshtein({x}, {y}) = 1"
    if consecutive_apart:
        consecutive = (f"coalesce(abs(try_cast({x} AS BIGINT) - try_cast({y} AS BIGINT)) <= 2, "
                       f"levenshtein({x}, {y}) = 1"  # a change, not two neighbours swapped
                       f" AND substr({x}, 1, length({x}) - 2) = substr({y}, 1, length({y}) - 2))")
        near += f" AND NOT {consecutive}"
    return f"({x} = {y} OR ({near}))"


def shared_identifier_sql(
    columns: Columns, a: str = "a", b: str = "b", *, consecutive_apart: bool = False
) -> str:
    """True when records ``a`` and ``b`` carry the same NHS number, or the same value of a
    declared identifier give or take one keying error (see :func:`_near_same_sql`): one
    person's records, whatever their names and dates say. NHS numbers must be equal: their
    check digit already refuses a number one keying error from a valid one."""
    tests = [f"{a}.nhs_number = {b}.nhs_number"]
    tests += [_near_same_sql(f"{a}.{_quoted(c)}", f"{b}.{_quoted(c)}", consecutive_apart=consecutive_apart)
              for c in columns.identifiers]
    return "coalesce(" + " OR ".join(f"({t})" for t in tests) + ", false)"


# --- the rules --------------------------------------------------------------------------------


def _different_nhs_numbers(columns: Columns) -> str:
    # NHS numbers are mod-11 checked at ingest, so two valid ones that differ are two people
    # (or an agency recorded someone else's number, which a reviewer must sort out).
    return """
        SELECT a.source, a.record_id, b.source, b.record_id
        FROM m a
        JOIN (SELECT person_id FROM m GROUP BY 1 HAVING count(DISTINCT nhs_number) > 1) USING (person_id)
        JOIN m b ON b.person_id = a.person_id AND a.nhs_number < b.nhs_number
    """


# Two dates of birth that one keying error could turn into each other: one digit changed or
# two neighbours swapped (``damerau_levenshtein`` ≤ 1 over YYYYMMDD, e.g. 1985 ↔ 1958); day
# and month swapped (US order), alone or with one such typo; or a year one typo apart, or in
# the wrong century (a two-digit year read as 19xx or 20xx), on the same day and month.
_DOB_TYPO_SQL = """(
        damerau_levenshtein(a.ymd, b.ymd) <= 1
        OR damerau_levenshtein(a.ymd, b.ydm) <= 1
        OR ((a.mmdd = b.mmdd OR a.mmdd = b.ddmm)
            AND (damerau_levenshtein(a.yyyy, b.yyyy) <= 1 OR right(a.yyyy, 2) = right(b.yyyy, 2)))
    )"""


def _generation(columns: Columns) -> str:
    # Only groups whose dates span more than ten years can hold such a pair.
    return f"""
        SELECT a.source, a.record_id, b.source, b.record_id
        FROM m a
        JOIN (SELECT person_id FROM m GROUP BY 1
              HAVING date_diff('day', min(dob), max(dob)) > 3653) USING (person_id)
        JOIN m b ON b.person_id = a.person_id AND date_diff('day', a.dob, b.dob) > 3653
        WHERE NOT {_DOB_TYPO_SQL}
          AND NOT {shared_identifier_sql(columns)}
    """  # noqa: S608 - fixed SQL fragments only


# One record's forename could be the other's: similar spellings or the same nickname-resolved
# name (Jaro-Winkler ≥ 0.8, rounded so that "amy"/"any" at 0.7999… counts; the same first
# three letters; or two neighbouring letters swapped: Damerau-Levenshtein 1 where
# Levenshtein needs 2); the forename is one of the
# other's names (a middle name someone goes by, a preferred or alias forename, a forename
# field holding forename + middle names, a surname typed as the forename, a former surname),
# or close to the other's surname (forename and surname swapped, one of them mistyped);
# or it is an initial matching one of the other's forenames.
_SAME_FORENAME_POSSIBLE_SQL = """(
        round(jaro_winkler_similarity(a.first, b.first), 6) >= 0.8
        OR round(jaro_winkler_similarity(a.first_written, b.first_written), 6) >= 0.8
        OR substr(a.first_written, 1, 3) = substr(b.first_written, 1, 3)
        OR (damerau_levenshtein(a.first_written, b.first_written) = 1
            AND levenshtein(a.first_written, b.first_written) = 2)
        OR jaro_winkler_similarity(a.first_token, b.surname) >= 0.9
        OR jaro_winkler_similarity(b.first_token, a.surname) >= 0.9
        OR strpos(b.names, ' ' || a.first || ' ') > 0 OR strpos(a.names, ' ' || b.first || ' ') > 0
        OR strpos(b.names, ' ' || a.first_token || ' ') > 0
        OR strpos(a.names, ' ' || b.first_token || ' ') > 0
        OR (length(a.first_token) = 1 AND strpos(b.forenames, ' ' || a.first_token) > 0)
        OR (length(b.first_token) = 1 AND strpos(a.forenames, ' ' || b.first_token) > 0)
    )"""


def _twins(columns: Columns) -> str:
    return f"""
        SELECT a.source, a.record_id, b.source, b.record_id
        FROM m a
        JOIN m b ON b.person_id = a.person_id AND b.dob = a.dob
         AND (a.source, a.record_id) < (b.source, b.record_id)
        WHERE a.first IS NOT NULL AND b.first IS NOT NULL
          AND a.first_written IS NOT NULL AND b.first_written IS NOT NULL
          AND NOT coalesce({_SAME_FORENAME_POSSIBLE_SQL}, false)
          AND NOT {shared_identifier_sql(columns, consecutive_apart=True)}
    """  # noqa: S608 - fixed SQL fragments only


#: relationships in which the *related* record is the parent of the record
PARENT_RELATIONSHIPS = ("mother", "father", "parent", "step_parent")
#: the youngest a parent is at their child's birth, in years; a grandparent is two such
#: generations older than their grandchild
MIN_PARENT_AGE = 12
MIN_GRANDPARENT_AGE = 2 * MIN_PARENT_AGE


def _elders_sql(older: Sequence[str], younger: Sequence[str], years: int) -> str:
    """``(source, elder_id, born_before)``: a record named as the parent (or grandparent) of
    a dated child, and the latest date of birth the elder can have, ``years`` before the
    child's. ``older``: relationships whose related record is the elder; ``younger``: those
    whose related record is the child. The child's own record's date of birth is used: a
    provisional group may be wrong."""
    older_in = ", ".join(f"'{r}'" for r in older)
    younger_in = ", ".join(f"'{r}'" for r in younger)
    return f"""
            SELECT r.source, r.related_record_id AS elder_id,
                   c.dob - INTERVAL {years} YEAR AS born_before
            FROM relationships r
            JOIN source_records c ON c.source = r.source AND c.record_id = r.record_id
            WHERE r.relationship IN ({older_in}) AND c.dob IS NOT NULL
            UNION ALL
            SELECT r.source, r.record_id, c.dob - INTERVAL {years} YEAR
            FROM relationships r
            JOIN source_records c ON c.source = r.source AND c.record_id = r.related_record_id
            WHERE r.relationship IN ({younger_in}) AND c.dob IS NOT NULL"""  # noqa: S608 - fixed SQL


def _parent_age(columns: Columns) -> str:
    # a fixed interval per branch (not one read from a column): both engines take it as is
    parents = _elders_sql(PARENT_RELATIONSHIPS, ("child",), MIN_PARENT_AGE)
    grandparents = _elders_sql(("grandparent",), ("grandchild",), MIN_GRANDPARENT_AGE)
    return f"""
        SELECT p.source, p.elder_id, y.source, y.record_id
        FROM ({parents}
            UNION ALL{grandparents}
        ) p
        JOIN m x ON x.source = p.source AND x.record_id = p.elder_id
        JOIN m y ON y.person_id = x.person_id
        WHERE y.dob > p.born_before
    """  # noqa: S608 - fixed SQL fragments only


#: relationships in which the related record is of the record's own or an older generation,
#: and those in which it is of a younger one: one agency recording one person's partner
#: and one person's son (two occupants of one tenancy) records two people
OLDER_OR_PEER_RELATIONSHIPS = ("mother", "father", "parent", "step_parent", "partner",
                               "ex_partner", "co_parent", "grandparent")
YOUNGER_RELATIONSHIPS = ("child", "step_child", "grandchild")


def _related(columns: Columns) -> str:
    older = ", ".join(f"'{r}'" for r in OLDER_OR_PEER_RELATIONSHIPS)
    younger = ", ".join(f"'{r}'" for r in YOUNGER_RELATIONSHIPS)
    return f"""
        SELECT a.source, a.record_id, b.source, b.record_id
        FROM relationships r
        JOIN m a ON a.source = r.source AND a.record_id = r.record_id
        JOIN m b ON b.source = r.source AND b.record_id = r.related_record_id
         AND b.person_id = a.person_id
        WHERE r.record_id <> r.related_record_id
        UNION
        -- one record's partner (or parent) and that record's child, in one agency's records
        SELECT a.source, a.record_id, b.source, b.record_id
        FROM relationships ra
        JOIN relationships rb ON rb.source = ra.source AND rb.record_id = ra.record_id
        JOIN m a ON a.source = ra.source AND a.record_id = ra.related_record_id
        JOIN m b ON b.source = rb.source AND b.record_id = rb.related_record_id
         AND b.person_id = a.person_id
        WHERE ra.relationship IN ({older}) AND rb.relationship IN ({younger})
          AND ra.related_record_id <> rb.related_record_id
    """  # noqa: S608 - fixed SQL fragments only


#: the built-in rules, in the order the run reports them
RULES: tuple[CannotLinkRule, ...] = (
    CannotLinkRule(
        "different_nhs_numbers",
        "two different valid NHS numbers (checked by their check digit): two people",
        _different_nhs_numbers,
    ),
    CannotLinkRule(
        "related",
        "an agency records the two as related to each other (mother and child, siblings, "
        "a tenant and the son named after him), or as one person's partner (or parent) and "
        "that person's child: a person is not their own relative",
        _related,
    ),
    CannotLinkRule(
        "parent_age",
        f"one is named as a parent of a child born less than {MIN_PARENT_AGE} years after "
        f"the other, or as a grandparent of a child born less than {MIN_GRANDPARENT_AGE} "
        f"years after the other: a parent is at least {MIN_PARENT_AGE} years older than "
        "their child, a grandparent two such generations older",
        _parent_age,
    ),
    CannotLinkRule(
        "generation",
        "dates of birth more than ten years apart that no keying error explains, and no "
        "shared identifier: a generation apart (a father and his same-named son)",
        _generation,
    ),
    CannotLinkRule(
        "twins",
        "the same date of birth with first names that cannot be one person's (not a "
        "spelling, nickname, initial, middle, preferred, former or surname of the other) and "
        "no shared identifier: twins",
        _twins,
    ),
)

RULE_NAMES = tuple(rule.name for rule in RULES)
#: the reviewers' "different people" decisions, counted alongside the rules
REVIEWER = "reviewer"


def rule(name: str) -> CannotLinkRule:
    """The built-in rule called ``name`` (KeyError if there is none)."""
    for candidate in RULES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


# --- the job file: [linkage.cannot_link] -------------------------------------------------------


@dataclass(frozen=True)
class CannotLinkSettings:
    """``[linkage.cannot_link]``: which built-in rules are on (all, by default)."""

    disabled: frozenset[str] = frozenset()

    @property
    def rules(self) -> tuple[CannotLinkRule, ...]:
        return tuple(r for r in RULES if r.name not in self.disabled)

    def as_dict(self) -> dict[str, bool]:
        return {name: name not in self.disabled for name in RULE_NAMES}


def read_settings(value: Any, *, where: str) -> CannotLinkSettings:
    """Check ``[linkage.cannot_link]`` (``twins = false`` …): one true/false per rule name.

    >>> read_settings({"twins": False}, where="job.toml").disabled
    frozenset({'twins'})
    """
    if not isinstance(value, Mapping):
        raise JobFileError("linkage.cannot_link: must be a table of rule = true/false",
                           file=where, hint="e.g. [linkage.cannot_link] with twins = false")
    disabled = set()
    for key, switch in value.items():
        if key not in RULE_NAMES:
            close = difflib.get_close_matches(key, RULE_NAMES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "rules: " + ", ".join(RULE_NAMES)
            raise JobFileError(f"linkage.cannot_link.{key}: unknown cannot-link rule",
                               file=where, hint=hint)
        if not isinstance(switch, bool):
            raise JobFileError(f"linkage.cannot_link.{key}: must be true or false, not {switch!r}",
                               file=where)
        if not switch:
            disabled.add(key)
    return CannotLinkSettings(disabled=frozenset(disabled))


# --- the SQL the clustering runs --------------------------------------------------------------


def forbidden_pairs_sql(
    groups: str, columns: Columns, rules: Sequence[CannotLinkRule] = RULES
) -> str:
    """``(rule, source_a, record_id_a, source_b, record_id_b)``: the pairs inside one group of
    ``groups`` that ``rules`` forbid, each pair once per rule that forbids it.

    Rows of one source sharing the source's own person id are exempt: the source says they
    are one person, which outranks any built-in rule (see the module's precedence).
    """
    if not rules:
        return ("SELECT CAST(NULL AS VARCHAR) AS rule, CAST(NULL AS VARCHAR) AS source_a, "
                "CAST(NULL AS VARCHAR) AS record_id_a, CAST(NULL AS VARCHAR) AS source_b, "
                "CAST(NULL AS VARCHAR) AS record_id_b WHERE false")
    parts = "\n        UNION\n".join(
        f"SELECT '{r.name}' AS rule, * FROM ({r.sql(columns)}) x{i}(source_a, record_id_a, source_b, record_id_b)"  # noqa: S608
        for i, r in enumerate(rules)
    )
    exempt = ""
    if columns.source_person_id:
        # a join rather than a correlated subquery: both engines plan it alike
        exempt = """
        LEFT JOIN m ea ON ea.source = f.source_a AND ea.record_id = f.record_id_a
        LEFT JOIN m eb ON eb.source = f.source_b AND eb.record_id = f.record_id_b
        WHERE NOT coalesce(ea.source = eb.source AND ea.source_person_id = eb.source_person_id, false)"""
    return f"""
        WITH m AS ({members_sql(groups, columns)}),
        f AS ({parts})
        SELECT f.rule, f.source_a, f.record_id_a, f.source_b, f.record_id_b FROM f{exempt}
    """  # noqa: S608 - famlink's own SQL


def source_person_links_sql(columns: Columns) -> str:
    """Must-links ``(source_a, record_id_a, source_b, record_id_b)`` joining each row of a
    source to the first row (smallest record id) sharing its ``source_person_id``: the
    source's own word that they are one person, asked of no model. Empty without the column."""
    if not columns.source_person_id:
        return ("SELECT CAST(NULL AS VARCHAR) AS source_a, CAST(NULL AS VARCHAR) AS record_id_a, "
                "CAST(NULL AS VARCHAR) AS source_b, CAST(NULL AS VARCHAR) AS record_id_b WHERE false")
    return """
        SELECT source AS source_a, first_record AS record_id_a, source AS source_b,
               record_id AS record_id_b
        FROM (
            SELECT source, record_id,
                   min(record_id) OVER (PARTITION BY source, source_person_id) AS first_record
            FROM source_records WHERE source_person_id IS NOT NULL
        ) WHERE record_id <> first_record
    """
