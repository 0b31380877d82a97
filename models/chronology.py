"""Multi-agency chronologies: every event of a child and the people around them, merged and
date-ordered, with family composition changes — built in DuckDB, rendered here as Markdown.

Members of a child's chronology: the child; parents, step-parents, carers and household
members recorded by any agency; full and half siblings (recorded or derived through a shared
parent); partners of a parent; adults co-resident with the child or the child's mother in the
window (the unrecorded adults among them). Each member has one `relation_to_child`, the first
that applies in `RELATION_ORDER`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from famlink.linkage.connection import SQLConnection

RELATION_ORDER = (
    "self",
    "mother",
    "father",
    "parent",
    "step_parent",
    "carer",
    "partner_of_mother",
    "partner_of_parent",
    "sibling",
    "half_sibling",
    "household_member",
    "co_resident",
    "co_resident_with_mother",
)

COLUMNS = (
    "child_person_id",
    "entry_no",
    "event_date",
    "agency",
    "source",
    "record_id",
    "event_key",
    "person_id",
    "person_name",
    "relation_to_child",
    "relation_basis",
    "entry_kind",
    "event_type",
    "role",
    "summary",
    "link_probability",
)


def build_chronology(con: SQLConnection) -> None:
    """Write `chronology` for every child in scope (`m_children`)."""
    con.execute("CREATE OR REPLACE TEMP TABLE m_relation_order(relation VARCHAR, rank INTEGER)")
    con.executemany(
        "INSERT INTO m_relation_order VALUES (?, ?)",
        [(r, i) for i, r in enumerate(RELATION_ORDER)],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_members AS
        WITH m AS (
            SELECT person_id AS child_id, person_id, 'self' AS relation, 'recorded' AS basis,
                   1.0::DOUBLE AS p
            FROM m_children
            UNION ALL
            SELECT rr.person_id, rr.related_person_id, rr.relationship,
                   CASE WHEN rr.basis = 'reciprocal' THEN 'recorded' ELSE rr.basis END,
                   rr.link_probability
            FROM relationships_resolved rr JOIN m_children c ON c.person_id = rr.person_id
            WHERE rr.relationship IN ('sibling', 'half_sibling')
              AND rr.basis <> 'inferred'
            UNION ALL
            SELECT a.child_id, a.adult_id, a.role,
                   CASE WHEN rr.basis IN ('recorded', 'reciprocal') THEN 'recorded' ELSE rr.basis END,
                   rr.link_probability
            FROM m_around_edges a
            JOIN relationships_resolved rr ON rr.person_id = a.person_id
                 AND rr.related_person_id = a.related_person_id
                 AND rr.relationship = a.relationship AND (a.basis IS NULL OR rr.basis = a.basis)
        )
        SELECT child_id, person_id,
               arg_min(m.relation, o.rank * 10 + CASE basis WHEN 'recorded' THEN 0
                                                   WHEN 'derived' THEN 1 ELSE 2 END) AS relation,
               arg_min(basis, o.rank * 10 + CASE basis WHEN 'recorded' THEN 0
                                                WHEN 'derived' THEN 1 ELSE 2 END) AS basis,
               max(p) AS link_probability
        FROM m JOIN m_relation_order o ON o.relation = m.relation
        GROUP BY child_id, person_id;

        CREATE OR REPLACE TEMP TABLE m_chrono AS
        SELECT m.child_id, ev.event_date, ev.agency, ev.source, ev.record_id, ev.event_key,
               ev.person_id, p.display_name AS person_name, m.relation, m.basis,
               'event' AS entry_kind, ev.event_type, ev.role,
               coalesce(nullif(ev.summary, ''), replace(ev.event_type, '_', ' ')) AS summary,
               CASE WHEN m.relation = 'self' THEN ev.link_probability
                    ELSE least(ev.link_probability, m.link_probability) END AS link_probability
        FROM m_members m JOIN m_events ev ON ev.person_id = m.person_id
        JOIN m_people p ON p.person_id = m.person_id
        UNION ALL
        -- births of siblings
        SELECT m.child_id, p.dob, s.agency, s.source, s.record_id, NULL, m.person_id,
               p.display_name, m.relation, m.basis, 'composition', 'sibling_birth', NULL,
               'Birth of ' || replace(m.relation, '_', '-') || ' ' || p.display_name,
               m.link_probability
        FROM m_members m JOIN m_people p ON p.person_id = m.person_id
        JOIN (SELECT rp.person_id, arg_min(sr.source, sr.source || ':' || sr.record_id) AS source,
                     arg_min(sr.agency, sr.source || ':' || sr.record_id) AS agency,
                     arg_min(sr.record_id, sr.source || ':' || sr.record_id) AS record_id
              FROM source_records sr JOIN m_record_prob rp USING (source, record_id)
              JOIN persons pp ON pp.person_id = rp.person_id AND pp.dob = sr.dob
              WHERE rp.person_id IN (SELECT person_id FROM m_members
                                     WHERE relation IN ('sibling', 'half_sibling'))
              GROUP BY rp.person_id) s ON s.person_id = m.person_id
        WHERE m.relation IN ('sibling', 'half_sibling') AND p.dob IS NOT NULL
        UNION ALL
        -- a partner appearing (first dated partner record)
        SELECT a.child_id, i.date_from, i.agency, i.source, i.record_id, NULL, a.adult_id,
               p.display_name, a.role, 'recorded', 'composition', 'new_partner', NULL,
               p.display_name || ' recorded as partner of the child''s '
               || CASE a.role WHEN 'partner_of_mother' THEN 'mother' ELSE 'parent' END,
               i.link_probability
        FROM (SELECT DISTINCT child_id, adult_id, role, person_id, related_person_id
              FROM m_around_edges
              WHERE role IN ('partner_of_mother', 'partner_of_parent')
                AND relationship = 'partner') a
        JOIN m_members mm ON mm.child_id = a.child_id AND mm.person_id = a.adult_id
             AND mm.relation = a.role
        JOIN m_people p ON p.person_id = a.adult_id
        JOIN (SELECT *, row_number() OVER (
                  PARTITION BY person_id, related_person_id
                  ORDER BY date_from, source, record_id) AS rn
              FROM m_edge_items WHERE relationship = 'partner' AND date_from IS NOT NULL) i
             ON i.person_id = a.person_id AND i.related_person_id = a.related_person_id
            AND i.rn = 1
        UNION ALL
        -- an unrelated adult moving in: their first dated residence at the shared address
        SELECT a.child_id, r.date_from, r.agency, r.source, r.record_id, NULL, a.adult_id,
               p.display_name, mm.relation, 'inferred', 'composition', 'new_co_resident', NULL,
               p.display_name || ' recorded at the '
               || CASE a.role WHEN 'co_resident' THEN 'child''s' ELSE 'mother''s' END
               || ' address from this date (co-residence inferred from addresses)',
               r.link_probability
        FROM (SELECT a.child_id, a.adult_id, min(a.role) AS role, e.address_key
              FROM (SELECT child_id, adult_id, role, person_id
                    FROM m_around_edges WHERE role = 'co_resident'
                    UNION ALL
                    -- the mother's addresses too, also where the adult shares the child's:
                    -- the flag rules then need only the child's, a chronology shows both
                    SELECT m.child_id, rr.related_person_id, 'co_resident_with_mother',
                           m.mother_id
                    FROM m_mother m JOIN relationships_resolved rr
                         ON rr.person_id = m.mother_id AND rr.relationship = 'co_resident') a
              -- inferred co-residence evidence is stored once per pair, smaller id first
              JOIN relationship_evidence e ON e.basis = 'inferred'
                   AND e.person_id = least(a.person_id, a.adult_id)
                   AND e.related_person_id = greatest(a.person_id, a.adult_id)
              GROUP BY a.child_id, a.adult_id, e.address_key) a
        JOIN m_members mm ON mm.child_id = a.child_id AND mm.person_id = a.adult_id
             AND mm.relation NOT IN ('self', 'mother', 'father', 'parent', 'step_parent',
                                     'sibling', 'half_sibling')
        JOIN m_people p ON p.person_id = a.adult_id
        JOIN (SELECT *, row_number() OVER (PARTITION BY person_id, address_key
                                           ORDER BY date_from, source, record_id) AS rn
              FROM residences
              WHERE date_from IS NOT NULL
                AND person_id IN (SELECT adult_id FROM m_around_edges
                                  WHERE role IN ('co_resident', 'co_resident_with_mother'))) r
             ON r.person_id = a.adult_id AND r.address_key = a.address_key AND r.rn = 1
        UNION ALL
        -- the child's moves of address (dated residence records)
        SELECT r.person_id, r.date_from, r.agency, r.source, r.record_id, NULL, r.person_id,
               p.display_name, 'self', 'recorded', 'composition', 'address_move', NULL,
               'Recorded at ' || concat_ws(' ', r.address, r.postcode, '[UPRN ' || r.uprn || ']'),
               r.link_probability
        FROM (SELECT *, row_number() OVER (PARTITION BY person_id, address_key
                                           ORDER BY date_from, source, record_id) AS rn
              FROM residences
              WHERE date_from IS NOT NULL AND person_id IN (SELECT person_id FROM m_children)) r
        JOIN m_children c ON c.person_id = r.person_id
        JOIN m_people p ON p.person_id = r.person_id
        WHERE r.rn = 1;

        CREATE OR REPLACE TABLE chronology AS
        SELECT child_id AS child_person_id,
               row_number() OVER (PARTITION BY child_id
                   ORDER BY event_date, entry_kind, agency, source, record_id,
                            event_key, person_id, event_type)::INTEGER AS entry_no,
               event_date, agency, source, record_id, event_key, person_id, person_name,
               relation AS relation_to_child, basis AS relation_basis, entry_kind, event_type,
               role, summary, link_probability
        FROM (SELECT DISTINCT * FROM m_chrono)
        """
    )


