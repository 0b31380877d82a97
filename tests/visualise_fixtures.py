"""A hand-built output database (``docs/tables.md``) for the visualise tests.

Three families, with hostile strings wherever the data can carry text:

* family A — baby Tiberius (flagged: two unrecorded adults, a non-mobile injury), his mother,
  half-sister, maternal grandmother, his mother's partner (known only to police and probation)
  and a co-resident adult whose name is an HTML/script injection payload;
* family B — Zephyrine (flagged: neglect without a GCP2 assessment) and her mother;
* family C — no flags (must not be written by ``--flagged``).

The module is data, not a test; ``build_fixture_db(path)`` writes the database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb

REFERENCE_DATE = date(2026, 9, 30)

# Payloads: each would show a dialog or change the DOM if it were ever parsed as HTML/JS.
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"
XSS_HREF = 'href="#" onmouseover="alert(3)"'
XSS_LINK = '<a href="javascript:alert(4)">see</a> & "quoted"'
XSS_DOM = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"

SOURCES = {
    # source: (agency label, primary)
    "csc": ("Children's social care", True),
    "health": ("Health visiting", True),
    "police": ('Police & "Crime" <Unit>', False),
    "housing": ("Housing", False),
    "probation": ('Probation <b onmouseover="alert(8)">href</b>', False),
}

# record key: (source, record_id, first, middle, surname, dob_raw, dob)
RECORDS: dict[str, tuple[str, str, str | None, str | None, str | None, str | None, date | None]] = {
    "tib_csc": ("csc", "C100", "Tiberius", None, "Kowalczyk", "14/05/2026", date(2026, 5, 14)),
    "tib_health": (
        "health",
        "H200",
        "Tiberius",
        None,
        "Kowalczyk",
        "2026-05-14",
        date(2026, 5, 14),
    ),
    "chl_csc": ("csc", "C101", "Chloé", None, "O'Brien-Kowalczyk", "03/02/1998", date(1998, 2, 3)),
    "chl_health": ("health", "H201", "Chloe", None, "O'Brien", "1998-02-03", date(1998, 2, 3)),
    "chl_housing": ("housing", "U300", "Chloé", None, "Kowalczyk", "02/03/1998", date(1998, 3, 2)),
    "mar_csc": ("csc", "C102", "Marisol", None, "Kowalczyk", "23/11/2019", date(2019, 11, 23)),
    "wil_csc": ("csc", "C103", "Wilhelmina", None, "O'Brien", "30/12/1970", date(1970, 12, 30)),
    "dra_police": ("police", "X400", "Draven", None, "Quennell", "09/07/1995", date(1995, 7, 9)),
    "dra_probation": (
        "probation",
        "B500",
        "Drav",
        None,
        "Quennell",
        "1995-07-09",
        date(1995, 7, 9),
    ),
    "hos_housing": (
        "housing",
        'U301"><svg onload=alert(6)>',
        XSS_IMG,
        XSS_HREF,
        XSS_SCRIPT,
        "01/01/1990",
        date(1990, 1, 1),
    ),
    "hos_police": ("police", "X401", XSS_DOM, None, "Smythe-Ravensworth", None, None),
    "zep_csc": ("csc", "C110", "Zephyrine", None, "Abernathy-Voss", "04/04/2015", date(2015, 4, 4)),
    "phi_csc": ("csc", "C111", "Philippa", None, "Abernathy", "17/08/1987", date(1987, 8, 17)),
    "ott_health": (
        "health",
        "H210",
        "Ottoline",
        None,
        "Pemberton",
        "12/12/2021",
        date(2021, 12, 12),
    ),
    "gri_health": ("health", "H211", "Griselda", None, "Pemberton", None, None),
}

# person key: record keys
PEOPLE = {
    "tib": ["tib_csc", "tib_health"],
    "chl": ["chl_csc", "chl_health", "chl_housing"],
    "mar": ["mar_csc"],
    "wil": ["wil_csc"],
    "dra": ["dra_police", "dra_probation"],
    "hos": ["hos_housing", "hos_police"],
    "zep": ["zep_csc"],
    "phi": ["phi_csc"],
    "ott": ["ott_health"],
    "gri": ["gri_health"],
}
FAMILIES = {
    "A": ["tib", "chl", "mar", "wil", "dra", "hos"],
    "B": ["zep", "phi"],
    "C": ["ott", "gri"],
}

#: Every name part and date of birth in the data: none may appear in a redacted view.
NAMES = sorted(
    {part for r in RECORDS.values() for part in (r[2], r[3], r[4]) if part}
    | {"Drav", "Kowalczyk", "O'Brien"}
)
DOBS = sorted(
    {r[5] for r in RECORDS.values() if r[5]} | {r[6].isoformat() for r in RECORDS.values() if r[6]}
)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def person_id(key: str) -> str:
    smallest = min(f"{RECORDS[r][0]}:{RECORDS[r][1]}" for r in PEOPLE[key])
    return "P" + _hash(smallest)


def family_id(name: str) -> str:
    return "F" + _hash(min(person_id(k) for k in FAMILIES[name]))


SCHEMA = """
CREATE TABLE source_records (
    source VARCHAR, agency VARCHAR, is_primary BOOLEAN, record_id VARCHAR, file VARCHAR,
    line_number BIGINT, first_name VARCHAR, middle_names VARCHAR, surname VARCHAR,
    dob_raw VARCHAR, sex_raw VARCHAR, nhs_number_raw VARCHAR, postcode_raw VARCHAR,
    uprn_raw VARCHAR, address VARCHAR, first_name_clean VARCHAR, middle_names_clean VARCHAR,
    surname_clean VARCHAR, first_name_canonical VARCHAR, surname_first_token VARCHAR,
    dob DATE, sex VARCHAR, nhs_number VARCHAR, postcode VARCHAR, address_clean VARCHAR,
    uprn VARCHAR, address_from DATE, address_to DATE);
