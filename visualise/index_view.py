"""The index page: every flagged child, filterable and sortable, with the run manifest."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from markupsafe import Markup

from famlink.visualise.data import IndexData, age_on
from famlink.visualise.page import asset, probability, render_page, script_json
from famlink.visualise.redact import age_band, initials

INDEX_COLUMNS = ["Child", "Age", "Flag types", "Flags", "Agencies", "Weakest link", "Family"]
INPUT_COLUMNS = ["source", "kind", "path", "rows", "sha256"]


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


def render_index(
    data: IndexData, *, redact: bool = False, hrefs: Mapping[str, str] | None = None
) -> str:
    """The index of flagged children as one self-contained HTML string.

    ``hrefs`` maps a child's person id to the (relative) link of their view; by default
    :func:`child_view_filename`.
    """
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
                "" if age is None else age_text.split("–")[0].rstrip("+").replace("under 1", "0")
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
                "link_probability": probability(r.min_link_probability),
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
    app_js = asset("index.js")
    n_children = len(data.rows)
    return render_page(
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
