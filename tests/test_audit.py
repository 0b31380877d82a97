"""The flag audit: decisions survive re-runs of `famlink link`, decisions on flags that go are
kept as orphaned, the log is append-only and tamper-evident, and the commands behave as an
auditor needs (the report: test_audit_report.py).

The re-run tests use the real pipeline on the committed sample (trained once per module,
then re-scored with the saved model, as a data officer does monthly).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from audit_fixtures import KEY, invoke, mode, small_output
from conftest import SampleRun
from models_fixtures import REFERENCE_DATE

from famlink.linkage.jobfile import load_job
from famlink.models import audit, build_models
from famlink.models.explain import LINK_PROBABILITY_TEXT, RULES, explain_flag
from famlink.pipeline import run_link

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
DOCS = Path(__file__).resolve().parents[1] / "docs"
WHEN = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)


# --- the real pipeline on the committed sample ----------------------------------------------


@pytest.fixture
def linked(sample_run: SampleRun) -> Path:
    """The session's `famlink link sample_data/job.toml` (read-only: tests copy it to write)."""
    return sample_run.out


def _copy_run(linked: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(linked, out)
    return out


def _rerun(job: Path, out: Path) -> None:
    """Next month's run into the same folder, reusing the saved model."""
    run_link(job, out, model=out / "model.json")


def test_decisions_survive_a_rerun_of_link_on_the_same_data(linked: Path, tmp_path: Path) -> None:
    out = _copy_run(linked, tmp_path)
    with duckdb.connect(str(out / "famlink.duckdb")) as con:
        key = con.execute(
            "SELECT min(flag_key) FROM flags WHERE flag_type = 'unrecorded_male_carer'"
        ).fetchone()[0]
        first_run = audit.latest_run_id(con)
        audit.decide(con, key, status="confirmed", reason="HV confirms he lives there",
                     decided_by="A. Auditor", now=WHEN)

    _rerun(SAMPLE / "job.toml", out)

    assert mode(out / "famlink.duckdb") == 0o600
    with duckdb.connect(str(out / "famlink.duckdb"), read_only=True) as con:
        assert audit.latest_run_id(con) != first_run  # a new run replaced the flags
        confirmed = audit.current_status(con, status="confirmed")
        assert [f.flag_key for f in confirmed] == [key]
        assert confirmed[0].latest is not None
        assert confirmed[0].latest.reason == "HV confirms he lives there"
        assert confirmed[0].latest.run_id == first_run
        assert confirmed[0].evidence_changed is False  # same data, same records
        assert audit.orphaned(con) == []
        summary = audit.audit_summary(con)
        assert summary["decisions"] == 1 and summary["flags_with_decision"] == 1
        assert summary["reattached"] == 1 and summary["orphaned"] == 0
        assert summary["chain_intact"]
        assert audit.verify_chain(con).ok


def _remove_people(data: Path, records: list[tuple[str, str]]) -> None:
    """Delete people rows (source, record_id) from the copied extracts, as if the next
    month's extract no longer held them."""
    job = load_job(data / "job.toml")
    for source in job.sources:
        drop = {rid for s, rid in records if s == source.name}
        if not drop:
            continue
        spec = source.people
        (column,) = spec.columns["record_id"]
        text = spec.path.read_text(encoding="utf-8")
        newline = "\r\n" if "\r\n" in text else "\n"
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter))
        at = rows[0].index(column)
        kept = [r for r in rows if r[at] not in drop]
        assert len(kept) == len(rows) - len(drop)
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator=newline, delimiter=spec.delimiter).writerows(kept)
        spec.path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def test_a_decision_on_a_flag_that_goes_away_is_reported_as_orphaned(
    linked: Path, tmp_path: Path
) -> None:
    out = _copy_run(linked, tmp_path)
    with duckdb.connect(str(out / "famlink.duckdb")) as con:
        # a man known to one agency only: delete his records there and his flag goes
        key, adult = con.execute(
            """SELECT min(f.flag_key), arg_min(f.adult_person_id, f.flag_key)
               FROM flags f WHERE f.flag_type = 'unrecorded_male_carer'
                 AND (SELECT count(DISTINCT pr.source) FROM person_records pr
                      WHERE pr.person_id = f.adult_person_id) = 1"""
        ).fetchone()
        assert key is not None
        records = con.execute(
            "SELECT source, record_id FROM person_records WHERE person_id = ?", [adult]
        ).fetchall()
        before = audit.decide(con, key, status="dismissed", reason="He moved out in 2019",
                              decided_by="A. Auditor", now=WHEN)
    data = tmp_path / "sample_data"
    shutil.copytree(SAMPLE, data)
    _remove_people(data, records)

    _rerun(data / "job.toml", out)

    with duckdb.connect(str(out / "famlink.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM flags WHERE flag_key = ?", [key]).fetchone()[0] == 0
        assert [f.flag_key for f in audit.current_status(con) if f.decisions] == []
        (orphan,) = audit.orphaned(con)
        assert orphan.flag_key == key and orphan.status == "orphaned"
        assert orphan.explanation == before.explanation  # the flag as it was when decided
        assert orphan.latest is not None and orphan.latest.reason == "He moved out in 2019"
        # the evidence as it was: the removed records themselves
        assert orphan.latest.evidence_summary
        assert any(rid in orphan.latest.evidence_summary for _, rid in records)
        assert audit.audit_summary(con)["orphaned"] == 1
        assert audit.history(con, key) == [before]  # still reachable by its key
        with pytest.raises(audit.UnknownFlagError, match="no longer raised"):
            explain_flag(con, key)
    result = invoke("audit", out, "list", "--status", "orphaned", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["flag_key"], r["status"], r["last_decision"]) for r in rows] == [
        (key, "orphaned", "dismissed")
    ]
    result = invoke("audit", out, "report", "--format", "csv", "--out", "-")
    orphan_rows = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["section"] == "orphaned"]
    assert [r["flag_key"] for r in orphan_rows] == [key]
    assert orphan_rows[0]["reason"] == "He moved out in 2019"


