"""Flags: rules with evidence, computed for every child in a primary source — in DuckDB SQL.

Each rule is a set query over `relationships_resolved`, residences and events. A flag's
evidence items each name agency, source, record id, the relationship or event, and dates, and
carry the link probability of the record(s) they rest on. `part` says what an item proves:

- `role` — why this adult counts (the edges that place them around the child);
- `trigger` — the record that raises the flag (an event, a sibling's plan);
- `absence` — the child's primary records that were checked and found wanting;
- `context` — shown to the reviewer, not needed for the rule (the household at an injury).

A flag's `link_probability` is, over the parts other than `context`, the smallest of each
part's strongest item: the flag stands if one item of each part stands.
"""

from __future__ import annotations

import duckdb

FLAG_TYPES = (
    "unrecorded_male_carer",
    "unrecorded_non_birthing_partner",
    "father_not_recorded",
    "sibling_safeguarding_history",
    "adult_risk_history",
    "non_mobile_injury",
    "neglect_without_gcp2",
)
# Flag types whose key and meaning include an adult.
ADULT_FLAG_TYPES = (
    "unrecorded_male_carer",
    "unrecorded_non_birthing_partner",
    "adult_risk_history",
)

# Roles an adult can have around a child (`m_around_edges.role`).
DIRECT_ROLES = ("mother", "father", "parent", "step_parent", "carer", "household_member")
# Relationships a primary source can record that make an adult "known" for the child.
KNOWN_TO_CHILD = DIRECT_ROLES
KNOWN_TO_PARENT = ("partner", "ex_partner", "household_member")
# Roles that alone (without a date of birth) do not show the person is an adult.
RESIDENCE_ONLY_ROLES = ("co_resident", "co_resident_with_mother", "household_member")

# Roles that make a non-male adult a candidate non-birthing partner.
SECOND_PARENT_ROLES = ("partner_of_mother", "parent", "step_parent")

RISK_EVENTS = ("mental_health_admission", "mental_health_detention", "substance_misuse", "offence")
ROLE_TEXT = {
    "mother": "the child's mother",
    "father": "the child's father",
    "parent": "the child's parent",
    "step_parent": "the child's step-parent",
    "carer": "the child's carer",
    "household_member": "a household member of the child",
    "partner_of_mother": "the partner of the child's mother",
    "partner_of_parent": "the partner of the child's parent",
    "co_resident": "living at the child's address",
    "co_resident_with_mother": "living at the child's mother's address",
}


def set_rule_variables(con: duckdb.DuckDBPyConnection) -> None:
    """Hand the rules' vocabularies to SQL as DuckDB variables (no SQL string building)."""
    for name, values in {
        "m_direct_roles": DIRECT_ROLES,
        "m_residence_only_roles": RESIDENCE_ONLY_ROLES,
        "m_known_to_child": KNOWN_TO_CHILD,
        "m_known_to_parent": KNOWN_TO_PARENT,
        "m_risk_events": RISK_EVENTS,
        "m_second_parent_roles": SECOND_PARENT_ROLES,
    }.items():
        con.execute(f"SET VARIABLE {name} = ?::VARCHAR[]", [list(values)])


def build_people(con: duckdb.DuckDBPyConnection) -> None:
    """`m_people` (persons with age at the reference date) and `m_children` (in scope)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_people AS
        SELECT person_id, display_name, dob, sex, in_primary, agencies, min_link_probability,
               CASE WHEN dob IS NULL OR dob > getvariable('m_ref') THEN NULL
                    ELSE year(getvariable('m_ref')) - year(dob)
                         - CASE WHEN strftime(dob, '%m%d') > strftime(getvariable('m_ref'), '%m%d')
                                THEN 1 ELSE 0 END END AS age
        FROM persons;

        CREATE OR REPLACE TEMP TABLE m_children AS
        SELECT person_id, display_name, dob, age FROM m_people
        WHERE in_primary AND age IS NOT NULL AND age < 18;

        CREATE OR REPLACE TEMP TABLE m_role_text(role VARCHAR, text VARCHAR);
        """,
    )
    con.executemany("INSERT INTO m_role_text VALUES (?, ?)", list(ROLE_TEXT.items()))


