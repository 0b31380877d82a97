"""Helpers of the flag rules' tests: a hand-built family and a models run over it."""

from __future__ import annotations

import duckdb
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.models import build_models


def family(*, man_in_police: bool = True) -> LinkageDB:
    """Amy (mother, CSC + health) and baby Ben (born 2026-05-01, CSC + health) at UPRN 100."""
    db = LinkageDB()
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pmum", "health", "H1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.person("Pkid", "health", "H2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.relationship("csc", "C2", "C1", "mother")
    db.relationship("health", "H2", "H1", "mother")
    if man_in_police:
        db.person("Pman", "police", "PL1", "Joe Bloggs", dob="1990-01-01", sex="male")
        db.person("Pmum", "police", "PL2", "Amy Hall", dob="1995-02-01", sex="female")
    return db


def run(db: LinkageDB, **options) -> duckdb.DuckDBPyConnection:
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE, **options)
    # every flag explains itself and has evidence naming a record
    assert not con.execute(
        """SELECT flag_key FROM flags f WHERE explanation IS NULL OR link_probability IS NULL
           OR NOT EXISTS (SELECT 1 FROM flag_evidence e WHERE e.flag_key = f.flag_key
                          AND e.part <> 'context' AND e.source IS NOT NULL
                          AND e.record_id IS NOT NULL)"""
    ).fetchall()
    return con


def flag_keys(con: duckdb.DuckDBPyConnection, flag_type: str | None = None) -> set[str]:
    rows = con.execute(
        "SELECT flag_key FROM flags WHERE ? IS NULL OR flag_type = ?", [flag_type, flag_type]
    ).fetchall()
    return {r[0] for r in rows}


def with_partner() -> LinkageDB:
    db = family()
    db.relationship("police", "PL2", "PL1", "partner")
    return db
