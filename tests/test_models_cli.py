"""The models commands through click's CliRunner: exit codes, output, user errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.cli import main
from famlink.models import build_models


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    db = LinkageDB()
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.person("Pman", "police", "PL1", "Joe Bloggs", dob="1990-01-01", sex="male", uprn="100")
    db.relationship("csc", "C2", "C1", "mother")
    db.event("police", "PL1", "2026-03-01", "domestic_abuse", role="suspect", summary="Call-out")
    db.event("csc", "C2", "2026-06-01", "injury", summary="Bruise, left arm")
    con = duckdb.connect(str(out / "famlink.duckdb"))
    db.connect(con)
    build_models(con, reference_date=REFERENCE_DATE)
    con.close()
    return out


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_flags_lists_every_flag_and_filters_by_type_and_child(out_dir: Path) -> None:
    result = invoke("flags", out_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    keys = {f["flag_key"] for f in json.loads(result.output)}
    assert keys == {
        "unrecorded_male_carer:Pkid:Pman",
        "adult_risk_history:Pkid:Pman",
        "father_not_recorded:Pkid",
        "non_mobile_injury:Pkid",
    }
    result = invoke("flags", out_dir, "--type", "non_mobile_injury", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["flag_key"] for r in rows] == ["non_mobile_injury:Pkid"]
    assert "injury" in rows[0]["explanation"]
    result = invoke("flags", out_dir, "--child", "Pkid", "--evidence", "--format", "json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    injury = [
        i for i in items if i["flag_key"] == "non_mobile_injury:Pkid" and i["part"] == "trigger"
    ]
    assert [(i["source"], i["record_id"], i["date_from"]) for i in injury] == [
        ("csc", "C2", "2026-06-01")
    ]
    assert "Bruise, left arm" in injury[0]["description"]


def test_unknown_child_is_a_short_error_that_says_what_to_try(out_dir: Path) -> None:
    for command in (
        ["flags", out_dir, "--child", "Pnope"],
        ["chronology", out_dir, "--child", "Pnope"],
        ["family", out_dir, "--person", "Pnope"],
    ):
        result = invoke(*command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), command
        assert f"no person Pnope in {out_dir}; try `famlink flags {out_dir}`" in result.output


def test_chronology_of_an_adult_explains_who_has_one(out_dir: Path) -> None:
    result = invoke("chronology", out_dir, "--child", "Pman")
    assert result.exit_code == 1 and "not a child in a primary source" in result.output


def test_chronology_in_every_format(out_dir: Path) -> None:
    as_json = json.loads(
        invoke("chronology", out_dir, "--child", "Pkid", "--format", "json").output
    )
    assert [e["event_type"] for e in as_json] == ["domestic_abuse", "injury"]
    assert as_json[0]["relation_to_child"] == "co_resident"
    md = invoke("chronology", out_dir, "--child", "Pkid", "--format", "markdown").output
    assert md.startswith("# Chronology for Ben Hall (Pkid)") and "| 2026-03-01 | Police |" in md
    table = invoke("chronology", out_dir, "--child", "Pkid").output
    assert "Bruise, left arm" in table
    rows = list(
        csv.DictReader(
            io.StringIO(invoke("chronology", out_dir, "--child", "Pkid", "--format", "csv").output)
        )
    )
    assert rows[1]["record_id"] == "C2"


def test_family_shows_recorded_apart_from_inferred(out_dir: Path) -> None:
    result = invoke("family", out_dir, "--person", "Pkid")
    assert result.exit_code == 0, result.output
    recorded, inferred = result.output.split("Inferred from addresses")
    assert "mother: Amy Hall" in recorded and "Joe Bloggs" not in recorded
    assert "co_resident: Joe Bloggs" in inferred
    assert "unrecorded_male_carer:Pkid:Pman" in result.output


def test_profile_reports_completeness_per_source(out_dir: Path) -> None:
    result = invoke("profile", out_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["source"]: r for r in json.loads(result.output)}
    assert rows["csc"]["with_dob"] == 1.0 and rows["csc"]["with_uprn"] == 1.0
    assert rows["csc"]["children"] == 1
    assert rows["csc"]["children_with_father_or_male_carer"] == 0.0
    assert rows["police"]["children"] is None


def test_commands_on_a_folder_without_models_tables_say_how_to_build_them(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "famlink.duckdb")).close()
    result = invoke("flags", tmp_path)
    assert result.exit_code == 1 and "famlink link" in result.output


def test_a_models_build_that_fails_part_way_is_not_read_as_complete(
    out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from famlink.models import build

    copy = tmp_path / "copy"
    shutil.copytree(out_dir, copy)

    def disk_full(con: duckdb.DuckDBPyConnection) -> None:
        raise duckdb.IOException("No space left on device")

    steps = tuple((n, disk_full if n == "flags" else f) for n, f in build.STEPS)
    monkeypatch.setattr(build, "STEPS", steps)
    con = duckdb.connect(str(copy / "famlink.duckdb"))
    with pytest.raises(duckdb.IOException):
        build_models(con, reference_date=REFERENCE_DATE)
    con.close()
    # the earlier steps' tables are new, the flags old: nothing may read that mixture
    for command in (("flags", copy), ("chronology", copy, "--child", "Pkid"),
                    ("family", copy, "--person", "Pkid"), ("view", copy)):
        result = invoke(*command)
        assert result.exit_code == 1, (command, result.output)
        assert "did not finish" in result.output, result.output
    monkeypatch.undo()
    con = duckdb.connect(str(copy / "famlink.duckdb"))
    build_models(con, reference_date=REFERENCE_DATE)  # a re-run completes it
    con.close()
    assert invoke("flags", copy).exit_code == 0
