"""The synthetic world behind the sample data: people, families, homes and life events.

A *cluster* is one family, or two families that share a man (he fathered children in both).
Everything the ground truth needs about a cluster lives in its :class:`Cluster`, so the
generator can build one cluster, write its rows to every agency's extract, work out its
expected flags and then forget it — memory stays flat however many families are asked for.

All randomness comes from the one ``random.Random`` handed in; nothing iterates a set.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random

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

DAY = timedelta(days=1)


def years_before(d: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 Feb becomes 28 Feb)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def months_before(d: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m + 1, day)
        except ValueError:
            continue
    raise ValueError(d)  # pragma: no cover


def age_on(dob: date, on: date) -> int:
    """Whole years of age on a date."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def age_in_months(dob: date, on: date) -> int:
    """Whole calendar months of age on a date."""
    return (on.year - dob.year) * 12 + on.month - dob.month - (on.day < dob.day)


def _weights(n: int) -> list[float]:
    """Cumulative rank weights: common names come round far more often than rare ones."""
    return list(itertools.accumulate(1.0 / (rank + 3) ** 0.8 for rank in range(n)))


_MALE_CW = _weights(len(MALE_FIRST_NAMES))
_FEMALE_CW = _weights(len(FEMALE_FIRST_NAMES))
_SURNAME_CW = _weights(len(SURNAMES))


