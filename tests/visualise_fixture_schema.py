"""The output tables (``docs/tables.md``) as the visualise fixtures create them: linkage's,
then the columns the models stage added, and ``relationship_evidence`` derived from the
evidence lists the fixtures write.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE source_records (
    source VARCHAR, agency VARCHAR, is_primary BOOLEAN, record_id VARCHAR, file VARCHAR,
    line_number BIGINT, first_name VARCHAR, middle_names VARCHAR, surname VARCHAR,
    dob_raw VARCHAR, sex_raw VARCHAR, nhs_number_raw VARCHAR, postcode_raw VARCHAR,
    uprn_raw VARCHAR, address VARCHAR, first_name_clean VARCHAR, middle_names_clean VARCHAR,
    surname_clean VARCHAR, first_name_canonical VARCHAR, surname_first_token VARCHAR,
    dob DATE, sex VARCHAR, nhs_number VARCHAR, postcode VARCHAR, address_clean VARCHAR,
    uprn VARCHAR, address_from DATE, address_to DATE);
CREATE TABLE person_records (source VARCHAR, record_id VARCHAR, person_id VARCHAR);
CREATE TABLE persons (
    person_id VARCHAR, display_name VARCHAR, first_name VARCHAR, surname VARCHAR, dob DATE,
    sex VARCHAR, nhs_number VARCHAR, sources VARCHAR[], agencies VARCHAR[], n_records INTEGER,
    in_primary BOOLEAN, min_link_probability DOUBLE);
CREATE TABLE runs (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, user_name VARCHAR,
    host VARCHAR, famlink_version VARCHAR, splink_version VARCHAR, duckdb_version VARCHAR,
    python_version VARCHAR, job_path VARCHAR, job_sha256 VARCHAR, job_toml VARCHAR,
    inputs JSON, seed INTEGER, reference_date DATE, model_path VARCHAR, model_sha256 VARCHAR,
    model_trained BOOLEAN, counts JSON, status VARCHAR);
CREATE TABLE relationships_resolved (
    person_id VARCHAR, related_person_id VARCHAR, relationship VARCHAR, basis VARCHAR,
    source VARCHAR, agency VARCHAR, is_primary BOOLEAN, evidence JSON, start_date DATE,
    end_date DATE, link_probability DOUBLE);
CREATE TABLE households (
    household_id VARCHAR, address_key VARCHAR, person_id VARCHAR, date_from DATE,
    date_to DATE, sources VARCHAR[]);
CREATE TABLE families (family_id VARCHAR, person_id VARCHAR);
CREATE TABLE flags (
    flag_key VARCHAR, flag_type VARCHAR, child_person_id VARCHAR, adult_person_id VARCHAR,
    explanation VARCHAR, family_id VARCHAR, link_probability DOUBLE, created_run_id VARCHAR);
CREATE TABLE flag_evidence (
    flag_key VARCHAR, item_no INTEGER, kind VARCHAR, agency VARCHAR, source VARCHAR,
    record_id VARCHAR, related_record_id VARCHAR, relationship VARCHAR, event_type VARCHAR,
    date_from DATE, date_to DATE, description VARCHAR, link_probability DOUBLE);
CREATE TABLE models_run (built_at TIMESTAMP, reference_date DATE, window_start DATE);
CREATE TABLE chronology (
    child_person_id VARCHAR, entry_no INTEGER, event_date DATE, agency VARCHAR, source VARCHAR,
    record_id VARCHAR, event_key VARCHAR, person_id VARCHAR, person_name VARCHAR,
    relation_to_child VARCHAR, entry_kind VARCHAR, event_type VARCHAR, role VARCHAR,
    summary VARCHAR, link_probability DOUBLE);
"""


# Columns that `models` added to the contract (docs/tables.md): the view must use them when
# present (this fixture) and work without them (`build_large_family_db`).
MODELS_ADDITIONS = [
    "ALTER TABLE relationships_resolved ADD COLUMN agencies VARCHAR[]",
    "UPDATE relationships_resolved SET agencies = CASE WHEN agency IS NULL THEN [] ELSE [agency] END",
    "ALTER TABLE households ADD COLUMN address VARCHAR",
    "ALTER TABLE households ADD COLUMN is_communal BOOLEAN",
    "UPDATE households SET is_communal = false, address = CASE WHEN address_key LIKE 'uprn:%' "
    "THEN 'Flat 2, 17 Quarry Lane, Anytown' ELSE '4 Mill Row, Anytown' END",
    "ALTER TABLE flags ADD COLUMN child_name VARCHAR",
    "ALTER TABLE flags ADD COLUMN adult_name VARCHAR",
    "UPDATE flags SET child_name = (SELECT display_name FROM persons WHERE person_id = child_person_id),"
    " adult_name = (SELECT display_name FROM persons WHERE person_id = adult_person_id)",
    "ALTER TABLE flag_evidence ADD COLUMN part VARCHAR",
    "ALTER TABLE flag_evidence ADD COLUMN basis VARCHAR",
    "UPDATE flag_evidence SET part = CASE kind WHEN 'event' THEN 'trigger' ELSE 'role' END,"
    " basis = CASE kind WHEN 'residence' THEN 'inferred' ELSE 'recorded' END",
    "ALTER TABLE chronology ADD COLUMN relation_basis VARCHAR",
    "UPDATE chronology SET relation_basis = CASE entry_kind WHEN 'composition' THEN 'inferred'"
    " ELSE 'recorded' END",
]


# The fixtures write each edge's evidence as a JSON list (easy to read above); the models
# stage's contract keeps it in `relationship_evidence`, one row per item, inferred
# co-residence once per pair (docs/tables.md). This derives that table from the lists.
RELATIONSHIP_EVIDENCE_FROM_JSON = """
CREATE TABLE relationship_evidence AS
SELECT r.person_id, r.related_person_id, r.relationship, r.basis, r.source AS edge_source,
       e->>'source' AS source, e->>'agency' AS agency, e->>'record_id' AS record_id,
       e->>'related_record_id' AS related_record_id, e->>'relationship_key' AS relationship_key,
       (e->>'line_number')::BIGINT AS line_number, e->>'relationship' AS recorded_relationship,
       e->>'via_person_id' AS via_person_id, e->>'address_key' AS address_key,
       e->>'kind' AS kind, (e->>'start_date')::DATE AS start_date,
       (e->>'end_date')::DATE AS end_date
FROM relationships_resolved r, unnest(from_json(r.evidence, '["JSON"]')) AS t(e)
WHERE r.basis <> 'inferred' OR r.person_id < r.related_person_id
"""
