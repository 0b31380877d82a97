"""The messy noise profile: what real UK agency extracts hold and the plain sample does not.

``famlink sample-data --messy`` builds the same kind of world as the plain sample, then
:meth:`Messy.dress` gives some clusters Sikh or patronymic naming and some people a name they
go by (their middle name, an anglicised or an unrelated preferred forename), a surname from an
earlier marriage and identifiers (NI number, PNC id, UPN). While the agencies write, the
``Messy.*`` hooks render each record the way that agency would: forename and middle names in one
field, the known-as name in one source and the legal one in another, a ``KnownAs`` or former
surname column, Singh / Kaur as surname or middle name, the father's given name as a surname,
the surname typed into the forename field, a year of birth off by one digit, a district-only
postcode, an address the person left long ago.

All of it draws from its own ``random.Random`` (seeded from the run's seed), so the plain
sample never consults it and stays byte-identical; the messy sample is deterministic too.
Every rate is in :data:`RATES` (documented in ``docs/sample-data.md``); every person and record
a phenomenon touched is listed in ``_truth/name_phenomena.csv`` and
``_truth/record_phenomena.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random

from famlink.linkage.sample.dates import age_on
from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.names import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES
from famlink.linkage.sample.world import Address, Cluster, Family, Person

#: per-person (``p_``), per-cluster (``c_``) and per-record (``r_``) rates; see docs/sample-data.md
RATES: dict[str, float] = {
    "c_sikh": 0.04,  # a family (and its relatives) with Sikh naming
    "c_sikh_no_family_surname": 0.3,  # of Sikh lineages: Singh / Kaur is the surname
    "c_patronymic": 0.03,  # a family with Somali-style patronymic naming
    "p_known_by_middle": 0.06,  # of people with a middle name: they go by it
    "p_anglicised": 0.5,  # of people whose forename has an anglicised form: they use it
    "p_preferred_other": 0.01,  # anyone: goes by an unrelated forename
    "p_earlier_marriage": 0.08,  # adult women under their own surname: one from a marriage
    "p_ni_number": 0.9,  # adults with a National Insurance number known to an agency
    "p_pnc_id_male": 0.5,  # adult men with a police PNC id
    "p_pnc_id_female": 0.2,  # adult women with a police PNC id
    "r_known_name_as_forename": 0.55,  # a source without a KnownAs column writes the used name
    "r_known_name_in_known_as": 0.85,  # a source with a KnownAs column fills it
    "r_forename_with_middle": 0.12,  # forename field holds forename + middle names
    "r_surname_as_forename": 0.015,  # "Surname Forename" typed into the forename field
    "r_surname_swapped": 0.01,  # forename and surname swapped (on top of the plain rate)
    "r_double_barrel_married": 0.05,  # a married woman as "Birth-Married"
    "r_former_surname_column": 0.8,  # a source with a former-surname column fills it
    "r_year_digit": 0.012,  # one digit of the year of birth wrong
    "r_district_postcode": 0.025,  # only the outward code ("LS6")
    "r_stale_address": 0.08,  # a single-address source holds the previous address
    "r_gp_never_closed": 0.15,  # a GP registration left open when the person moved on
    "r_occupant_never_closed": 0.3,  # a housing occupant who left, still recorded as living there
    "r_contact_child_address": 0.5,  # a school contact living elsewhere, at the pupil's address
    "r_identifier_typo": 0.01,  # one character of an identifier wrong
}

SIKH_MALE = ("Harpreet", "Gurpreet", "Jaspreet", "Manpreet", "Amarjit", "Sukhwinder", "Kuldeep",
             "Rajinder", "Baljit", "Harjit", "Jasvinder", "Parminder", "Navdeep", "Gurdeep",
             "Ranjit", "Jagdeep", "Balwinder", "Harvinder", "Sukhdev", "Arjan", "Karanveer",
             "Tejinder", "Jaswant", "Daljit")
SIKH_FEMALE = ("Harpreet", "Jaspreet", "Manpreet", "Simran", "Gurleen", "Navneet", "Amrit",
               "Kiran", "Rajvinder", "Sukhjeet", "Parveen", "Harleen", "Jasleen", "Mandeep",
               "Balbir", "Kulwinder", "Ravinder", "Gurpreet", "Amandeep", "Harjeet")
SIKH_SURNAMES = ("Gill", "Sandhu", "Sidhu", "Dhillon", "Grewal", "Bains", "Sohal", "Johal",
                 "Atwal", "Sangha", "Randhawa", "Virdi", "Bhamra", "Kalsi", "Chahal", "Dhaliwal",
                 "Bassi", "Hayer", "Rai", "Matharu")
SOMALI_MALE = ("Mohamed", "Abdi", "Ahmed", "Hassan", "Ali", "Omar", "Yusuf", "Abdirahman",
               "Abdullahi", "Ibrahim", "Ismail", "Mahad", "Liban", "Khalid", "Farah", "Nur",
               "Osman", "Warsame", "Jama", "Said", "Aden", "Hussein", "Abdikarim", "Guled")
SOMALI_FEMALE = ("Fadumo", "Hodan", "Amina", "Halima", "Sahra", "Ayan", "Hibo", "Ifrah", "Nasra",
                 "Sagal", "Ubah", "Zamzam", "Hawa", "Khadra", "Asha", "Leyla", "Hamdi", "Deqa",
                 "Muna", "Faduma")

#: forenames with the anglicised or shortened form their owners often use in UK records
ANGLICISED: dict[str, str] = {
    "Jakub": "Jacob", "Kacper": "Casper", "Szymon": "Simon", "Piotr": "Peter", "Tomasz": "Thomas",
    "Stanislaw": "Stan", "Andrei": "Andrew", "Mihai": "Michael", "Florin": "Florian",
    "Marius": "Mario", "Oluwaseun": "Seun", "Chinedu": "Eddie", "Kwame": "Kevin",
    "Emeka": "Emmanuel", "Tunde": "Tony", "Harpreet": "Harry", "Mohammed": "Mo",
    "Muhammad": "Mo", "Ayaan": "Ian", "Yusuf": "Joseph", "Ibrahim": "Abe", "José": "Joe",
    "Seán": "Shaun", "Agnieszka": "Agnes", "Katarzyna": "Kate", "Magdalena": "Magda",
    "Zuzanna": "Susan", "Oliwia": "Olivia", "Chiamaka": "Chi", "Adaeze": "Ada",
    "Abena": "Abby", "Ioana": "Joanna", "Andreea": "Andrea", "Róisín": "Rosheen",
    "Niamh": "Neve", "Aoife": "Eva", "Siân": "Sian", "Gurpreet": "Gary", "Jaspreet": "Jess",
    "Manpreet": "Mandy", "Sukhwinder": "Sukhi", "Kuldeep": "Dee", "Parminder": "Pam",
    "Rajinder": "Raj", "Hodan": "Holly", "Abdirahman": "Abdi",
}

#: each source's new columns (people file), and the job-file field each one maps to
EXTRA_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "csc": (("KnownAs", "preferred_name"), ("PreviousSurname", "former_surname"),
            ("UPN", "id:upn")),
    "gp": (("PREVIOUS_SURNAME", "former_surname"),),
    "education": (("PreferredForename", "preferred_name"), ("ContactPhone", "")),
    "housing": (("NINumber", "id:ni_number"),),
    "police": (("NINumber", "id:ni_number"),),
    "probation": (("PNCNumber", "id:pnc_id"), ("NINumber", "id:ni_number")),
}
#: identifier columns the plain extracts already have (police PNCId, education UPN), mapped too
EXISTING_IDENTIFIERS: dict[str, dict[str, str]] = {
    "police": {"pnc_id": "PNCId"}, "education": {"upn": "UPN"}}
#: sources with a middle names column of their own
MIDDLE_COLUMN = frozenset({"gp"})
#: sources that hold several forenames in one field more often ("Forenames")
FORENAMES_FIELD = {"housing": 0.5}
#: how likely each source writes the name a person goes by (rather than the legal one)
USES_KNOWN_NAME = {"gp": 0.05, "csc": 0.15, "hv": 0.4, "education": 0.3}
#: sources that hold one address per person (so a stale one is possible)
SINGLE_ADDRESS = {"csc": 0.03, "hv": 0.02, "police": 1.0, "amh": 1.0, "probation": 1.0}
#: sources that write district-only postcodes at the full per-record rate (others: none)
PARTIAL_POSTCODES = frozenset({"police", "housing", "education", "amh", "probation", "csc"})
#: identifier presence per source (of people who have the identifier)
IDENTIFIER_PRESENT = {("housing", "ni_number"): 0.4, ("police", "ni_number"): 0.25,
                      ("police", "pnc_id"): 0.8, ("education", "upn"): 1.0,
                      ("probation", "ni_number"): 0.85, ("probation", "pnc_id"): 0.7,
                      ("csc", "upn"): 0.6}

_NI_PREFIX = "ABCEGHJKLMNOPRSTWXYZ"


@dataclass
class Traits:
    """What the messy profile decided about one person."""

    style: str = ""  # "sikh" | "patronymic" | ""
    known_as: str = ""  # the forename they go by ("" = their legal forename)
    known_as_kind: str = ""  # "middle" | "anglicised" | "preferred"
    ni_number: str = ""
    pnc_id: str = ""
    upn: str = ""
    phone: str = ""


@dataclass
class Messy:
    """The noise profile's state for one run: its random generator, traits and truth files."""

    rng: Random
    ref: date
    names_out: CsvOut
    records_out: CsvOut
    traits: dict[str, Traits] = field(default_factory=dict)
    # phenomena of the record being written, flushed with its record id
    tags: list[tuple[str, str]] = field(default_factory=list)
    _pnc_seq: int = 0
    _upn_seq: int = 0

    @classmethod
    def open(cls, seed: int, ref: date, truth_dir: Path) -> Messy:
        return cls(
            rng=Random(seed * 7919 + 104729),  # noqa: S311 - synthetic data, not security
            ref=ref,
            names_out=CsvOut(truth_dir / "name_phenomena.csv",
                             ["true_person_id", "phenomenon", "detail"]),
            records_out=CsvOut(truth_dir / "record_phenomena.csv",
                               ["source", "record_id", "true_person_id", "phenomenon", "detail"]),
        )

    def close(self) -> None:
        self.names_out.close()
        self.records_out.close()

    def trait(self, p: Person) -> Traits:
        return self.traits.setdefault(p.pid, Traits())

    # -- the world: naming styles, names people go by, identifiers --------------------------------

    def dress(self, cluster: Cluster) -> None:
        """Give one cluster its naming style and its people their traits (before any source
        writes), and list them in ``_truth/name_phenomena.csv``."""
        rng = self.rng
        self.traits = {}
        roll = rng.random()
        if roll < RATES["c_sikh"]:
            _sikh_names(rng, cluster, self)
        elif roll < RATES["c_sikh"] + RATES["c_patronymic"] and not any(
                kind == "father_son_same_name" for kind, *_ in cluster.special_pairs):
            _patronymic_names(rng, cluster, self)
        twin_of = {}
        for kind, a, b in cluster.special_pairs:
            if kind == "twins":
                twin_of[a.pid], twin_of[b.pid] = b, a
        for p in cluster.persons:
            t = self.trait(p)
            adult = age_on(p.dob, self.ref) >= 18
            if (p.sex == "female" and adult and not t.style and p.surname == p.birth_surname
                    and p.role in ("mother", "partner", "unrelated")
                    and rng.random() < RATES["p_earlier_marriage"]):
                p.surname = _pick(rng, SURNAMES, avoid=(p.surname,))
                self.names_out.write([p.pid, "surname_from_earlier_marriage",
                                      f"{p.birth_surname} -> {p.surname}"])
            self._known_as(p, t, twin_of.get(p.pid))
            if adult and rng.random() < RATES["p_ni_number"]:
                t.ni_number = (f"{rng.choice(_NI_PREFIX)}{rng.choice(_NI_PREFIX)}"
                               f"{rng.randrange(10**6):06d}{rng.choice('ABCD')}")
            if adult and rng.random() < RATES[f"p_pnc_id_{p.sex}"]:
                self._pnc_seq += 1
                t.pnc_id = (f"{p.dob.year + 18 + rng.randrange(5)}/"
                            f"{self._pnc_seq:07d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}")
            if not adult:
                self._upn_seq += 1
                t.upn = f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{380_000_000_000 + self._upn_seq:012d}"
            t.phone = f"07{rng.randrange(10**9):09d}"
            if t.style:
                self.names_out.write([p.pid, f"{t.style}_naming",
                                      " ".join(x for x in (p.first, p.middle, p.surname) if x)])

    def _known_as(self, p: Person, t: Traits, twin: Person | None) -> None:
        rng = self.rng
        avoid = {p.first.lower()}
        if twin is not None:  # a twin never goes by the other twin's name
            avoid |= {twin.first.lower(), twin.middle.lower()}
            tt = self.traits.get(twin.pid)
            if tt is not None and tt.known_as:
                avoid.add(tt.known_as.lower())
        choice, kind = "", ""
        if (p.middle and not t.style and p.middle.lower() not in avoid
                and rng.random() < RATES["p_known_by_middle"]):
            choice, kind = p.middle, "middle"
        elif p.first in ANGLICISED and rng.random() < RATES["p_anglicised"]:
            choice, kind = ANGLICISED[p.first], "anglicised"
        elif rng.random() < RATES["p_preferred_other"]:
            names = MALE_FIRST_NAMES if p.sex == "male" else FEMALE_FIRST_NAMES
            choice, kind = _pick(rng, names[:80], avoid=tuple(avoid)), "preferred"
        if choice and choice.lower() not in avoid:
            t.known_as, t.known_as_kind = choice, kind
            self.names_out.write([p.pid, f"known_as_{kind}", f"{p.first} -> {choice}"])

    # -- one record ---------------------------------------------------------------------------

    def names(self, src: str, p: Person, first: str, middle: str, surname: str, *,
              swapped: bool = False) -> tuple[str, str, str, str, str]:
        """How ``src`` writes this person's names in one record:
        (forename field, middle names, surname, preferred name, former surname).
        ``swapped``: the plain profile already swapped forename and surname (left as it is)."""
        rng = self.rng
        if swapped:
            self.tags.append(("forename_surname_swapped", f"{first} / {surname}"))
            return first, middle, surname, "", ""
        t = self.trait(p)
        has_known_col = any(f == "preferred_name" for _, f in EXTRA_COLUMNS.get(src, ()))
        has_former_col = any(f == "former_surname" for _, f in EXTRA_COLUMNS.get(src, ()))
        preferred = former = ""
        if t.style == "sikh":
            first, middle, surname = self._sikh_record(src, p, first, middle, surname)
        elif t.style == "patronymic":
            first, middle, surname = self._patronymic_record(src, first, middle, surname)
        if t.known_as:
            uses = USES_KNOWN_NAME.get(src, RATES["r_known_name_as_forename"])
            if rng.random() < uses:
                first = t.known_as
                self.tags.append((f"known_as_{t.known_as_kind}_as_forename", first))
            elif has_known_col and rng.random() < RATES["r_known_name_in_known_as"]:
                preferred = t.known_as
                self.tags.append(("known_as_column", preferred))
        already = middle.lower() in first.lower().split()  # goes by the middle name
        if middle and not already and src not in MIDDLE_COLUMN and t.style != "sikh" and (
                rng.random() < FORENAMES_FIELD.get(src, RATES["r_forename_with_middle"])):
            first = f"{first} {middle}"
            self.tags.append(("forename_with_middle", first))
        elif (middle and not already and src in MIDDLE_COLUMN
              and rng.random() < RATES["r_forename_with_middle"] / 2):
            first, middle = f"{first} {middle}", ""
            self.tags.append(("forename_with_middle", first))
        married = p.birth_surname != p.surname
        if married and surname == p.surname and p.sex == "female" and (
                rng.random() < RATES["r_double_barrel_married"]):
            surname = f"{p.birth_surname}-{p.surname}"
            self.tags.append(("double_barrel_married", surname))
        if married and has_former_col and surname != p.birth_surname and (
                rng.random() < RATES["r_former_surname_column"]):
            former = p.birth_surname
            self.tags.append(("former_surname_column", former))
        elif married and surname == p.surname:
            self.tags.append(("current_surname_only", surname))
        r = rng.random()
        if r < RATES["r_surname_as_forename"]:
            first = f"{surname} {first}"
            self.tags.append(("surname_in_forename", first))
        elif r < RATES["r_surname_as_forename"] + RATES["r_surname_swapped"]:
            first, surname = surname, first
            self.tags.append(("forename_surname_swapped", f"{first} / {surname}"))
        return first, middle, surname, preferred, former

    def _sikh_record(self, src: str, p: Person, first: str, middle: str,
                     surname: str) -> tuple[str, str, str]:
        """Singh / Kaur as a middle name, part of the forename, the surname (family name
        dropped) or part of the surname."""
        if not middle:  # Singh / Kaur is the surname: nothing to vary
            return first, middle, surname
        title = middle
        r = self.rng.random()
        if r < 0.4:
            out = (first, title if src in MIDDLE_COLUMN else "", surname)
            tag = "sikh_title_as_middle" if src in MIDDLE_COLUMN else "sikh_title_dropped"
        elif r < 0.6:
            out, tag = (f"{first} {title}", "", surname), "sikh_title_in_forename"
        elif r < 0.85:
            out, tag = (first, "", title), "sikh_title_as_surname"
        else:
            out, tag = (first, "", f"{title} {surname}"), "sikh_title_in_surname"
        self.tags.append((tag, " / ".join(x for x in out if x)))
        return out

    def _patronymic_record(self, src: str, first: str, middle: str,
                           surname: str) -> tuple[str, str, str]:
        """The father's given name written as the surname, or with the forename."""
        r = self.rng.random()
        if r < 0.65 or not middle:
            return first, middle if src in MIDDLE_COLUMN else "", surname
        if r < 0.85:
            out, tag = (first, "", middle), "patronymic_father_name_as_surname"
        elif r < 0.95:
            out, tag = (f"{first} {middle}", "", surname), "patronymic_in_forename"
        else:
            out, tag = (first, "", f"{middle} {surname}"), "patronymic_in_surname"
        self.tags.append((tag, " / ".join(x for x in out if x)))
        return out

    def dob(self, p: Person, dob: date | None) -> date | None:
        """A year of birth with one digit wrong by one (the units, or the tens: 1987 → 1997),
        never into the future."""
        if dob is None or self.rng.random() >= RATES["r_year_digit"]:
            return dob
        scale = 1 if self.rng.random() < 0.6 else 10
        digit = dob.year // scale % 10
        steps = [s for s in (-1, 1) if 0 <= digit + s <= 9]
        day = min(dob.day, 28) if dob.month == 2 else dob.day
        for step in self.rng.sample(steps, len(steps)):
            slipped = dob.replace(year=dob.year + step * scale, day=day)
            if slipped <= self.ref:
                self.tags.append(("year_of_birth_digit", slipped.isoformat()))
                return slipped
        return dob

    def postcode(self, src: str, postcode: str) -> str:
        """Only the district (outward code) in some sources' records."""
        if postcode and src in PARTIAL_POSTCODES and self.rng.random() < RATES[
                "r_district_postcode"]:
            district = postcode.strip().split(" ")[0] if " " in postcode.strip() else (
                postcode.strip()[:-3])
            self.tags.append(("district_only_postcode", district))
            return district
        return postcode

    def address(self, src: str, p: Person, current: Address) -> Address:
        """The address a single-address source holds: sometimes one the person has left."""
        rate = SINGLE_ADDRESS.get(src, 0.0) * RATES["r_stale_address"]
        if len(p.residences) < 2 or self.rng.random() >= rate:
            return current
        old = p.residences[-2]
        if old.end is None or (self.ref - old.end).days > 5 * 365:
            return current
        self.tags.append(("stale_address", old.address.uprn))
        return old.address

    def contact_address(self, p: Person, own: Address, pupil_home: Address) -> Address:
        """A school contact living elsewhere, recorded at the pupil's address."""
        if own is pupil_home or self.rng.random() >= RATES["r_contact_child_address"]:
            return own
        self.tags.append(("contact_at_pupil_address", pupil_home.uprn))
        return pupil_home

    def never_closed(self, p: Person, history: list[tuple[Address, date, date | None]]
                     ) -> list[tuple[Address, date, date | None]]:
        """A GP registration left open when the person moved on: the later ones are missing."""
        if len(history) < 2 or self.rng.random() >= RATES["r_gp_never_closed"]:
            return history
        keep = self.rng.randrange(1, len(history))
        address, start, _end = history[keep - 1]
        self.names_out.write([p.pid, "gp_registration_never_closed", address.uprn])
        return [*history[:keep - 1], (address, start, None)]

    def occupant_to(self, o_to: date | None, tenancy_end: date | None) -> date | None:
        """An occupant who moved out, still on the tenancy until it ends."""
        if o_to is None or o_to == tenancy_end or self.rng.random() >= RATES[
                "r_occupant_never_closed"]:
            return o_to
        self.tags.append(("occupant_never_closed", o_to.isoformat()))
        return tenancy_end

    def flush(self, src: str, record_id: str, p: Person) -> None:
        """Write the phenomena of the record just written to ``_truth/record_phenomena.csv``."""
        for kind, detail in self.tags:
            self.records_out.write([src, record_id, p.pid, kind, detail])
        self.tags = []

    def untag(self, kind: str) -> None:
        """Forget a phenomenon the record does not show after all (its value was dropped)."""
        self.tags = [t for t in self.tags if t[0] != kind]

    # -- identifiers and extra columns --------------------------------------------------------

    def identifier(self, src: str, name: str, p: Person) -> str:
        """The value of identifier ``name`` in ``src`` (blank when unknown; rarely a typo)."""
        value = getattr(self.trait(p), name)
        rng = self.rng
        if not value or rng.random() >= IDENTIFIER_PRESENT.get((src, name), 1.0):
            return ""
        if rng.random() < RATES["r_identifier_typo"]:
            digits = [i for i, c in enumerate(value) if c.isdigit()]
            i = rng.choice(digits)
            value = value[:i] + str((int(value[i]) + rng.randrange(1, 10)) % 10) + value[i + 1:]
            self.tags.append((f"{name}_typo", value))
        return value

    def extra_values(self, src: str, p: Person, preferred: str, former: str) -> list[str]:
        out = []
        for _column, fld in EXTRA_COLUMNS.get(src, ()):
            if fld == "preferred_name":
                out.append(preferred)
            elif fld == "former_surname":
                out.append(former)
            elif fld.startswith("id:"):
                out.append(self.identifier(src, fld[3:], p))
            else:  # a phone number: not a linkage field, but there in real school extracts
                out.append(self.trait(p).phone)
        return out


