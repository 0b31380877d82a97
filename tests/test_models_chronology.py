"""Chronologies: who is in them, in what order, with which provenance; and their Markdown."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.models import build_models
from famlink.models.chronology import render_markdown


@pytest.fixture(scope="module")
def family_with_history() -> duckdb.DuckDBPyConnection:
    """Built once for the module: the tests only read it."""
    db = LinkageDB()
    db.person(
        "Pmum",
        "csc",
        "C1",
        "Amy Hall",
        dob="1995-02-01",
        sex="female",
        uprn="100",
        address_from="2023-01-01",
    )
    db.person(
        "Pkid",
        "health",
        "H2",
        "Ben Hall",
        dob="2026-03-01",
        sex="male",
        uprn="100",
        address_from="2026-03-01",
    )
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-03-01", sex="male")
    db.person("Psib", "csc", "C3", "Cat Hall", dob="2019-06-01", sex="female")
    db.person(
        "Pman",
        "housing",
        "HO1",
        "Joe Bloggs",
        dob="1990-01-01",
        sex="male",
        uprn="100",
        address_from="2025-11-15",
    )
    db.person("Pstranger", "police", "PL9", "Tom Jones", dob="1980-01-01", sex="male")
    db.relationship("csc", "C2", "C1", "mother")
    db.relationship("csc", "C3", "C1", "mother")
    db.event("csc", "C3", "2021-05-05", "cp_plan", summary="Plan: emotional abuse")
    db.event("csc", "C1", "2024-02-02", "assessment", summary="Single assessment")
    db.event("housing", "HO1", "2026-01-10", "other", summary="Rent arrears")
    db.event("health", "H2", "2026-04-01", "missed_appointment", summary="Missed 6-week check")
    db.event("police", "PL9", "2026-02-02", "offence", role="suspect")
    db.link(("csc", "C2"), ("health", "H2"), 0.91)
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE)
    return con


def chronology(con, child: str) -> list[tuple]:
    return con.execute(
        """SELECT entry_no, event_date, person_id, relation_to_child, relation_basis, entry_kind,
                  event_type, source, record_id, link_probability
           FROM chronology WHERE child_person_id = ? ORDER BY entry_no""",
        [child],
    ).fetchall()


def test_chronology_merges_the_events_of_siblings_parents_and_unrecorded_adults_in_date_order(
    family_with_history: duckdb.DuckDBPyConnection,
) -> None:
    rows = chronology(family_with_history, "Pkid")
    dates = [r[1] for r in rows]
    assert dates == sorted(dates)
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    events = {(r[2], r[6]): r for r in rows if r[5] == "event"}
    assert events[("Psib", "cp_plan")][3:5] == ("sibling", "derived")
    assert events[("Pmum", "assessment")][3:5] == ("mother", "recorded")
    assert events[("Pman", "other")][3:5] == ("co_resident", "inferred")
    assert events[("Pkid", "missed_appointment")][3] == "self"
    assert not any(r[2] == "Pstranger" for r in rows)


def test_chronology_records_family_composition_changes(
    family_with_history: duckdb.DuckDBPyConnection,
) -> None:
    rows = chronology(family_with_history, "Pkid")
    composition = {(r[6], r[2], r[1]) for r in rows if r[5] == "composition"}
    assert ("sibling_birth", "Psib", date(2019, 6, 1)) in composition
    assert ("new_co_resident", "Pman", date(2025, 11, 15)) in composition
    assert ("address_move", "Pkid", date(2026, 3, 1)) in composition


def test_a_man_who_moved_in_with_the_mother_before_the_child_shows_both_moves() -> None:
    db = LinkageDB()
    # Amy at UPRN 200 until the end of 2025, then at UPRN 100 with baby Ben
    db.person("Pmum", "housing", "HM1", "Amy Hall", dob="1995-02-01", sex="female",
              uprn="200", address_from="2023-01-01", address_to="2025-12-31")
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female",
              uprn="100", address_from="2026-01-01")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-03-01", sex="male",
              uprn="100", address_from="2026-03-01")
    db.relationship("csc", "C2", "C1", "mother")
    # Joe joins her at 200, then moves with the family to 100
    db.person("Pman", "police", "PL1", "Joe Bloggs", dob="1990-01-01", sex="male",
              uprn="200", address_from="2025-10-01", address_to="2025-12-31")
    db.person("Pman", "gp", "G1", "Joe Bloggs", dob="1990-01-01", sex="male",
              uprn="100", address_from="2026-03-01")
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE)
    moves = {(r[1], r[8]) for r in chronology(con, "Pkid") if r[6] == "new_co_resident"}
    assert moves == {(date(2025, 10, 1), "PL1"), (date(2026, 3, 1), "G1")}
    # the flag's evidence rests on the child's own address (no record listed twice)
    items = con.execute(
        "SELECT source, record_id FROM flag_evidence WHERE flag_key = 'unrecorded_male_carer:Pkid:Pman'"
    ).fetchall()
    assert ("gp", "G1") in items and len(items) == len(set(items))


def test_chronology_entries_carry_provenance_and_link_probability(
    family_with_history: duckdb.DuckDBPyConnection,
) -> None:
    rows = chronology(family_with_history, "Pkid")
    own = [r for r in rows if r[2] == "Pkid" and r[6] == "missed_appointment"][0]
    assert own[7:] == ("health", "H2", 0.91)
    assert all(r[7] and r[8] for r in rows)


def test_markdown_escapes_table_characters() -> None:
    text = render_markdown(
        {"person_id": "P1", "display_name": "Ben"},
        [
            {
                "event_date": date(2026, 1, 1),
                "agency": "Police",
                "source": "police",
                "record_id": "X|1",
                "person_name": "A",
                "relation_to_child": "self",
                "relation_basis": "recorded",
                "event_type": "other",
                "role": None,
                "summary": "line one\nline | two",
                "link_probability": 1.0,
            }
        ],
    )
    assert "X\\|1" in text and "line one line \\| two" in text
