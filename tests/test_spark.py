"""The job on Spark (``--backend spark``) against the DuckDB backend.

Each stage's tables are compared with DuckDB's from the same inputs: ingest (the sample,
the quarantine fixture and values chosen to trip a translation), the clustering into
persons (with a reviewer's cannot-link and ids carried forward) and the models stage, all
identical row for row (ingest, the job file's ``[spark]`` table and Spark's failures:
``test_spark_ingest.py``; a one-source job with a declared identifier:
``test_spark_dedupe.py``). The committed sample is also run whole on both backends. The two
agree on everything but the u probabilities: Splink samples record pairs for u by hashing
record ids, and DuckDB's ``hash()`` and Spark's ``hash()`` are different functions, so the
two backends estimate u from different (equally random, each deterministic) samples. λ and
every m come out the same, blocking finds the same candidate pairs, and the persons differ
by at most a record or two near the threshold; the bounds below are asserted, not just
printed.

Tests marked ``spark`` need pyspark and Java. In CI (the ``CI`` environment variable set)
they fail when either is missing; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from spark_fixtures import JOB, TRUTH, require_spark

from famlink.cli import main
from famlink.linkage.evaluate import linkage_accuracy
from famlink.linkage.jobfile import load_job


def _link(out: Path, *extra: str, models: bool = False) -> str:
    args = ["link", str(JOB), "--out", str(out), *([] if models else ["--no-models"]), *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample job, whole (linkage and the models stage), on each backend."""
    require_spark()
    base = tmp_path_factory.mktemp("backends")
    outs = {"duckdb": base / "duckdb", "spark": base / "spark"}
    for backend, out in outs.items():
        _link(out, "--backend", backend, models=True)
    return outs


