"""The family graph of one family, in NetworkX, and small functions that read it.

A family graph is a :class:`networkx.MultiDiGraph`. Nodes are person ids with attributes
`display_name`, `dob`, `age` (at the reference date), `sex`, `agencies`, `in_primary` and
`residences` (a list of dicts: `address_key`, `address`, `source`, `record_id`,
`date_from`, `date_to` as recorded, and `eff_from`, `eff_to` — the period used, where an
undated record counts as current at the reference date). An edge ``u -> v`` reads
"v is u's `relationship`" and carries `basis` (`recorded`, `reciprocal`, `derived`,
`inferred`), `source`, `agency`, `is_primary`, `evidence`, `start_date`, `end_date` and
`link_probability`; its key is ``(relationship, basis, source)`` so a recorded edge and an
inferred one between the same people stay separate edges.

The functions here take a graph and return data: no I/O, no printing. Building all families
is done in SQL by :func:`models.build_models`; :func:`read_family_graph` loads one family from
the output database for inspection (`famlink family`) and for the HTML views.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import duckdb
import networkx as nx

from famlink.linkage.errors import FamlinkError

PARENT_RELATIONSHIPS = frozenset({"mother", "father", "parent"})
CARER_RELATIONSHIPS = frozenset({"step_parent", "carer", "household_member"})
RECORDED_BASES = frozenset({"recorded", "reciprocal"})


def family_graph(
    persons: Iterable[Mapping[str, Any]],
    edges: Iterable[Mapping[str, Any]],
    residences: Iterable[Mapping[str, Any]] = (),
    *,
    reference_date: date,
    window_start: date | None = None,
) -> nx.MultiDiGraph:
    """Build a family graph from rows shaped like the `persons`, `relationships_resolved`
    and `residences` tables.

    Parameters
    ----------
    persons : rows with `person_id` and any of `display_name`, `dob`, `sex`, `agencies`,
        `in_primary`.
    edges : rows with `person_id`, `related_person_id`, `relationship`, `basis` and any
        other `relationships_resolved` columns.
    residences : rows with `person_id`, `address_key` and `eff_from`/`eff_to` (or
        `date_from`/`date_to`; missing dates mean current at the reference date).
    reference_date : the "as at" date for ages and undated residences.
    window_start : start of the co-residence window; partnerships that end before it count
        around a child only if they span the child's birth. None: every partnership counts.

    Returns
    -------
    networkx.MultiDiGraph

    Examples
    --------
    >>> g = family_graph(
    ...     [{"person_id": "C", "dob": date(2026, 5, 1)}, {"person_id": "M", "sex": "female"}],
    ...     [{"person_id": "C", "related_person_id": "M", "relationship": "mother",
    ...       "basis": "recorded", "source": "csc"}],
    ...     reference_date=date(2026, 9, 30))
    >>> g.nodes["C"]["age"], list(g.edges(keys=True))
    (0, [('C', 'M', ('mother', 'recorded', 'csc'))])
    """
    graph = nx.MultiDiGraph(reference_date=reference_date, window_start=window_start)
    for row in sorted(persons, key=lambda r: r["person_id"]):
        attrs = {k: v for k, v in row.items() if k != "person_id"}
        attrs["age"] = age_on(attrs.get("dob"), reference_date)
        attrs.setdefault("residences", [])
        graph.add_node(row["person_id"], **attrs)
    for row in residences:
        res = dict(row)
        res["eff_from"] = (
            res.get("eff_from") or res.get("date_from") or res.get("date_to") or reference_date
        )
        res["eff_to"] = res.get("eff_to") or res.get("date_to") or reference_date
        if row["person_id"] not in graph:
            graph.add_node(row["person_id"], residences=[], age=None)
        graph.nodes[row["person_id"]]["residences"].append(res)
    for row in sorted(edges, key=_edge_sort_key):
        attrs = {k: v for k, v in row.items() if k not in ("person_id", "related_person_id")}
        key = (row["relationship"], row["basis"], row.get("source"))
        graph.add_edge(row["person_id"], row["related_person_id"], key=key, **attrs)
    return graph


def _edge_sort_key(row: Mapping[str, Any]) -> tuple:
    return (
        row["person_id"],
        row["related_person_id"],
        row["relationship"],
        row["basis"],
        row.get("source") or "",
    )


def age_on(dob: date | None, when: date) -> int | None:
    """Age in whole years on a date (None if the date of birth is unknown or later).

    >>> age_on(date(2010, 10, 1), date(2026, 9, 30))
    15
    """
    if dob is None or dob > when:
        return None
    return when.year - dob.year - ((when.month, when.day) < (dob.month, dob.day))


def relations(
    graph: nx.MultiDiGraph, person: str, *, bases: Iterable[str] | None = None
) -> dict[str, set[str]]:
    """Who is related to `person` and how: related person id -> set of relationships
    (optionally only edges of the given bases).

    >>> g = family_graph([{"person_id": "C"}, {"person_id": "M"}],
    ...     [{"person_id": "C", "related_person_id": "M", "relationship": "mother",
    ...       "basis": "recorded"},
    ...      {"person_id": "C", "related_person_id": "M", "relationship": "co_resident",
    ...       "basis": "inferred"}], reference_date=date(2026, 9, 30))
    >>> sorted(relations(g, "C")["M"])
    ['co_resident', 'mother']
    >>> relations(g, "C", bases={"recorded"})
    {'M': {'mother'}}
    """
    wanted = None if bases is None else set(bases)
    out: dict[str, set[str]] = {}
    for _, other, data in graph.out_edges(person, data=True):
        if wanted is None or data["basis"] in wanted:
            out.setdefault(other, set()).add(data["relationship"])
    return dict(sorted(out.items()))


def parents_of(graph: nx.MultiDiGraph, person: str) -> list[str]:
    """Recorded parents (mother, father, parent — by any agency, either direction).

    >>> g = family_graph([{"person_id": "C"}, {"person_id": "F"}],
    ...     [{"person_id": "F", "related_person_id": "C", "relationship": "child",
    ...       "basis": "recorded"},
    ...      {"person_id": "C", "related_person_id": "F", "relationship": "father",
    ...       "basis": "reciprocal"}], reference_date=date(2026, 9, 30))
    >>> parents_of(g, "C")
    ['F']
    """
    return sorted(
        other
        for other, rels in relations(graph, person, bases=RECORDED_BASES).items()
        if rels & PARENT_RELATIONSHIPS
    )


def mothers_of(graph: nx.MultiDiGraph, person: str) -> list[str]:
    """Recorded mothers (`mother`, or `parent` who is female)."""
    out = []
    for other, rels in relations(graph, person, bases=RECORDED_BASES).items():
        if "mother" in rels or ("parent" in rels and graph.nodes[other].get("sex") == "female"):
            out.append(other)
    return out


def siblings_of(graph: nx.MultiDiGraph, person: str) -> dict[str, str]:
    """Full and half siblings, recorded or derived through a shared parent (either parent):
    sibling id -> `sibling` or `half_sibling`.

    >>> g = family_graph([{"person_id": p} for p in "ABM"],
    ...     [{"person_id": "A", "related_person_id": "B", "relationship": "half_sibling",
    ...       "basis": "derived"}], reference_date=date(2026, 9, 30))
    >>> siblings_of(g, "A")
    {'B': 'half_sibling'}
    """
    out: dict[str, str] = {}
    for other, rels in relations(
        graph, person, bases={"recorded", "reciprocal", "derived"}
    ).items():
        if "sibling" in rels:
            out[other] = "sibling"
        elif "half_sibling" in rels:
            out[other] = "half_sibling"
    return out


def household_at(graph: nx.MultiDiGraph, person: str, when: date) -> dict[str, list[str]]:
    """The people recorded at the same address as `person` on a date:
    address key -> sorted person ids (not including `person`).

    An undated residence record counts as current at the graph's reference date only.

    >>> g = family_graph([{"person_id": p} for p in "CMX"], [], [
    ...     {"person_id": "C", "address_key": "uprn:1", "date_from": date(2026, 5, 1)},
    ...     {"person_id": "M", "address_key": "uprn:1", "date_from": date(2024, 1, 1)},
    ...     {"person_id": "X", "address_key": "uprn:1", "date_from": date(2020, 1, 1),
    ...      "date_to": date(2025, 1, 1)}], reference_date=date(2026, 9, 30))
    >>> household_at(g, "C", date(2026, 6, 1))
    {'uprn:1': ['M']}
    """
    keys = {
        r["address_key"]
        for r in graph.nodes[person].get("residences", [])
        if r["eff_from"] <= when <= r["eff_to"]
    }
    out: dict[str, set[str]] = {k: set() for k in keys}
    for other, attrs in graph.nodes(data=True):
        if other == person:
            continue
        for r in attrs.get("residences", []):
            if r["address_key"] in keys and r["eff_from"] <= when <= r["eff_to"]:
                out[r["address_key"]].add(other)
    return {k: sorted(v) for k, v in sorted(out.items())}


def adults_around(graph: nx.MultiDiGraph, child: str) -> dict[str, list[str]]:
    """Everyone placed around a child by any source, recorded or inferred:
    person id -> sorted roles.

    Roles: `mother`, `father`, `parent`, `step_parent`, `carer`, `household_member`
    (recorded by any agency), `partner_of_mother` / `partner_of_parent` (a recorded partner
    of a recorded parent, while the partnership overlaps the window or if it spanned the
    child's birth), `co_resident` (inferred: at the child's address in the window)
    and `co_resident_with_mother` (at the mother's address, if not at the child's). The child's siblings are left out. Ages are not
    filtered here; the flag rules do that.

    >>> g = family_graph([{"person_id": p} for p in "CMX"],
    ...     [{"person_id": "C", "related_person_id": "M", "relationship": "mother",
    ...       "basis": "recorded"},
    ...      {"person_id": "M", "related_person_id": "X", "relationship": "partner",
    ...       "basis": "recorded"},
    ...      {"person_id": "M", "related_person_id": "X", "relationship": "co_resident",
    ...       "basis": "inferred"}], reference_date=date(2026, 9, 30))
    >>> adults_around(g, "C")
    {'M': ['mother'], 'X': ['co_resident_with_mother', 'partner_of_mother']}
    """
    roles: dict[str, set[str]] = {}

    def add(person: str, role: str) -> None:
        if person != child:
            roles.setdefault(person, set()).add(role)

    for other, rels in relations(graph, child).items():
        for rel in rels:
            if rel in PARENT_RELATIONSHIPS | CARER_RELATIONSHIPS:
                if any(
                    d["relationship"] == rel and d["basis"] in RECORDED_BASES
                    for d in graph.get_edge_data(child, other).values()
                ):
                    add(other, rel)
            elif rel == "co_resident":
                add(other, "co_resident")
    mothers = set(mothers_of(graph, child))
    for parent in parents_of(graph, child):
        role = "partner_of_mother" if parent in mothers else "partner_of_parent"
        for _, other, data in graph.out_edges(parent, data=True):
            if (
                data["relationship"] == "partner"
                and data["basis"] in RECORDED_BASES
                and _partnership_counts(graph, child, data)
            ):
                add(other, role)
    for mother in mothers:
        for other, rels in relations(graph, mother, bases={"inferred"}).items():
            # at the child's own address already: the weaker role would repeat its evidence
            if "co_resident" in rels and "co_resident" not in roles.get(other, ()):
                add(other, "co_resident_with_mother")
    not_adults = set(siblings_of(graph, child)) | {
        other for other, rels in relations(graph, child).items() if rels & {"child", "step_child"}
    }
    return {p: sorted(r) for p, r in sorted(roles.items()) if p not in not_adults}


def _partnership_counts(graph: nx.MultiDiGraph, child: str, edge: Mapping[str, Any]) -> bool:
    """A partnership counts around a child while it overlaps the window, or if it spans the
    child's birth (conception to birth) — the same test as the flag rules."""
    ref, ws = graph.graph["reference_date"], graph.graph.get("window_start")
    if ws is None:
        return True
    start, end = edge.get("start_date"), edge.get("end_date")
    if (end or ref) >= ws and (start or ref) <= ref:
        return True
    dob = graph.nodes[child].get("dob")
    if dob is None:
        return False
    conception = months_before(dob, 10)
    return (start or dob) <= dob and (end or dob) >= conception


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the month's end (as DuckDB does).

    >>> months_before(date(2026, 3, 31), 1)
    datetime.date(2026, 2, 28)
    """
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return date(y, m + 1, min(day.day, last))


def edges_by_basis(graph: nx.MultiDiGraph, basis: str) -> list[tuple[str, str, str]]:
    """(person, related person, relationship) of every edge with one basis — e.g. all
    `inferred` edges, to show them apart from `recorded` ones.

    >>> g = family_graph([{"person_id": "A"}, {"person_id": "B"}],
    ...     [{"person_id": "A", "related_person_id": "B", "relationship": "co_resident",
    ...       "basis": "inferred"}], reference_date=date(2026, 9, 30))
    >>> edges_by_basis(g, "inferred"), edges_by_basis(g, "recorded")
    ([('A', 'B', 'co_resident')], [])
    """
    return sorted(
        (u, v, d["relationship"]) for u, v, d in graph.edges(data=True) if d["basis"] == basis
    )


# A family's edge evidence, shaped as the items of an edge's `evidence` attribute.
# `relationship` is the relationship the agency recorded (for a reciprocal edge, the
# original direction; for a derived sibling edge, the parent edge's).
EDGE_EVIDENCE_SQL = """
    SELECT e.person_id, e.related_person_id, e.relationship AS edge_relationship, e.basis,
           e.edge_source, e.source, e.record_id, e.related_record_id, e.relationship_key,
           e.via_person_id, e.address_key, e.agency, e.kind, e.line_number,
           e.recorded_relationship AS relationship, e.start_date, e.end_date
    FROM relationship_evidence e JOIN families f USING (person_id)
    WHERE f.family_id = ?
    ORDER BY ALL
