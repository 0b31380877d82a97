"""The family view: one family (or one child's family) as a network, with flags, people,
households and the chronology as tables underneath."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from famlink.visualise import graph
from famlink.visualise.data import FamilyViewData, PersonData
from famlink.visualise.page import asset, probability, render_page, script_json, vis_network_js
from famlink.visualise.present import Presenter
from famlink.visualise.redact import WITHHELD_SUMMARY

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
FLAG_EVIDENCE_COLUMNS = [
    "#",
    "Part",
    "Kind",
    "Agency",
    "Source record",
    "Related record",
    "Relationship or event",
    "From",
    "To",
    "Description",
    "Link probability",
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
HOUSEHOLD_COLUMNS = ["Person", "From", "To", "Sources"]
CHRONOLOGY_COLUMNS = [
    "Date",
    "Agency",
    "Source record",
    "Who",
    "Relation to child",
    "Kind",
    "Event",
    "Role",
    "Summary",
    "Link probability",
]
LABEL_MAX = 26  # characters of a name drawn on the canvas; the tooltip has it all

CROWDED_EDGES = 16  # above this many lines, edge labels wait until the reviewer zooms in
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


def _vis_data(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], options: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Let pyvis assemble the vis-network data (lists assigned directly: no quadratic add_node)."""
    from pyvis.network import Network  # imports IPython: only when a view is rendered

    net = Network(directed=True, cdn_resources="in_line")
    net.nodes = nodes
    net.edges = edges
    net.options = options  # type: ignore[assignment]
    out_nodes, out_edges, _heading, _height, _width, options_json = net.get_network_data()
    return out_nodes, out_edges, json.loads(options_json)


VIS_OPTIONS: dict[str, Any] = {
    "autoResize": True,
    "physics": {"enabled": False},
    "layout": {"randomSeed": 20240611, "improvedLayout": False, "hierarchical": {"enabled": False}},
    "interaction": {
        "hover": True,
        "tooltipDelay": 120,
        "navigationButtons": False,
        "keyboard": False,
        "multiselect": False,
        "dragNodes": True,
    },
    "nodes": {
        "font": {
            "size": 15,
            "face": "system-ui, Arial, sans-serif",
            "color": "#1b1b1b",
            "strokeWidth": 3,
            "strokeColor": "#ffffff",
        }
    },
    "edges": {
        "font": {
            "size": 12,
            "face": "system-ui, Arial, sans-serif",
            "align": "horizontal",
            "color": "#1b1b1b",
            "strokeWidth": 3,
            "strokeColor": "#ffffff",
        },
        "arrows": {"to": {"enabled": False, "scaleFactor": 0.7}},
        "selectionWidth": 2,
        # a crowded family is drawn zoomed out: edge labels appear as the reviewer zooms in
        "scaling": {"label": {"enabled": True, "drawThreshold": 9}},
    },
}


