"""From scored links to persons: clustering, cannot-links, person ids and ``persons``.

Writes ``person_records``, ``persons`` and (through :mod:`famlink.linkage.stable_ids`)
``person_changes`` from ``record_links`` (see docs/tables.md). The SQL is written once, in
DuckDB's dialect, and runs on the output database or, on the Spark backend, on Spark through
:class:`famlink.linkage.spark.sql.SparkSQLConnection`, so both engines make the same persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import duckdb
from splink import DuckDBAPI

from famlink.linkage import cannot_link, review, stable_ids
from famlink.linkage.clusters import person_id_for, split_conflicting_clusters
from famlink.linkage.connection import SQLConnection, create_table
from famlink.linkage.errors import FamlinkError

# A reviewer's "same person", or a source's own person id, outranks any evidence the model
# can weigh.
MUST_LINK_WEIGHT = 1000.0


@dataclass(frozen=True)
class ClustersSplit:
    """How many provisional clusters were rebuilt around a cannot-link pair: in all, and by
    the rule (or ``reviewer``) whose pair each held; a cluster holding pairs of several
    rules counts under each."""

    total: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


# Connected components are an input to `_cluster`: a table of (node_id, cluster_id) with
# one row per record, node ids `source:record_id`. The DuckDB backend computes it here; the
# Spark backend computes it on Spark with the same SQL and loads it into this table.
COMPONENTS_TABLE = "__famlink_components"


def cluster_nodes_sql(records: str) -> str:
    """The clustering's nodes, one per record of ``records``; written once for both backends
    (DuckDB and Spark both run it) so node ids are the same whichever engine clusters."""
    return f"SELECT source || ':' || record_id AS node_id, source, record_id FROM {records}"  # noqa: S608


def cluster_links_sql(record_links: str, must_links: str, match_threshold: float) -> str:
    """Every link the clustering may use, with the weight that orders them when a cluster
    must be rebuilt: the model's links (``record_links`` columns) at/above the threshold,
    and reviewers' must-links (``MUST_LINK_SQL`` columns), which outrank any model evidence.

    SQL that DuckDB and Spark both run, so the two backends cluster the same edges.
    """
    return f"""
        SELECT source_l, record_id_l, source_r, record_id_r, match_weight, match_probability
        FROM {record_links} WHERE match_probability >= CAST({float(match_threshold)!r} AS DOUBLE)
        UNION ALL
        SELECT source_a, record_id_a, source_b, record_id_b,
               CAST({MUST_LINK_WEIGHT!r} AS DOUBLE), CAST(1.0 AS DOUBLE)
        FROM {must_links}
    """  # noqa: S608 - famlink's own table names and numbers


def cluster_edges_sql(links: str) -> str:
    """Edges between node ids (see :func:`cluster_nodes_sql`) for Splink's clustering, from
    ``links`` (see :func:`cluster_links_sql`); DuckDB and Spark both run it."""
    return f"""
        SELECT source_l || ':' || record_id_l AS node_id_l,
               source_r || ':' || record_id_r AS node_id_r, match_probability
        FROM {links}
    """  # noqa: S608 - famlink's own table name


def _duckdb_components(con: SQLConnection, *, match_threshold: float) -> str:
    """Connected components of ``__famlink_links`` with Splink's clustering on DuckDB, into
    ``COMPONENTS_TABLE``; returns its name. (The Spark backend computes the same on Spark.)"""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    con.execute(f"CREATE OR REPLACE TEMP TABLE __famlink_nodes AS {cluster_nodes_sql('source_records')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE __famlink_edges AS {cluster_edges_sql('__famlink_links')}")
    db_api = DuckDBAPI(cast(duckdb.DuckDBPyConnection, con))  # only DuckDB comes here
    clustered = cluster_pairwise_predictions_at_threshold(
        nodes="__famlink_nodes",
        edges="__famlink_edges",
        db_api=db_api,
        node_id_column_name="node_id",
        edge_id_column_name_left="node_id_l",
        edge_id_column_name_right="node_id_r",
        threshold_match_probability=match_threshold,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {COMPONENTS_TABLE} AS
        SELECT node_id, cluster_id FROM {clustered.physical_name}
        """  # noqa: S608 - Splink's own table name
    )
    db_api.delete_tables_created_by_splink_from_db()
    return COMPONENTS_TABLE


