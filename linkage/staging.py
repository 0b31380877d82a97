"""Steps 3 and 4 of ingest: each extract's rows mapped onto canonical fields (staging), then
standardised into the output tables.

Set work only, in DuckDB's dialect, over the raw tables :mod:`famlink.linkage.ingest` reads
and the lookup tables it builds: ``con`` is DuckDB's connection or the Spark backend's
stand-in for it (:mod:`famlink.linkage.spark.sql`), which runs the same SQL. Writes
``source_records``, ``relationships``, ``events``, ``nulled_values``, ``unmapped_codes`` and
the quarantined rows' reasons (``_fl_q``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from famlink.linkage import standardise as std
from famlink.linkage.connection import SQLConnection
from famlink.linkage.job_sources import FIRST_OF_FIELDS, identifier_names
from famlink.linkage.jobfile import (
    DATE_FIELDS,
    EVENT_TYPES,
    FIELDS,
    FILE_KINDS,
    RELATIONSHIP_CODE_VALUES,
    REVERSED_RELATIONSHIPS,
    ROLES,
    SEX_VALUES,
    FileSpec,
    Job,
    SourceSpec,
)

q = std.quote_ident

#: SQL ordering file kinds as the outputs list them: people, relationships, events
KIND_ORDER = "CASE {col} WHEN 'people' THEN 1 WHEN 'relationships' THEN 2 ELSE 3 END"
_DATE_TYPES = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class Extract:
    """One extract being ingested: its spec, header and temporary raw table."""

    number: int
    source: SourceSpec
    spec: FileSpec
    #: the header's column names, in file order
    columns: tuple[str, ...]
    #: header name -> DuckDB type (VARCHAR for CSV)
    types: Mapping[str, str]

    @property
    def raw_table(self) -> str:
        return q(f"_fl_raw_{self.number}")

    def col(self, name: str) -> str:
        """The raw table's column for header column ``name``: ``r.c1``, ``r.c2`` …

        The raw table names columns by position so that no header (``RowID``, ``rowid``)
        can shadow DuckDB's row id or another internal name.
        """
        return f"r.c{self.columns.index(name) + 1}"

    @property
    def internal_columns(self) -> list[str]:
        return [f"c{i}" for i in range(1, len(self.columns) + 1)]


def standardise(con: SQLConnection, job: Job) -> None:
    """Steps 4 and 5 after staging: ``source_records``, ``relationships``, ``events``,
    ``nulled_values``, ``unmapped_codes`` and the quarantined rows' reasons (``_fl_q``).

    Set work only, over the staging and lookup tables: ``con`` is DuckDB's connection or
    the Spark backend's stand-in for it (:mod:`famlink.linkage.spark.sql`), which runs the same SQL.
    """
    _standardise_people(con, job)
    _relationships_and_events(con)
    _quarantine_reasons(con)
    _nulled_values(con)
    _unmapped_codes(con)


def _stage_columns(kind: str, identifiers: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Staging table columns: text of every canonical field, plus ``<field>__date``; for
    people, the file's ``postcode_format`` and each identifier's text (``id_<name>``)."""
    cols = [(name, "VARCHAR") for name in FIELDS[kind]]
    cols += [(f"{name}__date", "DATE") for name in FIELDS[kind] if name in DATE_FIELDS]
    if kind == "people":
        cols += [("postcode_format", "VARCHAR")]
        cols += [(f"id_{name}", "VARCHAR") for name in identifiers]
    return cols


def create_stage_tables(con: SQLConnection, job: Job) -> None:
    """The empty staging tables ``_fl_stage_<kind>`` (on DuckDB or the Spark stand-in)."""
    identifiers = identifier_names(job.sources)
    for kind in FILE_KINDS:
        cols = ", ".join(f"{q(n)} {t}" for n, t in _stage_columns(kind, identifiers))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {q(f'_fl_stage_{kind}')} (source VARCHAR, "
            f"file_kind VARCHAR, file VARCHAR, file_no INTEGER, ord BIGINT, "
            f"line_number BIGINT, {cols})"
        )