def test_explain_names_the_rule_evidence_and_the_records_of_each_person(linked: Path) -> None:
    with duckdb.connect(str(linked / "famlink.duckdb"), read_only=True) as con:
        key, child, adult = con.execute(
            """SELECT flag_key, child_person_id, adult_person_id FROM flags
               WHERE flag_type = 'unrecorded_male_carer' ORDER BY flag_key LIMIT 1"""
        ).fetchone()
        text = explain_flag(con, key)
        evidence = con.execute(
            "SELECT agency, source, record_id FROM flag_evidence WHERE flag_key = ?", [key]
        ).fetchall()
        records = con.execute(
            """SELECT s.source, s.record_id, s.dob_raw FROM person_records p
               JOIN source_records s USING (source, record_id)
               WHERE p.person_id IN (?, ?)""",
            [child, adult],
        ).fetchall()
        explanation = con.execute("SELECT explanation FROM flags WHERE flag_key = ?", [key]).fetchone()[0]
        with pytest.raises(audit.UnknownFlagError) as err:
            explain_flag(con, key[:-1])
    flat = " ".join(text.split())
    assert " ".join(RULES["unrecorded_male_carer"].split()) in flat
    assert " ".join(explanation.split()) in flat
    for agency, source, record_id in evidence:
        assert f"{agency}, source {source} record {record_id}" in flat
    for source, record_id, dob_raw in records:
        assert f"source {source} record {record_id}" in flat
        if dob_raw:
            assert f"dob as recorded {dob_raw}" in flat
    assert "link probability" in flat
    assert key in str(err.value)  # the close match is suggested


def _doc_text(markdown: str) -> str:
    for token in ("**", "`", "*"):
        markdown = markdown.replace(token, "")
    markdown = re.sub(r"(?m)^\s*- ", " ", markdown)
    return " ".join(markdown.split())


def test_rule_texts_are_the_wording_of_docs_flags_md() -> None:
    doc = (DOCS / "flags.md").read_text(encoding="utf-8")
    for flag_type, text in RULES.items():
        section = doc.split(f"### `{flag_type}`", 1)[1].split("\n#", 1)[0]
        assert " ".join(text.split()) in _doc_text(section), flag_type
    assert " ".join(LINK_PROBABILITY_TEXT.split()) in _doc_text(doc)


