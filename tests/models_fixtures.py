"""Build a small linkage-output database by hand, shaped as docs/tables.md describes.

The models stage reads only `source_records`, `person_records`, `persons`, `relationships`,
`events`, `record_links` (optional) and `quarantine` (profile only). Tests describe a family
in a few lines and get a DuckDB connection holding exactly those tables::

    db = LinkageDB()
    db.person("P_mum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("P_mum", "health", "H1", "Amy Hall", dob="1995-02-01", sex="female")
    db.relationship("csc", "C2", "C1", "mother")
    con = db.connect()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

PRIMARY = {
    "csc": True,
    "health": True,
    "police": False,
    "housing": False,
    "probation": False,
    "education": False,
    "mental_health": False,
    "gp": True,
}
AGENCY = {
    "csc": "Children's social care",
    "health": "Health visiting",
    "gp": "GP",
    "police": "Police",
    "housing": "Housing",
    "probation": "Probation",
    "education": "Education",
    "mental_health": "Adult mental health",
}

REFERENCE_DATE = date(2026, 9, 30)


def _d(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


@dataclass
class LinkageDB:
    """Accumulates rows, then writes linkage's tables into a DuckDB connection."""

    records: list[dict] = field(default_factory=list)
    rels: list[tuple] = field(default_factory=list)
    evs: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)

    def person(
        self,
        person_id: str,
        source: str,
        record_id: str,
        name: str,
        *,
        dob: str | None = None,
        sex: str | None = None,
        uprn: str | None = None,
        postcode: str | None = None,
        address: str | None = None,
        address_from: str | None = None,
        address_to: str | None = None,
        nhs_number: str | None = None,
    ) -> LinkageDB:
        first, _, surname = name.partition(" ")
        self.records.append(
            {
                "person_id": person_id,
                "source": source,
                "agency": AGENCY.get(source, source),
                "is_primary": PRIMARY.get(source, False),
                "record_id": record_id,
                "first_name": first,
                "surname": surname,
                "dob": _d(dob),
                "sex": sex,
                "nhs_number": nhs_number,
                "postcode": postcode,
                "uprn": uprn,
                "address": address,
                "address_clean": address.lower() if address else None,
                "address_from": _d(address_from),
                "address_to": _d(address_to),
            }
        )
        return self

    def relationship(
        self,
        source: str,
        record_id: str,
        related_record_id: str,
        relationship: str,
        *,
        start: str | None = None,
        end: str | None = None,
        origin: str = "relationships_file",
    ) -> LinkageDB:
        """Add a row meaning "`related_record_id` is `record_id`'s `relationship`".

        `origin="people_file"` for a relationship stated in a people file (housing, education).
        """
        self.rels.append(
            (source, record_id, related_record_id, relationship, _d(start), _d(end), origin)
        )
        return self

    def event(
        self,
        source: str,
        record_id: str,
        event_date: str,
        event_type: str,
        *,
        role: str | None = "subject",
        summary: str = "",
        event_id: str | None = None,
    ) -> LinkageDB:
        self.evs.append((source, record_id, _d(event_date), event_type, role, summary, event_id))
        return self

    def link(self, a: tuple[str, str], b: tuple[str, str], probability: float) -> LinkageDB:
        self.links.append((*sorted([a, b]), probability))
        return self

    def connect(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        con = con or duckdb.connect()
        con.execute(
            """
            CREATE TABLE source_records (
                source VARCHAR, agency VARCHAR, is_primary BOOLEAN, record_id VARCHAR,
                file VARCHAR, line_number BIGINT, first_name VARCHAR, middle_names VARCHAR,
                surname VARCHAR, dob_raw VARCHAR, sex_raw VARCHAR, nhs_number_raw VARCHAR,
                postcode_raw VARCHAR, uprn_raw VARCHAR, address VARCHAR,
                first_name_clean VARCHAR, middle_names_clean VARCHAR, surname_clean VARCHAR,
                first_name_canonical VARCHAR, surname_first_token VARCHAR, dob DATE,
                sex VARCHAR, nhs_number VARCHAR, postcode VARCHAR, address_clean VARCHAR,
                uprn VARCHAR, address_from DATE, address_to DATE);
            CREATE TABLE person_records (source VARCHAR, record_id VARCHAR, person_id VARCHAR,
                                         link_probability DOUBLE);
            CREATE TABLE relationships (
                source VARCHAR, agency VARCHAR, is_primary BOOLEAN, relationship_key VARCHAR,
                origin VARCHAR, file VARCHAR, line_number BIGINT, record_id VARCHAR,
                related_record_id VARCHAR, relationship VARCHAR, relationship_code VARCHAR,
                start_date DATE, end_date DATE);
            CREATE TABLE events (
                source VARCHAR, agency VARCHAR, is_primary BOOLEAN, event_key VARCHAR,
                event_id VARCHAR, file VARCHAR, line_number BIGINT, record_id VARCHAR,
                event_date DATE, event_type VARCHAR, event_code VARCHAR, role VARCHAR,
                role_code VARCHAR, summary VARCHAR);
            CREATE TABLE record_links (
                source_l VARCHAR, record_id_l VARCHAR, source_r VARCHAR, record_id_r VARCHAR,
                match_weight DOUBLE, match_probability DOUBLE, match_key VARCHAR);
            CREATE TABLE quarantine (
                source VARCHAR, file_kind VARCHAR, file VARCHAR, line_number BIGINT,
                reason VARCHAR, detail VARCHAR, raw_row JSON);
            """
        )
        for i, r in enumerate(self.records, start=2):
            con.execute(
                """INSERT INTO source_records (source, agency, is_primary, record_id, file,
                   line_number, first_name, surname, address, dob, sex, nhs_number, postcode,
                   address_clean, uprn, address_from, address_to)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    r["source"],
                    r["agency"],
                    r["is_primary"],
                    r["record_id"],
                    f"{r['source']}/people.csv",
                    i,
                    r["first_name"],
                    r["surname"],
                    r["address"],
                    r["dob"],
                    r["sex"],
                    r["nhs_number"],
                    r["postcode"],
                    r["address_clean"],
                    r["uprn"],
                    r["address_from"],
                    r["address_to"],
                ],
            )
            con.execute(
                "INSERT INTO person_records VALUES (?, ?, ?, 1.0)",
                [r["source"], r["record_id"], r["person_id"]],
            )
        for i, (source, rid, rel_rid, rel, start, end, origin) in enumerate(self.rels, start=2):
            con.execute(
                "INSERT INTO relationships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    source,
                    AGENCY.get(source, source),
                    PRIMARY.get(source, False),
                    f"{source}:relationships:{i}",
                    origin,
                    f"{source}/relationships.csv",
                    i,
                    rid,
                    rel_rid,
                    rel,
                    rel.upper(),
                    start,
                    end,
                ],
            )
        for i, (source, rid, when, etype, role, summary, event_id) in enumerate(self.evs, start=2):
            con.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    source,
                    AGENCY.get(source, source),
                    PRIMARY.get(source, False),
                    f"{source}:{i}",
                    event_id or f"E{i}",
                    f"{source}/events.csv",
                    i,
                    rid,
                    when,
                    etype,
                    etype.upper(),
                    role,
                    role,
                    summary,
                ],
            )
        for (sl, rl), (sr, rr), p in self.links:
            con.execute(
                "INSERT INTO record_links VALUES (?, ?, ?, ?, 10.0, ?, 'test')", [sl, rl, sr, rr, p]
            )
        con.execute(
            """
            CREATE TABLE persons AS
            WITH r AS (
                SELECT pr.person_id, s.* FROM source_records s
                JOIN person_records pr USING (source, record_id))
            SELECT person_id,
                   arg_min(first_name || ' ' || surname, source || ':' || record_id) AS display_name,
                   arg_min(first_name, source || ':' || record_id) AS first_name,
                   arg_min(surname, source || ':' || record_id) AS surname,
                   max(dob) AS dob, max(sex) AS sex, max(nhs_number) AS nhs_number,
                   list(DISTINCT source ORDER BY source) AS sources,
                   list(DISTINCT agency ORDER BY agency) AS agencies,
                   count(*)::INTEGER AS n_records, bool_or(is_primary) AS in_primary,
                   1.0::DOUBLE AS min_link_probability
            FROM r GROUP BY person_id
            """
        )
        if self.links:
            # as linkage writes it: a record's strongest link to another of its person's
            con.execute(
                """UPDATE person_records SET link_probability = b.p FROM (
                     SELECT source, record_id, max(p) AS p FROM (
                         SELECT a.source, a.record_id, rl.match_probability AS p
                         FROM record_links rl
                         JOIN person_records a ON a.source = rl.source_l AND a.record_id = rl.record_id_l
                         JOIN person_records b ON b.source = rl.source_r AND b.record_id = rl.record_id_r
                         WHERE a.person_id = b.person_id
                         UNION ALL
                         SELECT b.source, b.record_id, rl.match_probability
                         FROM record_links rl
                         JOIN person_records a ON a.source = rl.source_l AND a.record_id = rl.record_id_l
                         JOIN person_records b ON b.source = rl.source_r AND b.record_id = rl.record_id_r
                         WHERE a.person_id = b.person_id)
                     GROUP BY ALL) b
                   WHERE person_records.source = b.source AND person_records.record_id = b.record_id"""
            )
            con.execute(
                """UPDATE persons SET min_link_probability = l.p FROM (
                     SELECT pr.person_id, min(match_probability) AS p FROM record_links rl
                     JOIN person_records pr ON pr.source = rl.source_l AND pr.record_id = rl.record_id_l
                     GROUP BY ALL) l WHERE persons.person_id = l.person_id"""
            )
        return con
