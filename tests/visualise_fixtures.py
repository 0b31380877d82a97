"""Writes the hand-built output databases (``docs/tables.md``) for the visualise tests.

``build_fixture_db(path)`` writes the three families of :mod:`visualise_fixture_families`,
hostile strings and all (or, for screenshots, with every payload swapped for a plain name);
``build_large_family_db(path)`` (:mod:`visualise_fixture_large`) writes one large family for
timing the browser.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
from visualise_fixture_families import (  # tests/ is on sys.path
    DOBS,
    FAMILIES,
    NAMES,
    PEOPLE,
    RECORDS,
    REFERENCE_DATE,
    SOURCES,
    XSS_DOM,
    XSS_HREF,
    XSS_IMG,
    XSS_LINK,
    XSS_SCRIPT,
    family_id,
    person_id,
    relationship_rows,
    short_hash,
)
from visualise_fixture_large import build_large_family_db
from visualise_fixture_schema import MODELS_ADDITIONS, RELATIONSHIP_EVIDENCE_FROM_JSON, SCHEMA

#: what the tests import: the writers, and the families' ids, names, dates of birth and payloads
__all__ = [
    "DOBS",
    "NAMES",
    "XSS_DOM",
    "XSS_IMG",
    "XSS_LINK",
    "XSS_SCRIPT",
    "build_fixture_db",
    "build_large_family_db",
    "family_id",
    "person_id",
]

BENIGN = {
    XSS_IMG: "Jason",
    XSS_SCRIPT: "Smythe",
    XSS_HREF: "Lee",
    XSS_LINK: "see police log.",
    XSS_DOM: "Jay",
    'U301"><svg onload=alert(6)>': "U301",
    "<svg/onload=alert(9)>": "housing:people:13",
    SOURCES["police"][0]: "Police",
    SOURCES["probation"][0]: "Probation",
}


class _Benign:
    """A connection wrapper that swaps every payload for a plain name (for screenshots)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @classmethod
    def _clean(cls, value: object) -> object:
        if isinstance(value, list):
            return [cls._clean(v) for v in value]
        if isinstance(value, str):
            for bad, good in sorted(BENIGN.items(), key=lambda kv: -len(kv[0])):
                value = value.replace(bad, good).replace(json.dumps(bad)[1:-1], good)
        return value

    def execute(self, sql: str, params: list | None = None) -> object:
        return self._con.execute(sql, [self._clean(v) for v in params] if params else None)

    def executemany(self, sql: str, rows: list[tuple]) -> object:
        return self._con.executemany(sql, [[self._clean(v) for v in row] for row in rows])


#: what the fixture writers insert through: DuckDB itself, or the wrapper that swaps payloads
Connection = duckdb.DuckDBPyConnection | _Benign


