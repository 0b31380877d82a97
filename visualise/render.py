"""Render views to self-contained HTML strings.

Everything a view shows passes through one :class:`_Presenter`, which applies redaction, so a
redacted file holds no name or date of birth in any label, tooltip, panel or table. The page is
the project's own Jinja template (``autoescape=True``) with vis-network inlined from pyvis's
bundled copy; data reach ``<script>`` only as JSON with ``<``, ``>`` and ``&`` escaped, and a
Content-Security-Policy with hashes of the page's own script and style forbids everything else
(no network requests, no inline handlers).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup

from linkage import __version__
from visualise import graph
from visualise.data import FamilyViewData, IndexData, PersonData
from visualise.redact import WITHHELD_DOB, WITHHELD_SUMMARY, Scrubber, age_band, initials

T = TypeVar("T")

VIS_NETWORK = ("lib", "vis-9.1.2", "vis-network.min.js")

REDACTION_NOTICE = (
    "Redacted view for sharing beyond the core team: names are initials, dates of birth are "
    "age bands (and any date equal to a date of birth is withheld), addresses are withheld, "
    "chronology summaries and event descriptions (agency free text, which may name anyone) are "
    "dropped, and known names and dates of birth are removed from flag explanations."
)

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
INDEX_COLUMNS = ["Child", "Age", "Flag types", "Flags", "Agencies", "Weakest link", "Family"]
INPUT_COLUMNS = ["source", "kind", "path", "rows", "sha256"]

LABEL_MAX = 26  # characters of a name drawn on the canvas; the tooltip has it all

CROWDED_EDGES = 16  # above this many lines, edge labels wait until the reviewer zooms in
SHARED_ADDRESS = "Also at the same address (inferred from addresses, not recorded)"
ALSO_DERIVED = "Also follows from their recorded parents (derived)"

ROLE_TEXT = {"focus_child": "child in focus", "child": "child", "adult": "adult"}


# --------------------------------------------------------------------------------------
# assets and escaping


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("visualise", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def _asset(name: str) -> str:
    return (resources.files("visualise") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def vis_network_js() -> str:
    """vis-network as bundled inside the installed pyvis package (never fetched)."""
    path = resources.files("pyvis").joinpath(*VIS_NETWORK)
    text = path.read_text(encoding="utf-8")
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:  # would end the inline <script> early
        raise RuntimeError(f"{path} cannot be inlined safely")
    return text


def script_json(value: Any) -> Markup:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped.

    >>> str(script_json({"name": "</script><b>&"}))
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return Markup(text)


def _sha256(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def content_security_policy(scripts: list[str], styles: list[str]) -> str:
    """A CSP allowing only the page's own inline scripts and styles (by hash): nothing else loads."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_sha256(s) for s in scripts),
            "style-src " + " ".join(_sha256(s) for s in styles),
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _render(template: str, *, scripts: list[str], **context: Any) -> str:
    css = _asset("view.css")
    return (
        _env()
        .get_template(template)
        .render(
            csp=content_security_policy(scripts, [css]),
            css=Markup(css),
            version=__version__,
            redaction_notice=REDACTION_NOTICE,
            **context,
        )
    )