RELATION_TEXT = {
    "self": "child",
    "partner_of_mother": "mother's partner",
    "partner_of_parent": "parent's partner",
    "co_resident": "co-resident",
    "co_resident_with_mother": "co-resident with mother",
}


def relation_label(relation: str, basis: str) -> str:
    """Human label for a member's relation to the child.

    >>> relation_label("co_resident", "inferred")
    'co-resident (inferred)'
    >>> relation_label("half_sibling", "derived")
    'half sibling (derived)'
    """
    text = RELATION_TEXT.get(relation, relation.replace("_", " "))
    return text if basis == "recorded" else f"{text} ({basis})"


def render_markdown(
    child: dict[str, Any], rows: Sequence[dict[str, Any]], *, reference_date: date | None = None
) -> str:
    """A chronology as a Markdown document (one table), from `chronology` rows as dicts.

    >>> print(render_markdown({"person_id": "P1", "display_name": "Amy Hall"}, [
    ...     {"event_date": date(2026, 1, 2), "agency": "Police", "source": "police",
    ...      "record_id": "PL1", "person_name": "Joe Bloggs", "relation_to_child":
    ...      "co_resident", "relation_basis": "inferred", "event_type": "domestic_abuse",
    ...      "role": "suspect", "summary": "Call-out | shouting", "link_probability": 0.97}]))
    # Chronology for Amy Hall (P1)
    <BLANKLINE>
    | date | agency | record | who | relation to child | event | summary | link p |
    |---|---|---|---|---|---|---|---|
    | 2026-01-02 | Police | police PL1 | Joe Bloggs | co-resident (inferred) | domestic_abuse (suspect) | Call-out \\| shouting | 0.97 |
    """
    title = f"# Chronology for {child['display_name']} ({child['person_id']})"
    if reference_date:
        title += f" — as at {reference_date.isoformat()}"
    lines = [
        title,
        "",
        "| date | agency | record | who | relation to child | event | summary | link p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        event = r["event_type"] + (f" ({r['role']})" if r.get("role") else "")
        cells = [
            r["event_date"].isoformat() if r["event_date"] else "",
            r["agency"] or "",
            f"{r['source']} {r['record_id']}" if r.get("source") else "",
            r["person_name"] or "",
            relation_label(r["relation_to_child"], r["relation_basis"]),
            event,
            r["summary"] or "",
            "" if r["link_probability"] is None else f"{r['link_probability']:.2f}",
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
