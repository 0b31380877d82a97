"""All steps of the benchmark for one size: generate (or the committed sample), famlink link,
bare Splink, Spark, the models stage, the views and the evaluations, each a metered child.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from _steps import BENCH, FAMLINK, PYTHON, SOURCE_ROOT, StepFailed, log, read_json, run_step
from _summary import summarise

RECORDS_PER_FAMILY = 20


def bench_size(label: str, size: int | None, args: argparse.Namespace, with_models: bool) -> dict[str, Any]:
    """All steps for one size. ``size`` None = the committed sample (no generation)."""
    work = Path(args.work) / label
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    res: dict[str, Any] = {"label": label, "target_records": size, "steps": {}, "failed": {}}

    def attempt(name: str, argv: list[str], result: Path | None = None, tree: bool = False) -> dict[str, Any] | None:
        try:
            step = run_step(name, argv, logs, args.max_rss, tree=tree)
        except StepFailed as err:
            log(str(err).splitlines()[0])
            res["failed"][name] = err.step
            return None
        if result is not None:
            step["detail"] = read_json(result)
        return step

    fam_settings = [a for kv in args.duckdb_set for a in ("--duckdb-set", kv)]
    if args.experiment:
        fam_settings += ["--experiment", args.experiment]
    bare_settings = fam_settings
    if size is None:
        data = SOURCE_ROOT[0] / "sample_data"
        res["steps"]["generate"] = {"skipped": "committed sample_data/"}
    else:
        data = work / "data"
        families = max(1, size // RECORDS_PER_FAMILY)
        res["families"] = families
        if "generate" in args.stages and not (args.reuse_data and (data / "job.toml").exists()):
            if data.exists():
                shutil.rmtree(data)
            res["steps"]["generate"] = run_step("generate", [
                FAMLINK, "sample-data", "--families", str(families), "--seed", str(args.seed),
                "--out", str(data)], logs, args.max_rss)
        else:
            res["steps"]["generate"] = {"skipped": "reused existing data"}
    job, truth = data / "job.toml", data / "_truth"
    fam_out = work / "famlink"
    reps: list[dict[str, Any]] = []
    for rep in range(args.repeat):
        one: dict[str, Any] = {}
        sfx = f"-{rep + 1}" if args.repeat > 1 else ""
        if "famlink" in args.stages:
            if fam_out.exists():
                shutil.rmtree(fam_out)
            result = work / f"famlink{sfx}.json"
            step = attempt(f"famlink{sfx}", [
                PYTHON, str(BENCH / "famlink_step.py"), "--result", str(result), *fam_settings, "--",
                "link", str(job), "--out", str(fam_out), "--no-models"], result)
            if step:
                one["famlink"] = step
        # Bare Splink needs only famlink's source_records (written by ingest, before linkage).
        if "bare" in args.stages and (fam_out / "famlink.duckdb").exists():
            bare_out = work / "bare"
            if bare_out.exists():
                shutil.rmtree(bare_out)
            result = work / f"bare{sfx}.json"
            step = attempt(f"bare{sfx}", [
                PYTHON, str(BENCH / "bare_splink.py"), "run", "--db", str(fam_out / "famlink.duckdb"),
                "--job", str(job), "--out", str(bare_out), "--result", str(result), *bare_settings], result)
            if step:
                one["bare"] = step
        if "spark" in args.stages:
            step = run_spark(work, job, sfx, fam_settings, attempt, args.spark_driver_memory,
                             with_models="models" in args.stages and with_models)
            if step:
                one["spark"] = step
        reps.append(one)
    famlink_ok = any("famlink" in r for r in reps) or "famlink" not in args.stages
    res["reps"] = reps

    if "models" in args.stages and with_models and famlink_ok:
        models_dir = work / "models"
        if models_dir.exists():
            shutil.rmtree(models_dir)
        models_dir.mkdir(mode=0o700)
        shutil.copyfile(fam_out / "famlink.duckdb", models_dir / "famlink.duckdb")  # untimed
        result = work / "models.json"
        step = attempt("models", [
            PYTHON, str(BENCH / "models_step.py"), "--db", str(models_dir / "famlink.duckdb"),
            "--job", str(job), "--result", str(result),
            *[a for kv in args.duckdb_set for a in ("--duckdb-set", kv)]], result)
        if step:
            res["steps"]["models"] = step
    elif "models" in args.stages:
        why = "models.build_models not importable" if not with_models else "famlink link did not finish"
        res["steps"]["models"] = {"skipped": why}

    # The reviewers' views of every flagged child (what a partnership opens): with linkage
    # and the models stage, the end-to-end run.
    if "views" in args.stages and "wall_s" in res["steps"].get("models", {}):
        views_dir = work / "views"
        if views_dir.exists():
            shutil.rmtree(views_dir)
        step = attempt("views", [FAMLINK, "view", str(work / "models"), "--flagged", "--out", str(views_dir)])
        if step:
            files = list(views_dir.glob("*.html"))
            step["detail"] = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
            res["steps"]["views"] = step
        shutil.rmtree(views_dir, ignore_errors=True)  # tens of GB at 1M: measured, not kept

    if "evaluate" in args.stages and truth.exists() and famlink_ok:
        # The models copy holds linkage's tables too, so evaluating it also scores the flags.
        eval_dir = work / "models" if "models" in res["steps"] and "wall_s" in res["steps"]["models"] else fam_out
        step = attempt("evaluate", [FAMLINK, "evaluate", str(eval_dir), "--truth", str(truth), "--format", "json"])
        if step:
            step["detail"] = json.loads(Path(step["stdout"]).read_text(encoding="utf-8"))
            res["steps"]["evaluate"] = step
    # The folder holds the last repeat's run: scored only if that one finished.
    if "evaluate" in args.stages and truth.exists() and reps and "spark" in reps[-1]:
        step = attempt("evaluate_spark", [
            FAMLINK, "evaluate", str(work / "spark"), "--truth", str(truth), "--format", "json"])
        if step:
            step["detail"] = json.loads(Path(step["stdout"]).read_text(encoding="utf-8"))
            res["steps"]["evaluate_spark"] = step
    # Bare Splink's clusters are scored even when famlink did not finish.
    if "evaluate" in args.stages and truth.exists() and (work / "bare" / "clusters.parquet").exists():
        result = work / "bare-score.json"
        step = attempt("evaluate_bare", [
            PYTHON, str(BENCH / "bare_splink.py"), "score", "--db", str(fam_out / "famlink.duckdb"),
            "--clusters", str(work / "bare" / "clusters.parquet"), "--truth", str(truth),
            "--result", str(result)], result)
        if step:
            res["steps"]["evaluate_bare"] = step
    if (fam_out / "model.json").exists() and (work / "bare" / "model.json").exists():
        sys.path.insert(0, str(BENCH))
        from bare_splink import model_difference

        res["model_difference"] = model_difference(
            read_json(fam_out / "model.json"), read_json(work / "bare" / "model.json"))
    res["summary"] = summarise(res)
    return res


def run_spark(work: Path, job: Path, sfx: str, settings: list[str], attempt: Any,
              driver_memory: str | None = None, *, with_models: bool = False) -> dict[str, Any] | None:
    """``famlink link --backend spark`` of the same job, metered with its JVM (``tree``).

    With ``driver_memory``, a copy of the job with a ``[spark]`` table setting it is used
    (the generated job has none, and Spark's 1 GB default driver is too small at 1M)."""
    spark_out = work / "spark"
    if spark_out.exists():
        shutil.rmtree(spark_out)
    if driver_memory:
        spark_job = job.with_name("job-spark.toml")
        spark_job.write_text(job.read_text(encoding="utf-8")
                             + f'\n[spark]\ndriver_memory = "{driver_memory}"\n', encoding="utf-8")
        job = spark_job
    result = work / f"spark{sfx}.json"
    return attempt(f"spark{sfx}", [
        PYTHON, str(BENCH / "famlink_step.py"), "--result", str(result), "--spark", *settings, "--",
        "link", str(job), "--out", str(spark_out), *([] if with_models else ["--no-models"]),
        "--backend", "spark"], result, tree=True)
