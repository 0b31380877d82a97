"""Each flag rule on a hand-built family: one case that must fire, the near misses that must not."""

from __future__ import annotations

import duckdb
import pytest
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.models import build_models
from famlink.models.graph import adults_around, read_family_graph


def family(*, man_in_police: bool = True) -> LinkageDB:
    """Amy (mother, CSC + health) and baby Ben (born 2026-05-01, CSC + health) at UPRN 100."""
    db = LinkageDB()
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pmum", "health", "H1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.person("Pkid", "health", "H2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.relationship("csc", "C2", "C1", "mother")
    db.relationship("health", "H2", "H1", "mother")
    if man_in_police:
        db.person("Pman", "police", "PL1", "Joe Bloggs", dob="1990-01-01", sex="male")
        db.person("Pmum", "police", "PL2", "Amy Hall", dob="1995-02-01", sex="female")
    return db


def run(db: LinkageDB, **options) -> duckdb.DuckDBPyConnection:
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE, **options)
    # every flag explains itself and has evidence naming a record
    assert not con.execute(
        """SELECT flag_key FROM flags f WHERE explanation IS NULL OR link_probability IS NULL
           OR NOT EXISTS (SELECT 1 FROM flag_evidence e WHERE e.flag_key = f.flag_key
                          AND e.part <> 'context' AND e.source IS NOT NULL
                          AND e.record_id IS NOT NULL)"""
    ).fetchall()
    return con


def flag_keys(con: duckdb.DuckDBPyConnection, flag_type: str | None = None) -> set[str]:
    rows = con.execute(
        "SELECT flag_key FROM flags WHERE ? IS NULL OR flag_type = ?", [flag_type, flag_type]
    ).fetchall()
    return {r[0] for r in rows}


# -- unrecorded_male_carer ------------------------------------------------------------------


def test_police_partner_of_the_mother_unknown_to_csc_and_health_raises_the_flag() -> None:
    db = family()
    db.relationship("police", "PL2", "PL1", "partner")
    con = run(db)
    assert "unrecorded_male_carer:Pkid:Pman" in flag_keys(con)
    explanation, p = con.execute(
        "SELECT explanation, link_probability FROM flags WHERE flag_key = 'unrecorded_male_carer:Pkid:Pman'"
    ).fetchone()
    assert "Joe Bloggs" in explanation and "partner of the child's mother" in explanation
    evidence = con.execute(
        """SELECT agency, source, record_id, related_record_id, relationship, part
           FROM flag_evidence WHERE flag_key = 'unrecorded_male_carer:Pkid:Pman'"""
    ).fetchall()
    assert ("Police", "police", "PL2", "PL1", "partner", "role") in evidence
    assert p == 1.0


def test_a_man_csc_records_as_the_mothers_partner_does_not_raise_it() -> None:
    db = family()
    db.relationship("police", "PL2", "PL1", "partner")
    db.person("Pman", "csc", "C9", "Joe Bloggs", dob="1990-01-01", sex="male")
    db.relationship("csc", "C1", "C9", "partner")
    con = run(db)
    assert not flag_keys(con, "unrecorded_male_carer")
    assert not flag_keys(con, "father_not_recorded")  # a male partner of the mother is recorded


def test_a_man_health_records_as_carer_of_the_mothers_other_child_does_not_raise_it() -> None:
    db = family(man_in_police=False)
    db.person("Pman", "housing", "HO1", "Joe Bloggs", dob="1990-01-01", sex="male", uprn="100")
    db.person("Pman", "health", "H9", "Joe Bloggs", dob="1990-01-01", sex="male")
    db.person("Psib", "health", "H3", "Cat Hall", dob="2020-01-01", sex="female")
    db.relationship("health", "H3", "H1", "mother")
    db.relationship("health", "H3", "H9", "carer")
    con = run(db)
    assert not flag_keys(con, "unrecorded_male_carer")


def test_a_man_living_at_the_address_inside_the_window_raises_it_by_co_residence() -> None:
    db = family(man_in_police=False)
    db.person(
        "Pman",
        "housing",
        "HO1",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        uprn="100",
        address_from="2025-06-01",
    )
    con = run(db)
    assert "unrecorded_male_carer:Pkid:Pman" in flag_keys(con)
    items = con.execute(
        "SELECT kind, source, record_id FROM flag_evidence WHERE flag_key = 'unrecorded_male_carer:Pkid:Pman'"
    ).fetchall()
    # the residence records of the man and of Ben at UPRN 100, each once: living at the
    # child's address, he is not also listed (with the same records) at the mother's
    assert {kind for kind, _, _ in items} == {"residence"}
    assert ("housing", "HO1") in {(s, r) for _, s, r in items}
    assert len(items) == len(set(items))
    explanation = con.execute(
        "SELECT explanation FROM flags WHERE flag_key = 'unrecorded_male_carer:Pkid:Pman'"
    ).fetchone()[0]
    assert "living at the child's address" in explanation
    assert "mother's address" not in explanation