def extra_columns(src: str) -> list[str]:
    """The column names the messy profile adds to ``src``'s people file."""
    return [c for c, _ in EXTRA_COLUMNS.get(src, ())]


def job_columns(src: str) -> tuple[dict[str, str], dict[str, str]]:
    """(new canonical columns, identifiers) that ``src``'s people section maps."""
    columns: dict[str, str] = {}
    identifiers = dict(EXISTING_IDENTIFIERS.get(src, {}))
    for col, fld in EXTRA_COLUMNS.get(src, ()):
        if fld.startswith("id:"):
            identifiers[fld[3:]] = col
        elif fld:
            columns[fld] = col
    return columns, dict(sorted(identifiers.items()))


# -- naming styles -----------------------------------------------------------------------------


def _pick(rng: Random, names: tuple[str, ...], avoid: tuple[str, ...] = ()) -> str:
    """A name unlike those to avoid (not sharing their first three letters, if it can)."""
    blocked = {a.lower() for a in avoid if a}
    for _ in range(200):
        name = rng.choice(names)
        if name.lower() not in blocked and not any(name.lower()[:3] == b[:3] for b in blocked):
            return name
    free = [n for n in names if n.lower() not in blocked]
    return rng.choice(free or list(names))


def _family_people(fam: Family) -> list[Person]:
    kin = [o for o in fam.others if o.role in ("grandmother", "grandfather", "uncle")]
    return [*fam.fathers, fam.mother, *kin, *fam.children]


