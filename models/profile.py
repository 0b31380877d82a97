"""Data completeness per source: how much each agency's extract gives the linkage to work with."""

from __future__ import annotations

from typing import Any

import duckdb

COLUMNS = (
    "source",
    "agency",
    "is_primary",
    "people",
    "with_dob",
    "with_nhs_number",
    "with_uprn",
    "with_postcode",
    "relationships",
    "relationships_resolved",
    "events",
    "events_resolved",
    "children",
    "children_with_father_or_male_carer",
)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]  # type: ignore[index]
    )


def data_completeness(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per source: shares (0–1) of people records with a date of birth, NHS number,
    UPRN and postcode; shares of relationship and event rows that resolved to a person
    (quarantined rows count as not resolved); and, for primary sources, the share of the
    source's children (under 18 at the reference date) for whom that source records a
    father, step-parent, or male parent or carer. Needs the models tables for the last two
    columns (NULL without them)."""
    if _has_table(con, "quarantine"):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE m_profile_q AS
               SELECT source, file_kind, count(*) AS n FROM quarantine GROUP BY ALL"""
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE m_profile_q (source VARCHAR, file_kind VARCHAR, n BIGINT)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE m_profile_c (source VARCHAR, children BIGINT, with_father BIGINT)"
    )
    if _has_table(con, "models_run") and _has_table(con, "relationships_resolved"):
        con.execute(
            """
            INSERT INTO m_profile_c
            SELECT s.source, count(DISTINCT p.person_id),
                   count(DISTINCT p.person_id) FILTER (WHERE EXISTS (
                       SELECT 1 FROM relationships_resolved rr
                       JOIN persons x ON x.person_id = rr.related_person_id
                       WHERE rr.person_id = p.person_id AND rr.source = s.source
                         AND rr.basis IN ('recorded', 'reciprocal')
                         AND (rr.relationship IN ('father', 'step_parent')
                              OR (rr.relationship IN ('parent', 'carer', 'household_member')
                                  AND x.sex = 'male'))))
            FROM source_records s JOIN person_records pr USING (source, record_id)
            JOIN persons p ON p.person_id = pr.person_id
            CROSS JOIN models_run m
            WHERE s.is_primary AND p.in_primary AND p.dob IS NOT NULL
              AND p.dob <= m.reference_date AND p.dob + INTERVAL 18 YEAR > m.reference_date
            GROUP BY s.source
            """
        )
    cur = con.execute(
        """
        WITH q AS (SELECT * FROM m_profile_q),
        c AS (SELECT * FROM m_profile_c),
        ppl AS (
            SELECT source, any_value(agency) AS agency, bool_or(is_primary) AS is_primary,
                   count(*) AS people,
                   avg((dob IS NOT NULL)::INT) AS with_dob,
                   avg((nhs_number IS NOT NULL)::INT) AS with_nhs_number,
                   avg((uprn IS NOT NULL)::INT) AS with_uprn,
                   avg((postcode IS NOT NULL)::INT) AS with_postcode
            FROM source_records GROUP BY source
        ),
        rel AS (
            SELECT r.source, count(*) AS n,
                   count(*) FILTER (WHERE a.person_id IS NOT NULL AND b.person_id IS NOT NULL)
                       AS resolved
            FROM relationships r
            LEFT JOIN person_records a ON a.source = r.source AND a.record_id = r.record_id
            LEFT JOIN person_records b ON b.source = r.source AND b.record_id = r.related_record_id
            GROUP BY r.source
        ),
        ev AS (
            SELECT e.source, count(*) AS n, count(a.person_id) AS resolved
            FROM events e
            LEFT JOIN person_records a ON a.source = e.source AND a.record_id = e.record_id
            GROUP BY e.source
        )
        SELECT ppl.source, ppl.agency, ppl.is_primary, ppl.people,
               round(with_dob, 3), round(with_nhs_number, 3), round(with_uprn, 3),
               round(with_postcode, 3),
               coalesce(rel.n, 0) + coalesce(qr.n, 0) AS relationships,
               round(rel.resolved / nullif(coalesce(rel.n, 0) + coalesce(qr.n, 0), 0), 3),
               coalesce(ev.n, 0) + coalesce(qe.n, 0) AS events,
               round(ev.resolved / nullif(coalesce(ev.n, 0) + coalesce(qe.n, 0), 0), 3),
               CASE WHEN ppl.is_primary THEN c.children END,
               CASE WHEN ppl.is_primary THEN round(c.with_father / nullif(c.children, 0), 3) END
        FROM ppl
        LEFT JOIN rel USING (source)
        LEFT JOIN ev USING (source)
        LEFT JOIN q qr ON qr.source = ppl.source AND qr.file_kind = 'relationships'
        LEFT JOIN q qe ON qe.source = ppl.source AND qe.file_kind = 'events'
        LEFT JOIN c ON c.source = ppl.source
        ORDER BY ppl.source
        """
    )
    return [dict(zip(COLUMNS, row, strict=True)) for row in cur.fetchall()]
