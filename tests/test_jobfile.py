"""The job file: a correct one loads with its defaults; every mistake names the job file,
the source and the key, and says how to fix it."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from famlink.linkage.errors import JobFileError
from famlink.linkage.ingest import ingest
from famlink.linkage.jobfile import load_job

PEOPLE = "PersonID,Forename,Surname,DOB\nP1,Ann,Lee,01/02/2003\n"

JOB_HEAD = """\
[job]
name = "Test partnership"
reference_date = "2026-09-30"
seed = 7
"""

SOURCE = """\
[[sources]]
name = "csc"
agency = "Children's social care"
primary = true
  [sources.people]
  path = "extracts/people.csv"
  date_format = "%d/%m/%Y"
    [sources.people.columns]
    record_id = "PersonID"
    first_name = "Forename"
    surname = "Surname"
    dob = "DOB"
"""


def write_job(tmp_path: Path, text: str, people: str = PEOPLE) -> Path:
    (tmp_path / "extracts").mkdir(exist_ok=True)
    (tmp_path / "extracts" / "people.csv").write_text(people)
    job = tmp_path / "job.toml"
    job.write_text(textwrap.dedent(text))
    return job


def job_error(tmp_path: Path, text: str) -> str:
    path = write_job(tmp_path, text)
    with pytest.raises(JobFileError) as info:
        load_job(path)
    message = str(info.value)
    assert message.startswith(str(path)), message  # always names the job file
    return message


def test_valid_job_loads_with_defaults(tmp_path: Path) -> None:
    path = write_job(tmp_path, JOB_HEAD + SOURCE)
    job = load_job(path)
    assert job.name == "Test partnership"
    assert job.reference_date == date(2026, 9, 30)
    assert job.seed == 7
    assert job.linkage.backend == "duckdb"
    assert job.linkage.match_threshold == 0.9
    assert job.linkage.link_floor == 0.3
    assert job.linkage.model is None
    assert job.family.co_residence_window_months == 12
    assert job.family.non_mobile_age_months == 6
    (source,) = job.sources
    assert source.name == "csc" and source.primary and source.agency == "Children's social care"
    assert source.people.path == (tmp_path / "extracts" / "people.csv").resolve()
    assert source.people.path_text == "extracts/people.csv"
    assert source.people.columns["dob"] == ("DOB",)
    assert source.people.date_formats == ("%d/%m/%Y",)
    assert source.relationships is None and source.events is None
    assert job.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Test partnership" in job.raw_toml


def test_settings_and_model_path_resolved_against_job_folder(tmp_path: Path) -> None:
    (tmp_path / "previous").mkdir()
    (tmp_path / "previous" / "model.json").write_text("{}")
    text = (
        JOB_HEAD
        + textwrap.dedent("""\
        [linkage]
        backend = "spark"
        match_threshold = 0.95
        link_floor = 0.5
        model = "previous/model.json"
        [family]
        co_residence_window_months = 24
        non_mobile_age_months = 9
        """)
        + SOURCE
    )
    job = load_job(write_job(tmp_path, text))
    assert job.linkage.backend == "spark"
    assert job.linkage.match_threshold == 0.95 and job.linkage.link_floor == 0.5
    assert job.linkage.model == (tmp_path / "previous" / "model.json").resolve()
    assert job.family.co_residence_window_months == 24
    assert job.family.non_mobile_age_months == 9


def test_codes_are_matched_trimmed_and_case_insensitively(tmp_path: Path) -> None:
    text = (
        JOB_HEAD + SOURCE + '    sex = "DOB"\n    [sources.people.codes.sex]\n    " M " = "male"\n'
    )
    job = load_job(write_job(tmp_path, text))
    assert job.sources[0].people.codes == {"sex": {"m": "male"}}


def test_missing_job_table(tmp_path: Path) -> None:
    message = job_error(tmp_path, SOURCE)
    assert "job: missing (required)" in message


def test_bad_reference_date(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD.replace("2026-09-30", "30/09/2026") + SOURCE)
    assert "job.reference_date" in message and "30/09/2026" in message
    assert "hint:" in message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + '[linkage]\nbakend = "duckdb"\n' + SOURCE)
    assert "linkage.bakend: unknown key" in message
    assert "did you mean 'backend'?" in message


def test_unknown_key_in_a_source_names_the_source(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace("agency =", "agnecy ="))
    assert "source 'csc', agnecy: unknown key" in message
    assert "did you mean 'agency'?" in message


def test_unknown_canonical_field(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace("surname =", "surnme ="))
    assert "source 'csc', people.columns.surnme: unknown canonical field" in message
    assert "did you mean 'surname'?" in message


def test_missing_required_field(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace('record_id = "PersonID"\n', ""))
    assert "source 'csc', people.columns.record_id: missing (required)" in message


def test_list_of_columns_only_for_joinable_fields(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace('dob = "DOB"', 'dob = ["DOB", "X"]'))
    assert "people.columns.dob: only one column allowed" in message


def test_missing_file_names_the_resolved_path(tmp_path: Path) -> None:
    message = job_error(
        tmp_path, JOB_HEAD + SOURCE.replace("extracts/people.csv", "extracts/nope.csv")
    )
    assert "source 'csc', people.path: file not found" in message
    assert str((tmp_path / "extracts" / "nope.csv").resolve()) in message


def test_bad_backend(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + '[linkage]\nbackend = "postgres"\n' + SOURCE)
    assert "linkage.backend: unknown backend 'postgres'" in message
    assert "duckdb, spark" in message


def test_duplicate_source_names(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE + SOURCE)
    assert "duplicate source name 'csc'" in message


@pytest.mark.parametrize("name", ["CSC", "1csc", "csc-2", ""])
def test_bad_source_name(tmp_path: Path, name: str) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace('name = "csc"', f'name = "{name}"'))
    assert "sources[1].name: bad source name" in message
    assert "lower-case identifier" in message


def test_code_value_must_be_canonical(tmp_path: Path) -> None:
    text = JOB_HEAD + SOURCE + '    sex = "DOB"\n    [sources.people.codes.sex]\n    M = "mael"\n'
    message = job_error(tmp_path, text)
    assert "source 'csc', people.codes.sex.M: 'mael' is not a canonical sex value" in message
    assert "did you mean 'male'?" in message


def test_relationship_to_needs_relationship(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE + '    relationship_to = "Surname"\n')
    assert "people.columns.relationship: missing" in message


def test_bad_date_format(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + SOURCE.replace('"%d/%m/%Y"', '"%d/%Q/%Y"'))
    assert "people.date_format: not a usable strptime date format" in message


def test_date_min_parsed_defaults_and_is_read_per_extract(tmp_path: Path) -> None:
    assert load_job(write_job(tmp_path, JOB_HEAD + SOURCE)).sources[0].people.date_min_parsed == 0.9
    text = SOURCE.replace('date_format = "%d/%m/%Y"\n',
                          'date_format = "%d/%m/%Y"\n  date_min_parsed = 1\n')
    assert load_job(write_job(tmp_path, JOB_HEAD + text)).sources[0].people.date_min_parsed == 1.0


@pytest.mark.parametrize("value", ["0", "-0.1", "1.5", '"0.8"', "true", "nan"])
def test_date_min_parsed_must_be_a_share_above_zero(tmp_path: Path, value: str) -> None:
    text = SOURCE.replace('date_format = "%d/%m/%Y"\n',
                          f'date_format = "%d/%m/%Y"\n  date_min_parsed = {value}\n')
    message = job_error(tmp_path, JOB_HEAD + text)
    assert "source 'csc', people.date_min_parsed: must be a number above 0 and at most 1" in message
    assert "hint: " in message and "date_min_parsed = 0.8" in message


def test_link_floor_above_threshold(tmp_path: Path) -> None:
    message = job_error(
        tmp_path, JOB_HEAD + "[linkage]\nmatch_threshold = 0.5\nlink_floor = 0.8\n" + SOURCE
    )
    assert "linkage.link_floor" in message


def test_missing_model_file(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + '[linkage]\nmodel = "old/model.json"\n' + SOURCE)
    assert str((tmp_path / "old" / "model.json").resolve()) in message


def test_not_toml(tmp_path: Path) -> None:
    message = job_error(tmp_path, "[job\nname = 1\n")
    assert "not valid TOML" in message


def test_job_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(JobFileError, match="job file not found"):
        load_job(tmp_path / "missing.toml")


def test_mapped_column_not_in_file_lists_the_real_columns(tmp_path: Path) -> None:
    path = write_job(tmp_path, JOB_HEAD + SOURCE.replace('dob = "DOB"', 'dob = "BirthDate"'))
    job = load_job(path)
    con = duckdb.connect()
    with pytest.raises(JobFileError) as info:
        ingest(con, job)
    message = str(info.value)
    assert message.startswith(str(path))
    assert (
        "source 'csc', people.columns.dob: column 'BirthDate' is not in extracts/people.csv"
    ) in message
    assert "the file's columns are: PersonID, Forename, Surname, DOB" in message
    # checked before any work: nothing was written
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


def test_memory_limit_defaults_and_is_checked(tmp_path: Path) -> None:
    assert load_job(write_job(tmp_path, JOB_HEAD + SOURCE)).linkage.memory_limit == "3GB"
    job = load_job(write_job(tmp_path, JOB_HEAD + '[linkage]\nmemory_limit = "6GB"\n' + SOURCE))
    assert job.linkage.memory_limit == "6GB"
    message = job_error(tmp_path, JOB_HEAD + '[linkage]\nmemory_limit = "lots"\n' + SOURCE)
    assert "linkage.memory_limit" in message and "3GB" in message


def test_flags_table_is_kept_as_written(tmp_path: Path) -> None:
    path = write_job(tmp_path, JOB_HEAD + """
[flags.adult_risk_history]
enabled = false
min_age = 21
[flags.sibling_safeguarding_history]
event_types = ["cp_plan"]
""" + SOURCE)
    job = load_job(path)
    assert job.flags == {"adult_risk_history": {"enabled": False, "min_age": 21},
                         "sibling_safeguarding_history": {"event_types": ["cp_plan"]}}
    assert load_job(write_job(tmp_path, JOB_HEAD + SOURCE)).flags == {}


def test_a_flags_entry_that_is_not_a_table(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + "[flags]\nnon_mobile_injury = false\n" + SOURCE)
    assert "flags.non_mobile_injury: must be a table" in message
    assert "enabled = false" in message  # the hint shows how to switch a rule off


def test_a_flags_value_of_the_wrong_shape(tmp_path: Path) -> None:
    message = job_error(tmp_path, JOB_HEAD + '[flags.non_mobile_injury]\nage_months = 1.5\n'
                        + SOURCE)
    assert "flags.non_mobile_injury.age_months" in message
