r"""DuckDB SQL written as Spark SQL: what sqlglot maps, and what famlink rewrites itself.

sqlglot (the library Splink uses for its own dialects) transpiles famlink's DuckDB SQL to
Spark SQL. What it does not map, or maps with different meaning, is rewritten on the parsed
statement here (:func:`to_spark`):

- DuckDB session variables (``getvariable``) and query parameters (``$name``, ``?``) become
  literals;
- ``x IN (SELECT unnest(list))`` becomes an ``IN`` list, ``to_months(n)`` an interval,
  ``list_has_any`` ``arrays_overlap``, a row value ``(a, b)`` a struct;
- ``jaro_winkler_similarity`` becomes Splink's jar UDF ``jaro_winkler``;
- ``strip_accents`` (no Spark function) becomes ``translate`` over every precomposed letter
  with its marks removed, then the removal of any remaining combining mark;
- ``regexp_full_match`` becomes ``RLIKE`` anchored with ``^(?:…)\z`` (Java's ``$`` also
  matches before a final newline); a ``regexp_replace`` without ``'g'`` (DuckDB: the first
  match only; Spark: every match) is refused unless its pattern is anchored;
- a ``MAP {…}`` literal becomes ``map(k, v, …)``;
- ``try_strptime(x, [formats])`` becomes the first of ``try_to_timestamp(x, pattern)`` that
  parses, each strptime format written as a Java pattern by :func:`java_date_pattern`.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from sqlglot import exp
from sqlglot.dialects.spark import Spark


class SparkSQL(Spark):  # type: ignore[misc]
    """Spark SQL as sqlglot writes it, with the functions Spark names differently."""

    class Generator(Spark.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            # DuckDB's list_has_any: sqlglot writes `a && b`, which Spark does not parse
            exp.ArrayOverlaps: lambda self, e: self.func("ARRAYS_OVERLAP", e.this, e.expression),
            # DuckDB's jaro_winkler_similarity: Splink's similarity jar registers it on the
            # session as jaro_winkler (as Splink's own comparisons call it on Spark)
            exp.JarowinklerSimilarity: lambda self, e: self.func("JARO_WINKLER", e.this, e.expression),
        }


_COMPARISONS = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.EQ, exp.NEQ)


def _literal(value: Any) -> exp.Expression:
    """A session variable's value as a SQL literal."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


class UnsupportedOnSpark(ValueError):
    """famlink's DuckDB SQL uses something the Spark backend cannot reproduce exactly."""


def to_spark(
    statement: exp.Expression, variables: dict[str, Any], parameters: dict[str, Any] | list[Any] | None = None,
) -> str:
    """One parsed DuckDB statement as Spark SQL (see the module's docstring)."""
    positional = iter(parameters if isinstance(parameters, list) else [])
    named = parameters if isinstance(parameters, dict) else {}

    def rewrite(node: exp.Expression) -> exp.Expression:
        name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
        if name == "getvariable":
            variable = node.expressions[0].name
            if variable not in variables:
                raise KeyError(f"session variable {variable!r} is not set")
            return _literal(variables[variable])
        if isinstance(node, exp.Placeholder):
            if node.name:
                if node.name not in named:
                    raise KeyError(f"query parameter ${node.name} is not given")
                return _literal(named[node.name])
            return _literal(next(positional))
        if isinstance(node, exp.Tuple) and isinstance(node.parent, (exp.Func, *_COMPARISONS)):
            # a sort key, arg_min(x, (a, b)), or a row comparison, (a, b) < (c, d): Spark
            # compares structs field by field, as DuckDB compares row values
            return exp.Struct(expressions=node.expressions)
        if name == "to_months":
            months = node.expressions[0].transform(rewrite)
            if isinstance(months, exp.Literal):
                return exp.Interval(this=exp.Literal.string(months.this), unit=exp.var("MONTH"))
            return exp.Anonymous(this="make_ym_interval", expressions=[exp.Literal.number(0), months])
        if name == "strip_accents":
            return _strip_accents(node.expressions[0].transform(rewrite))
        if isinstance(node, exp.RegexpFullMatch):
            return exp.RegexpLike(this=node.this, expression=_anchored(node.expression))
        if isinstance(node, exp.RegexpReplace):
            _check_replace_all(node)
            return node
        if isinstance(node, exp.ToMap):
            return _map_literal(node)
        if name == "try_strptime":
            value, formats = (e.transform(rewrite) for e in node.expressions)
            return _parse_timestamp(value, formats)
        return node

    tree = statement.transform(rewrite)

    def in_list(node: exp.Expression) -> exp.Expression:
        # x IN (SELECT unnest([...])) -> x IN (...)
        query = node.args.get("query") if isinstance(node, exp.In) else None
        inner = query.this if isinstance(query, exp.Subquery) else query
        if isinstance(inner, exp.Select) and len(inner.expressions) == 1 and not inner.args.get("from_"):
            only = inner.expressions[0]
            if isinstance(only, exp.Explode | exp.Unnest) and isinstance(only.this, exp.Array):
                return exp.In(this=node.this, expressions=list(only.this.expressions))
        return node

    tree = tree.transform(in_list)
    return tree.sql(dialect=SparkSQL)


