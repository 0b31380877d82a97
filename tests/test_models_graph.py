"""The family graph: reciprocity, recorded vs inferred kept apart, siblings through either
parent, households, families, and the graph functions agreeing with the SQL rules."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.models import build_models
from famlink.models.graph import (
    adults_around,
    edges_by_basis,
    family_graph,
    household_at,
    read_family_graph,
    siblings_of,
)


@pytest.fixture(scope="module")
def blended_family() -> duckdb.DuckDBPyConnection:
    """Mum has Ann with Dad1 and Ben with Dad2; Dad2 has Cal with another woman.
    Ann and Ben share only the mother; Ben and Cal share only the father.
    Built once for the module: the tests only read it."""
    db = LinkageDB()
    db.person(
        "Pmum",
        "csc",
        "C1",
        "Amy Hall",
        dob="1995-02-01",
        sex="female",
        uprn="100",
        address_from="2024-01-01",
    )
    db.person("Pdad1", "csc", "C2", "Dan Ford", dob="1990-01-01", sex="male")
    db.person(
        "Pdad2",
        "police",
        "PL1",
        "Joe Bloggs",
        dob="1991-01-01",
        sex="male",
        uprn="100",
        address_from="2025-03-01",
    )
    db.person(
        "Pann",
        "csc",
        "C3",
        "Ann Ford",
        dob="2016-01-01",
        sex="female",
        uprn="100",
        address_from="2024-01-01",
    )
    db.person(
        "Pben",
        "csc",
        "C4",
        "Ben Hall",
        dob="2025-12-01",
        sex="male",
        uprn="100",
        address_from="2025-12-01",
    )
    db.person("Pben", "police", "PL2", "Ben Hall", dob="2025-12-01", sex="male")
    db.person("Pcal", "police", "PL3", "Cal Green", dob="2012-01-01", sex="male")
    db.person("Pout", "police", "PL9", "Nobody Related", dob="1970-01-01", sex="male")
    db.relationship("csc", "C3", "C1", "mother")
    db.relationship("csc", "C3", "C2", "father")
    db.relationship("csc", "C4", "C1", "mother")
    # police: "Ben is Joe's child" (recorded from the father's side)
    db.relationship("police", "PL1", "PL2", "child")
    db.relationship("police", "PL3", "PL1", "father")
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE)
    return con


def edges(con, a: str, b: str) -> set[tuple[str, str]]:
    return set(
        con.execute(
            "SELECT relationship, basis FROM relationships_resolved WHERE person_id = ? AND related_person_id = ?",
            [a, b],
        ).fetchall()
    )


def test_every_recorded_relationship_has_its_reciprocal(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    assert edges(con, "Pann", "Pmum") == {("mother", "recorded"), ("co_resident", "inferred")}
    assert edges(con, "Pmum", "Pann") == {("child", "reciprocal"), ("co_resident", "inferred")}
    # "Ben is Joe's child" gives "Joe is Ben's father" (Joe is male)
    assert ("father", "reciprocal") in edges(con, "Pben", "Pdad2")
    unmatched = con.execute(
        """SELECT count(*) FROM relationships_resolved a WHERE basis = 'recorded'
           AND NOT EXISTS (SELECT 1 FROM relationships_resolved b WHERE b.basis = 'reciprocal'
               AND b.person_id = a.related_person_id AND b.related_person_id = a.person_id
               AND b.source = a.source)"""
    ).fetchone()[0]
    assert unmatched == 0


def test_half_siblings_are_derived_through_either_parent(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    assert ("half_sibling", "derived") in edges(con, "Pann", "Pben")  # via the mother
    assert ("half_sibling", "derived") in edges(con, "Pben", "Pcal")  # via the father
    assert edges(con, "Pann", "Pcal") == set()  # no shared parent, never at one address
    evidence = con.execute(
        """SELECT via_person_id, record_id FROM relationship_evidence WHERE person_id = 'Pben'
           AND related_person_id = 'Pcal'"""
    ).fetchall()
    assert {via for via, _ in evidence} == {"Pdad2"}
    assert {record_id for _, record_id in evidence} == {"PL1", "PL3"}


def test_inferred_co_residence_is_kept_apart_from_recorded_relationships(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    rows = con.execute(
        """SELECT relationship, basis, source FROM relationships_resolved
           WHERE person_id = 'Pben' AND related_person_id = 'Pdad2' ORDER BY ALL"""
    ).fetchall()
    assert rows == [("co_resident", "inferred", None), ("father", "reciprocal", "police")]
    graph = read_family_graph(con, "Pben")
    assert ("Pben", "Pdad2", "co_resident") in edges_by_basis(graph, "inferred")
    assert ("Pben", "Pdad2", "co_resident") not in edges_by_basis(graph, "recorded")
    assert graph.number_of_edges("Pben", "Pdad2") == 2


def test_families_are_connected_components_and_unrelated_people_stand_alone(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    families = dict(
        con.execute(
            "SELECT family_id, list(person_id ORDER BY person_id) FROM families GROUP BY ALL"
        ).fetchall()
    )
    assert sorted(families.values()) == [
        ["Pann", "Pben", "Pcal", "Pdad1", "Pdad2", "Pmum"],
        ["Pout"],
    ]
    assert all(f.startswith("F") and len(f) == 13 for f in families)


def test_households_hold_the_people_at_an_address_in_the_window(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    rows = con.execute(
        "SELECT person_id, date_from FROM households WHERE address_key = 'uprn:100' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("Pann", date(2025, 9, 30)),
        ("Pben", date(2025, 12, 1)),
        ("Pdad2", date(2025, 9, 30)),
        ("Pmum", date(2025, 9, 30)),
    ]


def test_household_at_a_date_follows_the_recorded_periods(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    graph = read_family_graph(blended_family, "Pben")
    assert household_at(graph, "Pann", date(2024, 6, 1)) == {"uprn:100": ["Pmum"]}
    assert household_at(graph, "Pann", date(2026, 1, 1)) == {"uprn:100": ["Pben", "Pdad2", "Pmum"]}
    assert household_at(graph, "Pcal", date(2026, 1, 1)) == {}


def test_graph_functions_agree_with_the_flag_rules(
    blended_family: duckdb.DuckDBPyConnection,
) -> None:
    con = blended_family
    graph = read_family_graph(con, "Pben")
    assert siblings_of(graph, "Pben") == {"Pann": "half_sibling", "Pcal": "half_sibling"}
    around = adults_around(graph, "Pann")
    # at Ann's own address, so not also listed as at her mother's (the same records)
    assert around["Pdad2"] == ["co_resident"]
    assert "Pben" not in around  # a sibling at the address is not an adult around her
    flagged = {
        a
        for (a,) in con.execute(
            "SELECT adult_person_id FROM flags WHERE flag_type = 'unrecorded_male_carer' AND child_person_id = 'Pann'"
        ).fetchall()
    }
    assert flagged == {"Pdad2"} and flagged <= set(around)


def test_family_graph_from_rows_keeps_parallel_edges_by_basis_and_source() -> None:
    graph = family_graph(
        [{"person_id": "A"}, {"person_id": "B"}],
        [
            {
                "person_id": "A",
                "related_person_id": "B",
                "relationship": "mother",
                "basis": "recorded",
                "source": "csc",
            },
            {
                "person_id": "A",
                "related_person_id": "B",
                "relationship": "mother",
                "basis": "recorded",
                "source": "health",
            },
            {
                "person_id": "A",
                "related_person_id": "B",
                "relationship": "co_resident",
                "basis": "inferred",
            },
        ],
        reference_date=REFERENCE_DATE,
    )
    assert graph.number_of_edges("A", "B") == 3
