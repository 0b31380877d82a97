"""One size's figures for the tables: medians over repeats of each step's wall time, CPU time
and peak RSS, per phase, for famlink, bare Splink, the models stage, the views and Spark,
and the ratios and scores between them.
"""

from __future__ import annotations

import statistics
from typing import Any

from _steps import MB

# famlink's linkage timings on Spark (linkage/spark/backend.py; the whole clustering is on Spark)
SPARK_PHASES = ("export", "spark_start", "train", "predict", "cluster_on_spark")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


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
