"""One family's data for the family view, read from the tables of ``docs/tables.md``.

SQL against the output database and small Python over one family: its members, the adults
named in its flags, their agency records, the relationships among them with their evidence,
the children's chronologies and households.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.visualise.data import (
    ADULT_AGE,
    CHILD_RELATIONSHIPS,
    PARENT_RELATIONSHIPS,
    ChronologyEntry,
    FamilyViewData,
    FlagData,
    FlagEvidenceData,
    HouseholdData,
    HouseholdMember,
    PersonData,
    RecordData,
    RelationshipData,
    age_on,
)
from famlink.visualise.reading import as_date, query_rows, require_tables, run_manifest

#: Tables the family view reads (``docs/tables.md``).
FAMILY_VIEW_TABLES = (
    "persons",
    "person_records",
    "source_records",
    "relationships_resolved",
    "relationship_evidence",
    "households",
    "families",
    "flags",
    "flag_evidence",
    "chronology",
    "runs",
    "models_run",  # written last by the models stage: its tables are complete
)


def family_view_data(
    con: duckdb.DuckDBPyConnection,
    child_id: str | None = None,
    *,
    family_id: str | None = None,
) -> FamilyViewData:
    """Read one family, centred on a child (``child_id``) or given by ``family_id``.

    The people are the family's members (``families``) plus every adult named in a flag of a
    child in the family. Relationships are those of ``relationships_resolved`` with both ends
    among them.
    """
    if (child_id is None) == (family_id is None):
        raise ValueError("give exactly one of child_id and family_id")
    require_tables(con, FAMILY_VIEW_TABLES)
    family_id, members = _family_members(con, child_id, family_id)
    run = run_manifest(con)
    reference_date = run.reference_date if run else None
    flags = _read_flags(con, members, child_id)
    flag_adults = {f.adult_person_id for f in flags if f.adult_person_id}
    ids = sorted(set(members) | flag_adults)
    persons, relationships = _read_people(con, ids, child_id, flags, reference_date)
    children = [p.person_id for p in persons if p.role != "adult"]
    in_focus = [child_id] if child_id is not None else children
    households, household_names = _read_households(con, in_focus, set(ids))
    return FamilyViewData(
        focus_child_id=child_id,
        family_id=family_id,
        reference_date=reference_date,
        persons=persons,
        relationships=relationships,
        flags=flags,
        chronologies=_read_chronologies(con, in_focus),
        households=households,
        household_names=household_names,
        run=run,
    )


def _family_members(
    con: duckdb.DuckDBPyConnection, child_id: str | None, family_id: str | None
) -> tuple[str | None, list[str]]:
    """The family id and its sorted member ids (a child in no family is a family of one)."""
    if child_id is not None:
        if not con.execute("SELECT 1 FROM persons WHERE person_id = ?", [child_id]).fetchone():
            raise FamlinkError(
                f"no person {child_id!r} in the output database",
                hint="person ids look like P0123456789ab; `famlink view DIR --flagged` "
                "writes an index of every flagged child",
            )
        row = con.execute(
            "SELECT min(family_id) FROM families WHERE person_id = ?", [child_id]
        ).fetchone()
        family_id = row[0] if row else None
        if family_id is None:
            return None, [child_id]
    members = [
        r[0]
        for r in con.execute(
            "SELECT person_id FROM families WHERE family_id = ? ORDER BY person_id", [family_id]
        ).fetchall()
    ]
    if not members:
        raise FamlinkError(
            f"no family {family_id!r} in the output database",
            hint="family ids look like F0123456789ab; `famlink view DIR --flagged` "
            "writes an index of every flagged child with a link to their family",
        )
    return family_id, members


def _read_flags(
    con: duckdb.DuckDBPyConnection, members: list[str], child_id: str | None
) -> tuple[FlagData, ...]:
    """Flags of the family's children (the child in focus first) with their evidence."""
    flag_rows = query_rows(
        con,
        """
        SELECT * FROM flags
        WHERE child_person_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY (child_person_id = ?) DESC, child_person_id, flag_type, flag_key
        """,
        [members, child_id or ""],
    )
    evidence: dict[str, list[FlagEvidenceData]] = {}
    for e in query_rows(
        con,
        """
        SELECT * FROM flag_evidence
        WHERE flag_key IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY flag_key, item_no
        """,
        [[r["flag_key"] for r in flag_rows]],
    ):
        evidence.setdefault(e["flag_key"], []).append(
            FlagEvidenceData(
                item_no=int(e["item_no"]),
                kind=e.get("kind"),
                agency=e.get("agency"),
                source=e.get("source"),
                record_id=e.get("record_id"),
                related_record_id=e.get("related_record_id"),
                relationship=e.get("relationship"),
                event_type=e.get("event_type"),
                date_from=as_date(e.get("date_from")),
                date_to=as_date(e.get("date_to")),
                description=e.get("description"),
                link_probability=e.get("link_probability"),
                part=e.get("part"),
                basis=e.get("basis"),
            )
        )
    return tuple(
        FlagData(
            flag_key=r["flag_key"],
            flag_type=r["flag_type"],
            child_person_id=r["child_person_id"],
            adult_person_id=r.get("adult_person_id"),
            explanation=r.get("explanation"),
            family_id=r.get("family_id"),
            link_probability=r.get("link_probability"),
            evidence=tuple(evidence.get(r["flag_key"], [])),
        )
        for r in flag_rows
    )


