"""The rules whose flags are about the child alone: no father recorded, a sibling's
safeguarding history, an injury before the child could move, neglect without a GCP2."""

from __future__ import annotations

from famlink.linkage.jobfile import EVENT_TYPES
from famlink.models.flags.rule import FlagRule, Parameter

FATHER_NOT_RECORDED = FlagRule(
    name="father_not_recorded",
    summary="No primary source records a father, step-parent or male carer, nor a male "
    "partner of the mother.",
    evidence="""
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
        WHERE s.is_primary""",
    explanation="""
        'No primary source records a father, step-parent or male carer for '
        || c.display_name || ', nor a male partner of the mother'""",
)

SIBLING_SAFEGUARDING_HISTORY = FlagRule(
    name="sibling_safeguarding_history",
    summary="A full or half sibling has a child protection plan or has been looked after.",
    parameters=(
        Parameter("event_types", ("cp_plan", "looked_after"),
                  "a sibling's event types that raise the flag", choices=EVENT_TYPES),
    ),
    evidence="""
        CREATE OR REPLACE TEMP TABLE m_sib_events AS
        SELECT * FROM m_events
        WHERE event_type IN (SELECT unnest(getvariable('m_sibling_safeguarding_history_event_types')));

        CREATE OR REPLACE TEMP TABLE m_sib_hits AS
        SELECT DISTINCT rr.person_id AS child_id, rr.related_person_id AS sibling_id
        FROM relationships_resolved rr JOIN m_children c ON c.person_id = rr.person_id
        WHERE rr.relationship IN ('sibling', 'half_sibling') AND rr.basis <> 'inferred'
          AND EXISTS (SELECT 1 FROM m_sib_events ev WHERE ev.person_id = rr.related_person_id);

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
        FROM m_sib_hits h JOIN m_sib_events ev ON ev.person_id = h.sibling_id""",
    trigger_summary="""
        SELECT child_id, adult_id,
               array_to_string(list_sort(list_distinct(list(event_type))), ' and ') AS what,
               count(DISTINCT person_id) AS n
        FROM m_flag_items WHERE flag_type = 'sibling_safeguarding_history' AND part = 'trigger'
        GROUP BY ALL""",
    explanation="""
        c.display_name || ' has ' || s.n || ' sibling(s) or half-sibling(s) with a history of '
        || replace(replace(s.what, 'cp_plan', 'child protection plan'), 'looked_after',
                   'being looked after')""",
)

NON_MOBILE_INJURY = FlagRule(
    name="non_mobile_injury",
    summary="An injury before the child could move about independently.",
    parameters=(
        Parameter("age_months", 6, "injuries before this age in months raise the flag "
                  "(default: [family] non_mobile_age_months)"),
        Parameter("household_min_age", 16, "the youngest age of the people shown as the "
                  "household at the injury (context evidence)"),
    ),
    # the household at the injury's date is context only; an undated residence record
    # counts for injuries inside the window
    evidence="""
        CREATE OR REPLACE TEMP TABLE m_injuries AS
        SELECT c.person_id AS child_id, ev.*
        FROM m_children c JOIN m_events ev ON ev.person_id = c.person_id
        WHERE ev.event_type = 'injury' AND ev.event_date >= c.dob
          AND ev.event_date < c.dob + to_months(getvariable('m_non_mobile_injury_age_months'));

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
        WHERE pa.dob IS NULL
           OR pa.dob + to_months(12 * getvariable('m_non_mobile_injury_household_min_age'))
              <= j.event_date""",
    explanation="""
        c.display_name || ' had an injury recorded before the age of '
        || getvariable('m_non_mobile_injury_age_months') || ' months (not independently mobile)'""",
)

NEGLECT_WITHOUT_GCP2 = FlagRule(
    name="neglect_without_gcp2",
    summary="Neglect concerns recorded but no Graded Care Profile 2 assessment.",
    evidence="""
        INSERT INTO m_flag_items
        SELECT 'neglect_without_gcp2', c.person_id, NULL, 'trigger', 'event', ev.person_id,
               ev.agency, ev.source, ev.record_id, NULL, NULL, ev.event_type, ev.event_key,
               ev.event_date, ev.event_date, ev.description, ev.link_probability, 'recorded'
        FROM m_children c JOIN m_events ev ON ev.person_id = c.person_id
        WHERE ev.event_type = 'neglect_concern'
          AND NOT EXISTS (SELECT 1 FROM m_events g WHERE g.person_id = c.person_id
                          AND g.event_type = 'gcp2_assessment')""",
    explanation="""
        'Neglect concerns are recorded for ' || c.display_name
        || ' but no Graded Care Profile 2 assessment'""",
)

CHILD_RULES = (FATHER_NOT_RECORDED, SIBLING_SAFEGUARDING_HISTORY, NON_MOBILE_INJURY,
               NEGLECT_WITHOUT_GCP2)
