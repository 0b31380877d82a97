"""Flag rules as data: the registry, the job file's [flags] table switching rules off and
setting their parameters, and the errors a wrong [flags] table gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from flags_fixtures import family, flag_keys, run, with_partner

from famlink.linkage.errors import JobFileError
from famlink.models.flags import ADULT_FLAG_TYPES, FLAG_TYPES, RULES, flag_settings
from famlink.pipeline import run_link


def flags_run(db: Any, table: dict[str, dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    return run(db, flag_rules=flag_settings(table))


def evidence(con: duckdb.DuckDBPyConnection, *, without: str) -> list[tuple]:
    """Every flag and evidence item of the other rules."""
    return con.execute(
        """SELECT f.flag_key, f.explanation, f.link_probability, e.item_no, e.record_id,
                  e.description
           FROM flags f JOIN flag_evidence e USING (flag_key)
           WHERE f.flag_type <> ? ORDER BY ALL""",
        [without],
    ).fetchall()


def busy_family() -> Any:
    """A family raising four rules: a suspect partner, neglect, an injury, no father."""
    db = with_partner()
    db.event("police", "PL1", "2026-02-01", "domestic_abuse", role="suspect")
    db.event("police", "PL1", "2025-06-01", "mental_health_referral", role="subject")
    db.event("csc", "C2", "2026-07-01", "neglect_concern")
    db.event("health", "H2", "2026-09-20", "injury", summary="Bruise to cheek")
    return db


def test_the_registry_gives_the_flag_types_in_order() -> None:
    assert FLAG_TYPES == tuple(rule.name for rule in RULES)
    assert len(set(FLAG_TYPES)) == 7
    assert ADULT_FLAG_TYPES == ("unrecorded_male_carer", "unrecorded_non_birthing_partner",
                                "adult_risk_history")


@pytest.mark.parametrize("rule", ["adult_risk_history", "non_mobile_injury", "unrecorded_male_carer"])
def test_a_rule_switched_off_raises_none_of_its_flags_and_leaves_the_others(rule: str) -> None:
    db = busy_family()
    default = run(db)
    assert flag_keys(default, rule)
    switched_off = flags_run(db, {rule: {"enabled": False}})
    assert not flag_keys(switched_off, rule)
    assert not switched_off.execute(
        "SELECT 1 FROM flag_evidence WHERE flag_type = ?", [rule]).fetchall()
    assert evidence(switched_off, without=rule) == evidence(default, without=rule)


def test_every_rule_switched_off_leaves_empty_tables_with_their_columns() -> None:
    con = flags_run(busy_family(), {name: {"enabled": False} for name in FLAG_TYPES})
    assert not flag_keys(con)
    columns = [r[0] for r in con.execute("DESCRIBE flags").fetchall()]
    assert columns[:4] == ["flag_key", "flag_type", "child_person_id", "adult_person_id"]


def test_risk_event_types_decide_which_events_raise_adult_risk_history() -> None:
    db = with_partner()
    db.event("police", "PL1", "2025-06-01", "mental_health_referral", role="subject")
    assert not flag_keys(run(db), "adult_risk_history")  # a referral alone: not by default
    con = flags_run(db, {"adult_risk_history": {"risk_event_types": ["mental_health_referral"]}})
    assert flag_keys(con, "adult_risk_history") == {"adult_risk_history:Pkid:Pman"}
    assert con.execute(
        "SELECT explanation FROM flags WHERE flag_type = 'adult_risk_history'"
    ).fetchone()[0].endswith("has records of mental health referral")
    assert evidence(con, without="adult_risk_history") == evidence(
        run(db), without="adult_risk_history")


def test_suspect_event_types_decide_what_counts_only_as_a_suspect() -> None:
    db = with_partner()
    db.event("police", "PL1", "2026-02-01", "domestic_abuse", role="suspect")
    assert flag_keys(run(db), "adult_risk_history")
    con = flags_run(db, {"adult_risk_history": {"suspect_event_types": ["offence"]}})
    assert not flag_keys(con, "adult_risk_history")


def test_the_non_mobile_age_from_flags_or_from_family() -> None:
    db = family()
    db.event("health", "H2", "2026-09-20", "injury")  # at 4 months and 19 days
    assert flag_keys(run(db), "non_mobile_injury") == {"non_mobile_injury:Pkid"}
    assert not flag_keys(flags_run(db, {"non_mobile_injury": {"age_months": 4}}),
                         "non_mobile_injury")
    # [family] non_mobile_age_months is the rule's default; [flags] overrides it
    settings = flag_settings({"non_mobile_injury": {"age_months": 5}}, non_mobile_age_months=4)
    con = run(db, flag_rules=settings)
    assert flag_keys(con, "non_mobile_injury") == {"non_mobile_injury:Pkid"}
    assert "before the age of 5 months" in con.execute(
        "SELECT explanation FROM flags WHERE flag_type = 'non_mobile_injury'").fetchone()[0]
    assert flag_settings(None, non_mobile_age_months=4).value("non_mobile_injury",
                                                              "age_months") == 4


def test_the_household_age_at_an_injury() -> None:
    db = family(man_in_police=False)
    db.person("Pteen", "housing", "HO2", "Sam Hall", dob="2009-01-01", sex="male", uprn="100",
              address_from="2026-01-01")
    db.event("health", "H2", "2026-09-20", "injury")

    def household(con: duckdb.DuckDBPyConnection) -> set[str]:
        return {r[0] for r in con.execute(
            "SELECT person_id FROM flag_evidence WHERE part = 'context'").fetchall()}

    assert household(run(db)) == {"Pmum", "Pteen"}  # 17 at the injury
    assert household(flags_run(db, {"non_mobile_injury": {"household_min_age": 18}})) == {"Pmum"}


def test_sibling_event_types() -> None:
    db = family()
    db.person("Psib", "csc", "C3", "Cat Hall", dob="2018-01-01", sex="female")
    db.relationship("csc", "C3", "C1", "mother")
    db.event("csc", "C3", "2022-01-01", "looked_after")
    assert flag_keys(run(db), "sibling_safeguarding_history")
    con = flags_run(db, {"sibling_safeguarding_history": {"event_types": ["cp_plan"]}})
    assert not flag_keys(con, "sibling_safeguarding_history")


def test_the_minimum_age_of_an_unrecorded_male_carer() -> None:
    db = with_partner()  # Joe, 36 at the reference date
    assert flag_keys(run(db), "unrecorded_male_carer")
    con = flags_run(db, {"unrecorded_male_carer": {"min_age": 40}})
    assert not flag_keys(con, "unrecorded_male_carer")


@pytest.mark.parametrize(
    ("table", "key", "hint"),
    [
        ({"adult_risk": {"enabled": False}}, "flags.adult_risk: unknown flag rule",
         "did you mean 'adult_risk_history'?"),
        ({"non_mobile_injury": {"age": 4}}, "flags.non_mobile_injury.age: unknown parameter",
         "allowed: enabled, age_months, household_min_age"),
        ({"non_mobile_injury": {"age_months": 0}},
         "flags.non_mobile_injury.age_months: must be a whole number > 0", ""),
        ({"non_mobile_injury": {"enabled": "no"}},
         "flags.non_mobile_injury.enabled: must be true or false", ""),
        ({"adult_risk_history": {"risk_event_types": ["offense"]}},
         "flags.adult_risk_history.risk_event_types: unknown value(s) 'offense'", "offence"),
        ({"adult_risk_history": {"risk_event_types": []}},
         "flags.adult_risk_history.risk_event_types: must be a non-empty list", ""),
    ],
)
def test_a_wrong_flags_table_names_the_key_and_the_job_file(table: dict, key: str, hint: str) -> None:
    with pytest.raises(JobFileError) as info:
        flag_settings(table, job_file="job.toml")
    message = str(info.value)
    assert message.startswith("job.toml: " + key), message
    assert hint in message


def test_famlink_link_refuses_a_wrong_flags_table_before_linking(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("PersonID,Surname\nP1,Lee\n")
    job = tmp_path / "job.toml"
    job.write_text(
        '[job]\nreference_date = "2026-09-30"\n'
        "[flags.adult_risk_history]\nmin_ages = 21\n"
        '[[sources]]\nname = "csc"\nagency = "CSC"\nprimary = true\n'
        '[sources.people]\npath = "people.csv"\n'
        '[sources.people.columns]\nrecord_id = "PersonID"\nsurname = "Surname"\n'
    )
    with pytest.raises(JobFileError, match=r"flags\.adult_risk_history\.min_ages") as info:
        run_link(job, tmp_path / "out")
    assert str(info.value).startswith(str(job))
    assert "did you mean 'min_age'?" in str(info.value)
    assert not (tmp_path / "out").exists()  # nothing was linked


def test_docs_list_every_rule_with_its_parameters_and_defaults() -> None:
    docs = Path(__file__).parent.parent / "docs"
    flags_md = (docs / "flags.md").read_text(encoding="utf-8")
    jobfile_md = (docs / "jobfile.md").read_text(encoding="utf-8")
    for rule in RULES:
        section = flags_md.split(f"### `{rule.name}`", 1)[1].split("\n### ", 1)[0]
        assert f"[flags.{rule.name}]" in section
        assert f"`{rule.name}`" in jobfile_md
        for param in rule.parameters:
            default = param.default
            shown = ("[" + ", ".join(f'"{v}"' for v in default) + "]"
                     if isinstance(default, tuple) else str(default))
            assert f"| `{param.name}` | `{shown}` |" in section, (rule.name, param.name)
