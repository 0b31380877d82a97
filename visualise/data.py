"""The typed data the views are rendered from: people, records, relationships, flags,
chronologies, households and the run, as plain frozen dataclasses.

Nothing is escaped, redacted or rendered here, and nothing is read: :mod:`family_data` and
:mod:`index_data` fill these from the output database; the views render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: Relationship values meaning "related_person_id is person_id's parent (or carer)".
PARENT_RELATIONSHIPS = frozenset({"mother", "father", "parent", "step_parent", "carer"})
#: ... and their reverses, "related_person_id is person_id's child (or cared-for child)".
CHILD_RELATIONSHIPS = frozenset({"child", "step_child", "cared_for"})

ADULT_AGE = 18


@dataclass(frozen=True)
class RecordData:
    """One agency record of a person (``source_records`` via ``person_records``)."""

    source: str
    agency: str
    record_id: str
    is_primary: bool
    first_name: str | None
    middle_names: str | None
    surname: str | None
    dob_raw: str | None
    dob: date | None
    address: str | None = None  # address, postcode and UPRN: only to redact them from text
    postcode: str | None = None
    uprn: str | None = None


@dataclass(frozen=True)
class PersonData:
    """A linked person (``persons``) with their records and their role in this view."""

    person_id: str
    display_name: str
    first_name: str | None
    surname: str | None
    dob: date | None
    sex: str | None
    agencies: tuple[str, ...]
    n_records: int
    in_primary: bool
    min_link_probability: float | None
    records: tuple[RecordData, ...]
    age_years: int | None
    role: str  # "focus_child" | "child" | "adult"
    named_in_flag: bool  # the adult of one of this family's flags


@dataclass(frozen=True)
class RelationshipData:
    """One row of ``relationships_resolved`` (both ends are in the view)."""

    person_id: str
    related_person_id: str
    relationship: str
    basis: str
    source: str | None
    agency: str | None
    is_primary: bool | None
    evidence: tuple[dict[str, Any], ...]
    start_date: date | None
    end_date: date | None
    link_probability: float | None


@dataclass(frozen=True)
class FlagEvidenceData:
    item_no: int
    kind: str | None
    agency: str | None
    source: str | None
    record_id: str | None
    related_record_id: str | None
    relationship: str | None
    event_type: str | None
    date_from: date | None
    date_to: date | None
    description: str | None
    link_probability: float | None
    part: str | None = None  # role | trigger | absence | context (models' addition)
    basis: str | None = None


@dataclass(frozen=True)
class FlagData:
    flag_key: str
    flag_type: str
    child_person_id: str
    adult_person_id: str | None
    explanation: str | None
    family_id: str | None
    link_probability: float | None
    evidence: tuple[FlagEvidenceData, ...]


@dataclass(frozen=True)
class ChronologyEntry:
    child_person_id: str
    entry_no: int
    event_date: date | None
    agency: str | None
    source: str | None
    record_id: str | None
    person_id: str | None
    person_name: str | None
    relation_to_child: str | None
    entry_kind: str | None
    event_type: str | None
    role: str | None
    summary: str | None
    link_probability: float | None
    relation_basis: str | None = None  # recorded | derived | inferred (models' addition)


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    date_from: date | None
    date_to: date | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class HouseholdData:
    household_id: str
    address_key: str | None
    members: tuple[HouseholdMember, ...]
    address: str | None = None  # as recorded (models' addition)
    is_communal: bool | None = None


@dataclass(frozen=True)
class RunManifest:
    """The run a view was made from (the latest row of ``runs``)."""

    fields: tuple[tuple[str, str], ...]  # (label, value) in display order
    inputs: tuple[dict[str, Any], ...]
    reference_date: date | None
    personal_fields: frozenset[str] = frozenset({"user_name", "host"})


@dataclass(frozen=True)
class FamilyViewData:
    """Everything one family view shows, read from the database."""

    focus_child_id: str | None
    family_id: str | None
    reference_date: date | None
    persons: tuple[PersonData, ...]  # sorted by person_id
    relationships: tuple[RelationshipData, ...]
    flags: tuple[FlagData, ...]
    chronologies: tuple[tuple[str, tuple[ChronologyEntry, ...]], ...]  # (child id, entries)
    households: tuple[HouseholdData, ...]
    household_names: dict[str, str] = field(default_factory=dict)  # members outside the view
    run: RunManifest | None = None

    def person(self, person_id: str) -> PersonData | None:
        for p in self.persons:
            if p.person_id == person_id:
                return p
        return None


@dataclass(frozen=True)
class IndexRow:
    child_person_id: str
    display_name: str
    first_name: str | None
    surname: str | None
    dob: date | None
    family_id: str | None
    flag_types: tuple[str, ...]
    n_flags: int
    agencies: tuple[str, ...]
    min_link_probability: float | None


@dataclass(frozen=True)
class IndexData:
    rows: tuple[IndexRow, ...]
    flag_type_counts: tuple[tuple[str, int, int], ...]  # (flag type, flags, children)
    run: RunManifest | None
    reference_date: date | None


def age_on(dob: date | None, on: date | None) -> int | None:
    """Whole years from ``dob`` to ``on``.

    >>> age_on(date(2020, 3, 1), date(2026, 2, 28))
    5
    """
    if dob is None or on is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