def must_links_sql(con: SQLConnection) -> str:
    """Every must-link ``(source_a, record_id_a, source_b, record_id_b)``: reviewers' "same
    person" decisions and rows of one source sharing its own person id
    (:func:`famlink.linkage.cannot_link.source_person_links_sql`). DuckDB and Spark run it."""
    columns = cannot_link.columns_of(con)
    return f"{review.MUST_LINK_SQL} UNION ALL {cannot_link.source_person_links_sql(columns)}"


def cluster_persons(
    con: SQLConnection,
    *,
    match_threshold: float,
    components: str | None = None,
    rules: Sequence[cannot_link.CannotLinkRule] = cannot_link.RULES,
) -> tuple[ClustersSplit, stable_ids.PersonChanges]:
    """From links to persons: ``person_records``, ``persons`` and ``person_changes``.

    ``con`` is the DuckDB connection, or on the Spark backend its stand-in
    (:class:`famlink.linkage.spark.sql.SparkSQLConnection`) holding the same input tables
    (``source_records``, ``relationships``, ``record_links``, ``link_decisions``,
    ``previous_person_records``): the same SQL runs on either. ``rules`` are the built-in
    cannot-link rules in force (``[linkage.cannot_link]``). Returns the clusters rebuilt
    around a cannot-link (by rule) and how persons changed since the last run.
    """
    clusters_split = _cluster(
        con,
        match_threshold=match_threshold,
        cannot_link_sql=review.CANNOT_LINK_SQL,
        must_link_sql=must_links_sql(con),
        components=components,
        rules=rules,
    )
    changes = stable_ids.carry_forward(con)
    _write_persons(con)
    return clusters_split, changes


