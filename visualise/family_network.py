"""The family as a network: a vis-network node per person and an edge per group of relationship
rows, with the side panels they open (a person's records, a link's evidence) and the rows of
the people table.
"""

from __future__ import annotations

from typing import Any

from famlink.visualise import graph
from famlink.visualise.data import FamilyViewData, PersonData
from famlink.visualise.page import probability
from famlink.visualise.present import Presenter

RECORD_COLUMNS = ["Agency", "Source", "Record id", "Name as recorded", "Date of birth as recorded"]
LINK_EVIDENCE_COLUMNS = [
    "Says",
    "Basis",
    "Agency",
    "Source",
    "Record id",
    "Related record id",
    "Line",
    "Relationship key",
    "From",
    "To",
]
PEOPLE_COLUMNS = [
    "Name",
    "Role",
    "Date of birth",
    "Agencies",
    "Records",
    "On a primary record",
    "Weakest link",
    "Person id",
]
LABEL_MAX = 26  # characters of a name drawn on the canvas; the tooltip has it all
SHARED_ADDRESS = "Also at the same address (inferred from addresses, not recorded)"
ALSO_DERIVED = "Also follows from their recorded parents (derived)"

ROLE_TEXT = {"focus_child": "child in focus", "child": "child", "adult": "adult"}


def _agencies_text(n: int) -> str:
    return "1 agency" if n == 1 else f"{n} agencies"


def _node_style(p: PersonData) -> dict[str, Any]:
    n_agencies = len(p.agencies)
    size = 14 + 4 * min(n_agencies, 6)
    border = "#1b1b1b"
    if p.role == "focus_child":
        shape, fill, size, width = "star", "#F0E442", size + 8, 2
    elif p.named_in_flag:
        shape, fill, width = "diamond", "#D55E00", 4
    elif p.role == "child":
        shape, fill, width = "dot", "#56B4E9", 2
    else:
        shape, fill, width = "square", "#DDDDDD", 2
    style: dict[str, Any] = {
        "shape": shape,
        "size": size,
        "borderWidth": width,
        "color": {
            "background": fill,
            "border": border,
            "highlight": {"background": fill, "border": "#000000"},
            "hover": {"background": fill, "border": "#000000"},
        },
    }
    if not p.in_primary:
        style["shapeProperties"] = {"borderDashes": [5, 4]}
    return style


def people_network(
    data: FamilyViewData, show: Presenter, coords: dict[str, tuple[int, int]]
) -> tuple[list[dict[str, Any]], dict[str, Any], list[list[str]]]:
    """vis nodes, the side panel of each person and the rows of the people table."""
    from pyvis.node import Node

    flag_types_by_adult: dict[str, list[str]] = {}
    for f in data.flags:
        if f.adult_person_id:
            flag_types_by_adult.setdefault(f.adult_person_id, []).append(
                f.flag_type.replace("_", " ")
            )

    nodes: list[dict[str, Any]] = []
    people_panel: dict[str, Any] = {}
    people_rows: list[list[str]] = []
    for p in data.persons:
        name = show.name(p.person_id)
        short = name if len(name) <= LABEL_MAX else name[: LABEL_MAX - 1] + "…"
        label_lines = [short, f"{show.age(p)} · {_agencies_text(len(p.agencies))}"]
        if p.named_in_flag:
            label_lines.append("named in a flag")
        flag_note = "; ".join(sorted(set(flag_types_by_adult.get(p.person_id, []))))
        tooltip = "\n".join(
            x
            for x in [
                name,
                f"{ROLE_TEXT[p.role]} · {show.dob(p)}",
                "Agencies: " + ("; ".join(p.agencies) or "none"),
                "" if p.in_primary else "On no primary (children's social care / health) record",
                f"Named in flag: {flag_note}" if flag_note else "",
                f"Weakest link in this person: {probability(p.min_link_probability)}",
                "Click for records by agency",
            ]
            if x
        )
        x, y = coords[p.person_id]
        nodes.append(
            Node(
                p.person_id, label="\n".join(label_lines), title=tooltip, x=x, y=y, **_node_style(p)
            ).options
        )
        facts = [
            ["Role", ROLE_TEXT[p.role]],
            ["Age band" if show.redact else "Date of birth", show.dob(p)],
            ["Sex", p.sex or ""],
            ["Agencies", "; ".join(p.agencies)],
            ["Primary record", "yes" if p.in_primary else "no — on no primary record"],
            ["Named in flag", flag_note],
            ["Weakest link", probability(p.min_link_probability)],
            ["Person id", p.person_id],
        ]
        records = [
            [
                r.agency,
                r.source,
                r.record_id,
                show.recorded_name(r.first_name, r.middle_names, r.surname),
                "withheld" if show.redact else (r.dob_raw or ""),
            ]
            for r in p.records
        ]
        people_panel[p.person_id] = {"name": name, "facts": facts, "records": records}
        people_rows.append(
            [
                name,
                ROLE_TEXT[p.role] + (" (named in a flag)" if p.named_in_flag else ""),
                show.dob(p),
                "; ".join(p.agencies),
                str(p.n_records),
                "yes" if p.in_primary else "no",
                probability(p.min_link_probability),
                p.person_id,
            ]
        )

    return nodes, people_panel, people_rows


