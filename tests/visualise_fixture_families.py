"""A hand-built output database (``docs/tables.md``) for the visualise tests.

Three families, with hostile strings wherever the data can carry text:

* family A — baby Tiberius (flagged: two unrecorded adults, a non-mobile injury), his mother,
  half-sister, maternal grandmother, his mother's partner (known only to police and probation)
  and a co-resident adult whose name is an HTML/script injection payload;
* family B — Zephyrine (flagged: neglect without a GCP2 assessment) and her mother;
* family C — no flags (must not be written by ``--flagged``).

The module is data, not a test: the records, people and families, their ids, and the rows of
``relationships_resolved``; :mod:`visualise_fixtures` writes them into a database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

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


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def person_id(key: str) -> str:
    smallest = min(f"{RECORDS[r][0]}:{RECORDS[r][1]}" for r in PEOPLE[key])
    return "P" + short_hash(smallest)


def family_id(name: str) -> str:
    return "F" + short_hash(min(person_id(k) for k in FAMILIES[name]))


def relationship_rows() -> list[tuple]:
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
