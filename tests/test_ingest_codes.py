"""The job file's vocabulary for what real extracts say: relationship codes read either way
and the newer relationship values, "did you mean" hints that keep a code's meaning, episode
ends, ``--data DIR`` and date formats that do not fit their column.

``tests/fixtures/codes`` is one small hand-made agency; each expected row below is read off
its files by hand.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from famlink.cli import main
from famlink.linkage.errors import InputDataError, JobFileError
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import RELATIONSHIPS, load_job
from famlink.models.edges import INVERSE

ROOT = Path(__file__).resolve().parents[1]
CODES = ROOT / "tests" / "fixtures" / "codes"
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def codes() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ingest(con, load_job(CODES / "job.toml"))
    return con


# --- relationships ----------------------------------------------------------------------------


def test_reversed_codes_swap_the_ids_and_keep_the_code(codes) -> None:
    """Every row reads "related_record_id is record_id's relationship", whichever way the
    extract wrote it; a ``<relationship>_of`` code is swapped and marked ``reversed``."""
    got = codes.execute(
        "SELECT origin, line_number, record_id, related_record_id, relationship, "
        "relationship_code, reversed FROM relationships").fetchall()
    assert got == [
        # people file: "this row's person is the <rel> of rel_to"
        ("people_file", 3, "1", "2", "father", "FATHER", False),  # Bob is Ann's father
        ("people_file", 4, "1", "3", "grandparent", "Nan", False),  # Cat is Ann's grandparent
        ("people_file", 5, "4", "2", "father", "LEAD IS FATHER", True),  # Bob is Dan's father
        # relationships file: "b is a's <rel>"
        ("relationships_file", 2, "2", "1", "child", "CHILD OF", True),  # Ann is Bob's child
        ("relationships_file", 3, "2", "5", "step_child", "STEPCHILD", False),
        ("relationships_file", 4, "2", "6", "co_parent", "CO-PARENT", False),
        ("relationships_file", 5, "1", "7", "partner_of_parent", "MUMS PARTNER", False),
        ("relationships_file", 6, "3", "1", "grandchild", "GRANDCHILD OF", True),
        ("relationships_file", 7, "1", "6", "mother", "MOTHER", False),
    ]


def test_every_canonical_relationship_has_an_inverse_for_the_models_stage() -> None:
    for relationship in RELATIONSHIPS:
        assert relationship in INVERSE, relationship
    assert INVERSE["grandparent"] == "grandchild" and INVERSE["grandchild"] == "grandparent"
    assert INVERSE["co_parent"] == "co_parent"
    assert INVERSE["step_child"] == "step_parent"


def _codes_job(tmp_path: Path, table: str, value: str) -> Path:
    (tmp_path / "people.csv").write_text("id,sn\n1,Smith\n", encoding="utf-8")
    (tmp_path / "other.csv").write_text("id,b,c,d\n", encoding="utf-8")
    kind, columns = {
        "relationship": ("relationships",
                         'record_id = "id"\nrelated_record_id = "b"\nrelationship = "c"'),
        "event_type": ("events", 'record_id = "id"\nevent_date = "b"\nevent_type = "c"'),
    }[table]
    job = tmp_path / "job.toml"
    job.write_text(textwrap.dedent(f"""\
        [job]
        reference_date = "2026-09-30"
        [[sources]]
        name = "src"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "id"
            surname = "sn"
          [sources.{kind}]
          path = "other.csv"
            [sources.{kind}.columns]
        """) + textwrap.indent(columns, "    ") + textwrap.dedent(f"""
            [sources.{kind}.codes.{table}]
            CODE = "{value}"
        """), encoding="utf-8")
    return job


@pytest.mark.parametrize(("value", "meant"), [
    ("stepchild", "step_child"),      # not step_parent, which spelling alone finds as close
    ("STEP-CHILD", "step_child"),
    ("son", "child"),
    ("daughter", "child"),
    ("dad", "father"),
    ("nan", "grandparent"),
    ("grandmother", "grandparent"),   # not mother
    ("grandson", "grandchild"),
    ("child of", "child_of"),         # reversed, not child
    ("son of", "child_of"),
    ("mothr", "mother"),              # a typo
    ("other parent", "co_parent"),
    ("mums boyfriend", "partner_of_parent"),
])
def test_a_bad_relationship_value_gets_a_hint_of_the_same_meaning(tmp_path, value, meant) -> None:
    with pytest.raises(JobFileError) as err:
        load_job(_codes_job(tmp_path, "relationship", value))
    assert f"{value!r} is not a canonical relationship value" in str(err.value)
    assert err.value.hint is not None and err.value.hint.startswith(f"did you mean {meant!r}?")


@pytest.mark.parametrize("value", ["mother in law", "cousin", "stpchild", "granchild"])
def test_no_hint_when_the_meaning_cannot_be_told(tmp_path, value) -> None:
    """Close spellings of another meaning (``mother`` for "mother in law", ``child`` for
    "granchild") are not offered: the hint lists the vocabulary instead."""
    with pytest.raises(JobFileError) as err:
        load_job(_codes_job(tmp_path, "relationship", value))
    assert err.value.hint is not None and err.value.hint.startswith("use one of: mother, ")


@pytest.mark.parametrize(("value", "meant"), [
    ("child protection plan", "cp_plan"), ("CIN", "cin_plan"), ("LAC", "looked_after"),
    ("DNA", "missed_appointment"), ("refferal", "referral"),
])
def test_a_bad_event_type_gets_a_hint(tmp_path, value, meant) -> None:
    with pytest.raises(JobFileError) as err:
        load_job(_codes_job(tmp_path, "event_type", value))
    assert err.value.hint is not None and err.value.hint.startswith(f"did you mean {meant!r}?")


# --- episodes ---------------------------------------------------------------------------------


def test_an_episode_end_closes_the_latest_open_start_of_its_type(codes) -> None:
    got = codes.execute(
        "SELECT event_id, event_type, event_code, event_date, end_date, end_event_id, "
        "end_line_number, end_code, episode FROM events").fetchall()
    d = date
    assert got == [
        ("E1", "cp_plan", "CPP_START", d(2020, 1, 1), d(2020, 6, 1), "E2", 3, "CPP_END", "closed"),
        # nested: E5 closes the later start E4, E6 the earlier E3
        ("E3", "cp_plan", "CPP_START", d(2021, 1, 1), d(2021, 4, 1), "E6", 7, "CPP_END", "closed"),
        ("E4", "cp_plan", "CPP_START", d(2021, 2, 1), d(2021, 3, 1), "E5", 6, "CPP_END", "closed"),
        # an end with no start before it is kept: an episode of which only the end is known
        ("E7", "cp_plan", "CPP_END", d(2020, 5, 5), d(2020, 5, 5), None, None, None, "end_only"),
        # an end on the start's own day closes it
        ("E8", "cp_plan", "CPP_START", d(2020, 7, 1), d(2020, 7, 1), "E9", 10, "CPP_END", "closed"),
        ("E10", "cp_plan", "CPP_START", d(2022, 1, 1), d(2022, 2, 1), "E11", 12, "CPP_END",
         "closed"),
        # a second end after the only start was closed: no start left
        ("E12", "cp_plan", "CPP_END", d(2022, 3, 1), d(2022, 3, 1), None, None, None, "end_only"),
        # the events file's own end_date column
        ("E13", "referral", "REF", d(2022, 4, 1), d(2022, 5, 1), None, None, None, "closed"),
        ("E14", "cp_plan", "CPP_START", d(2022, 6, 1), None, None, None, None, "open"),
        ("E15", "referral", "REF", d(2022, 7, 1), None, None, None, None, None),
        # pairs by date, not by line: the end is listed first
        ("E17", "cin_plan", "CIN_START", d(2022, 1, 15), d(2022, 2, 15), "E16", 17, "CIN_END",
         "closed"),
    ]


def test_episodes_reconcile_every_row_read(codes) -> None:
    """Two rows (start and end) become one episode row: reconciliation counts both."""
    assert codes.execute(
        "SELECT file_kind, rows_read, rows_used, rows_quarantined FROM reconciliation"
    ).fetchall() == [("people", 7, 7, 0), ("relationships", 6, 6, 0), ("events", 17, 17, 0)]
    # end codes are known codes, not unmapped; the bad own end date is nulled and counted
    assert codes.execute("SELECT * FROM unmapped_codes").fetchall() == []
    assert codes.execute("SELECT line_number, field, raw_value FROM nulled_values").fetchall() \
        == [(16, "end_date", "not a date")]


@pytest.mark.parametrize(("ends", "message"), [
    ('CPP_START = "cp_plan"', "code 'CPP_START' is mapped to 'cp_plan' in codes.event_type"),
    ('CPP_END = "cp_plna"', "'cp_plna' is not a canonical event type"),
    ('cp_plan = "cp_plan"', "is a canonical event type, which marks a start"),
])
def test_episode_end_mistakes_are_job_file_errors(tmp_path, ends, message) -> None:
    for name in ("people.csv", "rels.csv", "events.csv"):
        shutil.copy(CODES / name, tmp_path / name)
    text = (CODES / "job.toml").read_text(encoding="utf-8")
    text = text.replace('CPP_END = "cp_plan"\n', ends + "\n")
    (tmp_path / "job.toml").write_text(text, encoding="utf-8")
    with pytest.raises(JobFileError, match="events.episode_ends") as err:
        load_job(tmp_path / "job.toml")
    assert message in str(err.value)


# --- --data DIR -------------------------------------------------------------------------------


def test_data_dir_resolves_extract_paths_and_names_a_missing_one(tmp_path) -> None:
    job = tmp_path / "jobs" / "job.toml"
    job.parent.mkdir()
    shutil.copy(CODES / "job.toml", job)
    delivery = tmp_path / "2026-10"
    shutil.copytree(CODES, delivery)
    loaded = load_job(job, data_dir=delivery)
    assert loaded.data_dir == delivery.resolve()
    assert [f.path for f in loaded.sources[0].files()] == [
        (delivery / n).resolve() for n in ("people.csv", "rels.csv", "events.csv")]
    (delivery / "rels.csv").unlink()
    with pytest.raises(JobFileError) as err:
        load_job(job, data_dir=delivery)
    assert f"file not found: {(delivery / 'rels.csv').resolve()}" in str(err.value)
    assert "--data folder" in str(err.value.hint)
    with pytest.raises(JobFileError, match="--data folder not found"):
        load_job(job, data_dir=tmp_path / "no-such-month")


# --- date formats that do not fit -------------------------------------------------------------


def _dates_job(tmp_path: Path, values: list[str], date_format: str, extra: str = "") -> Path:
    """A one-source job whose people file has ``values`` in its ``dob`` column; ``extra``:
    more lines of ``[sources.people]``."""
    rows = "".join(f"{i},Name{i},{v}\n" for i, v in enumerate(values, start=1))
    (tmp_path / "people.csv").write_text("id,sn,dob\n" + rows, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(textwrap.dedent(f"""\
        [job]
        reference_date = "2026-09-30"
        [[sources]]
        name = "src"
          [sources.people]
          path = "people.csv"
          date_format = "{date_format}"
          {extra}
            [sources.people.columns]
            record_id = "id"
            surname = "sn"
            dob = "dob"
        """), encoding="utf-8")
    return job


def test_a_day_month_swap_is_reported_with_the_format_that_fits(tmp_path) -> None:
    # month-first dates read as day-first: 01/02 and 07/04 parse (wrongly), 03/25 and
    # 12/31 do not; no value has a first field above 12; an empty value is not counted
    job = _dates_job(tmp_path, ["03/25/2010", "01/02/2011", "12/31/2009", "07/04/2012", ""],
                     "%d/%m/%Y")
    report = ingest(duckdb.connect(), load_job(job))
    (warning,) = report.warnings
    assert (warning.field, warning.column) == ("dob", "dob")
    assert (warning.non_empty, warning.parsed) == (4, 2)
    assert warning.day_month_swap and warning.swapped_only == 2 and warning.low_parse_rate
    assert (warning.suggested_format, warning.suggested_parses) == ("%m/%d/%Y", 4)
    assert str(warning) == (
        "source 'src' people.dob (column 'dob' of people.csv): date_format '%d/%m/%Y' reads "
        "2 of 4 non-empty values (50.0%); no value has a day above 12 while 2 read only with "
        "day and month swapped: a likely day/month swap; date_format = '%m/%d/%Y' reads 4 of "
        "the 4")


def test_a_low_parse_rate_alone_is_reported(tmp_path) -> None:
    # 1 of 10 ISO dates, 9 written "25-Mar-2010": 10 % parse; %d-%b-%Y reads the 9
    values = ["2010-03-25"] + [f"{d:02d}-Mar-2010" for d in range(11, 20)]
    report = ingest(duckdb.connect(), load_job(_dates_job(tmp_path, values, "%Y-%m-%d")))
    (warning,) = report.warnings
    assert (warning.non_empty, warning.parsed, warning.day_month_swap) == (10, 1, False)
    assert (warning.suggested_format, warning.suggested_parses) == ("%d-%b-%Y", 9)


def test_a_format_that_fits_gives_no_warning(tmp_path) -> None:
    # day-first data that happens to have one day above 12, and 9 of 10 parsed: no warning
    values = ["01/02/2010", "03/04/2011", "13/01/2012", "05/06/2013", "07/08/2014",
              "09/10/2015", "11/12/2016", "02/01/2017", "04/03/2018", "31/02/2019"]
    report = ingest(duckdb.connect(), load_job(_dates_job(tmp_path, values, "%d/%m/%Y")))
    assert report.warnings == []


#: ISO dates, 8 of 10 readable: two written "25-Mar-2010" (80 % parsed; no swap possible
#: with a day of 25 in both)
EIGHT_OF_TEN = [f"2010-03-{d:02d}" for d in range(20, 28)] + ["25-Mar-2010", "26-Mar-2010"]


@pytest.mark.parametrize(("setting", "warns"), [
    ("", True),  # the default, 0.9: 80 % is too few
    ("date_min_parsed = 0.75", False),  # a data officer who expects some free text
    ("date_min_parsed = 0.8", False),  # exactly the share read: enough
    ("date_min_parsed = 0.85", True),
])
def test_date_min_parsed_decides_whether_a_column_warns(tmp_path, setting: str,
                                                          warns: bool) -> None:
    job = load_job(_dates_job(tmp_path, EIGHT_OF_TEN, "%Y-%m-%d", setting))
    report = ingest(duckdb.connect(), job)
    assert [(w.parsed, w.non_empty, w.kinds()) for w in report.warnings] == (
        [(8, 10, ("date_format_unparsed",))] if warns else [])
    if warns:
        assert report.warnings[0].min_parsed == job.sources[0].people.date_min_parsed
    # --strict follows the same setting
    strict = replace(job, strict=True)
    if warns:
        with pytest.raises(InputDataError, match="reads 8 of 10"):
            ingest(duckdb.connect(), strict)
    else:
        ingest(duckdb.connect(), strict)


def test_date_min_parsed_1_reports_a_single_unreadable_date(tmp_path) -> None:
    values = [f"2010-03-{d:02d}" for d in range(1, 29)] + ["31/02/2010"]
    assert ingest(duckdb.connect(), load_job(_dates_job(tmp_path, values, "%Y-%m-%d"))).warnings == []
    job = load_job(_dates_job(tmp_path, values, "%Y-%m-%d", "date_min_parsed = 1"))
    (warning,) = ingest(duckdb.connect(), job).warnings
    assert (warning.parsed, warning.non_empty) == (28, 29)


def test_the_warnings_table_has_one_row_per_problem_sorted(tmp_path) -> None:
    """A column both under-read and day/month swapped is found under either kind; the rows
    do not depend on the order the warnings were found in."""
    from famlink.linkage.warning_table import write_warnings

    (tmp_path / "events.csv").write_text(
        "id,when,type\n1,2020-01-02,referral\n2,2020-12-25,referral\n", encoding="utf-8")
    job = _dates_job(tmp_path, ["03/25/2010", "01/02/2011", "12/31/2009", "07/04/2012"],
                     "%d/%m/%Y")
    job.write_text(job.read_text(encoding="utf-8") + textwrap.dedent("""          [sources.events]
          path = "events.csv"
          date_format = "%Y-%d-%m"
            [sources.events.columns]
            record_id = "id"
            event_date = "when"
            event_type = "type"
        """), encoding="utf-8")
    report = ingest(duckdb.connect(), load_job(job))
    assert [(w.file_kind, w.field) for w in report.warnings] == [
        ("people", "dob"), ("events", "event_date")]
    tables = []
    for found in (report.warnings, report.warnings[::-1]):
        con = duckdb.connect()
        write_warnings(con, "RUN1", found)
        tables.append(con.execute("SELECT * FROM warnings").fetchall())
    assert tables[0] == tables[1]
    con.execute("CREATE OR REPLACE TABLE w AS SELECT * FROM warnings")
    assert con.execute(
        "SELECT run_id, source, file_kind, file, field, column_name, kind, formats, non_empty,"
        " parsed, swapped_only, min_parsed, suggested_format, suggested_parses FROM w"
    ).fetchall() == [
        ("RUN1", "src", "people", "people.csv", "dob", "dob", "date_day_month_swap",
         ["%d/%m/%Y"], 4, 2, 2, 0.9, "%m/%d/%Y", 4),
        ("RUN1", "src", "people", "people.csv", "dob", "dob", "date_format_unparsed",
         ["%d/%m/%Y"], 4, 2, 2, 0.9, "%m/%d/%Y", 4),
        ("RUN1", "src", "events", "events.csv", "event_date", "when", "date_day_month_swap",
         ["%Y-%d-%m"], 2, 1, 1, 0.9, "%Y-%m-%d", 2),
        ("RUN1", "src", "events", "events.csv", "event_date", "when", "date_format_unparsed",
         ["%Y-%d-%m"], 2, 1, 1, 0.9, "%Y-%m-%d", 2),
    ]
    # the message is the line famlink link prints
    assert con.execute("SELECT DISTINCT message FROM w ORDER BY 1").fetchall() == sorted(
        [(str(w),) for w in report.warnings])
    # a run with none empties the table: no earlier run's warnings are left to mislead
    write_warnings(con, "RUN2", [])
    assert con.execute("SELECT count(*) FROM warnings").fetchone() == (0,)


def test_strict_stops_naming_file_column_counts_and_format(tmp_path) -> None:
    job = _dates_job(tmp_path, ["03/25/2010", "01/02/2011", "12/31/2009", "07/04/2012"],
                     "%d/%m/%Y")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["link", str(job), "--out", str(out), "--strict"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "people.csv, column 'dob': source 'src', people.dob: date_format '%d/%m/%Y' reads 2 " \
           "of 4 non-empty values (50.0%)" in result.output
    assert "a likely day/month swap" in result.output
    assert "hint: date_format = '%m/%d/%Y' reads 4 of the 4" in result.output
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    status, error, config = con.execute("SELECT status, error, config FROM runs").fetchone()
    assert status == "failed" and "day/month swap" in error and json.loads(config)["strict"]
    # what stopped the run can be queried
    assert con.execute("SELECT w.kind, w.column_name FROM warnings w JOIN runs USING (run_id) "
                       "ORDER BY ALL").fetchall() == [("date_day_month_swap", "dob"),
                                                      ("date_format_unparsed", "dob")]
    # the library's own ingest stops as well, before standardising
    with pytest.raises(InputDataError, match="day/month swap"):
        ingest(duckdb.connect(), replace(load_job(job), strict=True))


def test_link_with_data_dir_warns_and_records_a_swapped_format(sample_run, tmp_path) -> None:
    """The sample's job file, moved away from its extracts, run with ``--data`` against them
    and with csc's people dates declared month-first: the run goes on, prints the warning
    and records it (with the extracts' paths as read) in ``runs``."""
    text = (SAMPLE / "job.toml").read_text(encoding="utf-8")
    people = 'path = "csc/csc_people.csv"\n  date_format = "%d/%m/%Y"'
    assert people in text
    job = tmp_path / "job.toml"
    job.write_text(text.replace(people, people.replace("%d/%m/%Y", "%m/%d/%Y")),
                   encoding="utf-8")
    # the expected counts, read with Python's own parser
    column = "DateOfBirth"
    with open(SAMPLE / "csc" / "csc_people.csv", encoding="utf-8", newline="") as handle:
        values = [r[column].strip() for r in csv.DictReader(handle) if r[column].strip()]

    def parses(value: str, fmt: str) -> bool:
        try:
            datetime.strptime(value.split(" ")[0], fmt)
        except ValueError:
            return False
        return True

    parsed = sum(parses(v, "%m/%d/%Y") for v in values)
    day_first = sum(parses(v, "%d/%m/%Y") for v in values)
    assert parsed < 0.9 * len(values)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "link", str(job), "--data", str(SAMPLE), "--out", str(out), "--no-models",
        "--model", str(sample_run.model)])
    assert result.exit_code == 0, result.output
    expected = (f"source 'csc' people.dob (column '{column}' of csc/csc_people.csv): "
                f"date_format '%m/%d/%Y' reads {parsed:,} of {len(values):,} non-empty values")
    assert expected in result.output
    assert f"date_format = '%d/%m/%Y' reads {day_first:,} of the {len(values):,}" in result.output
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    inputs, counts, config = con.execute("SELECT inputs, counts, config FROM runs").fetchone()
    (warning,) = json.loads(counts)["warnings"]
    assert (warning["source"], warning["field"], warning["parsed"], warning["non_empty"]) == (
        "csc", "dob", parsed, len(values))
    assert warning["day_month_swap"] and warning["suggested_format"] == "%d/%m/%Y"
    # the same warning as rows of the warnings table, one per problem, the message as printed
    rows = con.execute(
        "SELECT w.kind, w.source, w.file, w.column_name, w.parsed, w.non_empty,"
        " w.suggested_format, w.message FROM warnings w JOIN runs r USING (run_id) ORDER BY ALL"
    ).fetchall()
    assert [r[:7] for r in rows] == [
        (kind, "csc", "csc/csc_people.csv", column, parsed, len(values), "%d/%m/%Y")
        for kind in ("date_day_month_swap", "date_format_unparsed")]
    assert all(f"warning: {r[7]}" in result.output for r in rows)
    assert json.loads(config)["data_dir"] == str(SAMPLE.resolve())
    csc_people = str((SAMPLE / "csc" / "csc_people.csv").resolve())
    assert csc_people in {i["path"] for i in json.loads(inputs)}


# --- the same tables on Spark -----------------------------------------------------------------


@pytest.mark.spark
def test_codes_and_episodes_on_spark_match_duckdb(tmp_path) -> None:
    from spark_fixtures import require_spark

    from famlink.linkage.spark.ingest import ingest_on_spark

    require_spark()
    job = load_job(CODES / "job.toml")
    tables = {}
    for engine in ("duckdb", "spark"):
        con = duckdb.connect(str(tmp_path / f"{engine}.duckdb"))
        if engine == "duckdb":
            ingest(con, job)
        else:
            ingest_on_spark(con, job, settings=job.spark, work_dir=tmp_path / "work")
        tables[engine] = {t: con.execute(f"SELECT * FROM {t}").fetchall()
                          for t in ("relationships", "events", "reconciliation", "nulled_values")}
        con.close()
    assert tables["spark"] == tables["duckdb"]