def _read_records(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[RecordData]]:
    """Each person's agency records, by agency, source and record id."""
    records: dict[str, list[RecordData]] = {}
    for r in query_rows(
        con,
        """
        SELECT pr.person_id, sr.source, sr.agency, sr.record_id, sr.is_primary,
               sr.first_name, sr.middle_names, sr.surname, sr.dob_raw, sr.dob,
               sr.address, coalesce(sr.postcode, sr.postcode_raw) AS postcode,
               coalesce(sr.uprn, sr.uprn_raw) AS uprn
        FROM person_records pr
        JOIN source_records sr USING (source, record_id)
        WHERE pr.person_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY pr.person_id, sr.agency, sr.source, sr.record_id
        """,
        [ids],
    ):
        records.setdefault(r["person_id"], []).append(
            RecordData(
                source=r["source"],
                agency=r["agency"],
                record_id=r["record_id"],
                is_primary=bool(r["is_primary"]),
                first_name=r["first_name"],
                middle_names=r["middle_names"],
                surname=r["surname"],
                dob_raw=r["dob_raw"],
                dob=as_date(r["dob"]),
                address=r["address"],
                postcode=r["postcode"],
                uprn=r["uprn"],
            )
        )
    return records


def _read_relationships(
    con: duckdb.DuckDBPyConnection, ids: list[str]
) -> tuple[RelationshipData, ...]:
    """Rows of ``relationships_resolved`` with both ends among ``ids``."""
    rows = query_rows(
        con,
        """
        SELECT * FROM relationships_resolved
        WHERE person_id IN (SELECT unnest($ids::VARCHAR[]))
          AND related_person_id IN (SELECT unnest($ids::VARCHAR[]))
          AND person_id <> related_person_id
        ORDER BY person_id, related_person_id, relationship, basis, source NULLS LAST,
                 agency NULLS LAST, start_date NULLS LAST
        """,
        {"ids": ids},  # type: ignore[arg-type]
    )
    evidence = _read_edge_evidence(con, ids)
    return tuple(
        RelationshipData(
            person_id=r["person_id"],
            related_person_id=r["related_person_id"],
            relationship=r["relationship"],
            basis=r["basis"],
            source=r.get("source"),
            agency=r.get("agency"),
            is_primary=r.get("is_primary"),
            evidence=tuple(evidence.get(_edge_key(r), ())),
            start_date=as_date(r.get("start_date")),
            end_date=as_date(r.get("end_date")),
            link_probability=r.get("link_probability"),
        )
        for r in rows
    )


def _edge_key(row: dict[str, Any]) -> tuple:
    """An edge's key in ``relationship_evidence``, where inferred co-residence is stored
    once per pair, smaller person id first."""
    a, b = row["person_id"], row["related_person_id"]
    if row["basis"] == "inferred":
        a, b = min(a, b), max(a, b)
    return (a, b, row["relationship"], row["basis"], row.get("source"))


def _read_edge_evidence(
    con: duckdb.DuckDBPyConnection, ids: list[str]
) -> dict[tuple, list[dict[str, Any]]]:
    """Evidence items of the edges among ``ids``, by edge key, in a stable order."""
    rows = query_rows(
        con,
        """
        SELECT person_id, related_person_id, relationship AS edge_relationship, basis,
               edge_source, source, agency, record_id, related_record_id, relationship_key,
               line_number, recorded_relationship AS relationship, via_person_id, address_key,
               kind, start_date, end_date
        FROM relationship_evidence
        WHERE person_id IN (SELECT unnest($ids::VARCHAR[]))
          AND related_person_id IN (SELECT unnest($ids::VARCHAR[]))
        ORDER BY ALL
        """,
        {"ids": ids},  # type: ignore[arg-type]
    )
    by_edge: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        key = (r.pop("person_id"), r.pop("related_person_id"), r.pop("edge_relationship"),
               r.pop("basis"), r.pop("edge_source"))
        by_edge.setdefault(key, []).append(r)
    return by_edge


