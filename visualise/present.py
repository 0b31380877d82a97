"""Every string a family view shows, redacted or not: redaction happens here, once."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from famlink.visualise.data import FamilyViewData, PersonData
from famlink.visualise.redact import WITHHELD_DOB, Scrubber, age_band, initials

T = TypeVar("T")


class Presenter:
    """Every string a family view shows, redacted or not."""

    def __init__(self, data: FamilyViewData, redact: bool) -> None:
        self.data = data
        self.redact = redact
        self.people = {p.person_id: p for p in data.persons}
        dobs: set[date] = {p.dob for p in data.persons if p.dob} | {
            r.dob for p in data.persons for r in p.records if r.dob
        }
        self._dob_iso = {d.isoformat() for d in dobs}
        self.scrub: Scrubber | None = None
        if redact:
            names: list[str | None] = []
            for p in data.persons:
                names += [p.display_name, p.first_name, p.surname]
                for r in p.records:
                    names += [r.first_name, r.middle_names, r.surname]
            names += list(data.household_names.values())
            names += [e.person_name for _, entries in data.chronologies for e in entries]
            raw = [r.dob_raw for p in data.persons for r in p.records]
            places = [
                x for p in data.persons for r in p.records for x in (r.address, r.postcode, r.uprn)
            ]
            for h in data.households:
                places.append(h.address)
                if h.address_key:  # uprn:<UPRN> or addr:<postcode>|<address_clean>
                    places += h.address_key.partition(":")[2].split("|")
            self.scrub = Scrubber(names, [*sorted(dobs), *raw], places)

    def name(self, person_id: str | None, fallback: str | None = None) -> str:
        if person_id is None:
            return self.free_name(fallback)
        p = self.people.get(person_id)
        if p is None:
            return self.free_name(self.data.household_names.get(person_id) or fallback or person_id)
        if self.redact:
            if p.first_name or p.surname:
                return initials(p.first_name, p.surname)
            return initials(*p.display_name.split())
        return p.display_name or person_id

    def free_name(self, name: str | None) -> str:
        if not name:
            return ""
        return initials(*name.split()) if self.redact else name

    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        text = value.isoformat() if isinstance(value, date) else str(value)
        if self.redact and text[:10] in self._dob_iso:
            return WITHHELD_DOB
        return text

    def text(self, value: str | None) -> str:
        if value is None:
            return ""
        return (self.scrub(value) or "") if self.scrub else value

    def content(self, value: T) -> T:
        """Every string inside ``value`` (lists, dicts) through :meth:`text`.

        Applied to everything a reader sees when redacting, as a last sweep: models' columns
        can carry names anywhere (e.g. "sibling (derived via <name>)").
        """
        if not self.scrub:
            return value
        if isinstance(value, str):
            return self.text(value)  # type: ignore[return-value]
        if isinstance(value, list):
            return [self.content(v) for v in value]  # type: ignore[return-value]
        if isinstance(value, tuple):
            return tuple(self.content(v) for v in value)  # type: ignore[return-value]
        if isinstance(value, dict):
            return {k: self.content(v) for k, v in value.items()}  # type: ignore[return-value]
        return value

    def visible(self, item: dict[str, Any]) -> dict[str, Any]:
        """A vis node or edge with its label and tooltip swept (ids, colours, options kept)."""
        return {k: self.content(v) if k in ("label", "title") else v for k, v in item.items()}

    def dob(self, p: PersonData) -> str:
        if self.redact:
            return age_band(p.age_years)
        if p.dob is None:
            return "not recorded"
        return p.dob.isoformat() + (f" (age {p.age_years})" if p.age_years is not None else "")

    def age(self, p: PersonData) -> str:
        if self.redact:
            return age_band(p.age_years)
        return "age unknown" if p.age_years is None else f"age {p.age_years}"

    def recorded_name(self, first: str | None, middle: str | None, surname: str | None) -> str:
        if self.redact:
            return initials(first, surname)
        return " ".join(x for x in (first, middle, surname) if x)