def _map_literal(node: exp.ToMap) -> exp.Expression:
    """``MAP {'k': 'v', …}`` (sqlglot reads ``MAP {…}[key]`` as the map of a lookup) as
    Spark's ``map('k', 'v', …)``, with the lookup kept."""
    inner = node.this
    lookup = inner if isinstance(inner, exp.Bracket) else None
    struct = lookup.this if lookup is not None else inner
    if not isinstance(struct, exp.Struct):
        raise UnsupportedOnSpark(f"map literal {node.sql(dialect='duckdb')[:80]}")
    pairs = [x for pair in struct.expressions for x in (pair.this, pair.expression)]
    spark_map = exp.Anonymous(this="MAP", expressions=pairs)
    if lookup is None:
        return spark_map
    return exp.Bracket(this=spark_map, expressions=lookup.expressions)


# --- strip_accents ------------------------------------------------------------------------


def _accent_table() -> tuple[str, str]:
    """Every precomposed character up to U+2FFF whose canonical decomposition is one base
    character plus combining marks, and that base character: DuckDB's ``strip_accents``
    (decompose, drop the marks) as a ``translate`` table."""
    accented, plain = [], []
    for code in range(0xC0, 0x3000):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base != char and len(base) == 1:
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


_ACCENTED, _PLAIN = _accent_table()


def _strip_accents(value: exp.Expression) -> exp.Expression:
    translated = exp.Anonymous(
        this="TRANSLATE", expressions=[value, exp.Literal.string(_ACCENTED), exp.Literal.string(_PLAIN)])
    # combining marks written as separate characters (e + U+0301) are dropped too
    return exp.RegexpReplace(this=translated, expression=exp.Literal.string(r"\p{M}+"),
                             replacement=exp.Literal.string(""))


# --- regular expressions ------------------------------------------------------------------


def _anchored(pattern: exp.Expression) -> exp.Expression:
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedOnSpark("regexp_full_match needs a literal pattern on Spark")
    return exp.Literal.string(f"^(?:{pattern.this})\\z")


def _check_replace_all(node: exp.RegexpReplace) -> None:
    modifiers = node.args.get("modifiers")
    if isinstance(modifiers, exp.Literal) and "g" in modifiers.this:
        return
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and (pattern.this.startswith("^") or pattern.this.endswith("$")):
        return  # anchored: it can match once only, on either engine
    raise UnsupportedOnSpark(
        f"regexp_replace without 'g' replaces the first match on DuckDB but every match on Spark: "
        f"{node.sql(dialect='duckdb')[:120]}")


