"""Read what a view needs from the output database into plain, typed data.

Everything here is computation: SQL against the tables of ``docs/tables.md`` and small Python
over one family. Nothing is escaped, redacted or rendered here; :mod:`visualise.render` does
that from these objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import duckdb

from famlink.linkage.errors import FamlinkError, OutputError

#: Tables each view reads (``docs/tables.md``).
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
INDEX_TABLES = ("persons", "flags", "flag_evidence", "runs", "models_run")

#: Relationship values meaning "related_person_id is person_id's parent (or carer)".
PARENT_RELATIONSHIPS = frozenset({"mother", "father", "parent", "step_parent", "carer"})
#: ... and their reverses, "related_person_id is person_id's child (or cared-for child)".
CHILD_RELATIONSHIPS = frozenset({"child", "step_child", "cared_for"})

ADULT_AGE = 18


@dataclass(frozen=True)
class RecordData:
    """One agency record of a person (``source_records`` via ``person_records``)."""

    source: str
    agency: str
    record_id: str
    is_primary: bool
    first_name: str | None
    middle_names: str | None
    surname: str | None
    dob_raw: str | None
    dob: date | None
    address: str | None = None  # address, postcode and UPRN: only to redact them from text
    postcode: str | None = None
    uprn: str | None = None


@dataclass(frozen=True)
class PersonData:
    """A linked person (``persons``) with their records and their role in this view."""

    person_id: str
    display_name: str
    first_name: str | None
    surname: str | None
    dob: date | None
    sex: str | None
    agencies: tuple[str, ...]
    n_records: int
    in_primary: bool
    min_link_probability: float | None
    records: tuple[RecordData, ...]
    age_years: int | None
    role: str  # "focus_child" | "child" | "adult"
    named_in_flag: bool  # the adult of one of this family's flags


@dataclass(frozen=True)
class RelationshipData:
    """One row of ``relationships_resolved`` (both ends are in the view)."""

    person_id: str
    related_person_id: str
    relationship: str
    basis: str
    source: str | None
    agency: str | None
    is_primary: bool | None
    evidence: tuple[dict[str, Any], ...]
    start_date: date | None
    end_date: date | None
    link_probability: float | None


@dataclass(frozen=True)
class FlagEvidenceData:
    item_no: int
    kind: str | None
    agency: str | None
    source: str | None
    record_id: str | None
    related_record_id: str | None
    relationship: str | None
    event_type: str | None
    date_from: date | None
    date_to: date | None
    description: str | None
    link_probability: float | None
    part: str | None = None  # role | trigger | absence | context (models' addition)
    basis: str | None = None


@dataclass(frozen=True)
class FlagData:
    flag_key: str
    flag_type: str
    child_person_id: str
    adult_person_id: str | None
    explanation: str | None
    family_id: str | None
    link_probability: float | None
    evidence: tuple[FlagEvidenceData, ...]


@dataclass(frozen=True)
class ChronologyEntry:
    child_person_id: str
    entry_no: int
    event_date: date | None
    agency: str | None
    source: str | None
    record_id: str | None
    person_id: str | None
    person_name: str | None
    relation_to_child: str | None
    entry_kind: str | None
    event_type: str | None
    role: str | None
    summary: str | None
    link_probability: float | None
    relation_basis: str | None = None  # recorded | derived | inferred (models' addition)


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    date_from: date | None
    date_to: date | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class HouseholdData:
    household_id: str
    address_key: str | None
    members: tuple[HouseholdMember, ...]
    address: str | None = None  # as recorded (models' addition)
    is_communal: bool | None = None


@dataclass(frozen=True)
class RunManifest:
    """The run a view was made from (the latest row of ``runs``)."""

    fields: tuple[tuple[str, str], ...]  # (label, value) in display order
    inputs: tuple[dict[str, Any], ...]
    reference_date: date | None
    personal_fields: frozenset[str] = frozenset({"user_name", "host"})


@dataclass(frozen=True)
class FamilyViewData:
    """Everything one family view shows, read from the database."""

    focus_child_id: str | None
    family_id: str | None
    reference_date: date | None
    persons: tuple[PersonData, ...]  # sorted by person_id
    relationships: tuple[RelationshipData, ...]
    flags: tuple[FlagData, ...]
    chronologies: tuple[tuple[str, tuple[ChronologyEntry, ...]], ...]  # (child id, entries)
    households: tuple[HouseholdData, ...]
    household_names: dict[str, str] = field(default_factory=dict)  # members outside the view
    run: RunManifest | None = None

    def person(self, person_id: str) -> PersonData | None:
        for p in self.persons:
            if p.person_id == person_id:
                return p
        return None


@dataclass(frozen=True)
class IndexRow:
    child_person_id: str
    display_name: str
    first_name: str | None
    surname: str | None
    dob: date | None
    family_id: str | None
    flag_types: tuple[str, ...]
    n_flags: int
    agencies: tuple[str, ...]
    min_link_probability: float | None


@dataclass(frozen=True)
class IndexData:
    rows: tuple[IndexRow, ...]
    flag_type_counts: tuple[tuple[str, int, int], ...]  # (flag type, flags, children)
    run: RunManifest | None
    reference_date: date | None


# --------------------------------------------------------------------------------------
# reading


def require_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """Raise a clear OutputError if any of ``tables`` is missing."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    missing = [t for t in tables if t not in present]
    if missing:
        unfinished = (" (the models stage has not run there, or did not finish)"
                      if "models_run" in missing else "")
        raise OutputError(
            f"the output database has no table {', '.join(missing)}{unfinished}",
            hint="run `famlink link JOB.toml --out DIR` (which also builds families and flags) "
            "or `famlink demo`, then view that DIR",
        )


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return list(value) if isinstance(value, list) else []