"""


def _evidence_key(edge: Mapping[str, Any]) -> tuple:
    """Inferred co-residence evidence is stored once per pair, smaller person id first."""
    a, b = edge["person_id"], edge["related_person_id"]
    if edge["basis"] == "inferred":
        a, b = min(a, b), max(a, b)
    return (a, b, edge["relationship"], edge["basis"], edge.get("source"))


def _evidence_by_edge(items: Iterable[Mapping[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    by_edge: dict[tuple, list[dict[str, Any]]] = {}
    for item in items:
        key = (item["person_id"], item["related_person_id"], item["edge_relationship"],
               item["basis"], item["edge_source"])
        by_edge.setdefault(key, []).append(
            {k: v for k, v in item.items() if k not in
             ("person_id", "related_person_id", "edge_relationship", "basis", "edge_source")})
    return by_edge


def read_family_graph(con: duckdb.DuckDBPyConnection, person_id: str) -> nx.MultiDiGraph:
    """Load the family (connected component) of one person from the output database."""
    row = con.execute("SELECT family_id FROM families WHERE person_id = ?", [person_id]).fetchone()
    if row is None:
        raise FamlinkError(f"no person {person_id} in the output database")
    family_id = row[0]
    reference_date, window_start = con.execute(
        "SELECT reference_date, window_start FROM models_run"
    ).fetchone()  # type: ignore[misc]

    def rows(sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql, [family_id])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    persons = rows(
        """SELECT p.person_id, p.display_name, p.dob, p.sex, p.agencies, p.sources,
                  p.in_primary, p.min_link_probability
           FROM persons p JOIN families f USING (person_id) WHERE f.family_id = ?"""
    )
    edges = rows(
        """SELECT r.* FROM relationships_resolved r JOIN families f USING (person_id)
           WHERE f.family_id = ? ORDER BY ALL"""
    )
    evidence = _evidence_by_edge(rows(EDGE_EVIDENCE_SQL))
    for edge in edges:
        edge["evidence"] = evidence.get(_evidence_key(edge), [])
    residences = rows(
        """SELECT r.* FROM residences r JOIN families f USING (person_id)
           WHERE f.family_id = ? ORDER BY r.person_id, r.eff_from, r.address_key, r.source,
           r.record_id"""
    )
    graph = family_graph(
        persons, edges, residences, reference_date=reference_date, window_start=window_start
    )
    graph.graph["family_id"] = family_id
    return graph