def link_network(
    edges: list[graph.EdgeGroup], show: Presenter, smooth: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """vis edges and the side panel (evidence) of each."""
    from pyvis.edge import Edge

    vis_edges: list[dict[str, Any]] = []
    links_panel: dict[str, Any] = {}
    basis_text = {b: text for b, _, text in graph.BASES}
    for e in edges:
        terms = ", ".join(t.replace("_", " ") for t in e.terms)
        if e.basis == "recorded":
            label = f"{terms} ({', '.join(e.sources)})"
        elif e.category == "household":
            label = ""  # grey and dashed says it; the tooltip and panel give the evidence
        else:
            label = f"{terms} ({e.basis})"
        a, b = show.name(e.from_id), show.name(e.to_id)
        heading = f"{a} — {terms} — {b}"
        dates = sorted({(show.date(r.start_date), show.date(r.end_date)) for r in e.rows})
        tooltip = "\n".join(
            x
            for x in [
                heading,
                basis_text[e.basis],
                ("Recorded by: " + "; ".join(e.agencies)) if e.agencies else "",
                SHARED_ADDRESS if e.shared_address else "",
                ALSO_DERIVED if e.also_derived else "",
                f"Weakest person link: {probability(e.link_probability)}"
                if e.link_probability is not None
                else "",
                "Click for the evidence",
            ]
            if x
        )
        dashes = graph.BASIS_DASHES[e.basis]
        colour = graph.CATEGORY_COLOUR[e.category]
        vis_edges.append(
            Edge(
                e.from_id,
                e.to_id,
                directed=e.directed,
                id=e.edge_id,
                label=label,
                title=tooltip,
                dashes=dashes,
                width=3 if e.basis == "recorded" else 2,
                smooth=smooth[e.edge_id],
                color={"color": colour, "highlight": colour, "hover": colour},
            ).options
        )
        evidence = _evidence_rows(e, show)
        links_panel[e.edge_id] = {
            "heading": heading,
            "facts": [
                ["Relationship", terms],
                ["Basis", basis_text[e.basis]],
                ["Recorded by", "; ".join(e.agencies)],
                ["Same address", SHARED_ADDRESS if e.shared_address else ""],
                ["Also derived", ALSO_DERIVED if e.also_derived else ""],
                ["Dates", "; ".join(f"{s or '?'} to {t or 'now'}" for s, t in dates if s or t)],
                ["Weakest person link", probability(e.link_probability)],
            ],
            "evidence": evidence,
        }

    return vis_edges, links_panel


def _evidence_rows(e: graph.EdgeGroup, show: Presenter) -> list[list[str]]:
    """What a link's side panel lists: one row per evidence item of each relationship row
    (recorded first), an item seen already for this link only once."""
    evidence: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for r in [*sorted(e.rows, key=lambda r: r.basis != "recorded"), *e.folded]:
        if r.relationship == "co_resident":
            says = f"{show.name(r.person_id)} and {show.name(r.related_person_id)} share an address"
        else:
            says = f"{show.name(r.related_person_id)} is {show.name(r.person_id)}'s {r.relationship.replace('_', ' ')}"
        items = r.evidence or ({},)
        for item in items:
            row = [
                says,
                r.basis,
                str(item.get("agency") or r.agency or ""),
                str(item.get("source") or r.source or ""),
                str(item.get("record_id") or ""),
                str(item.get("related_record_id") or ""),
                str(item.get("line_number") or ""),
                str(item.get("relationship_key") or ""),
                show.date(item.get("start_date")),
                show.date(item.get("end_date")),
            ]
            key = tuple(row[2:])
            if key in seen and item:
                continue
            seen.add(key)
            evidence.append(row)
    return evidence