def run_manifest(con: duckdb.DuckDBPyConnection) -> RunManifest | None:
    """The latest run (by ``started_at``), or None if ``runs`` is empty."""
    rows = _rows(con, "SELECT * FROM runs ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT 1")
    if not rows:
        return None
    run = rows[0]
    order = (
        "run_id",
        "status",
        "started_at",
        "finished_at",
        "user_name",
        "host",
        "reference_date",
        "seed",
        "famlink_version",
        "splink_version",
        "duckdb_version",
        "python_version",
        "job_path",
        "job_sha256",
        "model_path",
        "model_sha256",
        "model_trained",
    )
    fields = tuple(
        (name, _plain_text(run[name])) for name in order if name in run and run[name] is not None
    )
    inputs = tuple(
        {k: _plain_text(v) for k, v in item.items()}
        for item in _json_list(run.get("inputs"))
        if isinstance(item, dict)
    )
    return RunManifest(
        fields=fields, inputs=inputs, reference_date=_as_date(run.get("reference_date"))
    )


def _plain_text(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def age_on(dob: date | None, on: date | None) -> int | None:
    """Whole years from ``dob`` to ``on``.

    >>> age_on(date(2020, 3, 1), date(2026, 2, 28))
    5
    """
    if dob is None or on is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


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
    flag_rows = _rows(
        con,
        """
        SELECT * FROM flags
        WHERE child_person_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY (child_person_id = ?) DESC, child_person_id, flag_type, flag_key
        """,
        [members, child_id or ""],
    )
    evidence: dict[str, list[FlagEvidenceData]] = {}
    for e in _rows(
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
                date_from=_as_date(e.get("date_from")),
                date_to=_as_date(e.get("date_to")),
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
    for r in _rows(
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
                dob=_as_date(r["dob"]),
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
    rows = _rows(
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
            start_date=_as_date(r.get("start_date")),
            end_date=_as_date(r.get("end_date")),
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
    rows = _rows(
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
    person_rows = _rows(
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
        dob = _as_date(r["dob"])
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
    for r in _rows(
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
                event_date=_as_date(r.get("event_date")),
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
    for r in _rows(
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
                date_from=_as_date(r.get("date_from")),
                date_to=_as_date(r.get("date_to")),
                sources=(sources,) if isinstance(sources, str) else tuple(sources or ()),
            )
        )
        if r["person_id"] not in in_view:
            names[r["person_id"]] = r["display_name"] or ""
    return tuple(replace(h, members=tuple(members[k])) for k, h in households.items()), names


def index_data(con: duckdb.DuckDBPyConnection) -> IndexData:
    """Every flagged child with their flag types and agencies, counts, and the run manifest."""
    require_tables(con, INDEX_TABLES)
    rows = _rows(
        con,
        """
        WITH ev AS (
            SELECT f.child_person_id, e.agency
            FROM flags f JOIN flag_evidence e USING (flag_key)
            WHERE e.agency IS NOT NULL
        ),
        per_child AS (
            SELECT child_person_id,
                   list_sort(list_distinct(list(flag_type))) AS flag_types,
                   count(*) AS n_flags,
                   min(family_id) AS family_id,
                   min(link_probability) AS min_link_probability
            FROM flags GROUP BY child_person_id
        )
        SELECT c.*, p.display_name, p.first_name, p.surname, p.dob,
               list_sort(list_distinct(list_concat(
                   coalesce(p.agencies, []::VARCHAR[]),
                   coalesce((SELECT list(agency) FROM ev WHERE ev.child_person_id = c.child_person_id),
                            []::VARCHAR[])))) AS agencies
        FROM per_child c LEFT JOIN persons p ON p.person_id = c.child_person_id
        ORDER BY c.n_flags DESC, c.child_person_id
        """,
    )
    counts = con.execute(
        """
        SELECT flag_type, count(*), count(DISTINCT child_person_id)
        FROM flags GROUP BY flag_type ORDER BY flag_type
        """
    ).fetchall()
    run = run_manifest(con)
    return IndexData(
        rows=tuple(
            IndexRow(
                child_person_id=r["child_person_id"],
                display_name=r["display_name"] or "",
                first_name=r["first_name"],
                surname=r["surname"],
                dob=_as_date(r["dob"]),
                family_id=r["family_id"],
                flag_types=tuple(r["flag_types"]),
                n_flags=int(r["n_flags"]),
                agencies=tuple(r["agencies"] or ()),
                min_link_probability=r["min_link_probability"],
            )
            for r in rows
        ),
        flag_type_counts=tuple((str(t), int(n), int(c)) for t, n, c in counts),
        run=run,
        reference_date=run.reference_date if run else None,
    )
