"""The rules whose flags name an adult around the child: an unrecorded male carer, an
unrecorded non-birthing partner, an adult with a risk history.

Each one's ``candidates`` insert the adult with the roles that place them around the child;
their ``role`` evidence (those edges' records) is drawn for all three alike
(`famlink.models.flags.build`).
"""

from __future__ import annotations

from famlink.linkage.jobfile import EVENT_TYPES
from famlink.models.flags.around import ROLE_TEXT
from famlink.models.flags.rule import FlagRule, Parameter

UNRECORDED_MALE_CARER = FlagRule(
    name="unrecorded_male_carer",
    summary="A man around the child whom no primary source records for the child or the parent.",
    parameters=(
        Parameter("min_age", 16, "the youngest age at which a man counts (an unknown age "
                  "counts unless only co-residence places him)"),
    ),
    candidates="""
        INSERT INTO m_flag_adults
        SELECT DISTINCT 'unrecorded_male_carer', a.child_id, a.adult_id, e.role
        FROM m_around a
        JOIN m_around_edges e ON e.child_id = a.child_id AND e.adult_id = a.adult_id
        WHERE a.sex = 'male'
          AND (a.age >= getvariable('m_unrecorded_male_carer_min_age')
               OR (a.age IS NULL AND NOT a.residence_only))
          AND NOT EXISTS (SELECT 1 FROM m_primary_known k
                          WHERE k.child_id = a.child_id AND k.adult_id = a.adult_id)""",
    explanation="""
        a.display_name || coalesce(' (' || a.age || ')', ' (age unknown)') || ' is '
        || h.role_text || ' (' || h.agency_list
        || '), but no primary source records him as a parent, carer or household member of '
        || c.display_name || ' or as a partner of the parent'""",
)

UNRECORDED_NON_BIRTHING_PARTNER = FlagRule(
    name="unrecorded_non_birthing_partner",
    summary="A second parent not recorded as male whom no primary source records.",
    parameters=(
        Parameter("min_age", 16, "the youngest age at which they count (an unknown age counts)"),
        Parameter("second_parent_roles", ("partner_of_mother", "parent", "step_parent"),
                  "the roles around the child that make them a second parent",
                  choices=tuple(ROLE_TEXT)),
    ),
    candidates="""
        INSERT INTO m_flag_adults
        SELECT DISTINCT 'unrecorded_non_birthing_partner', a.child_id, a.adult_id, e.role
        FROM m_around a
        JOIN m_around_edges e ON e.child_id = a.child_id AND e.adult_id = a.adult_id
             AND list_contains(getvariable('m_unrecorded_non_birthing_partner_second_parent_roles'),
                               e.role)
        WHERE a.sex IS DISTINCT FROM 'male'
          AND (a.age >= getvariable('m_unrecorded_non_birthing_partner_min_age') OR a.age IS NULL)
          AND NOT EXISTS (  -- the birth mother herself (as any agency records her)
                SELECT 1 FROM relationships_resolved m
                WHERE m.person_id = a.child_id AND m.related_person_id = a.adult_id
                  AND m.relationship = 'mother' AND m.basis IN ('recorded', 'reciprocal'))
          AND NOT EXISTS (SELECT 1 FROM m_primary_known k
                          WHERE k.child_id = a.child_id AND k.adult_id = a.adult_id)""",
    explanation="""
        a.display_name || coalesce(' (' || a.age || ')', ' (age unknown)')
        || ', not recorded as male, is ' || h.role_text || ' (' || h.agency_list
        || '), but no primary source records them as a parent, carer or household member of '
        || c.display_name || ' or as a partner of the parent'""",
)

ADULT_RISK_HISTORY = FlagRule(
    name="adult_risk_history",
    summary="An adult around the child with a record of domestic abuse, mental-health crisis, "
    "substance misuse or offending.",
    parameters=(
        Parameter("min_age", 18, "the youngest age at which an adult counts (an unknown age "
                  "counts unless only co-residence places them)"),
        Parameter("risk_event_types",
                  ("mental_health_admission", "mental_health_detention", "substance_misuse",
                   "offence"),
                  "event types that count unless the adult's role is victim or witness",
                  choices=EVENT_TYPES),
        Parameter("suspect_event_types", ("domestic_abuse",),
                  "event types that count only when the adult is the suspect",
                  choices=EVENT_TYPES),
    ),
    # the events that count, then the adults around a child who have one
    candidates="""
        CREATE OR REPLACE TEMP TABLE m_risk_events AS
        SELECT * FROM m_events ev
        WHERE (ev.event_type IN (SELECT unnest(getvariable('m_adult_risk_history_suspect_event_types')))
               AND ev.role = 'suspect')
           OR (ev.event_type IN (SELECT unnest(getvariable('m_adult_risk_history_risk_event_types')))
               AND coalesce(ev.role, '') NOT IN ('victim', 'witness'));

        INSERT INTO m_flag_adults
        SELECT DISTINCT 'adult_risk_history', a.child_id, a.adult_id, e.role
        FROM m_around a
        JOIN m_around_edges e ON e.child_id = a.child_id AND e.adult_id = a.adult_id
        WHERE (a.age >= getvariable('m_adult_risk_history_min_age')
               OR (a.age IS NULL AND NOT a.residence_only))
          AND EXISTS (SELECT 1 FROM m_risk_events ev WHERE ev.person_id = a.adult_id)""",
    evidence="""
        INSERT INTO m_flag_items
        SELECT f.flag_type, f.child_id, f.adult_id, 'trigger', 'event', ev.person_id, ev.agency,
               ev.source, ev.record_id, NULL, NULL, ev.event_type, ev.event_key,
               ev.event_date, ev.event_date, ev.description, ev.link_probability, 'recorded'
        FROM (SELECT DISTINCT flag_type, child_id, adult_id FROM m_flag_adults
              WHERE flag_type = 'adult_risk_history') f
        JOIN m_risk_events ev ON ev.person_id = f.adult_id""",
    trigger_summary="""
        SELECT child_id, adult_id, array_to_string(list_sort(list_distinct(list(
                   CASE WHEN list_contains(getvariable('m_adult_risk_history_suspect_event_types'),
                                           event_type)
                        THEN replace(event_type, '_', ' ') || ' (suspect)'
                        ELSE replace(event_type, '_', ' ') END))), ', ') AS what
        FROM m_flag_items WHERE flag_type = 'adult_risk_history' AND part = 'trigger'
        GROUP BY ALL""",
    explanation="a.display_name || ', ' || h.role_text || ', has records of ' || s.what",
)

ADULT_RULES = (UNRECORDED_MALE_CARER, UNRECORDED_NON_BIRTHING_PARTNER, ADULT_RISK_HISTORY)