def stage(con: SQLConnection, extract: Extract, line: str, join: str, ord_expr: str = "r.rowid",
          *, identifiers: tuple[str, ...] = ()) -> None:
    """Map one extract's columns onto canonical fields into ``_fl_stage_<kind>``.

    ``line`` (with ``join``, see :func:`line_numbers`) and ``ord_expr`` are SQL for each raw
    row's line in the file and position in the raw table: on the Spark backend the raw
    table arrives with both as columns (``r.line_number``, ``r.ord``). ``identifiers`` are
    every identifier name of the job (the staging table's ``id_<name>`` columns)."""
    spec = extract.spec
    exprs = []
    for name, _type in _stage_columns(spec.kind, identifiers):
        if name == "postcode_format":
            exprs.append(std.quote_literal(spec.postcode_format))
        elif name.startswith("id_"):
            column = spec.identifiers.get(name.removeprefix("id_"))
            exprs.append("NULL" if column is None else std.text(extract.col(column)))
        elif name.endswith("__date"):
            canonical = name.removesuffix("__date")
            columns = spec.columns.get(canonical)
            if columns is None:
                exprs.append("NULL")
            elif extract.types[columns[0]].startswith(_DATE_TYPES):
                exprs.append(f"CAST({extract.col(columns[0])} AS DATE)")
            else:
                exprs.append(std.parse_date(std.text(extract.col(columns[0])), "$formats",
                                            spec.date_formats))
        else:
            columns = spec.columns.get(name)
            read = std.first_of if name in FIRST_OF_FIELDS else std.joined
            exprs.append("NULL" if columns is None else read([extract.col(c) for c in columns]))
    sql = (
        f"INSERT INTO {q(f'_fl_stage_{spec.kind}')} "  # noqa: S608 - identifiers quoted
        f"SELECT $source, $kind, $file, $file_no, {ord_expr}, {line}, {', '.join(exprs)} "
        f"FROM {extract.raw_table} r {join}"
    )
    params: dict[str, Any] = {"source": extract.source.name, "kind": spec.kind,
                              "file": spec.path_text, "file_no": extract.number}
    if "$formats" in sql:
        params["formats"] = list(spec.date_formats)
    con.execute(sql, params)


def _code_join(alias: str, table_alias: str, kind: str, name: str, raw: str) -> str:
    return (f"LEFT JOIN _fl_codes {alias} ON {alias}.source = {table_alias}.source "
            f"AND {alias}.file_kind = '{kind}' AND {alias}.field = '{name}' "
            f"AND {alias}.code = lower({raw})")


