"""`explain_flag`: one flag in plain text — the rule, why it fired, every evidence item, and the
person links it depends on (each person's records as the agencies recorded them).

The rule texts below are the wording of docs/flags.md (a test keeps the two in step); every
other module that states a rule should read them from :data:`RULES`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

from famlink.models import audit

RULES: dict[str, str] = {
    "unrecorded_male_carer": (
        "A male adult around the child, aged 16 or over (or of unknown age, if an agency "
        "records him as a parent, carer or partner — co-residence alone needs a known age), "
        "whom no primary source records, in its relationships, as: a parent, step-parent, "
        "carer or household member of the child, or of any other child of the child's mother; "
        "nor a partner, ex-partner or household member of any of the child's parents."
    ),
    "unrecorded_non_birthing_partner": (
        "The same test for a second parent who is not recorded as male (female, unknown or not "
        "recorded): a partner of the child's mother (as above), or someone an agency records as "
        "the child's parent or step-parent — but never anyone an agency records as the child's "
        "mother. Living at the address alone does not count: a shared address does not show a "
        "partnership."
    ),
    "father_not_recorded": (
        "No primary source records a father, step-parent, or male parent, carer or household "
        "member for the child, nor a male partner of the child's mother. Evidence (absence): "
        "each of the child's primary records that was checked. Fathers known only to "
        "non-primary agencies (police, housing) do not stop this flag — that is the gap it "
        "points at; the unrecorded_male_carer flag names such a man."
    ),
    "sibling_safeguarding_history": (
        "A full or half sibling — recorded, or derived through either parent, including the "
        "father's children in other families — has a child protection plan (cp_plan) or a "
        "period looked after (looked_after) recorded at any date. Evidence: the sibling "
        "relationship (with the parent records it was derived from) and the sibling's plan or "
        "care episodes."
    ),
    "adult_risk_history": (
        "An adult around the child — 18 or over (or of unknown age, if an agency records them "
        "as a parent, carer or partner): a parent, carer, partner of a parent or co-resident, "
        "recorded or not — has any of: a domestic-abuse incident in which they are the "
        "suspect; a mental-health admission or detention; substance misuse or an offence, "
        "except where their role is victim or witness. Being a victim does not raise it. A "
        "mental-health referral alone does not raise it (it appears in the chronology). Events "
        "at any date before the extract count."
    ),
    "non_mobile_injury": (
        "An injury event (bruising is coded as injury) dated on or after the child's birth and "
        "before they were 6 months old (non_mobile_age_months). Context evidence: the people "
        "aged 16 or over (or of unknown age) recorded at the child's address on that date — by "
        "dated residence records, or by undated ones when the injury is inside the window."
    ),
    "neglect_without_gcp2": (
        "A neglect concern is recorded for the child and no Graded Care Profile 2 assessment "
        "(gcp2_assessment) is recorded for the child at any date. famlink never computes GCP2 "
        "scores."
    ),
}
"""Each flag rule in plain English: the wording of docs/flags.md, markdown removed."""

LINK_PROBABILITY_TEXT = (
    "For each part (role, trigger, absence) famlink takes the best item — the flag stands if "
    "one of them does — and the flag's probability is the smallest of those. A low value "
    'means "check the person match first".'
)
"""How a flag's link probability is made (docs/flags.md, "Link probability of a flag")."""

PART_TEXT = {
    "role": "why this person counts",
    "trigger": "the record raising the flag",
    "absence": "a record checked and found without",
    "context": "shown to help, not needed by the rule",
}

WIDTH = 96


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=indent, subsequent_indent=indent
    ) or [indent.rstrip()]


def _p(value: float | None) -> str:
    return "?" if value is None else f"{value:.3f}"


def _d(value: date | None, open_text: str = "…") -> str:
    return value.isoformat() if value is not None else open_text