CREATE TABLE person_records (source VARCHAR, record_id VARCHAR, person_id VARCHAR);
CREATE TABLE persons (
    person_id VARCHAR, display_name VARCHAR, first_name VARCHAR, surname VARCHAR, dob DATE,
    sex VARCHAR, nhs_number VARCHAR, sources VARCHAR[], agencies VARCHAR[], n_records INTEGER,
    in_primary BOOLEAN, min_link_probability DOUBLE);
CREATE TABLE runs (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, user_name VARCHAR,
    host VARCHAR, famlink_version VARCHAR, splink_version VARCHAR, duckdb_version VARCHAR,
    python_version VARCHAR, job_path VARCHAR, job_sha256 VARCHAR, job_toml VARCHAR,
    inputs JSON, seed INTEGER, reference_date DATE, model_path VARCHAR, model_sha256 VARCHAR,
    model_trained BOOLEAN, counts JSON, status VARCHAR);
CREATE TABLE relationships_resolved (
    person_id VARCHAR, related_person_id VARCHAR, relationship VARCHAR, basis VARCHAR,
    source VARCHAR, agency VARCHAR, is_primary BOOLEAN, evidence JSON, start_date DATE,
    end_date DATE, link_probability DOUBLE);
CREATE TABLE households (
    household_id VARCHAR, address_key VARCHAR, person_id VARCHAR, date_from DATE,
    date_to DATE, sources VARCHAR[]);
CREATE TABLE families (family_id VARCHAR, person_id VARCHAR);
CREATE TABLE flags (
    flag_key VARCHAR, flag_type VARCHAR, child_person_id VARCHAR, adult_person_id VARCHAR,
    explanation VARCHAR, family_id VARCHAR, link_probability DOUBLE, created_run_id VARCHAR);
CREATE TABLE flag_evidence (
    flag_key VARCHAR, item_no INTEGER, kind VARCHAR, agency VARCHAR, source VARCHAR,
    record_id VARCHAR, related_record_id VARCHAR, relationship VARCHAR, event_type VARCHAR,
    date_from DATE, date_to DATE, description VARCHAR, link_probability DOUBLE);
CREATE TABLE models_run (built_at TIMESTAMP, reference_date DATE, window_start DATE);
CREATE TABLE chronology (
    child_person_id VARCHAR, entry_no INTEGER, event_date DATE, agency VARCHAR, source VARCHAR,
    record_id VARCHAR, event_key VARCHAR, person_id VARCHAR, person_name VARCHAR,
    relation_to_child VARCHAR, entry_kind VARCHAR, event_type VARCHAR, role VARCHAR,
    summary VARCHAR, link_probability DOUBLE);
