"""Where a famlink run loses FEBRL's true pairs: blocking, scoring, or the cannot-link rules.

Usage (after ``python -m bench.febrl run DIR``)::

    python -m bench.febrl.diagnose DIR/runs/febrl4-famlink DIR/febrl4/_truth/records.csv

Every true pair (two records of one FEBRL entity) is put in the first of these that holds:

``not blocked``      no prediction blocking rule of the run's ``model.json`` compares it;
``scored < floor``   compared, but below ``link_floor``, so not in ``record_links``;
``not connected``    in ``record_links`` but not in one connected component of the links at or
                     above ``match_threshold`` (too low a score, and no chain of links joins it);
``split``            in one component, but in two persons: the cannot-link rules (or the
                     rebuild of a cluster holding a forbidden pair) split it;
``found``            in one person.

Then, per built-in cannot-link rule *as on main at the time of writing* (different NHS
numbers, a generation apart, twins), how many true pairs the rule itself forbids — applied
to the true pair directly, whatever the model scored: the rule's ceiling on recall.
Read-only for the run's database.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

# The built-in rules of linkage/persons.py (main, commit caaacd8), on a pair a/b of
# source_records: what each forbids, applied to a true pair.
RULES = {
    "different NHS numbers": "a.nhs_number <> b.nhs_number",
    "a generation apart (dob > 10 years, not one typo)":
        "abs(date_diff('day', a.dob, b.dob)) > 3653 AND "
        "damerau_levenshtein(strftime(a.dob, '%Y%m%d'), strftime(b.dob, '%Y%m%d')) > 1",
    "twins (same dob, clearly different first names)": """
        b.dob = a.dob AND coalesce(a.nhs_number = b.nhs_number, false) = false
        AND jaro_winkler_similarity(a.first_name_canonical, b.first_name_canonical) < 0.8
        AND jaro_winkler_similarity(a.first_name_clean, b.first_name_clean) < 0.8
        AND substr(a.first_name_clean, 1, 3) <> substr(b.first_name_clean, 1, 3)
        AND a.first_name_clean <> b.surname_clean AND b.first_name_clean <> a.surname_clean
        AND NOT list_contains(string_split(coalesce(a.middle_names_clean, ''), ' '), b.first_name_canonical)
        AND NOT list_contains(string_split(coalesce(b.middle_names_clean, ''), ' '), a.first_name_canonical)""",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.febrl.diagnose", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="famlink's output folder (famlink.duckdb, model.json)")
    parser.add_argument("truth", type=Path, help="_truth/records.csv of the FEBRL set")
    parser.add_argument("--match-threshold", type=float, default=0.9)
    parser.add_argument("--one-source", action="store_true",
                        help="the set is one file (FEBRL3): join the truth on record_id only")
    args = parser.parse_args(argv)

    model = json.loads((args.run / "model.json").read_text(encoding="utf-8"))
    rules = [r["blocking_rule"] for r in model["blocking_rules_to_generate_predictions"]]
    con = duckdb.connect()
    con.execute("ATTACH ? AS f (READ_ONLY)", [str(args.run / "famlink.duckdb")])
    on = "t.record_id = s.record_id" + ("" if args.one_source else " AND t.source = s.source")
    con.execute(
        f"""CREATE TABLE rec AS SELECT t.true_entity, s.*, p.person_id
            FROM read_csv(?, all_varchar = true) t JOIN f.source_records s ON {on}
            JOIN f.person_records p ON p.source = s.source AND p.record_id = s.record_id""",  # noqa: S608
        [str(args.truth)])
    con.execute(f"CREATE TABLE inp AS SELECT source AS src, {_input_columns_sql(con)} FROM rec")  # noqa: S608
    con.execute(
        "CREATE TABLE comp AS SELECT * FROM (SELECT source || ':' || record_id AS node FROM rec)")
    _components(con, args.match_threshold)
    blocked = " OR ".join(f"({r})" for r in rules)
    rule_cols = ", ".join(f"coalesce({sql}, false) AS \"{name}\"" for name, sql in RULES.items())
    con.execute(
        f"""
        CREATE TABLE tp AS
        SELECT coalesce({blocked}, false) AS blocked,
               k.match_probability,
               ca.cluster = cb.cluster AS connected,
               a.person_id = b.person_id AS found,
               {rule_cols}
        FROM rec a JOIN rec b ON a.true_entity = b.true_entity
         AND (a.source, a.record_id) < (b.source, b.record_id)
        JOIN inp l ON l.src = a.source AND l.unique_id = a.record_id
        JOIN inp r ON r.src = b.source AND r.unique_id = b.record_id
        JOIN cc ca ON ca.node = a.source || ':' || a.record_id
        JOIN cc cb ON cb.node = b.source || ':' || b.record_id
        LEFT JOIN f.record_links k ON (k.source_l, k.record_id_l, k.source_r, k.record_id_r)
             IN ((a.source, a.record_id, b.source, b.record_id), (b.source, b.record_id, a.source, a.record_id))
        """)  # noqa: S608
    total = con.execute("SELECT count(*) FROM tp").fetchall()[0][0]
    stages = con.execute(
        """SELECT CASE WHEN found THEN '5 found'
                       WHEN NOT blocked THEN '1 not blocked'
                       WHEN match_probability IS NULL THEN '2 scored < floor'
                       WHEN NOT connected THEN '3 not connected'
                       ELSE '4 split' END AS stage, count(*)
           FROM tp GROUP BY 1 ORDER BY 1""").fetchall()
    blocking_recall = con.execute("SELECT avg(blocked::INT) FROM tp").fetchall()[0][0]
    print(f"true pairs: {total:,}; blocking recall {blocking_recall:.4f}")
    print("\n| where the pair ends | true pairs | share |\n|---|---:|---:|")
    for stage, n in stages:
        print(f"| {stage[2:]} | {n:,} | {n / total:.2%} |")
    # the components as persons: what famlink would score if no cannot-link rule split anything
    found, true, right = con.execute(
        """WITH j AS (SELECT r.true_entity, c.cluster FROM rec r JOIN cc c ON c.node = r.source || ':' || r.record_id)
           SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY cluster)),
                  (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY true_entity)),
                  (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY cluster, true_entity))"""
    ).fetchall()[0]
    p, r = right / found, right / true
    print(f"\ncomponents at {args.match_threshold} taken as persons (no cannot-link split): "
          f"pairwise precision {p:.4f}, recall {r:.4f}, F1 {2 * p * r / (p + r):.4f}")
    nulls = con.execute("SELECT count(*) FILTER (WHERE postcode IS NULL), count(*) FROM rec").fetchall()[0]
    print(f"postcode NULL after standardisation: {nulls[0]:,} of {nulls[1]:,} records")
    print("\n| cannot-link rule (main) | true pairs it forbids | share | of them, blocked and linked >= threshold |")
    print("|---|---:|---:|---:|")
    for name in RULES:
        n, linked = con.execute(
            f'SELECT count(*) FILTER (WHERE "{name}"), count(*) FILTER (WHERE "{name}" AND match_probability >= ?) '  # noqa: S608
            "FROM tp", [args.match_threshold]).fetchall()[0]
        print(f"| {name} | {n:,} | {n / total:.2%} | {linked:,} |")
    return 0


def _input_columns_sql(con: duckdb.DuckDBPyConnection) -> str:
    """famlink's select list from ``source_records`` to the model's input columns: built from
    the table's columns (``model_spec``, after #13) or fixed (``SPLINK_INPUT_COLUMNS_SQL``)."""
    try:
        from famlink.linkage import model_spec
    except ImportError:
        from famlink.linkage import splink_model

        return str(splink_model.SPLINK_INPUT_COLUMNS_SQL)
    con.execute("CREATE TEMP VIEW source_records AS SELECT * FROM f.source_records")
    return model_spec.input_columns_sql(con)


def _components(con: duckdb.DuckDBPyConnection, threshold: float) -> None:
    """Connected components of the links at or above ``threshold`` (``cc``: node, cluster)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(r[0] for r in con.execute("SELECT node FROM comp").fetchall())
    graph.add_edges_from(con.execute(
        "SELECT source_l || ':' || record_id_l, source_r || ':' || record_id_r FROM f.record_links "
        "WHERE match_probability >= ?", [threshold]).fetchall())
    rows = [(node, n) for n, part in enumerate(nx.connected_components(graph)) for node in part]
    con.execute("CREATE TABLE cc (node VARCHAR, cluster INTEGER)")
    con.executemany("INSERT INTO cc VALUES (?, ?)", rows)


if __name__ == "__main__":
    sys.exit(main())