def _people(
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


def _links(
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


def _flags(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    flags = []
    for f in data.flags:
        flags.append(
            {
                "type": f.flag_type.replace("_", " "),
                "key": f.flag_key,
                "child": show.name(f.child_person_id),
                "adult": show.name(f.adult_person_id) if f.adult_person_id else "",
                "explanation": show.text(f.explanation),
                "link_probability": probability(f.link_probability),
                "evidence": [
                    [
                        str(ev.item_no),
                        ev.part or "",
                        ev.kind if not ev.basis else f"{ev.kind or ''} ({ev.basis})",
                        ev.agency or "",
                        f"{ev.source or ''}:{ev.record_id or ''}" if ev.record_id else "",
                        ev.related_record_id or "",
                        (ev.relationship or ev.event_type or "").replace("_", " "),
                        show.date(ev.date_from),
                        show.date(ev.date_to),
                        (
                            WITHHELD_SUMMARY
                            if show.redact and ev.kind == "event"
                            else show.text(ev.description)
                        ),
                        probability(ev.link_probability),
                    ]
                    for ev in f.evidence
                ],
            }
        )

    return flags


def _households(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    households = []
    for h in data.households:
        where = (
            "address withheld"
            if show.redact
            else (h.address or h.address_key or "address not recorded")
        )
        if h.is_communal:
            where += " (communal: no co-residence is inferred here)"
        households.append(
            {
                "heading": f"Household {h.household_id} — {where}",
                "rows": [
                    [
                        show.name(m.person_id),
                        show.date(m.date_from),
                        show.date(m.date_to) or "now",
                        "; ".join(m.sources),
                    ]
                    for m in h.members
                ],
            }
        )

    return households


def _chronologies(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    chronologies = []
    for child_id, entries in data.chronologies:
        chronologies.append(
            {
                "child": show.name(child_id),
                "rows": [
                    [
                        show.date(c.event_date),
                        c.agency or "",
                        f"{c.source or ''}:{c.record_id or ''}" if c.record_id else "",
                        show.name(c.person_id, c.person_name)
                        if c.person_id
                        else show.free_name(c.person_name),
                        (c.relation_to_child or "").replace("_", " ")
                        + (
                            f" ({c.relation_basis})"
                            if c.relation_basis and c.relation_basis != "recorded"
                            else ""
                        ),
                        c.entry_kind or "",
                        (c.event_type or "").replace("_", " "),
                        c.role or "",
                        WITHHELD_SUMMARY if show.redact else (c.summary or ""),
                        probability(c.link_probability),
                    ]
                    for c in entries
                ],
            }
        )

    return chronologies


def render_family_view(data: FamilyViewData, *, redact: bool = False) -> str:
    """The family view as one self-contained HTML string.

    Parameters
    ----------
    data:
        From :func:`visualise.family_view_data`.
    redact:
        Initials for names and age bands for dates of birth everywhere in the page, addresses
        withheld, agency free text (chronology summaries, event descriptions) dropped.
    """
    show = Presenter(data, redact)
    edges = graph.edge_groups(data)
    coords = graph.layout(data, edges)
    smooth = graph.edge_smoothness(edges, coords)
    nodes, people_panel, people_rows = _people(data, show, coords)
    vis_edges, links_panel = _links(edges, show, smooth)
    nodes, vis_edges = [show.visible(n) for n in nodes], [show.visible(e) for e in vis_edges]
    people_panel, links_panel = show.content(people_panel), show.content(links_panel)
    options = json.loads(json.dumps(VIS_OPTIONS))
    if len(edges) > CROWDED_EDGES:  # labels only once zoomed in, or they cover each other
        options["edges"]["scaling"]["label"]["drawThreshold"] = 13
    vis_nodes, vis_edges, options = _vis_data(nodes, vis_edges, options)

    focus = data.focus_child_id
    if focus:
        title = f"Family view — {show.name(focus)}"
    else:
        title = f"Family view — family {data.family_id}"
    subtitle = " · ".join(
        x
        for x in [
            f"Family {data.family_id}" if data.family_id else "Not in any family",
            f"{len(data.persons)} people, {len(edges)} relationships",
            f"reference date {data.reference_date.isoformat()}" if data.reference_date else "",
            f"child in focus: {show.name(focus)} ({focus})" if focus else "",
        ]
        if x
    )
    run = None
    if data.run:
        fields = dict(data.run.fields)
        run = {
            "run_id": fields.get("run_id", ""),
            "when": fields.get("started_at", ""),
            "reference_date": fields.get("reference_date", ""),
            "famlink_version": fields.get("famlink_version", ""),
        }

    payload = {
        "nodes": vis_nodes,
        "edges": vis_edges,
        "options": options,
        "people": people_panel,
        "links": links_panel,
        "record_columns": RECORD_COLUMNS,
        "evidence_columns": LINK_EVIDENCE_COLUMNS,
    }
    vis_js = vis_network_js()
    app_js = asset("family.js")
    return render_page(
        "family.html.j2",
        scripts=[vis_js, app_js],
        title=title,
        subtitle=subtitle,
        redacted=redact,
        n_links=len(edges),
        categories=graph.CATEGORIES,
        bases=[
            (b, " ".join(map(str, d)) if isinstance(d, list) else "", text)
            for b, d, text in graph.BASES
        ],
        flags=show.content(_flags(data, show)),
        evidence_columns=FLAG_EVIDENCE_COLUMNS,
        people=show.content(people_rows),
        people_columns=PEOPLE_COLUMNS,
        households=show.content(_households(data, show)),
        household_columns=HOUSEHOLD_COLUMNS,
        chronologies=show.content(_chronologies(data, show)),
        chronology_columns=CHRONOLOGY_COLUMNS,
        run=run,
        payload=script_json(payload),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
    )