def _prob(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------------------
# presentation (redaction lives here, once)


class _Presenter:
    """Every string a family view shows, redacted or not."""

    def __init__(self, data: FamilyViewData, redact: bool) -> None:
        self.data = data
        self.redact = redact
        self.people = {p.person_id: p for p in data.persons}
        dobs: set[date] = {p.dob for p in data.persons if p.dob} | {
            r.dob for p in data.persons for r in p.records if r.dob
        }
        self._dob_iso = {d.isoformat() for d in dobs}
        self.scrub: Scrubber | None = None
        if redact:
            names: list[str | None] = []
            for p in data.persons:
                names += [p.display_name, p.first_name, p.surname]
                for r in p.records:
                    names += [r.first_name, r.middle_names, r.surname]
            names += list(data.household_names.values())
            names += [e.person_name for _, entries in data.chronologies for e in entries]
            raw = [r.dob_raw for p in data.persons for r in p.records]
            places = [
                x for p in data.persons for r in p.records for x in (r.address, r.postcode, r.uprn)
            ]
            for h in data.households:
                places.append(h.address)
                if h.address_key:  # uprn:<UPRN> or addr:<postcode>|<address_clean>
                    places += h.address_key.partition(":")[2].split("|")
            self.scrub = Scrubber(names, [*sorted(dobs), *raw], places)

    def name(self, person_id: str | None, fallback: str | None = None) -> str:
        if person_id is None:
            return self.free_name(fallback)
        p = self.people.get(person_id)
        if p is None:
            return self.free_name(self.data.household_names.get(person_id) or fallback or person_id)
        if self.redact:
            if p.first_name or p.surname:
                return initials(p.first_name, p.surname)
            return initials(*p.display_name.split())
        return p.display_name or person_id

    def free_name(self, name: str | None) -> str:
        if not name:
            return ""
        return initials(*name.split()) if self.redact else name

    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        text = value.isoformat() if isinstance(value, date) else str(value)
        if self.redact and text[:10] in self._dob_iso:
            return WITHHELD_DOB
        return text

    def text(self, value: str | None) -> str:
        if value is None:
            return ""
        return (self.scrub(value) or "") if self.scrub else value

    def content(self, value: T) -> T:
        """Every string inside ``value`` (lists, dicts) through :meth:`text`.

        Applied to everything a reader sees when redacting, as a last sweep: models' columns
        can carry names anywhere (e.g. "sibling (derived via <name>)").
        """
        if not self.scrub:
            return value
        if isinstance(value, str):
            return self.text(value)  # type: ignore[return-value]
        if isinstance(value, list):
            return [self.content(v) for v in value]  # type: ignore[return-value]
        if isinstance(value, tuple):
            return tuple(self.content(v) for v in value)  # type: ignore[return-value]
        if isinstance(value, dict):
            return {k: self.content(v) for k, v in value.items()}  # type: ignore[return-value]
        return value

    def visible(self, item: dict[str, Any]) -> dict[str, Any]:
        """A vis node or edge with its label and tooltip swept (ids, colours, options kept)."""
        return {k: self.content(v) if k in ("label", "title") else v for k, v in item.items()}

    def dob(self, p: PersonData) -> str:
        if self.redact:
            return age_band(p.age_years)
        if p.dob is None:
            return "not recorded"
        return p.dob.isoformat() + (f" (age {p.age_years})" if p.age_years is not None else "")

    def age(self, p: PersonData) -> str:
        if self.redact:
            return age_band(p.age_years)
        return "age unknown" if p.age_years is None else f"age {p.age_years}"

    def recorded_name(self, first: str | None, middle: str | None, surname: str | None) -> str:
        if self.redact:
            return initials(first, surname)
        return " ".join(x for x in (first, middle, surname) if x)


def _agencies_text(n: int) -> str:
    return "1 agency" if n == 1 else f"{n} agencies"


# --------------------------------------------------------------------------------------
# family view


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
    data: FamilyViewData, show: _Presenter, coords: dict[str, tuple[int, int]]
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
                f"Weakest link in this person: {_prob(p.min_link_probability)}",
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
            ["Weakest link", _prob(p.min_link_probability)],
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
                _prob(p.min_link_probability),
                p.person_id,
            ]
        )

    return nodes, people_panel, people_rows


def _links(
    edges: list[graph.EdgeGroup], show: _Presenter, smooth: dict[str, Any]
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
                f"Weakest person link: {_prob(e.link_probability)}"
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
                ["Weakest person link", _prob(e.link_probability)],
            ],
            "evidence": evidence,
        }

    return vis_edges, links_panel


def _flags(data: FamilyViewData, show: _Presenter) -> list[dict[str, Any]]:
    flags = []
    for f in data.flags:
        flags.append(
            {
                "type": f.flag_type.replace("_", " "),
                "key": f.flag_key,
                "child": show.name(f.child_person_id),
                "adult": show.name(f.adult_person_id) if f.adult_person_id else "",
                "explanation": show.text(f.explanation),
                "link_probability": _prob(f.link_probability),
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
                        _prob(ev.link_probability),
                    ]
                    for ev in f.evidence
                ],
            }
        )

    return flags


