"""Person-to-person edges: recorded, reciprocal, derived (siblings) — set work in DuckDB.

Every edge reads "`related_person_id` is `person_id`'s `relationship`", the same direction
as linkage's `relationships` table. One row of the internal `m_edge_items` table is one piece
of evidence for an edge (an agency record; inferred co-residence has its own `m_co_items`,
see `models.residences`); `relationships_resolved` is its aggregate, one row per edge and source, and
`relationship_evidence` keeps the items themselves.
"""

from __future__ import annotations

from famlink.linkage.connection import SQLConnection

# The reverse of each recorded relationship. `child` is refined by the parent's sex below.
INVERSE = {
    "mother": "child",
    "father": "child",
    "parent": "child",
    "step_parent": "step_child",
    "carer": "cared_for",
    "child": "parent",
    "step_child": "step_parent",
    "grandparent": "grandchild",
    "grandchild": "grandparent",
    # the other parent of one's child: mutual
    "co_parent": "co_parent",
    # a parent's partner (a mother's new partner, seen from her child) and, seen from that
    # partner, the child; what these mean for the family graph is issue #15's
    "partner_of_parent": "partners_child",
    "partners_child": "partner_of_parent",
    "cared_for": "carer",
    "partner": "partner",
    "ex_partner": "ex_partner",
    "sibling": "sibling",
    "half_sibling": "half_sibling",
    "household_member": "household_member",
    "other": "other",
}

PARENT_RELATIONSHIPS = ("mother", "father", "parent")


def build_record_probability(con: SQLConnection) -> None:
    """`m_record_prob(source, record_id, person_id, link_probability)`.

    How strongly a record belongs to its person: linkage's `person_records.link_probability`
    (the strongest pairwise link from it to another record of the same person; 1.0 for a
    person of one record, or a record joined by a reviewer's decision alone).
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_record_prob AS
        SELECT source, record_id, person_id, coalesce(link_probability, 1.0) AS link_probability
        FROM person_records
        """
    )


