"""One large family for timing the family view in the browser: a child, the parents, siblings
and a wider circle of adults sharing the address, with generic names (``docs/tables.md``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from visualise_fixture_families import REFERENCE_DATE  # tests/ is on sys.path
from visualise_fixture_schema import RELATIONSHIP_EVIDENCE_FROM_JSON, SCHEMA


def build_large_family_db(path: Path, *, size: int = 40) -> tuple[Path, str]:
    """One family of ``size`` people (a child, parents, siblings, a wider circle of adults
    sharing the address) for timing the browser; returns the path and the child's id."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA)
        ids = [f"P{i:012x}" for i in range(size)]
        for i, pid in enumerate(ids):
            child = i == 0 or 3 <= i < 8
            dob = date(
                2026 - (1 if i == 0 else 2 + i if child else 25 + i % 30), 1 + i % 12, 1 + i % 27
            )
            src = ("csc", "health", "police", "housing")[i % 4]
            con.execute(
                "INSERT INTO source_records (source, agency, is_primary, record_id, first_name, "
                "surname, dob_raw, dob) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    src,
                    src.title(),
                    src in ("csc", "health"),
                    f"R{i}",
                    f"Person{i}",
                    "Example",
                    dob.isoformat(),
                    dob,
                ],
            )
            con.execute("INSERT INTO person_records VALUES (?, ?, ?)", [src, f"R{i}", pid])
            con.execute(
                "INSERT INTO persons VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, 1, ?, 1.0)",
                [
                    pid,
                    f"Person{i} Example",
                    f"Person{i}",
                    "Example",
                    dob,
                    [src],
                    [src.title()],
                    src in ("csc", "health"),
                ],
            )
            con.execute("INSERT INTO families VALUES ('F000000000001', ?)", [pid])
        rows: list[tuple[str, str, str, str, str | None, str | None, bool | None]] = []
        for i in range(size):
            if i in (1, 2):
                continue
            if i == 0 or 3 <= i < 8:  # children of 1 and 2
                for parent, rel in ((1, "mother"), (2, "father")):
                    rows.append((ids[i], ids[parent], rel, "recorded", "csc", "Csc", True))
            else:  # adults at the address
                rows.append((ids[0], ids[i], "co_resident", "inferred", None, None, None))
                if i % 3 == 0:
                    rows.append(
                        (ids[i], ids[i - 1], "partner", "recorded", "police", "Police", False)
                    )
        rows.append((ids[1], ids[2], "partner", "recorded", "police", "Police", False))
        con.executemany(
            "INSERT INTO relationships_resolved VALUES (?, ?, ?, ?, ?, ?, ?, '[]', NULL, NULL, 0.9)",
            rows,
        )
        con.execute(RELATIONSHIP_EVIDENCE_FROM_JSON)
        con.execute("INSERT INTO models_run VALUES ('2026-10-01 00:00:00', ?, ?)",
                    [REFERENCE_DATE, REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 1)])
        con.execute(
            "INSERT INTO flags VALUES ('unrecorded_adult:x', 'unrecorded_adult', ?, ?, 'x', "
            "'F000000000001', 0.9, 'r')",
            [ids[0], ids[9]],
        )
        con.execute(
            "INSERT INTO runs (run_id, started_at, reference_date, inputs) "
            "VALUES ('r', '2026-10-01 00:00:00', ?, '[]')",
            [REFERENCE_DATE],
        )
    finally:
        con.close()
    return path, ids[0]
