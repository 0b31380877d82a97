"""CLI commands for link review and explanation: `famlink review …`, `famlink explain`."""

from __future__ import annotations

from pathlib import Path

import click

from famlink.cli.common import echo_rows, format_option, open_output, user_errors
from famlink.linkage.errors import FamlinkError
from famlink.linkage.review import QUEUE_COLUMNS, decide, decisions, parse_record_ref, review_queue


def _band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split("-", 1))
    except ValueError as err:
        raise FamlinkError(f"band {text!r} is not LOW-HIGH", hint="--band 0.5-0.95") from err
    return low, high


@click.group()
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def review(ctx: click.Context, out_dir: Path) -> None:
    """Review borderline record pairs in DIR; the next `famlink link` obeys the decisions.

    \b
    Example:
      famlink review famlink-demo queue --band 0.5-0.95
      famlink review famlink-demo decide gp:G00000213 housing:TEN000016/1 \\
          --different --reason "father and son, DOBs 25 years apart" --by "J. Reviewer"
    """
    ctx.obj = out_dir


@review.command("queue")
@click.pass_obj
@click.option("--band", default="0.5-0.95", show_default=True,
              help="Match probabilities to review, LOW-HIGH.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many pairs, most uncertain first.")
@format_option()
@user_errors
def queue(out_dir: Path, band: str, limit: int, fmt: str) -> None:
    """List undecided record pairs in the probability band, fields side by side.

    \b
    Example:
      famlink review famlink-demo queue --band 0.3-0.9 --limit 20
    """
    low, high = _band(band)
    con = open_output(out_dir)
    try:
        rows = review_queue(con, low=low, high=high, limit=limit)
    finally:
        con.close()
    echo_rows(QUEUE_COLUMNS, rows, fmt)


@review.command("decide")
@click.pass_obj
@click.argument("record_a", metavar="REC_A")
@click.argument("record_b", metavar="REC_B")
@click.option("--same/--different", "same", required=True,
              help="The two records are the same person / different people.")
@click.option("--reason", required=True, help="Why, in a sentence (kept in the decision log).")
@click.option("--by", "decided_by", required=True, help="Who decided (kept in the decision log).")
@user_errors
def decide_command(out_dir: Path, record_a: str, record_b: str, same: bool, reason: str,
                   decided_by: str) -> None:
    """Record that REC_A and REC_B (SOURCE:RECORD_ID) are the same person or not.

    The decision is appended to the log; the next `famlink link` applies it: different
    people are never clustered together, the same person always is.

    \b
    Example:
      famlink review famlink-demo decide csc:1000836 csc:1000837 --different \\
          --reason "twins: Emma and Laura" --by "J. Reviewer"
    """
    con = open_output(out_dir, read_only=False)
    try:
        made = decide(con, parse_record_ref(record_a), parse_record_ref(record_b), same=same,
                      reason=reason, decided_by=decided_by)
    finally:
        con.close()
    click.echo(
        f"Decision {made.decision_id}: {made.record_a[0]}:{made.record_a[1]} and "
        f"{made.record_b[0]}:{made.record_b[1]} are {'the same person' if same else 'different people'}. "
        "It applies from the next `famlink link` into this folder.",
        err=True,
    )


@review.command("history")
@click.pass_obj
@format_option()
@user_errors
def history(out_dir: Path, fmt: str) -> None:
    """Every link decision ever made in DIR, oldest first.

    \b
    Example:
      famlink review famlink-demo history --format csv
    """
    con = open_output(out_dir)
    try:
        rows = decisions(con)
    finally:
        con.close()
    echo_rows(
        ["decision_id", "source_a", "record_id_a", "source_b", "record_id_b", "decision", "reason",
         "decided_by", "decided_at", "match_probability", "run_id"],
        rows, fmt,
    )


@click.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.argument("records", nargs=-1, metavar="[REC_A REC_B]")
@click.option("--flag", "flag_key", default=None, help="Explain a flag instead of a pair of records.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write Splink's waterfall chart to this HTML file (works offline). Default: none.")
@user_errors
def explain(out_dir: Path, records: tuple[str, ...], flag_key: str | None, html_path: Path | None) -> None:
    """Why two records were linked (or not), or why a flag was raised.

    For a pair, shows each comparison's level and match weight and the total — Splink's
    waterfall — using the model saved with the run. For a flag, its rule, evidence and
    the person links it depends on.

    \b
    Example:
      famlink explain famlink-demo csc:1000836 csc:1000837
      famlink explain famlink-demo csc:1000836 csc:1000837 --html pair.html
      famlink explain famlink-demo --flag unrecorded_male_carer:P90d8b3a62721:P7a306d62e2aa
    """
    if flag_key:
        if records:
            raise FamlinkError("give either two records or --flag, not both")
        from famlink.models.audit import UnknownFlagError
        from famlink.models.explain import explain_flag

        con = open_output(out_dir)
        try:
            click.echo(explain_flag(con, flag_key))
        except UnknownFlagError as err:
            raise err.for_dir(str(out_dir)) from err
        finally:
            con.close()
        return
    if len(records) != 2:
        raise FamlinkError("explain needs two records (SOURCE:RECORD_ID SOURCE:RECORD_ID) or --flag KEY")
    from famlink.linkage.explain import explain_pair

    result = explain_pair(out_dir, parse_record_ref(records[0]), parse_record_ref(records[1]))
    click.echo(result.as_text())
    if html_path is not None:
        html_path.write_text(result.chart_html, encoding="utf-8")
        html_path.chmod(0o600)
        click.echo(f"Wrote the waterfall chart to {html_path}", err=True)


COMMANDS: list[click.Command] = [review, explain]
