"""A one-source (dedupe-only) job with a declared identifier, on Spark, against truth and DuckDB.

The job is FEBRL3's with famlink's default family rules on (``job-family-rules-on.toml``,
which ``export`` writes beside ``bench/febrl/febrl3.toml``: one file, so Splink's link_type is
dedupe_only and its predictions have no ``source_dataset`` columns; ``soc_sec_id`` declared
under ``[sources.people.identifiers]``, so ``id_soc_sec_id`` is compared and blocked on). Its
data are a slice of FEBRL3 as ``python -m bench.febrl export`` writes it — its first 150
people, ~400 records, small enough for Spark in CI — plus a few hand-built records whose
truth only the cannot-link rules' reading of the identifier gets right:

- one person recorded twice with dates of birth a generation apart and the same
  ``soc_sec_id`` (or one keying error apart): the generation rule would split them, but a
  shared identifier outweighs a date;
- twins (the same surname, address and date of birth, different forenames) whose numbers
  were issued one after the other: not a shared identifier, so the twins rule splits them.

The model links all three pairs (asserted), so these persons are the rules' doing. The job
is run once on each backend; the DuckDB run is the reference the Spark run must agree with.
Spark and DuckDB sample pairs for u with different hash functions (see test_spark.py), so
the two agree closely, not exactly.

Tests marked ``spark`` need pyspark and Java. In CI (the ``CI`` environment variable set)
they fail when either is missing; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from spark_fixtures import ROOT, require_spark

from famlink.cli import main
from famlink.linkage.evaluate import linkage_accuracy
from famlink.linkage.jobfile import load_job

#: FEBRL3's people numbered below this are kept (150 people, 395 records)
FEBRL3_PEOPLE = 150
SOURCE = "febrl3"

# Columns as FEBRL3's dataset3.csv has them: rec_id, given_name, surname, street_number,
# address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id. The rec ids
# follow FEBRL's rec-<person>-org / -dup-<n>, with person numbers FEBRL3 does not use.
HAND_BUILT = {
    # one person, dates a generation apart, the same soc_sec_id
    "9001": [("rec-9001-org", "lachlan", "featherstonhaugh", "12", "kookaburra crescent", "",
              "toowoomba", "4350", "qld", "19610314", "5081734"),
             ("rec-9001-dup-0", "lachlan", "featherstonhaugh", "12", "kookaburra crescent", "",
              "toowoomba", "4350", "qld", "19830702", "5081734")],
    # one person, dates a generation apart, soc_sec_id with two neighbouring digits swapped
    "9002": [("rec-9002-org", "matilda", "quennell", "88", "banksia street", "unit 4",
              "ballarat", "3350", "vic", "19550921", "6240917"),
             ("rec-9002-dup-0", "matilda", "quennell", "88", "banksia street", "unit 4",
              "ballarat", "3350", "vic", "19790105", "6249017")],
    # twins: two people, consecutive soc_sec_ids
    "9003": [("rec-9003-org", "oliver", "ravensworth", "3", "wattle grove", "",
              "bunbury", "6230", "wa", "20010517", "7120455")],
    "9004": [("rec-9004-org", "harriet", "ravensworth", "3", "wattle grove", "",
              "bunbury", "6230", "wa", "20010517", "7120456")],
}
#: the hand-built pairs the model links, each with whether they are one person
HAND_BUILT_PAIRS = {("rec-9001-dup-0", "rec-9001-org"): True,
                    ("rec-9002-dup-0", "rec-9002-org"): True,
                    ("rec-9003-org", "rec-9004-org"): False}


def _slice(folder: Path) -> None:
    """Keep FEBRL3's first people (data and truth) in ``folder`` and add ``HAND_BUILT``."""
    def person(rec_id: str) -> int:
        return int(rec_id.split("-")[1])

    for name, id_column in (("dataset3.csv", "rec_id"), ("_truth/records.csv", "record_id")):
        path = folder / name
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        kept = [r for r in rows if person(r[id_column]) < FEBRL3_PEOPLE]
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(kept)
            for entity, records in HAND_BUILT.items():
                for record in records:
                    writer.writerow(dict(zip(rows[0], record, strict=True)) if name == "dataset3.csv"
                                    else {"source": SOURCE, "record_id": record[0],
                                          "true_entity": entity, "true_person_id": entity})


