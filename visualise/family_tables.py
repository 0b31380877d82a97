"""The tables under the family network: the flags with their evidence, the households and each
child's chronology, as rows of display text (names, dates and free text through the
:class:`Presenter`, so redaction applies).
"""

from __future__ import annotations

from typing import Any

from famlink.visualise.data import FamilyViewData
from famlink.visualise.page import probability
from famlink.visualise.present import Presenter
from famlink.visualise.redact import WITHHELD_SUMMARY

FLAG_EVIDENCE_COLUMNS = [
    "#",
    "Part",
    "Kind",
    "Agency",
    "Source record",
    "Related record",
    "Relationship or event",
    "From",
    "To",
    "Description",
    "Link probability",
]
HOUSEHOLD_COLUMNS = ["Person", "From", "To", "Sources"]
CHRONOLOGY_COLUMNS = [
    "Date",
    "Agency",
    "Source record",
    "Who",
    "Relation to child",
    "Kind",
    "Event",
    "Role",
    "Summary",
    "Link probability",
]


def flag_tables(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    """Each flag of the family's children with its numbered evidence."""
    flags = []
    for f in data.flags:
        flags.append(
            {
                "type": f.flag_type.replace("_", " "),
                "key": f.flag_key,
                "child": show.name(f.child_person_id),
                "adult": show.name(f.adult_person_id) if f.adult_person_id else "",
                "explanation": show.text(f.explanation),
                "link_probability": probability(f.link_probability),
                "evidence": [
                    [
                        str(ev.item_no),
                        ev.part or "",
                        ev.kind if not ev.basis else f"{ev.kind or ''} ({ev.basis})",
                        ev.agency or "",
                        f"{ev.source or ''}:{ev.record_id or ''}" if ev.record_id else "",
                        ev.related_record_id or "",
                        (ev.relationship or ev.event_type or "").replace("_", " "),
                        show.date(ev.date_from),
                        show.date(ev.date_to),
                        (
                            WITHHELD_SUMMARY
                            if show.redact and ev.kind == "event"
                            else show.text(ev.description)
                        ),
                        probability(ev.link_probability),
                    ]
                    for ev in f.evidence
                ],
            }
        )

    return flags


def household_tables(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    """Each household of the children in focus: who lived there, when, on whose records."""
    households = []
    for h in data.households:
        where = (
            "address withheld"
            if show.redact
            else (h.address or h.address_key or "address not recorded")
        )
        if h.is_communal:
            where += " (communal: no co-residence is inferred here)"
        households.append(
            {
                "heading": f"Household {h.household_id} — {where}",
                "rows": [
                    [
                        show.name(m.person_id),
                        show.date(m.date_from),
                        show.date(m.date_to) or "now",
                        "; ".join(m.sources),
                    ]
                    for m in h.members
                ],
            }
        )

    return households


def chronology_tables(data: FamilyViewData, show: Presenter) -> list[dict[str, Any]]:
    """Each child's chronology, one row per entry."""
    chronologies = []
    for child_id, entries in data.chronologies:
        chronologies.append(
            {
                "child": show.name(child_id),
                "rows": [
                    [
                        show.date(c.event_date),
                        c.agency or "",
                        f"{c.source or ''}:{c.record_id or ''}" if c.record_id else "",
                        show.name(c.person_id, c.person_name)
                        if c.person_id
                        else show.free_name(c.person_name),
                        (c.relation_to_child or "").replace("_", " ")
                        + (
                            f" ({c.relation_basis})"
                            if c.relation_basis and c.relation_basis != "recorded"
                            else ""
                        ),
                        c.entry_kind or "",
                        (c.event_type or "").replace("_", " "),
                        c.role or "",
                        WITHHELD_SUMMARY if show.redact else (c.summary or ""),
                        probability(c.link_probability),
                    ]
                    for c in entries
                ],
            }
        )

    return chronologies
