"""The index page's data: every flagged child with their flag types and agencies, and counts."""

from __future__ import annotations

import duckdb

from famlink.visualise.data import IndexData, IndexRow
from famlink.visualise.reading import as_date, query_rows, require_tables, run_manifest

#: Tables the index reads (``docs/tables.md``).
INDEX_TABLES = ("persons", "flags", "flag_evidence", "runs", "models_run")


def index_data(con: duckdb.DuckDBPyConnection) -> IndexData:
    """Every flagged child with their flag types and agencies, counts, and the run manifest."""
    require_tables(con, INDEX_TABLES)
    rows = query_rows(
        con,
        """
        WITH ev AS (
            SELECT f.child_person_id, e.agency
            FROM flags f JOIN flag_evidence e USING (flag_key)
            WHERE e.agency IS NOT NULL
        ),
        per_child AS (
            SELECT child_person_id,
                   list_sort(list_distinct(list(flag_type))) AS flag_types,
                   count(*) AS n_flags,
                   min(family_id) AS family_id,
                   min(link_probability) AS min_link_probability
            FROM flags GROUP BY child_person_id
        )
        SELECT c.*, p.display_name, p.first_name, p.surname, p.dob,
               list_sort(list_distinct(list_concat(
                   coalesce(p.agencies, []::VARCHAR[]),
                   coalesce((SELECT list(agency) FROM ev WHERE ev.child_person_id = c.child_person_id),
                            []::VARCHAR[])))) AS agencies
        FROM per_child c LEFT JOIN persons p ON p.person_id = c.child_person_id
        ORDER BY c.n_flags DESC, c.child_person_id
        """,
    )
    counts = con.execute(
        """
        SELECT flag_type, count(*), count(DISTINCT child_person_id)
        FROM flags GROUP BY flag_type ORDER BY flag_type
        """
    ).fetchall()
    run = run_manifest(con)
    return IndexData(
        rows=tuple(
            IndexRow(
                child_person_id=r["child_person_id"],
                display_name=r["display_name"] or "",
                first_name=r["first_name"],
                surname=r["surname"],
                dob=as_date(r["dob"]),
                family_id=r["family_id"],
                flag_types=tuple(r["flag_types"]),
                n_flags=int(r["n_flags"]),
                agencies=tuple(r["agencies"] or ()),
                min_link_probability=r["min_link_probability"],
            )
            for r in rows
        ),
        flag_type_counts=tuple((str(t), int(n), int(c)) for t, n, c in counts),
        run=run,
        reference_date=run.reference_date if run else None,
    )