@pytest.fixture(scope="module")
def febrl3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FEBRL3 job's folder: the job file, the sliced extract and its truth."""
    base = tmp_path_factory.mktemp("febrl3")
    exported = subprocess.run(  # noqa: S603 - this repository's own benchmark command
        [sys.executable, "-m", "bench.febrl", "export", str(base), "--sets", "febrl3"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert exported.returncode == 0, exported.stderr
    _slice(base / "febrl3")
    return base / "febrl3"


@pytest.fixture(scope="module")
def runs(febrl3: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The job linked once on each backend."""
    require_spark()
    base = tmp_path_factory.mktemp("febrl3-runs")
    outs = {"duckdb": base / "duckdb", "spark": base / "spark"}
    for backend, out in outs.items():
        result = CliRunner().invoke(main, ["link", str(febrl3 / "job-family-rules-on.toml"), "--out", str(out),
                                           "--no-models", "--backend", backend])
        assert result.exit_code == 0, (backend, result.output)
    return outs


def _query(out: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _same_person_pairs(out: Path) -> set[tuple[str, str]]:
    persons: dict[str, list[str]] = {}
    for person, record in _query(out, "SELECT person_id, record_id FROM person_records"):
        persons.setdefault(person, []).append(record)
    return {pair for members in persons.values()
            for pair in itertools.combinations(sorted(members), 2)}


@pytest.mark.spark
def test_a_one_source_job_runs_on_spark_as_a_dedupe_with_its_identifier_compared_and_blocked_on(
    runs: dict[str, Path],
) -> None:
    out = runs["spark"]
    model = json.loads((out / "model.json").read_text())
    assert (model["sql_dialect"], model["link_type"]) == ("spark", "dedupe_only")
    assert "id_soc_sec_id" in [c["output_column_name"] for c in model["comparisons"]]
    assert any("id_soc_sec_id" in rule["blocking_rule"]
               for rule in model["blocking_rules_to_generate_predictions"])
    # every link is within the one source, and there are plenty of them
    sources = _query(out, "SELECT source_l, source_r, count(*) FROM record_links GROUP BY ALL")
    assert [(left, right) for left, right, _ in sources] == [(SOURCE, SOURCE)]
    assert sources[0][2] >= 300
    (counts,), = _query(out, "SELECT counts FROM runs ORDER BY started_at DESC LIMIT 1")
    assert "cluster_on_spark" in json.loads(counts)["link_timings_s"]  # clustered on Spark


@pytest.mark.spark
def test_both_backends_find_febrl3s_people(runs: dict[str, Path], febrl3: Path) -> None:
    for backend, out in runs.items():
        con = duckdb.connect(str(out / "famlink.duckdb"), read_only=True)
        try:
            accuracy = linkage_accuracy(con, febrl3 / "_truth")
        finally:
            con.close()
        assert accuracy.records == 395 + 6, (backend, accuracy)  # every record used and scored
        # Observed on both: precision 1.0, recall 0.98 (a few FEBRL duplicates whose
        # forename was replaced are split by the twins rule).
        assert accuracy.pairwise_precision >= 0.98, (backend, accuracy)
        assert accuracy.pairwise_recall >= 0.95, (backend, accuracy)


@pytest.mark.spark
def test_spark_and_duckdb_find_the_same_persons(runs: dict[str, Path]) -> None:
    duck, spark = _same_person_pairs(runs["duckdb"]), _same_person_pairs(runs["spark"])
    both = len(duck & spark)
    f1 = 2 * both / (len(duck) + len(spark))
    # Observed: identical. Only u differs between the backends (a different pair sample).
    assert f1 >= 0.99, (f1, sorted(duck ^ spark)[:20])
    assert len(duck ^ spark) <= 0.01 * len(duck), sorted(duck ^ spark)[:20]


@pytest.mark.spark
def test_a_declared_identifier_decides_the_cannot_link_rules_on_both_backends(
    runs: dict[str, Path], febrl3: Path,
) -> None:
    threshold = load_job(febrl3 / "job-family-rules-on.toml").linkage.match_threshold
    for backend, out in runs.items():
        links = {tuple(sorted((a, b))): p for a, b, p in _query(
            out, "SELECT record_id_l, record_id_r, match_probability FROM record_links "
                 "WHERE record_id_l LIKE 'rec-900_-%' AND record_id_r LIKE 'rec-900_-%'")}
        together = _same_person_pairs(out)
        for pair, one_person in HAND_BUILT_PAIRS.items():
            # the model links the pair, so whether it is one person is the rules' decision
            assert links.get(pair, 0.0) >= threshold, (backend, pair, links)
            assert (pair in together) == one_person, (backend, pair)
