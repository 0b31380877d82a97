"""Who is around each child: the people in scope and the adults placed around them.

`build_people` writes `m_people` (age at the reference date) and `m_children` (in scope);
`build_adults_around` writes `m_around_edges` / `m_around` (every edge that places an adult
around a child, by role, recorded or not) and `m_primary_known` (the adults a primary source
records for the child). The flag rules (`famlink.models.flags.rules`) read these tables.
"""

from __future__ import annotations

from famlink.linkage.connection import SQLConnection

# Roles an adult can have around a child (`m_around_edges.role`).
DIRECT_ROLES = ("mother", "father", "parent", "step_parent", "carer", "household_member")
# Relationships a primary source can record that make an adult "known" for the child.
KNOWN_TO_CHILD = DIRECT_ROLES
KNOWN_TO_PARENT = ("partner", "ex_partner", "household_member")
# Roles that alone (without a date of birth) do not show the person is an adult.
RESIDENCE_ONLY_ROLES = ("co_resident", "co_resident_with_mother", "household_member")

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


def set_rule_variables(con: SQLConnection) -> None:
    """Hand the rules' vocabularies to SQL as DuckDB variables (no SQL string building)."""
    for name, values in {
        "m_direct_roles": DIRECT_ROLES,
        "m_residence_only_roles": RESIDENCE_ONLY_ROLES,
        "m_known_to_child": KNOWN_TO_CHILD,
        "m_known_to_parent": KNOWN_TO_PARENT,
    }.items():
        con.execute(f"SET VARIABLE {name} = ?::VARCHAR[]", [list(values)])


def build_people(con: SQLConnection) -> None:
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


def build_adults_around(con: SQLConnection) -> None:
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
