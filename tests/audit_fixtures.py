"""A small hand-made output folder for the audit tests: a mother, her baby and a man known
only to the police at their address, with the models stage built (three flags, no decision)."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
from click.testing import CliRunner, Result
from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.cli import main
from famlink.models import build_models

KEY = "unrecorded_male_carer:Pkid:Pman"


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def small_output(out: Path, *, man: str = "Joe Bloggs", summary: str = "Call-out") -> Path:
    """Write `out`/famlink.duckdb (owner-only) and return `out`; `man` names the adult of
    :data:`KEY`, `summary` is his police event's text."""
    out.mkdir(mode=0o700)
    db = LinkageDB()
    db.person("Pmum", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("Pkid", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.person("Pman", "police", "PL1", man, dob="1990-01-01", sex="male", uprn="100")
    db.relationship("csc", "C2", "C1", "mother")
    db.event("police", "PL1", "2026-03-01", "domestic_abuse", role="suspect", summary=summary)
    with duckdb.connect(str(out / "famlink.duckdb")) as con:
        db.connect(con)
        build_models(con, reference_date=REFERENCE_DATE)
    (out / "famlink.duckdb").chmod(0o600)
    return out