def build_fixture_db(path: Path, *, hostile: bool = True) -> Path:
    """Write the fixture database at ``path`` (a ``famlink.duckdb``) and return it.

    With ``hostile=False`` every injection payload is replaced by a plain name (screenshots).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = duckdb.connect(str(path))
    con = raw if hostile else _Benign(raw)
    try:
        con.execute(SCHEMA)
        _insert_records(con)
        _insert_persons(con)
        _insert_families(con)
        _insert_households(con)
        _insert_flags(con)
        _insert_chronology(con)
        _insert_runs(con)
        con.execute(RELATIONSHIP_EVIDENCE_FROM_JSON)
        con.execute("INSERT INTO models_run VALUES ('2026-10-01 00:00:00', ?, ?)",
                    [REFERENCE_DATE, REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 1)])
        for statement in MODELS_ADDITIONS:
            con.execute(statement)
    finally:
        raw.close()
    return path


def _insert_records(con: Connection) -> None:
    """Every agency record (``source_records``) and whose it is (``person_records``)."""
    P = person_id
    for line, (key, (src, rid, first, middle, surname, dob_raw, dob)) in enumerate(
        sorted(RECORDS.items()), start=2
    ):
        agency, primary = SOURCES[src]
        con.execute(
            "INSERT INTO source_records (source, agency, is_primary, record_id, file, line_number,"
            " first_name, middle_names, surname, dob_raw, dob, address, uprn)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                src,
                agency,
                primary,
                rid,
                f"{src}/people.csv",
                line,
                first,
                middle,
                surname,
                dob_raw,
                dob,
                "Flat 2, 17 Quarry Lane, Anytown",
                "100012345678",
            ],
        )
        person = next(p for p, recs in PEOPLE.items() if key in recs)
        con.execute("INSERT INTO person_records VALUES (?, ?, ?)", [src, rid, P(person)])


def _insert_persons(con: Connection) -> None:
    """One ``persons`` row per person, from their records."""
    P = person_id
    for person, recs in PEOPLE.items():
        first_rec = RECORDS[recs[0]]
        dobs = [RECORDS[r][6] for r in recs if RECORDS[r][6]]
        sources = sorted({RECORDS[r][0] for r in recs})
        con.execute(
            "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            [
                P(person),
                f"{first_rec[2]} {first_rec[4]}",
                first_rec[2],
                first_rec[4],
                dobs[0] if dobs else None,
                "male" if person in ("tib", "dra") else None,
                sources,
                sorted({SOURCES[s][0] for s in sources}),
                len(recs),
                any(SOURCES[s][1] for s in sources),
                1.0 if len(recs) == 1 else 0.93,
            ],
        )


def _insert_families(con: Connection) -> None:
    """Family membership and the relationships between the people."""
    P = person_id
    for fam, people in FAMILIES.items():
        for person in people:
            con.execute("INSERT INTO families VALUES (?, ?)", [family_id(fam), P(person)])
    con.executemany(
        "INSERT INTO relationships_resolved VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        relationship_rows(),
    )


def _insert_households(con: Connection) -> None:
    """Family A's shared flat (with the partner and the payload adult); Zephyrine's home."""
    P = person_id
    for person, dfrom in (
        ("tib", date(2026, 5, 14)),
        ("chl", date(2023, 4, 1)),
        ("mar", date(2023, 4, 1)),
        ("dra", date(2026, 1, 1)),
        ("hos", date(2026, 2, 1)),
    ):
        con.execute(
            "INSERT INTO households VALUES (?, ?, ?, ?, NULL, ?)",
            ["H" + short_hash("hh1"), "uprn:100012345678", P(person), dfrom, ["housing", "csc"]],
        )
    con.execute(
        "INSERT INTO households VALUES (?, ?, ?, ?, NULL, ?)",
        [
            "H" + short_hash("hh2"),
            "addr:AB1 2CD|4 mill row anytown",
            P("zep"),
            date(2015, 4, 4),
            ["csc"],
        ],
    )


def _insert_flags(con: Connection) -> None:
    """The flags of Tiberius and Zephyrine with their numbered evidence."""
    P = person_id
    fa = family_id("A")
    flags = [
        (
            "unrecorded_male_carer",
            "tib",
            "dra",
            "Draven Quennell (born 09/07/1995) lives at the child's address (Housing, Police) "
            "but is on no children's social care or health record.",
            fa,
            0.97,
        ),
        (
            "unrecorded_male_carer",
            "tib",
            "hos",
            f"{XSS_IMG} {XSS_SCRIPT} lives at the child's address (Housing) but is on no "
            "children's social care or health record.",
            fa,
            0.91,
        ),
        (
            "non_mobile_injury",
            "tib",
            None,
            "Bruising recorded for Tiberius Kowalczyk (born 2026-05-14) at 3 months, before "
            "independent mobility. " + XSS_LINK,
            fa,
            1.0,
        ),
        (
            "neglect_without_gcp2",
            "zep",
            None,
            "Three neglect concerns for Zephyrine Abernathy-Voss in 12 months and no GCP2 "
            "assessment.",
            family_id("B"),
            1.0,
        ),
    ]
    for ftype, child, adult, explanation, fam, prob in flags:
        key = f"{ftype}:{P(child)}" + (f":{P(adult)}" if adult else "")
        con.execute(
            "INSERT INTO flags VALUES (?, ?, ?, ?, ?, ?, ?, 'run-2')",
            [key, ftype, P(child), P(adult) if adult else None, explanation, fam, prob],
        )
        evidence = [
            (
                "residence",
                "Housing",
                "housing",
                "U300",
                None,
                None,
                None,
                date(2026, 1, 1),
                None,
                f"Tenancy at Flat 2, 17 Quarry Lane, Anytown (UPRN 100012345678); occupant {XSS_IMG}",
                0.97,
            ),
            (  # models puts names in structured columns too
                "relationship",
                SOURCES["csc"][0],
                "csc",
                "C100",
                "C102",
                "half_sibling (derived via Chloé O'Brien-Kowalczyk)",
                None,
                None,
                None,
                "Half-sister Marisol Kowalczyk",
                0.99,
            ),
            (
                "event",
                SOURCES["police"][0],
                "police",
                "X400",
                None,
                None,
                "domestic_abuse",
                date(2026, 3, 2),
                date(2026, 3, 2),
                "Domestic abuse call-out: Draven Quennell and Chloé O'Brien-Kowalczyk",
                0.97,
            ),
        ]
        for item_no, ev in enumerate(evidence, start=1):
            con.execute(
                "INSERT INTO flag_evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [key, item_no, *ev],
            )


def _insert_chronology(con: Connection) -> None:
    """The children's chronologies, numbered per child in date order."""
    P = person_id
    chronology = [
        (
            "tib",
            date(2026, 5, 14),
            "health",
            "H200",
            "tib",
            "child",
            "event",
            "birth",
            "subject",
            "Born at 38 weeks, Tiberius Kowalczyk, well.",
        ),
        (
            "tib",
            date(2026, 1, 1),
            "housing",
            "U300",
            "dra",
            "mother's partner",
            "composition",
            None,
            None,
            "Draven Quennell joins the household",
        ),
        (
            "tib",
            date(2026, 3, 2),
            "police",
            "X400",
            "dra",
            "mother's partner",
            "event",
            "domestic_abuse",
            "suspect",
            "Call-out. " + XSS_LINK + " " + XSS_SCRIPT,
        ),
        (
            "tib",
            date(2026, 8, 20),
            "health",
            "H200",
            "tib",
            "child",
            "event",
            "injury",
            "subject",
            "Bruise to left cheek noted by health visitor; Chloé says Marisol fell on him.",
        ),
        (
            "tib",
            date(2026, 8, 21),
            "csc",
            "C100",
            "chl",
            "mother",
            "event",
            "referral",
            "other",
            "Referral from health visiting " + XSS_DOM,
        ),
        (
            "zep",
            date(2026, 2, 1),
            "csc",
            "C110",
            "zep",
            "child",
            "event",
            "neglect_concern",
            "subject",
            "Home conditions poor; Philippa Abernathy engaged.",
        ),
    ]
    counters: dict[str, int] = {}
    for child, d, src, rid, who, rel, kind, etype, role, summary in sorted(
        chronology, key=lambda c: (c[0], c[1])
    ):
        counters[child] = counters.get(child, 0) + 1
        who_rec = RECORDS[PEOPLE[who][0]]
        con.execute(
            "INSERT INTO chronology VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                P(child),
                counters[child],
                d,
                SOURCES[src][0],
                src,
                rid,
                f"{src}:{counters[child] + 1}",
                P(who),
                f"{who_rec[2]} {who_rec[4]}",
                rel,
                kind,
                etype,
                role,
                summary,
                0.95,
            ],
        )


def _insert_runs(con: Connection) -> None:
    """Two runs; the later one is the view's run manifest."""
    inputs = json.dumps(
        [
            {
                "source": s,
                "kind": "people",
                "path": f"{s}/people.csv",
                "sha256": short_hash(s) * 5,
                "rows": 3,
            }
            for s in sorted(SOURCES)
        ]
    )
    for run_id, started, ref in (
        ("run-1", "2026-09-01 10:00:00", date(2026, 8, 31)),
        ("run-2", "2026-10-01 09:30:00", REFERENCE_DATE),
    ):
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, 'data.officer', 'laptop-7', '0.1.0', '5.0.0',"
            " '1.1.3', '3.11.9', 'job.toml', 'abc123', '', ?, 42, ?, 'model.json', 'def456',"
            " true, '{}', 'succeeded')",
            [run_id, started, started, inputs, ref],
        )