def _standardise_people(con: SQLConnection, job: Job) -> None:
    """``_fl_people``: every people row, standardised, with its quarantine reason (if any);
    then ``source_records`` from the rows used."""
    # names repeat: clean each distinct spelling once, then join
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_names AS
        SELECT raw, {std.clean_name('raw')} AS clean FROM (
            SELECT first_name AS raw FROM _fl_stage_people
            UNION SELECT middle_names FROM _fl_stage_people
            UNION SELECT surname FROM _fl_stage_people
            UNION SELECT preferred_name FROM _fl_stage_people
            UNION SELECT former_surname FROM _fl_stage_people
        ) WHERE raw IS NOT NULL
        """  # noqa: S608
    )
    sex_mapped = std.map_code("s.sex", "csex.value", SEX_VALUES)
    rel_value = std.map_code("s.relationship", "crel.value", RELATIONSHIP_CODE_VALUES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_people AS
        WITH s AS (
            SELECT s.*,
                   nf.clean AS first_name_clean,
                   nm.clean AS middle_names_clean,
                   ns.clean AS surname_clean,
                   np.clean AS preferred_name_clean,
                   nfs.clean AS former_surname_clean,
                   {std.nhs_digits('s.nhs_number')} AS nhs_digits,
                   {std.postcode_squashed('s.postcode')} AS postcode_squashed,
                   {std.uprn_digits('s.uprn')} AS uprn_digits,
                   {std.address_clean('s.address')} AS address_clean,
                   {sex_mapped} AS sex_mapped,
                   {std.sex_from_title('s.title')} AS title_sex,
                   {rel_value} AS relationship_value
            FROM _fl_stage_people s
            LEFT JOIN _fl_names nf ON nf.raw = s.first_name
            LEFT JOIN _fl_names nm ON nm.raw = s.middle_names
            LEFT JOIN _fl_names ns ON ns.raw = s.surname
            LEFT JOIN _fl_names np ON np.raw = s.preferred_name
            LEFT JOIN _fl_names nfs ON nfs.raw = s.former_surname
            {_code_join('csex', 's', 'people', 'sex', 's.sex')}
            {_code_join('crel', 's', 'people', 'relationship', 's.relationship')}
        ),
        v AS (
            SELECT s.*,
                   -- a title tells the sex only when the sex columns do not
                   CASE WHEN s.sex_mapped IN ('male', 'female') THEN s.sex_mapped
                        ELSE coalesce(s.title_sex, s.sex_mapped) END AS sex_value,
                   {std.nhs_number('s.nhs_digits')} AS nhs_number_value,
                   CASE WHEN s.postcode_format = 'any' THEN nullif(s.postcode_squashed, '')
                        ELSE {std.postcode('s.postcode_squashed')} END AS postcode_value,
                   CASE WHEN s.postcode_format = 'uk'
                        THEN {std.postcode_district('s.postcode_squashed', 's.postcode')} END
                       AS postcode_district_value,
                   {std.uprn('s.uprn_digits')} AS uprn_value,
                   CASE WHEN s.dob IS NULL THEN NULL
                        WHEN s.dob__date IS NULL THEN 'unparseable_date'
                        WHEN s.dob__date > $reference_date THEN 'dob_in_future'
                        WHEN s.dob__date < DATE '1900-01-01' THEN 'dob_before_1900'
                   END AS dob_problem,
                   {std.first_token('s.first_name_clean')} AS first_name_head,
                   {std.words([std.after_first_token('s.first_name_clean'),
                               's.middle_names_clean', 's.preferred_name_clean'])}
                       AS other_forename_words,
                   {std.words(['s.former_surname_clean',
                               "CASE WHEN s.surname_clean LIKE '% %' THEN s.surname_clean END"])}
                       AS other_surname_words
            FROM s
        ),
        c AS (
            SELECT v.*,
                   CASE WHEN v.dob_problem IS NULL THEN v.dob__date END AS dob_value,
                   coalesce(nh.canonical, v.first_name_head) AS first_name_canonical,
                   {std.sex_key('v.sex_value')} AS name_sex_key,
                   {std.first_token('v.surname_clean')} AS surname_first_token
            FROM v
            {std.nickname_join('nh', 'v.first_name_head', 'v.sex_value')}
        ),
        r0 AS (
            SELECT c.*,
                   CASE WHEN c.record_id IS NULL THEN 'missing_record_id'
                        WHEN c.first_name_clean IS NULL AND c.surname_clean IS NULL
                             AND c.nhs_number_value IS NULL AND c.dob_value IS NULL
                        THEN 'no_identifying_fields'
                   END AS reason0
            FROM c
        ),
        dup AS (
            SELECT source, record_id, min(ord) AS first_ord, min(line_number) AS first_line
            FROM r0 WHERE reason0 IS NULL
            GROUP BY source, record_id HAVING count(*) > 1
        )
        SELECT r0.*,
               coalesce(r0.reason0, CASE WHEN r0.ord > dup.first_ord
                                         THEN 'duplicate_record_id' END) AS reason,
               CASE WHEN r0.reason0 = 'missing_record_id' THEN 'the record id is empty'
                    WHEN r0.reason0 = 'no_identifying_fields'
                    THEN 'no name, no valid NHS number and no valid date of birth'
                    WHEN r0.ord > dup.first_ord
                    THEN 'record id ' || r0.record_id || ' already used on line '
                         || dup.first_line
               END AS detail
        FROM r0
        LEFT JOIN dup ON r0.reason0 IS NULL AND dup.source = r0.source
                     AND dup.record_id = r0.record_id
        """,  # noqa: S608 - SQL built from famlink's own fragments; values are parameters
        {"reference_date": job.reference_date},
    )
    _name_lists(con)
    identifiers = "".join(f", {std.identifier(f'p.{q(column)}')} AS {q(column)}"
                          for column in (f"id_{name}" for name in identifier_names(job.sources)))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE source_records AS
        SELECT p.source, s.agency, s.is_primary, p.record_id, p.file, p.line_number,
               p.first_name, p.middle_names, p.surname,
               p.dob AS dob_raw, p.sex AS sex_raw, p.nhs_number AS nhs_number_raw,
               p.postcode AS postcode_raw, p.uprn AS uprn_raw, p.address,
               p.first_name_clean, p.middle_names_clean, p.surname_clean,
               p.first_name_canonical, p.surname_first_token,
               p.dob_value AS dob, p.sex_value AS sex, p.nhs_number_value AS nhs_number,
               p.postcode_value AS postcode, p.address_clean, p.uprn_value AS uprn,
               p.address_from__date AS address_from, p.address_to__date AS address_to,
               p.postcode_district_value AS postcode_district,
               fl.names AS other_forenames, sl.names AS other_surnames,
               p.person_id AS source_person_id{identifiers}
        FROM _fl_people p JOIN _fl_sources s USING (source)
        LEFT JOIN _fl_forename_lists fl ON fl.words = p.other_forename_words
                                       AND fl.sex_key = p.name_sex_key
        LEFT JOIN _fl_surname_lists sl ON sl.words = p.other_surname_words
        WHERE p.reason IS NULL
        ORDER BY p.source, p.file_no, p.ord
        """  # noqa: S608 - identifier names checked against [a-z][a-z0-9_]* and quoted
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _fl_used AS "
                "SELECT source, record_id FROM source_records")
    con.execute("DROP TABLE _fl_stage_people")
    con.execute("DROP TABLE _fl_names")
    con.execute("DROP TABLE _fl_forename_lists")
    con.execute("DROP TABLE _fl_surname_lists")


def _name_lists(con: SQLConnection) -> None:
    """``other_forenames`` and ``other_surnames`` of each distinct spelling: the names'
    tokens, forenames nickname-resolved for the record's sex, distinct and sorted (names
    repeat, so each spelling is split once)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_forename_lists AS
        WITH w AS (
            SELECT DISTINCT other_forename_words AS words, name_sex_key AS sex_key
            FROM _fl_people WHERE reason IS NULL AND other_forename_words IS NOT NULL
        ),
        t AS (SELECT words, sex_key, unnest(string_split(words, ' ')) AS token FROM w)
        SELECT t.words, t.sex_key,
               list_sort(list_distinct(list(coalesce(n.canonical, t.token)))) AS names
        FROM t LEFT JOIN {q('_fl_nicknames')} n ON n.nickname = t.token AND n.sex_key = t.sex_key
        GROUP BY t.words, t.sex_key
        """  # noqa: S608
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_surname_lists AS
        WITH w AS (
            SELECT DISTINCT other_surname_words AS words
            FROM _fl_people WHERE reason IS NULL AND other_surname_words IS NOT NULL
        ),
        t AS (SELECT words, unnest(string_split(words, ' ')) AS token FROM w)
        SELECT words, list_sort(list_distinct(list(token))) AS names FROM t GROUP BY words
        """
    )


