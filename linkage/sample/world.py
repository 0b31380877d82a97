"""The synthetic world: what it is made of, and the :class:`World` that hands out its parts.

People, their homes over time, relationships (the truth, in the job file's vocabulary), life
events, families and clusters are plain dataclasses. The :class:`World` holds only what must be
unique across the whole run — person, family and incident numbers, NHS numbers, properties —
and makes addresses, names and people from the one ``random.Random`` handed in; nothing
iterates a set.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random

from famlink.linkage.sample.dates import months_before
from famlink.linkage.sample.names import (
    FEMALE_FIRST_NAMES,
    MALE_FIRST_NAMES,
    NICKNAMES,
    POSTCODE_UNIT_LETTERS,
    STREET_STEMS,
    STREET_SUFFIXES,
    SURNAMES,
    TOWNS,
)
from famlink.linkage.sample.nhs import nhs_check_digit


def _weights(n: int) -> list[float]:
    """Cumulative rank weights: common names come round far more often than rare ones."""
    return list(itertools.accumulate(1.0 / (rank + 3) ** 0.8 for rank in range(n)))


_MALE_CW = _weights(len(MALE_FIRST_NAMES))
_FEMALE_CW = _weights(len(FEMALE_FIRST_NAMES))
_SURNAME_CW = _weights(len(SURNAMES))


# ---------------------------------------------------------------------------------------------
# world objects


@dataclass(slots=True)
class Address:
    """One property (a flat is its own property, with its own UPRN)."""

    uprn: str
    flat: int | None
    number: int
    stem: str
    suffix: int  # index into STREET_SUFFIXES
    locality: str
    town: str
    postcode: str

    def street(self, abbreviate: bool = False) -> str:
        full, short = STREET_SUFFIXES[self.suffix]
        return f"{self.stem} {short if abbreviate else full}"


@dataclass(slots=True)
class Residence:
    address: Address
    start: date
    end: date | None  # None: still living there at the reference date


@dataclass(slots=True)
class Person:
    pid: str
    first: str
    middle: str
    surname: str
    birth_surname: str
    dob: date
    sex: str  # "male" | "female"
    nhs: str
    role: str
    families: list[str]
    residences: list[Residence] = field(default_factory=list)
    # plans that decide where a person lives: ("family", fid, start, end) or ("own", start, end)
    stays: list[tuple] = field(default_factory=list)

    def residence_on(self, d: date) -> Residence | None:
        for res in self.residences:
            if res.start <= d and (res.end is None or d < res.end):
                return res
        return None

    def current(self) -> Residence:
        return self.residences[-1]


@dataclass(slots=True)
class Rel:
    """`b` is `a`'s `rel` (canonical vocabulary, as in the job-file spec)."""

    a: Person
    b: Person
    rel: str
    start: date | None = None
    end: date | None = None
    detail: str = ""


@dataclass(slots=True)
class Event:
    person: Person
    etype: str  # canonical event type
    when: datetime
    source: str  # the agency whose extract holds it
    role: str = "subject"
    incident: str = ""  # shared by everyone in one police incident
    detail: str = ""


@dataclass
class Family:
    fid: str
    mother: Person
    children: list[Person]
    father_of: dict[str, Person | None]  # child pid -> birth father
    fathers: list[Person]
    # (person, start, end-or-None, lives_with_family)
    partners: list[tuple[Person, date, date | None, bool]]
    others: list[Person]  # grandparents, lodgers, uncles
    addresses: list[Residence]  # the family home over time
    flags: dict[str, bool] = field(default_factory=dict)


@dataclass
class Cluster:
    index: int
    families: list[Family]
    persons: list[Person]
    rels: list[Rel]
    events: list[Event]
    special_pairs: list[tuple[str, Person, Person]]

# ---------------------------------------------------------------------------------------------
# the world builder