"""


# Columns that `models` added to the contract (docs/tables.md): the view must use them when
# present (this fixture) and work without them (`build_large_family_db`).
MODELS_ADDITIONS = [
    "ALTER TABLE relationships_resolved ADD COLUMN agencies VARCHAR[]",
    "UPDATE relationships_resolved SET agencies = CASE WHEN agency IS NULL THEN [] ELSE [agency] END",
    "ALTER TABLE households ADD COLUMN address VARCHAR",
    "ALTER TABLE households ADD COLUMN is_communal BOOLEAN",
    "UPDATE households SET is_communal = false, address = CASE WHEN address_key LIKE 'uprn:%' "
    "THEN 'Flat 2, 17 Quarry Lane, Anytown' ELSE '4 Mill Row, Anytown' END",
    "ALTER TABLE flags ADD COLUMN child_name VARCHAR",
    "ALTER TABLE flags ADD COLUMN adult_name VARCHAR",
    "UPDATE flags SET child_name = (SELECT display_name FROM persons WHERE person_id = child_person_id),"
    " adult_name = (SELECT display_name FROM persons WHERE person_id = adult_person_id)",
    "ALTER TABLE flag_evidence ADD COLUMN part VARCHAR",
    "ALTER TABLE flag_evidence ADD COLUMN basis VARCHAR",
    "UPDATE flag_evidence SET part = CASE kind WHEN 'event' THEN 'trigger' ELSE 'role' END,"
    " basis = CASE kind WHEN 'residence' THEN 'inferred' ELSE 'recorded' END",
    "ALTER TABLE chronology ADD COLUMN relation_basis VARCHAR",
    "UPDATE chronology SET relation_basis = CASE entry_kind WHEN 'composition' THEN 'inferred'"
    " ELSE 'recorded' END",
]


# The fixtures write each edge's evidence as a JSON list (easy to read above); the models
# stage's contract keeps it in `relationship_evidence`, one row per item, inferred
# co-residence once per pair (docs/tables.md). This derives that table from the lists.
RELATIONSHIP_EVIDENCE_FROM_JSON = """
CREATE TABLE relationship_evidence AS
SELECT r.person_id, r.related_person_id, r.relationship, r.basis, r.source AS edge_source,
       e->>'source' AS source, e->>'agency' AS agency, e->>'record_id' AS record_id,
       e->>'related_record_id' AS related_record_id, e->>'relationship_key' AS relationship_key,
       (e->>'line_number')::BIGINT AS line_number, e->>'relationship' AS recorded_relationship,
       e->>'via_person_id' AS via_person_id, e->>'address_key' AS address_key,
       e->>'kind' AS kind, (e->>'start_date')::DATE AS start_date,
       (e->>'end_date')::DATE AS end_date
