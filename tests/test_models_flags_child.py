"""The rules about the child alone, on a hand-built family: one case that must fire, the
near misses that must not; and what holds for every rule (scope, determinism)."""

from __future__ import annotations

import pytest
from flags_fixtures import family, flag_keys, run, with_partner
from models_fixtures import LinkageDB

# -- father_not_recorded --------------------------------------------------------------------


def test_father_not_recorded_fires_without_a_primary_father_and_not_with_one() -> None:
    con = run(family())
    assert flag_keys(con, "father_not_recorded") == {"father_not_recorded:Pkid"}
    assert (
        con.execute(
            "SELECT count(*) FROM flag_evidence WHERE flag_key = 'father_not_recorded:Pkid' AND part = 'absence'"
        ).fetchone()[0]
        == 2
    )  # the child's CSC and health records were both checked

    db = family()
    db.person("Pdad", "health", "H7", "Joe Bloggs", dob="1990-01-01", sex="male")
    db.relationship("health", "H2", "H7", "father")
    assert not flag_keys(run(db), "father_not_recorded")


def test_a_father_recorded_only_by_the_police_still_leaves_father_not_recorded() -> None:
    db = family()
    db.person("Pkid", "police", "PL4", "Ben Hall", dob="2026-05-01", sex="male")
    db.relationship("police", "PL4", "PL1", "father")
    con = run(db)
    assert "father_not_recorded:Pkid" in flag_keys(con)
    assert "unrecorded_male_carer:Pkid:Pman" in flag_keys(con)


# -- sibling_safeguarding_history -----------------------------------------------------------


def test_a_half_sibling_through_the_father_in_another_family_with_a_cp_plan_raises_it() -> None:
    db = family()
    db.person("Pkid", "police", "PL4", "Ben Hall", dob="2026-05-01", sex="male")
    db.relationship("police", "PL4", "PL1", "father")
    # the father's child with another woman, known to CSC, had a child protection plan
    db.person("Phalf", "csc", "C20", "Lee Green", dob="2015-03-03", sex="male")
    db.person("Pother", "csc", "C21", "Kim Green", dob="1990-03-03", sex="female")
    db.person("Pman", "csc", "C22", "Joe Bloggs", dob="1990-01-01", sex="male")
    db.relationship("csc", "C20", "C21", "mother")
    db.relationship("csc", "C20", "C22", "father")
    db.event("csc", "C20", "2019-04-01", "cp_plan", summary="CP plan: neglect")
    con = run(db)
    assert "sibling_safeguarding_history:Pkid" in flag_keys(con)
    rel = con.execute(
        "SELECT relationship FROM relationships_resolved WHERE person_id = 'Pkid' AND related_person_id = 'Phalf'"
    ).fetchone()[0]
    assert rel == "half_sibling"
    events = con.execute(
        """SELECT source, record_id, event_type, date_from FROM flag_evidence
           WHERE flag_key = 'sibling_safeguarding_history:Pkid' AND part = 'trigger'"""
    ).fetchall()
    assert [(s, r, t, str(d)) for s, r, t, d in events] == [("csc", "C20", "cp_plan", "2019-04-01")]


def test_a_sibling_with_only_a_referral_does_not_raise_it() -> None:
    db = family()
    db.person("Psib", "csc", "C3", "Cat Hall", dob="2018-01-01", sex="female")
    db.relationship("csc", "C3", "C1", "mother")
    db.event("csc", "C3", "2021-01-01", "referral")
    assert not flag_keys(run(db), "sibling_safeguarding_history")
    db.event("csc", "C3", "2022-01-01", "looked_after")
    assert flag_keys(run(db), "sibling_safeguarding_history") == {
        "sibling_safeguarding_history:Pkid"
    }


# -- non_mobile_injury ----------------------------------------------------------------------


def test_bruising_under_six_months_raises_it_with_the_household_at_that_date() -> None:
    db = family(man_in_police=False)
    db.person(
        "Pman",
        "housing",
        "HO1",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        uprn="100",
        address_from="2026-01-01",
    )
    db.event("health", "H2", "2026-09-20", "injury", summary="Bruise to cheek")
    con = run(db)
    assert flag_keys(con, "non_mobile_injury") == {"non_mobile_injury:Pkid"}
    household = {
        r[0]
        for r in con.execute(
            "SELECT person_id FROM flag_evidence WHERE flag_key = 'non_mobile_injury:Pkid' AND part = 'context'"
        ).fetchall()
    }
    assert household == {"Pmum", "Pman"}


def test_an_injury_after_the_age_limit_does_not_raise_it() -> None:
    db = family()
    db.event("health", "H2", "2026-09-20", "injury")
    assert flag_keys(run(db, non_mobile_age_months=4), "non_mobile_injury") == set()


# -- neglect_without_gcp2 -------------------------------------------------------------------


def test_neglect_without_gcp2_fires_until_a_gcp2_is_recorded() -> None:
    db = family()
    db.event("csc", "C2", "2026-07-01", "neglect_concern")
    assert flag_keys(run(db), "neglect_without_gcp2") == {"neglect_without_gcp2:Pkid"}
    db.event("csc", "C2", "2026-08-01", "gcp2_assessment")
    assert not flag_keys(run(db), "neglect_without_gcp2")


# -- scope, determinism ---------------------------------------------------------------------


def test_children_only_in_non_primary_sources_get_no_flags() -> None:
    db = LinkageDB()
    db.person("Pkid", "police", "PL1", "Ben Hall", dob="2020-05-01", sex="male")
    db.event("police", "PL1", "2026-07-01", "neglect_concern")
    con = run(db)
    assert not flag_keys(con)


@pytest.mark.parametrize("order", [1, -1])
def test_flag_keys_and_evidence_are_the_same_whatever_the_input_order(order: int) -> None:
    db = with_partner()
    db.event("police", "PL1", "2026-02-01", "domestic_abuse", role="suspect")
    db.event("csc", "C2", "2026-07-01", "neglect_concern")
    reference = run(db)
    db.records, db.rels, db.evs = db.records[::order], db.rels[::order], db.evs[::order]
    again = run(db)
    query = "SELECT flag_key, item_no, record_id, description FROM flag_evidence ORDER BY ALL"
    assert reference.execute(query).fetchall() == again.execute(query).fetchall()
    assert (
        flag_keys(reference)
        == flag_keys(again)
        == {
            "adult_risk_history:Pkid:Pman",
            "father_not_recorded:Pkid",
            "neglect_without_gcp2:Pkid",
            "unrecorded_male_carer:Pkid:Pman",
        }
    )