def _persons(out: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT person_id, source || ':' || record_id FROM person_records").fetchall()
    finally:
        con.close()
    persons: dict[str, set[str]] = {}
    for person, record in rows:
        persons.setdefault(person, set()).add(record)
    return persons


def _same_person_pairs(persons: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {pair for members in persons.values()
            for pair in itertools.combinations(sorted(members), 2)}


def _links(out: Path) -> dict[tuple[str, str, str, str], float]:
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT source_l, record_id_l, source_r, record_id_r, match_probability "
            "FROM record_links").fetchall()
    finally:
        con.close()
    return {(a, b, c, d): p for a, b, c, d, p in rows}


@pytest.mark.spark
def test_spark_and_duckdb_persons_agree(runs: dict[str, Path]) -> None:
    duck = _same_person_pairs(_persons(runs["duckdb"]))
    spark = _same_person_pairs(_persons(runs["spark"]))
    both = len(duck & spark)
    precision, recall = both / len(spark), both / len(duck)
    f1 = 2 * precision * recall / (precision + recall)
    # Observed on the sample: 0.9998 (two of ~5,800 same-person pairs differ).
    assert f1 >= 0.99, (f1, sorted(duck ^ spark)[:20])
    assert len(duck ^ spark) <= 0.005 * len(duck), sorted(duck ^ spark)[:20]


@pytest.mark.spark
def test_both_backends_meet_the_accuracy_bar_and_keep_twins_and_fathers_apart(
    runs: dict[str, Path],
) -> None:
    for backend, out in runs.items():
        con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
        try:
            accuracy = linkage_accuracy(con, TRUTH)
        finally:
            con.close()
        assert accuracy.pairwise_f1 >= 0.97, (backend, accuracy)
        assert accuracy.special_pairs_total.get("twins", 0) >= 5, backend
        assert accuracy.special_pairs_merged.get("twins", 0) == 0, (backend, accuracy)
        assert accuracy.special_pairs_merged.get("father_son_same_name", 0) == 0, (backend, accuracy)


@pytest.mark.spark
def test_only_the_u_probabilities_differ_between_backends(runs: dict[str, Path]) -> None:
    duck = json.loads((runs["duckdb"] / "model.json").read_text())
    spark = json.loads((runs["spark"] / "model.json").read_text())
    assert (duck["sql_dialect"], spark["sql_dialect"]) == ("duckdb", "spark")
    assert duck["probability_two_random_records_match"] == pytest.approx(
        spark["probability_two_random_records_match"], abs=1e-9)
    for cd, cs in zip(duck["comparisons"], spark["comparisons"], strict=True):
        for ld, ls in zip(cd["comparison_levels"], cs["comparison_levels"], strict=True):
            assert ld.get("label_for_charts") == ls.get("label_for_charts")
            assert ld.get("m_probability") == pytest.approx(ls.get("m_probability"), abs=1e-5), (
                cd["output_column_name"], ld.get("label_for_charts"))
            # u from a different sample of pairs: close, not equal
            if ld.get("u_probability") is not None:
                assert ld["u_probability"] == pytest.approx(ls["u_probability"], rel=0.25, abs=1e-4)
    # Blocking is the same SQL in both dialects: the same candidate pairs come back, in
    # the same format, with probabilities moved only by the different u.
    links_duck, links_spark = _links(runs["duckdb"]), _links(runs["spark"])
    assert len(links_duck.keys() ^ links_spark.keys()) <= 0.005 * len(links_duck)
    common = links_duck.keys() & links_spark.keys()
    assert max(abs(links_duck[k] - links_spark[k]) for k in common) < 0.2


@pytest.mark.spark
def test_the_spark_run_is_recorded_and_leaves_no_working_files(runs: dict[str, Path]) -> None:
    out = runs["spark"]
    assert sorted(p.name for p in out.iterdir()) == ["famlink.duckdb", "model.json"]
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        config = json.loads(con.execute("SELECT config FROM runs").fetchall()[-1][0])
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert config["linkage"]["backend"] == "spark"
    assert config["spark"]["master"] == "local[*]"
    assert {"record_links", "person_records", "persons"} <= tables
    assert not any(t.startswith("__") for t in tables)


@pytest.mark.spark
def test_a_duckdb_model_is_refused_on_spark_with_a_clear_error(
    runs: dict[str, Path], tmp_path: Path,
) -> None:
    result = CliRunner().invoke(main, [
        "link", str(JOB), "--out", str(tmp_path / "out"), "--no-models", "--backend", "spark",
        "--model", str(runs["duckdb"] / "model.json"),
    ])
    assert result.exit_code == 1
    assert "trained on the duckdb backend" in result.output
    assert isinstance(result.exception, SystemExit)  # click's handled exit, not a crash
    # and the other way round
    result = CliRunner().invoke(main, [
        "link", str(JOB), "--out", str(tmp_path / "out2"), "--no-models", "--backend", "duckdb",
        "--model", str(runs["spark"] / "model.json"),
    ])
    assert result.exit_code == 1
    assert "trained on the spark backend" in result.output


@pytest.mark.spark
def test_explain_rescores_a_spark_runs_pair_with_its_model(runs: dict[str, Path]) -> None:
    con = duckdb.connect(str(runs["spark"] / "famlink.duckdb"), read_only=True)
    try:
        sl, rl, sr, rr, probability = con.execute(
            """
            SELECT l.source_l, l.record_id_l, l.source_r, l.record_id_r, l.match_probability
            FROM record_links l
            JOIN source_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
            JOIN source_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
            WHERE l.match_probability BETWEEN 0.4 AND 0.95
              AND a.dob IS NOT NULL AND b.dob IS NOT NULL
            ORDER BY ALL LIMIT 1
            """).fetchall()[0]
    finally:
        con.close()
    result = CliRunner().invoke(main, ["explain", str(runs["spark"]), f"{sl}:{rl}", f"{sr}:{rr}"])
    assert result.exit_code == 0, result.output
    # DuckDB re-scores the pair with the Spark run's parameters to the same probability
    assert f"match probability {probability:.6f}" in result.output, (probability, result.output)


@pytest.mark.spark
def test_a_spark_model_is_reused_on_spark(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "reuse"
    _link(out, "--backend", "spark", "--model", str(runs["spark"] / "model.json"))
    assert (out / "model.json").read_bytes() == (runs["spark"] / "model.json").read_bytes()
    assert _links(out) == _links(runs["spark"])
    assert _persons(out) == _persons(runs["spark"])


def _link_timings(out: Path) -> dict[str, float]:
    """The linkage steps' timings the latest run recorded in ``runs.counts``."""
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        counts = con.execute("SELECT counts FROM runs ORDER BY started_at").fetchall()[-1][0]
    finally:
        con.close()
    return json.loads(counts)["link_timings_s"]


def _two_single_record_persons(out: Path) -> tuple[str, str]:
    """Two persons of one record each, both born within five years of each other but not on
    the same day, with no NHS number and no recorded relationship: a pair no cannot-link
    rule splits again once a reviewer says they are one person."""
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        return con.execute(
            """
            WITH single AS (
                SELECT pr.source, pr.record_id, s.dob
                FROM persons p JOIN person_records pr USING (person_id)
                JOIN source_records s USING (source, record_id)
                WHERE p.n_records = 1 AND s.nhs_number IS NULL AND s.dob IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM relationships r WHERE r.source = s.source
                      AND s.record_id IN (r.record_id, r.related_record_id))
            )
            SELECT a.source || ':' || a.record_id, b.source || ':' || b.record_id
            FROM single a JOIN single b ON (a.source, a.record_id) < (b.source, b.record_id)
            WHERE a.dob <> b.dob AND abs(date_diff('year', a.dob, b.dob)) < 5
            ORDER BY 1, 2 LIMIT 1
            """).fetchall()[0]
    finally:
        con.close()


@pytest.mark.spark
def test_clustering_runs_on_spark_and_honours_a_must_link(
    runs: dict[str, Path], tmp_path: Path,
) -> None:
    # Only the Spark run clustered on Spark (its recorded steps say so).
    assert "cluster_on_spark" in _link_timings(runs["spark"])
    assert "cluster_on_spark" not in _link_timings(runs["duckdb"])
    # A reviewer's "same person" joins two persons the model kept apart: on Spark that
    # must-link has to be an edge of Spark's connected components, as it is on DuckDB.
    out = tmp_path / "decided"
    shutil.copytree(runs["spark"], out)
    a, b = _two_single_record_persons(out)
    result = CliRunner().invoke(main, ["review", str(out), "decide", a, b, "--same",
                                       "--reason", "test: one person", "--by", "Tester"])
    assert result.exit_code == 0, result.output
    _link(out, "--backend", "spark", "--model", str(runs["spark"] / "model.json"))
    persons = _persons(out)
    assert any({a, b} <= members for members in persons.values()), (a, b)
    assert "cluster_on_spark" in _link_timings(out)
    # every other person is as before; no working files are left behind
    before = {frozenset(m) for m in _persons(runs["spark"]).values() if not {a, b} & m}
    assert before <= {frozenset(m) for m in persons.values()}
    assert sorted(p.name for p in out.iterdir()) == ["famlink.duckdb", "model.json"]


# --- the [spark] table of the job file (no Spark needed) ---------------------------------


def _models_tables(con: duckdb.DuckDBPyConnection, schema: str = "main") -> dict[str, tuple]:
    from famlink.models.build import MODELS_TABLES

    return {
        t: (
            con.execute(f'DESCRIBE {schema}."{t}"').fetchall(),
            con.execute(f'SELECT * FROM {schema}."{t}" ORDER BY ALL').fetchall(),
        )
        for t in MODELS_TABLES
        if t != "models_run"
    }


@pytest.mark.spark
def test_the_models_stage_on_spark_writes_the_same_tables_as_on_duckdb(
    runs: dict[str, Path], tmp_path: Path,
) -> None:
    """Over the same linkage output, Spark SQL builds every models table row for row and
    type for type as DuckDB does: the SQL is the same (sqlglot transpiles it)."""
    from famlink.models.spark_engine import build_models_on_spark

    job = load_job(JOB)
    copy = tmp_path / "famlink.duckdb"
    shutil.copyfile(runs["duckdb"] / "famlink.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        report = build_models_on_spark(
            con, settings=job.spark, work_dir=tmp_path / "work", reference_date=job.reference_date,
            co_residence_window_months=job.family.co_residence_window_months,
            non_mobile_age_months=job.family.non_mobile_age_months,
        )
        assert con.execute("SELECT count(*) FROM models_run").fetchone()[0] == 1
        con.execute(f"ATTACH '{runs['duckdb'] / 'famlink.duckdb'}' AS duck (READ_ONLY)")
        on_spark, on_duckdb = _models_tables(con), _models_tables(con, "duck")
    finally:
        con.close()
    assert sum(report.flags.values()) > 100
    assert not (tmp_path / "work").exists()  # personal data: removed
    for table, (columns, rows) in on_duckdb.items():
        assert on_spark[table][0] == columns, table
        assert on_spark[table][1] == rows, table


def _record_sets(out: Path) -> dict[str, frozenset[tuple[str, str]]]:
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT person_id, source, record_id FROM person_records").fetchall()
    finally:
        con.close()
    sets: dict[str, set[tuple[str, str]]] = {}
    for person, source, record in rows:
        sets.setdefault(person, set()).add((source, record))
    return {p: frozenset(r) for p, r in sets.items()}


@pytest.mark.spark
def test_a_spark_run_raises_the_same_flags_as_a_duckdb_run_but_where_persons_differ(
    runs: dict[str, Path],
) -> None:
    flags, families = {}, {}
    for backend, out in runs.items():
        con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
        try:
            flags[backend] = {r[0]: r[1] for r in con.execute("SELECT flag_key, family_id FROM flags").fetchall()}
            families[backend] = dict(con.execute("SELECT family_id, list(person_id) FROM families GROUP BY ALL").fetchall())
        finally:
            con.close()
    duck, spark = _record_sets(runs["duckdb"]), _record_sets(runs["spark"])
    # persons (by id) whose records differ between the backends, from either side
    differ = {p for p in duck.keys() | spark.keys() if duck.get(p) != spark.get(p)}
    changed = flags["duckdb"].keys() ^ flags["spark"].keys()
    assert len(changed) <= 0.02 * len(flags["duckdb"]), sorted(changed)
    for key in changed:  # each is explained by a person the two linkages see differently
        backend = "duckdb" if key in flags["duckdb"] else "spark"
        members = set(families[backend][flags[backend][key]])
        assert members & differ, (key, backend)


def _person_tables(con: duckdb.DuckDBPyConnection, schema: str = "main") -> dict[str, tuple]:
    return {
        t: (con.execute(f'DESCRIBE {schema}."{t}"').fetchall(),
            con.execute(f'SELECT * FROM {schema}."{t}"').fetchall())  # in the table's own order
        for t in ("person_records", "persons", "person_changes")
    }


@pytest.mark.spark
def test_clustering_on_spark_writes_the_same_persons_as_on_duckdb(
    runs: dict[str, Path], tmp_path: Path,
) -> None:
    """From the same links, decisions and previous run, the clustering on Spark (components,
    cannot-links, rebuilt clusters, ids carried forward, persons) writes ``person_records``,
    ``persons`` and ``person_changes`` identical to DuckDB's: the same SQL runs on both."""
    from splink.backends.spark import SparkAPI

    from famlink.linkage import review, stable_ids
    from famlink.linkage.persons import cluster_persons
    from famlink.linkage.spark.session import spark_session
    from famlink.linkage.spark.training import cluster_on_spark

    job = load_job(JOB)
    # A re-run with a reviewer's "different people" inside a person of several records, so
    # a cluster is rebuilt, ids are carried forward and person_changes says what changed.
    databases = {}
    for engine in ("duckdb", "spark"):
        databases[engine] = tmp_path / f"{engine}.duckdb"
        shutil.copyfile(runs["duckdb"] / "famlink.duckdb", databases[engine])
        con = duckdb.connect(str(databases[engine]))
        try:
            review.ensure_table(con)
            (a, b), = con.execute(
                """SELECT [min(source || ':' || record_id), max(source || ':' || record_id)]
                   FROM person_records GROUP BY person_id HAVING count(*) >= 4
                   ORDER BY person_id LIMIT 1""").fetchall()[0]
            review.decide(con, review.parse_record_ref(a), review.parse_record_ref(b), same=False,
                          reason="test: two people", decided_by="Tester")
            assert stable_ids.snapshot_previous(con)
            if engine == "duckdb":
                result = cluster_persons(con, match_threshold=job.linkage.match_threshold)
            else:
                with spark_session(job.spark, work_dir=tmp_path / "work",
                                   checkpoint_dir=str(tmp_path / "checkpoints")) as spark:
                    result = cluster_on_spark(con, spark, SparkAPI(spark_session=spark),
                                              match_threshold=job.linkage.match_threshold,
                                              folder=tmp_path / "work" / "clustering")
            databases[engine] = (result, _person_tables(con))
        finally:
            con.close()
    (split_duck, changes_duck), on_duckdb = databases["duckdb"]
    (split_spark, changes_spark), on_spark = databases["spark"]
    assert split_duck.total >= 1 and changes_duck.split + changes_duck.changed >= 1
    assert (split_spark, changes_spark) == (split_duck, changes_duck)
    for table, (columns, rows) in on_duckdb.items():
        assert on_spark[table][0] == columns, table
        assert len(rows) > 0 and on_spark[table][1] == rows, table


# --- ingest and standardisation on Spark ------------------------------------------------