def _read_people(
    con: duckdb.DuckDBPyConnection,
    ids: list[str],
    child_id: str | None,
    flags: tuple[FlagData, ...],
    reference_date: date | None,
) -> tuple[tuple[PersonData, ...], tuple[RelationshipData, ...]]:
    """The people (with records and role) and the relationships between them."""
    person_rows = query_rows(
        con,
        """
        SELECT person_id, display_name, first_name, surname, dob, sex, agencies, n_records,
               in_primary, min_link_probability
        FROM persons WHERE person_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY person_id
        """,
        [ids],
    )
    known = {r["person_id"] for r in person_rows}
    relationships = tuple(  # never draw an edge to a person the persons table does not have
        r
        for r in _read_relationships(con, ids)
        if r.person_id in known and r.related_person_id in known
    )
    has_parent = {r.person_id for r in relationships if r.relationship in PARENT_RELATIONSHIPS}
    has_parent |= {
        r.related_person_id for r in relationships if r.relationship in CHILD_RELATIONSHIPS
    }
    has_child = {
        r.related_person_id for r in relationships if r.relationship in PARENT_RELATIONSHIPS
    }
    has_child |= {r.person_id for r in relationships if r.relationship in CHILD_RELATIONSHIPS}
    flag_children = {f.child_person_id for f in flags}
    flag_adults = {f.adult_person_id for f in flags if f.adult_person_id}
    records = _read_records(con, ids)
    persons = []
    for r in person_rows:
        pid = r["person_id"]
        dob = as_date(r["dob"])
        age = age_on(dob, reference_date)
        if pid == child_id:
            role = "focus_child"
        elif age is not None:
            role = "child" if age < ADULT_AGE else "adult"
        elif pid in flag_children or (pid in has_parent and pid not in has_child):
            role = "child"
        else:
            role = "adult"
        persons.append(
            PersonData(
                person_id=pid,
                display_name=r["display_name"] or "",
                first_name=r["first_name"],
                surname=r["surname"],
                dob=dob,
                sex=r["sex"],
                agencies=tuple(r["agencies"] or ()),
                n_records=int(r["n_records"] or 0),
                in_primary=bool(r["in_primary"]),
                min_link_probability=r["min_link_probability"],
                records=tuple(records.get(pid, [])),
                age_years=age,
                role=role,
                named_in_flag=pid in flag_adults and role != "focus_child",
            )
        )
    return tuple(persons), relationships


def _read_chronologies(
    con: duckdb.DuckDBPyConnection, children: list[str]
) -> tuple[tuple[str, tuple[ChronologyEntry, ...]], ...]:
    """Each child's chronology, in ``entry_no`` order; children without entries left out."""
    chron: dict[str, list[ChronologyEntry]] = {}
    for r in query_rows(
        con,
        """
        SELECT * FROM chronology WHERE child_person_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY child_person_id, entry_no
        """,
        [children],
    ):
        chron.setdefault(r["child_person_id"], []).append(
            ChronologyEntry(
                child_person_id=r["child_person_id"],
                entry_no=int(r["entry_no"]),
                event_date=as_date(r.get("event_date")),
                agency=r.get("agency"),
                source=r.get("source"),
                record_id=r.get("record_id"),
                person_id=r.get("person_id"),
                person_name=r.get("person_name"),
                relation_to_child=r.get("relation_to_child"),
                entry_kind=r.get("entry_kind"),
                event_type=r.get("event_type"),
                role=r.get("role"),
                summary=r.get("summary"),
                link_probability=r.get("link_probability"),
                relation_basis=r.get("relation_basis"),
            )
        )
    return tuple((c, tuple(chron[c])) for c in children if c in chron)


def _read_households(
    con: duckdb.DuckDBPyConnection, children: list[str], in_view: set[str]
) -> tuple[tuple[HouseholdData, ...], dict[str, str]]:
    """Households of the children, and the names of members who are not in the view."""
    households: dict[str, HouseholdData] = {}
    members: dict[str, list[HouseholdMember]] = {}
    names: dict[str, str] = {}
    for r in query_rows(
        con,
        """
        SELECT h.*, p.display_name
        FROM households h LEFT JOIN persons p USING (person_id)
        WHERE h.household_id IN (
            SELECT household_id FROM households WHERE person_id IN (SELECT unnest(?::VARCHAR[])))
        ORDER BY h.household_id, h.date_from NULLS LAST, h.person_id
        """,
        [children],
    ):
        hid = r["household_id"]
        if hid not in households:
            households[hid] = HouseholdData(
                household_id=hid,
                address_key=r.get("address_key"),
                members=(),
                address=r.get("address"),
                is_communal=r.get("is_communal"),
            )
        sources = r.get("sources")
        members.setdefault(hid, []).append(
            HouseholdMember(
                person_id=r["person_id"],
                date_from=as_date(r.get("date_from")),
                date_to=as_date(r.get("date_to")),
                sources=(sources,) if isinstance(sources, str) else tuple(sources or ()),
            )
        )
        if r["person_id"] not in in_view:
            names[r["person_id"]] = r["display_name"] or ""
    return tuple(replace(h, members=tuple(members[k])) for k, h in households.items()), names