def build_recorded_edges(con: SQLConnection) -> None:
    """Recorded and reciprocal edge items into `m_edge_items` (created here)."""
    con.execute("CREATE OR REPLACE TEMP TABLE m_inverse(relationship VARCHAR, inverse VARCHAR)")
    con.executemany("INSERT INTO m_inverse VALUES (?, ?)", list(INVERSE.items()))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_edge_items AS
        WITH dated AS (
            -- A relationship stated in a people file (a housing occupant's relationship to
            -- the lead tenant) without its own dates holds while both records share the
            -- address: it takes the overlap of their address periods.
            SELECT r.*,
                   r.start_date IS NULL AND r.end_date IS NULL AND r.origin = 'people_file'
                   AND coalesce(sa.address_from, sb.address_from, sa.address_to,
                                sb.address_to) IS NOT NULL AS from_addresses,
                   CASE WHEN from_addresses THEN greatest(sa.address_from, sb.address_from)
                        ELSE r.start_date END AS eff_start,
                   CASE WHEN from_addresses THEN least(sa.address_to, sb.address_to)
                        ELSE r.end_date END AS eff_end
            FROM relationships r
            LEFT JOIN source_records sa ON sa.source = r.source AND sa.record_id = r.record_id
            LEFT JOIN source_records sb ON sb.source = r.source
                                       AND sb.record_id = r.related_record_id
        ),
        rec AS (
            SELECT a.person_id, b.person_id AS related_person_id, r.relationship,
                   r.source, r.agency, r.is_primary, r.record_id, r.related_record_id,
                   r.relationship_key, r.line_number, r.eff_start AS start_date,
                   r.eff_end AS end_date,
                   least(a.link_probability, b.link_probability) AS link_probability,
                   r.agency || ' record ' || r.record_id || ' (' || coalesce(pa.display_name, '?')
                   || ') names ' || r.related_record_id || ' (' || coalesce(pb.display_name, '?')
                   || ') as ' || r.relationship
                   || coalesce(', from ' || strftime(r.eff_start, '%Y-%m-%d'), '')
                   || coalesce(' to ' || strftime(r.eff_end, '%Y-%m-%d'), '')
                   || CASE WHEN r.from_addresses THEN ' (dates of their records at the address)'
                           ELSE '' END AS description
            FROM dated r
            JOIN m_record_prob a ON a.source = r.source AND a.record_id = r.record_id
            JOIN m_record_prob b ON b.source = r.source AND b.record_id = r.related_record_id
            JOIN persons pa ON pa.person_id = a.person_id
            JOIN persons pb ON pb.person_id = b.person_id
            WHERE a.person_id <> b.person_id
        )
        SELECT person_id, related_person_id, relationship, 'recorded' AS basis,
               'relationship' AS kind, source, agency, is_primary, record_id, related_record_id,
               relationship_key, line_number, relationship AS item_relationship,
               start_date AS date_from, end_date AS date_to, link_probability,
               NULL::VARCHAR AS via_person_id, NULL::VARCHAR AS address_key, description
        FROM rec
        UNION ALL
        SELECT rec.related_person_id, rec.person_id,
               CASE WHEN i.inverse = 'parent' AND p.sex = 'female' THEN 'mother'
                    WHEN i.inverse = 'parent' AND p.sex = 'male' THEN 'father'
                    ELSE coalesce(i.inverse, 'other') END,
               'reciprocal', 'relationship', rec.source, rec.agency, rec.is_primary,
               rec.record_id, rec.related_record_id, rec.relationship_key, rec.line_number,
               rec.relationship, rec.start_date, rec.end_date, rec.link_probability, NULL, NULL,
               rec.description
        FROM rec
        LEFT JOIN m_inverse i USING (relationship)
        JOIN persons p ON p.person_id = rec.person_id
        """
    )


def build_derived_siblings(con: SQLConnection) -> None:
    """Full and half siblings through any shared parent, recorded by any source.

    Two people who share one parent, where either has another known parent the other does
    not, are `half_sibling`s; two who share two parents, or whose only known parent is the
    shared one, are `sibling`s (full or half cannot be told). Evidence items are the two parent edges' records.
    """
    con.execute("SET VARIABLE m_parent_relationships = ?::VARCHAR[]", [list(PARENT_RELATIONSHIPS)])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_parent_items AS
        SELECT * FROM m_edge_items
        WHERE list_contains(getvariable('m_parent_relationships'), relationship)
          AND basis IN ('recorded', 'reciprocal');

        CREATE OR REPLACE TEMP TABLE m_parent_of AS
        SELECT person_id AS child_id, related_person_id AS parent_id,
               max(link_probability) AS link_probability
        FROM m_parent_items GROUP BY ALL;

        CREATE OR REPLACE TEMP TABLE m_sibling_pairs AS
        WITH shared AS (
            SELECT a.child_id AS person_id, b.child_id AS related_person_id,
                   a.parent_id AS via_person_id,
                   least(a.link_probability, b.link_probability) AS link_probability
            FROM m_parent_of a JOIN m_parent_of b
              ON a.parent_id = b.parent_id AND a.child_id <> b.child_id
        ),
        pairs AS (
            SELECT person_id, related_person_id, count(*) AS n_shared FROM shared GROUP BY ALL
        ),
        n_parents AS (SELECT child_id, count(*) AS n FROM m_parent_of GROUP BY ALL)
        SELECT pairs.person_id, pairs.related_person_id,
               CASE WHEN pairs.n_shared < 2
                         AND (na.n > pairs.n_shared OR nb.n > pairs.n_shared)
                    THEN 'half_sibling' ELSE 'sibling' END AS relationship
        FROM pairs
        JOIN n_parents na ON na.child_id = pairs.person_id
        JOIN n_parents nb ON nb.child_id = pairs.related_person_id;

        INSERT INTO m_edge_items
        SELECT sp.person_id, sp.related_person_id, sp.relationship, 'derived', 'relationship',
               i.source, i.agency, i.is_primary, i.record_id, i.related_record_id,
               i.relationship_key, i.line_number, i.relationship, i.date_from, i.date_to,
               least(pa.link_probability, pb.link_probability), pa.parent_id, NULL, i.description
        FROM m_sibling_pairs sp
        JOIN m_parent_of pa ON pa.child_id = sp.person_id
        JOIN m_parent_of pb ON pb.child_id = sp.related_person_id AND pb.parent_id = pa.parent_id
        JOIN m_parent_items i ON i.related_person_id = pa.parent_id
             AND i.person_id IN (sp.person_id, sp.related_person_id);
        """
    )