def _relationships_and_events(con: SQLConnection) -> None:
    rel_value = std.map_code("s.relationship", "crel.value", RELATIONSHIP_CODE_VALUES)
    type_value = std.map_code("s.event_type", "ctype.value", EVENT_TYPES)
    role_value = std.map_code("s.role", "crole.value", ROLES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_rels AS
        SELECT s.*, {rel_value} AS relationship_value,
               CASE WHEN s.record_id IS NULL THEN 'missing_record_id'
                    WHEN s.related_record_id IS NULL THEN 'missing_related_record_id'
                    WHEN s.relationship IS NULL THEN 'missing_relationship'
                    WHEN u1.record_id IS NULL THEN 'unknown_record_id'
                    WHEN u2.record_id IS NULL THEN 'unknown_related_record_id'
                    WHEN s.record_id = s.related_record_id THEN 'self_relationship'
               END AS reason,
               CASE WHEN s.record_id IS NULL THEN 'the record id is empty'
                    WHEN s.related_record_id IS NULL THEN 'the related record id is empty'
                    WHEN s.relationship IS NULL THEN 'the relationship is empty'
                    WHEN u1.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.record_id
                    WHEN u2.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.related_record_id || ' (related_record_id)'
                    WHEN s.record_id = s.related_record_id
                    THEN 'record ' || s.record_id || ' is related to itself'
               END AS detail
        FROM _fl_stage_relationships s
        {_code_join('crel', 's', 'relationships', 'relationship', 's.relationship')}
        LEFT JOIN _fl_used u1 ON u1.source = s.source AND u1.record_id = s.record_id
        LEFT JOIN _fl_used u2 ON u2.source = s.source AND u2.record_id = s.related_record_id
        """  # noqa: S608
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _fl_events AS
        SELECT s.*, coalesce(cend.value, {type_value}, 'other') AS event_type_value,
               cend.value IS NULL AND {type_value} IS NULL AND s.event_type IS NOT NULL
                   AS event_type_unmapped,
               cend.value IS NOT NULL AS is_episode_end,
               CASE WHEN s.role IS NOT NULL THEN coalesce({role_value}, 'other') END
                   AS role_value,
               {role_value} IS NULL AND s.role IS NOT NULL AS role_unmapped,
               CASE WHEN s.record_id IS NULL THEN 'missing_record_id'
                    WHEN s.event_date IS NULL THEN 'missing_event_date'
                    WHEN s.event_date__date IS NULL THEN 'unparseable_event_date'
                    WHEN u.record_id IS NULL THEN 'unknown_record_id'
               END AS reason,
               CASE WHEN s.record_id IS NULL THEN 'the record id is empty'
                    WHEN s.event_date IS NULL THEN 'the event date is empty'
                    WHEN s.event_date__date IS NULL
                    THEN 'the event date ' || s.event_date || ' is not a date in the '
                         || 'job file''s date_format'
                    WHEN u.record_id IS NULL
                    THEN 'no used ' || s.source || ' people row has record id '
                         || s.record_id
               END AS detail
        FROM _fl_stage_events s
        {_code_join('ctype', 's', 'events', 'event_type', 's.event_type')}
        {_code_join('cend', 's', 'events', 'episode_end', 's.event_type')}
        {_code_join('crole', 's', 'events', 'role', 's.role')}
        LEFT JOIN _fl_used u ON u.source = s.source AND u.record_id = s.record_id
        """  # noqa: S608
    )
    con.execute("DROP TABLE _fl_stage_relationships")
    con.execute("DROP TABLE _fl_stage_events")
    # people-file relationships: "this row's person is the <relationship> of relationship_to"
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_people_rels AS
        SELECT p.*, u.record_id IS NOT NULL AS target_known,
               CASE WHEN p.relationship IS NULL THEN 'missing_relationship'
                    WHEN p.relationship_to = p.record_id THEN 'self_reference'
                    WHEN u.record_id IS NULL THEN 'unknown_record_id'
               END AS problem
        FROM _fl_people p
        LEFT JOIN _fl_used u ON u.source = p.source AND u.record_id = p.relationship_to
        WHERE p.reason IS NULL AND p.relationship_to IS NOT NULL
        """
    )
    # a code mapped to "<relationship>_of" reads the other way round: swap the two ids so
    # every row reads "related_record_id is record_id's <relationship>"
    reversed_codes = std.literal_list(REVERSED_RELATIONSHIPS)
    reversed_value = f"coalesce(relationship_value IN {reversed_codes}, false)"
    forward_value = (f"CASE WHEN {reversed_value} THEN substr(relationship_value, 1, "
                     "length(relationship_value) - 3) "
                     "ELSE coalesce(relationship_value, 'other') END")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE relationships AS
        WITH r AS (
            SELECT source, 'relationships_file' AS origin, 'relationships' AS file_kind, file,
                   line_number,
                   CASE WHEN {reversed_value} THEN related_record_id ELSE record_id END
                       AS record_id,
                   CASE WHEN {reversed_value} THEN record_id ELSE related_record_id END
                       AS related_record_id,
                   {forward_value} AS relationship,
                   relationship AS relationship_code,
                   start_date__date AS start_date, end_date__date AS end_date,
                   {reversed_value} AS reversed
            FROM _fl_rels WHERE reason IS NULL
            UNION ALL
            SELECT source, 'people_file', 'people', file, line_number,
                   CASE WHEN {reversed_value} THEN record_id ELSE relationship_to END,
                   CASE WHEN {reversed_value} THEN relationship_to ELSE record_id END,
                   {forward_value}, relationship, NULL::DATE, NULL::DATE, {reversed_value}
            FROM _fl_people_rels WHERE problem IS NULL
        )
        SELECT r.source, s.agency, s.is_primary,
               r.source || ':' || r.file_kind || ':' || r.line_number AS relationship_key,
               r.origin, r.file, r.line_number, r.record_id, r.related_record_id,
               r.relationship, r.relationship_code, r.start_date, r.end_date, r.reversed
        FROM r JOIN _fl_sources s USING (source)
        ORDER BY r.source, {KIND_ORDER.format(col='r.file_kind')}, r.line_number
        """  # noqa: S608
    )
    _episodes(con)
    con.execute(
        """
        CREATE OR REPLACE TABLE events AS
        SELECT e.source, s.agency, s.is_primary,
               e.source || ':' || e.line_number AS event_key,
               coalesce(e.event_id, e.file || ':' || e.line_number) AS event_id,
               e.file, e.line_number, e.record_id, e.event_date__date AS event_date,
               e.event_type_value AS event_type, e.event_type AS event_code,
               e.role_value AS role, e.role AS role_code, e.summary,
               CASE WHEN e.is_episode_end THEN e.event_date__date
                    ELSE coalesce(p.end_date, e.end_date__date) END AS end_date,
               p.end_event_id, p.end_line_number, p.end_code,
               CASE WHEN e.is_episode_end THEN 'end_only'
                    WHEN coalesce(p.end_date, e.end_date__date) IS NOT NULL THEN 'closed'
                    WHEN t.event_type IS NOT NULL THEN 'open'
               END AS episode
        FROM _fl_events e JOIN _fl_sources s USING (source)
        LEFT JOIN _fl_episode_pairs p ON p.source = e.source AND p.start_line = e.line_number
        LEFT JOIN _fl_episode_types t ON t.source = e.source
                                     AND t.event_type = e.event_type_value
        LEFT JOIN _fl_episode_ends_alone a ON a.source = e.source
                                          AND a.line_number = e.line_number
        -- an end that closed a start is part of that start's row
        WHERE e.reason IS NULL AND (NOT e.is_episode_end OR a.line_number IS NOT NULL)
        ORDER BY e.source, e.line_number
        """
    )
    for table in ("_fl_episode_pairs", "_fl_episode_types", "_fl_episode_ends_alone"):
        con.execute(f"DROP TABLE {table}")


