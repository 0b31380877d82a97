"""Link ``source_records`` into persons with Splink 5: the linkage stage after ingest.

Writes ``record_links``, ``person_records`` and ``persons`` (see docs/tables.md): training
and prediction on the job's backend (:mod:`famlink.linkage.backend`), then the clustering
into persons (:mod:`famlink.linkage.persons`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from famlink.linkage import review, stable_ids
from famlink.linkage.backend import Backend, DuckDBBackend
from famlink.linkage.cannot_link import CannotLinkSettings
from famlink.linkage.model_spec import ModelSummary
from famlink.linkage.persons import cluster_persons


@dataclass
class LinkResult:
    model_path: Path
    model_trained: bool
    records: int
    pairs_scored: int
    links_kept: int
    persons: int
    clusters_split: int
    #: clusters rebuilt around a pair of each cannot-link rule (or ``reviewer``) — a cluster
    #: holding pairs of several rules counts under each
    clusters_split_by_rule: dict[str, int] = field(default_factory=dict)
    person_changes: stable_ids.PersonChanges | None = None
    decisions_in_force: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: the model's comparisons, the fields left out and the blocking rules
    model_summary: ModelSummary | None = None


def link_records(
    con: duckdb.DuckDBPyConnection,
    *,
    out_dir: Path,
    seed: int,
    match_threshold: float,
    link_floor: float,
    model: Path | None = None,
    backend: Backend | None = None,
    cannot_link: CannotLinkSettings | None = None,
) -> LinkResult:
    """Train (or load) the model, predict, cluster, and write the linkage tables.

    Training and prediction run on ``backend`` (default :class:`DuckDBBackend`: Splink on
    ``con`` itself; or :class:`famlink.linkage.spark.backend.SparkBackend`: Splink on a
    Spark session); either way they leave ``record_links`` in ``con``. The connected
    components are computed by the backend too (on Spark, before its session stops) or
    else here on DuckDB; cannot-links, the
    rebuild of conflicting clusters and person ids then run here in DuckDB, one code path
    for both. Person ids are carried forward from the previous run in the same database,
    and the reviewers' decisions in ``link_decisions`` are applied as must- and cannot-links,
    with the built-in cannot-link rules ``cannot_link`` switches on (default: all).
    """
    rules = (cannot_link or CannotLinkSettings()).rules
    stable_ids.snapshot_previous(con)
    review.ensure_table(con)
    engine = backend or DuckDBBackend()
    prediction = engine.predict(
        con, out_dir=out_dir, seed=seed, match_threshold=match_threshold, link_floor=link_floor, model=model,
        cannot_link=rules)
    timings = dict(prediction.timings)
    pairs_scored = con.execute("SELECT count(*) FROM record_links").fetchall()[0][0]

    if prediction.clustered is not None:  # the backend clustered (Spark, before its session ended)
        clusters_split, changes = prediction.clustered
    else:
        t0 = time.perf_counter()
        clusters_split, changes = cluster_persons(con, match_threshold=match_threshold, rules=rules)
        timings["cluster"] = time.perf_counter() - t0

    records = con.execute("SELECT count(*) FROM person_records").fetchall()[0][0]
    persons = con.execute("SELECT count(*) FROM persons").fetchall()[0][0]
    links_kept = con.execute(
        "SELECT count(*) FROM record_links WHERE match_probability >= ?", [match_threshold]
    ).fetchall()[0][0]
    decisions_in_force = dict(con.execute(
        f"SELECT decision, count(*) FROM ({review.LATEST_DECISIONS_SQL}) GROUP BY 1"  # noqa: S608
    ).fetchall())
    return LinkResult(
        model_path=prediction.model_path,
        model_trained=model is None,
        records=records,
        pairs_scored=pairs_scored,
        links_kept=links_kept,
        persons=persons,
        clusters_split=clusters_split.total,
        clusters_split_by_rule=clusters_split.by_rule,
        person_changes=changes,
        decisions_in_force=decisions_in_force,
        timings=timings,
        model_summary=prediction.model_summary,
    )
