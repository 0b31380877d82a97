"""``famlink demo``: the whole pipeline on the bundled synthetic sample, end to end."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from famlink.cli.common import progress, user_errors

# The committed sample is exactly what the generator writes with these settings (a test
# checks this), so a demo run outside a checkout regenerates the very same files.
SAMPLE_FAMILIES = 200
SAMPLE_SEED = 20261126


def find_sample(out_dir: Path) -> Path:
    """The job file of the bundled sample: ./sample_data in a checkout, else regenerated."""
    for candidate in (Path("sample_data/job.toml"), Path(__file__).resolve().parents[2] / "sample_data/job.toml"):
        if candidate.exists():
            return candidate
    from famlink.linkage.sample import generate

    target = out_dir / "sample_data"
    progress(f"No sample_data/ here; generating the sample into {target} …")
    generate(target, families=SAMPLE_FAMILIES, seed=SAMPLE_SEED)
    return target / "job.toml"


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("famlink-demo"), show_default=True, help="Folder for the demo outputs.")
@user_errors
def demo(out_dir: Path) -> None:
    """Run famlink end to end on the bundled synthetic sample data.

    Links the sample's eight agency extracts, builds family graphs and flags, writes the
    offline HTML views, scores everything against the sample's ground truth, and prints
    what it wrote and where to look next.

    \b
    Example:
      famlink demo
      famlink demo --out /tmp/famlink-demo
    """
    from famlink.cli.link import evaluate_run, print_run_summary
    from famlink.pipeline import run_link

    job = find_sample(out_dir)
    database = out_dir / "famlink.duckdb"
    if database.exists():
        _refuse_to_discard_decisions(database)
        database.unlink()  # the demo starts clean every time
    summary = run_link(job, out_dir, progress=progress, command="demo")
    print_run_summary(summary)

    views = _write_views(out_dir)
    truth = job.parent / "_truth"
    scores = evaluate_run(out_dir, truth) if truth.exists() else None

    click.echo("")
    click.echo(f"famlink demo: wrote {out_dir}/")
    if scores:
        lk = scores["linkage"]
        assert isinstance(lk, dict)
        click.echo(
            f"  Linkage against the sample truth: pairwise F1 {lk['pairwise_f1']:.3f} "
            f"(precision {lk['pairwise_precision']:.3f}, recall {lk['pairwise_recall']:.3f}); "
            f"twins merged {lk['special_pairs_merged'].get('twins', 0)}, "
            f"fathers/sons merged {lk['special_pairs_merged'].get('father_son_same_name', 0)}"
        )
    flag_scores = scores.get("flags", {}) if scores else {}
    assert isinstance(flag_scores, dict)
    child = _show_flags_and_chronology(out_dir, flag_scores) or "ID"
    click.echo("")
    click.echo("Where to look next:")
    if views:
        click.echo(f"  open {views}   (offline family network views)")
    click.echo(f"  famlink flags {out_dir}                       # every flag, with its explanation")
    click.echo(f"  famlink chronology {out_dir} --child {child}  # one child's multi-agency chronology")
    click.echo(f"  famlink family {out_dir} --person {child}     # the people and households around them")
    click.echo(f"  famlink export {out_dir} quarantine           # rows that could not be used, with reasons")
    click.echo(f"  famlink evaluate {out_dir} --truth {truth}")


def _refuse_to_discard_decisions(database: Path) -> None:
    """The demo starts afresh, but never by deleting someone's audit or review decisions."""
    import duckdb

    from famlink.linkage.errors import FamlinkError

    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        decided = sum(
            con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]  # noqa: S608 - fixed names
            for t in ("flag_decisions", "link_decisions") if t in tables
        )
    finally:
        con.close()
    if decided:
        raise FamlinkError(
            f"{database.parent} holds {decided} audit or review decision(s); the demo would discard them",
            hint="run the demo into another folder with --out, or move that folder away first",
        )


def _write_views(out_dir: Path) -> Path | None:
    try:
        from famlink.visualise import write_views
    except ImportError:
        return None
    from famlink.cli.common import open_output

    views_dir = out_dir / "views"
    if views_dir.exists():
        shutil.rmtree(views_dir)
    con = open_output(out_dir)
    try:
        write_views(con, views_dir, flagged=True)
    finally:
        con.close()
    index = views_dir / "index.html"
    return index if index.exists() else None


def _show_flags_and_chronology(out_dir: Path, flag_scores: dict[str, Any]) -> str | None:
    """Print flag counts and one flagged child's first chronology entries; return the child."""
    from famlink.cli.common import open_output, render_rows

    con = open_output(out_dir)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "flags" not in tables:
            return None
        counts = con.execute(
            "SELECT flag_type, count(*) FROM flags GROUP BY 1 ORDER BY 1"
        ).fetchall()
        click.echo("  Flags raised (rules with evidence, not scores):")
        for flag_type, n in counts:
            score = flag_scores.get(flag_type)
            against_truth = (
                f"   precision {score['precision']:.2f}, recall {score['recall']:.2f} against the truth"
                if isinstance(score, dict) and "precision" in score
                else ""
            )
            click.echo(f"    {flag_type:<34} {n:>5}{against_truth}")
        example = con.execute(
            """
            SELECT f.child_person_id, p.display_name, f.explanation
            FROM flags f JOIN persons p ON p.person_id = f.child_person_id
            WHERE f.flag_type = 'unrecorded_male_carer'
            ORDER BY f.flag_key LIMIT 1
            """
        ).fetchall()
        if not example or "chronology" not in tables:
            return None
        child, name, explanation = example[0]
        click.echo("")
        click.echo(f"  Example: {name} ({child}) — {explanation}")
        rows = con.execute(
            """
            SELECT event_date, agency, person_name, relation_to_child, event_type, summary
            FROM chronology WHERE child_person_id = ? ORDER BY entry_no LIMIT 12
            """,
            [child],
        ).fetchall()
        text = render_rows(["date", "agency", "who", "relation", "event", "summary"], rows, "table", max_width=40)
        click.echo("  Chronology (first entries):")
        for line in text.splitlines():
            click.echo(f"    {line}")
        return str(child)
    finally:
        con.close()
