"""Ingest: extracts in, standardised tables out, and nothing lost on the way.

``tests/fixtures/basic`` is one small agency (people, relationships, events) with one row for
every reason a row can be quarantined or a value nulled; other cases write their own files.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from famlink.linkage.errors import InputDataError, ReconciliationError
from famlink.linkage.ingest import IngestReport, ingest
from famlink.linkage.jobfile import load_job
from famlink.linkage.reconcile import reconcile

BASIC = Path(__file__).parent / "fixtures" / "basic"
TABLES = (
    "source_records",
    "quarantine",
    "nulled_values",
    "unmapped_codes",
    "reconciliation",
    "relationships",
    "events",
)


@pytest.fixture(scope="module")
def basic() -> tuple[duckdb.DuckDBPyConnection, IngestReport]:
    con = duckdb.connect()
    report = ingest(con, load_job(BASIC / "job.toml"))
    return con, report


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def people_job(
    tmp_path: Path, people: str | bytes, *, columns: str, extra: str = "", name: str = "people.csv"
) -> Path:
    path = tmp_path / name
    if isinstance(people, bytes):
        path.write_bytes(people)
    else:
        path.write_text(people, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(
        textwrap.dedent(f"""\
        [job]
        reference_date = "2026-09-30"
        [[sources]]
        name = "src"
          [sources.people]
          path = "{name}"
        """)
        + textwrap.indent(textwrap.dedent(extra), "  ")
        + "    [sources.people.columns]\n"
        + textwrap.indent(textwrap.dedent(columns), "    ")
    )
    return job


# --- nothing lost -----------------------------------------------------------------------------


def test_reconciliation_every_row_used_or_quarantined(basic) -> None:
    con, report = basic
    recon = rows(
        con,
        "SELECT file_kind, file, rows_read, rows_used, rows_quarantined, "
        "values_nulled FROM reconciliation",
    )
    assert recon == [
        ("people", "people.csv", 8, 5, 3, 8),
        ("relationships", "rels.csv", 8, 2, 6, 1),
        ("events", "events.csv", 7, 3, 4, 0),
    ]
    for kind, file, read, used, quarantined, _ in recon:
        lines = (BASIC / file).read_text().splitlines()
        assert read == len(lines) - 1  # every data line of the extract was read
        assert read == used + quarantined
        assert report.file("csc", kind).rows_read == read
    assert report.totals() == {
        "rows_read": 23,
        "rows_used": 10,
        "rows_quarantined": 13,
        "values_nulled": 9,
    }


def test_each_quarantine_reason_with_line_detail_and_raw_row(basic) -> None:
    con, _ = basic
    got = rows(con, "SELECT file_kind, line_number, reason, detail FROM quarantine")
    assert got == [
        ("people", 5, "duplicate_record_id", "record id P1 already used on line 2"),
        ("people", 6, "missing_record_id", "the record id is empty"),
        (
            "people",
            7,
            "no_identifying_fields",
            "no name, no valid NHS number and no valid date of birth",
        ),
        (
            "relationships",
            4,
            "unknown_related_record_id",
            "no used csc people row has record id P9 (related_record_id)",
        ),
        ("relationships", 5, "missing_record_id", "the record id is empty"),
        ("relationships", 6, "missing_related_record_id", "the related record id is empty"),
        ("relationships", 7, "missing_relationship", "the relationship is empty"),
        ("relationships", 8, "self_relationship", "record P1 is related to itself"),
        ("relationships", 9, "unknown_record_id", "no used csc people row has record id P9"),
        ("events", 4, "missing_event_date", "the event date is empty"),
        (
            "events",
            5,
            "unparseable_event_date",
            "the event date 45/13/2024 is not a date in the job file's date_format",
        ),
        ("events", 6, "unknown_record_id", "no used csc people row has record id P9"),
        ("events", 7, "missing_record_id", "the record id is empty"),
    ]
    (raw,) = rows(con, "SELECT raw_row FROM quarantine WHERE reason = 'duplicate_record_id'")[0]
    assert json.loads(raw) == {
        "PersonID": "P1",
        "Title": None,
        "Forename": "Katie",
        "Surname": "O'Brien",
        "DateOfBirth": "12/03/1990",
        "Gender": "F",
        "NHSNumber": None,
        "AddressLine1": None,
        "AddressLine2": None,
        "Town": None,
        "Postcode": None,
        "UPRN": None,
        "RelTo": None,
        "RelCode": None,
    }


def test_bad_values_are_nulled_and_counted_not_quarantined(basic) -> None:
    con, _ = basic
    assert rows(
        con,
        "SELECT line_number, record_id, field, reason, raw_value "
        "FROM nulled_values WHERE file_kind = 'people'",
    ) == [
        (3, "P2", "nhs_number", "invalid_nhs_number", "9434765918"),
        (4, "P3", "dob", "unparseable_date", "31/02/2019"),  # impossible date
        (4, "P3", "sex", "unmapped_code", "X"),
        (8, "P6", "dob", "dob_in_future", "2099-01-01"),
        (8, "P6", "postcode", "invalid_postcode", "XX1"),
        (8, "P6", "relationship_to", "unknown_record_id", "P9"),
        (8, "P6", "uprn", "invalid_uprn", "abc"),
        (9, "P7", "dob", "dob_before_1900", "01/01/1850"),
    ]
    # the rows themselves were used, with the bad values NULL and the originals kept
    assert rows(
        con,
        "SELECT record_id, dob, dob_raw, sex, sex_raw FROM source_records "
        "WHERE record_id IN ('P3', 'P6') ORDER BY record_id",
    ) == [
        ("P3", None, "31/02/2019", None, "X"),
        ("P6", None, "2099-01-01", "male", "M"),
    ]


def test_standardised_people(basic) -> None:
    con, _ = basic
    p1, p2 = rows(
        con, "SELECT * FROM source_records WHERE record_id IN ('P1', 'P2') ORDER BY record_id"
    )
    cols = [d[0] for d in con.execute("SELECT * FROM source_records LIMIT 0").description]
    p1d, p2d = dict(zip(cols, p1, strict=True)), dict(zip(cols, p2, strict=True))
    assert p1d["source"] == "csc" and p1d["agency"] == "Children's social care"
    assert p1d["is_primary"] is True and p1d["file"] == "people.csv" and p1d["line_number"] == 2
    assert p1d["first_name"] == "Mrs Kate" and p1d["first_name_clean"] == "kate"
    assert p1d["first_name_canonical"] == "katherine"
    assert p1d["surname"] == "O'Brien" and p1d["surname_clean"] == "obrien"
    assert p1d["dob"] == date(1990, 3, 12) and p1d["sex"] == "female"
    assert p1d["nhs_number"] == "9434765919" and p1d["nhs_number_raw"] == "943 476 5919"
    assert p1d["postcode"] == "LS1 4AB" and p1d["uprn"] == "100023336956"
    # several columns joined, empty ones skipped
    assert p1d["address"] == "12, High St. Leeds"
    assert p1d["address_clean"] == "12 high street leeds"
    assert p2d["surname_clean"] == "smith jones" and p2d["surname_first_token"] == "smith"
    assert p2d["dob"] == date(2020, 2, 1)  # "01/02/2020 14:05": time ignored
    assert p2d["address"] == "Flat 3 1 Mill Rd Leeds"


def test_relationships_from_both_files(basic) -> None:
    con, _ = basic
    assert rows(
        con,
        "SELECT relationship_key, origin, line_number, record_id, "
        "related_record_id, relationship, relationship_code, start_date "
        "FROM relationships",
    ) == [
        # people.csv line 3: P2 is the SON of P1 -> "P2 is P1's child"
        ("csc:people:3", "people_file", 3, "P1", "P2", "child", "SON", None),
        (
            "csc:relationships:2",
            "relationships_file",
            2,
            "P1",
            "P2",
            "child",
            "SON",
            date(2020, 2, 1),
        ),
        ("csc:relationships:3", "relationships_file", 3, "P2", "P1", "mother", "MOT", None),
    ]


def test_events_and_unmapped_codes(basic) -> None:
    con, _ = basic
    assert rows(
        con,
        "SELECT event_key, event_id, record_id, event_date, event_type, "
        "event_code, role, role_code, summary FROM events",
    ) == [
        (
            "csc:2",
            "E1",
            "P1",
            date(2024, 3, 12),
            "cp_plan",
            "CPP",
            "subject",
            "SUBJ",
            "Plan started",
        ),
        ("csc:3", "E2", "P2", date(2024, 3, 12), "referral", "REF", "victim", "VICT", "Referral"),
        ("csc:8", "E7", "P2", date(2024, 1, 1), "other", "WEIRD", "other", "BYSTANDER", None),
    ]
    assert rows(con, "SELECT * FROM unmapped_codes") == [
        ("csc", "people", "sex", "X", 1),
        ("csc", "events", "event_type", "WEIRD", 1),
        ("csc", "events", "role", "BYSTANDER", 1),
    ]


def test_summary_lines(basic) -> None:
    _, report = basic
    lines = report.summary_lines()
    assert lines[0] == (
        "csc people         read 8  used 5  quarantined 3 (duplicate_record_id 1, "
        "missing_record_id 1, no_identifying_fields 1)  nulled: dob 3, nhs_number 1, "
        "postcode 1, relationship_to 1, sex 1, uprn 1  unmapped codes: sex 1"
    )
    assert lines[2].startswith("csc events         read 7  used 3  quarantined 4 (")


def test_inputs_carry_checksums(basic) -> None:
    import hashlib

    _, report = basic
    inputs = report.inputs()
    assert [(i["source"], i["kind"], i["path"], i["rows"]) for i in inputs] == [
        ("csc", "people", "people.csv", 8),
        ("csc", "relationships", "rels.csv", 8),
        ("csc", "events", "events.csv", 7),
    ]
    assert inputs[0]["sha256"] == hashlib.sha256((BASIC / "people.csv").read_bytes()).hexdigest()


def test_mismatch_raises_reconciliation_error() -> None:
    con = duckdb.connect()
    report = ingest(con, load_job(BASIC / "job.toml"))
    con.execute("DELETE FROM events WHERE event_id = 'E7'")  # a row silently lost
    con.execute(
        "CREATE TEMP TABLE files AS SELECT source, file_kind, file, rows_read FROM reconciliation"
    )
    with pytest.raises(ReconciliationError, match="read 7 rows but used 2 and quarantined 4"):
        reconcile(con, ingest_report_like(report), "files")


def ingest_report_like(report: IngestReport) -> IngestReport:
    from famlink.linkage.reconcile import FileReport

    return IngestReport(
        files=[
            FileReport(f.source, f.kind, f.file, f.path, f.format, f.sha256) for f in report.files
        ]
    )


# --- determinism ------------------------------------------------------------------------------


def test_same_input_same_tables(tmp_path: Path) -> None:
    def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
        return {t: rows(con, f"SELECT * FROM {t}") for t in TABLES}  # noqa: S608

    first = duckdb.connect()
    ingest(first, load_job(BASIC / "job.toml"))
    second = duckdb.connect(str(tmp_path / "out.duckdb"))
    job = load_job(BASIC / "job.toml")
    ingest(second, job)
    ingest(second, job)  # running again replaces, never appends
    assert snapshot(first) == snapshot(second)
    # only the documented tables are left behind; temporary work is dropped
    assert sorted(r[0] for r in rows(second, "SELECT table_name FROM duckdb_tables()")) == sorted(
        TABLES
    )


# --- reading extracts -------------------------------------------------------------------------


def test_bom_semicolon_crlf_and_quoted_newline(tmp_path: Path) -> None:
    text = (
        '\ufeffid;name;dob\r\n1;"Ann\r\nMarie";01/02/2003\r\n2;Bo;02/03/2004\r\n\r\n'
        "3;Cy;03/04/2005\r\n"
    )
    job = people_job(
        tmp_path,
        text.encode("utf-8"),
        extra='delimiter = ";"\ndate_format = "%d/%m/%Y"\n',
        columns='record_id = "id"\nfirst_name = "name"\ndob = "dob"\n',
    )
    con = duckdb.connect()
    ingest(con, load_job(job))
    assert rows(con, "SELECT record_id, line_number, first_name, dob FROM source_records") == [
        ("1", 2, "Ann\r\nMarie", date(2003, 2, 1)),
        ("2", 4, "Bo", date(2004, 3, 2)),
        ("3", 6, "Cy", date(2005, 4, 3)),  # a blank line above is counted
    ]


def test_tab_delimited_latin1(tmp_path: Path) -> None:
    text = "id\tname\n1\tZo\xeb\n"
    job = people_job(
        tmp_path,
        text.encode("latin-1"),
        name="people.tsv",
        extra='encoding = "latin-1"\n',
        columns='record_id = "id"\nfirst_name = "name"\n',
    )
    con = duckdb.connect()
    ingest(con, load_job(job))
    assert rows(con, "SELECT first_name, first_name_clean FROM source_records") == [("Zoë", "zoe")]


def test_odd_column_names_and_paths_are_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "Tom's data"
    folder.mkdir()
    # "RowID" must not be confused with DuckDB's rowid; quotes and SQL in names are just names
    text = 'RowID,ID "ref",Name); DROP TABLE x; --\n7,1,Ann\n8,,Bo\n'
    job = people_job(folder, text, columns=(
        'record_id = \'ID "ref"\'\nfirst_name = "Name); DROP TABLE x; --"\n'))
    con = duckdb.connect()
    ingest(con, load_job(job))
    assert rows(con, "SELECT record_id, first_name FROM source_records") == [("1", "Ann")]
    (raw,) = rows(con, "SELECT raw_row FROM quarantine")[0]
    assert json.loads(raw) == {"RowID": "8", 'ID "ref"': None, "Name); DROP TABLE x; --": "Bo"}


def test_record_id_column_called_rowid(tmp_path: Path) -> None:
    job = people_job(tmp_path, "RowID,name\nA,Ann\nB,Bo\n",
                     columns='record_id = "RowID"\nfirst_name = "name"\n')
    con = duckdb.connect()
    ingest(con, load_job(job))
    assert rows(con, "SELECT record_id, line_number FROM source_records") == [("A", 2), ("B", 3)]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("id,name\n1,Ann\n2,Bo,extra\n3,Cy\n", 3, "Expected Number of Columns: 2 Found: 3"),
        ("id,name\n1,Ann\n2\n", 3, "Found: 1"),
        ('id,name\n1,Ann\n2,"Bo\n3,Cy\n', 3, "unterminated quote"),
    ],
)
def test_malformed_csv_is_an_input_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    job = people_job(tmp_path, text, columns='record_id = "id"\nfirst_name = "name"\n')
    with pytest.raises(InputDataError) as info:
        ingest(duckdb.connect(), load_job(job))
    err = info.value
    assert err.file == "people.csv" and err.row == line
    assert words in str(err) and "never skips bad rows" in str(err)


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    job = people_job(tmp_path, b"id,name\n1,Zo\xeb\n", columns='record_id = "id"\n')
    with pytest.raises(InputDataError, match="not utf-8"):
        ingest(duckdb.connect(), load_job(job))


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    job = people_job(tmp_path, "", columns='record_id = "id"\n')
    with pytest.raises(InputDataError, match="empty"):
        ingest(duckdb.connect(), load_job(job))


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    job = people_job(tmp_path, "id,name\n", columns='record_id = "id"\nfirst_name = "name"\n')
    con = duckdb.connect()
    report = ingest(con, load_job(job))
    assert report.totals()["rows_read"] == 0
    assert rows(con, "SELECT rows_read, rows_used FROM reconciliation") == [(0, 0)]


def test_parquet_input_uses_typed_dates(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES ('A1', 'Ann', DATE '2003-02-01', 9434765919, "
        "TIMESTAMP '2020-01-01 10:00:00', 100023336956), "
        "('A2', 'Bo', NULL, NULL, NULL, NULL)) t(id, name, born, nhs, moved_in, uprn)) "
        "TO $path (FORMAT parquet)",
        {"path": str(tmp_path / "people.parquet")},
    )
    job = tmp_path / "job.toml"
    job.write_text(
        textwrap.dedent("""\
        [job]
        reference_date = "2026-09-30"
        [[sources]]
        name = "health"
          [sources.people]
          path = "people.parquet"
          date_format = "%d/%m/%Y"
            [sources.people.columns]
            record_id = "id"
            first_name = "name"
            dob = "born"
            nhs_number = "nhs"
            address_from = "moved_in"
            uprn = "uprn"
        """)
    )
    out = duckdb.connect()
    ingest(out, load_job(job))
    assert rows(
        out,
        "SELECT record_id, line_number, dob, dob_raw, nhs_number, address_from, "
        "uprn FROM source_records",
    ) == [
        ("A1", 1, date(2003, 2, 1), "2003-02-01", "9434765919", date(2020, 1, 1), "100023336956"),
        ("A2", 2, None, None, None, None, None),
    ]


def test_two_kinds_of_row_in_one_people_file(tmp_path: Path) -> None:
    """An education extract: pupils, and contact rows pointing at their pupil."""
    text = (
        "id,first,last,pupil,rel\n"
        "U1,Amy,Hill,,\n"
        "C1,Jo,Hill,U1,Mother\n"
        "C2,Dan,Park,U1,Step-father\n"
        "C3,Al,Hill,U9,Father\n"
    )
    job = people_job(
        tmp_path,
        text,
        columns=(
            'record_id = "id"\nfirst_name = "first"\nsurname = "last"\n'
            'relationship_to = "pupil"\nrelationship = "rel"\n'
            '[sources.people.codes.relationship]\nMother = "mother"\n'
        ),
    )
    con = duckdb.connect()
    ingest(con, load_job(job))
    assert rows(
        con,
        "SELECT record_id, related_record_id, relationship, relationship_code FROM relationships",
    ) == [
        ("U1", "C1", "mother", "Mother"),  # "C1 is U1's mother"
        ("U1", "C2", "other", "Step-father"),  # unmapped: kept as other with its code
    ]
    assert rows(con, "SELECT record_id, field, reason FROM nulled_values") == [
        ("C3", "relationship_to", "unknown_record_id")
    ]
    assert rows(con, "SELECT count(*) FROM source_records") == [(4,)]


def test_cli_reports_a_malformed_extract_without_a_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from famlink.cli import main

    job = people_job(tmp_path, "id,name\n1,Ann\n2,Bo,extra\n",
                     columns='record_id = "id"\nfirst_name = "name"\n')
    result = CliRunner().invoke(main, ["link", str(job), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "people.csv, row 3: not a well-formed CSV" in result.output
