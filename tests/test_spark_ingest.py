"""The Spark backend's settings and ingest, against the DuckDB backend.

The job file's ``[spark]`` table; ingest on Spark writing the same tables as on DuckDB (the
sample, the quarantine fixture and values chosen to trip a translation); a failure inside
Spark reaching the data officer as famlink's short message. (The whole job on both
backends, and the clustering and models stage on Spark: ``test_spark.py``.)

Tests marked ``spark`` need pyspark and Java. In CI (the ``CI`` environment variable set)
they fail when either is missing; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from spark_fixtures import JOB, ROOT, job_with, require_spark

from famlink.cli import main
from famlink.linkage.errors import JobFileError
from famlink.linkage.jobfile import load_job


def test_the_spark_table_is_read(tmp_path: Path) -> None:
    job = load_job(job_with(tmp_path, textwrap.dedent("""\
        [spark]
        master = "local[2]"
        driver_memory = "6G"
        shuffle_partitions = 8
        checkpoint_dir = "checkpoints"
        [spark.conf]
        "spark.sql.adaptive.enabled" = true
        spark.network.timeout = "300s"
        """)))
    assert job.spark.master == "local[2]"
    assert job.spark.driver_memory == "6g"
    assert job.spark.executor_memory is None
    assert job.spark.shuffle_partitions == 8
    assert job.spark.checkpoint_dir == str((tmp_path / "checkpoints").resolve())
    # quoted and unquoted dotted keys give the same setting
    assert dict(job.spark.conf) == {"spark.sql.adaptive.enabled": "true",
                                    "spark.network.timeout": "300s"}


def test_the_sample_job_has_spark_defaults() -> None:
    spark = load_job(JOB).spark
    assert (spark.master, spark.shuffle_partitions, spark.checkpoint_dir) == ("local[*]", None, None)


def test_a_local_master_gets_half_the_machines_memory_unless_the_job_says(tmp_path: Path) -> None:
    from famlink.linkage.jobfile import SparkSettings
    from famlink.linkage.spark.session import driver_memory, physical_memory_bytes

    ram = physical_memory_bytes()
    assert ram, "Linux and macOS report their memory"
    half = max(1, ram // 2**31)
    assert driver_memory(SparkSettings()) == f"{half}g"
    assert driver_memory(SparkSettings(master="local[2]")) == f"{half}g"
    assert driver_memory(SparkSettings(driver_memory="3g")) == "3g"
    # a cluster's driver only plans: Spark's own default
    assert driver_memory(SparkSettings(master="spark://head:7077")) is None


@pytest.mark.parametrize(("table", "message"), [
    ('[spark]\nmastr = "local"', "did you mean 'master'"),
    ('[spark]\ndriver_memory = "lots"', "not a Spark memory size"),
    ("[spark]\nshuffle_partitions = 0", "must be a whole number > 0"),
    ('[spark.conf]\n"spark.driver.memory" = "4g"', "write spark.driver_memory instead"),
    ("[spark.conf]\n\"spark.x\" = [1]", "must be text, a number or true/false"),
])
def test_spark_table_mistakes_are_job_file_errors(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(JobFileError) as err:
        load_job(job_with(tmp_path, table))
    assert message in str(err.value)


# -- the models stage on Spark ------------------------------------------------------------




_TRICKY_PEOPLE = [
    # id, title+first, middle, surname, dob, sex, nhs, postcode, uprn, address,
    # sex2, title, preferred name, former surname, person id, NI number
    ("T1", "Zoë", "Ann-Marie", "Ø'Connor", "1/2/2020", "F", "943 476 5919", "ls1 4ab",
     "000100023336956", "12, High St.", "", "", "Zoë", "", " P 1 ", "ab\u00a012/34.56-c"),
    ("T2", "Mrs\u00a0Chloé", "", "Jose\u0301-Ærwyn", "01-Mar-2019", "f", "943-476-5919", "LS14AB",
     "100023336957.0", "Flat 3, Mill Rd", "", "", "", "Ø'Brien-Smith", "P 1", ""),
    ("T3", "Dr Łukasz", "Þór", "Müller", "3 march 68", "Male", "1111111111", "GIR 0AA", "12 34",
     "Apt 4 Øster Ave", "", "Dr", "Luke", "", "", "AB 12 34 56 C"),
    ("T4", "Prof. ßeta", "", "Çelik", "3 MARCH 69", "x", "abc", "XX1", "1234567890123",
     "Bldg 7, Crescent Cres", "", "Miss", "", "", "", ""),
    ("T5", "  Siân ", "Rhiannon", "ap Gwŷn", "20190305", "", "94347659", " sw1a  1aa ", "",
     "Ct. 9 St Anne's Sq", "M", "Mrs.", "", "", "", ""),
    ("T6", "Bob Jim", "", "Smith", "31/02/2019", "M", "", "ls6", "", "", "", "", "", "", "", ""),
    ("T7", "Émile", "", "Zola", "2019-03-05T10:00:00Z", "M", "", "LS1 4", "", "", "", "MR.", "",
     "", "", ""),
    ("T8", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""),
    ("T1", "Zoe", "", "OConnor", "01/02/2020", "F", "", "", "", "", "", "", "", "", "", ""),
]
_TRICKY_ABROAD = [("A1", "Ana", "Lima", "  2000 ", "AB123456C", "k-42"),
                  ("A2", "Ana", "Lima", "sw1a 1aa", "", "")]


def _tricky_job(folder: Path) -> Path:
    """One agency whose people file holds the values standardisation has to get right on
    both engines: accents (precomposed and combining), ligatures, titles, non-breaking
    spaces, NHS numbers, postcodes (partial ones too), UPRNs, abbreviations, dates in five
    formats (two-digit years, month names in any case), name lists, sex from a second column
    or a title, declared identifiers; and an agency abroad, whose postcodes are any format."""
    import csv

    with open(folder / "people.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "First", "Middle", "Surname", "Dob", "Sex", "Nhs", "Postcode",
                         "Uprn", "Address", "Sex2", "Title", "Known", "Former", "Pid", "Nino"])
        writer.writerows(_TRICKY_PEOPLE)
    with open(folder / "abroad.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "First", "Surname", "Postcode", "Nino", "Upn"])
        writer.writerows(_TRICKY_ABROAD)
    job = folder / "job.toml"
    job.write_text(textwrap.dedent("""\
        [job]
        name = "tricky values"
        reference_date = "2026-09-30"
        seed = 1
        [[sources]]
        name = "hv"
        agency = "Health visiting"
        primary = true
          [sources.people]
          path = "people.csv"
          date_format = ["%d/%m/%Y", "%d-%b-%Y", "%d %B %y", "%Y%m%d", "%Y-%m-%d"]
            [sources.people.columns]
            record_id = "Id"
            first_name = "First"
            middle_names = "Middle"
            surname = "Surname"
            dob = "Dob"
            sex = ["Sex", "Sex2"]
            title = "Title"
            preferred_name = "Known"
            former_surname = "Former"
            person_id = "Pid"
            nhs_number = "Nhs"
            postcode = "Postcode"
            uprn = "Uprn"
            address = "Address"
            [sources.people.identifiers]
            ni_number = "Nino"
            [sources.people.codes.sex]
            M = "male"
            F = "female"
        [[sources]]
        name = "abroad"
          [sources.people]
          path = "abroad.csv"
          postcode_format = "any"
            [sources.people.columns]
            record_id = "Id"
            first_name = "First"
            surname = "Surname"
            postcode = "Postcode"
            [sources.people.identifiers]
            ni_number = "Nino"
            upn = "Upn"
        """), encoding="utf-8")
    return job


_INGEST_TABLES = ("source_records", "relationships", "events", "nulled_values", "unmapped_codes",
                  "quarantine", "reconciliation")


@pytest.mark.spark
@pytest.mark.parametrize("which", ["sample", "basic fixture", "tricky values"])
def test_ingest_on_spark_writes_the_same_tables_as_on_duckdb(which: str, tmp_path: Path) -> None:
    """Reading stays with DuckDB's strict reader; the standardisation on Spark (the same
    SQL, transpiled) writes every ingest table row for row and type for type as DuckDB
    does, on the sample, on the fixture with a row for each quarantine and nulling reason,
    and on values chosen to trip a translation (accents, regexes, dates)."""
    from famlink.linkage.ingest import ingest
    from famlink.linkage.spark.ingest import ingest_on_spark

    path = {"sample": JOB, "basic fixture": ROOT / "tests" / "fixtures" / "basic" / "job.toml",
            "tricky values": None}[which] or _tricky_job(tmp_path)
    job = load_job(path)
    tables, reports = {}, {}
    for engine in ("duckdb", "spark"):
        con = duckdb.connect(str(tmp_path / f"{engine}.duckdb"))
        try:
            reports[engine] = (ingest(con, job) if engine == "duckdb" else
                               ingest_on_spark(con, job, settings=job.spark, work_dir=tmp_path / "work"))
            tables[engine] = {t: (con.execute(f"DESCRIBE {t}").fetchall(),
                                  con.execute(f"SELECT * FROM {t}").fetchall()) for t in _INGEST_TABLES}
            leftovers = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        finally:
            con.close()
        assert leftovers == [], engine
    assert not (tmp_path / "work").exists()  # personal data: removed
    assert [f.rows_read for f in reports["spark"].files] == [f.rows_read for f in reports["duckdb"].files]
    for table in _INGEST_TABLES:
        assert tables["spark"][table][0] == tables["duckdb"][table][0], table
        assert tables["spark"][table][1] == tables["duckdb"][table][1], table
    if which == "tricky values":
        records = {r[3]: r for r in tables["duckdb"]["source_records"][1]}
        columns = [c[0] for c in tables["duckdb"]["source_records"][0]]
        dob = {k: r[columns.index("dob")] for k, r in records.items()}
        assert str(dob["T1"]) == "2020-02-01" and str(dob["T2"]) == "2019-03-01"
        assert str(dob["T4"]) == "1969-03-03" and str(dob["T5"]) == "2019-03-05"
        assert dob["T3"] is None  # 3 march 68 is 2068: after the reference date, nulled
        assert records["T2"][columns.index("surname_clean")] == "jose aerwyn"
        assert records["T3"][columns.index("first_name_clean")] == "lukasz"
        assert columns[-2:] == ["id_ni_number", "id_upn"]

        def value(record: str, column: str) -> object:
            return records[record][columns.index(column)]

        assert value("T1", "id_ni_number") == value("A1", "id_ni_number") == "AB123456C"
        assert value("A1", "id_upn") == "K42" and value("T1", "id_upn") is None
        assert value("T1", "source_person_id") == value("T2", "source_person_id") == "P 1"
        assert value("T1", "other_forenames") == ["ann", "marie", "zoe"]
        assert value("T2", "other_surnames") == ["aerwyn", "jose", "obrien", "smith"]
        assert value("T6", "first_name_canonical") == "robert"
        assert value("T6", "other_forenames") == ["james"]
        assert [value(r, "sex") for r in ("T3", "T4", "T5", "T7")] == [
            "male", "female", "male", "male"]
        assert [value(r, "postcode_district") for r in ("T2", "T3", "T6", "T7", "A1")] == [
            "LS1", "GIR", "LS6", None, None]
        assert value("T6", "postcode") is None and value("A1", "postcode") == "2000"


@pytest.mark.spark
def test_a_failure_inside_spark_is_a_short_message_not_a_traceback(tmp_path: Path) -> None:
    """Spark's own failures (here: results larger than the driver will take back, as an
    undersized cluster would refuse them) reach the data officer as famlink's one-line
    message with a hint, and the run is recorded as failed."""
    require_spark()
    job = job_with(tmp_path, '[spark.conf]\n"spark.driver.maxResultSize" = "1k"')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["link", str(job), "--out", str(out), "--backend", "spark"])
    assert result.exit_code == 1, result.output
    assert "failed on Spark" in result.output and "hint:" in result.output, result.output
    assert isinstance(result.exception, SystemExit)  # click's handled exit, not a crash
    assert "at org.apache" not in result.output
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    finally:
        con.close()
