"""The three systems, each from the exported files to one cluster per record, timed.

``famlink``  ``famlink link DIR/<set>/job.toml --out OUT --no-models`` as its own process
             (famlink's click entry point); clusters = ``person_records.person_id``. Its time
             is the whole process: start-up, reading and standardising the CSVs, training,
             prediction, clustering.
``splink``   bare Splink 5 with the textbook model of Splink's own FEBRL examples
             (``docs/demos/examples/duckdb/febrl3`` and ``febrl4``: their comparisons,
             blocking rules, training calls and thresholds), on the exported CSVs read as
             text; clusters at match probability 0.9 (famlink's default ``match_threshold``,
             for a like-for-like row) and 0.99 (the FEBRL4 example's threshold; the FEBRL3
             example stops at predictions). The time includes one clustering.
``ecm``      ``recordlinkage``'s ECM classifier as its documentation's FEBRL example uses it
             (index, compare, ``ECMClassifier().fit_predict``): candidate pairs from blocks on
             the same keys as the Splink model's blocking rules (recordlinkage takes the union
             of several ``block`` indexers), binary features (Jaro-Winkler ≥ 0.85 on names,
             Levenshtein ≥ 0.85 on the street, exact on the rest); clusters = the connected
             components of its links.

Splink's and ECM's time is in this process, from reading the CSVs to the clusters.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .sets import FebrlSet

#: bare Splink's clusters: at famlink's default match_threshold (the like-for-like row), and
#: at the FEBRL4 example's 0.99
SPLINK_CLUSTER_THRESHOLDS = (0.9, 0.99)
SPLINK_PREDICT_THRESHOLD = 0.2
SPLINK_SEED = 42


def read_sources(folder: Path, febrl: FebrlSet) -> dict[str, pd.DataFrame]:
    """The exported CSVs, every value as text, empty as missing."""
    return {source: pd.read_csv(folder / file, dtype=str, keep_default_na=False).replace("", None)
            for source, file in febrl.files.items()}


# --- famlink ------------------------------------------------------------------------------------


def run_famlink(folder: Path, febrl: FebrlSet, work: Path, job: Path | None = None) -> dict[str, Any]:
    """``famlink link`` on the set's job file (or ``job``), as the command runs it."""
    import duckdb

    label = f"{febrl.name}-famlink" + (f"-{job.stem}" if job else "")
    out = work / label
    # a fresh folder: famlink carries person ids (and reviewers' decisions) forward from a
    # previous run in the same folder
    shutil.rmtree(out, ignore_errors=True)
    job = job or folder / "job.toml"
    command = [sys.executable, "-c", "from famlink.cli import main; main()",
               "link", str(job), "--out", str(out), "--no-models"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - t0
    (work / f"{label}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()][-3:]
        return {"failed": True, "seconds": round(seconds, 1), "error": " ".join(line.strip() for line in last),
                "command": " ".join(command[3:])}
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        clusters = con.execute(
            "SELECT source, record_id, person_id AS cluster FROM person_records").df()
    finally:
        con.close()
    return {"clusters": clusters, "seconds": round(seconds, 1), "command": " ".join(command[3:])}


# --- bare Splink ---------------------------------------------------------------------------------


def _splink_model(febrl: FebrlSet) -> tuple[Any, list[Any], list[Any], float, list[Any]]:
    """Splink's FEBRL example: settings, deterministic rules, their recall, EM blocks."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if febrl.name == "febrl4":
        blocking = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                     invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ]
        deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
        recall = 0.8
    else:
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                    block_on("date_of_birth"), block_on("postcode")]
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        deterministic = [
            block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ]
        recall = 0.9
    settings = SettingsCreator(unique_id_column_name="rec_id", link_type=febrl.link_type,
                               blocking_rules_to_generate_predictions=blocking, comparisons=comparisons)
    em_blocks = [block_on("date_of_birth"), block_on("postcode")]
    return settings, blocking, deterministic, recall, em_blocks


def run_splink(folder: Path, febrl: FebrlSet) -> dict[str, Any]:
    import duckdb
    from splink import DuckDBAPI, Linker

    t0 = time.perf_counter()
    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    frames = []
    for source, file in febrl.files.items():
        con.execute(f'CREATE TABLE "{source}" AS SELECT * FROM read_csv(?, all_varchar = true)',  # noqa: S608
                    [str(folder / file)])
        frames.append(db_api.register(source, dataset_display_name=source))
    settings, _, deterministic, recall, em_blocks = _splink_model(febrl)
    linker = Linker(frames if len(frames) > 1 else frames[0], settings, logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SPLINK_SEED)
    for rule in em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=febrl.name == "febrl4")
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_THRESHOLD)
    source_sql = "source_dataset" if len(frames) > 1 else f"'{febrl.name}'"
    by_threshold, seconds = {}, 0.0
    for threshold in SPLINK_CLUSTER_THRESHOLDS:
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold)
        by_threshold[threshold] = con.execute(
            f"SELECT {source_sql} AS source, rec_id AS record_id, cluster_id AS cluster "  # noqa: S608
            f"FROM {clustered.physical_name}").df()
        seconds = seconds or time.perf_counter() - t0
    con.close()
    return {"clusters_by_threshold": by_threshold, "seconds": round(seconds, 1)}


# --- recordlinkage ECM ---------------------------------------------------------------------------


#: the blocks ECM's candidate pairs come from: the Splink example's equality rules per set
ECM_BLOCKS = {
    "febrl4": [["given_name", "surname"], ["date_of_birth"], ["soc_sec_id"], ["state", "address_1"],
               ["street_number", "address_1"], ["postcode"]],
    "febrl3": [["soc_sec_id"], ["given_name"], ["surname"], ["date_of_birth"], ["postcode"]],
}


def run_ecm(folder: Path, febrl: FebrlSet) -> dict[str, Any]:
    import networkx as nx
    import recordlinkage

    t0 = time.perf_counter()
    frames = {s: f.set_index("rec_id") for s, f in read_sources(folder, febrl).items()}
    indexer = recordlinkage.Index()
    for keys in ECM_BLOCKS[febrl.name]:
        indexer.block(keys if len(keys) > 1 else keys[0])
    data = list(frames.values())
    candidates = indexer.index(*data)
    compare = recordlinkage.Compare(n_jobs=min(2, os.cpu_count() or 1))
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    compare.exact("street_number", "street_number", label="street_number")
    compare.string("address_1", "address_1", method="levenshtein", threshold=0.85, label="address_1")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("state", "state", label="state")
    features = compare.compute(candidates, *data)
    links = recordlinkage.ECMClassifier().fit_predict(features)

    sources = list(frames)
    left, right = sources[0], sources[-1]
    graph = nx.Graph()
    for source, frame in frames.items():
        graph.add_nodes_from((source, r) for r in frame.index)
    graph.add_edges_from(((left, a), (right, b)) for a, b in links)
    rows = []
    for number, component in enumerate(sorted(nx.connected_components(graph), key=min)):
        rows.extend((source, rec, str(number)) for source, rec in component)
    clusters = pd.DataFrame(rows, columns=["source", "record_id", "cluster"])
    seconds = time.perf_counter() - t0
    return {"clusters": clusters, "seconds": round(seconds, 1), "candidate_pairs": len(candidates),
            "links": len(links)}
