"""Re-runs keep person ids; reviewers' link decisions are obeyed; `explain` shows why.

The first run is the session's run of the committed sample (`sample_run`, conftest.py);
each re-run goes into a copy of it and reuses its saved model (`--model`), as a data
officer's monthly run does, so no test here trains.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SampleRun

from famlink.cli import main


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _relink(job: Path, out: Path, model: Path) -> str:
    """Next month's `famlink link` into `out`, scoring with the first run's model."""
    return _run("link", str(job), "--out", str(out), "--model", str(model), "--no-models")


def _person_of(out: Path) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        return {(s, r): p for s, r, p in con.execute(
            "SELECT source, record_id, person_id FROM person_records").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("data") / "sample_data"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(scope="module")
def base(sample_run: SampleRun) -> tuple[Path, dict]:
    """The first run (read-only) and its person of every record."""
    return sample_run.out, _person_of(sample_run.out)


def test_a_rerun_on_the_same_data_keeps_every_person_id(
    sample_run: SampleRun, base, sample_copy, tmp_path
) -> None:
    _, before = base
    work = sample_run.copy(tmp_path / "out")
    _relink(sample_copy / "job.toml", work, sample_run.model)
    assert _person_of(work) == before
    con = duckdb.connect(str(work / "famlink.duckdb"), read_only=True)
    changes = dict(con.execute("SELECT change, count(*) FROM person_changes GROUP BY 1").fetchall())
    con.close()
    assert set(changes) == {"unchanged"}


def test_new_records_get_new_persons_and_existing_ids_stay(
    sample_run: SampleRun, base, tmp_path
) -> None:
    _, before = base
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    police = data / "police" / "police_nominals.csv"
    with open(police, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0])
    newcomer = dict(rows[0]) | {"NominalRef": "N9999999", "Forename": "Zebedee",
                                "Surname": "Quixote", "DOB": "01/01/1970", "NHSNo": ""}
    with open(police, "a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=columns, lineterminator="\n").writerow(newcomer)
    work = sample_run.copy(tmp_path / "out")
    _relink(data / "job.toml", work, sample_run.model)
    after = _person_of(work)
    assert ("police", "N9999999") in after
    assert after[("police", "N9999999")] not in set(before.values())
    assert {k: after[k] for k in before} == before
    con = duckdb.connect(str(work / "famlink.duckdb"), read_only=True)
    changes = dict(con.execute("SELECT change, count(*) FROM person_changes GROUP BY 1").fetchall())
    con.close()
    assert changes.get("new") == 1 and "gone" not in changes and "split" not in changes


@pytest.fixture(scope="module")
def decided(
    sample_run: SampleRun, base, sample_copy, tmp_path_factory
) -> tuple[Path, dict, dict, tuple, tuple]:
    """A re-run after one --different and one --same decision."""
    _, before = base
    work = sample_run.copy(tmp_path_factory.mktemp("decided") / "out")
    con = duckdb.connect(str(work / "famlink.duckdb"), read_only=True)
    # Two records the model put in one person (with no NHS number on either side) ...
    together = con.execute(
        """
        SELECT a.source || ':' || a.record_id, b.source || ':' || b.record_id
        FROM person_records a JOIN person_records b ON a.person_id = b.person_id
         AND (a.source, a.record_id) < (b.source, b.record_id)
        JOIN source_records sa ON sa.source = a.source AND sa.record_id = a.record_id
        JOIN source_records sb ON sb.source = b.source AND sb.record_id = b.record_id
        WHERE sa.nhs_number IS NULL AND sb.nhs_number IS NULL
        ORDER BY 1, 2 LIMIT 1
        """
    ).fetchall()[0]
    # ... and two single-record persons with no NHS conflict that the model kept apart.
    apart = con.execute(
        """
        SELECT a.source || ':' || a.record_id, b.source || ':' || b.record_id
        FROM persons pa JOIN persons pb ON pa.person_id < pb.person_id
        JOIN person_records a ON a.person_id = pa.person_id
        JOIN person_records b ON b.person_id = pb.person_id
        JOIN source_records sa ON sa.source = a.source AND sa.record_id = a.record_id
        JOIN source_records sb ON sb.source = b.source AND sb.record_id = b.record_id
        WHERE pa.n_records = 1 AND pb.n_records = 1 AND sa.nhs_number IS NULL
          AND sb.nhs_number IS NULL AND sa.dob IS NOT NULL AND sb.dob IS NOT NULL
          AND abs(date_diff('year', sa.dob, sb.dob)) < 5
        ORDER BY 1, 2 LIMIT 1
        """
    ).fetchall()[0]
    con.close()
    _run("review", str(work), "decide", *together, "--different", "--reason", "test: two people",
         "--by", "Tester")
    _run("review", str(work), "decide", *apart, "--same", "--reason", "test: one person",
         "--by", "Tester")
    _relink(sample_copy / "job.toml", work, sample_run.model)
    return work, before, _person_of(work), together, apart


def _ref(text: str) -> tuple[str, str]:
    source, _, record_id = text.partition(":")
    return source, record_id


def test_a_different_decision_splits_the_person_on_the_next_run(decided) -> None:
    _, before, after, together, _ = decided
    a, b = (_ref(t) for t in together)
    assert before[a] == before[b]
    assert after[a] != after[b]


def test_a_same_decision_joins_two_persons_on_the_next_run(decided) -> None:
    _, before, after, _, apart = decided
    a, b = (_ref(t) for t in apart)
    assert before[a] != before[b]
    assert after[a] == after[b]


def test_the_decision_log_is_append_only_and_the_latest_decision_wins(decided, tmp_path) -> None:
    work = tmp_path / "out"
    shutil.copytree(decided[0], work)
    together = decided[3]
    _run("review", str(work), "decide", *together, "--same", "--reason", "changed my mind",
         "--by", "Tester")
    history = _run("review", str(work), "history", "--format", "csv").strip().splitlines()
    assert len(history) == 1 + 3  # header + three decisions, none overwritten
    assert "test: two people" in history[1] and "changed my mind" in history[3]


def test_records_with_different_valid_nhs_numbers_are_never_one_person(
    sample_run: SampleRun, tmp_path: Path
) -> None:
    out = sample_run.copy(tmp_path / "out")  # `review decide` opens the database to write
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        clashes = con.execute(
            """
            SELECT pr.person_id FROM person_records pr JOIN source_records s USING (source, record_id)
            WHERE s.nhs_number IS NOT NULL GROUP BY 1 HAVING count(DISTINCT s.nhs_number) > 1
            """
        ).fetchall()
        pair = con.execute(
            """
            SELECT a.source || ':' || a.record_id, b.source || ':' || b.record_id
            FROM source_records a JOIN source_records b ON a.nhs_number < b.nhs_number
            ORDER BY 1, 2 LIMIT 1
            """
        ).fetchall()[0]
    finally:
        con.close()
    assert clashes == []
    result = CliRunner().invoke(
        main, ["review", str(out), "decide", *pair, "--same", "--reason", "x", "--by", "y"]
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "different valid NHS numbers" in result.output


def test_review_queue_lists_borderline_pairs_side_by_side(base) -> None:
    out, _ = base
    output = _run("review", str(out), "queue", "--band", "0.3-0.99", "--format", "csv")
    lines = output.strip().splitlines()
    assert lines[0].startswith("record_a,record_b,match_probability")
    assert len(lines) > 1
    probabilities = [float(line.split(",")[2]) for line in lines[1:]]
    assert all(0.3 <= p <= 0.99 for p in probabilities)


def test_explain_shows_the_waterfall_and_writes_an_offline_chart(base, tmp_path) -> None:
    out, before = base
    records = Counter(before.values())
    person = next(before[k] for k in sorted(before) if records[before[k]] > 1)
    pair = [k for k in sorted(before) if before[k] == person][:2]  # two records, one person
    html = tmp_path / "pair.html"
    output = _run("explain", str(out), f"{pair[0][0]}:{pair[0][1]}", f"{pair[1][0]}:{pair[1][1]}",
                  "--html", str(html))
    for comparison in ("Prior", "first_name", "surname", "dob", "nhs_number", "address", "sex"):
        assert comparison in output
    assert "Total match weight" in output and "one person" in output
    text = html.read_text(encoding="utf-8")
    assert "vegaEmbed" in text and "<script src=" not in text and "cdn.jsdelivr" not in text


def test_explain_names_an_unknown_record(base) -> None:
    out, _ = base
    result = CliRunner().invoke(main, ["explain", str(out), "csc:nope", "csc:nada"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "no record csc:nope" in result.output


def test_explain_works_when_one_record_has_no_date_of_birth(base) -> None:
    out, _ = base
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        pair = con.execute(
            """
            SELECT l.source_l || ':' || l.record_id_l, l.source_r || ':' || l.record_id_r
            FROM record_links l
            JOIN source_records a ON a.source = l.source_l AND a.record_id = l.record_id_l
            JOIN source_records b ON b.source = l.source_r AND b.record_id = l.record_id_r
            WHERE a.dob IS NULL AND b.dob IS NOT NULL ORDER BY 1, 2 LIMIT 1
            """
        ).fetchall()[0]
    finally:
        con.close()
    output = _run("explain", str(out), *pair)
    assert "dob is NULL" in output and "Total match weight" in output