def test_a_man_at_the_mothers_address_raises_it_when_the_child_has_no_address_on_record() -> None:
    db = LinkageDB()
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male")
    db.relationship("csc", "C2", "C1", "mother")
    db.person("Pman", "housing", "HO1", "Joe Bloggs", dob="1990-01-01", sex="male", uprn="100",
              address_from="2025-06-01")
    con = run(db)
    key = "unrecorded_male_carer:Pkid:Pman"
    assert key in flag_keys(con)
    items = con.execute(
        "SELECT kind, source, record_id, related_record_id FROM flag_evidence WHERE flag_key = ?", [key]
    ).fetchall()
    # why he counts: he lives at Amy's address, and CSC records Amy as Ben's mother
    assert ("relationship", "csc", "C2", "C1") in items
    assert ("residence", "housing", "HO1", None) in items
    assert "mother's address" in con.execute(
        "SELECT explanation FROM flags WHERE flag_key = ?", [key]
    ).fetchone()[0]


def test_a_man_at_the_address_only_before_the_window_does_not_raise_it() -> None:
    db = family(man_in_police=False)
    db.person(
        "Pmum",
        "housing",
        "HO2",
        "Amy Hall",
        dob="1995-02-01",
        sex="female",
        uprn="100",
        address_from="2019-01-01",
    )
    db.person(
        "Pman",
        "housing",
        "HO1",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        uprn="100",
        address_from="2020-01-01",
        address_to="2025-08-31",
    )
    con = run(db)
    assert not flag_keys(con, "unrecorded_male_carer")
    # ...but a longer window reaches him, through the mother's tenancy
    con = run(db, co_residence_window_months=24)
    assert "unrecorded_male_carer:Pkid:Pman" in flag_keys(con)


def test_a_boy_under_16_at_the_address_does_not_raise_it() -> None:
    db = family(man_in_police=False)
    db.person("Pboy", "housing", "HO1", "Sam Hall", dob="2012-01-01", sex="male", uprn="100")
    con = run(db)
    assert not flag_keys(con, "unrecorded_male_carer")


def test_co_residence_by_postcode_and_address_where_a_source_has_no_uprn() -> None:
    db = LinkageDB()
    db.person(
        "Pmum",
        "csc",
        "C1",
        "Amy Hall",
        dob="1995-02-01",
        sex="female",
        postcode="AB1 2CD",
        address="1 High Street",
    )
    db.person(
        "Pkid",
        "csc",
        "C2",
        "Ben Hall",
        dob="2026-05-01",
        sex="male",
        postcode="AB1 2CD",
        address="1 High Street",
    )
    db.relationship("csc", "C2", "C1", "mother")
    db.person(
        "Pman",
        "police",
        "PL1",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        postcode="AB1 2CD",
        address="1 High Street",
    )
    db.person(
        "Pother",
        "police",
        "PL3",
        "Tom Jones",
        dob="1990-01-01",
        sex="male",
        postcode="AB1 2CD",
        address="3 High Street",
    )
    con = run(db)
    assert flag_keys(con, "unrecorded_male_carer") == {"unrecorded_male_carer:Pkid:Pman"}


# -- unrecorded_non_birthing_partner --------------------------------------------------------


def test_a_female_partner_of_the_birth_mother_unknown_to_primary_sources_raises_it() -> None:
    db = family(man_in_police=False)
    db.person("Ppartner", "police", "PL5", "Jo Smith", dob="1992-01-01", sex="female")
    db.person("Pmum", "police", "PL2", "Amy Hall", dob="1995-02-01", sex="female")
    db.relationship("police", "PL2", "PL5", "partner")
    con = run(db)
    assert flag_keys(con, "unrecorded_non_birthing_partner") == {
        "unrecorded_non_birthing_partner:Pkid:Ppartner"
    }
    assert not flag_keys(con, "unrecorded_male_carer")


def test_a_female_partner_recorded_by_csc_does_not_raise_it() -> None:
    db = family(man_in_police=False)
    db.person("Ppartner", "csc", "C5", "Jo Smith", dob="1992-01-01", sex="female")
    db.relationship("csc", "C1", "C5", "partner")
    con = run(db)
    assert not flag_keys(con, "unrecorded_non_birthing_partner")


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


# -- adult_risk_history ---------------------------------------------------------------------


def with_partner() -> LinkageDB:
    db = family()
    db.relationship("police", "PL2", "PL1", "partner")
    return db