def _households(data: FamilyViewData, show: _Presenter) -> list[dict[str, Any]]:
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


def _chronologies(data: FamilyViewData, show: _Presenter) -> list[dict[str, Any]]:
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
                        _prob(c.link_probability),
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
    show = _Presenter(data, redact)
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
    app_js = _asset("family.js")
    return _render(
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


# --------------------------------------------------------------------------------------
# index


def child_view_filename(child_id: str) -> str:
    """The file name of a child's view inside the views folder."""
    return f"child-{_safe_id(child_id)}.html"


def family_view_filename(family_id: str) -> str:
    return f"family-{_safe_id(family_id)}.html"


def _safe_id(value: str) -> str:
    if (
        value
        and len(value) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    ):
        return value
    return "x" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


_RELATIVE_HTML = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*\.html")
_BAND_ORDER = {"under 1": 0, "1–4": 1, "5–9": 5, "10–15": 10, "16–17": 16}


def render_index(
    data: IndexData, *, redact: bool = False, hrefs: Mapping[str, str] | None = None
) -> str:
    """The index of flagged children as one self-contained HTML string.

    ``hrefs`` maps a child's person id to the (relative) link of their view; by default
    :func:`child_view_filename`.
    """
    from visualise.data import age_on

    rows = []
    payload = []
    agencies: set[str] = set()
    for r in data.rows:
        age = age_on(r.dob, data.reference_date)
        if redact:
            name = (
                initials(r.first_name, r.surname)
                if r.first_name or r.surname
                else initials(*r.display_name.split())
            )
            age_text = age_band(age)
            age_sort = (
                ""
                if age is None
                else str(_BAND_ORDER.get(age_text, age_text.rstrip("+").split("–")[0]))
            )
        else:
            name = r.display_name or r.child_person_id
            age_text = (
                "age unknown"
                if age is None
                else f"{age} (born {r.dob.isoformat()})"
                if r.dob
                else ""
            )
            age_sort = (
                ""
                if r.dob is None or data.reference_date is None
                else str((data.reference_date - r.dob).days)
            )
        href = (hrefs or {}).get(r.child_person_id) or child_view_filename(r.child_person_id)
        if not _RELATIVE_HTML.fullmatch(href):
            raise ValueError(f"view links must be relative .html file names, not {href!r}")
        rows.append(
            {
                "name": name,
                "sort_name": name.casefold(),
                "href": href,
                "age": age_text,
                "age_sort": age_sort,
                "flag_types": ", ".join(t.replace("_", " ") for t in r.flag_types),
                "n_flags": r.n_flags,
                "agencies": "; ".join(r.agencies),
                "link_probability": _prob(r.min_link_probability),
                "family_id": r.family_id or "",
            }
        )
        payload.append({"flag_types": list(r.flag_types), "agencies": list(r.agencies)})
        agencies.update(r.agencies)
    run = None
    if data.run:
        hidden = data.run.personal_fields if redact else frozenset()
        run = {
            "fields": [(k, v) for k, v in data.run.fields if k not in hidden],
            "inputs": [[str(i.get(c, "")) for c in INPUT_COLUMNS] for i in data.run.inputs],
        }
    app_js = _asset("index.js")
    n_children = len(data.rows)
    return _render(
        "index.html.j2",
        scripts=[app_js],
        title="famlink — children with flags",
        subtitle=" · ".join(
            x
            for x in [
                f"{n_children} {'child' if n_children == 1 else 'children'} with "
                f"{sum(n for _, n, _ in data.flag_type_counts)} flags",
                f"reference date {data.reference_date.isoformat()}" if data.reference_date else "",
            ]
            if x
        ),
        redacted=redact,
        counts=[(t.replace("_", " "), n, c) for t, n, c in data.flag_type_counts],
        flag_options=[(t, t.replace("_", " ")) for t, _, _ in data.flag_type_counts],
        agency_options=sorted(agencies),
        columns=INDEX_COLUMNS,
        rows=rows,
        run=run,
        input_columns=INPUT_COLUMNS,
        payload=script_json(payload),
        app_js=Markup(app_js),
    )