# --- a small hand-made case: fast tests of the log and the commands -------------------------

@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return small_output(tmp_path / "out")


def test_the_log_is_append_only_and_the_latest_decision_is_the_status(out_dir: Path) -> None:
    with duckdb.connect(str(out_dir / "famlink.duckdb")) as con:
        first = audit.decide(con, KEY, status="needs_info", reason="Ask housing",
                             decided_by="A. Auditor", now=WHEN)
        second = audit.decide(con, KEY, status="confirmed", reason="Housing: lives there",
                              decided_by="B. Auditor")
        assert (first.decision_id, second.decision_id) == (1, 2)
        assert second.prev_hash == first.row_hash
        assert audit.history(con, KEY) == [first, second]
        (flag,) = [f for f in audit.current_status(con) if f.flag_key == KEY]
        assert (flag.status, flag.decisions, flag.latest) == ("confirmed", 2, second)
        assert con.execute("SELECT count(*) FROM flag_decisions").fetchone()[0] == 2
        # a re-build of the models stage rewrites flags, never the log
        build_models(con, reference_date=REFERENCE_DATE)
        assert audit.history(con, KEY) == [first, second]
    assert first.decided_at == datetime(2026, 10, 5, 9, 30)  # stored as UTC
    assert mode(out_dir / "famlink.duckdb") == 0o600


def test_cli_list_decide_history(out_dir: Path) -> None:
    result = invoke("audit", out_dir, "list", "--format", "json")  # no decisions yet
    assert result.exit_code == 0, result.output
    assert {r["flag_key"]: r["status"] for r in json.loads(result.stdout)} == {
        KEY: "open",
        "adult_risk_history:Pkid:Pman": "open",
        "father_not_recorded:Pkid": "open",
    }
    result = invoke("audit", out_dir, "decide", KEY, "--status", "dismissed",
                    "--reason", "Lodger, not a carer", "--by", "A. Auditor")
    assert result.exit_code == 0, result.output
    assert f"decision 1: {KEY} dismissed by A. Auditor" in result.output
    invoke("audit", out_dir, "decide", KEY, "--status", "confirmed",
           "--reason", "He is the partner after all", "--by", "B. Auditor")

    result = invoke("audit", out_dir, "list", "--status", "confirmed", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["flag_key"], r["reason"], r["decided_by"], r["decisions"]) for r in rows] == [
        (KEY, "He is the partner after all", "B. Auditor", "2")
    ]
    result = invoke("audit", out_dir, "list", "--status", "open", "--type", "father_not_recorded")
    assert result.exit_code == 0 and "father_not_recorded:Pkid" in result.stdout
    assert KEY not in result.stdout

    result = invoke("audit", out_dir, "history", KEY, "--format", "json")
    assert result.exit_code == 0, result.output
    assert [(d["decision_id"], d["status"]) for d in json.loads(result.stdout)] == [
        (1, "dismissed"),
        (2, "confirmed"),
    ]
    result = invoke("audit", out_dir, "verify")
    assert result.exit_code == 0 and "decision log intact: 2 decision(s)" in result.output


def test_cli_decide_errors_say_how_to_fix_them(out_dir: Path) -> None:
    result = invoke("audit", out_dir, "decide", "unrecorded_male_carer:Pkid:Pmen",
                    "--status", "confirmed", "--reason", "x", "--by", "y")
    assert result.exit_code == 1
    assert f"famlink audit {out_dir} list" in result.output
    assert KEY in result.output  # the close match
    assert isinstance(result.exception, SystemExit)  # click's handled exit, not a crash
    for reason, by, message in (("  ", "y", "a reason is required"),
                                ("ok", "", "name of who decided is required")):
        result = invoke("audit", out_dir, "decide", KEY, "--status", "confirmed",
                        "--reason", reason, "--by", by)
        assert result.exit_code == 1 and message in result.output
    result = invoke("audit", out_dir, "decide", KEY, "--status", "maybe", "--reason", "x", "--by", "y")
    assert result.exit_code == 2  # click's usage error lists the choices
    result = invoke("audit", out_dir, "decide", KEY, "--status", "confirmed", "--by", "y")
    assert result.exit_code == 2 and "--reason" in result.output
    result = invoke("audit", out_dir, "history", "nope")
    assert result.exit_code == 1 and "no flag 'nope'" in result.output
    result = invoke("audit", out_dir.parent / "nowhere", "list")
    assert result.exit_code == 1 and "no famlink output database" in result.output
    with duckdb.connect(str(out_dir / "famlink.duckdb"), read_only=True) as con:
        assert not audit.has_log(con) or audit.read_decisions(con) == []


