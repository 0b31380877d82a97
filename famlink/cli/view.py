"""CLI commands of the visualise stage (view)."""

from __future__ import annotations

from pathlib import Path

import click

from famlink.cli.common import open_output, progress, user_errors
from famlink.linkage.errors import FamlinkError


@click.command("view")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--child",
    metavar="ID",
    default=None,
    help="Write the family view centred on this child's person id (file child-ID.html). Default: none.",
)
@click.option(
    "--family",
    metavar="ID",
    default=None,
    help="Write the view of this family id (file family-ID.html). Default: none.",
)
@click.option(
    "--flagged",
    is_flag=True,
    default=False,
    help="Write index.html and one view per flagged child. "
    "Default: on when neither --child nor --family is given.",
)
@click.option(
    "--redact",
    is_flag=True,
    default=False,
    help="Initials for names, age bands for dates of birth, no addresses and no "
    "free-text summaries: for sharing beyond the core team. Default: off.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="PATH",
    default=None,
    help="Folder to write the HTML files into (created owner-only). "
    "Default: DIR/views, or DIR/views-redacted with --redact.",
)
@user_errors
def view_command(
    out_dir: Path,
    child: str | None,
    family: str | None,
    flagged: bool,
    redact: bool,
    out: Path | None,
) -> None:
    """Write interactive family network views that open offline from disk.

    Each file is self-contained (no network requests) and shows the family as a network:
    people by role and number of agencies, recorded relationships (solid, with the agency)
    apart from inferred co-residence (dashed), the flags with their evidence and the child's
    chronology. The paths written are printed to stdout.

    \b
    Example:
      famlink view out/ --flagged            # out/views/index.html + one file per child
      famlink view out/ --child P3f2a9c01d4e7 --redact --out shared/
    """
    from famlink.visualise.write import write_views  # keep `famlink --help` fast

    if sum([child is not None, family is not None, flagged]) > 1:
        raise FamlinkError("choose one of --child, --family and --flagged")
    target = out if out is not None else out_dir / ("views-redacted" if redact else "views")
    con = open_output(out_dir)
    try:
        written = write_views(
            con, target, child=child, family=family, flagged=flagged, redact=redact,
            progress=progress,
        )
    finally:
        con.close()
    progress(f"wrote {len(written)} file(s) to {target}")
    for path in written:
        click.echo(str(path))


COMMANDS: list[click.Command] = [view_command]
