"""The benchmark's markdown: the tables of every size's summary, the targets met or not, and
the steps that failed (with the phase they were in).
"""

from __future__ import annotations

from typing import Any

from _steps import GB, MB


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
