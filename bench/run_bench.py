"""famlink vs bare Splink benchmark: wall time per stage, peak memory, F1, at several sizes.

For each size (the committed ``sample_data/`` first, as the F1 baseline, then each
``--sizes`` value in people records, generated at 20 records per family) it runs, each as
its own child process so that ``os.wait4`` gives that step's own peak RSS (``ru_maxrss``):

``generate``  ``famlink sample-data --families N/20 --seed S --out WORK/N/data``
``famlink``   ``famlink link JOB --out WORK/N/famlink --no-models`` (via ``bench/famlink_step.py``,
              famlink's own CLI entry point plus per-stage timing/RSS marks)
``models``    ``models.build_models`` on a copy of that database (``bench/models_step.py``)
``bare``      bare Splink, same input/settings/training/thresholds (``bench/bare_splink.py run``)
``views``     ``famlink view WORK/N/models --flagged`` (index + one view per flagged child; timed,
              counted, then deleted); with ``famlink`` and ``models``, the end-to-end figure
``evaluate``  ``famlink evaluate DIR --truth DATA/_truth --format json`` (+ bare Splink's clusters
              scored with the same code: ``bench/bare_splink.py score``)
``spark``     optional (``--spark``, or name it in ``--stages``): ``famlink link JOB --out WORK/N/spark
              --backend spark`` (with ``--no-models`` unless ``models`` is a stage) via
              ``bench/famlink_step.py --spark`` (Spark's phases: ingest, export, spark_start, train,
              predict, cluster_components, cluster, models), in each repeat after famlink and bare
              Splink, against DuckDB's famlink + models; with ``evaluate`` its persons are scored too. Its
              memory is the process tree's: the python process plus the JVM pyspark starts, which
              ``wait4`` of the python process does not see (see ``bench/_common.py``)

and writes ``WORK/results.json`` and ``WORK/results.md`` (the markdown tables, also printed).

Example::

    /work/venv/bin/python bench/run_bench.py --sizes 100000 1000000
    /work/venv/bin/python bench/run_bench.py --sizes 100000 --repeat 3 --work /tmp/bench
    /work/venv/bin/python bench/run_bench.py --sizes 100000 1000000 --no-models --spark
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EXPERIMENTS, descendants, rss_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOT = [ROOT]  # where linkage/, models/ and sample_data/ are read from (see --freeze)
BENCH = ROOT / "bench"
PYTHON = sys.executable
FAMLINK = str(Path(sys.executable).with_name("famlink"))
STAGES = ("generate", "famlink", "models", "views", "bare", "evaluate", "spark")
# Spark is opt-in: a JVM beside DuckDB on a 2-core machine, and minutes of start-up per size.
DEFAULT_STAGES = tuple(s for s in STAGES if s != "spark")
# famlink's linkage timings on Spark (linkage/spark/backend.py; the whole clustering is on Spark)
SPARK_PHASES = ("export", "spark_start", "train", "predict", "cluster_on_spark")
RECORDS_PER_FAMILY = 20
SAMPLE_SEED = 20261126
MB = 1_000_000
GB = 1_000_000_000

# Extra environment for every child (``--freeze`` points PYTHONPATH at the frozen copy).
CHILD_ENV: dict[str, str] = {}
FROZEN = ("linkage", "models", "visualise", "sample_data")


class StepFailed(RuntimeError):
    def __init__(self, message: str, step: dict[str, Any]) -> None:
        super().__init__(message)
        self.step = step


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run_step(name: str, argv: list[str], logdir: Path, max_rss: int | None = None,
             tree: bool = False) -> dict[str, Any]:
    """Run one child process; its wall time, CPU time and own peak RSS (``os.wait4``).

    With ``max_rss`` (bytes) the child is killed when its RSS goes above it (the machine is
    shared); the phase it was in comes from the progress file the child's PhaseMeter writes.
    With ``tree`` the RSS is that of the child and all its descendants (a Spark run's JVM),
    sampled here as ``peak_tree_rss_bytes``, and the cap applies to that sum.
    """
    logdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logdir / f"{name}.stdout", logdir / f"{name}.stderr"
    progress = logdir / f"{name}.progress.json"
    progress.unlink(missing_ok=True)
    load_before = os.getloadavg()
    log(f"{name}: {' '.join(argv)}")
    killed = None
    sampled_peak = 0
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        env = {**os.environ, **CHILD_ENV, "BENCH_PROGRESS_FILE": str(progress)}
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)  # noqa: S603 - our own argv
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            kids = descendants(proc.pid) if tree else {}
            rss = rss_of(proc.pid) + sum(rss_of(pid) for pid in kids)
            sampled_peak = max(sampled_peak, rss)
            if max_rss and rss > max_rss and killed is None:
                killed = {"rss_bytes": rss, "after_s": round(time.perf_counter() - t0, 1)}
                log(f"{name}: RSS {rss / MB:,.0f} MB > cap {max_rss / MB:,.0f} MB: killing it")
                proc.kill()
                _kill(kids)
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    step = {
        "step": name,
        "argv": argv,
        "returncode": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # KiB on Linux
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "stdout": str(out_path),
        "stderr": str(err_path),
    }
    if tree:
        step["peak_tree_rss_bytes"] = sampled_peak
    if killed:
        step["killed_over_rss_cap"] = {**killed, "cap_bytes": max_rss}
    if progress.exists():
        step["progress"] = read_json(progress)
    tree_note = f" (with descendants {sampled_peak / MB:,.0f} MB)" if tree else ""
    log(f"{name}: rc={proc.returncode} {wall:.1f}s wall, {step['cpu_s']:.1f}s cpu, "
        f"peak RSS {step['peak_rss_bytes'] / MB:,.0f} MB{tree_note}, load {step['loadavg_after'][0]}")
    if proc.returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        where = step.get("progress", {}).get("current_phase")
        raise StepFailed(f"step {name} failed (rc {proc.returncode}) in phase {where}:\n{tail}", step)
    return step


def _kill(pids: dict[int, str]) -> None:
    # The JVM would exit by itself once it sees the killed python's end of its stdin close;
    # killed with it, its memory is free before the next step starts.
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def models_available() -> bool:
    try:
        from famlink import models
    except ImportError:
        return False
    return hasattr(models, "build_models")


def machine_facts() -> dict[str, Any]:
    mem_total = None
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    cpu_model = None
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603,S607
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_bytes": mem_total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("famlink", "splink", "duckdb", "pyarrow", "pandas")},
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty_files": [line for line in git("status", "--short").splitlines() if line],
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


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


def summarise(res: dict[str, Any]) -> dict[str, Any]:
    """Medians over repeats of the figures the tables show."""
    s: dict[str, Any] = {}
    fam = [r["famlink"] for r in res["reps"] if "famlink" in r]
    bare = [r["bare"] for r in res["reps"] if "bare" in r]
    if fam:
        d = fam[-1]["detail"]
        s["records"], s["persons"] = d.get("records"), d.get("persons")
        s["pairs_scored"], s["links_kept"] = d.get("pairs_scored"), d.get("links_kept")
        s["clusters_split"] = d.get("clusters_split")
        s["famlink_wall"] = median([f["wall_s"] for f in fam])
        s["famlink_peak_rss"] = max(f["peak_rss_bytes"] for f in fam)
        s["famlink_cpu"] = median([f["cpu_s"] for f in fam])
        for k in ("ingest", "link"):
            s[f"famlink_{k}"] = median([f["detail"]["timings"][k] for f in fam])
        for k in ("train", "predict", "cluster"):
            s[f"famlink_{k}"] = median([f["detail"]["link_timings"][k] for f in fam])
        phases: dict[str, int] = {}
        for f in fam:
            for p in f["detail"]["phases"]:
                phases[p["phase"]] = max(phases.get(p["phase"], 0), p["peak_rss_bytes"])
        s["famlink_phase_peaks"] = phases
        s["famlink_linkage_cpu"] = median([_phase_cpu(f, ("train", "predict", "cluster")) for f in fam])
        s["famlink_wall_runs"] = [f["wall_s"] for f in fam]
    if bare:
        d = bare[-1]["detail"]
        s["bare_persons"], s["bare_pairs_scored"] = d.get("persons"), d.get("pairs_scored")
        s["bare_wall"] = median([b["wall_s"] for b in bare])
        s["bare_peak_rss"] = max(b["peak_rss_bytes"] for b in bare)
        s["bare_cpu"] = median([b["cpu_s"] for b in bare])
        for k in ("load", "register", "train", "predict", "cluster"):
            s[f"bare_{k}"] = median([b["detail"]["timings"][k] for b in bare])
        s["bare_linkage"] = median([b["detail"]["linkage_seconds"] for b in bare])
        phases = {}
        for b in bare:
            for p in b["detail"]["phases"]:
                phases[p["phase"]] = max(phases.get(p["phase"], 0), p["peak_rss_bytes"])
        s["bare_phase_peaks"] = phases
        s["bare_linkage_cpu"] = median([_phase_cpu(b, ("load", "register", "train", "predict", "cluster")) for b in bare])
        s["bare_wall_runs"] = [b["wall_s"] for b in bare]
    if fam and bare:
        pairs = list(zip(fam, bare, strict=False))
        s["ratio_whole"] = median([f["wall_s"] / b["wall_s"] for f, b in pairs])
        s["ratio_linkage"] = median([f["detail"]["timings"]["link"] / b["detail"]["linkage_seconds"] for f, b in pairs])
        s["ratio_whole_cpu"] = median([f["cpu_s"] / b["cpu_s"] for f, b in pairs])
        s["ratio_linkage_cpu"] = median([
            _phase_cpu(f, ("train", "predict", "cluster")) / _phase_cpu(b, ("load", "register", "train", "predict", "cluster"))
            for f, b in pairs])
        for k in ("train", "predict", "cluster"):
            s[f"ratio_{k}"] = median([
                f["detail"]["link_timings"][k] / max(b["detail"]["timings"][k], 1e-9) for f, b in pairs])
    failed = res.get("failed", {}).get("famlink")
    if fam:
        s["famlink_status"] = "finished"
    elif failed:
        # What the progress file says about the phases that finished before it failed.
        prog = failed.get("progress", {})
        done = {p["phase"]: p for p in prog.get("done", [])}
        killed = "killed over the RSS cap" if failed.get("killed_over_rss_cap") else f"exit {failed['returncode']}"
        s["famlink_status"] = f"FAILED in {prog.get('current_phase', '?')} after {failed['wall_s']:.0f}s ({killed})"
        s["famlink_peak_rss"] = failed["peak_rss_bytes"]
        s["famlink_cpu"] = failed["cpu_s"]
        for k in ("ingest", "train", "predict"):
            if k in done:
                s[f"famlink_{k}"] = done[k]["seconds"]
        s["famlink_phase_peaks"] = {k: v["peak_rss_bytes"] for k, v in done.items()}
        if prog.get("current_phase") and failed.get("peak_rss_bytes"):
            s["famlink_phase_peaks"].setdefault(prog["current_phase"], failed["peak_rss_bytes"])
    gen = res["steps"].get("generate", {})
    if "wall_s" in gen:
        s["generate_wall"], s["generate_peak_rss"] = gen["wall_s"], gen["peak_rss_bytes"]
    mod = res["steps"].get("models", {})
    if "wall_s" in mod:
        s["models_seconds"] = mod["detail"]["models_seconds"]
        s["models_wall"] = mod["wall_s"]
        s["models_peak_rss"] = mod["peak_rss_bytes"]
        s["models_timings"] = mod["detail"]["report"].get("timings", {})
        sub = [p for p in mod["detail"]["phases"] if p["phase"].startswith("models:")]
        if sub:
            top = max(sub, key=lambda p: p["peak_rss_bytes"])
            s["models_peak_phase"] = f"{top['phase'][7:]} {top['peak_rss_bytes'] / MB:,.0f} MB"
            slow = max(sub, key=lambda p: p["seconds"])
            s["models_slowest_phase"] = f"{slow['phase'][7:]} {slow['seconds']:.1f}s"
        if fam:
            linkage = s["famlink_ingest"] + s["famlink_link"]
            s["models_share_of_linkage"] = s["models_seconds"] / linkage
    views = res["steps"].get("views", {})
    if "wall_s" in views:
        s["views_wall"], s["views_peak_rss"] = views["wall_s"], views["peak_rss_bytes"]
        s["views_files"], s["views_bytes"] = views["detail"]["files"], views["detail"]["bytes"]
        s["views_mb"] = f"{views['detail']['bytes'] / MB:,.0f}"
        if fam and "models_wall" in s:
            # the headline: linkage, the models stage and the flagged children's views
            s["end_to_end_wall"] = s["famlink_wall"] + s["models_wall"] + s["views_wall"]
            if bare:
                s["ratio_end_to_end"] = s["end_to_end_wall"] / s["bare_wall"]
    ev = res["steps"].get("evaluate", {})
    if "wall_s" in ev:
        lk = ev["detail"]["linkage"]
        s["evaluate_wall"], s["evaluate_peak_rss"] = ev["wall_s"], ev["peak_rss_bytes"]
        for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_precision", "bcubed_recall",
                  "blocking_recall", "true_persons", "found_persons", "persons_split", "persons_merged"):
            s[k] = lk.get(k)
        s["special_pairs_merged"] = lk.get("special_pairs_merged")
        s["special_pairs_total"] = lk.get("special_pairs_total")
        if "flags" in ev["detail"]:
            s["flags"] = ev["detail"]["flags"]
    evb = res["steps"].get("evaluate_bare", {})
    if "wall_s" in evb:
        lk = evb["detail"]["linkage"]
        for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1"):
            s[f"bare_{k}"] = lk.get(k)
        s["bare_special_pairs_merged"] = lk.get("special_pairs_merged")
    _summarise_spark(res, s)  # last: it compares with famlink's F1
    return s


def _summarise_spark(res: dict[str, Any], s: dict[str, Any]) -> None:
    """The ``spark`` stage's figures (keys ``spark_*``); none if the stage did not run."""
    spark = [r["spark"] for r in res["reps"] if "spark" in r]
    if spark:
        d = spark[-1]["detail"]
        s["spark_status"] = "finished"
        s["spark_persons"], s["spark_pairs_scored"] = d.get("persons"), d.get("pairs_scored")
        s["spark_wall"] = median([x["wall_s"] for x in spark])
        s["spark_cpu"] = median([x["cpu_s"] for x in spark])  # the JVM's too: it is reaped
        for k in ("ingest", "link", "models"):
            s[f"spark_{k}"] = median([x["detail"]["timings"].get(k, float("nan")) for x in spark])
        for k in SPARK_PHASES:
            s[f"spark_{k}"] = median([x["detail"]["link_timings"].get(k, float("nan")) for x in spark])
        s["spark_jvm_exit"] = median([x["detail"].get("jvm", {}).get("seconds", float("nan")) for x in spark])
        _spark_memory(s, spark)
        # paired with the same repeat's famlink and bare Splink runs (same data, same load)
        pairs = [(r["spark"], r.get("famlink"), r.get("bare")) for r in res["reps"] if "spark" in r]
        with_fam = [(x, f) for x, f, _ in pairs if f]
        with_bare = [(x, b) for x, _, b in pairs if b]
        if with_fam:
            s["ratio_spark_famlink_whole"] = median([x["wall_s"] / f["wall_s"] for x, f in with_fam])
            s["ratio_spark_famlink_linkage"] = median([
                x["detail"]["timings"]["link"] / f["detail"]["timings"]["link"] for x, f in with_fam])
        models = res["steps"].get("models", {})
        if with_fam and "wall_s" in models and "models" in spark[-1]["detail"]["timings"]:
            # the whole job, linkage + models, against DuckDB's two processes (same data)
            s["ratio_spark_duckdb_job"] = median([
                x["wall_s"] / (f["wall_s"] + models["wall_s"]) for x, f in with_fam])
            s["spark_models_ratio"] = s["spark_models"] / models["detail"]["models_seconds"]
        if with_bare:
            s["ratio_spark_bare_whole"] = median([x["wall_s"] / b["wall_s"] for x, b in with_bare])
            s["ratio_spark_bare_linkage"] = median([
                x["detail"]["timings"]["link"] / b["detail"]["linkage_seconds"] for x, b in with_bare])
    else:
        _spark_failure(res, s)
    ev = res["steps"].get("evaluate_spark", {})
    if "wall_s" in ev:
        lk = ev["detail"]["linkage"]
        for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_precision", "bcubed_recall"):
            s[f"spark_{k}"] = lk.get(k)
        s["spark_special_pairs_merged"] = lk.get("special_pairs_merged")
        s["spark_evaluate_peak_rss"] = ev["peak_rss_bytes"]
        if lk.get("pairwise_f1") is not None and s.get("pairwise_f1") is not None:
            s["spark_f1_delta"] = lk["pairwise_f1"] - s["pairwise_f1"]


def _spark_memory(s: dict[str, Any], spark: list[dict[str, Any]]) -> None:
    """Peak RSS of the Spark run: the whole process tree summed (sampled every 50 ms by the
    child, every 0.2 s by run_step), and each part alone: famlink's python (ru_maxrss), the
    JVM (sampled as command "java", and its ru_maxrss from the child's RUSAGE_CHILDREN once
    the child has waited for it) and Spark's python workers (children of the JVM, sampled)."""
    desc = [x["detail"].get("descendants", {}) for x in spark]
    by_command = [d.get("peak_rss_bytes_by_command", {}) for d in desc]
    s["spark_peak_tree_rss"] = max(max(d.get("peak_tree_rss_bytes", 0) for d in desc),
                                   max(x.get("peak_tree_rss_bytes", 0) for x in spark))
    s["spark_peak_python_rss"] = max(x["detail"]["ru_maxrss_bytes"] for x in spark)
    s["spark_peak_jvm_rss"] = max(d.get("reaped_children_ru_maxrss_bytes", 0) for d in desc) or None
    if any(by_command):  # (absent from results.json written before it was measured)
        s["spark_peak_jvm_rss_sampled"] = max(c.get("java", 0) for c in by_command)
        s["spark_peak_workers_rss"] = max(sum(v for k, v in c.items() if k.startswith("python")) for c in by_command)
    s["spark_step_ru_maxrss"] = max(x["peak_rss_bytes"] for x in spark)  # max(python, JVM), not a sum
    s["spark_descendant_commands"] = sorted({c for d in desc for c in d.get("commands", [])})
    tree: dict[str, int] = {}
    jvm: dict[str, int] = {}
    for x in spark:
        for p in x["detail"]["phases"]:
            tree[p["phase"]] = max(tree.get(p["phase"], 0), p.get("peak_tree_rss_bytes", 0))
            if "peak_descendants_by_command" in p:
                jvm[p["phase"]] = max(jvm.get(p["phase"], 0), p["peak_descendants_by_command"].get("java", 0))
    s["spark_phase_peaks"], s["spark_jvm_phase_peaks"] = tree, jvm


def _spark_failure(res: dict[str, Any], s: dict[str, Any]) -> None:
    """What a failed or killed Spark run's progress file says, as for famlink's."""
    failed = next((v for k, v in res.get("failed", {}).items() if k == "spark" or k.startswith("spark-")), None)
    if not failed:
        return
    prog = failed.get("progress", {})
    done = {p["phase"]: p for p in prog.get("done", [])}
    killed = "killed over the RSS cap" if failed.get("killed_over_rss_cap") else f"exit {failed['returncode']}"
    s["spark_status"] = f"FAILED in {prog.get('current_phase', '?')} after {failed['wall_s']:.0f}s ({killed})"
    s["spark_peak_tree_rss"] = failed.get("peak_tree_rss_bytes")
    s["spark_step_ru_maxrss"] = failed["peak_rss_bytes"]
    # the JVM of a failed run was never reaped: wait4's ru_maxrss is famlink's python alone
    s["spark_peak_python_rss"] = failed["peak_rss_bytes"]
    s["spark_cpu"] = failed["cpu_s"]
    for k in ("ingest", *SPARK_PHASES):
        if k in done:  # phase wall time, close to linkage's own timing of it
            s[f"spark_{k}"] = done[k]["seconds"]
    s["spark_phase_peaks"] = {k: v.get("peak_tree_rss_bytes", 0) for k, v in done.items()}
    s["spark_jvm_phase_peaks"] = {k: v["peak_descendants_by_command"].get("java", 0)
                                  for k, v in done.items() if "peak_descendants_by_command" in v}
    if prog.get("current_phase") and failed.get("peak_tree_rss_bytes"):
        s["spark_phase_peaks"].setdefault(prog["current_phase"], failed["peak_tree_rss_bytes"])


def _phase_cpu(step: dict[str, Any], phases: tuple[str, ...]) -> float:
    return sum(p.get("cpu_seconds", 0.0) for p in step["detail"]["phases"] if p["phase"] in phases)


def targets(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    sample = next((r for r in results if r["target_records"] is None), None)
    largest = max((r for r in results if r["target_records"]), key=lambda r: r["target_records"], default=None)
    for r in results:
        s = r["summary"]
        if "ratio_linkage" in s:
            lines.append(
                f"- {r['label']}: famlink/bare Splink ratio {s['ratio_linkage']:.2f} linkage-only, "
                f"{s['ratio_whole']:.2f} whole stage by wall time; {s['ratio_linkage_cpu']:.2f} / "
                f"{s['ratio_whole_cpu']:.2f} by CPU time (target ≤ 1.3 by wall: "
                f"{'met' if s['ratio_linkage'] <= 1.3 else 'NOT met'} / {'met' if s['ratio_whole'] <= 1.3 else 'NOT met'})")
    if largest and sample and "pairwise_f1" in largest["summary"] and "pairwise_f1" in sample["summary"]:
        f_big, f_small = largest["summary"]["pairwise_f1"], sample["summary"]["pairwise_f1"]
        lines.append(f"- F1 at {largest['label']} {f_big:.4f} vs sample {f_small:.4f} (Δ {f_big - f_small:+.4f}; "
                     f"target ≥ −0.01: {'met' if f_big >= f_small - 0.01 else 'NOT met'})")
    if largest and "famlink_peak_rss" in largest["summary"]:
        peak = largest["summary"]["famlink_peak_rss"]
        status = largest["summary"].get("famlink_status", "finished")
        if status == "finished":
            lines.append(f"- peak RSS of famlink link at {largest['label']}: {peak / GB:.2f} GB "
                         f"(target ≤ 4 GB: {'met' if peak <= 4 * GB else 'NOT met'})")
        else:
            lines.append(f"- famlink link at {largest['label']} {status}: peak RSS {peak / GB:.2f} GB "
                         "until then; no F1, no ratio (targets NOT met)")
    for r in results:
        s = r["summary"]
        if "models_share_of_linkage" in s:
            ok_t = s["models_share_of_linkage"] <= 0.25
            ok_m = s["models_peak_rss"] <= s.get("famlink_peak_rss", 0)
            lines.append(f"- {r['label']}: models {s['models_seconds']:.1f}s = {100 * s['models_share_of_linkage']:.0f}% "
                         f"of linkage (target ≤ 25%: {'met' if ok_t else 'NOT met'}); peak "
                         f"{s['models_peak_rss'] / MB:,.0f} MB vs linkage {s.get('famlink_peak_rss', 0) / MB:,.0f} MB "
                         f"({'within' if ok_m else 'ABOVE'})")
    return lines


def failure_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        for name, step in r.get("failed", {}).items():
            prog = step.get("progress", {})
            # a Spark run's peaks are python + JVM (peak_tree_rss_bytes)
            done = ", ".join(f"{p['phase']} {p['seconds']:.1f}s/{p.get('peak_tree_rss_bytes', p['peak_rss_bytes']) / MB:,.0f} MB"
                             for p in prog.get("done", []) if p["seconds"] >= 0.05)
            killed = step.get("killed_over_rss_cap")
            tree = " (with its JVM)" if "peak_tree_rss_bytes" in step else ""
            why = (f"killed when its RSS{tree} reached {killed['rss_bytes'] / MB:,.0f} MB (cap "
                   f"{killed['cap_bytes'] / MB:,.0f} MB)" if killed else f"exit code {step['returncode']}")
            lines.append(f"- {r['label']} `{name}`: {why} after {step['wall_s']:.0f}s, in phase "
                         f"**{prog.get('current_phase', '?')}**; phases finished before it (wall s / peak RSS): {done or '–'}")
    return lines


def _fmt(v: Any, kind: str = "s") -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if kind == "s":
        return f"{v:,.1f}"
    if kind == "mb":
        return f"{v / MB:,.0f}"
    if kind == "x":
        return f"{v:.2f}"
    if kind == "pct":
        return f"{100 * v:.0f}%"
    if kind == "f":
        return f"{v:.4f}"
    if kind == "d":
        return f"{v:+.4f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def markdown(results: list[dict[str, Any]]) -> str:
    heads = [r["label"] for r in results]

    def table(title: str, rows: list[tuple[str, str, str]]) -> list[str]:
        out = [f"**{title}**", "", "| | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
        for name, key, kind in rows:
            vals = []
            for r in results:
                s = r["summary"]
                if key.startswith("phase:"):
                    _, who, phase = key.split(":")
                    v = s.get(f"{who}_phase_peaks", {}).get(phase)
                elif key.startswith("sparkphase:"):
                    tree, jvm = (s.get(k, {}).get(key[11:]) for k in ("spark_phase_peaks", "spark_jvm_phase_peaks"))
                    v = (None if not tree else f"{tree / MB:,.0f}" if jvm is None
                         else f"{tree / MB:,.0f} (JVM {jvm / MB:,.0f})")
                elif key.startswith("special:"):
                    _, who, kind2 = key.split(":")
                    merged = s.get("special_pairs_merged" if who == "famlink" else "bare_special_pairs_merged") or {}
                    total = s.get("special_pairs_total") or {}
                    v = f"{merged.get(kind2, 0)} of {total.get(kind2, 0)}" if total else None
                else:
                    v = s.get(key)
                vals.append(_fmt(v, kind))
            out.append(f"| {name} | " + " | ".join(vals) + " |")
        return [*out, ""]

    lines: list[str] = []
    lines += table("Size", [
        ("people records linked", "records", "n"),
        ("true persons", "true_persons", "n"),
        ("persons found by famlink", "persons", "n"),
        ("bare Splink clusters", "bare_persons", "n"),
        ("famlink pairs scored (≥ link_floor)", "pairs_scored", "n"),
        ("bare Splink pairs scored (≥ link_floor)", "bare_pairs_scored", "n"),
    ])
    lines += table("Wall time, seconds (median of repeats)", [
        ("famlink link --no-models", "famlink_status", "n"),
        ("generate: `famlink sample-data`", "generate_wall", "s"),
        ("famlink: ingest (read + standardise)", "famlink_ingest", "s"),
        ("famlink: train (register inputs + u/λ/EM)", "famlink_train", "s"),
        ("famlink: predict (+ write record_links)", "famlink_predict", "s"),
        ("famlink: cluster (+ cannot-link splits, persons)", "famlink_cluster", "s"),
        ("**famlink linkage** (train+predict+cluster)", "famlink_link", "s"),
        ("**famlink link process** (whole, incl. ingest, start-up)", "famlink_wall", "s"),
        ("bare: load standardised input", "bare_load", "s"),
        ("bare: register + Linker", "bare_register", "s"),
        ("bare: train", "bare_train", "s"),
        ("bare: predict", "bare_predict", "s"),
        ("bare: cluster", "bare_cluster", "s"),
        ("**bare Splink linkage** (load … cluster)", "bare_linkage", "s"),
        ("**bare Splink process** (whole, incl. start-up)", "bare_wall", "s"),
        ("**ratio famlink / bare, linkage-only**", "ratio_linkage", "x"),
        ("**ratio famlink / bare, whole stage**", "ratio_whole", "x"),
        ("CPU s (all threads): famlink linkage", "famlink_linkage_cpu", "s"),
        ("CPU s: bare Splink linkage", "bare_linkage_cpu", "s"),
        ("CPU s: famlink link process", "famlink_cpu", "s"),
        ("CPU s: bare Splink process", "bare_cpu", "s"),
        ("ratio famlink / bare by CPU s, linkage-only", "ratio_linkage_cpu", "x"),
        ("ratio famlink / bare by CPU s, whole stage", "ratio_whole_cpu", "x"),
        ("ratio train", "ratio_train", "x"),
        ("ratio predict", "ratio_predict", "x"),
        ("ratio cluster", "ratio_cluster", "x"),
        ("models: `build_models`", "models_seconds", "s"),
        ("models as share of famlink ingest+linkage", "models_share_of_linkage", "pct"),
        ("models: slowest step", "models_slowest_phase", "n"),
        ("views: `famlink view --flagged` (index + one view per flagged child)", "views_wall", "s"),
        ("views written (files)", "views_files", "n"),
        ("views written (MB)", "views_mb", "n"),
        ("**end to end: link + models + views**", "end_to_end_wall", "s"),
        ("**ratio end to end / bare Splink process**", "ratio_end_to_end", "x"),
        ("evaluate: `famlink evaluate`", "evaluate_wall", "s"),
    ])
    lines += table("Peak RSS, MB (ru_maxrss of each step's process; phases sampled every 50 ms)", [
        ("generate", "generate_peak_rss", "mb"),
        ("**famlink link --no-models**", "famlink_peak_rss", "mb"),
        ("… during ingest", "phase:famlink:ingest", "mb"),
        ("… during train", "phase:famlink:train", "mb"),
        ("… during predict", "phase:famlink:predict", "mb"),
        ("… during cluster", "phase:famlink:cluster", "mb"),
        ("models (build_models)", "models_peak_rss", "mb"),
        ("… its step with the highest RSS", "models_peak_phase", "n"),
        ("**bare Splink**", "bare_peak_rss", "mb"),
        ("… during load", "phase:bare:load", "mb"),
        ("… during train", "phase:bare:train", "mb"),
        ("… during predict", "phase:bare:predict", "mb"),
        ("… during cluster", "phase:bare:cluster", "mb"),
        ("views", "views_peak_rss", "mb"),
        ("evaluate", "evaluate_peak_rss", "mb"),
    ])
    lines += table("Accuracy against the generator's truth", [
        ("famlink pairwise precision", "pairwise_precision", "f"),
        ("famlink pairwise recall", "pairwise_recall", "f"),
        ("**famlink pairwise F1**", "pairwise_f1", "f"),
        ("famlink B-cubed precision", "bcubed_precision", "f"),
        ("famlink B-cubed recall", "bcubed_recall", "f"),
        ("blocking recall", "blocking_recall", "f"),
        ("famlink twins merged", "special:famlink:twins", "n"),
        ("famlink same-named father/son merged", "special:famlink:father_son_same_name", "n"),
        ("bare Splink pairwise precision", "bare_pairwise_precision", "f"),
        ("bare Splink pairwise recall", "bare_pairwise_recall", "f"),
        ("bare Splink pairwise F1", "bare_pairwise_f1", "f"),
        ("bare Splink twins merged", "special:bare:twins", "n"),
    ])
    if any("spark_status" in r["summary"] for r in results):
        lines += spark_tables(table)
        lines += [*spark_lines(results), ""]
    lines += ["**Targets**", "", *targets(results), ""]
    failures = failure_lines(results)
    if failures:
        lines += ["**Steps that failed or were killed**", "", *failures, ""]
    return "\n".join(lines)


def spark_tables(table: Any) -> list[str]:
    """The ``spark`` stage's rows (only when a result has them: older results.json render as before)."""
    lines = table("Spark backend: `famlink link --backend spark` (the job's [spark]; none: local[*]), seconds (median of repeats)", [
        ("famlink link --backend spark", "spark_status", "n"),
        ("ingest: read (DuckDB) + standardise (Spark)", "spark_ingest", "s"),
        ("export: source_records → Parquet", "spark_export", "s"),
        ("spark_start: Spark session (JVM start)", "spark_spark_start", "s"),
        ("train on Spark (register inputs + u/λ/EM)", "spark_train", "s"),
        ("predict on Spark (+ write record_links)", "spark_predict", "s"),
        ("cluster on Spark (components, cannot-links, ids, persons, + load)", "spark_cluster_on_spark", "s"),
        ("**Spark linkage** (export … cluster)", "spark_link", "s"),
        ("models stage on Spark (+ Parquet round trip)", "spark_models", "s"),
        ("**famlink link process, Spark** (whole, incl. ingest, start-up)", "spark_wall", "s"),
        ("… of which waiting for the JVM to exit", "spark_jvm_exit", "s"),
        ("CPU s: whole process, python + JVM", "spark_cpu", "s"),
        ("**ratio Spark / DuckDB famlink, linkage-only**", "ratio_spark_famlink_linkage", "x"),
        ("ratio Spark / DuckDB, models stage", "spark_models_ratio", "x"),
        ("**ratio Spark / DuckDB, whole job** (famlink link + models processes)", "ratio_spark_duckdb_job", "x"),
        ("ratio Spark / DuckDB famlink link process (--no-models)", "ratio_spark_famlink_whole", "x"),
        ("ratio Spark / bare Splink, linkage-only", "ratio_spark_bare_linkage", "x"),
        ("ratio Spark / bare Splink, whole process", "ratio_spark_bare_whole", "x"),
    ])
    lines += table("Spark backend: peak RSS, MB (famlink's python process + the JVM it starts + Spark's python workers)", [
        ("**whole process tree** (summed, sampled every 50 ms)", "spark_peak_tree_rss", "mb"),
        ("famlink's python process alone (its ru_maxrss)", "spark_peak_python_rss", "mb"),
        ("JVM alone (its ru_maxrss, once reaped)", "spark_peak_jvm_rss", "mb"),
        ("JVM alone (sampled)", "spark_peak_jvm_rss_sampled", "mb"),
        ("Spark's python workers (children of the JVM, sampled)", "spark_peak_workers_rss", "mb"),
        ("… during ingest: whole tree (JVM alone)", "sparkphase:ingest", "n"),
        ("… during export", "sparkphase:export", "n"),
        ("… during spark_start", "sparkphase:spark_start", "n"),
        ("… during train", "sparkphase:train", "n"),
        ("… during predict", "sparkphase:predict", "n"),
        ("… during cluster_components", "sparkphase:cluster_components", "n"),
        ("… during cluster (Spark)", "sparkphase:cluster", "n"),
        ("… during models (Spark)", "sparkphase:models", "n"),
        ("DuckDB famlink link, for comparison", "famlink_peak_rss", "mb"),
    ])
    lines += table("Spark backend: accuracy against the generator's truth", [
        ("persons found", "spark_persons", "n"),
        ("pairs scored (≥ link_floor)", "spark_pairs_scored", "n"),
        ("pairwise precision", "spark_pairwise_precision", "f"),
        ("pairwise recall", "spark_pairwise_recall", "f"),
        ("**pairwise F1**", "spark_pairwise_f1", "f"),
        ("B-cubed precision", "spark_bcubed_precision", "f"),
        ("B-cubed recall", "spark_bcubed_recall", "f"),
        ("pairwise F1 − DuckDB famlink's", "spark_f1_delta", "d"),
    ])
    return lines


def spark_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        s = r["summary"]
        if s.get("spark_status") != "finished":
            if "spark_status" in s:
                lines.append(f"- {r['label']}: famlink on Spark {s['spark_status']}")
            continue
        line = f"- {r['label']}: famlink on Spark {s['spark_wall']:.1f}s whole"
        if "ratio_spark_famlink_whole" in s:
            line += (f" vs DuckDB {s['famlink_wall']:.1f}s (×{s['ratio_spark_famlink_whole']:.2f} whole, "
                     f"×{s['ratio_spark_famlink_linkage']:.2f} linkage-only)")
        jvm = s.get("spark_peak_jvm_rss") or s.get("spark_peak_jvm_rss_sampled", 0)
        line += (f"; peak RSS of the process tree {s['spark_peak_tree_rss'] / MB:,.0f} MB (famlink's python "
                 f"{s['spark_peak_python_rss'] / MB:,.0f}, JVM {jvm / MB:,.0f}, Spark's python workers "
                 f"{s.get('spark_peak_workers_rss', 0) / MB:,.0f})")
        if "famlink_peak_rss" in s:
            line += f" vs DuckDB {s['famlink_peak_rss'] / MB:,.0f} MB"
        if "spark_pairwise_f1" in s and "pairwise_f1" in s:
            line += f"; pairwise F1 {s['spark_pairwise_f1']:.4f} vs {s['pairwise_f1']:.4f}"
        lines.append(line)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="people records in total, generated at 20 per family (default: 100000 1000000)")
    parser.add_argument("--work", type=Path, default=BENCH / "out", help="working folder (default: bench/out, git-ignored)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(DEFAULT_STAGES),
                        help="steps to run (default: all but spark); 'famlink' is needed by models/bare/evaluate")
    parser.add_argument("--spark", action="store_true",
                        help="also run the spark stage: famlink link --backend spark, timed and "
                        "scored like famlink, memory of python + JVM")
    parser.add_argument("--no-sample", action="store_true", help="skip the committed sample_data/ baseline")
    parser.add_argument("--no-models", action="store_true", help="skip the models stage")
    parser.add_argument("--reuse-data", action="store_true", help="keep already generated data of the same size")
    parser.add_argument("--repeat", type=int, default=1, help="run famlink and bare Splink alternately this many times")
    parser.add_argument("--max-rss", type=_bytes, default=_bytes("12GB"),
                        help="kill a step whose RSS goes above this (the machine is shared; "
                        "default 12GB, 0 = no cap); the step is reported as killed, with its phase")
    parser.add_argument("--duckdb-set", action="append", default=[], metavar="NAME=VALUE",
                        help="DuckDB setting for famlink's, the models step's and bare Splink's "
                        "connections alike (e.g. memory_limit=3GB, threads=2); repeatable")
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default=None,
                        help="bench-only model change applied to famlink and bare Splink alike "
                        "(see bench/_common.py EXPERIMENTS); linkage/ is not edited")
    parser.add_argument("--freeze", action="store_true",
                        help="copy linkage/, models/, visualise/, sample_data/ to WORK/src first and run "
                        "every step on that copy (PYTHONPATH), so edits made during a long run do not "
                        "mix versions; the git diff at copy time is saved beside it")
    parser.add_argument("--spark-driver-memory", default=None, metavar="SIZE",
                        help="[spark] driver_memory for the spark stage's job, e.g. 8g (default: Spark's)")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="generator seed (default: the sample's)")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only print the tables of an earlier run's results.json")
    args = parser.parse_args()
    if args.spark and "spark" not in args.stages:
        args.stages.append("spark")
    if args.render:
        earlier = read_json(args.render)
        for r in earlier["results"]:
            r["summary"] = summarise(r)
        print(markdown(earlier["results"]))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    frozen = freeze(args.work) if args.freeze else None
    with_models = not args.no_models and models_available()
    if not args.no_models and not with_models:
        log("models.build_models not available: the models stage is skipped (famlink runs with --no-models)")

    run: dict[str, Any] = {
        "command": " ".join([Path(PYTHON).as_posix(), *sys.argv]),
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "with_models": with_models,
        "frozen_source": frozen,
        "experiment": args.experiment,
        "duckdb_set": args.duckdb_set,
        "results": [],
    }
    plan: list[tuple[str, int | None]] = [] if args.no_sample else [("sample", None)]
    plan += [(_label(n), n) for n in args.sizes]
    results_path = args.work / "results.json"
    try:
        for label, size in plan:
            run["results"].append(bench_size(label, size, args, with_models))
            results_path.write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    finally:
        run["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        run["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        results_path.write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    md = markdown(run["results"])
    (args.work / "results.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    log(f"wrote {results_path} and {args.work / 'results.md'}")
    return 0


def freeze(work: Path) -> dict[str, Any]:
    """Copy the code under test to WORK/src and make every child import it from there."""
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in FROZEN:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    diff = subprocess.run(["git", "diff", "HEAD", "--", *FROZEN], cwd=ROOT, capture_output=True,  # noqa: S603,S607
                          text=True, check=False).stdout
    (src / "git-diff-at-freeze.patch").write_text(diff, encoding="utf-8")
    CHILD_ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src.resolve()), os.environ.get("PYTHONPATH")]))
    SOURCE_ROOT[0] = src.resolve()
    log(f"froze {', '.join(FROZEN)} into {src} ({len(diff.splitlines())} lines of uncommitted diff)")
    return {"path": str(src), "git_commit": machine_facts()["git_commit"], "diff_lines": len(diff.splitlines()),
            "frozen_at_utc": datetime.now(UTC).isoformat(timespec="seconds")}


def _bytes(text: str) -> int:
    units = {"GB": GB, "MB": MB, "": 1}
    for unit, factor in units.items():
        if text.upper().endswith(unit):
            return int(float(text[: len(text) - len(unit)] or 0) * factor)
    raise argparse.ArgumentTypeError(f"not a size: {text}")


def _label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


if __name__ == "__main__":
    sys.exit(main())
