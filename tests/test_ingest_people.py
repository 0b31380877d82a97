"""People-file vocabulary of ingest: declared identifiers, postcodes in any format and partial
UK postcodes, the name lists (other forenames, other surnames), sex from several columns and
from a title, and a source's own person id — each against values worked out by hand."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from famlink.linkage.errors import JobFileError
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import load_job

_BASE_COLUMNS = [
    "source", "agency", "is_primary", "record_id", "file", "line_number", "first_name",
    "middle_names", "surname", "dob_raw", "sex_raw", "nhs_number_raw", "postcode_raw",
    "uprn_raw", "address", "first_name_clean", "middle_names_clean", "surname_clean",
    "first_name_canonical", "surname_first_token", "dob", "sex", "nhs_number", "postcode",
    "address_clean", "uprn", "address_from", "address_to", "postcode_district",
    "other_forenames", "other_surnames", "source_person_id",
]


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _job(folder: Path, sources: str) -> Path:
    job = folder / "job.toml"
    job.write_text('[job]\nreference_date = "2026-09-30"\n' + textwrap.dedent(sources),
                   encoding="utf-8")
    return job


def _records(con: duckdb.DuckDBPyConnection, columns: str) -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): tuple(r[2:]) for r in con.execute(
        f"SELECT source, record_id, {columns} FROM source_records").fetchall()}  # noqa: S608


def _ingest(job: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ingest(con, load_job(job))
    return con


# --- identifiers ------------------------------------------------------------------------------

_TWO_SOURCES = """\
    [[sources]]
    name = "school"
      [sources.people]
      path = "school.csv"
        [sources.people.columns]
        record_id = "Id"
        surname = "Surname"
        [sources.people.identifiers]
        upn = "UPN"
        ni_number = "NI No"
    [[sources]]
    name = "dwp"
      [sources.people]
      path = "dwp.csv"
        [sources.people.columns]
        record_id = "Id"
        surname = "Surname"
        [sources.people.identifiers]
        ni_number = "NINO"
    """


def _two_source_files(folder: Path) -> None:
    _write(folder, "school.csv", """\
        Id,Surname,UPN,NI No
        S1,Khan,a123-456/789.0 ,ab 12 34 56 c
        S2,Lee,, - \n""")
    _write(folder, "dwp.csv", """\
        Id,Surname,NINO
        D1,Khan,AB123456C
        D2,Lee,\n""")


def test_identifiers_become_shared_id_columns_after_the_fixed_ones(tmp_path: Path) -> None:
    _two_source_files(tmp_path)
    con = _ingest(_job(tmp_path, _TWO_SOURCES))
    columns = [d[0] for d in con.execute("SELECT * FROM source_records LIMIT 0").description]
    # one column per identifier name, alphabetical, after every fixed column
    assert columns == [*_BASE_COLUMNS, "id_ni_number", "id_upn"]
    assert _records(con, "id_ni_number, id_upn") == {
        ("school", "S1"): ("AB123456C", "A1234567890"),  # upper case, separators removed
        ("school", "S2"): (None, None),  # empty, or separators only
        ("dwp", "D1"): ("AB123456C", None),  # dwp declares no upn
        ("dwp", "D2"): (None, None),
    }
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE source_records)")
                 .fetchall())
    assert types["id_ni_number"] == "VARCHAR" and types["other_forenames"] == "VARCHAR[]"


def test_without_identifiers_there_are_no_id_columns(tmp_path: Path) -> None:
    _two_source_files(tmp_path)
    con = _ingest(_job(tmp_path, _TWO_SOURCES.replace('upn = "UPN"', "")
                       .replace('ni_number = "NI No"', "").replace('ni_number = "NINO"', "")))
    columns = [d[0] for d in con.execute("SELECT * FROM source_records LIMIT 0").description]
    assert columns == _BASE_COLUMNS


@pytest.mark.parametrize(("replace", "by", "message"), [
    ('upn = "UPN"', 'UPN = "UPN"', "bad identifier name 'UPN'"),
    ('upn = "UPN"', '"ni-number" = "UPN"', "bad identifier name 'ni-number'"),
    ('upn = "UPN"', 'nhs_number = "UPN"', "nhs_number is a canonical field"),
    ('upn = "UPN"', 'uprn = "UPN"', "uprn is a canonical field"),
    ('upn = "UPN"', 'upn = ["UPN", "NI No"]', "must be one column name"),
    ('upn = "UPN"', 'upn = "Pupil No"', "people.identifiers.upn: column 'Pupil No' is not in "
                                        "school.csv"),
    ('surname = "Surname"\n    [sources.people.identifiers]\n    upn',
     'surname = "Surname"\n    [sources.people.identifier]\n    upn', "did you mean 'identifiers'"),
])
def test_identifier_mistakes_are_job_file_errors(
    tmp_path: Path, replace: str, by: str, message: str,
) -> None:
    _two_source_files(tmp_path)
    sources = textwrap.dedent(_TWO_SOURCES)
    assert replace in sources
    with pytest.raises(JobFileError) as err:
        _ingest(_job(tmp_path, sources.replace(replace, by, 1)))
    assert message in str(err.value)
    assert "school" in str(err.value)


def test_identifiers_belong_to_people_files_only(tmp_path: Path) -> None:
    _two_source_files(tmp_path)
    _write(tmp_path, "rel.csv", "a,b,r\n")
    sources = textwrap.dedent(_TWO_SOURCES) + textwrap.dedent("""\
          [sources.relationships]
          path = "rel.csv"
          postcode_format = "any"
            [sources.relationships.columns]
            record_id = "a"
            related_record_id = "b"
            relationship = "r"
        """)
    with pytest.raises(JobFileError, match="relationships.postcode_format: unknown key"):
        load_job(_job(tmp_path, sources))


# --- postcodes --------------------------------------------------------------------------------

def _postcode_job(folder: Path) -> Path:
    _write(folder, "uk.csv", """\
        Id,Surname,Postcode
        U1,Ames,ls6 1aa
        U2,Ames,LS6
        U3,Ames,sw1a
        U4,Ames,XX1
        U5,Ames,LS1 4
        U6,Ames,
        """)
    _write(folder, "au.csv", """\
        Id,Surname,Postcode
        A1,Ames, 2000 \n\
        A2,Ames,sw1a 1aa
        A3,Ames,
        """)
    return _job(folder, """\
        [[sources]]
        name = "uk"
          [sources.people]
          path = "uk.csv"
            [sources.people.columns]
            record_id = "Id"
            surname = "Surname"
            postcode = "Postcode"
        [[sources]]
        name = "au"
          [sources.people]
          path = "au.csv"
          postcode_format = "any"
            [sources.people.columns]
            record_id = "Id"
            surname = "Surname"
            postcode = "Postcode"
        """)


def test_postcode_district_and_any_format(tmp_path: Path) -> None:
    con = _ingest(_postcode_job(tmp_path))
    assert _records(con, "postcode, postcode_district, postcode_raw") == {
        ("uk", "U1"): ("LS6 1AA", "LS6", "ls6 1aa"),
        ("uk", "U2"): (None, "LS6", "LS6"),  # partial: the district kept
        ("uk", "U3"): (None, "SW1A", "sw1a"),
        ("uk", "U4"): (None, None, "XX1"),  # XX is no UK postcode area
        ("uk", "U5"): (None, None, "LS1 4"),  # a sector, not the district LS14
        ("uk", "U6"): (None, None, None),
        ("au", "A1"): ("2000", None, "2000"),  # any format: as written, upper case, no spaces
        ("au", "A2"): ("SW1A1AA", None, "sw1a 1aa"),
        ("au", "A3"): (None, None, None),
    }
    # partial postcodes are reported (the full postcode is lost; the district is not)
    assert con.execute(
        "SELECT source, record_id, reason, raw_value FROM nulled_values WHERE field = 'postcode' "
        "ORDER BY record_id").fetchall() == [
        ("uk", "U2", "partial_postcode", "LS6"),
        ("uk", "U3", "partial_postcode", "sw1a"),
        ("uk", "U4", "invalid_postcode", "XX1"),
        ("uk", "U5", "invalid_postcode", "LS1 4"),
    ]


def test_unknown_postcode_format_is_a_job_file_error(tmp_path: Path) -> None:
    job = _postcode_job(tmp_path)
    job.write_text(job.read_text().replace('"any"', '"AU"'))
    with pytest.raises(JobFileError) as err:
        load_job(job)
    assert "source 'au', people.postcode_format: unknown postcode format 'AU'" in str(err.value)


# --- names ------------------------------------------------------------------------------------

def test_first_token_other_forenames_and_other_surnames(tmp_path: Path) -> None:
    _write(tmp_path, "people.csv", """\
        Id,First,Middle,Known as,Surname,Maiden,Previous,Sex
        N1,Mary Jane,Ann Lou,Polly,Smith-Jones,O'Brien,,F
        N2,J,,,Brown,,,
        N3,Bob James,,,Lee,,Lee,M
        N4,Robert,,Bob,Lee,,,
        N5,Mrs Kate,Lou,Kate,Lee,Ward,Ward Hill,F
        N6,,,,Ng,,,
        N7,Sam,,Lou,Ng,,,M
        """)
    con = _ingest(_job(tmp_path, """\
        [[sources]]
        name = "src"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "Id"
            first_name = "First"
            middle_names = "Middle"
            preferred_name = "Known as"
            surname = "Surname"
            former_surname = ["Maiden", "Previous"]
            sex = "Sex"
            [sources.people.codes.sex]
            M = "male"
            F = "female"
        """))
    got = _records(con, "first_name_clean, first_name_canonical, other_forenames, "
                        "surname_clean, surname_first_token, other_surnames")
    assert got == {
        # polly → mary, lou → louise (female); smith jones split, o'brien cleaned
        ("src", "N1"): ("mary jane", "mary", ["ann", "jane", "louise", "mary"],
                        "smith jones", "smith", ["jones", "obrien", "smith"]),
        ("src", "N2"): ("j", "j", None, "brown", "brown", None),  # an initial is a token
        ("src", "N3"): ("bob james", "robert", ["james"], "lee", "lee", ["lee"]),
        ("src", "N4"): ("robert", "robert", ["robert"], "lee", "lee", None),
        # the title stays out of the names; both former surname columns are read
        ("src", "N5"): ("kate", "katherine", ["katherine", "louise"],
                        "lee", "lee", ["hill", "ward"]),
        ("src", "N6"): (None, None, None, "ng", "ng", None),
        ("src", "N7"): ("sam", "samuel", ["louis"], "ng", "ng", None),  # lou for a male
    }


# --- sex --------------------------------------------------------------------------------------

def test_sex_from_the_first_non_empty_column_then_from_the_title(tmp_path: Path) -> None:
    _write(tmp_path, "people.csv", """\
        Id,First,Gender,Sex,Title
        X1,Sam,F,M,Mr
        X2,Sam,,M,Mrs
        X3,Sam,,,Mrs.
        X4,Sam,,,Dr
        X5,Sam,U,,MR
        X6,Sam,M,,Miss
        X7,Sam,Q,,miss
        X8,Sam,,,
        """)
    con = _ingest(_job(tmp_path, """\
        [[sources]]
        name = "src"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "Id"
            first_name = "First"
            sex = ["Gender", "Sex"]
            title = "Title"
            [sources.people.codes.sex]
            M = "male"
            F = "female"
            U = "unknown"
        """))
    assert _records(con, "sex_raw, sex, first_name_canonical") == {
        ("src", "X1"): ("F", "female", "samantha"),  # the first non-empty column, not joined
        ("src", "X2"): ("M", "male", "samuel"),  # Gender empty: Sex is read
        ("src", "X3"): (None, "female", "samantha"),  # no sex recorded: from the title
        ("src", "X4"): (None, None, "sam"),  # Dr tells nothing
        ("src", "X5"): ("U", "male", "samuel"),  # unknown: the title tells more
        ("src", "X6"): ("M", "male", "samuel"),  # the sex columns win over the title
        ("src", "X7"): ("Q", "female", "samantha"),
        ("src", "X8"): (None, None, "sam"),
    }
    # the unmapped code is still reported, though the title gave the sex
    assert con.execute("SELECT record_id, reason, raw_value FROM nulled_values").fetchall() == [
        ("X7", "unmapped_code", "Q")]
    assert con.execute("SELECT field, code, rows FROM unmapped_codes").fetchall() == [
        ("sex", "Q", 1)]


def test_a_list_of_columns_is_refused_for_single_column_fields(tmp_path: Path) -> None:
    _write(tmp_path, "people.csv", "Id,Title,T2\n1,Mr,\n")
    job = _job(tmp_path, """\
        [[sources]]
        name = "src"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "Id"
            title = ["Title", "T2"]
        """)
    with pytest.raises(JobFileError, match="people.columns.title: only one column allowed"):
        load_job(job)


# --- the source's own person id ---------------------------------------------------------------

def test_person_id_becomes_source_person_id(tmp_path: Path) -> None:
    _write(tmp_path, "housing.csv", """\
        Tenancy,Occupant,Surname
        T1,  H17 ,Ames
        T2,H17,Ames
        T3,,Bell
        """)
    _write(tmp_path, "gp.csv", "Id,Surname\nG1,Ames\n")
    con = _ingest(_job(tmp_path, """\
        [[sources]]
        name = "housing"
          [sources.people]
          path = "housing.csv"
            [sources.people.columns]
            record_id = "Tenancy"
            person_id = "Occupant"
            surname = "Surname"
        [[sources]]
        name = "gp"
          [sources.people]
          path = "gp.csv"
            [sources.people.columns]
            record_id = "Id"
            surname = "Surname"
        """))
    assert _records(con, "source_person_id") == {
        ("housing", "T1"): ("H17",), ("housing", "T2"): ("H17",), ("housing", "T3"): (None,),
        ("gp", "G1"): (None,),
    }
