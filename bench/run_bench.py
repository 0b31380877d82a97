"""famlink vs bare Splink benchmark: wall time per stage, peak memory, F1, at several sizes.

For each size (the committed ``sample_data/`` first, as the F1 baseline, then each
``--sizes`` value in people records, generated at 20 records per family) it runs, each as
its own child process so that ``os.wait4`` gives that step's own peak RSS (``ru_maxrss``):

``generate``  ``famlink sample-data --families N/20 --seed S --out WORK/N/data``
``famlink``   ``famlink link JOB --out WORK/N/famlink --no-models`` (via ``bench/famlink_step.py``,
              famlink's own CLI entry point plus per-stage timing/RSS marks)
``models``    ``models.build_models`` on a copy of that database (``bench/models_step.py``)
``bare``      bare Splink, same input/settings/training/thresholds (``bench/bare_splink.py run``)
``evaluate``  ``famlink evaluate DIR --truth DATA/_truth --format json`` (+ bare Splink's clusters
              scored with the same code: ``bench/bare_splink.py score``)

and writes ``WORK/results.json`` and ``WORK/results.md`` (the markdown tables, also printed).

Example::

    /work/venv/bin/python bench/run_bench.py --sizes 100000 1000000
    /work/venv/bin/python bench/run_bench.py --sizes 100000 --repeat 3 --work /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EXPERIMENTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOT = [ROOT]  # where linkage/, models/ and sample_data/ are read from (see --freeze)
BENCH = ROOT / "bench"
PYTHON = sys.executable
FAMLINK = str(Path(sys.executable).with_name("famlink"))
STAGES = ("generate", "famlink", "models", "bare", "evaluate")
RECORDS_PER_FAMILY = 20
SAMPLE_SEED = 20261126
MB = 1_000_000
GB = 1_000_000_000


PAGE = os.sysconf("SC_PAGE_SIZE")
# Extra environment for every child (``--freeze`` points PYTHONPATH at the frozen copy).
CHILD_ENV: dict[str, str] = {}
FROZEN = ("linkage", "models", "visualise", "sample_data")


class StepFailed(RuntimeError):
    def __init__(self, message: str, step: dict[str, Any]) -> None:
        super().__init__(message)
        self.step = step


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run_step(name: str, argv: list[str], logdir: Path, max_rss: int | None = None) -> dict[str, Any]:
    """Run one child process; its wall time, CPU time and own peak RSS (``os.wait4``).

    With ``max_rss`` (bytes) the child is killed when its RSS goes above it (the machine is
    shared); the phase it was in comes from the progress file the child's PhaseMeter writes.
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
            rss = _rss_of(proc.pid)
            sampled_peak = max(sampled_peak, rss)
            if max_rss and rss > max_rss and killed is None:
                killed = {"rss_bytes": rss, "after_s": round(time.perf_counter() - t0, 1)}
                log(f"{name}: RSS {rss / MB:,.0f} MB > cap {max_rss / MB:,.0f} MB: killing it")
                proc.kill()
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
    if killed:
        step["killed_over_rss_cap"] = {**killed, "cap_bytes": max_rss}
    if progress.exists():
        step["progress"] = read_json(progress)
    log(f"{name}: rc={proc.returncode} {wall:.1f}s wall, {step['cpu_s']:.1f}s cpu, "
        f"peak RSS {step['peak_rss_bytes'] / MB:,.0f} MB, load {step['loadavg_after'][0]}")
    if proc.returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        where = step.get("progress", {}).get("current_phase")
        raise StepFailed(f"step {name} failed (rc {proc.returncode}) in phase {where}:\n{tail}", step)
    return step


def _rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def models_available() -> bool:
    try:
        import models
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

    def attempt(name: str, argv: list[str], result: Path | None = None) -> dict[str, Any] | None:
        try:
            step = run_step(name, argv, logs, args.max_rss)
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

    if "evaluate" in args.stages and truth.exists() and famlink_ok:
        # The models copy holds linkage's tables too, so evaluating it also scores the flags.
        eval_dir = work / "models" if "models" in res["steps"] and "wall_s" in res["steps"]["models"] else fam_out
        step = attempt("evaluate", [FAMLINK, "evaluate", str(eval_dir), "--truth", str(truth), "--format", "json"])
        if step:
            step["detail"] = json.loads(Path(step["stdout"]).read_text(encoding="utf-8"))
            res["steps"]["evaluate"] = step
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
    return s


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
            done = ", ".join(f"{p['phase']} {p['seconds']:.1f}s/{p['peak_rss_bytes'] / MB:,.0f} MB"
                             for p in prog.get("done", []) if p["seconds"] >= 0.05)
            killed = step.get("killed_over_rss_cap")
            why = (f"killed when its RSS reached {killed['rss_bytes'] / MB:,.0f} MB (cap "
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
    lines += ["**Targets**", "", *targets(results), ""]
    failures = failure_lines(results)
    if failures:
        lines += ["**Steps that failed or were killed**", "", *failures, ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="people records in total, generated at 20 per family (default: 100000 1000000)")
    parser.add_argument("--work", type=Path, default=BENCH / "out", help="working folder (default: bench/out, git-ignored)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                        help="steps to run (default: all); 'famlink' is needed by models/bare/evaluate")
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
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="generator seed (default: the sample's)")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only print the tables of an earlier run's results.json")
    args = parser.parse_args()
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