def write_relationships_resolved(con: SQLConnection) -> None:
    """Aggregate `m_edge_items` and `m_co_items` into `relationships_resolved` (one row per
    edge and source for recorded/reciprocal edges, one per edge for derived and inferred
    ones) and write each edge's evidence items, one row per item, to `relationship_evidence`.

    Evidence is a table of its own rather than a list column because aggregating millions of
    items into per-edge lists was most of the models stage's time; one row per item is also
    what an auditor's SQL wants. Inferred co-residence is symmetric: its edge is aggregated
    once per pair and mirrored, and its evidence stored once, smaller person id first.
    """
    con.execute(
        """
        CREATE OR REPLACE TABLE relationships_resolved AS
        SELECT person_id, related_person_id, relationship, basis,
               CASE WHEN basis IN ('recorded', 'reciprocal') THEN source END AS source,
               CASE WHEN basis IN ('recorded', 'reciprocal') THEN any_value(agency) END AS agency,
               bool_or(is_primary) AS is_primary,
               count(*) AS evidence_items,
               min(date_from) AS start_date,
               CASE WHEN bool_or(date_to IS NULL) THEN NULL ELSE max(date_to) END AS end_date,
               max(link_probability) AS link_probability,
               list_sort(list_distinct(list(agency))) AS agencies
        FROM m_edge_items
        GROUP BY person_id, related_person_id, relationship, basis,
                 CASE WHEN basis IN ('recorded', 'reciprocal') THEN source END;

        CREATE OR REPLACE TEMP TABLE m_inferred AS
        SELECT person_id, related_person_id, count(*) AS evidence_items,
               min(date_from) AS start_date, max(date_to) AS end_date,
               max(link_probability) AS link_probability,
               list_sort(list_distinct(list(agency))) AS agencies
        FROM m_co_items
        GROUP BY person_id, related_person_id;

        INSERT INTO relationships_resolved
        SELECT a, b, 'co_resident', 'inferred', NULL, NULL, NULL, evidence_items, start_date,
               end_date, link_probability, agencies
        FROM (SELECT person_id AS a, related_person_id AS b, * FROM m_inferred
              UNION ALL
              SELECT related_person_id AS a, person_id AS b, * FROM m_inferred);
        DROP TABLE m_inferred;

        CREATE OR REPLACE TABLE relationship_evidence AS
        SELECT person_id, related_person_id, relationship, basis,
               CASE WHEN basis IN ('recorded', 'reciprocal') THEN source END AS edge_source,
               source, agency, record_id, related_record_id, relationship_key, line_number,
               item_relationship AS recorded_relationship, via_person_id, address_key, kind,
               date_from AS start_date, date_to AS end_date, link_probability
        FROM m_edge_items
        UNION ALL
        SELECT person_id, related_person_id, 'co_resident', 'inferred', NULL, source, agency,
               record_id, NULL, NULL, NULL, 'residence', NULL, address_key, 'residence',
               date_from, date_to, link_probability
        FROM m_co_items;
        """
    )
