"""What each blocking rule costs (candidate pairs) and buys (recall of true pairs).

Usage::

    python bench/blocking_pairs.py --db bench/out/1M/famlink/famlink.duckdb --truth bench/out/1M/data/_truth

For famlink's prediction rules (``model_spec.build_spec(...).blocking_rules``) and a few candidate
replacements it prints, per rule: the pairs it generates on its own (exact:
``sum(n*(n-1)/2)`` over its blocks, as ``link_and_dedupe`` compares every pair in a block once),
its largest block, the recall of true matching pairs of all current rules *without* it, and
of the current rules with it added (for candidates). Predict's cost grows with the pairs, so
this says which rule to tighten at scale. Read-only for the given database.
"""

from __future__ import annotations

import argparse
import sys
import time

# (name, blocking keys) for equality rules; ``{}`` stands for the table alias ("l.", "r." or "").
# The custom swapped-names rule is handled apart.
CURRENT = [
    ("nhs_number", ["{}nhs_number"]),
    ("first_name, surname", ["{}first_name", "{}surname"]),
    ("dob, first_name", ["{}dob", "{}first_name"]),
    ("dob, surname", ["{}dob", "{}surname"]),
    ("dob, surname_first_token", ["{}dob", "{}surname_first_token"]),
    ("postcode, substr(first_name,1,1)", ["{}postcode", "substr({}first_name, 1, 1)"]),
    ("uprn, substr(first_name,1,1)", ["{}uprn", "substr({}first_name, 1, 1)"]),
]
SWAPPED = "swapped: l.first_name = r.surname AND l.surname = r.first_name"
CANDIDATES = [
    ("first_name, surname, postcode_district", ["{}first_name", "{}surname", "{}postcode_district"]),
    ("first_name, surname, year(dob)", ["{}first_name", "{}surname", "year({}dob)"]),
    ("postcode, first_name", ["{}postcode", "{}first_name"]),
    ("postcode, substr(first_name,1,1), substr(surname,1,1)",
     ["{}postcode", "substr({}first_name, 1, 1)", "substr({}surname, 1, 1)"]),
    ("postcode, surname", ["{}postcode", "{}surname"]),
]


def _cond(keys: list[str]) -> str:
    return " AND ".join(f"{k.format('l.')} = {k.format('r.')}" for k in keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--truth", required=True)
    args = parser.parse_args()

    import duckdb

    from famlink.linkage import model_spec

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("ATTACH ? AS f (READ_ONLY)", [args.db])
    home = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("USE f")
    columns = model_spec.input_columns_sql(con)
    con.execute(f'USE "{home}"')
    con.execute(
        f"CREATE TABLE i AS SELECT source, {columns} FROM f.source_records"  # noqa: S608
    )
    con.execute(
        "CREATE TABLE t AS SELECT i.*, tr.true_person_id FROM i JOIN read_csv(?, all_varchar = true) tr "
        "ON tr.source = i.source AND tr.record_id = i.unique_id",
        [f"{args.truth}/records.csv"],
    )
    rules = {name: _cond(keys) for name, keys in CURRENT}
    rules[SWAPPED] = "l.first_name = r.surname AND l.surname = r.first_name"
    cands = {name: _cond(keys) for name, keys in CANDIDATES}
    flags = ", ".join(f"coalesce({c}, false) AS \"{n}\"" for n, c in {**rules, **cands}.items())
    con.execute(
        f"CREATE TABLE tp AS SELECT {flags} FROM t l JOIN t r ON l.true_person_id = r.true_person_id "  # noqa: S608
        "AND (l.source, l.unique_id) < (r.source, r.unique_id)"
    )
    total_true = con.execute("SELECT count(*) FROM tp").fetchall()[0][0]
    records = con.execute("SELECT count(*) FROM i").fetchall()[0][0]

    def recall(names: list[str]) -> float:
        cond = " OR ".join(f'"{n}"' for n in names) or "false"
        return con.execute(f"SELECT count(*) FILTER (WHERE {cond}) FROM tp").fetchall()[0][0] / total_true  # noqa: S608

    def pairs(keys: list[str]) -> tuple[int, int]:
        exprs = ", ".join(k.format("") for k in keys)
        notnull = " AND ".join(f"({k.format('')}) IS NOT NULL" for k in keys)
        return con.execute(
            f"SELECT coalesce(sum(n * (n - 1) / 2), 0)::BIGINT, max(n) FROM "  # noqa: S608
            f"(SELECT count(*) AS n FROM i WHERE {notnull} GROUP BY {exprs})"
        ).fetchall()[0]

    current_names = list(rules)
    base = recall(current_names)
    print(f"records {records:,}; true matching pairs {total_true:,}; blocking recall of the current rules {base:.4f}")
    print()
    print("| rule | candidate pairs | largest block | recall without it | recall lost |")
    print("|---|---:|---:|---:|---:|")
    total = 0
    for name, keys in CURRENT:
        n, big = pairs(keys)
        total += n
        r = recall([x for x in current_names if x != name])
        print(f"| `{name}` | {n:,} | {big:,} | {r:.4f} | {base - r:.4f} |")
    swapped = con.execute(
        "SELECT count(*) FROM i l JOIN i r ON l.first_name = r.surname AND l.surname = r.first_name "
        "AND (l.source, l.unique_id) < (r.source, r.unique_id)"
    ).fetchall()[0][0]
    total += swapped
    r = recall([x for x in current_names if x != SWAPPED])
    print(f"| `{SWAPPED}` | {swapped:,} | – | {r:.4f} | {base - r:.4f} |")
    print(f"| **sum** (upper bound: a pair two rules both find is scored once) | {total:,} | | | |")
    print()
    print("Candidates (recall = current rules with the named rule replaced as stated):")
    print()
    print("| candidate | candidate pairs | largest block | recall if it replaces | replaces |")
    print("|---|---:|---:|---:|---|")
    for name, keys in CANDIDATES:
        n, big = pairs(keys)
        target = "first_name, surname" if name.startswith("first_name, surname") else "postcode, substr(first_name,1,1)"
        r = recall([x for x in current_names if x != target] + [name])
        print(f"| `{name}` | {n:,} | {big:,} | {r:.4f} | `{target}` |")
    both = ["first_name, surname, postcode_district", "first_name, surname, year(dob)"]
    r = recall([x for x in current_names if x != "first_name, surname"] + both)
    print(f"| both `{both[0]}` and `{both[1]}` | | | {r:.4f} | `first_name, surname` |")
    print(f"\n({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