def _episodes(con: SQLConnection) -> None:
    """Pair each episode end (a code in ``episode_ends``) with the latest open start of the
    same type, for the same record, on or before it.

    Per source, record and episode type, the starts and ends in date order (a start before
    an end of the same day) are brackets: ``level`` counts the episodes open after each row,
    never below zero, so an end that finds none open (``level`` 0 before it) has no start.
    Any other end closes the latest start after which the level was its own level + 1 — the
    latest start not closed since. Writes ``_fl_episode_types`` (source, event_type),
    ``_fl_episode_pairs`` (the start's line with its end's date, id, line and code) and
    ``_fl_episode_ends_alone`` (source, line_number of the ends with no start).
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_episode_types AS
        SELECT DISTINCT source, value AS event_type FROM _fl_codes
        WHERE file_kind = 'events' AND field = 'episode_end'
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_episode_rows AS
        WITH e AS (
            SELECT e.source, e.record_id, e.event_type_value, e.line_number, e.is_episode_end,
                   e.event_date__date AS d, e.event_id, e.event_type AS code,
                   row_number() OVER (PARTITION BY e.source, e.record_id, e.event_type_value
                                      ORDER BY e.event_date__date, e.is_episode_end,
                                               e.line_number) AS pos
            FROM _fl_events e
            JOIN _fl_episode_types t ON t.source = e.source
                                    AND t.event_type = e.event_type_value
            WHERE e.reason IS NULL
        ),
        walk AS (
            SELECT e.*,
                   sum(CASE WHEN e.is_episode_end THEN -1 ELSE 1 END) OVER (
                       PARTITION BY e.source, e.record_id, e.event_type_value ORDER BY e.pos
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
            FROM e
        ),
        lifted AS (
            SELECT w.*,
                   w.total - least(0, min(w.total) OVER (
                       PARTITION BY w.source, w.record_id, w.event_type_value ORDER BY w.pos
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS level
            FROM walk w
        )
        SELECT f.*,
               coalesce(lag(f.level) OVER (
                   PARTITION BY f.source, f.record_id, f.event_type_value ORDER BY f.pos), 0)
                   AS level_before
        FROM lifted f
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_episode_pairs AS
        WITH matched AS (
            SELECT en.source, en.record_id, en.event_type_value, en.pos AS end_pos,
                   max(st.pos) AS start_pos
            FROM _fl_episode_rows en
            JOIN _fl_episode_rows st
              ON st.source = en.source AND st.record_id = en.record_id
             AND st.event_type_value = en.event_type_value AND st.pos < en.pos
             AND NOT st.is_episode_end AND st.level = en.level + 1
            WHERE en.is_episode_end AND en.level_before > 0
            GROUP BY en.source, en.record_id, en.event_type_value, en.pos
        )
        SELECT st.source, st.line_number AS start_line, en.d AS end_date,
               coalesce(en.event_id, ev.file || ':' || en.line_number) AS end_event_id,
               en.line_number AS end_line_number, en.code AS end_code
        FROM matched m
        JOIN _fl_episode_rows st ON st.source = m.source AND st.record_id = m.record_id
         AND st.event_type_value = m.event_type_value AND st.pos = m.start_pos
        JOIN _fl_episode_rows en ON en.source = m.source AND en.record_id = m.record_id
         AND en.event_type_value = m.event_type_value AND en.pos = m.end_pos
        JOIN _fl_events ev ON ev.source = en.source AND ev.line_number = en.line_number
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_episode_ends_alone AS
        SELECT source, line_number FROM _fl_episode_rows
        WHERE is_episode_end AND level_before = 0
        """
    )
    con.execute("DROP TABLE _fl_episode_rows")