def person_records(con: duckdb.DuckDBPyConnection, person_id: str) -> list[dict[str, Any]]:
    """A person's records as recorded (`person_records` ⋈ `source_records`), each with its
    link probability: its strongest `record_links` match to another record of the same person
    (1.0 for a person of one record; the person's weakest link when no pair was kept)."""
    cur = con.execute(
        """
        WITH mine AS (
            SELECT source, record_id FROM person_records WHERE person_id = $pid
        ),
        links AS (
            SELECT source_l AS s1, record_id_l AS r1, source_r AS s2, record_id_r AS r2,
                   match_probability FROM record_links
            UNION ALL
            SELECT source_r, record_id_r, source_l, record_id_l, match_probability
            FROM record_links
        ),
        best AS (
            SELECT l.s1 AS source, l.r1 AS record_id, max(l.match_probability) AS p
            FROM links l
            SEMI JOIN mine a ON a.source = l.s1 AND a.record_id = l.r1
            SEMI JOIN mine b ON b.source = l.s2 AND b.record_id = l.r2
            GROUP BY ALL
        )
        SELECT s.source, s.agency, s.is_primary, s.record_id, s.file, s.line_number,
               concat_ws(' ', s.first_name, s.middle_names, s.surname) AS name,
               s.dob_raw, s.sex_raw, s.address, s.postcode_raw, s.uprn_raw,
               CASE WHEN p.n_records = 1 THEN 1.0
                    ELSE coalesce(b.p, p.min_link_probability, 1.0) END AS link_probability
        FROM mine m
        JOIN source_records s USING (source, record_id)
        JOIN persons p ON p.person_id = $pid
        LEFT JOIN best b USING (source, record_id)
        ORDER BY NOT s.is_primary, s.source, s.record_id
        """
        if _has_record_links(con)
        else """
        SELECT s.source, s.agency, s.is_primary, s.record_id, s.file, s.line_number,
               concat_ws(' ', s.first_name, s.middle_names, s.surname) AS name,
               s.dob_raw, s.sex_raw, s.address, s.postcode_raw, s.uprn_raw,
               CASE WHEN p.n_records = 1 THEN 1.0
                    ELSE coalesce(p.min_link_probability, 1.0) END AS link_probability
        FROM person_records pr
        JOIN source_records s USING (source, record_id)
        JOIN persons p ON p.person_id = pr.person_id
        WHERE pr.person_id = $pid
        ORDER BY NOT s.is_primary, s.source, s.record_id
        """,
        {"pid": person_id},
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _has_record_links(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'record_links'"
        ).fetchone()[0]  # type: ignore[index]
    )


def _person_lines(
    con: duckdb.DuckDBPyConnection, label: str, person_id: str
) -> list[str]:
    row = con.execute(
        """SELECT display_name, dob, sex, n_records, min_link_probability FROM persons
           WHERE person_id = ?""",
        [person_id],
    ).fetchone()
    if row is None:
        return [f"  {label}: {person_id} — no longer in `persons` (re-linked since?)"]
    name, dob, sex, n, weakest = row
    lines = [
        f"  {label}: {name} ({person_id}), born {_d(dob, 'unknown')}, {sex or 'sex unknown'} — "
        f"{n} record(s), weakest link inside the person {_p(weakest)}"
    ]
    for r in person_records(con, person_id):
        lines.append(
            f"    {r['agency']} ({'primary' if r['is_primary'] else 'non-primary'}): "
            f"source {r['source']} record {r['record_id']} — {r['name'] or '(no name)'}, "
            f"dob as recorded {r['dob_raw'] or '(none)'}, link probability "
            f"{_p(r['link_probability'])}"
        )
    return lines


def _item_lines(item: dict[str, Any]) -> list[str]:
    what = item.get("relationship") or item.get("event_type") or item.get("kind")
    dates = ""
    if item.get("date_from") and item.get("date_from") == item.get("date_to"):
        dates = f" on {_d(item.get('date_from'))}"
    elif item.get("date_from") or item.get("date_to"):
        dates = f", {_d(item.get('date_from'))} to {_d(item.get('date_to'))}"
    related = (
        f" (related record {item['related_record_id']})" if item.get("related_record_id") else ""
    )
    head = (
        f"{item['item_no']}. [{item['part']}: {PART_TEXT.get(item['part'], '')}] "
        f"{item['agency']}, source {item['source']} record {item['record_id']}{related}: "
        f"{item['kind']} {what}{dates}; {item.get('basis') or ''}; link probability "
        f"{_p(item.get('link_probability'))}"
    )
    lines = textwrap.wrap(head, width=WIDTH, initial_indent="  ", subsequent_indent="     ")
    return [*lines, *_wrap(item.get("description") or "", indent="     | ")]


