"""``famlink link``: job file → output database, stage by stage, with a run record.

The library never prints; it reports progress through a callback the CLI supplies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from famlink.linkage import manifest
from famlink.linkage.backend import Backend, backend_for
from famlink.linkage.errors import FamlinkError
from famlink.linkage.ingest import DataFitError, check_strict
from famlink.linkage.jobfile import BACKENDS, Job, load_job
from famlink.linkage.link import LinkResult, link_records
from famlink.linkage.output import DATABASE_NAME
from famlink.linkage.reconcile import IngestReport
from famlink.linkage.warning_table import write_warnings
from famlink.models.flags import FlagSettings, flag_settings

Progress = Callable[[str], None]

# The data tables the linkage stage writes (rewritten every run); `runs` persists across runs.
LINKAGE_TABLES = (
    "source_records",
    "quarantine",
    "nulled_values",
    "unmapped_codes",
    "reconciliation",
    "relationships",
    "events",
    "record_links",
    "person_records",
    "persons",
    "warnings",
)


@dataclass
class RunSummary:
    out_dir: Path
    database: Path
    run_id: str
    job: Job
    ingest: IngestReport
    link: LinkResult
    models: Any | None
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def private_files() -> Iterator[None]:
    """Create files readable by the owner only: outputs hold children's personal data."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def prepare_output_dir(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    return out_dir / DATABASE_NAME


def input_files(job: Job) -> list[manifest.InputFile]:
    files = []
    for source in job.sources:
        for kind in ("people", "relationships", "events"):
            spec = getattr(source, kind, None)
            if spec is not None:
                files.append(manifest.InputFile(source.name, kind, Path(spec.path)))
    return files