FROM relationships_resolved r, unnest(from_json(r.evidence, '["JSON"]')) AS t(e)
WHERE r.basis <> 'inferred' OR r.person_id < r.related_person_id
"""


def _rel_rows() -> list[tuple]:
    P = person_id
    rows: list[tuple] = []

    def recorded(a: str, b: str, rel: str, rec_a: str, rec_b: str, reverse: str, line: int) -> None:
        src = RECORDS[rec_a][0]
        agency = SOURCES[src][0]
        ev = json.dumps(
            [
                {
                    "source": src,
                    "agency": agency,
                    "record_id": RECORDS[rec_a][1],
                    "related_record_id": RECORDS[rec_b][1],
                    "relationship_key": f"{src}:relationships:{line}",
                    "line_number": line,
                    "start_date": "2024-01-01",
                    "end_date": None,
                }
            ]
        )
        rows.append(
            (
                P(a),
                P(b),
                rel,
                "recorded",
                src,
                agency,
                SOURCES[src][1],
                ev,
                date(2024, 1, 1),
                None,
                0.99,
            )
        )
        rows.append(
            (
                P(b),
                P(a),
                reverse,
                "reciprocal",
                src,
                agency,
                SOURCES[src][1],
                ev,
                date(2024, 1, 1),
                None,
                0.99,
            )
        )

    def unsourced(a: str, b: str, rel: str, basis: str, prob: float, evidence: list[dict]) -> None:
        ev = json.dumps(evidence)
        rows.append((P(a), P(b), rel, basis, None, None, None, ev, date(2026, 1, 1), None, prob))
        rows.append((P(b), P(a), rel, basis, None, None, None, ev, date(2026, 1, 1), None, prob))

    recorded("tib", "chl", "mother", "tib_csc", "chl_csc", "child", 2)
    recorded("tib", "chl", "mother", "tib_health", "chl_health", "child", 7)
    recorded("mar", "chl", "mother", "mar_csc", "chl_csc", "child", 3)
    recorded("chl", "wil", "mother", "chl_csc", "wil_csc", "child", 4)
    recorded("chl", "dra", "partner", "dra_police", "chl_housing", "partner", 9)
    recorded("mar", "dra", "step_parent", "dra_police", "mar_csc", "step_child", 10)
    unsourced(
        "tib",
        "mar",
        "half_sibling",
        "derived",
        0.99,
        [
            {
                "source": "csc",
                "agency": SOURCES["csc"][0],
                "record_id": "C100",
                "related_record_id": "C101",
                "relationship_key": "csc:relationships:2",
                "line_number": 2,
                "start_date": None,
                "end_date": None,
            }
        ],
    )
    unsourced(  # folded into the recorded "mother" edge, not drawn twice
        "tib",
        "chl",
        "co_resident",
        "inferred",
        0.99,
        [
            {
                "source": "housing",
                "agency": "Housing",
                "record_id": "U300",
                "kind": "residence",
                "address_key": "uprn:100012345678",
                "start_date": "2026-05-14",
                "end_date": None,
            }
        ],
    )
    unsourced(
        "tib",
        "dra",
        "co_resident",
        "inferred",
        0.97,
        [
            {
                "source": "housing",
                "agency": "Housing",
                "record_id": "U300",
                "related_record_id": "X400",
                "relationship_key": None,
                "line_number": 12,
                "start_date": "2026-01-01",
                "end_date": None,
            }
        ],
    )
    unsourced(
        "tib",
        "hos",
        "co_resident",
        "inferred",
        0.91,
        [
            {
                "source": "housing",
                "agency": "Housing",
                "record_id": RECORDS["hos_housing"][1],
                "related_record_id": "U300",
                "relationship_key": "<svg/onload=alert(9)>",
                "line_number": 13,
                "start_date": "2026-02-01",
                "end_date": None,
            }
        ],
    )
    recorded("zep", "phi", "mother", "zep_csc", "phi_csc", "child", 5)
    recorded("ott", "gri", "mother", "ott_health", "gri_health", "child", 6)
    return rows


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


def build_fixture_db(path: Path, *, hostile: bool = True) -> Path:
    """Write the fixture database at ``path`` (a ``famlink.duckdb``) and return it.

    With ``hostile=False`` every injection payload is replaced by a plain name (screenshots).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = duckdb.connect(str(path))
    con = raw if hostile else _Benign(raw)
    try:
        con.execute(SCHEMA)
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
        for fam, people in FAMILIES.items():
            for person in people:
                con.execute("INSERT INTO families VALUES (?, ?)", [family_id(fam), P(person)])
        con.executemany(
            "INSERT INTO relationships_resolved VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _rel_rows(),
        )
        for person, dfrom in (
            ("tib", date(2026, 5, 14)),
            ("chl", date(2023, 4, 1)),
            ("mar", date(2023, 4, 1)),
            ("dra", date(2026, 1, 1)),
            ("hos", date(2026, 2, 1)),
        ):
            con.execute(
                "INSERT INTO households VALUES (?, ?, ?, ?, NULL, ?)",
                ["H" + _hash("hh1"), "uprn:100012345678", P(person), dfrom, ["housing", "csc"]],
            )
        con.execute(
            "INSERT INTO households VALUES (?, ?, ?, ?, NULL, ?)",
            [
                "H" + _hash("hh2"),
                "addr:AB1 2CD|4 mill row anytown",
                P("zep"),
                date(2015, 4, 4),
                ["csc"],
            ],
        )
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
        inputs = json.dumps(
            [
                {
                    "source": s,
                    "kind": "people",
                    "path": f"{s}/people.csv",
                    "sha256": _hash(s) * 5,
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
        con.execute(RELATIONSHIP_EVIDENCE_FROM_JSON)
        con.execute("INSERT INTO models_run VALUES ('2026-10-01 00:00:00', ?, ?)",
                    [REFERENCE_DATE, REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 1)])
        for statement in MODELS_ADDITIONS:
            con.execute(statement)
    finally:
        raw.close()
    return path


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