def _sikh_names(rng: Random, cluster: Cluster, messy: Messy) -> None:
    """Sikh naming for the cluster's families: Singh (men) or Kaur (women) as the middle name,
    with a family surname kept across the lineage — or Singh / Kaur as the surname itself."""
    family_name: dict[str, str | None] = {}

    def lineage(old: str) -> str | None:
        if old not in family_name:
            family_name[old] = (None if rng.random() < RATES["c_sikh_no_family_surname"]
                                else rng.choice(SIKH_SURNAMES))
        return family_name[old]

    old_first = {p.pid: p.first for p in cluster.persons}
    renamed: dict[str, str] = {}  # pid -> new forename
    for fam in cluster.families:
        people = _family_people(fam)
        for p in people:
            if p.pid in renamed:
                continue
            title = "Singh" if p.sex == "male" else "Kaur"
            names = SIKH_MALE if p.sex == "male" else SIKH_FEMALE
            father = fam.father_of.get(p.pid)
            if father is not None and old_first[p.pid] == old_first[father.pid]:
                first = renamed[father.pid]  # the son named after his father
            else:
                taken = tuple(renamed[x.pid] for x in people if x.pid in renamed)
                first = _pick(rng, names, avoid=taken)
            renamed[p.pid] = first
            surname_key = p.surname.split("-")[-1] if "-" in p.surname else p.surname
            fam_surname = lineage(surname_key)
            birth = lineage(p.birth_surname) if p.birth_surname != p.surname else fam_surname
            p.first = first
            p.middle = title if fam_surname else ""
            p.surname = fam_surname or title
            p.birth_surname = birth or title
            messy.trait(p).style = "sikh"