def _quarantine_reasons(con: SQLConnection) -> None:
    """``_fl_q``: every row not used, with the position of its raw row and the reason."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fl_q AS
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_people WHERE reason IS NOT NULL
        UNION ALL
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_rels WHERE reason IS NOT NULL
        UNION ALL
        SELECT source, file_kind, file, file_no, ord, line_number, reason, detail
        FROM _fl_events WHERE reason IS NOT NULL
        """
    )


def _nulled_values(con: SQLConnection) -> None:
    def people(name: str, reason: str, raw: str, condition: str) -> str:
        return (f"SELECT source, file_kind, file, line_number, record_id, '{name}' AS field, "  # noqa: S608
                f"{reason} AS reason, {raw} AS raw_value FROM _fl_people "
                f"WHERE reason IS NULL AND {condition}")

    def dates(table: str, name: str) -> str:
        return (f"SELECT source, file_kind, file, line_number, record_id, '{name}', "  # noqa: S608
                f"'unparseable_date', {name} FROM {table} WHERE reason IS NULL "
                f"AND {name} IS NOT NULL AND {name}__date IS NULL")

    parts = [
        people("dob", "dob_problem", "dob", "dob_problem IS NOT NULL"),
        dates("_fl_people", "address_from"),
        dates("_fl_people", "address_to"),
        people("nhs_number", "'invalid_nhs_number'", "nhs_number",
               "nhs_number IS NOT NULL AND nhs_number_value IS NULL"),
        # a partial UK postcode: postcode NULL, its district kept
        people("postcode", "CASE WHEN postcode_district_value IS NULL THEN 'invalid_postcode' "
               "ELSE 'partial_postcode' END", "postcode",
               "postcode IS NOT NULL AND postcode_value IS NULL"),
        people("uprn", "'invalid_uprn'", "uprn", "uprn IS NOT NULL AND uprn_value IS NULL"),
        people("sex", "'unmapped_code'", "sex", "sex IS NOT NULL AND sex_mapped IS NULL"),
        "SELECT source, file_kind, file, line_number, record_id, 'relationship_to', problem, "
        "relationship_to FROM _fl_people_rels WHERE problem IS NOT NULL",
        dates("_fl_rels", "start_date"),
        dates("_fl_rels", "end_date"),
        dates("_fl_events", "end_date"),
    ]
    con.execute(
        "CREATE OR REPLACE TABLE nulled_values AS SELECT * FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + ") ORDER BY source, " + KIND_ORDER.format(col="file_kind")
        + ", line_number, field"
    )


def _unmapped_codes(con: SQLConnection) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE unmapped_codes AS
        WITH u AS (
            SELECT source, file_kind, 'sex' AS field, sex AS code FROM _fl_people
            WHERE reason IS NULL AND sex IS NOT NULL AND sex_mapped IS NULL
            UNION ALL
            SELECT source, file_kind, 'relationship', relationship FROM _fl_people_rels
            WHERE problem IS NULL AND relationship_value IS NULL
            UNION ALL
            SELECT source, file_kind, 'relationship', relationship FROM _fl_rels
            WHERE reason IS NULL AND relationship_value IS NULL
            UNION ALL
            SELECT source, file_kind, 'event_type', event_type FROM _fl_events
            WHERE reason IS NULL AND event_type_unmapped
            UNION ALL
            SELECT source, file_kind, 'role', role FROM _fl_events
            WHERE reason IS NULL AND role_unmapped
        )
        SELECT source, file_kind, field, code, count(*) AS rows FROM u
        GROUP BY source, file_kind, field, code
        ORDER BY source, {KIND_ORDER.format(col='file_kind')}, field, code
        """  # noqa: S608
    )
