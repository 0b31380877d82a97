"""Person ids that survive re-runs, and a log of how persons changed between runs.

A case auditor's decisions hang on flag keys, and flag keys on person ids, so a monthly
re-run must give the same person the same id. Each new person inherits the id of the
previous person it shares most records with (when that previous person also shares most
with it); everything else gets a fresh id. ``person_changes`` says which previous persons
were merged or split, so nobody has to guess why an id disappeared.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from famlink.linkage.connection import SQLConnection

PREVIOUS_TABLE = "previous_person_records"


def snapshot_previous(con: duckdb.DuckDBPyConnection) -> bool:
    """Keep the previous run's ``person_records`` (if any) as a temp table; True if found."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'person_records' AND table_schema = 'main'"
    ).fetchall()[0][0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PREVIOUS_TABLE} "
        "(source VARCHAR, record_id VARCHAR, person_id VARCHAR)"
    )
    if exists:
        con.execute(
            f"INSERT INTO {PREVIOUS_TABLE} SELECT source, record_id, person_id FROM main.person_records"  # noqa: S608
        )
    return bool(exists)


@dataclass(frozen=True)
class PersonChanges:
    unchanged: int
    changed: int
    merged: int
    split: int
    new: int
    gone: int

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def carry_forward(con: SQLConnection) -> PersonChanges:
    """Rewrite ``person_records.person_id`` to inherit previous ids; write ``person_changes``.

    Expects ``person_records`` (source, record_id and this run's freshly computed ids) and
    the temp table ``previous_person_records`` (empty on a first run). ``con`` is DuckDB's
    connection or the Spark backend's stand-in for it (:mod:`famlink.linkage.spark.sql`).
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __famlink_overlap AS
        SELECT n.person_id AS new_id, p.person_id AS old_id, count(*) AS shared
        FROM person_records n
        JOIN {PREVIOUS_TABLE} p USING (source, record_id)
        GROUP BY ALL
        """  # noqa: S608 - fixed table name
    )
    # Mutual best matches: the previous person's records mostly went to this new person, and
    # this new person's records mostly came from that previous person. Ties go to the smaller
    # id so the result never depends on row order.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __famlink_inherit AS
        SELECT new_id, old_id FROM (
            SELECT *,
                   row_number() OVER (PARTITION BY old_id ORDER BY shared DESC, new_id) AS r_old,
                   row_number() OVER (PARTITION BY new_id ORDER BY shared DESC, old_id) AS r_new
            FROM __famlink_overlap
        ) WHERE r_old = 1 AND r_new = 1
        """
    )
    # A fresh id that happens to equal an inherited one (its smallest record moved to
    # another person) is re-derived with a suffix, so ids stay unique.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __famlink_final_ids AS
        WITH fresh AS (SELECT DISTINCT person_id AS new_id FROM person_records)
        SELECT f.new_id,
               coalesce(i.old_id,
                        CASE WHEN f.new_id IN (SELECT old_id FROM __famlink_inherit)
                             THEN 'P' || substr(sha256(f.new_id || '#reissued'), 1, 12)
                             ELSE f.new_id END) AS person_id
        FROM fresh f LEFT JOIN __famlink_inherit i USING (new_id)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __famlink_changes AS
        WITH o AS (
            SELECT ids.person_id, ov.old_id, ov.shared
            FROM __famlink_overlap ov JOIN __famlink_final_ids ids USING (new_id)
        ),
        new_sizes AS (SELECT f.person_id, count(*) AS n FROM person_records pr
                      JOIN __famlink_final_ids f ON f.new_id = pr.person_id GROUP BY 1),
        old_sizes AS (SELECT person_id AS old_id, count(*) AS n FROM {PREVIOUS_TABLE} GROUP BY 1),
        fan_in AS (SELECT person_id, count(*) AS k FROM o GROUP BY 1),
        fan_out AS (SELECT old_id, count(*) AS k FROM o GROUP BY 1)
        SELECT o.old_id AS previous_person_id, o.person_id, o.shared AS records_shared,
               CASE
                   WHEN fo.k > 1 THEN 'split'
                   WHEN fi.k > 1 THEN 'merged'
                   WHEN o.shared = ns.n AND o.shared = os.n THEN 'unchanged'
                   ELSE 'changed'
               END AS change
        FROM o
        JOIN fan_in fi USING (person_id)
        JOIN fan_out fo USING (old_id)
        JOIN new_sizes ns USING (person_id)
        JOIN old_sizes os USING (old_id)
        UNION ALL
        SELECT NULL, n.person_id, 0, 'new' FROM new_sizes n ANTI JOIN o USING (person_id)
        UNION ALL
        SELECT os.old_id, NULL, 0, 'gone' FROM old_sizes os ANTI JOIN o USING (old_id)
        """  # noqa: S608 - fixed table name
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE person_records AS
        SELECT pr.source, pr.record_id, f.person_id
        FROM person_records pr JOIN __famlink_final_ids f ON f.new_id = pr.person_id
        ORDER BY pr.source, pr.record_id
        """
    )
    has_previous = con.execute(f"SELECT count(*) FROM {PREVIOUS_TABLE}").fetchall()[0][0] > 0  # noqa: S608
    # On a first run every person is "new"; the log only says something after a re-run.
    keep = "true" if has_previous else "false"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE person_changes AS SELECT * FROM __famlink_changes WHERE {keep}
        ORDER BY change, previous_person_id NULLS FIRST, person_id NULLS FIRST
        """  # noqa: S608 - a literal true/false
    )
    # Merges count the new persons formed, splits the previous persons broken up.
    counts = dict(
        con.execute(
            """
            SELECT change, count(DISTINCT CASE WHEN change IN ('split', 'gone')
                                               THEN previous_person_id ELSE person_id END)
            FROM __famlink_changes GROUP BY 1
            """
        ).fetchall()
    )
    if not has_previous:
        counts = {"new": counts.get("new", 0)}
    return PersonChanges(
        unchanged=counts.get("unchanged", 0),
        changed=counts.get("changed", 0),
        merged=counts.get("merged", 0),
        split=counts.get("split", 0),
        new=counts.get("new", 0),
        gone=counts.get("gone", 0),
    )
