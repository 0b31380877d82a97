"""Cannot-link rules: each fires on the pair it is about and not on everyday recording
variation (a typo in a date, a middle name, a nickname, an initial, a swapped surname, a
shared identifier); each can be switched off; a source's own person id makes one person;
`famlink explain` says which rule kept two persons apart."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from famlink.linkage import cannot_link, persons, review
from famlink.linkage.cannot_link import CannotLinkSettings, read_settings
from famlink.linkage.errors import JobFileError
from famlink.linkage.explain import why_apart
from famlink.linkage.jobfile import load_job

COLUMNS = {
    "source": "VARCHAR", "record_id": "VARCHAR", "first_name_clean": "VARCHAR",
    "first_name_canonical": "VARCHAR", "middle_names_clean": "VARCHAR", "surname_clean": "VARCHAR",
    "dob": "DATE", "nhs_number": "VARCHAR", "other_forenames": "VARCHAR[]",
    "other_surnames": "VARCHAR[]", "source_person_id": "VARCHAR", "id_ni_number": "VARCHAR",
}


def record(record_id: str, first: str | None, surname: str, dob: str | None, *, source: str = "s",
           canonical: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"source": source, "record_id": record_id, "first_name_clean": first,
            "first_name_canonical": canonical or (first.split()[0] if first else None),
            "surname_clean": surname, "dob": date.fromisoformat(dob) if dob else None, **extra}


def database(records: list[dict[str, Any]], relationships: tuple[tuple[str, str, str, str], ...] = (),
             *, path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path)
    con.execute("CREATE TABLE source_records (" + ", ".join(f"{c} {t}" for c, t in COLUMNS.items()) + ")")
    for r in records:
        con.execute(f"INSERT INTO source_records ({', '.join(r)}) VALUES ({', '.join('?' * len(r))})",
                    list(r.values()))
    con.execute("CREATE TABLE relationships (source VARCHAR, record_id VARCHAR, "
                "related_record_id VARCHAR, relationship VARCHAR)")
    for row in relationships:
        con.execute("INSERT INTO relationships VALUES (?, ?, ?, ?)", list(row))
    return con


def forbidden(records: list[dict[str, Any]], *, relationships: tuple[tuple[str, str, str, str], ...] = (),
              rules: tuple[cannot_link.CannotLinkRule, ...] = cannot_link.RULES,
              outside: tuple[dict[str, Any], ...] = ()) -> set[str]:
    """The rules that forbid ``records`` to be one person (``outside``: other people's
    records, in ``source_records`` but not in the group)."""
    con = database([*records, *outside], relationships)
    con.execute("CREATE TABLE groups (person_id VARCHAR, source VARCHAR, record_id VARCHAR)")
    con.executemany("INSERT INTO groups VALUES ('g', ?, ?)", [[r["source"], r["record_id"]] for r in records])
    sql = cannot_link.forbidden_pairs_sql("groups", cannot_link.columns_of(con), rules)
    return {rule for (rule,) in con.execute(f"SELECT DISTINCT rule FROM ({sql})").fetchall()}  # noqa: S608


# --- each rule fires, and does not fire, on hand-made pairs ------------------------------------


def test_two_different_nhs_numbers_are_two_people() -> None:
    a = record("1", "ann", "lee", "2001-02-03", nhs_number="4010232137")
    assert forbidden([a, record("2", "ann", "lee", "2001-02-03", nhs_number="9434765919")]) == {
        "different_nhs_numbers"}
    assert forbidden([a, record("2", "ann", "lee", "2001-02-03", nhs_number="4010232137")]) == set()


def test_records_an_agency_relates_are_two_people() -> None:
    mother, child = record("m", "ann", "lee", None), record("c", "ann", "lee", None)
    assert forbidden([mother, child], relationships=(("s", "c", "m", "mother"),)) >= {"related"}
    assert forbidden([mother, child]) == set()


def test_one_persons_partner_and_that_persons_son_are_two_people() -> None:
    # a housing tenancy: the lead tenant's partner and her son, both "Mateo Thompson", the
    # son's row without a date of birth (the messy sample's father/son merge)
    tenant = record("T/1", "ana", "thompson", "1976-05-01")
    father, son = record("T/2", "mateo", "thompson", "1975-02-28"), record("T/3", "mateo", "thompson", None)
    rels = (("s", "T/1", "T/2", "partner"), ("s", "T/1", "T/3", "child"))
    assert forbidden([father, son], relationships=rels, outside=(tenant,)) == {"related"}
    # two of her children are not kept apart by it (an agency may list one child twice)
    twice = (("s", "T/1", "T/2", "child"), ("s", "T/1", "T/3", "child"))
    assert forbidden([father, son], relationships=twice, outside=(tenant,)) == set()


def test_a_named_parent_is_not_someone_born_after_the_child_less_twelve_years() -> None:
    child = record("c", "jay", "lee", "2015-01-01")
    father_row = record("f", "jay", "lee", None, source="edu")
    rows = (("edu", "c2", "f", "father"),)
    child_at_school = record("c2", "jay", "lee", "2015-01-01", source="edu")
    # the father's undated contact row with the son's own (dated) record
    assert "parent_age" in forbidden([child, father_row, child_at_school], relationships=rows)
    # the father's contact row with a man born 35 years before the child: no rule
    older = record("g", "jay", "lee", "1980-06-01")
    assert forbidden([father_row, older], relationships=rows, outside=(child_at_school,)) == set()
    young = record("y", "jay", "lee", "2005-06-01")
    assert forbidden([father_row, young], relationships=rows, outside=(child_at_school,)) == {"parent_age"}


@pytest.mark.parametrize("relationship", [
    # the related record is the grandparent of the record, or the record the grandparent
    # of its related record ("grandchild"): both read the same way
    ("edu", "c2", "g", "grandparent"),
    ("edu", "g", "c2", "grandchild"),
])
def test_a_named_grandparent_is_not_someone_born_after_the_child_less_24_years(
    relationship: tuple[str, str, str, str],
) -> None:
    grandchild = record("c2", "jay", "lee", "2015-01-01", source="edu")
    nan_row = record("g", "jay", "lee", None, source="edu")  # her undated contact row
    assert cannot_link.MIN_GRANDPARENT_AGE == 2 * cannot_link.MIN_PARENT_AGE == 24
    # born 20 years before the grandchild: old enough to be a parent, not a grandparent
    parent_aged = record("p", "jay", "lee", "1995-01-01")
    assert forbidden([nan_row, parent_aged], relationships=(relationship,), outside=(grandchild,)) == {
        "parent_age"}
    # born 50 years before: no rule
    old_enough = record("o", "jay", "lee", "1965-01-01")
    assert forbidden([nan_row, old_enough], relationships=(relationship,), outside=(grandchild,)) == set()
    # the grandchild's own record in the grandparent's group
    assert "parent_age" in forbidden([nan_row, record("c", "jay", "lee", "2015-01-01")],
                                     relationships=(relationship,), outside=(grandchild,))


def test_a_named_child_is_not_someone_born_less_twelve_years_before_the_parent_row() -> None:
    # the 'child' direction: the record is the parent of its related record
    child = record("c2", "jay", "lee", "2015-01-01", source="edu")
    father_row = record("f", "jay", "lee", None, source="edu")
    rows = (("edu", "f", "c2", "child"),)
    assert forbidden([father_row, record("y", "jay", "lee", "2005-06-01")],
                     relationships=rows, outside=(child,)) == {"parent_age"}
    assert forbidden([father_row, record("o", "jay", "lee", "1985-06-01")],
                     relationships=rows, outside=(child,)) == set()


@pytest.mark.parametrize(("dob_a", "dob_b", "fires"), [
    ("1960-05-12", "1990-08-03", True),   # a father and his son
    ("1960-05-12", "1990-05-21", True),   # years one digit apart, but another day too
    ("1985-03-07", "1958-03-07", False),  # two neighbouring digits swapped in the year
    ("1985-03-07", "1935-03-07", False),  # one digit of the year mistyped
    ("1985-03-07", "1975-07-03", False),  # one digit mistyped and day and month swapped
    ("1968-05-01", "2068-05-01", False),  # a two-digit year put in the wrong century
    ("1998-11-23", "2009-11-24", True),   # eleven years and a day apart: no one typo
])
def test_generation_rule_fires_on_a_generation_not_on_a_typo(dob_a: str, dob_b: str, fires: bool) -> None:
    pair = [record("1", "john", "smith", dob_a), record("2", "john", "smith", dob_b)]
    assert ("generation" in forbidden(pair)) is fires


def test_generation_rule_gives_way_to_a_shared_identifier() -> None:
    pair = [record("1", "john", "smith", "1960-05-12", id_ni_number="AB123456C"),
            record("2", "john", "smith", "1990-08-03", id_ni_number="AB123456C")]
    assert forbidden(pair) == set()
    pair[1]["id_ni_number"] = "AB132456C"  # one keying error: neighbours swapped
    assert forbidden(pair) == set()
    pair[1]["id_ni_number"] = "ZX998877A"
    assert forbidden(pair) == {"generation"}


def twins_fire(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return "twins" in forbidden([a, b])


def test_twins_rule_fires_on_same_birthday_different_forenames() -> None:
    assert twins_fire(record("1", "emma", "jones", "2015-04-01"), record("2", "laura", "jones", "2015-04-01"))
    # rhyming twins are still twins: one letter apart at the start is not a typo signature
    assert twins_fire(record("1", "ava", "jones", "2015-04-01"), record("2", "eva", "jones", "2015-04-01"))


@pytest.mark.parametrize(("a", "b"), [
    # goes by the middle name
    (dict(first="mary", middle_names_clean="jane"), dict(first="jane")),
    # forename field holding forename + middle names
    (dict(first="mary jane"), dict(first="jane")),
    # nickname resolved to the same canonical name
    (dict(first="bob", canonical="robert"), dict(first="robert")),
    # a preferred / alias forename (other_forenames)
    (dict(first="oluwaseun", other_forenames=["sean"]), dict(first="sean")),
    # an initial that fits
    (dict(first="j"), dict(first="john")),
    # the surname typed into the forename field
    (dict(first="jones"), dict(first="olivia")),
    # forename and surname swapped, one mistyped
    (dict(first="jnoes", surname="olivia"), dict(first="olivia")),
    # two neighbouring letters swapped
    (dict(first="kia"), dict(first="kai")),
    # one letter mistyped in a short name (Jaro-Winkler 0.7999…)
    (dict(first="amy"), dict(first="any")),
])
def test_twins_rule_does_not_fire_on_another_name_of_the_same_person(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    ra = record("1", a.pop("first"), a.pop("surname", "jones"), "2015-04-01", **a)
    rb = record("2", b.pop("first"), b.pop("surname", "jones"), "2015-04-01", **b)
    assert not twins_fire(ra, rb)


def test_twins_rule_gives_way_to_a_shared_identifier_but_not_a_consecutive_one() -> None:
    a = record("1", "emma", "jones", "2015-04-01", id_ni_number="JK551234A")
    assert not twins_fire(a, record("2", "laura", "jones", "2015-04-01", id_ni_number="JK551234A"))
    assert not twins_fire(a, record("2", "laura", "jones", "2015-04-01", id_ni_number="JK515234A"))
    # issued one after the other (twins registered together): not evidence of one person
    assert twins_fire(a, record("2", "laura", "jones", "2015-04-01", id_ni_number="JK551235A"))
    b = record("1", "emma", "jones", "2015-04-01", id_ni_number="1825598")
    assert twins_fire(b, record("2", "laura", "jones", "2015-04-01", id_ni_number="1825597"))
    assert not twins_fire(b, record("2", "laura", "jones", "2015-04-01", id_ni_number="1825594"))
    assert not twins_fire(record("1", "emma", "jones", "2015-04-01", nhs_number="4010232137"),
                          record("2", "laura", "jones", "2015-04-01", nhs_number="4010232137"))


def test_rules_tolerate_a_source_records_without_the_newer_columns() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE source_records AS SELECT 's' AS source, x AS record_id, "
                "'emma' AS first_name_clean, CASE x WHEN '1' THEN 'emma' ELSE 'laura' END AS first_name_canonical, "
                "NULL::VARCHAR AS middle_names_clean, 'jones' AS surname_clean, DATE '2015-04-01' AS dob, "
                "NULL::VARCHAR AS nhs_number FROM (VALUES ('1'), ('2')) t(x)")
    con.execute("UPDATE source_records SET first_name_clean = first_name_canonical")
    con.execute("CREATE TABLE relationships (source VARCHAR, record_id VARCHAR, related_record_id VARCHAR, relationship VARCHAR)")
    con.execute("CREATE TABLE groups AS SELECT 'g' AS person_id, source, record_id FROM source_records")
    columns = cannot_link.columns_of(con)
    assert columns == cannot_link.Columns()
    rows = con.execute(cannot_link.forbidden_pairs_sql("groups", columns)).fetchall()
    assert [r[0] for r in rows] == ["twins"]


# --- a source's own person id ------------------------------------------------------------------


def test_rows_sharing_a_source_person_id_are_never_split_by_a_built_in_rule() -> None:
    # a housing occupant on two tenancies, one with the year of birth badly mistyped
    a = record("T1", "john", "smith", "1960-05-12", source="housing", source_person_id="OCC7")
    b = record("T2", "john", "smith", "1990-08-03", source="housing", source_person_id="OCC7")
    assert forbidden([a, b]) == set()
    b["source_person_id"] = "OCC8"
    assert forbidden([a, b]) == {"generation"}


def clustered(records: list[dict[str, Any]], links: list[tuple[str, str, float]],
              *, rules: tuple[cannot_link.CannotLinkRule, ...] = cannot_link.RULES,
              decisions: tuple[tuple[str, str, str], ...] = ()) -> tuple[set[frozenset[str]], persons.ClustersSplit]:
    """Cluster ``records`` (source ``s`` unless given) over ``links`` (record ids, weight)."""
    con = database(records)
    con.execute("CREATE TABLE record_links (source_l VARCHAR, record_id_l VARCHAR, source_r VARCHAR, "
                "record_id_r VARCHAR, match_weight DOUBLE, match_probability DOUBLE)")
    source = {r["record_id"]: r["source"] for r in records}
    for x, y, weight in links:
        con.execute("INSERT INTO record_links VALUES (?, ?, ?, ?, ?, ?)",
                    [source[x], x, source[y], y, weight, 1 - 2 ** -weight])
    review.ensure_table(con)
    for x, y, decision in decisions:
        con.execute("INSERT INTO link_decisions (decision_id, source_a, record_id_a, source_b, record_id_b, "
                    "decision) VALUES (1, ?, ?, ?, ?, ?)", [source[x], x, source[y], y, decision])
    split = persons._cluster(con, match_threshold=0.9, cannot_link_sql=review.CANNOT_LINK_SQL,
                             must_link_sql=persons.must_links_sql(con), rules=rules)
    groups: dict[str, set[str]] = {}
    for record_id, person_id in con.execute("SELECT record_id, person_id FROM person_records").fetchall():
        groups.setdefault(person_id, set()).add(record_id)
    return {frozenset(g) for g in groups.values()}, split


def test_a_source_person_id_makes_one_person_without_any_model_link() -> None:
    occupant = [record("T1", "jon", "smith", "1960-05-12", source="housing", source_person_id="OCC7"),
                record("T2", "john", "smyth", "1990-08-03", source="housing", source_person_id="OCC7"),
                record("T3", "john", "smith", "1960-05-12", source="housing", source_person_id="OCC9")]
    groups, split = clustered(occupant, [])
    assert groups == {frozenset({"T1", "T2"}), frozenset({"T3"})}
    assert split.total == 0


def test_a_reviewers_different_outranks_a_source_person_id() -> None:
    occupant = [record("T1", "jon", "smith", "1960-05-12", source="housing", source_person_id="OCC7"),
                record("T2", "john", "smith", "1961-05-12", source="housing", source_person_id="OCC7")]
    groups, split = clustered(occupant, [], decisions=(("T1", "T2", "different"),))
    assert groups == {frozenset({"T1"}), frozenset({"T2"})}
    assert split.by_rule == {"reviewer": 1}


# --- the switch and the counts -----------------------------------------------------------------


TWINS = [record("E1", "emma", "jones", "2015-04-01"), record("E2", "emma", "jones", "2015-04-01"),
         record("L1", "laura", "jones", "2015-04-01")]
TWIN_LINKS = [("E1", "E2", 20.0), ("E2", "L1", 8.0)]


def test_the_run_counts_the_clusters_each_rule_split() -> None:
    groups, split = clustered(TWINS, TWIN_LINKS)
    assert groups == {frozenset({"E1", "E2"}), frozenset({"L1"})}
    assert split == persons.ClustersSplit(total=1, by_rule={"twins": 1})


def test_a_rule_switched_off_in_the_job_file_splits_nothing(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    (tmp_path / "people.csv").write_text("PersonID,Forename,Surname\nP1,Ann,Lee\n")
    job.write_text(textwrap.dedent("""\
        [job]
        reference_date = "2026-09-30"
        [linkage.cannot_link]
        twins = false
        [[sources]]
        name = "csc"
        agency = "Children's social care"
          [sources.people]
          path = "people.csv"
            [sources.people.columns]
            record_id = "PersonID"
            first_name = "Forename"
            surname = "Surname"
        """))
    settings = load_job(job).linkage.cannot_link
    assert settings.disabled == {"twins"}
    assert "twins" not in {r.name for r in settings.rules}
    groups, split = clustered(TWINS, TWIN_LINKS, rules=settings.rules)
    assert groups == {frozenset({"E1", "E2", "L1"})}
    assert split.total == 0


def test_an_unknown_rule_in_the_job_file_suggests_the_close_one() -> None:
    with pytest.raises(JobFileError) as err:
        read_settings({"twin": False}, where="job.toml")
    assert "linkage.cannot_link.twin" in str(err.value) and "did you mean 'twins'" in str(err.value)
    with pytest.raises(JobFileError, match="true or false"):
        read_settings({"twins": "no"}, where="job.toml")
    assert CannotLinkSettings().rules == cannot_link.RULES


# --- explain ------------------------------------------------------------------------------------


def explained(tmp_path: Path, records: list[dict[str, Any]], person_of: dict[str, str],
              *, twins: bool = True) -> tuple[str, ...]:
    path = str(tmp_path / "out.duckdb")
    con = database(records, path=path)
    con.execute("CREATE TABLE person_records (source VARCHAR, record_id VARCHAR, person_id VARCHAR)")
    for r in records:
        con.execute("INSERT INTO person_records VALUES (?, ?, ?)", [r["source"], r["record_id"], person_of[r["record_id"]]])
    con.execute("CREATE TABLE runs (started_at TIMESTAMP, config JSON)")
    config = {"linkage": {"cannot_link": {**CannotLinkSettings().as_dict(), "twins": twins}}}
    con.execute("INSERT INTO runs VALUES (now(), ?)", [json.dumps(config)])
    con.close()
    mem = duckdb.connect()
    mem.execute("ATTACH ? AS out (READ_ONLY)", [path])
    mem.execute("CREATE TABLE source_records AS SELECT * FROM out.source_records")
    return why_apart(mem, "PE", "PL")


def test_explain_names_the_rule_that_kept_two_persons_apart(tmp_path: Path) -> None:
    lines = explained(tmp_path, TWINS, {"E1": "PE", "E2": "PE", "L1": "PL"})
    assert len(lines) == 1
    assert lines[0].startswith("Kept apart by cannot-link rule twins: s:E1 and s:L1; s:E2 and s:L1")


def test_explain_says_when_no_rule_kept_them_apart(tmp_path: Path) -> None:
    lines = explained(tmp_path, TWINS, {"E1": "PE", "E2": "PE", "L1": "PL"}, twins=False)
    assert lines[0].startswith("No cannot-link rule or reviewer's decision separates the two persons")


# --- the run says what each rule did -------------------------------------------------------------


def test_the_run_prints_and_records_the_clusters_each_rule_split(sample_run: Any) -> None:
    con = duckdb.connect(str(sample_run.database), read_only=True)
    try:
        counts = json.loads(con.execute("SELECT counts FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()[0][0])
    finally:
        con.close()
    by_rule = counts["clusters_split_by_rule"]
    # the sample has twins, fathers and sons named alike, and records agencies relate
    assert {"twins", "generation", "related"} <= set(by_rule) <= {*cannot_link.RULE_NAMES, cannot_link.REVIEWER}
    assert max(by_rule.values()) <= counts["clusters_split"] <= sum(by_rule.values())
    assert f"{by_rule['twins']} by twins" in sample_run.output