def nhs_check_digit(nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid number exists."""
    total = sum(int(c) * (10 - i) for i, c in enumerate(nine))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_is_valid(number: str) -> bool:
    """True for ten digits (spaces allowed) whose last digit is the modulus-11 check digit."""
    digits = number.replace(" ", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


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

    def incident_ref(self, when: datetime) -> str:
        self._incident_seq += 1
        return f"WY/{when.year}/{self._incident_seq:07d}"

    # -- a cluster ----------------------------------------------------------------------------

    def cluster(self, index: int, *, allow_two: bool = True) -> Cluster:
        """One family, or (about one in nine) two families sharing a man."""
        rng = self.rng
        persons: list[Person] = []
        rels: list[Rel] = []
        events: list[Event] = []
        pairs: list[tuple[str, Person, Person]] = []
        if rng.random() < 0.11 and allow_two:
            left = self.date_between(self.ref - 2900 * DAY, self.ref - 700 * DAY)
            fam_a = self._family(persons, rels, pairs, shared=("A", None, left))
            man = fam_a.fathers[0]
            fam_b = self._family(persons, rels, pairs, shared=("B", man, left))
            families = [fam_a, fam_b]
        else:
            families = [self._family(persons, rels, pairs, shared=None)]
        for fam in families:
            self._homes(fam)
        for person in persons:
            self._resolve_stays(person, families)
        for fam in families:
            self._family_events(fam, events)
        # unrelated adults: other people in the same extracts (some share a family member's name)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            persons.append(self._unrelated(persons, events))
        return Cluster(index, families, persons, rels, events, pairs)

    def _family(self, persons: list[Person], rels: list[Rel],
                pairs: list[tuple[str, Person, Person]],
                shared: tuple[str, Person | None, date] | None) -> Family:
        rng, ref = self.rng, self.ref
        self._family_seq += 1
        fid = f"FAM{self._family_seq:06d}"

        # -- birth dates of the children, youngest first -------------------------------------
        n = rng.choices((1, 2, 3, 4, 5), weights=(34, 31, 20, 10, 5))[0]
        if shared and shared[0] == "A":
            youngest = shared[2] - rng.randrange(40, 1800) * DAY
        elif shared and shared[0] == "B":
            youngest = self.date_between(shared[2] + 300 * DAY, ref - 2 * DAY)
            if rng.random() < 0.5:
                youngest = self.date_between(max(youngest, ref - 364 * DAY), ref - 2 * DAY)
        elif rng.random() < 0.42:
            youngest = ref - rng.randrange(3, 365) * DAY
        else:
            youngest = ref - rng.randrange(366, 13 * 365) * DAY
        births = [youngest]
        for _ in range(n - 1):
            nxt = births[-1] - rng.randrange(420, 1900) * DAY
            if age_on(nxt, ref) >= 18:
                break
            if shared and shared[0] == "B" and nxt < shared[2] + 280 * DAY:
                break
            births.append(nxt)
        births.reverse()  # oldest first
        twin_at = rng.randrange(len(births)) if rng.random() < 0.08 else None

        # -- mother ----------------------------------------------------------------------------
        mother_age_first = rng.randrange(17, 35)
        mother_dob = years_before(births[0], mother_age_first) - rng.randrange(365) * DAY
        mother = self.person(sex="female", dob=mother_dob, role="mother", fid=fid)
        persons.append(mother)

        # -- fathers: one, or two (half siblings) ---------------------------------------------
        segments: list[list[date]]
        if shared:  # the shared man fathers all of family A's and all of family B's children
            segments = [births]
        elif len(births) >= 2 and rng.random() < 0.38:
            k = rng.randrange(1, len(births))
            segments = [births[:k], births[k:]]
        else:
            segments = [births]

        children: list[Person] = []
        father_of: dict[str, Person | None] = {}
        fathers: list[Person] = []
        partners: list[tuple[Person, date, date | None, bool]] = []
        others: list[Person] = []
        married_to: Person | None = None
        prev_end: date | None = None
        for si, seg in enumerate(segments):
            latest = si == len(segments) - 1
            if shared and shared[0] == "B":
                father = shared[1]
                assert father is not None
                father.families.append(fid)
                father.role = "father"
            else:
                f_age = max(17, mother_age_first + rng.randrange(-3, 9)) + round(
                    (seg[0] - births[0]).days / 365.25)
                f_dob = years_before(seg[0], f_age) - rng.randrange(365) * DAY
                father = self.person(sex="male", dob=f_dob, role="father", fid=fid)
                persons.append(father)
            fathers.append(father)
            p_start = seg[0] - rng.randrange(300, 1400) * DAY
            if prev_end is not None:
                p_start = max(p_start, prev_end + 30 * DAY)
                p_start = min(p_start, seg[0] - 100 * DAY)
            if shared and shared[0] == "A":
                status, p_end = "left", shared[2]
            elif not latest:
                status = "left"
                nxt_start = segments[si + 1][0] - 290 * DAY
                p_end = self.date_between(seg[-1] + 20 * DAY, max(seg[-1] + 20 * DAY, nxt_start))
            else:
                status = rng.choices(("resident", "left", "never"), weights=(50, 36, 14))[0]
                if shared and shared[0] == "B" and rng.random() < 0.6:
                    status = "resident"
                if status == "left":
                    p_end = self.date_between(seg[-1] - 150 * DAY, ref - 15 * DAY)
                    p_end = max(p_end, p_start + 200 * DAY)
                    if p_end >= ref:
                        status, p_end = "resident", None
                elif status == "never":
                    p_end = self.date_between(seg[-1], seg[-1] + 400 * DAY)
                    if p_end >= ref:
                        p_end = None
                else:
                    p_end = None
            prev_end = p_end or seg[-1]
            lives = status in ("resident", "left")
            if shared and shared[0] == "B":
                p_start = max(p_start, shared[2] - 200 * DAY)
            partners.append((father, p_start, p_end, lives))
            if lives:
                move_in = p_start + rng.randrange(0, 120) * DAY
                if shared and shared[0] == "B":
                    move_in = max(move_in, shared[2] + 10 * DAY)
                if p_end is not None and move_in >= p_end:
                    move_in = p_start
                if not father.stays:
                    father.stays.append(("own", None, move_in))
                father.stays.append(("family", fid, move_in, p_end))
                if p_end is not None:
                    father.stays.append(("own", p_end, None))
            elif not father.stays:
                father.stays.append(("own", None, None))
            if lives and rng.random() < 0.35 and married_to is None:
                married_to = father

            # the children of this father
            same_name_done = False
            for b in seg:
                n_here = 2 if twin_at is not None and births.index(b) == twin_at else 1
                twins: list[Person] = []
                for _ in range(n_here):
                    sex = rng.choice(("male", "female"))
                    kid_surname = father.surname if rng.random() < 0.7 else mother.surname
                    if kid_surname != father.surname and rng.random() < 0.15:
                        kid_surname = f"{mother.surname}-{father.surname}"
                    if twins:
                        kid_surname = twins[0].surname
                    first = None
                    if (sex == "male" and not same_name_done and not twins
                            and rng.random() < 0.14):
                        first, same_name_done = father.first, True
                    elif twins:
                        first = self.first_name(sex, avoid=(twins[0].first,))
                    child = self.person(sex=sex, dob=b, role="child", fid=fid,
                                        surname=kid_surname, first=first)
                    if first == father.first:
                        child.middle = father.middle if rng.random() < 0.5 else child.middle
                        kid_surname = father.surname
                        child.surname = child.birth_surname = father.surname
                        pairs.append(("father_son_same_name", father, child))
                    twins.append(child)
                    children.append(child)
                    persons.append(child)
                    father_of[child.pid] = father
                    child.stays.append(("family", fid, b, None))
                    rels.append(Rel(child, mother, "mother", b))
                    rels.append(Rel(child, father, "father", b))
                if len(twins) == 2:
                    pairs.append(("twins", twins[0], twins[1]))
            rels.append(Rel(mother, father, "partner" if p_end is None else "ex_partner",
                            p_start, p_end))

        # -- a new partner of the mother (some women) ---------------------------------------
        _, _, last_end, _ = partners[-1]
        if last_end is not None and rng.random() < 0.7 and last_end < ref - 40 * DAY:
            p_start = self.date_between(last_end + 30 * DAY, ref - 20 * DAY)
            sex = "female" if rng.random() < 0.3 else "male"
            age = max(18, age_on(mother.dob, ref) + rng.randrange(-6, 10))
            partner = self.person(sex=sex, dob=years_before(ref, age) - rng.randrange(365) * DAY,
                                  role="partner", fid=fid)
            persons.append(partner)
            p_end = None
            if rng.random() < 0.12:
                p_end = self.date_between(max(p_start + 60 * DAY, self.window_start),
                                          ref - 5 * DAY)
            lives = rng.random() < (0.85 if sex == "female" else 0.72)
            partners.append((partner, p_start, p_end, lives))
            rels.append(Rel(mother, partner, "partner" if p_end is None else "ex_partner",
                            p_start, p_end))
            if lives:
                move_in = self.date_between(p_start, min(ref - 3 * DAY, p_start + 300 * DAY))
                if p_end is not None and move_in >= p_end:
                    move_in = p_start
                partner.stays += [("own", None, move_in), ("family", fid, move_in, p_end)]
                if p_end is not None:
                    partner.stays.append(("own", p_end, None))
                for child in children:
                    if child.dob < (p_end or ref):
                        rels.append(Rel(child, partner, "step_parent", max(move_in, child.dob),
                                        p_end))
                if sex == "male" and married_to is None and rng.random() < 0.25:
                    married_to = partner
            else:
                partner.stays.append(("own", None, None))
        if married_to is not None:
            mother.surname = married_to.surname

        # -- grandparents, an uncle or a lodger (some households) -----------------------------
        roll = rng.random()
        if roll < 0.2:
            gm_dob = years_before(mother.dob, rng.randrange(18, 36)) - rng.randrange(365) * DAY
            gm = self.person(sex="female", dob=gm_dob, role="grandmother", fid=fid,
                             surname=mother.birth_surname)
            persons.append(gm)
            others.append(gm)
            co_resident = rng.random() < 0.4
            since = self.date_between(self.ref - 2000 * DAY, ref - 30 * DAY)
            gm.stays += ([("own", None, since), ("family", fid, since, None)]
                         if co_resident else [("own", None, None)])
            for child in children:
                rels.append(Rel(child, gm, "other", detail="grandmother"))
            rels.append(Rel(mother, gm, "mother"))
            if co_resident and rng.random() < 0.45:
                gf = self.person(sex="male", dob=gm_dob - rng.randrange(0, 2500) * DAY,
                                 role="grandfather", fid=fid, surname=mother.birth_surname)
                persons.append(gf)
                others.append(gf)
                gf.stays += [("own", None, since), ("family", fid, since, None)]
                rels.append(Rel(mother, gf, "father"))
                rels.append(Rel(gm, gf, "partner"))
                for child in children:
                    rels.append(Rel(child, gf, "other", detail="grandfather"))
        elif roll < 0.26:
            uncle = rng.random() < 0.5
            age = rng.randrange(19, 45)
            man = self.person(sex="male", dob=years_before(ref, age) - rng.randrange(365) * DAY,
                              role="uncle" if uncle else "lodger", fid=fid,
                              surname=mother.birth_surname if uncle else None)
            persons.append(man)
            others.append(man)
            since = self.date_between(self.window_start - 500 * DAY, ref - 30 * DAY)
            until = None if rng.random() < 0.8 else self.date_between(
                max(since + 30 * DAY, self.window_start + 30 * DAY), ref - 5 * DAY)
            man.stays += [("own", None, since), ("family", fid, since, until)]
            if until is not None:
                man.stays.append(("own", until, None))
            rels.append(Rel(mother, man, "sibling" if uncle else "household_member", since,
                            until))

        # sibling truth (full / half) among the mother's children
        for x, y in itertools.combinations(children, 2):
            kind = "sibling" if father_of[x.pid] is father_of[y.pid] else "half_sibling"
            rels.append(Rel(x, y, kind))
            rels.append(Rel(y, x, kind))
        mother.stays.append(("family", fid, None, None))
        return Family(fid, mother, children, father_of, fathers, partners, others, [])

    def _homes(self, fam: Family) -> None:
        """The family home over time: a few moves, the last within the past few years."""
        rng, ref = self.rng, self.ref
        n_moves = rng.choices((0, 1, 2), weights=(48, 36, 16))[0]
        dates = sorted(self.date_between(ref - 1600 * DAY, ref - 10 * DAY) for _ in range(n_moves))
        homes: list[Residence] = []
        oldest = min(k.dob for k in fam.children)
        start = max(years_before(fam.mother.dob, -16), oldest - rng.randrange(30, 1500) * DAY)
        if dates and dates[0] <= start:
            start = dates[0] - 400 * DAY
        for d in [*dates, None]:
            homes.append(Residence(self.new_address(), start, d))
            if d is not None:
                start = d
        fam.addresses = homes

    def _resolve_stays(self, person: Person, families: list[Family]) -> None:
        """Turn a person's plans (with the family / on their own) into dated residences."""
        by_fid = {f.fid: f for f in families}
        earliest = person.dob
        res: list[Residence] = []
        stays = sorted(person.stays, key=lambda s: (s[-2] or date.min) if s[0] == "family"
                       else (s[1] or date.min))
        for stay in stays:
            if stay[0] == "own":
                start, end = stay[1] or earliest, stay[2]
                if end is not None and end <= start:
                    continue
                res.append(Residence(self.new_address(), start, end))
            else:
                _, fid, start, end = stay
                start = start or earliest
                for home in by_fid[fid].addresses:
                    s = max(start, home.start)
                    e = min(x for x in (end, home.end) if x is not None) if (
                        end is not None or home.end is not None) else None
                    if e is not None and e <= s:
                        continue
                    res.append(Residence(home.address, s, e))
        res.sort(key=lambda r: r.start)
        # make the timeline contiguous: trim overlaps, close gaps
        clean: list[Residence] = []
        for r in res:
            if clean:
                prev = clean[-1]
                if prev.end is None or prev.end > r.start:
                    prev.end = r.start
                if prev.end <= prev.start:
                    clean.pop()
            clean.append(r)
        if not clean:
            clean = [Residence(self.new_address(), earliest, None)]
        if clean[0].start > earliest:  # where they lived before (their parents' home)
            clean.insert(0, Residence(self.new_address(), earliest, clean[0].start))
        if clean[-1].end is not None:
            clean.append(Residence(self.new_address(), clean[-1].end, None))
        person.residences = clean
        person.stays = []

    # -- events --------------------------------------------------------------------------------

    def _when(self, d: date) -> datetime:
        rng = self.rng
        return datetime(d.year, d.month, d.day, rng.randrange(0, 24), rng.randrange(0, 60))

    def _family_events(self, fam: Family, events: list[Event]) -> None:
        rng, ref = self.rng, self.ref
        five_years = ref - 1826 * DAY
        men = [p for p, s, e, _ in fam.partners if (e is None or e > five_years)]
        adults = [fam.mother, *(p for p, *_ in fam.partners), *fam.others]
        kids = fam.children

        # domestic abuse: police incidents, the abuser a (recent) partner of the mother
        da = bool(men) and rng.random() < 0.24
        fam.flags["da"] = da
        if da:
            abuser = men[-1]
            p_start, p_end = next((s, e) for p, s, e, _ in fam.partners if p is abuser)
            reversed_roles = rng.random() < 0.12
            for _ in range(rng.randrange(1, 4)):
                d = self.date_between(max(p_start, five_years), min(p_end or ref, ref) - DAY)
                when = self._when(d)
                inc = self.incident_ref(when)
                sus, vic = (fam.mother, abuser) if reversed_roles else (abuser, fam.mother)
                events.append(Event(sus, "domestic_abuse", when, "police", "suspect", inc,
                                    "Domestic incident, verbal and physical"))
                events.append(Event(vic, "domestic_abuse", when, "police", "victim", inc,
                                    "Domestic incident, verbal and physical"))
                for kid in kids:
                    if kid.dob < d and rng.random() < 0.7:
                        events.append(Event(kid, "domestic_abuse", when, "police",
                                            "child_present", inc, "Child present at incident"))

        # offending, substance misuse, mental health among the adults
        for adult in adults:
            if age_on(adult.dob, ref) < 18:
                continue
            male = adult.sex == "male"
            if rng.random() < (0.13 if male else 0.04):
                offence_probation = rng.random() < 0.7
                for _ in range(rng.randrange(1, 3)):
                    d = self.date_between(ref - 3000 * DAY, ref - 5 * DAY)
                    when = self._when(d)
                    kind = rng.choice(("offence", "offence", "substance_misuse"))
                    events.append(Event(adult, kind, when, "police", "suspect",
                                        self.incident_ref(when),
                                        "Assault" if kind == "offence" else "Possession"))
                if offence_probation:
                    d = self.date_between(ref - 2500 * DAY, ref - 20 * DAY)
                    events.append(Event(adult, "offence", self._when(d), "probation", "subject",
                                        detail="Community order supervised"))
                    if rng.random() < 0.5:
                        d2 = self.date_between(d, ref - 2 * DAY)
                        events.append(Event(adult, "substance_misuse", self._when(d2),
                                            "probation", "subject",
                                            detail="Alcohol/drug treatment requirement"))
            if rng.random() < 0.06:  # a witness or a victim of something unrelated: not a risk
                d = self.date_between(ref - 2000 * DAY, ref - 5 * DAY)
                when = self._when(d)
                role = rng.choice(("witness", "victim"))
                events.append(Event(adult, "offence", when, "police", role,
                                    self.incident_ref(when), "Theft from motor vehicle"))
            mh = rng.random()
            if mh < (0.2 if not male else 0.1):
                d = self.date_between(ref - 2500 * DAY, ref - 30 * DAY)
                events.append(Event(adult, "mental_health_referral", self._when(d), "amh",
                                    "subject", detail="Referral from GP: low mood"))
                if mh < (0.06 if not male else 0.04):
                    kind = "mental_health_admission" if mh < 0.04 else "mental_health_detention"
                    d2 = self.date_between(d + DAY, ref - 2 * DAY)
                    events.append(Event(adult, kind, self._when(d2), "amh", "subject",
                                        detail="Informal admission" if kind.endswith("admission")
                                        else "Detained under s.2 MHA"))

        # children's social care
        mother_mh = any(e.person is fam.mother and e.etype in (
            "mental_health_admission", "mental_health_detention") for e in events)
        csc = rng.random() < 0.3 + (0.45 if da else 0) + (0.2 if mother_mh else 0)
        fam.flags["csc_known"] = csc
        if csc:
            oldest = kids[0].dob
            ref_date = self.date_between(max(oldest + 30 * DAY, ref - 2200 * DAY), ref - 40 * DAY)
            seen = [k for k in kids if k.dob < ref_date]
            if not seen:
                seen = [kids[0]]
                ref_date = kids[0].dob + DAY
            outcome = rng.choices(("none", "cin", "cp", "cp_lac"), weights=(30, 32, 28, 10))[0]
            for kid in seen:
                events.append(Event(kid, "referral", self._when(ref_date), "csc",
                                    detail="Referral received"))
                d = ref_date + rng.randrange(5, 40) * DAY
                if d < ref:
                    events.append(Event(kid, "assessment", self._when(d), "csc",
                                        detail="Child and family assessment"))
                plan = ref_date + rng.randrange(45, 120) * DAY
                if plan < ref and outcome == "cin":
                    events.append(Event(kid, "cin_plan", self._when(plan), "csc",
                                        detail="Child in need plan"))
                if plan < ref and outcome in ("cp", "cp_lac"):
                    events.append(Event(kid, "cp_plan", self._when(plan), "csc",
                                        detail="Child protection plan: "
                                        + rng.choice(("neglect", "emotional abuse",
                                                      "physical abuse"))))
                    lac = plan + rng.randrange(60, 400) * DAY
                    if outcome == "cp_lac" and lac < ref:
                        events.append(Event(kid, "looked_after", self._when(lac), "csc",
                                            detail="Accommodated, s.20"))
            if rng.random() < 0.26:
                kid = rng.choice(kids)
                d = self.date_between(max(kid.dob + 30 * DAY, ref - 1500 * DAY), ref - 10 * DAY)
                events.append(Event(kid, "neglect_concern", self._when(d), "csc",
                                    detail="Home conditions poor; child unkempt"))
                if rng.random() < 0.5:
                    d2 = self.date_between(d + 10 * DAY, d + 90 * DAY)
                    if d2 < ref:
                        src = "hv" if age_on(kid.dob, ref) < 5 and rng.random() < 0.3 else "csc"
                        events.append(Event(kid, "gcp2_assessment", self._when(d2), src,
                                            detail="Graded Care Profile 2 completed"))
        # health visiting: births, injuries, missed appointments
        for kid in kids:
            if age_on(kid.dob, ref) >= 5:
                continue
            events.append(Event(kid, "birth", self._when(kid.dob), "hv", detail="Birth notified"))
            days_old = (ref - kid.dob).days
            r = rng.random()
            if days_old > 25 and r < 0.24:
                hi = min(days_old - 1, 150)
                d = kid.dob + rng.randrange(20, max(21, hi)) * DAY
                events.append(Event(kid, "injury", self._when(d), "hv",
                                    detail=rng.choice(("Bruise to cheek noted",
                                                       "Bruising to upper arm",
                                                       "Mark on forehead, mother says fall"))))
            elif days_old > 230 and r < 0.34:  # a toddler's bump: not a non-mobile injury
                d = kid.dob + rng.randrange(220, min(days_old, 1500)) * DAY
                events.append(Event(kid, "injury", self._when(d), "hv",
                                    detail="Graze to knee, fell in park"))
            if rng.random() < 0.2:
                d = self.date_between(kid.dob + 20 * DAY, ref - DAY)
                events.append(Event(kid, "missed_appointment", self._when(d), "hv",
                                    detail="Not brought to 1-year review"))
        # education: special educational needs
        for kid in kids:
            if 5 <= age_on(kid.dob, ref) and rng.random() < 0.12:
                d = self.date_between(years_before(kid.dob, -5), ref - DAY)
                events.append(Event(kid, "send", self._when(d), "education",
                                    detail=rng.choice(("EHCP", "SEN support"))))

    def _unrelated(self, persons: list[Person], events: list[Event]) -> Person:
        """Someone in the extracts with no tie to the family — sometimes a namesake."""
        rng, ref = self.rng, self.ref
        sex = rng.choice(("male", "female"))
        dob = years_before(ref, rng.randrange(18, 70)) - rng.randrange(365) * DAY
        namesake = next((p for p in persons if p.sex == sex and age_on(p.dob, ref) >= 18), None)
        if namesake is not None and rng.random() < 0.35:
            person = self.person(sex=sex, dob=dob, role="unrelated", fid="",
                                 surname=namesake.surname, first=namesake.first)
        else:
            person = self.person(sex=sex, dob=dob, role="unrelated", fid="")
        start = self.date_between(ref - 4000 * DAY, ref - 100 * DAY)
        person.residences = [Residence(self.new_address(), start, None)]
        r = rng.random()
        if r < 0.35:
            when = self._when(self.date_between(ref - 2000 * DAY, ref - 3 * DAY))
            events.append(Event(person, "offence", when, "police", "suspect",
                                self.incident_ref(when), "Shoplifting"))
            if rng.random() < 0.4:
                order = min(when + timedelta(days=60), self._when(ref - DAY))
                events.append(Event(person, "offence", order, "probation",
                                    detail="Suspended sentence order"))
        elif r < 0.5:
            when = self._when(self.date_between(ref - 2000 * DAY, ref - 3 * DAY))
            events.append(Event(person, "mental_health_referral", when, "amh",
                                detail="Referral from GP"))
        return person