def run_link(
    job_path: str | Path,
    out_dir: str | Path,
    *,
    model: str | Path | None = None,
    with_models: bool = True,
    progress: Progress = lambda _msg: None,
    command: str = "link",
    backend: str | None = None,
    data_dir: str | Path | None = None,
    strict: bool = False,
) -> RunSummary:
    """Run the linkage stage (and, by default, the models stage) into ``out_dir``.

    ``backend`` ("duckdb" or "spark") overrides the job file's ``[linkage] backend``.
    ``data_dir``: the folder the extracts' paths are relative to (default the job file's).
    ``strict``: a warning about the data (a date format that does not fit) stops the run.
    """
    job = load_job(job_path, data_dir=data_dir)
    if strict:
        job = replace(job, strict=True)
    # [flags] is checked now, not after the long linkage run
    flag_rules = flag_settings(job.flags, job_file=str(job_path),
                               non_mobile_age_months=job.family.non_mobile_age_months)
    if backend is not None:
        if backend not in BACKENDS:
            raise FamlinkError(f"unknown backend {backend!r}", hint="use one of: " + ", ".join(BACKENDS))
        job = replace(job, linkage=replace(job.linkage, backend=backend))
    engine = backend_for(job)
    engine.check_available()
    out = Path(out_dir)
    model_path = Path(model) if model else job.linkage.model
    if model_path is not None and not Path(model_path).exists():
        raise FamlinkError("saved model not found", file=str(model_path))
    if model_path is not None:
        engine.check_model(Path(model_path))
    timings: dict[str, float] = {}
    with private_files():
        database = prepare_output_dir(out)
        con = duckdb.connect(str(database), config={"memory_limit": job.linkage.memory_limit})
        try:
            run_id = manifest.start_run(
                con,
                command=command,
                job_path=job.path,
                job_toml=job.raw_toml,
                inputs=manifest.describe_inputs(input_files(job)),
                seed=job.seed,
                reference_date=job.reference_date,
                config=_config(job, engine, model_path),
            )
            try:
                summary = _stages(con, job, engine, out, database, run_id, model_path, with_models,
                                  progress, timings, flag_rules)
            except BaseException as err:
                manifest.finish_run(con, run_id, status="failed", error=str(err))
                raise
            manifest.finish_run(
                con,
                run_id,
                status="succeeded",
                model_path=summary.link.model_path,
                model_trained=summary.link.model_trained,
                counts=_counts(summary),
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return summary


def _stages(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    engine: Backend,
    out: Path,
    database: Path,
    run_id: str,
    model_path: Path | None,
    with_models: bool,
    progress: Progress,
    timings: dict[str, float],
    flag_rules: FlagSettings,
) -> RunSummary:
    t0 = time.perf_counter()
    stages = 3 if with_models else 2
    on = engine.where()
    progress(f"[1/{stages}] Reading and standardising {len(job.sources)} sources{on} …")
    report = _ingest(con, job, engine, out, run_id, progress)
    timings["ingest"] = time.perf_counter() - t0
    progress(f"      done in {timings['ingest']:.1f}s")

    t0 = time.perf_counter()
    action = "scoring with the saved model" if model_path else "training the model (unsupervised)"
    progress(f"[2/{stages}] Linking records with Splink{on}: {action}, predicting, clustering …")
    result = link_records(
        con,
        out_dir=out,
        seed=job.seed,
        match_threshold=job.linkage.match_threshold,
        link_floor=job.linkage.link_floor,
        model=model_path,
        backend=engine,
        cannot_link=job.linkage.cannot_link,
    )
    timings["link"] = time.perf_counter() - t0
    progress(f"      done in {timings['link']:.1f}s ({_timing_breakdown(result.timings)})")

    models_report = None
    if with_models:
        from famlink.models.spark_engine import build_models_on

        t0 = time.perf_counter()
        progress(f"[3/3] Building family graphs, flags and chronologies{on} …")
        options: dict[str, Any] = {
            "reference_date": job.reference_date,
            "co_residence_window_months": job.family.co_residence_window_months,
            "non_mobile_age_months": flag_rules.value("non_mobile_injury", "age_months"),
            "flag_rules": flag_rules,
        }
        models_report = build_models_on(engine, con, out_dir=out, **options)
        timings["models"] = time.perf_counter() - t0
        progress(f"      done in {timings['models']:.1f}s")
    _drop_scratch_tables(con)
    return RunSummary(out, database, run_id, job, report, result, models_report, timings)


def _ingest(con: duckdb.DuckDBPyConnection, job: Job, engine: Backend, out: Path, run_id: str,
            progress: Progress) -> IngestReport:
    """Ingest, its warnings printed and written to ``warnings`` — also when ``--strict``
    stops the run on them, so the data officer can query what stopped it."""
    try:
        report = engine.ingest(con, job, out_dir=out)
    except DataFitError as err:  # the DuckDB backend stops inside ingest
        write_warnings(con, run_id, err.warnings)
        raise
    for warning in report.warnings:
        progress(f"      warning: {warning}")
    write_warnings(con, run_id, report.warnings)
    check_strict(job, report)  # the Spark backend's ingest leaves it to here
    return report


def _drop_scratch_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Remove working tables (ours and Splink's) so the database holds only documented tables."""
    names = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name LIKE '\\_\\_%' ESCAPE '\\' OR table_name = 'result_df'"
    ).fetchall()
    for name, kind in names:
        keyword = "VIEW" if kind == "VIEW" else "TABLE"
        con.execute(f'DROP {keyword} IF EXISTS "{name}"')


def _config(job: Job, engine: Backend, model_path: Path | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "linkage": {
            "backend": engine.name,
            "match_threshold": job.linkage.match_threshold,
            "link_floor": job.linkage.link_floor,
            "model": str(model_path) if model_path else None,
            "cannot_link": job.linkage.cannot_link.as_dict(),
        },
        "family": {
            "co_residence_window_months": job.family.co_residence_window_months,
            "non_mobile_age_months": job.family.non_mobile_age_months,
        },
    }
    if job.data_dir is not None:
        config["data_dir"] = str(job.data_dir)
    config["strict"] = job.strict
    config.update(engine.run_settings())
    return config


def _timing_breakdown(timings: dict[str, float]) -> str:
    """``train 11.8s, predict 0.2s, …``: where the linkage stage spent its time (and on
    Spark, which steps ran there), for the data officer watching a long run."""
    return ", ".join(f"{step} {seconds:.1f}s" for step, seconds in timings.items())


def _counts(summary: RunSummary) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "records": summary.link.records,
        "persons": summary.link.persons,
        "links": summary.link.links_kept,
        "clusters_split": summary.link.clusters_split,
        "clusters_split_by_rule": summary.link.clusters_split_by_rule,
        # ingest's warnings about the data (a date format that does not fit its column)
        "warnings": [w.as_dict() for w in summary.ingest.warnings],
        "timings_s": {k: round(v, 2) for k, v in summary.timings.items()},
        # the linkage stage's steps: which ran where (cluster_on_spark: clustered on Spark)
        "link_timings_s": {k: round(v, 2) for k, v in summary.link.timings.items()},
    }
    if summary.models is not None and hasattr(summary.models, "as_dict"):
        counts["models"] = summary.models.as_dict()
    return counts