class World:
    """Makes clusters one at a time; holds only what must be unique across the whole run."""

    def __init__(self, rng: Random, reference_date: date) -> None:
        self.rng = rng
        self.ref = reference_date
        self.window_start = months_before(reference_date, 12)
        self._person_seq = 0
        self._family_seq = 0
        self._incident_seq = 0
        self._uprn_seq = 0
        self._used_nhs: set[str] = set()
        self._used_props: set[int] = set()
        self._streets = self._make_streets()

    # -- basics -------------------------------------------------------------------------------

    def date_between(self, lo: date, hi: date) -> date:
        if hi <= lo:
            return lo
        return lo + timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def _make_streets(self) -> list[tuple[str, int, str, str, str, list[str]]]:
        """(stem, suffix, locality, town, outward code, inward codes) for every street."""
        rng = self.rng
        streets = []
        for town, districts, localities in TOWNS:
            n = 30 + 12 * len(districts)
            seen: set[tuple[str, int]] = set()
            while len(seen) < n:
                stem = rng.choice(STREET_STEMS)
                suffix = rng.randrange(len(STREET_SUFFIXES))
                if (stem, suffix) in seen:
                    continue
                seen.add((stem, suffix))
                outward = rng.choice(districts)
                sector = rng.randrange(1, 10)
                inwards = [
                    f"{sector}{rng.choice(POSTCODE_UNIT_LETTERS)}{rng.choice(POSTCODE_UNIT_LETTERS)}"
                    for _ in range(rng.randrange(1, 4))
                ]
                streets.append((stem, suffix, rng.choice(localities), town, outward, inwards))
        return streets

    def new_address(self) -> Address:
        rng = self.rng
        tries = 0
        while True:
            s = rng.randrange(len(self._streets))
            # long streets only once the short ends fill up (very large runs)
            number = rng.randrange(1, 240 if tries < 8 else 240 + 100 * tries)
            flat = rng.randrange(1, 9) if rng.random() < 0.22 else 0
            key = (s * 1_000_000 + number) * 10 + flat
            if key not in self._used_props:
                self._used_props.add(key)
                break
            tries += 1
        stem, suffix, locality, town, outward, inwards = self._streets[s]
        self._uprn_seq += 1
        uprn = str(100_020_000_000 + self._uprn_seq * 17 + rng.randrange(17))
        inward = inwards[number % len(inwards)]
        return Address(uprn, flat or None, number, stem, suffix, locality, town,
                       f"{outward} {inward}")

    def new_nhs(self) -> str:
        rng = self.rng
        while True:
            nine = rng.choice("467") + f"{rng.randrange(100_000_000):08d}"
            check = nhs_check_digit(nine)
            if check is None:
                continue
            number = nine + str(check)
            if number not in self._used_nhs:
                self._used_nhs.add(number)
                return number

    def first_name(self, sex: str, avoid: tuple[str, ...] = ()) -> str:
        names, cw = (MALE_FIRST_NAMES, _MALE_CW) if sex == "male" else (FEMALE_FIRST_NAMES, _FEMALE_CW)
        blocked = {a.lower() for a in avoid}
        for a in avoid:  # a twin must not be a nickname or a near-spelling of the other
            for full, nicks in NICKNAMES.items():
                if a == full or a in nicks:
                    blocked.add(full.lower())
                    blocked.update(n.lower() for n in nicks)
        while True:
            name = self.rng.choices(names, cum_weights=cw)[0]
            low = name.lower()
            if low in blocked or any(low[:3] == b[:3] for b in blocked):
                continue
            return name

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, cum_weights=_SURNAME_CW)[0]

    def person(self, *, sex: str, dob: date, role: str, fid: str, surname: str | None = None,
               first: str | None = None) -> Person:
        self._person_seq += 1
        rng = self.rng
        middle = self.first_name(sex) if rng.random() < 0.4 else ""
        sname = surname or self.surname()
        return Person(
            pid=f"TP{self._person_seq:07d}",
            first=first or self.first_name(sex),
            middle=middle,
            surname=sname,
            birth_surname=sname,
            dob=dob,
            sex=sex,
            nhs=self.new_nhs(),
            role=role,
            families=[fid] if fid else [],
        )

    def new_family_id(self) -> str:
        self._family_seq += 1
        return f"FAM{self._family_seq:06d}"

    def when(self, d: date) -> datetime:
        """A time of day on ``d``, for an event."""
        rng = self.rng
        return datetime(d.year, d.month, d.day, rng.randrange(0, 24), rng.randrange(0, 60))

    def incident_ref(self, when: datetime) -> str:
        self._incident_seq += 1
        return f"WY/{when.year}/{self._incident_seq:07d}"
