"""CLI commands of the linkage stage: link, export, sample-data, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import click

from famlink.cli.common import echo_rows, format_option, open_output, progress, user_errors
from famlink.linkage.errors import FamlinkError

EXPORT_FORMATS = ("csv", "parquet", "json")


def print_run_summary(summary: object) -> None:
    """The reconciliation and linkage summary a data officer reads after a run (stderr)."""
    from famlink.pipeline import RunSummary

    assert isinstance(summary, RunSummary)
    report = summary.ingest
    progress("")
    progress("Rows by source and file (nothing lost: read = used + quarantined):")
    for line in report.summary_lines():
        progress(f"  {line}")
    totals = report.totals()
    progress(
        f"  reconciled: {totals['rows_read']:,} rows read = {totals['rows_used']:,} used"
        f" + {totals['rows_quarantined']:,} quarantined"
    )
    if report.warnings:
        progress(f"Warnings ({len(report.warnings)}, also in the warnings table):")
        for warning in report.warnings:
            progress(f"  {warning}")
    link = summary.link
    progress("")
    progress(
        f"Linked {link.records:,} people records into {link.persons:,} persons "
        f"({link.links_kept:,} links at or above {summary.job.linkage.match_threshold}; "
        f"{link.clusters_split} cluster(s) split because they held records known to be"
        " different people" + (": " + ", ".join(
            f"{n} by {rule}" for rule, n in link.clusters_split_by_rule.items()
        ) if link.clusters_split_by_rule else "") + "; see docs/jobfile.md [linkage.cannot_link])."
    )
    changes = link.person_changes
    if changes is not None and (changes.unchanged or changes.changed or changes.gone):
        progress(
            f"Person ids carried forward from the previous run: {changes.unchanged:,} unchanged, "
            f"{changes.changed:,} with records added or removed, {changes.merged:,} formed by merging, "
            f"{changes.split:,} split, {changes.new:,} new, {changes.gone:,} gone (table person_changes)."
        )
    if link.decisions_in_force:
        progress(
            "Reviewers' decisions applied: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(link.decisions_in_force.items()))
        )
    progress(
        f"Model {'trained and ' if link.model_trained else ''}saved: {link.model_path}"
    )
    for line in link.model_summary.lines() if link.model_summary else ():
        progress(line)
    if summary.models is not None and hasattr(summary.models, "summary_lines"):
        for line in summary.models.summary_lines():
            progress(line)
    if summary.models is not None:
        from famlink.models.audit import audit_summary, summary_lines

        con = open_output(summary.out_dir)
        try:
            for line in summary_lines(audit_summary(con), str(summary.out_dir)):
                progress(line)
        finally:
            con.close()
    progress(f"Output database: {summary.database}  (run {summary.run_id})")


@click.command()
@click.argument("job", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; famlink.duckdb and model.json are written here (created, owner-only).",
)
@click.option(
    "--model", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Reuse a saved Splink model (model.json of an earlier run) instead of training. Default: train.",
)
@click.option(
    "--no-models", is_flag=True, default=False,
    help="Stop after linkage: skip family graphs, flags and chronologies. Default: run them.",
)
@click.option(
    "--backend", type=click.Choice(["duckdb", "spark"]), default=None,
    help="Where Splink trains and predicts, overriding the job file's [linkage] backend. "
         "Default: the job file's, which defaults to duckdb. spark needs "
         "pip install 'famlink[spark]' and Java 17+ (see docs/scaling.md).",
)
@click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder the job file's extract paths are relative to, so one job file serves every "
         "month's delivery. Default: the job file's folder.",
)
@click.option(
    "--strict", is_flag=True, default=False,
    help="Stop with an error instead of warning when the data does not fit the job file "
         "(a date_format that parses under the file's date_min_parsed share of a column, "
         "default 0.9, or a likely day/month swap); what stopped it is in the warnings "
         "table. Default: warn and go on.",
)
@user_errors
def link(job: Path, out_dir: Path, model: Path | None, no_models: bool, backend: str | None,
         data_dir: Path | None, strict: bool) -> None:
    """Link the extracts named in JOB (a job.toml) into persons, families and flags.

    Reads every source's people, relationships and events files, standardises them,
    quarantines rows it cannot use (with the reason), links records of the same person
    with Splink 5 and writes OUT/famlink.duckdb. The run stops with an error if any row
    is unaccounted for.

    \b
    Example:
      famlink link sample_data/job.toml --out out/
      famlink link job.toml --out out-march/ --model out-feb/model.json
      famlink link sample_data/job.toml --out out-spark/ --backend spark
      famlink link job.toml --data deliveries/2026-10/ --out out-oct/ --strict
    """
    from famlink.pipeline import run_link

    summary = run_link(job, out_dir, model=model, with_models=not no_models, progress=progress,
                       backend=backend, data_dir=data_dir, strict=strict)
    print_run_summary(summary)


@click.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.argument("table")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="File format to write.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write; '-' for stdout (csv/json). Default: DIR/exports/TABLE.FORMAT.")
@user_errors
def export(out_dir: Path, table: str, fmt: str, out_path: Path | None) -> None:
    """Write one TABLE of the output database in DIR to a CSV, Parquet or JSON file.

    \b
    Example:
      famlink export famlink-demo persons --format csv
      famlink export famlink-demo quarantine --format json --out -
    """
    con = open_output(out_dir)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY 1").fetchall()]
        if table not in tables:
            raise FamlinkError(f"no table {table!r} in {out_dir}", hint="tables: " + ", ".join(tables))
        if str(out_path) == "-":
            if fmt == "parquet":
                raise FamlinkError("Parquet cannot go to stdout", hint="give --out FILE.parquet")
            rel = con.execute(f'SELECT * FROM "{table}" ORDER BY ALL')  # noqa: S608 - a listed table
            columns = [d[0] for d in rel.description]
            echo_rows(columns, rel.fetchall(), fmt)
            return
        target = out_path or Path(out_dir) / "exports" / f"{table}.{fmt}"
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet",
                   "json": "FORMAT json, ARRAY true"}[fmt]
        # COPY cannot take the path as a parameter; quote it as a SQL string literal.
        literal = "'" + str(target).replace("'", "''") + "'"
        # Sorted: the same tables give byte-identical files, whatever order DuckDB stored
        # the rows in (set work in parallel threads does not keep an order).
        con.execute(f'COPY (SELECT * FROM "{table}" ORDER BY ALL) TO {literal} ({options})')  # noqa: S608
        target.chmod(0o600)
        count = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]  # noqa: S608
    finally:
        con.close()
    click.echo(f"Wrote {count:,} rows of {table} to {target}", err=True)


@click.command("sample-data")
@click.option("--families", type=click.IntRange(min=1), default=200, show_default=True,
              help="Number of synthetic families to generate.")
@click.option("--seed", type=int, default=20261126, show_default=True, help="Random seed.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the extracts, job.toml and _truth/.")
@click.option("--messy", is_flag=True, default=False,
              help="Add the messy noise profile of real extracts (names people go by, Sikh and "
                   "patronymic naming, former surnames, identifiers, stale addresses, partial "
                   "postcodes …; docs/sample-data.md). Default: off (the plain sample).")
@user_errors
def sample_data(families: int, seed: int, out_dir: Path, messy: bool) -> None:
    """Generate a synthetic multi-agency data set with its job file and ground truth.

    Each agency's extract has its own column names, date formats and codes, and the
    errors real extracts have. The truth (record → person, relationships, expected
    flags) goes to OUT/_truth/. All names and numbers are synthetic. --messy adds what
    real agency extracts hold and the plain sample lacks, with its truth.

    \b
    Example:
      famlink sample-data --families 500 --seed 7 --out data/
      famlink link data/job.toml --out out/ && famlink evaluate out/ --truth data/_truth
      famlink sample-data --messy --families 500 --out messy/
    """
    from famlink.linkage.sample import generate

    summary = generate(out_dir, families=families, seed=seed, messy=messy)
    click.echo(f"Wrote {summary} to {out_dir}", err=True)
    click.echo(f"Next: famlink link {Path(out_dir) / 'job.toml'} --out OUT", err=True)


@click.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--truth", "truth_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The _truth/ folder written by `famlink sample-data`.")
@format_option()
@user_errors
def evaluate(out_dir: Path, truth_dir: Path, fmt: str) -> None:
    """Score the run in DIR against ground truth: linkage and flag accuracy.

    Reports pairwise precision, recall and F1, B-cubed precision and recall, persons split
    and merged (twins and same-named fathers and sons in particular), blocking recall, and
    each flag type's precision and recall.

    \b
    Example:
      famlink evaluate famlink-demo --truth sample_data/_truth
    """
    result = evaluate_run(out_dir, truth_dir)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    linkage = result["linkage"]
    assert isinstance(linkage, dict)
    rows: list[tuple[str, object]] = [(k, v) for k, v in linkage.items() if not isinstance(v, dict)]
    for kind, n in linkage["special_pairs_total"].items():
        rows.append((f"{kind} merged", f"{linkage['special_pairs_merged'].get(kind, 0)} of {n}"))
    flag_scores = result.get("flags", {})
    assert isinstance(flag_scores, dict)
    for flag_type, scores in sorted(flag_scores.items()):
        if isinstance(scores, dict) and "precision" in scores:
            rows.append((
                f"flag {flag_type}",
                f"precision {scores['precision']}, recall {scores['recall']} "
                f"(raised {scores['raised']}, detectable {scores['detectable']})",
            ))
    echo_rows(["measure", "value"], rows, fmt)


def evaluate_run(out_dir: Path, truth_dir: Path) -> dict[str, object]:
    from famlink.linkage.evaluate import linkage_accuracy

    con = open_output(out_dir)
    try:
        result: dict[str, object] = {"linkage": linkage_accuracy(con, Path(truth_dir)).as_dict()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        # A linkage-only run (--no-models) has no flags to score.
        if "flags" in tables and (Path(truth_dir) / "expected_flags.csv").exists():
            from famlink.models import evaluate_flags

            result["flags"] = evaluate_flags(con, Path(truth_dir))
    finally:
        con.close()
    return result


COMMANDS: list[click.Command] = [link, export, sample_data, evaluate]
