"""The family view: one family (or one child's family) as a network, with flags, people,
households and the chronology as tables underneath.

This module assembles the page; :mod:`family_network` builds the network and its side panels,
:mod:`family_tables` the tables.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from famlink.visualise import graph
from famlink.visualise.data import FamilyViewData
from famlink.visualise.family_network import (
    LINK_EVIDENCE_COLUMNS,
    PEOPLE_COLUMNS,
    RECORD_COLUMNS,
    link_network,
    people_network,
)
from famlink.visualise.family_tables import (
    CHRONOLOGY_COLUMNS,
    FLAG_EVIDENCE_COLUMNS,
    HOUSEHOLD_COLUMNS,
    chronology_tables,
    flag_tables,
    household_tables,
)
from famlink.visualise.page import asset, render_page, script_json, vis_network_js
from famlink.visualise.present import Presenter

CROWDED_EDGES = 16  # above this many lines, edge labels wait until the reviewer zooms in


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
    nodes, people_panel, people_rows = people_network(data, show, coords)
    vis_edges, links_panel = link_network(edges, show, smooth)
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
        flags=show.content(flag_tables(data, show)),
        evidence_columns=FLAG_EVIDENCE_COLUMNS,
        people=show.content(people_rows),
        people_columns=PEOPLE_COLUMNS,
        households=show.content(household_tables(data, show)),
        household_columns=HOUSEHOLD_COLUMNS,
        chronologies=show.content(chronology_tables(data, show)),
        chronology_columns=CHRONOLOGY_COLUMNS,
        run=run,
        payload=script_json(payload),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
    )