# --- dates --------------------------------------------------------------------------------

#: strptime directive -> (Java pattern letters when the field stands alone, when it touches
#: another number: fixed width then, as strptime reads ``%Y%m%d``)
_DIRECTIVES = {
    "d": ("d", "dd"), "e": ("d", "dd"), "m": ("M", "MM"), "Y": ("y", "yyyy"), "y": ("yy", "yy"),
    "b": ("MMM", "MMM"), "h": ("MMM", "MMM"), "B": ("MMMM", "MMMM"),
    "H": ("H", "HH"), "I": ("h", "hh"), "M": ("m", "mm"), "S": ("s", "ss"), "p": ("a", "a"),
    "j": ("D", "DDD"), "a": ("E", "E"), "A": ("EEEE", "EEEE"), "f": ("SSSSSS", "SSSSSS"),
}
_NUMERIC = set("deYymHIMSjf")


def java_date_pattern(strptime_format: str) -> str:
    """A strptime format as the Java pattern Spark parses with, as leniently as DuckDB:
    ``%d/%m/%Y`` → ``d/M/y`` (one or two digits for day and month), ``%Y%m%d`` →
    ``yyyyMMdd``. Raises :class:`UnsupportedOnSpark` for a directive with no equivalent.

    >>> java_date_pattern("%d/%m/%Y %H:%M")
    'd/M/y H:m'
    >>> java_date_pattern("%Y-%m-%dT%H")
    "y-M-d'T'H"
    """
    tokens: list[tuple[str, str]] = []  # ("dir", letter) or ("lit", text)
    i = 0
    while i < len(strptime_format):
        char = strptime_format[i]
        if char == "%" and i + 1 < len(strptime_format):
            directive = strptime_format[i + 1]
            i += 2
            if directive == "%":
                tokens.append(("lit", "%"))
            elif directive in _DIRECTIVES:
                tokens.append(("dir", directive))
            else:
                raise UnsupportedOnSpark(
                    f"date format {strptime_format!r}: %{directive} has no Spark equivalent")
            continue
        tokens.append(("lit", char))
        i += 1
    out = []
    for k, (kind, value) in enumerate(tokens):
        if kind == "lit":
            out.append(f"'{value}'" if value.isalpha() else ("''" if value == "'" else value))
            continue
        touching = any(
            0 <= j < len(tokens) and tokens[j][0] == "dir" and tokens[j][1] in _NUMERIC
            for j in (k - 1, k + 1)
        )
        alone, fixed = _DIRECTIVES[value]
        out.append(fixed if touching and value in _NUMERIC else alone)
    return "".join(out)


def _parse_timestamp(value: exp.Expression, formats: exp.Expression) -> exp.Expression:
    """``try_strptime(value, formats)``: the first format that parses, as DuckDB does."""
    literals = formats.expressions if isinstance(formats, exp.Array) else [formats]
    if not all(isinstance(f, exp.Literal) and f.is_string for f in literals):
        raise UnsupportedOnSpark("try_strptime needs literal formats on Spark")
    parses: list[exp.Expression] = []
    for fmt in literals:
        parsed: exp.Expression = exp.Anonymous(
            this="TRY_TO_TIMESTAMP", expressions=[value.copy(), exp.Literal.string(java_date_pattern(fmt.this))])
        if "%y" in fmt.this:
            # two-digit years: DuckDB reads 69–99 as 1969–1999, Java as 2069–2099
            parsed = exp.If(
                this=exp.GTE(this=exp.Anonymous(this="YEAR", expressions=[parsed.copy()]),
                             expression=exp.Literal.number(2069)),
                true=exp.Anonymous(this="ADD_MONTHS", expressions=[parsed.copy(), exp.Literal.number(-1200)]),
                false=parsed,
            )
        parses.append(parsed)
    return parses[0] if len(parses) == 1 else exp.Coalesce(this=parses[0], expressions=parses[1:])