@pytest.mark.parametrize("tamper", ["edit", "edit_and_rehash", "delete"])
def test_verify_detects_an_edited_or_deleted_row(out_dir: Path, tamper: str) -> None:
    for status, reason in (("needs_info", "a"), ("confirmed", "b"), ("dismissed", "c")):
        invoke("audit", out_dir, "decide", KEY, "--status", status, "--reason", reason, "--by", "x")
    assert invoke("audit", out_dir, "verify").exit_code == 0
    with duckdb.connect(str(out_dir / "famlink.duckdb")) as con:
        if tamper == "delete":
            con.execute("DELETE FROM flag_decisions WHERE decision_id = 2")
        else:
            con.execute("UPDATE flag_decisions SET status = 'dismissed' WHERE decision_id = 2")
        if tamper == "edit_and_rehash":  # a forger fixes the row's own hash …
            (d,) = audit.read_decisions(con, "decision_id = 2")
            con.execute("UPDATE flag_decisions SET row_hash = ? WHERE decision_id = 2",
                        [audit.row_hash(d.content())])
    result = invoke("audit", out_dir, "verify")
    assert result.exit_code == 1
    broken_at = 3 if tamper in ("delete", "edit_and_rehash") else 2  # … the next row tells
    assert f"decision log BROKEN at decision {broken_at}" in result.output
    assert isinstance(result.exception, SystemExit)  # click's handled exit, not a crash


def test_decisions_survive_a_rerun_on_data_with_new_records(linked: Path, tmp_path: Path) -> None:
    """Next month's extract has new people, and a new record of the very man a decision is
    about: his person id, the flag key and the decision all carry over."""
    out = _copy_run(linked, tmp_path)
    with duckdb.connect(str(out / "famlink.duckdb")) as con:
        key, adult = con.execute(
            """SELECT min(f.flag_key), arg_min(f.adult_person_id, f.flag_key) FROM flags f
               JOIN person_records pr ON pr.person_id = f.adult_person_id AND pr.source = 'police'
               WHERE f.flag_type = 'unrecorded_male_carer'"""
        ).fetchone()
        (police_id,) = con.execute(
            "SELECT min(record_id) FROM person_records WHERE person_id = ? AND source = 'police'",
            [adult],
        ).fetchone()
        audit.decide(con, key, status="confirmed", reason="Seen at the home visit",
                     decided_by="A. Auditor", now=WHEN)
    data = tmp_path / "sample_data"
    shutil.copytree(SAMPLE, data)
    nominals = data / "police" / "police_nominals.csv"
    with open(nominals, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    his = next(r for r in rows if r["NominalRef"] == police_id)
    stranger = dict(rows[0]) | {"NominalRef": "N7777777", "Forename": "Ottoline",
                                "Surname": "Quaintance", "DOB": "02/03/1971", "NHSNo": ""}
    with open(nominals, "a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writerow(his | {"NominalRef": "N8888888"})  # a new record of the same man
        writer.writerow(stranger)

    _rerun(data / "job.toml", out)

    with duckdb.connect(str(out / "famlink.duckdb"), read_only=True) as con:
        new_person = con.execute(
            "SELECT person_id FROM person_records WHERE source = 'police' AND record_id = 'N8888888'"
        ).fetchone()[0]
        assert new_person == adult  # joined his existing person, whose id carried over
        confirmed = audit.current_status(con, status="confirmed")
        assert [f.flag_key for f in confirmed] == [key]
        assert audit.orphaned(con) == []
        changes = dict(con.execute("SELECT change, count(*) FROM person_changes GROUP BY 1").fetchall())
        assert changes.get("new") == 1 and changes.get("changed", 0) >= 1
