"""Score the flags against the sample-data generator's truth.

`truth_dir/records.csv` (source, record_id, true_person_id) maps records to true people;
`truth_dir/expected_flags.csv` (flag_type, child_true_person_id, adult_true_person_id,
detectable, why) lists the flags a perfect run would raise. A famlink person maps to the true
person most of its records belong to (ties: the smallest true id).

Per flag type, over **detectable** expected flags: a raised flag is a true positive if it
matches one (type + child, + adult for types that name an adult), a false positive if it
matches no expected flag at all. A raised flag that matches an expected but *undetectable*
flag (the data needed is not in the extracts, e.g. a man no agency places at the address) is
neither: it is counted as `raised_undetectable` and left out of precision. Matching is on
sets of keys after mapping to true ids, so two famlink flags that map to one true flag (the
adult split into two persons by linkage) count once.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.models.flags import ADULT_FLAG_TYPES, FLAG_TYPES


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise FamlinkError(f"no truth file at {path}", hint="generate the sample data first")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def evaluate_flags(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict[str, Any]:
    """Precision and recall per flag type against the generator's truth.

    Returns ``{flag_type: {expected, detectable, raised, true_positives, false_positives,
    false_negatives, raised_undetectable, precision, recall, missed: [...],
    false: [...]}}`` with precision/recall None when undefined.
    """
    truth_dir = Path(truth_dir)
    records = _read_csv(truth_dir / "records.csv")
    expected = _read_csv(truth_dir / "expected_flags.csv")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE m_truth_records (source VARCHAR, record_id VARCHAR, true_id VARCHAR)"
    )
    con.executemany(
        "INSERT INTO m_truth_records VALUES (?, ?, ?)",
        [(r["source"], r["record_id"], r["true_person_id"]) for r in records],
    )
    mapping = dict(
        con.execute(
            """
            SELECT person_id, arg_min(true_id, (-n, true_id)) FROM (
                SELECT pr.person_id, t.true_id, count(*) AS n
                FROM person_records pr JOIN m_truth_records t USING (source, record_id)
                GROUP BY ALL)
            GROUP BY person_id
            """
        ).fetchall()
    )
    raised = [
        (t, mapping.get(c, f"?{c}"), mapping.get(a, f"?{a}") if a else "")
        for t, c, a in con.execute(
            "SELECT flag_type, child_person_id, adult_person_id FROM flags"
        ).fetchall()
    ]

    def key(flag_type: str, child: str, adult: str) -> tuple[str, str, str]:
        return (flag_type, child, adult if flag_type in ADULT_FLAG_TYPES else "")

    detectable: dict[str, set] = {}
    undetectable: dict[str, set] = {}
    for row in expected:
        k = key(
            row["flag_type"], row["child_true_person_id"], row.get("adult_true_person_id") or ""
        )
        is_det = str(row.get("detectable", "true")).strip().lower() in ("true", "1", "yes")
        (detectable if is_det else undetectable).setdefault(row["flag_type"], set()).add(k)
    raised_keys: dict[str, set] = {}
    for t, c, a in raised:
        raised_keys.setdefault(t, set()).add(key(t, c, a))

    result: dict[str, Any] = {}
    for flag_type in sorted(set(FLAG_TYPES) | set(detectable) | set(undetectable)):
        det = detectable.get(flag_type, set())
        undet = undetectable.get(flag_type, set()) - det
        got = raised_keys.get(flag_type, set())
        tp = got & det
        raised_undet = (got - det) & undet
        fp = got - det - undet
        fn = det - got
        judged = len(tp) + len(fp)
        result[flag_type] = {
            "expected": len(det) + len(undet),
            "detectable": len(det),
            "raised": len(got),
            "true_positives": len(tp),
            "false_positives": len(fp),
            "false_negatives": len(fn),
            "raised_undetectable": len(raised_undet),
            "precision": round(len(tp) / judged, 4) if judged else None,
            "recall": round(len(tp) / len(det), 4) if det else None,
            "missed": sorted(fn),
            "false": sorted(fp),
        }
    return result
