"""Residences, households and inferred co-residence — set work in DuckDB.

An address key is `uprn:<UPRN>` where the record has a UPRN, or where another record with the
same postcode and cleaned address has one; otherwise `addr:<postcode>|<address_clean>`.
A record's period at the address is `address_from`..`address_to`; an open end runs to the
reference date; a record with no dates counts as current at its source's extract, taken to be
the reference date.
"""

from __future__ import annotations

from famlink.linkage.connection import SQLConnection

# More distinct people than this at one address key inside the window: a hostel, a block
# recorded under one UPRN, or a placeholder address. No co-residence is inferred there.
COMMUNAL_ADDRESS_PEOPLE = 25


def build_residences(con: SQLConnection) -> None:
    """Write `residences`; keep `m_residences` (with effective periods) for later steps."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_addr_lookup AS
        SELECT postcode, address_clean, uprn FROM (
            SELECT postcode, address_clean, uprn,
                   row_number() OVER (PARTITION BY postcode, address_clean
                                      ORDER BY count(*) DESC, uprn) AS rn
            FROM source_records
            WHERE uprn IS NOT NULL AND postcode IS NOT NULL AND address_clean IS NOT NULL
            GROUP BY postcode, address_clean, uprn)
        WHERE rn = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_residences AS
        SELECT rp.person_id,
               CASE WHEN coalesce(s.uprn, l.uprn) IS NOT NULL THEN 'uprn:' || coalesce(s.uprn, l.uprn)
                    ELSE 'addr:' || s.postcode || '|' || s.address_clean END AS address_key,
               coalesce(s.uprn, l.uprn) AS uprn, s.postcode, s.address,
               s.source, s.agency, s.is_primary, s.record_id,
               s.address_from AS date_from, s.address_to AS date_to,
               coalesce(s.address_from, s.address_to, getvariable('m_ref')) AS eff_from,
               coalesce(s.address_to, getvariable('m_ref')) AS eff_to,
               coalesce(s.address_to, getvariable('m_ref')) >= getvariable('m_ref') AS is_current,
               rp.link_probability
        FROM source_records s
        JOIN m_record_prob rp USING (source, record_id)
        LEFT JOIN m_addr_lookup l
               ON s.uprn IS NULL AND l.postcode = s.postcode AND l.address_clean = s.address_clean
        WHERE s.uprn IS NOT NULL OR l.uprn IS NOT NULL
           OR (s.postcode IS NOT NULL AND s.address_clean IS NOT NULL AND s.address_clean <> '')
        """,
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE residences AS
        SELECT person_id, address_key, uprn, postcode, address, source, agency, record_id,
               date_from, date_to, is_current, eff_from, eff_to, link_probability
        FROM m_residences
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_res_window AS
        SELECT * FROM m_residences WHERE eff_to >= getvariable('m_wstart') AND eff_from <= getvariable('m_ref');

        CREATE OR REPLACE TEMP TABLE m_communal AS
        SELECT address_key, count(DISTINCT person_id) AS n_people FROM m_res_window
        GROUP BY ALL HAVING count(DISTINCT person_id) > getvariable('m_cap');
        """,
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE households AS
        SELECT 'H' || left(sha256(w.address_key), 12) AS household_id, w.address_key,
               w.person_id,
               min(greatest(w.eff_from, getvariable('m_wstart'))) AS date_from,
               max(least(w.eff_to, getvariable('m_ref'))) AS date_to,
               list_sort(list_distinct(list(w.source))) AS sources,
               -- the address as a primary source writes it, else the first source's
               arg_min(w.address, (NOT w.is_primary, w.source, w.record_id))
                   FILTER (WHERE w.address IS NOT NULL) AS address,
               c.address_key IS NOT NULL AS is_communal
        FROM m_res_window w LEFT JOIN m_communal c USING (address_key)
        GROUP BY w.address_key, w.person_id, c.address_key
        """,
    )


def build_co_residence(con: SQLConnection) -> None:
    """`m_co_items`: the evidence of inferred co-residence — two people at one address key
    whose periods overlap each other inside the window. One row per pair (smaller person id
    first), address and residence record of either person, with the span of the overlaps.

    Co-residence is symmetric, so it is kept once per pair, and in one statement with no
    table of record pairs: a household of n people with r records each has n²r² of those,
    and on a large run they were the models stage's largest working table.
    They are written to `relationship_evidence` with the other edges' evidence.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_co_items AS
        WITH pairs AS (
            SELECT a.person_id, b.person_id AS related_person_id, a.address_key,
                   greatest(a.eff_from, b.eff_from, getvariable('m_wstart')) AS f,
                   least(a.eff_to, b.eff_to, getvariable('m_ref')) AS t,
                   least(a.link_probability, b.link_probability) AS p,
                   [{'source': a.source, 'record_id': a.record_id, 'agency': a.agency,
                     'is_primary': a.is_primary},
                    {'source': b.source, 'record_id': b.record_id, 'agency': b.agency,
                     'is_primary': b.is_primary}] AS records
            FROM m_res_window a
            JOIN m_res_window b ON a.address_key = b.address_key AND a.person_id < b.person_id
            WHERE a.address_key NOT IN (SELECT address_key FROM m_communal)
              AND greatest(a.eff_from, b.eff_from, getvariable('m_wstart'))
                  <= least(a.eff_to, b.eff_to, getvariable('m_ref'))
        ),
        items AS (
            SELECT person_id, related_person_id, address_key, unnest(records) AS r, f, t, p
            FROM pairs
        )
        SELECT person_id, related_person_id, address_key, r.source, r.agency, r.is_primary,
               r.record_id, min(f) AS date_from, max(t) AS date_to, max(p) AS link_probability
        FROM items
        GROUP BY person_id, related_person_id, address_key, r
        """
    )