def build_adults_around(con: duckdb.DuckDBPyConnection) -> None:
    """`m_around_edges(child_id, adult_id, role, person_id, related_person_id, relationship,
    basis)`: every edge that places an adult around a child, by role, recorded or not.
    Trims `m_edge_items` to the items of those edges and of children's sibling edges."""
    set_rule_variables(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_mother AS
        SELECT DISTINCT rr.person_id AS child_id, rr.related_person_id AS mother_id
        FROM relationships_resolved rr JOIN m_people p ON p.person_id = rr.related_person_id
        WHERE rr.basis IN ('recorded', 'reciprocal')
          AND (rr.relationship = 'mother' OR (rr.relationship = 'parent' AND p.sex = 'female'));

        CREATE OR REPLACE TEMP TABLE m_parent AS
        SELECT DISTINCT person_id AS child_id, related_person_id AS parent_id, relationship, basis
        FROM relationships_resolved
        WHERE basis IN ('recorded', 'reciprocal') AND relationship IN ('mother', 'father', 'parent');

        CREATE OR REPLACE TEMP TABLE m_around_edges AS
        WITH rr AS (SELECT DISTINCT person_id, related_person_id, relationship, basis
                    FROM relationships_resolved),
        pp AS (
            SELECT p.child_id, p.parent_id, p.relationship AS prel, p.basis AS pbasis,
                   rr.related_person_id AS adult_id, rr.basis AS abasis,
                   CASE WHEN m.mother_id IS NOT NULL THEN 'partner_of_mother'
                        ELSE 'partner_of_parent' END AS role
            FROM m_parent p JOIN m_children c ON c.person_id = p.child_id
            JOIN relationships_resolved rr ON rr.person_id = p.parent_id
                   AND rr.relationship = 'partner' AND rr.basis IN ('recorded', 'reciprocal')
                   -- a partnership counts while it overlaps the window, or if it spans
                   -- the child's birth (conception to birth): he may be the father
                   AND ((coalesce(rr.end_date, getvariable('m_ref')) >= getvariable('m_wstart')
                         AND coalesce(rr.start_date, getvariable('m_ref')) <= getvariable('m_ref'))
                        OR (coalesce(rr.start_date, c.dob) <= c.dob
                            AND coalesce(rr.end_date, c.dob) >= c.dob - INTERVAL 10 MONTH))
            LEFT JOIN m_mother m ON m.child_id = p.child_id AND m.mother_id = p.parent_id
        ),
        cm AS (  -- at the mother's address; an adult at the child's own address already has
                 -- the stronger role, and the same residence records would be his evidence twice
            SELECT m.child_id, m.mother_id, rr.related_person_id AS adult_id
            FROM m_mother m JOIN m_children c ON c.person_id = m.child_id
            JOIN rr ON rr.person_id = m.mother_id AND rr.relationship = 'co_resident'
            WHERE NOT EXISTS (SELECT 1 FROM rr x
                              WHERE x.person_id = m.child_id AND x.relationship = 'co_resident'
                                AND x.related_person_id = rr.related_person_id)
        ),
        e AS (
            SELECT rr.person_id AS child_id, rr.related_person_id AS adult_id,
                   rr.relationship AS role, rr.person_id, rr.related_person_id,
                   rr.relationship, rr.basis
            FROM rr JOIN m_children c ON c.person_id = rr.person_id
            WHERE (rr.relationship IN (SELECT unnest(getvariable('m_direct_roles'))) AND rr.basis IN ('recorded', 'reciprocal'))
               OR rr.relationship = 'co_resident'
            UNION ALL
            SELECT child_id, adult_id, role, child_id, parent_id, prel, pbasis FROM pp
            UNION ALL
            SELECT child_id, adult_id, role, parent_id, adult_id, 'partner', abasis FROM pp
            UNION ALL
            SELECT child_id, adult_id, 'co_resident_with_mother', child_id, mother_id, 'mother',
                   NULL FROM cm
            UNION ALL
            SELECT child_id, adult_id, 'co_resident_with_mother', mother_id, adult_id,
                   'co_resident', 'inferred' FROM cm
        )
        SELECT DISTINCT e.* FROM e
        WHERE e.adult_id <> e.child_id
          AND NOT EXISTS (  -- the child's own siblings are not "adults around" them
              SELECT 1 FROM relationships_resolved s
              WHERE s.person_id = e.child_id AND s.related_person_id = e.adult_id
                AND s.relationship IN ('sibling', 'half_sibling', 'child', 'step_child'));

        CREATE OR REPLACE TEMP TABLE m_around AS
        SELECT a.child_id, a.adult_id, list_sort(list_distinct(list(a.role))) AS roles,
               p.sex, p.age, p.display_name,
               bool_and(a.role IN (SELECT unnest(getvariable('m_residence_only_roles')))) AS residence_only
        FROM m_around_edges a JOIN m_people p ON p.person_id = a.adult_id
        GROUP BY a.child_id, a.adult_id, p.sex, p.age, p.display_name;

        -- Adults a primary source's relationships record as parent, carer or household member
        -- of the child or of the mother's other children, or as (ex-)partner or household
        -- member of the child's parent.
        CREATE OR REPLACE TEMP TABLE m_primary_known AS
        WITH prim AS (SELECT DISTINCT person_id, related_person_id, relationship
                      FROM relationships_resolved
                      WHERE is_primary AND basis IN ('recorded', 'reciprocal'))
        SELECT c.person_id AS child_id, prim.related_person_id AS adult_id
        FROM m_children c JOIN prim ON prim.person_id = c.person_id
        WHERE prim.relationship IN (SELECT unnest(getvariable('m_known_to_child')))
        UNION
        SELECT m.child_id, prim.related_person_id
        FROM m_mother m JOIN m_children c ON c.person_id = m.child_id
        JOIN m_mother o ON o.mother_id = m.mother_id AND o.child_id <> m.child_id
        JOIN prim ON prim.person_id = o.child_id
        WHERE prim.relationship IN (SELECT unnest(getvariable('m_known_to_child')))
        UNION
        SELECT p.child_id, prim.related_person_id
        FROM m_parent p JOIN m_children c ON c.person_id = p.child_id
        JOIN prim ON prim.person_id = p.parent_id
        WHERE prim.relationship IN (SELECT unnest(getvariable('m_known_to_parent')));

        -- From here on, only the evidence items of edges around children are read (the
        -- flags' and chronologies' evidence): the rest, most of them, are let go.
        CREATE OR REPLACE TEMP TABLE m_edge_items AS
        SELECT i.* FROM m_edge_items i
        WHERE EXISTS (SELECT 1 FROM m_around_edges a
                      WHERE a.person_id = i.person_id AND a.related_person_id = i.related_person_id)
           OR (i.relationship IN ('sibling', 'half_sibling')
               AND i.person_id IN (SELECT person_id FROM m_children));
        """
    )


def build_flags(con: duckdb.DuckDBPyConnection) -> None:
    """Write `flags` and `flag_evidence`."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_events AS
        SELECT rp.person_id, e.*, rp.link_probability,
               e.agency || ' record ' || e.record_id || ' (' || coalesce(p.display_name, '?')
               || '): ' || e.event_type || coalesce(' as ' || e.role, '') || ' on '
               || strftime(e.event_date, '%Y-%m-%d')
               || coalesce(' — ' || nullif(e.summary, ''), '') AS description
        FROM events e JOIN m_record_prob rp USING (source, record_id)
        JOIN persons p ON p.person_id = rp.person_id;

        -- Candidate flags: (flag_type, child_id, adult_id)
        CREATE OR REPLACE TEMP TABLE m_flag_adults AS
        SELECT 'unrecorded_male_carer' AS flag_type, a.child_id, a.adult_id
        FROM m_around a
        WHERE a.sex = 'male'
          AND (a.age >= 16 OR (a.age IS NULL AND NOT a.residence_only))
          AND NOT EXISTS (SELECT 1 FROM m_primary_known k
                          WHERE k.child_id = a.child_id AND k.adult_id = a.adult_id)
        UNION ALL
        SELECT 'unrecorded_non_birthing_partner', a.child_id, a.adult_id
        FROM m_around a
        WHERE a.sex IS DISTINCT FROM 'male' AND (a.age >= 16 OR a.age IS NULL)
          AND list_has_any(a.roles, getvariable('m_second_parent_roles'))
          AND NOT EXISTS (  -- the birth mother herself (as any agency records her)
                SELECT 1 FROM relationships_resolved m
                WHERE m.person_id = a.child_id AND m.related_person_id = a.adult_id
                  AND m.relationship = 'mother' AND m.basis IN ('recorded', 'reciprocal'))
          AND NOT EXISTS (SELECT 1 FROM m_primary_known k
                          WHERE k.child_id = a.child_id AND k.adult_id = a.adult_id)
        UNION ALL
        SELECT DISTINCT 'adult_risk_history', a.child_id, a.adult_id
        FROM m_around a JOIN m_events ev ON ev.person_id = a.adult_id
        WHERE (a.age >= 18 OR (a.age IS NULL AND NOT a.residence_only))
          AND ((ev.event_type = 'domestic_abuse' AND ev.role = 'suspect')
               OR (ev.event_type IN (SELECT unnest(getvariable('m_risk_events')))
                   AND coalesce(ev.role, '') NOT IN ('victim', 'witness')));

        CREATE OR REPLACE TEMP TABLE m_flag_items AS
        WITH placed AS (  -- the edges placing each flagged adult around the child
            SELECT f.flag_type, f.child_id, f.adult_id, a.role, a.person_id,
                   a.related_person_id, a.relationship, a.basis
            FROM m_flag_adults f
            JOIN m_around_edges a ON a.child_id = f.child_id AND a.adult_id = f.adult_id
                 AND (f.flag_type <> 'unrecorded_non_birthing_partner'
                      OR list_contains(getvariable('m_second_parent_roles'), a.role))
        ),
        items AS (  -- their evidence: agency records, or (inferred) residence records
            SELECT p.flag_type, p.child_id, p.adult_id, p.role, i.related_person_id, i.kind,
                   i.agency, i.source, i.record_id, i.related_record_id, i.item_relationship,
                   i.date_from, i.date_to, i.description, i.link_probability, i.basis
            FROM placed p
            JOIN m_edge_items i ON i.person_id = p.person_id
                 AND i.related_person_id = p.related_person_id
                 AND i.relationship = p.relationship
                 AND (p.basis IS NULL OR i.basis = p.basis)
                 AND i.basis IN ('recorded', 'reciprocal')
            UNION ALL
            SELECT p.flag_type, p.child_id, p.adult_id, p.role, p.related_person_id, e.kind,
                   e.agency, e.source, e.record_id, NULL, e.recorded_relationship,
                   e.start_date, e.end_date, NULL, e.link_probability, e.basis
            FROM placed p
            JOIN relationship_evidence e ON e.basis = 'inferred'
                 AND p.relationship = 'co_resident' AND coalesce(p.basis, 'inferred') = 'inferred'
                 AND e.person_id = least(p.person_id, p.related_person_id)
                 AND e.related_person_id = greatest(p.person_id, p.related_person_id)
        )
        -- role items: the edges placing the adult around the child
        SELECT i.flag_type, i.child_id, i.adult_id, 'role' AS part, i.kind,
               coalesce(r.person_id, i.related_person_id) AS person_id, i.agency, i.source,
               i.record_id, i.related_record_id, i.item_relationship AS relationship,
               NULL::VARCHAR AS event_type, NULL::VARCHAR AS event_key,
               i.date_from, i.date_to,
               rt.text || ': ' || coalesce(i.description,
                   r.agency || ' record ' || r.record_id || ' (' || coalesce(rp.display_name, '?')
                   || ') at ' || concat_ws(' ', r.address, r.postcode, '[UPRN ' || r.uprn || ']')
                   || ', ' || coalesce(strftime(r.date_from, '%Y-%m-%d'), 'undated') || ' to '
                   || coalesce(strftime(r.date_to, '%Y-%m-%d'), 'current')) AS description,
               i.link_probability, i.basis
        FROM items i
        JOIN m_role_text rt ON rt.role = i.role
        LEFT JOIN residences r ON i.kind = 'residence' AND r.source = i.source
             AND r.record_id = i.record_id
        LEFT JOIN m_people rp ON rp.person_id = r.person_id
        UNION ALL
        -- adult_risk_history triggers
        SELECT f.flag_type, f.child_id, f.adult_id, 'trigger', 'event', ev.person_id, ev.agency,
               ev.source, ev.record_id, NULL, NULL, ev.event_type, ev.event_key,
               ev.event_date, ev.event_date, ev.description, ev.link_probability, 'recorded'
        FROM m_flag_adults f JOIN m_events ev ON ev.person_id = f.adult_id
        WHERE f.flag_type = 'adult_risk_history'
          AND ((ev.event_type = 'domestic_abuse' AND ev.role = 'suspect')
               OR (ev.event_type IN (SELECT unnest(getvariable('m_risk_events')))
                   AND coalesce(ev.role, '') NOT IN ('victim', 'witness')));

        -- father_not_recorded: no primary father, step-parent, male parent / carer /
        -- household member, nor a male partner of the mother
        INSERT INTO m_flag_items
        WITH male_known AS (  -- children some primary source gives a man in their life
            SELECT rr.person_id AS child_id
            FROM relationships_resolved rr JOIN m_people x ON x.person_id = rr.related_person_id
            WHERE rr.is_primary AND rr.basis IN ('recorded', 'reciprocal')
              AND (rr.relationship IN ('father', 'step_parent')
                   OR (rr.relationship IN ('parent', 'carer', 'household_member')
                       AND x.sex = 'male'))
            UNION
            SELECT m.child_id
            FROM m_mother m
            JOIN relationships_resolved rr ON rr.person_id = m.mother_id
            JOIN m_people x ON x.person_id = rr.related_person_id
            WHERE rr.is_primary AND rr.basis IN ('recorded', 'reciprocal')
              AND rr.relationship = 'partner' AND x.sex = 'male'
        )
        SELECT 'father_not_recorded', c.person_id, NULL, 'absence', 'record', c.person_id,
               s.agency, rp.source, rp.record_id, NULL, NULL, NULL, NULL, NULL, NULL,
               s.agency || ' record ' || rp.record_id || ' (' || c.display_name
               || '): no father, step-parent or male carer recorded, nor a male partner of the mother',
               rp.link_probability, 'recorded'
        FROM m_children c
        ANTI JOIN male_known k ON k.child_id = c.person_id
        JOIN m_record_prob rp ON rp.person_id = c.person_id
        JOIN source_records s ON s.source = rp.source AND s.record_id = rp.record_id
        WHERE s.is_primary;

        -- sibling_safeguarding_history: a full or half sibling's CP plan or care episode
        CREATE OR REPLACE TEMP TABLE m_sib_hits AS
        SELECT DISTINCT rr.person_id AS child_id, rr.related_person_id AS sibling_id
        FROM relationships_resolved rr JOIN m_children c ON c.person_id = rr.person_id
        WHERE rr.relationship IN ('sibling', 'half_sibling') AND rr.basis <> 'inferred'
          AND EXISTS (SELECT 1 FROM m_events ev WHERE ev.person_id = rr.related_person_id
                      AND ev.event_type IN ('cp_plan', 'looked_after'));

        INSERT INTO m_flag_items
        SELECT 'sibling_safeguarding_history', h.child_id, NULL, 'role', i.kind,
               h.sibling_id, i.agency, i.source, i.record_id, i.related_record_id,
               i.relationship || ' (' || i.basis || coalesce(' via ' || vp.display_name, '') || ')',
               NULL, NULL, i.date_from, i.date_to,
               'sibling ' || sp.display_name || ': ' || i.description, i.link_probability, i.basis
        FROM m_sib_hits h
        JOIN m_edge_items i ON i.person_id = h.child_id AND i.related_person_id = h.sibling_id
             AND i.relationship IN ('sibling', 'half_sibling') AND i.basis <> 'inferred'
        JOIN m_people sp ON sp.person_id = h.sibling_id
        LEFT JOIN m_people vp ON vp.person_id = i.via_person_id
        UNION ALL
        SELECT 'sibling_safeguarding_history', h.child_id, NULL, 'trigger', 'event',
               ev.person_id, ev.agency, ev.source, ev.record_id, NULL, NULL, ev.event_type,
               ev.event_key, ev.event_date, ev.event_date, 'sibling: ' || ev.description,
               ev.link_probability, 'recorded'
        FROM m_sib_hits h JOIN m_events ev ON ev.person_id = h.sibling_id
        WHERE ev.event_type IN ('cp_plan', 'looked_after');

        -- non_mobile_injury: injury while under N months, with the household at that date
        -- (context only; an undated residence record counts for injuries inside the window)
        CREATE OR REPLACE TEMP TABLE m_injuries AS
        SELECT c.person_id AS child_id, ev.*
        FROM m_children c JOIN m_events ev ON ev.person_id = c.person_id
        WHERE ev.event_type = 'injury' AND ev.event_date >= c.dob
          AND ev.event_date < c.dob + to_months(getvariable('m_months'));

        INSERT INTO m_flag_items
        SELECT 'non_mobile_injury', child_id, NULL, 'trigger', 'event', person_id, agency,
               source, record_id, NULL, NULL, event_type, event_key, event_date, event_date,
               description, link_probability, 'recorded'
        FROM m_injuries
        UNION ALL
        SELECT DISTINCT 'non_mobile_injury', j.child_id, NULL, 'context', 'residence',
               ra.person_id, ra.agency, ra.source, ra.record_id, rc.record_id, 'household_member',
               NULL, j.event_key, ra.date_from, ra.date_to,
               'in the household on ' || strftime(j.event_date, '%Y-%m-%d') || ': '
               || ra.agency || ' record ' || ra.record_id || ' (' || pa.display_name
               || coalesce(', born ' || strftime(pa.dob, '%Y-%m-%d'), '') || ') at '
               || coalesce(ra.address, ra.address_key),
               least(ra.link_probability, rc.link_probability), 'inferred'
        FROM m_injuries j
        JOIN residences rc ON rc.person_id = j.child_id
             AND (j.event_date BETWEEN rc.eff_from AND rc.eff_to
                  OR (rc.date_from IS NULL AND rc.date_to IS NULL
                      AND j.event_date >= getvariable('m_wstart')))
        JOIN residences ra ON ra.address_key = rc.address_key AND ra.person_id <> j.child_id
             AND (j.event_date BETWEEN ra.eff_from AND ra.eff_to
                  OR (ra.date_from IS NULL AND ra.date_to IS NULL
                      AND j.event_date >= getvariable('m_wstart')))
        JOIN m_people pa ON pa.person_id = ra.person_id
        WHERE pa.dob IS NULL OR pa.dob + INTERVAL 16 YEAR <= j.event_date;

        -- neglect_without_gcp2
        INSERT INTO m_flag_items
        SELECT 'neglect_without_gcp2', c.person_id, NULL, 'trigger', 'event', ev.person_id,
               ev.agency, ev.source, ev.record_id, NULL, NULL, ev.event_type, ev.event_key,
               ev.event_date, ev.event_date, ev.description, ev.link_probability, 'recorded'
        FROM m_children c JOIN m_events ev ON ev.person_id = c.person_id
        WHERE ev.event_type = 'neglect_concern'
          AND NOT EXISTS (SELECT 1 FROM m_events g WHERE g.person_id = c.person_id
                          AND g.event_type = 'gcp2_assessment');
        """,
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE flag_evidence AS
        SELECT flag_type || ':' || child_id || coalesce(':' || adult_id, '') AS flag_key,
               row_number() OVER (
                   PARTITION BY flag_type, child_id, adult_id
                   ORDER BY CASE part WHEN 'role' THEN 0 WHEN 'trigger' THEN 1
                                      WHEN 'absence' THEN 2 ELSE 3 END,
                            date_from NULLS LAST, source, record_id, related_record_id,
                            event_key, person_id, description)::INTEGER AS item_no,
               kind, agency, source, record_id, related_record_id, relationship, event_type,
               date_from, date_to, description, link_probability,
               part, person_id, basis, event_key, flag_type, child_id AS child_person_id
        FROM m_flag_items
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE flags AS
        WITH parts AS (
            SELECT flag_type, child_id, adult_id, part, max(link_probability) AS p
            FROM m_flag_items WHERE part <> 'context'
            GROUP BY ALL
        ),
        f AS (
            SELECT flag_type || ':' || child_id || coalesce(':' || adult_id, '') AS flag_key,
                   flag_type, child_id, adult_id, min(p) AS link_probability
            FROM parts GROUP BY ALL
        ),
        agencies AS (
            SELECT flag_type, child_id, adult_id,
                   array_to_string(list_sort(list_distinct(list(agency))), ', ') AS agency_list
            FROM m_flag_items
            WHERE flag_type IN ('unrecorded_male_carer', 'unrecorded_non_birthing_partner')
              AND part = 'role'
            GROUP BY ALL
        ),
        roles AS (
            SELECT a.child_id, a.adult_id,
                   array_to_string(list_sort(list_distinct(list(rt.text))), ', ') AS role_text
            FROM (SELECT DISTINCT a.child_id, a.adult_id, a.role
                  FROM m_around_edges a
                  SEMI JOIN (SELECT child_id, adult_id FROM parts WHERE adult_id IS NOT NULL) p
                       ON p.child_id = a.child_id AND p.adult_id = a.adult_id) a
            JOIN m_role_text rt USING (role) GROUP BY ALL
        ),
        sib AS (
            SELECT child_id, array_to_string(list_sort(list_distinct(list(event_type))), ' and ') AS what,
                   count(DISTINCT person_id) AS n
            FROM m_flag_items WHERE flag_type = 'sibling_safeguarding_history' AND part = 'trigger'
            GROUP BY ALL
        ),
        risk AS (
            SELECT child_id, adult_id, array_to_string(list_sort(list_distinct(list(
                       CASE WHEN event_type = 'domestic_abuse' THEN 'domestic abuse (suspect)'
                            ELSE replace(event_type, '_', ' ') END))), ', ') AS what
            FROM m_flag_items WHERE flag_type = 'adult_risk_history' AND part = 'trigger'
            GROUP BY ALL
        )
        SELECT f.flag_key, f.flag_type, f.child_id AS child_person_id,
               f.adult_id AS adult_person_id,
               CASE f.flag_type
                 WHEN 'unrecorded_male_carer' THEN
                   a.display_name || coalesce(' (' || a.age || ')', ' (age unknown)') || ' is '
                   || r.role_text || ' (' || g.agency_list
                   || '), but no primary source records him as a parent, carer or household member of '
                   || c.display_name || ' or as a partner of the parent'
                 WHEN 'unrecorded_non_birthing_partner' THEN
                   a.display_name || coalesce(' (' || a.age || ')', ' (age unknown)')
                   || ', not recorded as male, is ' || r.role_text || ' (' || g.agency_list
                   || '), but no primary source records them as a parent, carer or household member of '
                   || c.display_name || ' or as a partner of the parent'
                 WHEN 'father_not_recorded' THEN
                   'No primary source records a father, step-parent or male carer for '
                   || c.display_name || ', nor a male partner of the mother'
                 WHEN 'sibling_safeguarding_history' THEN
                   c.display_name || ' has ' || s.n || ' sibling(s) or half-sibling(s) with a history of '
                   || replace(replace(s.what, 'cp_plan', 'child protection plan'), 'looked_after', 'being looked after')
                 WHEN 'adult_risk_history' THEN
                   a.display_name || ', ' || r.role_text || ', has records of ' || k.what
                 WHEN 'non_mobile_injury' THEN
                   c.display_name || ' had an injury recorded before the age of ' || getvariable('m_months')
                   || ' months (not independently mobile)'
                 WHEN 'neglect_without_gcp2' THEN
                   'Neglect concerns are recorded for ' || c.display_name
                   || ' but no Graded Care Profile 2 assessment'
               END AS explanation,
               fam.family_id, f.link_probability,
               c.display_name AS child_name, a.display_name AS adult_name
        FROM f
        JOIN m_people c ON c.person_id = f.child_id
        LEFT JOIN m_people a ON a.person_id = f.adult_id
        LEFT JOIN roles r ON r.child_id = f.child_id AND r.adult_id = f.adult_id
        LEFT JOIN sib s ON s.child_id = f.child_id
        LEFT JOIN risk k ON k.child_id = f.child_id AND k.adult_id = f.adult_id
        LEFT JOIN agencies g ON g.flag_type = f.flag_type AND g.child_id = f.child_id
             AND g.adult_id = f.adult_id
        LEFT JOIN families fam ON fam.person_id = f.child_id
        ORDER BY f.flag_type, f.child_id, f.adult_id NULLS FIRST
        """,
    )
