"""`build_flags`: run the enabled rules and write `flags` and `flag_evidence`.

A flag's evidence items each name agency, source, record id, the relationship or event, and
dates, and carry the link probability of the record(s) they rest on. `part` says what an
item proves:

- `role` — why this adult counts (the edges that place them around the child);
- `trigger` — the record that raises the flag (an event, a sibling's plan);
- `absence` — the child's primary records that were checked and found wanting;
- `context` — shown to the reviewer, not needed for the rule (the household at an injury).

A flag's `link_probability` is, over the parts other than `context`, the smallest of each
part's strongest item: the flag stands if one item of each part stands.
"""

from __future__ import annotations

from famlink.linkage.connection import SQLConnection
from famlink.models.flags.registry import FlagSettings
from famlink.models.flags.rule import FlagRule

#: the working tables every rule writes into: the adults named by flags, with the roles
#: that place them around the child, and every flag's evidence items
_WORKING_TABLES = """
    CREATE OR REPLACE TEMP TABLE m_events AS
    SELECT rp.person_id, e.*, rp.link_probability,
           e.agency || ' record ' || e.record_id || ' (' || coalesce(p.display_name, '?')
           || '): ' || e.event_type || coalesce(' as ' || e.role, '') || ' on '
           || strftime(e.event_date, '%Y-%m-%d')
           || coalesce(' — ' || nullif(e.summary, ''), '') AS description
    FROM events e JOIN m_record_prob rp USING (source, record_id)
    JOIN persons p ON p.person_id = rp.person_id;

    CREATE OR REPLACE TEMP TABLE m_flag_adults(
        flag_type VARCHAR, child_id VARCHAR, adult_id VARCHAR, role VARCHAR);

    CREATE OR REPLACE TEMP TABLE m_flag_items(
        flag_type VARCHAR, child_id VARCHAR, adult_id VARCHAR, part VARCHAR, kind VARCHAR,
        person_id VARCHAR, agency VARCHAR, source VARCHAR, record_id VARCHAR,
        related_record_id VARCHAR, relationship VARCHAR, event_type VARCHAR,
        event_key VARCHAR, date_from DATE, date_to DATE, description VARCHAR,
        link_probability DOUBLE, basis VARCHAR);
"""

#: `role` evidence of every flag naming an adult: the records of the edges that place the
#: adult around the child in the roles its rule counts
_ADULT_ROLE_EVIDENCE = """
    INSERT INTO m_flag_items
    WITH placed AS (
        SELECT f.flag_type, f.child_id, f.adult_id, a.role, a.person_id,
               a.related_person_id, a.relationship, a.basis
        FROM m_flag_adults f
        JOIN m_around_edges a ON a.child_id = f.child_id AND a.adult_id = f.adult_id
             AND a.role = f.role
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
"""

_FLAG_EVIDENCE = """
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

#: one row per flag: its key, link probability, and what every explanation may quote — the
#: adult's roles around the child and the agencies whose records place them there
_FLAG_HEADS = """
    CREATE OR REPLACE TEMP TABLE m_flag_heads AS
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
        WHERE adult_id IS NOT NULL AND part = 'role'
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
    )
    SELECT f.*, r.role_text, g.agency_list
    FROM f
    LEFT JOIN roles r ON r.child_id = f.child_id AND r.adult_id = f.adult_id
    LEFT JOIN agencies g ON g.flag_type = f.flag_type AND g.child_id = f.child_id
         AND g.adult_id = f.adult_id
"""

#: one rule's flags with their explanation (`{explanation}`, `{summary}`, `{name}`: the
#: rule's own SQL, never a value from a user)
_RULE_FLAGS = """
    SELECT h.flag_key, h.flag_type, h.child_id AS child_person_id,
           h.adult_id AS adult_person_id, {explanation} AS explanation,
           fam.family_id, h.link_probability,
           c.display_name AS child_name, a.display_name AS adult_name
    FROM m_flag_heads h
    JOIN m_people c ON c.person_id = h.child_id
    LEFT JOIN m_people a ON a.person_id = h.adult_id
    LEFT JOIN ({summary}) s ON s.child_id = h.child_id
         AND coalesce(s.adult_id, '') = coalesce(h.adult_id, '')
    LEFT JOIN families fam ON fam.person_id = h.child_id
    WHERE h.flag_type = '{name}'
"""
_NO_SUMMARY = "SELECT NULL::VARCHAR AS child_id, NULL::VARCHAR AS adult_id"
_NO_FLAGS = _RULE_FLAGS.format(explanation="NULL::VARCHAR", summary=_NO_SUMMARY, name="")


def set_parameters(con: SQLConnection, settings: FlagSettings) -> None:
    """Hand each enabled rule's parameters to SQL as variables (`FlagRule.variable`)."""
    for rule in settings.enabled_rules():
        for param in rule.parameters:
            value = settings.value(rule.name, param.name)
            if isinstance(value, tuple):
                con.execute(f"SET VARIABLE {rule.variable(param.name)} = ?::VARCHAR[]", [list(value)])
            else:
                con.execute(f"SET VARIABLE {rule.variable(param.name)} = ?", [value])


def build_flags(con: SQLConnection, settings: FlagSettings | None = None) -> None:
    """Write `flags` and `flag_evidence`: the enabled rules' flags (every rule by default).

    ``con`` is a DuckDB connection or the Spark stand-in; it holds the working tables of
    `famlink.models.flags.around`.
    """
    settings = settings or FlagSettings()
    rules = settings.enabled_rules()
    set_parameters(con, settings)
    con.execute(_WORKING_TABLES)
    for rule in rules:
        if rule.candidates:
            con.execute(rule.candidates)
    con.execute(_ADULT_ROLE_EVIDENCE)
    for rule in rules:
        if rule.evidence:
            con.execute(rule.evidence)
    con.execute(_FLAG_EVIDENCE)
    con.execute(_FLAG_HEADS)
    selects = [_rule_flags(rule) for rule in rules] or [_NO_FLAGS]
    con.execute(
        "CREATE OR REPLACE TABLE flags AS\n"
        + "UNION ALL".join(selects)
        + "ORDER BY flag_type, child_person_id, adult_person_id NULLS FIRST"
    )


def _rule_flags(rule: FlagRule) -> str:
    return _RULE_FLAGS.format(explanation=rule.explanation.strip(),
                              summary=(rule.trigger_summary or _NO_SUMMARY).strip(),
                              name=rule.name)