def explain_flag(con: duckdb.DuckDBPyConnection, flag_key: str) -> str:
    """Explain one flag in plain text: the rule, why it fired, each evidence item (agency,
    source, record id, relationship or event, dates, link probability), and the records of
    the child, the adult and anyone else the evidence rests on.

    Raises :class:`models.audit.UnknownFlagError` (a ``FamlinkError``) for an unknown key,
    with close matches — or, for a key no longer raised but with decisions, saying it is
    orphaned; call ``err.for_dir(out_dir)`` to name the folder in its hint.
    """
    audit.require_flags(con)
    flag = audit.flag_row(con, flag_key)
    if flag is None:
        decided = len(audit.read_decisions(con, "flag_key = ?", [flag_key]))
        raise audit.UnknownFlagError(
            flag_key, audit.suggest_flag_keys(con, flag_key), decisions=decided
        )
    items = audit.evidence_by_flag(con, [flag_key]).get(flag_key, [])
    flag_type = flag["flag_type"]
    lines = [f"Flag {flag_key}"]
    lines.append(f"  child: {flag['child_name']} ({flag['child_person_id']})")
    if flag["adult_person_id"]:
        lines.append(f"  adult: {flag['adult_name']} ({flag['adult_person_id']})")
    lines.append(
        f"  link probability {_p(flag['link_probability'])} (the weakest person link it "
        "relies on)"
    )
    lines += ["", f"The rule ({flag_type}):"]
    if flag_type == "unrecorded_non_birthing_partner":
        lines += _wrap("The test of unrecorded_male_carer: " + RULES["unrecorded_male_carer"])
    lines += _wrap(RULES.get(flag_type, "(no description of this rule)"))
    if flag_type == "non_mobile_injury":
        months = _non_mobile_months(con)
        if months is not None:
            lines += _wrap(f"This run's non-mobile age: {months} months.")
    lines += ["", "Why it was raised:", *_wrap(flag["explanation"] or "")]
    lines += ["", f"Evidence ({len(items)} item{'s' if len(items) != 1 else ''}):"]
    for item in items:
        lines += _item_lines(item)
    lines += ["", "Link probability:", *_wrap(LINK_PROBABILITY_TEXT)]
    lines += ["", "Person links it depends on (check these matches first):"]
    lines += _person_lines(con, "child", flag["child_person_id"])
    if flag["adult_person_id"]:
        lines += _person_lines(con, "adult", flag["adult_person_id"])
    others = _other_people(items, (flag["child_person_id"], flag["adult_person_id"]))
    for person_id in others:
        lines += _person_lines(con, "also in the evidence", person_id)
    decisions = audit.read_decisions(con, "flag_key = ?", [flag_key])
    lines += ["", "Audit:"]
    if decisions:
        d = decisions[-1]
        lines.append(
            f"  {d.status} by {d.decided_by} on {d.decided_at.isoformat(timespec='seconds')}Z "
            f"({len(decisions)} decision{'s' if len(decisions) != 1 else ''}):"
        )
        lines += _wrap(d.reason, indent="    ")
    else:
        lines.append("  open: no decision recorded yet")
    return "\n".join(lines)


def _other_people(items: Sequence[dict[str, Any]], skip: Sequence[str | None]) -> list[str]:
    seen: list[str] = []
    for item in items:
        pid = item.get("person_id")
        if pid and pid not in skip and pid not in seen:
            seen.append(pid)
    return seen


def _non_mobile_months(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        row = con.execute("SELECT non_mobile_age_months FROM models_run").fetchone()
    except duckdb.Error:
        return None
    return int(row[0]) if row else None
