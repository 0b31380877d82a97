"""CLI commands of the models stage: flags, chronology, family, profile.

Thin: each command opens the output database read-only, asks the library, prints.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
import duckdb

from famlink.cli.audit import audit as audit_group
from famlink.cli.common import FORMATS, echo_rows, format_option, open_output, user_errors
from famlink.cli.options import flag_type_option
from famlink.linkage.errors import FamlinkError, OutputError
from famlink.models import chronology as chronology_mod
from famlink.models.graph import adults_around, household_at, read_family_graph, relations
from famlink.models.profile import COLUMNS as PROFILE_COLUMNS
from famlink.models.profile import data_completeness

DIR_ARG = click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))


def _open_models(out_dir: str) -> duckdb.DuckDBPyConnection:
    con = open_output(out_dir)
    has = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'models_run'"
    ).fetchone()[0]  # type: ignore[index]
    if not has:
        con.close()
        raise OutputError(
            f"{out_dir} has no complete flags and family tables (the models stage has not "
            "run there, or did not finish)",
            hint="run `famlink link JOB.toml --out DIR` (it builds them by default)",
        )
    return con


def _person(con: duckdb.DuckDBPyConnection, person_id: str, out_dir: str) -> dict[str, Any]:
    cur = con.execute(
        "SELECT person_id, display_name, dob, sex, agencies FROM persons WHERE person_id = ?",
        [person_id],
    )
    row = cur.fetchone()
    if row is None:
        raise FamlinkError(f"no person {person_id} in {out_dir}; try `famlink flags {out_dir}`")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _reference_date(con: duckdb.DuckDBPyConnection) -> date:
    return con.execute("SELECT reference_date FROM models_run").fetchone()[0]  # type: ignore[index]


FLAG_COLUMNS = (
    "flag_key",
    "flag_type",
    "child_person_id",
    "child_name",
    "adult_person_id",
    "adult_name",
    "link_probability",
    "explanation",
)
EVIDENCE_COLUMNS = (
    "flag_key",
    "item_no",
    "part",
    "kind",
    "agency",
    "source",
    "record_id",
    "related_record_id",
    "relationship",
    "event_type",
    "date_from",
    "date_to",
    "description",
    "link_probability",
)


@click.command("flags")
@DIR_ARG
@flag_type_option
@click.option(
    "--child",
    "child",
    metavar="PERSON_ID",
    default=None,
    help="Only flags for this child (a person id such as P3f2a…). Default: all children.",
)
@click.option(
    "--evidence",
    is_flag=True,
    default=False,
    help="Print the evidence items (agency, source, record id, dates) instead of the flags. Default: off.",
)
@format_option()
@user_errors
def flags_command(
    out_dir: str, flag_type: str | None, child: str | None, evidence: bool, fmt: str
) -> None:
    """List flags raised for children, each a rule with evidence (never a score).

    \b
    Example:
      famlink flags out/ --type unrecorded_male_carer --format csv
    """
    with _open_models(out_dir) as con:
        if child:
            _person(con, child, out_dir)
        where, params = ["true"], []
        if flag_type:
            where.append("f.flag_type = ?")
            params.append(flag_type)
        if child:
            where.append("f.child_person_id = ?")
            params.append(child)
        condition = " AND ".join(where)
        if evidence:
            cols = ", ".join(f"e.{c}" for c in EVIDENCE_COLUMNS)
            sql = (
                f"SELECT {cols} FROM flag_evidence e JOIN flags f USING (flag_key) "  # noqa: S608
                f"WHERE {condition} ORDER BY e.flag_key, e.item_no"
            )
            echo_rows(EVIDENCE_COLUMNS, con.execute(sql, params).fetchall(), fmt)
        else:
            cols = ", ".join(f"f.{c}" for c in FLAG_COLUMNS)
            sql = (
                f"SELECT {cols} FROM flags f WHERE {condition} "  # noqa: S608
                "ORDER BY f.flag_type, f.child_person_id, f.adult_person_id NULLS FIRST"
            )
            echo_rows(FLAG_COLUMNS, con.execute(sql, params).fetchall(), fmt)


@click.command("chronology")
@DIR_ARG
@click.option(
    "--child",
    "child",
    metavar="PERSON_ID",
    required=True,
    help="The child's person id (see `famlink flags DIR`). Required; no default.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice((*FORMATS, "markdown")),
    default="table",
    show_default=True,
    help="Output format for the entries printed to stdout.",
)
@user_errors
def chronology_command(out_dir: str, child: str, fmt: str) -> None:
    """A child's multi-agency chronology: events of the child, siblings, parents, carers and
    the adults around them, with family changes, in date order.

    \b
    Example:
      famlink chronology out/ --child P0a1b2c3d4e5f --format markdown > chronology.md
    """
    with _open_models(out_dir) as con:
        person = _person(con, child, out_dir)
        cur = con.execute(
            "SELECT * FROM chronology WHERE child_person_id = ? ORDER BY entry_no", [child]
        )
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        reference = _reference_date(con)
        if not rows:
            in_scope = con.execute(
                """SELECT in_primary AND dob IS NOT NULL AND dob <= ?
                          AND dob + INTERVAL 18 YEAR > ? FROM persons WHERE person_id = ?""",
                [reference, reference, child],
            ).fetchone()[0]  # type: ignore[index]
            if not in_scope:
                raise FamlinkError(
                    f"{child} ({person['display_name']}) is not a child in a primary source "
                    f"(under 18 on {reference.isoformat()}); chronologies are built for those "
                    "children",
                    hint=f"try `famlink family {out_dir} --person {child}`",
                )
        if fmt == "markdown":
            click.echo(
                chronology_mod.render_markdown(
                    person,
                    [dict(zip(cols, r, strict=True)) for r in rows],
                    reference_date=reference,
                )
            )
            return
        shown = [c for c in chronology_mod.COLUMNS if c != "child_person_id"]
        idx = [cols.index(c) for c in shown]
        echo_rows(shown, [[r[i] for i in idx] for r in rows], fmt)


ROLE_LABEL = {
    "partner_of_mother": "mother's partner",
    "partner_of_parent": "parent's partner",
    "co_resident": "co-resident (inferred)",
    "co_resident_with_mother": "co-resident with mother (inferred)",
}


def _name(graph, person: str) -> str:
    attrs = graph.nodes[person]
    age = attrs.get("age")
    extra = ", ".join(x for x in (attrs.get("sex"), f"{age}" if age is not None else None) if x)
    return f"{attrs.get('display_name') or '?'} ({person}{', ' + extra if extra else ''})"


@click.command("family")
@DIR_ARG
@click.option(
    "--person",
    "person_id",
    metavar="PERSON_ID",
    required=True,
    help="The person whose household and relationships to show. Required; no default.",
)
@user_errors
def family_command(out_dir: str, person_id: str) -> None:
    """Household and relationships around a person, as text: recorded relationships apart
    from derived and inferred ones, the household at the reference date, and for a child the
    adults around them.

    \b
    Example:
      famlink family out/ --person P0a1b2c3d4e5f
    """
    with _open_models(out_dir) as con:
        _person(con, person_id, out_dir)
        graph = read_family_graph(con, person_id)
        flag_rows = con.execute(
            """SELECT flag_key, explanation FROM flags
               WHERE child_person_id = ? OR adult_person_id = ? ORDER BY flag_key""",
            [person_id, person_id],
        ).fetchall()
    ref = graph.graph["reference_date"]
    lines = [
        f"{_name(graph, person_id)} — family {graph.graph['family_id']}, "
        f"{graph.number_of_nodes()} people, as at {ref.isoformat()}",
        "",
    ]
    for title, bases in (
        ("Recorded by an agency", {"recorded", "reciprocal"}),
        ("Derived (shared parent)", {"derived"}),
        ("Inferred from addresses (not recorded by anyone)", {"inferred"}),
    ):
        rels = relations(graph, person_id, bases=bases)
        lines.append(f"{title}:")
        if not rels:
            lines.append("  (none)")
        for other, kinds in rels.items():
            sources = sorted(
                {
                    agency
                    for d in graph.get_edge_data(person_id, other).values()
                    if d["basis"] in bases
                    for agency in (d.get("agencies") or ["addresses"])
                }
            )
            lines.append(
                f"  {', '.join(sorted(kinds))}: {_name(graph, other)} — {'; '.join(sources)}"
            )
        lines.append("")
    household = household_at(graph, person_id, ref)
    lines.append(f"Household on {ref.isoformat()}:")
    if not household:
        lines.append("  (no address recorded as current)")
    for key, people in household.items():
        lines.append(f"  {key}: " + ("; ".join(_name(graph, p) for p in people) or "no one else"))
    lines.append("")
    age = graph.nodes[person_id].get("age")
    if age is not None and age < 18:
        lines.append("Adults around this child (recorded or not):")
        around = adults_around(graph, person_id)
        if not around:
            lines.append("  (none)")
        for other, roles in around.items():
            lines.append(
                f"  {_name(graph, other)}: "
                + ", ".join(ROLE_LABEL.get(r, r.replace("_", " ")) for r in roles)
            )
        lines.append("")
    lines.append("Flags:")
    lines.extend(f"  {k}: {e}" for k, e in flag_rows)
    if not flag_rows:
        lines.append("  (none)")
    click.echo("\n".join(lines))


@click.command("profile")
@DIR_ARG
@format_option()
@user_errors
def profile_command(out_dir: str, fmt: str) -> None:
    """Data completeness per source: shares of people with date of birth, NHS number, UPRN and
    postcode; of relationships and events resolved to a person; and, for primary sources, of
    children with a father or male carer recorded.

    \b
    Example:
      famlink profile out/ --format csv > completeness.csv
    """
    with open_output(out_dir) as con:
        rows = data_completeness(con)
    echo_rows(PROFILE_COLUMNS, [[r[c] for c in PROFILE_COLUMNS] for r in rows], fmt)


COMMANDS: list[click.Command] = [
    flags_command, chronology_command, family_command, profile_command, audit_group
]
