"""`famlink link` end to end on the committed sample, checked against its ground truth.

The tests read the session's one run of the sample (`sample_run`, conftest.py); only the
determinism test trains a second model, to compare it with the first.
"""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SAMPLE_JOB, SampleRun

from famlink.cli import main
from famlink.linkage.evaluate import linkage_accuracy
from famlink.linkage.manifest import sha256_file
from famlink.models.build import MODELS_TABLES
from famlink.pipeline import LINKAGE_TABLES

TRUTH = SAMPLE / "_truth"

# Every data table; the run logs (`runs`, `models_run`) record times and are excluded.
DATA_TABLES = [*LINKAGE_TABLES, *(t for t in MODELS_TABLES if t != "models_run")]


def _link(out: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["link", str(SAMPLE_JOB), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def first_db(sample_run: SampleRun) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(sample_run.database), read_only=True)
    yield con
    con.close()


def _table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    # a table that names its run differs in that column alone
    columns = {r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()}
    select = "* EXCLUDE (run_id)" if "run_id" in columns else "*"
    return con.execute(f'SELECT {select} FROM "{name}" ORDER BY ALL').fetchall()


def test_the_run_prints_its_reconciliation(sample_run: SampleRun) -> None:
    output = sample_run.output
    assert "reconciled:" in output
    assert "csc people" in output and "quarantined" in output


def test_accuracy_against_the_sample_truth(first_db: duckdb.DuckDBPyConnection) -> None:
    accuracy = linkage_accuracy(first_db, TRUTH)
    assert accuracy.pairwise_f1 >= 0.97, accuracy
    assert accuracy.blocking_recall >= 0.97, accuracy


def test_no_twins_or_same_named_fathers_and_sons_are_merged(
    first_db: duckdb.DuckDBPyConnection,
) -> None:
    accuracy = linkage_accuracy(first_db, TRUTH)
    assert accuracy.special_pairs_total.get("twins", 0) >= 5
    assert accuracy.special_pairs_total.get("father_son_same_name", 0) >= 5
    assert accuracy.special_pairs_merged.get("twins", 0) == 0
    assert accuracy.special_pairs_merged.get("father_son_same_name", 0) == 0


FLAG_TARGETS = (
    "unrecorded_male_carer",
    "unrecorded_non_birthing_partner",
    "sibling_safeguarding_history",
    "non_mobile_injury",
)


def test_flag_accuracy_against_the_sample_truth(first_db: duckdb.DuckDBPyConnection) -> None:
    from famlink.models import evaluate_flags

    scores = evaluate_flags(first_db, TRUTH)
    for flag_type in FLAG_TARGETS:
        assert scores[flag_type]["detectable"] >= 5, flag_type
        assert scores[flag_type]["recall"] >= 0.95, (flag_type, scores[flag_type])
        assert scores[flag_type]["precision"] >= 0.90, (flag_type, scores[flag_type])


def test_every_flag_names_its_evidence(first_db: duckdb.DuckDBPyConnection) -> None:
    bare = first_db.execute(
        """
        SELECT f.flag_key FROM flags f
        ANTI JOIN flag_evidence e ON e.flag_key = f.flag_key AND e.record_id IS NOT NULL
                                 AND e.agency IS NOT NULL
        """
    ).fetchall()
    assert bare == []
    assert first_db.execute("SELECT count(*) FROM flags").fetchall()[0][0] > 0


def test_nothing_is_lost(first_db: duckdb.DuckDBPyConnection) -> None:
    rows = first_db.execute(
        "SELECT source, file_kind, rows_read, rows_used, rows_quarantined FROM reconciliation"
    ).fetchall()
    assert rows
    for source, kind, read, used, quarantined in rows:
        assert read == used + quarantined, (source, kind)
    # Every used people row is in exactly one person.
    counts = first_db.execute(
        """
        SELECT (SELECT count(*) FROM source_records),
               (SELECT count(*) FROM person_records),
               (SELECT count(DISTINCT (source, record_id)) FROM person_records),
               (SELECT count(*) FROM source_records s ANTI JOIN person_records p USING (source, record_id))
        """
    ).fetchall()[0]
    assert counts[0] == counts[1] == counts[2] and counts[3] == 0


def test_every_injected_bad_row_is_quarantined_with_its_reason(
    first_db: duckdb.DuckDBPyConnection,
) -> None:
    with open(TRUTH / "injected_errors.csv", encoding="utf-8") as handle:
        injected = [row for row in csv.DictReader(handle) if row["kind"] == "quarantine"]
    assert injected
    quarantined = set(
        first_db.execute("SELECT source, file_kind, line_number, reason FROM quarantine").fetchall()
    )
    for row in injected:
        reason = row.get("expected") or row.get("reason") or row.get("expected_reason")
        assert (row["source"], row["file_kind"], int(row["line_number"]), reason) in quarantined, row


def test_the_run_is_logged_with_input_hashes(first_db: duckdb.DuckDBPyConnection) -> None:
    run = first_db.execute(
        "SELECT status, job_sha256, inputs, seed, model_trained, splink_version FROM runs"
    ).fetchall()
    assert len(run) == 1
    status, job_sha, inputs, seed, trained, splink_version = run[0]
    assert status == "succeeded" and trained is True and splink_version.startswith("5.")
    assert job_sha == sha256_file(SAMPLE_JOB)
    assert seed == 20261126
    for item in json.loads(inputs):
        assert item["sha256"] == sha256_file(item["path"])


def test_the_sample_dates_fit_their_formats(sample_run: SampleRun,
                                            first_db: duckdb.DuckDBPyConnection) -> None:
    # the warnings table is written for every run: empty when nothing warned
    assert first_db.execute("SELECT count(*) FROM warnings").fetchone() == (0,)
    assert json.loads(first_db.execute("SELECT counts FROM runs").fetchone()[0])["warnings"] == []
    assert "warning:" not in sample_run.output


def test_outputs_are_private_to_the_user(sample_run: SampleRun) -> None:
    out = sample_run.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in ("famlink.duckdb", "model.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) & 0o077 == 0, name


def test_same_inputs_and_seed_give_identical_tables(
    sample_run: SampleRun, first_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    _link(out)
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        for table in DATA_TABLES:
            assert _table(con, table) == _table(first_db, table), table
    finally:
        con.close()
    assert (out / "model.json").read_bytes() == sample_run.model.read_bytes()


def test_a_saved_model_is_reused_without_training(
    sample_run: SampleRun, first_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "reuse"
    output = _link(out, "--model", str(sample_run.model), "--no-models")  # linkage is what differs
    assert "scoring with the saved model" in output
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT model_trained FROM runs").fetchall() == [(False,)]
        assert _table(con, "person_records") == _table(first_db, "person_records")
    finally:
        con.close()


def test_export_writes_a_table(sample_run: SampleRun, tmp_path: Path) -> None:
    target = tmp_path / "persons.csv"
    result = CliRunner().invoke(
        main, ["export", str(sample_run.out), "persons", "--format", "csv", "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    with open(target, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {"person_id", "display_name", "dob"} <= set(rows[0])


def test_export_of_an_unknown_table_lists_the_tables(sample_run: SampleRun) -> None:
    result = CliRunner().invoke(main, ["export", str(sample_run.out), "nonsense"])
    assert result.exit_code == 1
    assert "no table 'nonsense'" in result.output and "persons" in result.output


def test_flagged_views_read_family_by_family_in_batches_equal_views_read_one_at_a_time(
    first_db: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`famlink view --flagged` reads each batch of families' rows once (at 1M records,
    reading each view's rows from the whole tables took half a second a view); a view
    must be exactly what reading that child's family alone gives.

    Every third view is read again alone (79 of the sample's 237, some 20 from each of
    the four batches): reading all of them again doubled the test's time, and a view's
    rows depend on its own family's shape, which the sample repeats many times over."""
    import famlink.visualise.write
    from famlink.visualise import family_view_data, render_family_view, write_views
    from famlink.visualise.write import family_batch

    monkeypatch.setattr(famlink.visualise.write, "FAMILIES_PER_BATCH", 40)  # several batches
    # a read-only database file and several batches: worker processes write them
    written = write_views(first_db, tmp_path / "views", flagged=True)
    assert len(written) > 100
    for path in written[1::3]:
        child = path.stem.removeprefix("child-")
        alone = render_family_view(family_view_data(first_db, child))
        assert path.read_text(encoding="utf-8") == alone, child
    # a batch's tables are gone after it: the connection reads the database's own again
    temp_tables = "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY ALL"
    before = first_db.execute(temp_tables).fetchall()
    with family_batch(first_db, [p.stem.removeprefix("child-") for p in written[1:41]]):
        assert first_db.execute(temp_tables).fetchall() != before
    assert first_db.execute(temp_tables).fetchall() == before