def test_the_mothers_partner_as_domestic_abuse_suspect_raises_it() -> None:
    db = with_partner()
    db.event("police", "PL1", "2026-02-01", "domestic_abuse", role="suspect")
    db.event("police", "PL2", "2026-02-01", "domestic_abuse", role="victim")
    con = run(db)
    assert flag_keys(con, "adult_risk_history") == {"adult_risk_history:Pkid:Pman"}


def test_a_domestic_abuse_victim_does_not_raise_it() -> None:
    db = with_partner()
    db.event("police", "PL1", "2026-02-01", "domestic_abuse", role="victim")
    db.event("police", "PL2", "2026-02-01", "domestic_abuse", role="suspect")
    con = run(db)
    # the mother was the suspect: she is a parent, so the flag is hers, not his
    assert flag_keys(con, "adult_risk_history") == {"adult_risk_history:Pkid:Pmum"}


def test_a_mental_health_referral_alone_does_not_raise_it_but_is_in_the_chronology() -> None:
    db = with_partner()
    db.event("police", "PL1", "2025-11-01", "mental_health_referral", summary="low mood")
    con = run(db)
    assert not flag_keys(con, "adult_risk_history")
    assert con.execute(
        """SELECT relation_to_child FROM chronology
           WHERE child_person_id = 'Pkid' AND event_type = 'mental_health_referral'"""
    ).fetchall() == [("partner_of_mother",)]


def test_a_witness_to_an_offence_does_not_raise_it_an_offender_does() -> None:
    db = with_partner()
    db.event("police", "PL1", "2025-11-01", "offence", role="witness")
    assert not flag_keys(run(db), "adult_risk_history")
    db.event("police", "PL1", "2025-12-01", "offence", role="suspect")
    assert flag_keys(run(db), "adult_risk_history") == {"adult_risk_history:Pkid:Pman"}


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


# -- partnerships in time -------------------------------------------------------------------


def housing_partner(start: str, end: str | None) -> LinkageDB:
    """Housing: Amy is the lead tenant, Joe her partner on the tenancy from `start` to `end`."""
    db = family(man_in_police=False)
    db.person(
        "Pmum",
        "housing",
        "T1/1",
        "Amy Hall",
        dob="1995-02-01",
        sex="female",
        uprn="200",
        address_from="2015-01-01",
        address_to=end,
    )
    db.person(
        "Pman",
        "housing",
        "T1/2",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        uprn="200",
        address_from=start,
        address_to=end,
    )
    db.relationship("housing", "T1/1", "T1/2", "partner", origin="people_file")  # undated
    return db


def test_a_past_partner_who_left_before_the_child_was_conceived_is_not_around_them() -> None:
    con = run(housing_partner("2016-01-01", "2020-06-30"))  # Ben born 2026-05-01
    assert not flag_keys(con, "unrecorded_male_carer")
    dates = con.execute(
        """SELECT start_date, end_date FROM relationships_resolved
           WHERE person_id = 'Pmum' AND related_person_id = 'Pman' AND relationship = 'partner'"""
    ).fetchone()
    assert [str(d) for d in dates] == ["2016-01-01", "2020-06-30"]  # from the tenancy records


def test_a_past_partner_at_the_time_of_the_birth_is_around_the_child() -> None:
    con = run(
        housing_partner("2016-01-01", "2025-08-31")
    )  # left before the window, after conception
    assert flag_keys(con, "unrecorded_male_carer") == {"unrecorded_male_carer:Pkid:Pman"}
    graph = read_family_graph(con, "Pkid")
    assert adults_around(graph, "Pkid")["Pman"] == ["partner_of_mother"]


def test_a_woman_education_records_as_the_childs_parent_is_a_non_birthing_partner() -> None:
    db = family(man_in_police=False)
    db.person("Pkid", "education", "E1", "Ben Hall", dob="2026-05-01", sex="male")
    db.person("Pjo", "education", "E2", "Jo Smith", dob="1992-01-01", sex="female")
    db.relationship("education", "E1", "E2", "parent")
    con = run(db)
    assert flag_keys(con, "unrecorded_non_birthing_partner") == {
        "unrecorded_non_birthing_partner:Pkid:Pjo"
    }


def test_a_male_household_member_recorded_by_csc_counts_as_a_recorded_male_carer() -> None:
    db = family()
    db.person("Pman", "csc", "C9", "Joe Bloggs", dob="1990-01-01", sex="male")
    db.relationship("csc", "C2", "C9", "household_member")
    con = run(db)
    assert not flag_keys(con, "father_not_recorded")
    assert not flag_keys(con, "unrecorded_male_carer")
