"""The model fits the job: comparisons, blocking rules and EM blocks come from the fields the
data populates; the job file's [model] table changes them in Splink's vocabulary; a saved
model that does not fit is refused; training that cannot go on says what to do; one-source
jobs link."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SampleRun

from famlink.cli import main
from famlink.linkage import model_spec
from famlink.linkage.errors import FamlinkError, JobFileError
from famlink.linkage.evaluate import linkage_accuracy
from famlink.linkage.jobfile import load_job
from famlink.linkage.model_options import ModelOptions
from famlink.linkage.predict import predict_duckdb

# The columns of source_records the model's input reads (docs/tables.md).
BASE_COLUMNS = {
    "source": "VARCHAR", "record_id": "VARCHAR", "first_name_canonical": "VARCHAR",
    "first_name_clean": "VARCHAR", "surname_clean": "VARCHAR", "surname_first_token": "VARCHAR",
    "dob": "DATE", "sex": "VARCHAR", "nhs_number": "VARCHAR", "postcode": "VARCHAR",
    "uprn": "VARCHAR", "address_clean": "VARCHAR",
}


def make_records(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]],
                 extra: dict[str, str] | None = None) -> None:
    """``source_records`` with the base columns plus ``extra`` (name: type), from ``rows``."""
    columns = {**BASE_COLUMNS, **(extra or {})}
    con.execute("CREATE OR REPLACE TABLE source_records ("
                + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")
    con.executemany(
        f"INSERT INTO source_records VALUES ({', '.join('?' for _ in columns)})",
        [[row.get(c) for c in columns] for row in rows])


def person(i: int, **values: Any) -> dict[str, Any]:
    first = values.pop("first", f"name{i % 37}")
    surname = values.pop("surname", f"family{i % 23}")
    return {"source": "a", "record_id": f"R{i:04d}", "first_name_canonical": first,
            "first_name_clean": first, "surname_clean": surname, "surname_first_token": surname,
            "dob": date(1950 + i % 60, 1 + i % 12, 1 + i % 28), "sex": "unknown",
            "postcode": f"LS{i % 9 + 1} {i % 9}AB", "address_clean": f"{i % 50} high street leeds",
            **values}


def duckdb_with(rows: list[dict[str, Any]], extra: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    make_records(con, rows, extra)
    return con


def spec_for(rows: list[dict[str, Any]], extra: dict[str, str] | None = None,
             options: ModelOptions | None = None) -> model_spec.ModelSpec:
    return model_spec.build_spec(model_spec.profile(duckdb_with(rows, extra)), options)


def names(spec: model_spec.ModelSpec) -> list[str]:
    return [name for name, _ in spec.comparisons]


# --- fields in, fields out --------------------------------------------------------------------


def test_a_field_95_percent_empty_gets_no_comparison_and_the_summary_says_so() -> None:
    rows = [person(i, nhs_number="9434765919" if i < 5 else None) for i in range(100)]
    spec = spec_for(rows)
    assert "nhs_number" not in names(spec)
    assert all("nhs_number" not in r.columns for r in spec.blocking_rules)
    lines = spec.summary().lines()
    # one line per field left out, saying where it is empty
    assert "nhs_number: 95% empty in the 1 source that maps it (a) — not compared" in lines
    assert "uprn: mapped by no source — not compared" in lines
    # sex "unknown" says nothing: counted as empty (the raw code shows the source maps it)
    spec = spec_for([person(i, sex_raw="U") for i in range(100)], {"sex_raw": "VARCHAR"})
    assert "sex" not in names(spec)
    assert "sex: 100% empty in the 1 source that maps it (a) — not compared" in spec.summary().lines()

    rows = [person(i, nhs_number="9434765919" if i < 6 else None) for i in range(100)]
    assert "nhs_number" in names(spec_for(rows))


def test_a_field_is_judged_over_the_sources_that_map_it() -> None:
    # 'b' alone declares an NI number and fills 80 % of its records: 4 % of all records
    rows = [person(i) for i in range(480)]
    rows += [person(i, source="b", id_ni_number=f"NI{i % 10}" if i % 5 else None)
             for i in range(480, 500)]
    prof = model_spec.profile(duckdb_with(rows, {"id_ni_number": "VARCHAR"}))
    assert prof.share("id_ni_number") == pytest.approx(0.8)
    assert prof.mapped_by["id_ni_number"] == ("b",)
    spec = model_spec.build_spec(prof)
    # it finds b's duplicates: compared and blocked on, though one source holds it
    assert "id_ni_number" in names(spec)
    assert ("id_ni_number",) in [r.columns for r in spec.blocking_rules]

    # the same source leaving it 96 % empty: left out, and the line names the source
    rows = [*rows[:480], *(person(i, source="b", id_ni_number="NI1" if i < 481 else None)
                           for i in range(480, 505))]
    spec = spec_for(rows, {"id_ni_number": "VARCHAR"})
    assert "id_ni_number" not in names(spec)
    assert ("id_ni_number: 96% empty in the 1 source that maps it (b) — not compared"
            in spec.summary().lines())


def test_a_source_whose_values_were_all_nulled_still_maps_the_field() -> None:
    # 'b' maps NHS numbers but every one failed its check digit: b's records count as empty
    rows = [person(i, nhs_number=str(9000000000 + i % 40)) for i in range(20)]
    rows += [person(i, source="b", nhs_number_raw="123") for i in range(20, 420)]
    prof = model_spec.profile(duckdb_with(rows, {"nhs_number_raw": "VARCHAR"}))
    assert prof.mapped_by["nhs_number"] == ("a", "b")
    assert prof.share("nhs_number") == pytest.approx(20 / 420)
    assert "nhs_number" not in names(model_spec.build_spec(prof))


def test_training_blocks_prefer_the_nhs_number_then_another_identifier_then_names() -> None:
    # 200 records, 40 numbers: 400 pairs share each identifier, enough to train on
    with_nhs = [person(i, nhs_number=str(9000000000 + i % 40), id_upn=f"U{i % 40}") for i in range(200)]
    spec = spec_for(with_nhs, {"id_upn": "VARCHAR"})
    assert [r.columns for r in spec.em_blocks] == [("nhs_number",), ("first_name", "surname", "dob")]
    assert ("id_upn",) in [r.columns for r in spec.blocking_rules]
    assert ("id_upn",) in [r.columns for r in spec.deterministic_rules]

    with_id = [person(i, id_upn=f"U{i % 40}") for i in range(200)]
    spec = spec_for(with_id, {"id_upn": "VARCHAR"})
    assert [r.columns for r in spec.em_blocks] == [("id_upn",), ("first_name", "surname", "dob")]
    assert "id_upn" in names(spec)

    bare = [person(i) for i in range(50)]
    spec = spec_for(bare)
    # no identifier: names and dates can only be trained on blocks without them
    assert [r.columns for r in spec.em_blocks] == [
        ("first_name", "surname", "dob"), ("first_name", "surname"), ("dob",)]


def test_an_identifier_few_pairs_share_is_compared_but_not_an_em_block() -> None:
    # one small source holds an NI number, well filled, shared by 10 pairs: it is compared
    # and blocked on, but EM is trained on the identifier many pairs share, or on names
    small = [person(i, source="b", id_ni_number=f"NI{i % 10}") for i in range(20)]
    many = [person(i, id_upn=f"U{i % 40}") for i in range(20, 220)]
    extra = {"id_ni_number": "VARCHAR", "id_upn": "VARCHAR"}
    spec = spec_for([*many, *small], extra)
    assert "id_ni_number" in names(spec)
    assert [r.columns for r in spec.em_blocks] == [("id_upn",), ("first_name", "surname", "dob")]

    spec = spec_for([*(person(i) for i in range(20, 220)), *small], {"id_ni_number": "VARCHAR"})
    assert "id_ni_number" in names(spec)
    assert ("id_ni_number",) not in [r.columns for r in spec.em_blocks]
    assert spec.em_blocks[0].columns == ("first_name", "surname", "dob")
    assert model_spec.EM_BLOCK_MIN_PAIRS > 10


def test_an_identifier_typo_is_weak_evidence_not_a_wall() -> None:
    spec = spec_for([person(i, id_upn=f"U{i}") for i in range(50)], {"id_upn": "VARCHAR"})
    comparison = dict(spec.comparisons)["id_upn"].get_comparison("duckdb").as_dict()
    labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
    assert labels == ["id_upn is NULL", "Exact match on id_upn",
                      "Damerau-Levenshtein distance of id_upn <= 1", "All other comparisons"]


def _levels_hit(comparison: dict[str, Any], left: dict[str, Any], right: dict[str, Any]) -> str:
    """The label of the first level whose SQL holds for the pair (as Splink's CASE does)."""
    con = duckdb.connect()
    values = {f"{k}_l": v for k, v in left.items()} | {f"{k}_r": v for k, v in right.items()}
    con.execute("CREATE TABLE p AS SELECT " + ", ".join(f"${k} AS {k}" for k in values), values)
    for level in comparison["comparison_levels"]:
        if level["sql_condition"] == "ELSE":
            return str(level["label_for_charts"])
        if con.execute(f"SELECT coalesce(({level['sql_condition']}), false) FROM p").fetchall()[0][0]:
            return str(level["label_for_charts"])
    raise AssertionError("no level")


def test_a_first_name_among_the_others_middle_or_preferred_names_is_name_evidence() -> None:
    rows = [person(i, other_forenames=["jane"] if i % 2 else None,
                   other_surnames=["smith"] if i % 2 else None) for i in range(40)]
    spec = spec_for(rows, {"other_forenames": "VARCHAR[]", "other_surnames": "VARCHAR[]"})
    first = dict(spec.comparisons)["first_name"].get_comparison("duckdb").as_dict()
    mary = {"first_name": "mary", "first_name_as_written": "mary", "surname": "jones",
            "other_forenames": ["jane"]}
    jane = {"first_name": "jane", "first_name_as_written": "jane", "surname": "jones",
            "other_forenames": None}
    assert _levels_hit(first, mary, jane) == "Among the other's other forenames"
    assert _levels_hit(first, jane, mary) == "Among the other's other forenames"
    anne = {**jane, "first_name": "anne", "first_name_as_written": "anne"}
    assert _levels_hit(first, mary, anne) == "All other comparisons"

    surname = dict(spec.comparisons)["surname"].get_comparison("duckdb").as_dict()
    married = {"first_name": "mary", "first_name_as_written": "mary", "surname": "jones",
               "other_surnames": ["smith"]}
    maiden = {"first_name": "mary", "first_name_as_written": "mary", "surname": "smith",
              "other_surnames": None}
    assert _levels_hit(surname, married, maiden) == "Among the other's other surnames"


def test_address_text_is_compared_when_there_is_no_uprn_or_postcode() -> None:
    rows = [person(i, postcode=None) for i in range(40)]
    spec = spec_for(rows)
    address = dict(spec.comparisons)["address"].get_comparison("duckdb").as_dict()
    same = {"uprn": None, "postcode": None, "postcode_district": None,
            "address_number": "12", "address_street": "high street"}
    assert _levels_hit(address, same, dict(same)) == "Same house number and street"
    assert _levels_hit(address, same, {**same, "address_number": "14"}) == "All other comparisons"


def test_the_input_derives_house_number_street_and_district() -> None:
    con = duckdb.connect()
    make_records(con, [person(1, postcode="LS6 2AB", address_clean="flat 2 126 rochdale terrace birstall")])
    row = con.execute(f"SELECT address_number, address_street, postcode_district FROM "
                      f"({model_spec.splink_input_sql(con)})", ["a"]).fetchall()
    assert row == [("2", "rochdale terrace", "LS6")]


# --- [model] in the job file -------------------------------------------------------------------

JOB = """\
[job]
name = "Model options"
reference_date = "2026-09-30"

[[sources]]
name = "csc"
agency = "Children's social care"
  [sources.people]
  path = "people.csv"
  date_format = "%d/%m/%Y"
    [sources.people.columns]
    record_id = "PersonID"
    first_name = "Forename"
    surname = "Surname"
    dob = "DOB"
"""


def load(tmp_path: Path, model: str) -> Any:
    (tmp_path / "people.csv").write_text("PersonID,Forename,Surname,DOB\nP1,Ann,Lee,01/02/2003\n")
    path = tmp_path / "job.toml"
    path.write_text(JOB + textwrap.dedent(model))
    return load_job(path)


def test_model_table_reads_splinks_vocabulary(tmp_path: Path) -> None:
    job = load(tmp_path, """
        [model]
        drop_comparisons = ["sex"]
        blocking_rules = [["dob", "surname"], ["nhs_number"]]
        max_empty_share = 0.9
        em_max_pairs = 1e6
        [[model.comparisons]]
        library = "JaroWinklerAtThresholds"
        column = "address_street"
        thresholds = [0.9, 0.8]
        term_frequency_adjustments = true
    """)
    options = job.model
    assert options.drop_comparisons == ("sex",)
    assert options.blocking_rules == (("dob", "surname"), ("nhs_number",))
    assert options.max_empty_share == 0.9 and options.em_max_pairs == 1e6
    comparison = options.comparisons[0].create().get_comparison("duckdb").as_dict()
    assert comparison["output_column_name"] == "address_street"
    assert "jaro_winkler_similarity" in comparison["comparison_levels"][2]["sql_condition"]


@pytest.mark.parametrize(("model", "expected"), [
    ('library = "JaroWinklerAtThreshold"\ncolumn = "surname"', "did you mean 'JaroWinklerAtThresholds'"),
    ('library = "ExactMatch"\ncolumn = "surname"\nthreshold = [1]', "did you mean 'thresholds'"),
    ('library = "ExactMatch"\ncolumn = "surname"\nthresholds = [1]', "ExactMatch takes no thresholds"),
])
def test_a_wrong_comparison_is_a_job_file_error_with_a_hint(tmp_path: Path, model: str, expected: str) -> None:
    with pytest.raises(JobFileError) as info:
        load(tmp_path, "[[model.comparisons]]\n" + model + "\n")
    assert expected in str(info.value)
    assert "model.comparisons[0]" in str(info.value)


def test_an_unknown_model_key_suggests_the_close_one(tmp_path: Path) -> None:
    with pytest.raises(JobFileError, match="did you mean 'drop_comparisons'"):
        load(tmp_path, '[model]\ndrop_comparison = ["sex"]\n')


def test_model_options_add_drop_and_replace_comparisons_and_rules() -> None:
    rows = [person(i, nhs_number=str(9000000000 + i), sex="male" if i % 2 else "female") for i in range(50)]
    from famlink.linkage.model_options import ComparisonOption

    options = ModelOptions(
        drop_comparisons=("sex",),
        comparisons=(ComparisonOption("JaroWinklerAtThresholds", "surname", (0.9,)),),
        add_blocking_rules=(("surname", "postcode"),),
        drop_blocking_rules=(("surname", "dob"),),
    )
    spec = spec_for(rows, options=options)
    assert "sex" not in names(spec)
    surname = dict(spec.comparisons)["surname"].get_comparison("duckdb").as_dict()
    assert len(surname["comparison_levels"]) == 4  # Splink's JW comparison replaced famlink's
    rules = [r.columns for r in spec.blocking_rules]
    assert ("surname", "postcode") in rules and ("dob", "surname") not in rules

    spec = spec_for(rows, options=ModelOptions(blocking_rules=(("nhs_number",),)))
    assert [r.columns for r in spec.blocking_rules] == [("nhs_number",)]


@pytest.mark.parametrize(("options", "message"), [
    (ModelOptions(drop_comparisons=("gender",)), "no comparison 'gender'"),
    (ModelOptions(blocking_rules=(("id_upn",),)), "does not have"),
    (ModelOptions(add_blocking_rules=(("uprn",),)), "mapped by no source"),
])
def test_model_options_on_columns_the_data_lacks_are_refused(options: ModelOptions, message: str) -> None:
    with pytest.raises(FamlinkError, match=message):
        spec_for([person(i) for i in range(20)], options=options)


# --- reusing a model ----------------------------------------------------------------------------


def test_a_saved_model_comparing_a_field_the_job_lacks_is_refused(sample_run: SampleRun) -> None:
    model = json.loads(sample_run.model.read_text())
    con = duckdb.connect()
    make_records(con, [person(i) for i in range(20)])  # no NHS numbers, no UPRNs
    with pytest.raises(FamlinkError) as info:
        model_spec.check_model_fits(model, model_spec.profile(con), ModelOptions(), file="model.json")
    assert "'nhs_number'" in str(info.value) and "mapped by no source" in str(info.value)

    # a model trained where a UPN was declared, reused on a job without one
    with_upn = spec_for([person(i, id_upn=f"U{i}") for i in range(20)], {"id_upn": "VARCHAR"})
    model = with_upn.settings(link_type="dedupe_only").create_settings_dict("duckdb")
    with pytest.raises(FamlinkError, match="'id_upn', which this job does not have"):
        model_spec.check_model_fits(model, model_spec.profile(con), ModelOptions(), file="model.json")
    make_records(con, [person(i, id_upn=f"U{i}") for i in range(20)], {"id_upn": "VARCHAR"})
    model_spec.check_model_fits(model, model_spec.profile(con), ModelOptions(), file="model.json")


def test_training_printed_the_model_it_built(sample_run: SampleRun) -> None:
    out = sample_run.output
    assert re.search(r"Model compares: first_name, surname, dob, nhs_number, address, sex", out)
    assert "Blocking rules: nhs_number; first_name + surname;" in out
    assert "EM trained on pairs sharing: nhs_number; first_name + surname + dob" in out


# --- training that cannot go on, one-source jobs ------------------------------------------------


def test_training_without_pairs_is_a_famlink_error_saying_what_to_do(tmp_path: Path) -> None:
    con = duckdb.connect()
    # every NHS number different, every name and date different: nothing to train on
    make_records(con, [person(i, first=f"f{i}", surname=f"s{i}", nhs_number=str(9000000000 + i))
                       for i in range(30)])
    with pytest.raises(FamlinkError) as info:
        predict_duckdb(con, out_dir=tmp_path, seed=1, link_floor=0.3, model=None)
    message = str(info.value)
    assert "training the model failed" in message
    assert "--model" in message and "map" in message


def test_an_em_block_on_an_identifier_no_two_records_share_is_a_famlink_error(tmp_path: Path) -> None:
    # the job asks for EM on a one-source identifier whose values are all different
    rows = [person(i, nhs_number=str(9000000000 + i % 40)) for i in range(200)]
    rows += [person(i, source="b", id_ni_number=f"NI{i}") for i in range(200, 220)]
    con = duckdb_with(rows, {"id_ni_number": "VARCHAR"})
    options = ModelOptions(em_blocks=(("id_ni_number",),))
    with pytest.raises(FamlinkError) as info:
        predict_duckdb(con, out_dir=tmp_path, seed=1, link_floor=0.3, model=None, options=options)
    message = str(info.value)
    assert "training by EM on the pairs sharing id_ni_number" in message
    assert "no two records share these fields" in message


def housing_job(tmp_path: Path) -> Path:
    """The sample's housing source alone: one source, UPRNs, no NHS numbers."""
    job = (SAMPLE / "job.toml").read_text()
    housing = job[job.index('name = "housing"'):]
    housing = housing[: housing.find("[[sources]]")] if "[[sources]]" in housing else housing
    head = job[: job.index("[[sources]]")]
    text = head + "[[sources]]\n" + housing.replace('path = "', f'path = "{SAMPLE}/')
    path = tmp_path / "job.toml"
    path.write_text(text)
    return path


def test_reusing_a_model_that_compares_fields_the_job_lacks_is_refused(
    sample_run: SampleRun, tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["link", str(housing_job(tmp_path)), "--out", str(out),
                                       "--model", str(sample_run.model), "--no-models"])
    assert result.exit_code == 1, result.output
    assert "does not fit this job's fields" in result.output
    assert "comparison 'nhs_number' uses 'nhs_number', which is mapped by no source" in result.output
    assert "Traceback" not in result.output


def test_a_one_source_job_without_nhs_numbers_links(tmp_path: Path) -> None:
    """Housing alone (Splink's dedupe_only; no NHS numbers): trained on UPRN-free blocks."""
    path = housing_job(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["link", str(path), "--out", str(out), "--no-models"])
    assert result.exit_code == 0, result.output
    assert "nhs_number: mapped by no source — not compared" in result.output
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    assert con.execute("SELECT DISTINCT source_l, source_r FROM record_links").fetchall() == [
        ("housing", "housing")]
    accuracy = linkage_accuracy(con, SAMPLE / "_truth")
    assert accuracy.records == 343
    assert accuracy.pairwise_f1 >= 0.9, accuracy


def test_one_fact_blocking_rules_are_used_only_when_the_data_makes_few_pairs_on_them() -> None:
    # 200 records over 200 dates of birth: blocking on the date alone is cheap and finds the
    # pairs whose names are both mistyped; the same records all born on 4 dates are not.
    varied = [person(i) for i in range(200)]
    spec = spec_for(varied)
    assert ("dob",) in [r.columns for r in spec.blocking_rules]
    crowded = [person(i, dob=date(1980, 1, 1 + i % 4)) for i in range(200)]
    assert ("dob",) not in [r.columns for r in spec_for(crowded).blocking_rules]
    # the budget is the job's: 0 pairs per record switches the one-fact rules off
    spec = spec_for(varied, options=ModelOptions(wide_rule_pairs_per_record=0.0))
    assert all(len(r.columns) > 1 or r.columns == ("nhs_number",) or r.columns[0].startswith("id_")
               or r.columns == (model_spec.SWAPPED_NAMES,) for r in spec.blocking_rules)
