"""Standardisation: the cleaned values linkage compares. Each case is one a data officer's
extract really contains (nicknames, titles, double-barrelled names, spaced NHS numbers,
month-first dates …)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from famlink.linkage import standardise as std
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import load_job


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def one(con: duckdb.DuckDBPyConnection, *steps: Callable[[str], str], value: Any) -> Any:
    """Apply the SQL builders in turn to ``value`` (each step reads the previous column)."""
    sql = "SELECT $v::VARCHAR AS c0"
    for i, step in enumerate(steps, start=1):
        sql = f"SELECT {step(f'c{i - 1}')} AS c{i} FROM ({sql})"  # noqa: S608
    row = con.execute(sql, {"v": value}).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Kate", "kate"),
        ("  ZOË ", "zoe"),  # accents folded, trimmed
        ("Björk Ødegård", "bjork odegard"),
        ("O'Brien", "obrien"),  # apostrophes removed
        ("D’Arcy", "darcy"),  # typographic apostrophe
        ("Smith-Jones", "smith jones"),  # hyphen becomes a space
        ("Mrs Mary-Ann", "mary ann"),  # title removed
        ("DR. JOHN", "john"),
        ("Mr Lord", "lord"),
        ("Lord", "lord"),  # a surname that looks like a title stays
        ("J.R.", "j r"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_name(con: duckdb.DuckDBPyConnection, raw: str | None, clean: str | None) -> None:
    assert one(con, std.text, std.clean_name, value=raw) == clean


def test_surname_first_token(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, std.clean_name, std.first_token, value="Smith-Jones") == "smith"


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),  # spaces stripped
        ("943-476-5919", "9434765919"),  # dashes stripped
        ("4010232137", "4010232137"),
        ("9434765918", None),  # wrong check digit
        ("1234567890", None),  # check digit would be 10: never valid
        ("943476591", None),  # 9 digits
        ("94347659190", None),  # 11 digits
        ("0000000000", None),  # placeholder: mod-11 valid but not a real number
        ("943476591X", None),
        (None, None),
    ],
)
def test_nhs_number_modulus_11(
    con: duckdb.DuckDBPyConnection, raw: str | None, valid: str | None
) -> None:
    assert one(con, std.nhs_digits, std.nhs_number, value=raw) == valid


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ls1 4ab", "LS1 4AB"),
        ("LS14AB", "LS1 4AB"),
        (" sw1a  1aa ", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
        ("XX1", None),
        ("12345", None),
        ("SW1A 1AI", None),  # I is not used in the inward code
        ("LS1 4AB X", None),
    ],
)
def test_postcode(con: duckdb.DuckDBPyConnection, raw: str, clean: str | None) -> None:
    assert one(con, std.postcode_squashed, std.postcode, value=raw) == clean


@pytest.mark.parametrize(
    ("raw", "district"),
    [
        ("ls1 4ab", "LS1"),  # a valid postcode's outward code
        ("SW1A1AA", "SW1A"),
        ("EC1A 1BB", "EC1A"),
        ("GIR 0AA", "GIR"),
        ("LS6", "LS6"),  # partial: the outward code alone is kept
        (" sw1a ", "SW1A"),
        ("b33", "B33"),
        ("XX1", None),  # XX is no UK postcode area
        ("ZZ99", None),  # the NHS's "no fixed abode" pseudo-postcode
        ("LS1 4", None),  # a sector is not a district
        ("LS", None),
        ("2000", None),
        ("", None),
    ],
)
def test_postcode_district(con: duckdb.DuckDBPyConnection, raw: str, district: str | None) -> None:
    sql = f"SELECT {std.postcode_district(std.postcode_squashed('$v'), 'trim($v)')}"  # noqa: S608
    assert con.execute(sql, {"v": raw}).fetchone() == (district,)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ab 12 34 56 c", "AB123456C"),  # an NI number as typed
        ("AB-123/456.C", "AB123456C"),
        ("\u00a0x12\u00a03 ", "X123"),  # non-breaking spaces too
        ("1234567", "1234567"),
        ("k_42", "K_42"),  # other punctuation is kept
        (" - / . ", None),
        ("", None),
    ],
)
def test_identifier(con: duckdb.DuckDBPyConnection, raw: str, clean: str | None) -> None:
    assert one(con, std.identifier, value=raw) == clean


@pytest.mark.parametrize(
    ("title", "sex"),
    [
        ("Mr", "male"), ("MR.", "male"), ("master", "male"),
        ("Mrs", "female"), ("Ms.", "female"), ("MISS", "female"), ("Madam", "female"),
        ("Dr", None), ("Mx", None), ("Rev", None), ("Prof", None), ("Mister Man", None), ("", None),
    ],
)
def test_sex_from_title(con: duckdb.DuckDBPyConnection, title: str, sex: str | None) -> None:
    assert one(con, std.sex_from_title, value=title) == sex


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("100023336956", "100023336956"),
        ("000100023336956", "100023336956"),  # leading zeros stripped
        ("100023336956.0", "100023336956"),  # exported from a spreadsheet as a number
        (" 10002 ", "10002"),
        ("abc", None),
        ("0", None),
        ("1234567890123", None),  # UPRNs have at most 12 digits
    ],
)
def test_uprn(con: duckdb.DuckDBPyConnection, raw: str, clean: str | None) -> None:
    assert one(con, std.uprn_digits, std.uprn, value=raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("12, High St.", "12 high street"),
        ("Flat 3a, Mill Rd", "flat 3a mill road"),
        ("1 Park Ave", "1 park avenue"),
        ("St. John's Cl", "street johns close"),  # consistent, not clever
        ("  ", None),
    ],
)
def test_address_clean(con: duckdb.DuckDBPyConnection, raw: str, clean: str | None) -> None:
    assert one(con, std.address_clean, value=raw) == clean


def parse(con: duckdb.DuckDBPyConnection, value: str, formats: Sequence[str]) -> date | None:
    row = con.execute(
        f"SELECT {std.parse_date('$v', '$f', formats)}", {"v": value, "f": list(formats)}
    ).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    ("raw", "formats", "expected"),
    [
        ("12/03/2024", ["%d/%m/%Y"], date(2024, 3, 12)),
        ("1/2/2020", ["%d/%m/%Y"], date(2020, 2, 1)),
        ("03/12/2024", ["%m/%d/%Y"], date(2024, 3, 12)),  # US month-first by format
        ("12-Mar-2024", ["%d-%b-%Y"], date(2024, 3, 12)),
        ("20240312", ["%Y%m%d"], date(2024, 3, 12)),
        # a list of formats is tried in order
        ("2024-03-12", ["%d/%m/%Y", "%Y-%m-%d"], date(2024, 3, 12)),
        ("12/03/2024", ["%d/%m/%Y", "%Y-%m-%d"], date(2024, 3, 12)),
        # a time is ignored when no format has one
        ("12/03/2024 14:05", ["%d/%m/%Y"], date(2024, 3, 12)),
        ("12/03/2024 2:05 PM", ["%d/%m/%Y"], date(2024, 3, 12)),
        ("2024-03-12T14:05:00", ["%Y-%m-%d"], date(2024, 3, 12)),
        ("2024-03-12T00:30:00+01:00", ["%Y-%m-%d"], date(2024, 3, 12)),
        ("2024-03-12 14:05:00.123", ["%Y-%m-%d"], date(2024, 3, 12)),
        # a format with a time reads the time and keeps the date
        ("12/03/2024 14:05", ["%d/%m/%Y %H:%M"], date(2024, 3, 12)),
        # impossible or unreadable dates are NULL
        ("31/02/2020", ["%d/%m/%Y"], None),
        ("13/13/2020", ["%d/%m/%Y"], None),
        ("2024-03-12", ["%d/%m/%Y"], None),
        ("yesterday", ["%d/%m/%Y"], None),
    ],
)
def test_parse_date(
    con: duckdb.DuckDBPyConnection, raw: str, formats: list[str], expected: date | None
) -> None:
    assert parse(con, raw, formats) == expected


def test_user_strings_cannot_break_out_of_sql(con: duckdb.DuckDBPyConnection) -> None:
    assert std.quote_ident('a"b') == '"a""b"'
    assert one(con, std.text, std.clean_name, value="x'); DROP TABLE t; --") == "x drop table t"


# --- nicknames, through a real ingest (the lookup is a join over the whole table) ------------

NICKNAME_PEOPLE = """\
id,first,last,sex
1,Bob,Smith,M
2,Kate,Jones,F
3,Sam,Lee,F
4,Sam,Lee,M
5,Sam,Lee,
6,Robert,Smith,M
7,Bob James,Smith,M
8,Bobby,O'Neil,U
"""


def test_nicknames_resolve_to_canonical_first_names(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(NICKNAME_PEOPLE)
    (tmp_path / "job.toml").write_text(
        textwrap.dedent("""\
        [job]
        reference_date = "2026-09-30"
        [[sources]]
        name = "gp"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "id"
            first_name = "first"
            surname = "last"
            sex = "sex"
            [sources.people.codes.sex]
            M = "male"
            F = "female"
            U = "unknown"
        """)
    )
    con = duckdb.connect()
    ingest(con, load_job(tmp_path / "job.toml"))
    rows = dict(
        con.execute("SELECT record_id, first_name_canonical FROM source_records").fetchall()
    )
    assert rows == {
        "1": "robert",
        "2": "katherine",
        "3": "samantha",  # sam: the record's sex decides
        "4": "samuel",
        "5": "sam",  # sex not known: left alone rather than guessed
        "6": "robert",
        "7": "robert",  # the first token, resolved; "james" is another forename
        "8": "robert",
    }
    others = dict(con.execute("SELECT record_id, other_forenames FROM source_records").fetchall())
    assert others["7"] == ["james"] and others["1"] is None
    first_clean = dict(
        con.execute("SELECT record_id, first_name_clean FROM source_records").fetchall()
    )
    assert first_clean["1"] == "bob"  # the clean name keeps what was recorded


def test_nickname_file_is_well_formed() -> None:
    con = duckdb.connect()
    std.load_nicknames(con)
    count, duplicates = con.execute(
        "SELECT count(*), count(*) - count(DISTINCT (nickname, sex_key)) FROM _fl_nicknames"
    ).fetchone() or (0, 0)
    assert count > 300 and duplicates == 0
    assert con.execute(
        "SELECT count(*) FROM _fl_nicknames WHERE nickname = canonical "
        "OR NOT regexp_full_match(nickname || canonical, '[a-z]+')"
    ).fetchone() == (0,)