def _cluster(
    con: SQLConnection,
    *,
    match_threshold: float,
    cannot_link_sql: str,
    must_link_sql: str,
    components: str | None = None,
    rules: Sequence[cannot_link.CannotLinkRule] = cannot_link.RULES,
) -> ClustersSplit:
    """Connected components over links at/above the threshold (plus must-links), then
    clusters holding a cannot-link pair are rebuilt without their weakest links.

    ``components`` is a table of (node_id, cluster_id) a backend has already computed (the
    Spark backend computes it on Spark); if None, Splink's clustering computes it here on
    DuckDB. Returns the clusters rebuilt, by rule.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __famlink_links AS "
        + cluster_links_sql("record_links", f"({must_link_sql})", match_threshold)
    )
    if components is None:
        components = _duckdb_components(con, match_threshold=match_threshold)
    _provisional_persons(con, components)
    parts_by_cluster, split = _rebuild_conflicting_clusters(con, cannot_link_sql, rules)
    _assign_final_ids(con, parts_by_cluster)
    return split


def _provisional_persons(con: SQLConnection, components: str) -> None:
    """``person_records`` with one provisional person per component, so the cannot-link SQL
    can look pairs up. A component table that misses a record is refused: it would drop
    that record from the output (the Spark backend's table crosses engines to get here)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE person_records AS
        SELECT s.source, s.record_id, c.cluster_id AS person_id
        FROM source_records s JOIN {components} c ON c.node_id = s.source || ':' || s.record_id
        """  # noqa: S608 - famlink's own table name
    )
    placed, records = con.execute(
        "SELECT (SELECT count(*) FROM person_records), (SELECT count(*) FROM source_records)"
    ).fetchall()[0]
    if placed != records:
        raise FamlinkError(
            f"clustering placed {placed:,} of {records:,} records in a person; the connected "
            "components do not cover the records (each record must be in exactly one)")


def _rebuild_conflicting_clusters(
    con: SQLConnection, cannot_link_sql: str, rules: Sequence[cannot_link.CannotLinkRule]
) -> tuple[dict[str, list[list[tuple[str, str]]]], ClustersSplit]:
    """Find the provisional persons holding both records of a cannot-link pair and split
    each without its weakest links; returns the parts of each rebuilt cluster (empty if
    none conflicts, which spares reading any links into Python) and their count by rule.

    A reviewer's "different" decision holds whatever the source's person id says; the
    built-in rules never separate rows of one source sharing its person id
    (:func:`famlink.linkage.cannot_link.forbidden_pairs_sql`)."""
    built_in = cannot_link.forbidden_pairs_sql("person_records", cannot_link.columns_of(con), rules)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __famlink_conflicts AS
        SELECT * FROM ({built_in}) b(rule, sa, ra, sb, rb)
        UNION
        SELECT '{cannot_link.REVIEWER}', * FROM ({cannot_link_sql}) c(sa, ra, sb, rb)
        """  # noqa: S608 - famlink's own SQL
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __famlink_rebuild_rules AS
        SELECT pa.person_id, c.rule
        FROM __famlink_conflicts c
        JOIN person_records pa ON pa.source = c.sa AND pa.record_id = c.ra
        JOIN person_records pb ON pb.source = c.sb AND pb.record_id = c.rb
        WHERE pa.person_id = pb.person_id
        GROUP BY pa.person_id, c.rule
        """
    )
    by_rule = dict(con.execute(
        "SELECT rule, count(*) FROM __famlink_rebuild_rules GROUP BY rule ORDER BY rule").fetchall())
    if not by_rule:
        return {}, ClustersSplit()
    con.execute("CREATE OR REPLACE TEMP TABLE __famlink_rebuild AS "
                "SELECT DISTINCT person_id FROM __famlink_rebuild_rules")
    conflicts = [((a, b), (c, d)) for a, b, c, d in con.execute(
        "SELECT DISTINCT sa, ra, sb, rb FROM __famlink_conflicts").fetchall()]
    clusters: dict[str, list[tuple[str, str]]] = {}
    for cid, source, record_id in con.execute(
        "SELECT person_id, source, record_id FROM person_records JOIN __famlink_rebuild "
        "USING (person_id) ORDER BY person_id, source, record_id"
    ).fetchall():
        clusters.setdefault(cid, []).append((source, record_id))
    links = con.execute(
        """
        SELECT l.source_l, l.record_id_l, l.source_r, l.record_id_r, l.match_weight
        FROM __famlink_links l
        JOIN person_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
        JOIN person_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
        JOIN __famlink_rebuild r ON r.person_id = a.person_id
        WHERE a.person_id = b.person_id
        """
    ).fetchall()
    unanchored = con.execute(
        """
        SELECT s.source, s.record_id FROM source_records s
        JOIN person_records pr USING (source, record_id)
        JOIN __famlink_rebuild USING (person_id)
        WHERE s.dob IS NULL AND s.nhs_number IS NULL
        """
    ).fetchall()
    parts = split_conflicting_clusters(
        clusters,
        [((a, b), (c, d), p) for a, b, c, d, p in links],
        conflicts,
        unanchored=[(s, r) for s, r in unanchored],
    )
    ordered = {name: by_rule[name] for name in (*cannot_link.RULE_NAMES, cannot_link.REVIEWER)
               if name in by_rule}
    return parts, ClustersSplit(total=len(parts), by_rule=ordered)


def _assign_final_ids(
    con: SQLConnection, parts_by_cluster: dict[str, list[list[tuple[str, str]]]]
) -> None:
    """Final person ids, one per cluster or rebuilt part, from its smallest member (the
    rule of :func:`person_id_for`), so ids never depend on the clustering's own cluster_id
    (which differs between engines and runs)."""
    overrides = [
        (f"{source}:{record_id}", person_id_for(part))
        for parts in parts_by_cluster.values() for part in parts for source, record_id in part
    ]
    create_table(con, "__famlink_overrides", [("key", "VARCHAR"), ("person_id", "VARCHAR")], overrides)
    con.execute(
        """
        CREATE OR REPLACE TABLE person_records AS
        WITH smallest AS (
            SELECT person_id AS cluster_id, min(source || ':' || record_id) AS first_member
            FROM person_records GROUP BY person_id
        )
        SELECT pr.source, pr.record_id,
               coalesce(o.person_id, 'P' || substr(sha256(m.first_member), 1, 12)) AS person_id
        FROM person_records pr
        JOIN smallest m ON m.cluster_id = pr.person_id
        LEFT JOIN __famlink_overrides o ON o.key = pr.source || ':' || pr.record_id
        ORDER BY pr.source, pr.record_id
        """
    )


def _write_persons(con: SQLConnection) -> None:
    """One row per person: best display name, date of birth, sex; where they appear."""
    con.execute(
        """
        CREATE OR REPLACE TABLE person_records AS
        WITH best AS (
            SELECT l.source_l AS source, l.record_id_l AS record_id, l.match_probability
            FROM record_links l
            JOIN person_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
            JOIN person_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
            WHERE a.person_id = b.person_id
            UNION ALL
            SELECT l.source_r, l.record_id_r, l.match_probability
            FROM record_links l
            JOIN person_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
            JOIN person_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
            WHERE a.person_id = b.person_id
        )
        SELECT pr.source, pr.record_id, pr.person_id,
               coalesce(max(best.match_probability), 1.0) AS link_probability
        FROM person_records pr
        LEFT JOIN best ON best.source = pr.source AND best.record_id = pr.record_id
        GROUP BY pr.source, pr.record_id, pr.person_id
        ORDER BY pr.source, pr.record_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE persons AS
        WITH r AS (
            SELECT pr.person_id, pr.link_probability, s.*
            FROM person_records pr JOIN source_records s USING (source, record_id)
        ),
        name_pick AS (
            SELECT person_id, first_name, surname FROM (
                SELECT person_id, first_name, surname, row_number() OVER (
                    PARTITION BY person_id
                    ORDER BY votes DESC, is_primary DESC,
                             (first_name = upper(first_name) AND surname = upper(surname)),
                             source, record_id) AS rn
                FROM (
                    SELECT *, count(*) OVER (
                        PARTITION BY person_id, first_name_clean, surname_clean) AS votes
                    FROM r
                )
            ) WHERE rn = 1
        ),
        {_mode_cte("dob")},
        {_mode_cte("sex", "sex IN ('male', 'female')")},
        {_mode_cte("nhs_number")}
        SELECT
            r.person_id,
            nullif(trim(concat_ws(' ', n.first_name, n.surname)), '') AS display_name,
            n.first_name, n.surname,
            d.dob,
            coalesce(x.sex, CASE WHEN bool_or(r.sex = 'unknown') THEN 'unknown' END) AS sex,
            h.nhs_number,
            -- sorted lists rather than ordered aggregates: both engines compute these alike
            list_sort(list_distinct(list(r.source))) AS sources,
            list_sort(list_distinct(list(r.agency))) AS agencies,
            CAST(count(*) AS INTEGER) AS n_records,
            bool_or(r.is_primary) AS in_primary,
            min(r.link_probability) AS min_link_probability
        FROM r
        JOIN name_pick n USING (person_id)
        LEFT JOIN mode_dob d USING (person_id)
        LEFT JOIN mode_sex x USING (person_id)
        LEFT JOIN mode_nhs_number h USING (person_id)
        GROUP BY r.person_id, n.first_name, n.surname, d.dob, x.sex, h.nhs_number
        ORDER BY r.person_id
        """  # noqa: S608 - fixed column names only
    )


def _mode_cte(column: str, condition: str | None = None) -> str:
    """CTE ``mode_<column>``: a person's most frequent non-null value (ties: smallest)."""
    where = f"{column} IS NOT NULL" + (f" AND {condition}" if condition else "")
    return f"""mode_{column} AS (
            SELECT person_id, {column} FROM (
                SELECT person_id, {column},
                       row_number() OVER (PARTITION BY person_id ORDER BY count(*) DESC, {column}) AS rn
                FROM r WHERE {where} GROUP BY person_id, {column}
            ) WHERE rn = 1
        )"""  # noqa: S608 - fixed column names only