def _patronymic_names(rng: Random, cluster: Cluster, messy: Messy) -> None:
    """Somali-style naming: a child's second name is the father's given name and the third his
    father's; a wife keeps her own names."""
    done: set[str] = set()

    def own(p: Person, names: tuple[str, ...], avoid: tuple[str, ...] = ()) -> None:
        p.first = _pick(rng, names, avoid)
        p.middle = _pick(rng, SOMALI_MALE)
        p.surname = p.birth_surname = _pick(rng, SOMALI_MALE)
        messy.trait(p).style = "patronymic"
        done.add(p.pid)

    for fam in cluster.families:
        for father in fam.fathers:
            if father.pid not in done:
                own(father, SOMALI_MALE)
        if fam.mother.pid not in done:
            own(fam.mother, SOMALI_FEMALE)
        taken: list[str] = []
        for k in fam.children:
            f = fam.father_of.get(k.pid)
            if k.pid in done or f is None:
                continue
            k.first = _pick(rng, SOMALI_MALE if k.sex == "male" else SOMALI_FEMALE,
                            avoid=(*taken, f.first))
            taken.append(k.first)
            k.middle, k.surname, k.birth_surname = f.first, f.middle, f.middle
            messy.trait(k).style = "patronymic"
            done.add(k.pid)
        for o in fam.others:
            if o.pid in done or o.role not in ("grandmother", "grandfather", "uncle"):
                continue
            if o.role == "grandfather":  # the mother's father: her second name is his
                o.first, o.middle = fam.mother.middle, fam.mother.surname
                o.surname = o.birth_surname = _pick(rng, SOMALI_MALE)
                messy.trait(o).style = "patronymic"
                done.add(o.pid)
            elif o.role == "uncle":  # the mother's brother shares her second and third names
                o.first = _pick(rng, SOMALI_MALE, avoid=(fam.mother.middle,))
                o.middle, o.surname = fam.mother.middle, fam.mother.surname
                o.birth_surname = o.surname
                messy.trait(o).style = "patronymic"
                done.add(o.pid)
            else:
                own(o, SOMALI_FEMALE)

