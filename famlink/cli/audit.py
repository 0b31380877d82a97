"""`famlink audit DIR …`: record and review a case auditor's decisions on flags.

Thin: each command opens the output database, asks `models.audit` (the HTML report is
rendered by `visualise.audit_report`), prints or writes. Only
`decide` opens the database for writing (and only inserts into `flag_decisions`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb

from famlink.cli.common import (
    echo_rows,
    format_option,
    open_output,
    progress,
    render_rows,
    user_errors,
)
from famlink.cli.options import flag_type_option
from famlink.linkage.errors import FamlinkError
from famlink.models import audit as audit_lib

LIST_TABLE_COLUMNS = (
    "flag_key",
    "status",
    "last_decision",
    "decided_by",
    "decided_at",
    "evidence_changed",
    "child_name",
    "adult_name",
    "reason",
)
HISTORY_COLUMNS = ("decision_id", "decided_at", "status", "decided_by", "reason", "run_id")
REPORT_FORMATS = ("html", "csv")


def _out_dir() -> str:
    ctx = click.get_current_context()
    assert ctx.parent is not None
    return str(ctx.parent.params["out_dir"])


@contextmanager
def _owner_only() -> Iterator[None]:
    """Files created inside (the database's write-ahead log, reports) are owner-only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def _connect(out_dir: str, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    with _owner_only():
        try:
            con = open_output(out_dir, read_only=not write)
        except duckdb.IOException as err:
            if "lock" in str(err).lower():
                raise FamlinkError(
                    f"{out_dir} is in use by another famlink process (a `famlink link` run, "
                    "or another `famlink audit … decide`)",
                    hint="try again when it has finished",
                ) from err
            raise
        try:
            yield con
        except audit_lib.UnknownFlagError as err:
            raise err.for_dir(out_dir) from err
        finally:
            con.close()


@click.group("audit")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))
def audit(out_dir: str) -> None:
    """A case auditor's decisions on flags: confirm, dismiss or ask for more information,
    with a reason, kept across every re-run of `famlink link`.

    Decisions are appended to the `flag_decisions` table in DIR/famlink.duckdb (never edited
    or deleted; a hash chain shows if they were). They re-attach to flags by flag key after
    each re-run; a decision whose flag is no longer raised is listed as `orphaned`.

    \b
    Example:
      famlink audit famlink-demo list --status open --type unrecorded_male_carer
      famlink audit famlink-demo decide unrecorded_male_carer:P90d8b3a62721:P7a306d62e2aa \\
          --status confirmed --reason "Confirmed with HV: lives there" --by "A. Auditor"
    """


@audit.command("list")
@click.option(
    "--status",
    type=click.Choice(audit_lib.LIST_STATUSES),
    default=None,
    help="Only flags with this status (`open`: no decision yet; `orphaned`: decisions whose "
    "flag is no longer raised). Default: every status, orphaned decisions last.",
)
@flag_type_option
@format_option()
@user_errors
def list_command(status: str | None, flag_type: str | None, fmt: str) -> None:
    """Current flags with their latest decision (status `open` if none), then orphaned
    decisions with the flag as it was when decided. `evidence_changed` says whether the
    records behind a decided flag have changed since the decision. The table format shows
    the main columns; csv and json carry every column, the explanation included.

    \b
    Example:
      famlink audit famlink-demo list --status open --type unrecorded_male_carer
      famlink audit famlink-demo list --format csv > audit.csv
    """
    out_dir = _out_dir()
    with _connect(out_dir) as con:
        rows = [f.as_row() for f in audit_lib.audit_list(con, status=status, flag_type=flag_type)]
    columns = LIST_TABLE_COLUMNS if fmt == "table" else audit_lib.LIST_COLUMNS
    echo_rows(columns, [[r[c] for c in columns] for r in rows], fmt)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    progress(
        f"{len(rows)} row(s): "
        + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")
    )


