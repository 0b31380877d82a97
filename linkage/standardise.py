"""Standardisation of identifying fields, as DuckDB SQL expressions.

Every function here returns a SQL fragment built around another SQL expression (a quoted
column, or a parameter in tests); nothing runs per row in Python. The fragments are used by
:mod:`famlink.linkage.ingest` over whole tables at once.

- names: lower case, accents folded, leading titles removed, apostrophes removed
  (``O'Brien`` → ``obrien``), other punctuation and hyphens become spaces
  (``Smith-Jones`` → ``smith jones``), single-spaced;
- first names: nicknames resolved through ``linkage/data/nicknames.csv`` (``bob`` → ``robert``);
- sex from a title when the sex columns give none (``Mr`` → male, ``Mrs`` → female);
- NHS numbers: spaces and dashes removed, 10 digits, modulus-11 check digit valid;
- other identifiers (``[sources.people.identifiers]``): upper case, separators removed;
- postcodes: upper case, ``AB1 2CD`` spacing, valid UK format; the outward code (district) of a
  valid or a partial UK postcode; or, for ``postcode_format = "any"``, as written;
- UPRNs: digits only, leading zeros removed, at most 12 digits;
- addresses: lower case, punctuation removed, common abbreviations expanded;
- dates: ``try_strptime`` with the file's list of formats; a time part is ignored when no
  format has a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

NICKNAMES_PATH = Path(__file__).parent / "data" / "nicknames.csv"

#: titles removed from the start of a name (only when something follows them)
TITLES = (
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "rev", "revd", "reverend",
    "sir", "dame", "master", "fr", "sr",
)

#: address abbreviations expanded token by token
ADDRESS_ABBREVIATIONS = {
    "rd": "road", "st": "street", "str": "street", "ave": "avenue", "av": "avenue",
    "ln": "lane", "cl": "close", "ct": "court", "crt": "court", "cres": "crescent",
    "cresc": "crescent", "dr": "drive", "drv": "drive", "gdns": "gardens", "gdn": "garden",
    "gr": "grove", "gro": "grove", "pl": "place", "sq": "square", "tce": "terrace",
    "ter": "terrace", "terr": "terrace", "pk": "park", "pde": "parade", "hse": "house",
    "ho": "house", "flt": "flat", "apt": "apartment", "apts": "apartments", "blk": "block",
    "bldg": "building", "bldgs": "buildings", "est": "estate", "ctr": "centre",
    "cntr": "centre", "mt": "mount", "nth": "north", "sth": "south", "bvd": "boulevard",
    "blvd": "boulevard", "wlk": "walk", "mews": "mews", "cotts": "cottages",
    "ind": "industrial", "fm": "farm",
}

#: characters without a decomposition that strip_accents leaves alone
_LIGATURES = (("æ", "ae"), ("œ", "oe"), ("ß", "ss"), ("ø", "o"), ("ł", "l"), ("đ", "d"),
              ("þ", "th"), ("ð", "d"))

#: a time part after the date: " 14:05", "T14:05:00.123Z", " 2:05 PM", "+01:00"
_TIME_SUFFIX = r"(T|\s+)\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s*[AaPp]\.?[Mm]\.?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
_TIME_DIRECTIVES = re.compile(r"%[HIMSpfTRXcz]")

_WHITESPACE = "' ' || chr(9) || chr(10) || chr(13) || chr(160)"

UK_POSTCODE_SQUASHED = r"GIR0AA|[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][ABD-HJLNP-UW-Z]{2}"

#: the UK's postcode areas (with the Crown dependencies and BFPO): a partial postcode is
#: kept as a district only when its area is one of these, so ``XX1`` or the NHS's ``ZZ99``
#: ("no fixed abode") never counts as a shared district
UK_POSTCODE_AREAS = (
    "AB AL B BA BB BD BF BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN "
    "DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY "
    "L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM "
    "S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN "
    "WR WS WV YO ZE"
).split()
#: an outward code alone (``LS6``, ``SW1A``) in a UK postcode area
UK_OUTWARD_CODE = "(" + "|".join(UK_POSTCODE_AREAS) + ")[0-9][0-9A-Z]?"

#: titles that tell the sex (matched lower case, letters only: ``Mr.`` is ``mr``); any other
#: title (``Dr``, ``Mx``, ``Rev``) tells nothing
TITLE_SEX = {"mr": "male", "master": "male",
             "mrs": "female", "ms": "female", "miss": "female", "madam": "female"}

#: characters removed from an identifier: whitespace (incl. non-breaking), ``-``, ``/``, ``.``
_IDENTIFIER_SEPARATORS = "[\\s\u00a0./-]+"


def quote_ident(name: str) -> str:
    """A DuckDB quoted identifier: ``"name"`` with embedded ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal with ``'`` doubled (only for famlink's own constants)."""
    return "'" + value.replace("'", "''") + "'"


def literal_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"


# --- reading values ---------------------------------------------------------------------------


def text(expr: str) -> str:
    """Text trimmed of whitespace (incl. non-breaking spaces); empty → NULL."""
    return f"nullif(trim(CAST({expr} AS VARCHAR), {_WHITESPACE}), '')"


def first_of(exprs: Sequence[str]) -> str:
    """The first of several columns that is not empty (trimmed, as :func:`text`)."""
    if len(exprs) == 1:
        return text(exprs[0])
    return "coalesce(" + ", ".join(text(e) for e in exprs) + ")"


def joined(exprs: Sequence[str]) -> str:
    """Several columns joined by single spaces, empty parts skipped; all empty → NULL."""
    if len(exprs) == 1:
        return text(exprs[0])
    return "nullif(concat_ws(' ', " + ", ".join(text(e) for e in exprs) + "), '')"


def has_time_directive(formats: Sequence[str]) -> bool:
    return any(_TIME_DIRECTIVES.search(f) for f in formats)


def parse_date(expr: str, formats_param: str, formats: Sequence[str]) -> str:
    """``expr`` (text) parsed with the formats in the list parameter ``formats_param``.

    Impossible dates (31/02/2020) and values matching no format give NULL. When no format
    includes a time, a trailing time part (``12/03/2024 14:05``, ``2024-03-12T14:05:00Z``) is
    removed first, so the date part is read.
    """
    value = expr
    if not has_time_directive(formats):
        value = f"regexp_replace({expr}, {quote_literal(_TIME_SUFFIX)}, '')"
    return f"CAST(try_strptime({value}, {formats_param}) AS DATE)"


# --- names ------------------------------------------------------------------------------------


def fold(expr: str) -> str:
    """Lower case with accents folded (``Zoë`` → ``zoe``, ``Øster`` → ``oster``)."""
    out = f"lower(strip_accents({expr}))"
    for char, replacement in _LIGATURES:
        out = f"replace({out}, {quote_literal(char)}, {quote_literal(replacement)})"
    return out


def clean_name(expr: str) -> str:
    """Name for matching: folded, apostrophes removed, other non-letters → spaces, leading
    titles removed (``Mrs Mary-Ann O'Neil`` → ``mary ann oneil``); empty → NULL."""
    folded = fold(expr)
    no_apostrophes = f"regexp_replace({folded}, '[''’‘`´]', '', 'g')"
    letters = f"trim(regexp_replace({no_apostrophes}, '[^a-z]+', ' ', 'g'))"
    titles = "|".join(TITLES)
    untitled = f"regexp_replace({letters}, '^(({titles}) )+', '')"
    return f"nullif({untitled}, '')"


def first_token(expr: str) -> str:
    """First space-separated token (``smith jones`` → ``smith``)."""
    return f"nullif(split_part({expr}, ' ', 1), '')"


def after_first_token(expr: str) -> str:
    """What follows the first token of a single-spaced name (``mary jane ann`` →
    ``jane ann``); NULL when there is nothing. ``expr`` is repeated: pass a column."""
    return f"nullif(substr({expr}, length(split_part({expr}, ' ', 1)) + 2), '')"


def words(exprs: Sequence[str]) -> str:
    """Several single-spaced names as one, NULL parts skipped; all NULL → NULL."""
    return "nullif(concat_ws(' ', " + ", ".join(exprs) + "), '')"


def sex_key(sex_expr: str) -> str:
    """The sex a nickname is resolved for: ``male``, ``female``, else ``''`` (not known)."""
    return f"coalesce(CASE WHEN {sex_expr} IN ('male', 'female') THEN {sex_expr} END, '')"


def sex_from_title(expr: str) -> str:
    """``male`` / ``female`` from a title (``Mr.`` → male, ``MISS`` → female), else NULL."""
    key = f"regexp_replace(lower({expr}), '[^a-z]+', '', 'g')"
    cases = " ".join(
        f"WHEN {key} IN {literal_list(sorted(t for t, v in TITLE_SEX.items() if v == sex))} "
        f"THEN {quote_literal(sex)}"
        for sex in ("male", "female")
    )
    return f"CASE {cases} END"


def nickname_join(alias: str, key_expr: str, sex_expr: str,
                  table: str = "_fl_nicknames") -> str:
    """A LEFT JOIN of the nickname table matching at most one row.

    A nickname that belongs to names of both sexes (``sam``, ``alex``) is resolved only when
    the record's sex picks one; a nickname listed for either sex always is.
    """
    return (
        f"LEFT JOIN {quote_ident(table)} {alias} ON {alias}.nickname = {key_expr} "
        f"AND {alias}.sex_key = {sex_key(sex_expr)}"
    )


def load_nicknames(con: duckdb.DuckDBPyConnection, table: str = "_fl_nicknames",
                   path: Path = NICKNAMES_PATH) -> None:
    """Create the temporary lookup ``(nickname, sex_key, canonical)`` from the CSV: one row per
    nickname and sex (``male``, ``female``, or ``''`` when the sex is not known)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS "  # noqa: S608
        "WITH n AS (SELECT DISTINCT lower(trim(nickname)) AS nickname, "
        "lower(trim(canonical)) AS canonical, coalesce(lower(trim(sex)), '') AS sex "
        "FROM read_csv($path, header = true, auto_detect = false, delim = ',', quote = '\"', "
        "columns = {'nickname': 'VARCHAR', 'canonical': 'VARCHAR', 'sex': 'VARCHAR'})), "
        "keys AS (SELECT * FROM (VALUES ('male'), ('female'), ('')) k(sex_key)) "
        "SELECT n.nickname, k.sex_key, "
        "min(n.canonical) FILTER (WHERE n.sex = k.sex_key AND k.sex_key <> '') AS specific, "
        "min(n.canonical) FILTER (WHERE n.sex = '') AS general, "
        "coalesce(specific, general) AS canonical "
        "FROM n CROSS JOIN keys k GROUP BY n.nickname, k.sex_key "
        "HAVING coalesce(specific, general) IS NOT NULL ORDER BY 1, 2",
        {"path": str(path)},
    )


# --- identifiers ------------------------------------------------------------------------------

_SAME_DIGITS = literal_list(str(i) * 10 for i in range(10))


def nhs_digits(expr: str) -> str:
    """An NHS number with spaces and dashes removed (step 1 of 2)."""
    return f"regexp_replace({expr}, '[\\s-]', '', 'g')"


def nhs_number(digits_col: str) -> str:
    """Step 2: the digits if they are a valid NHS number — 10 digits, modulus-11 check digit,
    not one digit repeated — else NULL. ``digits_col`` is repeated: pass a column."""
    n = digits_col

    def d(i: int) -> str:
        return f"TRY_CAST(substr({n}, {i}, 1) AS INTEGER)"  # guarded; TRY_ for Spark's ANSI casts

    weighted = " + ".join(f"{11 - i} * {d(i)}" for i in range(1, 10))
    check = f"(11 - (({weighted}) % 11))"
    return (
        f"CASE WHEN regexp_full_match({n}, '[0-9]{{10}}') AND {n} NOT IN {_SAME_DIGITS} "
        f"AND {check} <> 10 AND (CASE WHEN {check} = 11 THEN 0 ELSE {check} END) = {d(10)} "
        f"THEN {n} END"
    )


def postcode_squashed(expr: str) -> str:
    """A postcode upper-cased with all whitespace removed (step 1 of 2)."""
    return f"upper(regexp_replace({expr}, '\\s+', '', 'g'))"


def postcode(squashed_col: str) -> str:
    """Step 2: the ``AB1 2CD`` form when it is a valid UK postcode format, else NULL."""
    p = squashed_col
    return (
        f"CASE WHEN regexp_full_match({p}, {quote_literal(UK_POSTCODE_SQUASHED)}) "
        f"THEN left({p}, length({p}) - 3) || ' ' || right({p}, 3) END"
    )


def postcode_district(squashed_col: str, text_col: str) -> str:
    """The outward code (``LS6``, ``SW1A``) of a valid UK postcode, or of a partial one that
    is an outward code alone in a UK postcode area; else NULL. ``text_col`` is the trimmed
    value as written: ``LS1 4`` (a sector) is not the district ``LS14``."""
    p = squashed_col
    return (
        f"CASE WHEN regexp_full_match({p}, {quote_literal(UK_POSTCODE_SQUASHED)}) "
        f"THEN left({p}, length({p}) - 3) "
        f"WHEN regexp_full_match(upper({text_col}), {quote_literal(UK_OUTWARD_CODE)}) "
        f"THEN upper({text_col}) END"
    )


def identifier(expr: str) -> str:
    """An identifier (``[sources.people.identifiers]``) for matching: upper case, whitespace,
    ``-``, ``/`` and ``.`` removed (``ab 12-34/5.c`` → ``AB12345C``); empty → NULL."""
    return f"nullif(upper(regexp_replace({expr}, {quote_literal(_IDENTIFIER_SEPARATORS)}, '', 'g')), '')"


def uprn_digits(expr: str) -> str:
    """A UPRN without spaces, a trailing ``.0`` or leading zeros (step 1 of 2)."""
    return f"ltrim(regexp_replace(regexp_replace({expr}, '\\s', '', 'g'), '\\.0+$', ''), '0')"


def uprn(digits_col: str) -> str:
    """Step 2: the UPRN as text when it is 1–12 digits, else NULL."""
    return f"CASE WHEN regexp_full_match({digits_col}, '[0-9]{{1,12}}') THEN {digits_col} END"


# --- addresses --------------------------------------------------------------------------------


def address_clean(expr: str) -> str:
    """Address for matching: folded, apostrophes removed, punctuation → spaces,
    single-spaced, abbreviations expanded (``12 High St.`` → ``12 high street``)."""
    folded = fold(expr)
    no_apostrophes = f"regexp_replace({folded}, '[''’‘`´]', '', 'g')"
    words = f"trim(regexp_replace({no_apostrophes}, '[^a-z0-9]+', ' ', 'g'))"
    lookup = "MAP {" + ", ".join(
        f"{quote_literal(k)}: {quote_literal(v)}" for k, v in sorted(ADDRESS_ABBREVIATIONS.items())
    ) + "}"
    expanded = (
        f"array_to_string(list_transform(string_split({words}, ' '), "
        f"lambda t: coalesce({lookup}[t], t)), ' ')"
    )
    return f"nullif({expanded}, '')"


# --- codes ------------------------------------------------------------------------------------


def map_code(raw_expr: str, mapped_expr: str, vocabulary: Sequence[str]) -> str:
    """The canonical value of a code: the job file's mapping (``mapped_expr``, from a join on
    the trimmed lower-case code), else the code itself when it already is canonical, else
    NULL."""
    return (
        f"coalesce({mapped_expr}, CASE WHEN lower({raw_expr}) IN {literal_list(vocabulary)} "
        f"THEN lower({raw_expr}) END)"
    )
