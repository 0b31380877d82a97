"""The rules whose flags name an adult, on a hand-built family: one case that must fire, the
near misses that must not."""

from __future__ import annotations

from flags_fixtures import family, flag_keys, run, with_partner
from models_fixtures import LinkageDB

from famlink.models.graph import adults_around, read_family_graph

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


# -- adult_risk_history ---------------------------------------------------------------------



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