@audit.command("decide")
@click.argument("flag_key")
@click.option(
    "--status",
    type=click.Choice(audit_lib.STATUSES),
    required=True,
    help="The decision: confirmed (the flag holds), dismissed (it does not), needs_info. "
    "Required; no default.",
)
@click.option(
    "--reason",
    required=True,
    help="Why, in words a later reviewer can check (e.g. which record or conversation). "
    "Required, non-empty; no default.",
)
@click.option(
    "--by",
    "decided_by",
    required=True,
    metavar="NAME",
    help="Who decides (your name or role). Required, non-empty; no default.",
)
@user_errors
def decide_command(flag_key: str, status: str, reason: str, decided_by: str) -> None:
    """Record a decision on the flag FLAG_KEY (see `famlink audit DIR list`). It is appended,
    stamped with the time (UTC), the current run and the flag as it is now; a later decision
    on the same flag supersedes it without erasing it.

    \b
    Example:
      famlink audit famlink-demo decide unrecorded_male_carer:P90d8b3a62721:P7a306d62e2aa \\
          --status dismissed --reason "Moved out in 2024 (housing confirmed)" --by "A. Auditor"
    """
    out_dir = _out_dir()
    with _connect(out_dir, write=True) as con:
        d = audit_lib.decide(con, flag_key, status=status, reason=reason, decided_by=decided_by)
        decisions = len(audit_lib.history(con, flag_key))
    click.echo(
        f"decision {d.decision_id}: {d.flag_key} {d.status} by {d.decided_by} at "
        f"{d.decided_at.isoformat(timespec='seconds')}Z (run {d.run_id or 'unknown'}; "
        f"{decisions} decision(s) on this flag)"
    )


@audit.command("history")
@click.argument("flag_key")
@format_option()
@user_errors
def history_command(flag_key: str, fmt: str) -> None:
    """Every decision on the flag FLAG_KEY, oldest first.

    \b
    Example:
      famlink audit famlink-demo history unrecorded_male_carer:P90d8b3a62721:P7a306d62e2aa
    """
    out_dir = _out_dir()
    with _connect(out_dir) as con:
        decisions = audit_lib.history(con, flag_key)
    rows = [
        [
            d.decision_id,
            d.decided_at.isoformat(timespec="seconds") + "Z",
            d.status,
            d.decided_by,
            d.reason,
            d.run_id,
        ]
        for d in decisions
    ]
    echo_rows(HISTORY_COLUMNS, rows, fmt)
    if not decisions:
        progress(f"no decisions on {flag_key} yet (status open)")


def _write_private(path: Path, text: str) -> None:
    """Write UTF-8 text to `path`, readable by its owner only (0o600)."""
    with _owner_only():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


@audit.command("report")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="html",
    show_default=True,
    help="html: one self-contained page (opens offline, sortable); csv: one row per flag.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (owner-only), '-' for stdout. Default: DIR/reports/audit-report.FORMAT.",
)
@click.option(
    "--status",
    type=click.Choice(audit_lib.LIST_STATUSES),
    default=None,
    help="Only flags with this status. Default: every status.",
)
@flag_type_option
@user_errors
def report_command(
    fmt: str, out_path: Path | None, status: str | None, flag_type: str | None
) -> None:
    """The audit report: every flag with its evidence, status, reason, who decided and when;
    orphaned decisions in their own section; and whether the decision log is intact.

    \b
    Example:
      famlink audit famlink-demo report --format html --out audit.html
      famlink audit famlink-demo report --format csv --out - > audit.csv
    """
    out_dir = _out_dir()
    with _connect(out_dir) as con:
        report = audit_lib.build_report(con, status=status, flag_type=flag_type)
    if fmt == "html":
        from famlink.visualise.audit_report import render_audit_report  # keep --help fast

        text = render_audit_report(report)
    else:
        rows = audit_lib.report_rows(report)
        text = render_rows(audit_lib.REPORT_COLUMNS, rows, "csv") + "\n"
    if out_path is not None and str(out_path) == "-":
        click.echo(text, nl=False)
        return
    path = out_path or Path(out_dir) / "reports" / f"audit-report.{fmt}"
    _write_private(path, text)
    progress(
        f"wrote {path} ({len(report.flags)} flag(s), {len(report.orphaned)} orphaned; "
        f"{report.verify.message()})"
    )


@audit.command("verify")
@user_errors
def verify_command() -> None:
    """Check the decision log is intact: no row edited, deleted or renumbered (each row's
    hash covers its content and the previous row's hash). Exit 1 naming the first broken
    row. Note the head hash: a log rewritten from scratch, or cut short, verifies again but
    ends in a different head.

    \b
    Example:
      famlink audit famlink-demo verify
    """
    out_dir = _out_dir()
    with _connect(out_dir) as con:
        result = audit_lib.verify_chain(con)
    if not result.ok:
        raise FamlinkError(result.message(), hint="compare with an earlier report or backup")
    click.echo(result.message())


COMMANDS: list[click.Command] = [audit]
