"""Flag precision and recall against the generator's truth files."""

from __future__ import annotations

from pathlib import Path

from models_fixtures import REFERENCE_DATE, LinkageDB

from famlink.models import build_models, evaluate_flags


def test_precision_recall_per_type_and_undetectable_flags_kept_apart(tmp_path: Path) -> None:
    db = LinkageDB()
    db.person("P1", "csc", "C1", "Amy Hall", dob="1995-02-01", sex="female", uprn="100")
    db.person("P2", "csc", "C2", "Ben Hall", dob="2026-05-01", sex="male", uprn="100")
    db.person("P3", "police", "PL1", "Joe Bloggs", dob="1990-01-01", sex="male", uprn="100")
    db.person("P4", "police", "PL2", "Tom Jones", dob="1980-01-01", sex="male", uprn="100")
    db.relationship("csc", "C2", "C1", "mother")
    con = db.connect()
    build_models(con, reference_date=REFERENCE_DATE)
    (tmp_path / "records.csv").write_text(
        "source,record_id,true_person_id\ncsc,C1,T_mum\ncsc,C2,T_kid\npolice,PL1,T_dad\n"
        "police,PL2,T_lodger\n",
        encoding="utf-8",
    )
    (tmp_path / "expected_flags.csv").write_text(
        "flag_type,child_true_person_id,adult_true_person_id,detectable,why\n"
        "unrecorded_male_carer,T_kid,T_dad,true,lives with the baby\n"
        "unrecorded_male_carer,T_kid,T_uncle,true,visits daily\n"
        "unrecorded_male_carer,T_kid,T_lodger,false,only an undated housing record\n"
        "father_not_recorded,T_kid,,true,\n",
        encoding="utf-8",
    )
    result = evaluate_flags(con, tmp_path)
    male = result["unrecorded_male_carer"]
    assert (male["true_positives"], male["false_positives"], male["false_negatives"]) == (1, 0, 1)
    assert male["raised_undetectable"] == 1  # the lodger: raised, but not held against precision
    assert male["precision"] == 1.0 and male["recall"] == 0.5
    assert male["missed"] == [("unrecorded_male_carer", "T_kid", "T_uncle")]
    assert result["father_not_recorded"]["recall"] == 1.0
    assert result["sibling_safeguarding_history"]["precision"] is None
