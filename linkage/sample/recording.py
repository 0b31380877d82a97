"""How an agency records a person: its date format, and its slips and deliberately bad values.

A :class:`Profile` says how careful an agency is; :func:`write_person` renders one true
person as one record would show them (nicknames, maiden names, typos, swapped day and month,
NHS numbers with spaces or a wrong check digit, postcodes in lower case …).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from random import Random

from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.names import NICKNAMES
from famlink.linkage.sample.world import Address, Person

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_NICK_OF: dict[str, tuple[str, ...]] = dict(NICKNAMES)


def fmt_parts(y: int, m: int, d: int, fmt: str) -> str:
    """Format a (possibly impossible) date the way an agency's system writes it."""
    if fmt == "%d/%m/%Y":
        return f"{d:02d}/{m:02d}/{y}"
    if fmt == "%Y-%m-%d":
        return f"{y}-{m:02d}-{d:02d}"
    if fmt == "%Y%m%d":
        return f"{y}{m:02d}{d:02d}"
    if fmt == "%d.%m.%Y":
        return f"{d:02d}.{m:02d}.{y}"
    if fmt == "%d-%b-%Y":
        return f"{d:02d}-{MONTHS[m - 1]}-{y}"
    if fmt == "%m/%d/%Y":
        return f"{m:02d}/{d:02d}/{y}"
    raise ValueError(fmt)  # pragma: no cover


def fmt_date(d: date | None, fmt: str) -> str:
    return "" if d is None else fmt_parts(d.year, d.month, d.day, fmt)


def fmt_datetime(t: datetime) -> str:
    """Police style: ``12/03/2024 14:05``."""
    return f"{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d}"


def fold_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Profile:
    """How careful (and how) an agency writes people down. Rates are per record."""

    date_format: str
    typo: float = 0.03
    nickname: float = 0.12  # of people whose name has nicknames
    maiden: float = 0.15  # a married woman under her birth surname
    swap: float = 0.01  # first name and surname swapped
    upper: float = 0.0
    fold: float = 0.0  # accents dropped
    dob_missing: float = 0.01
    dob_swap: float = 0.012  # day and month swapped (only where day <= 12)
    dob_off: float = 0.008  # a day out
    nhs_present: float = 0.0
    nhs_spaces: float = 0.0
    nhs_invalid: float = 0.0
    pc_variant: float = 0.08  # lower case or no space
    abbreviate: float = 0.3  # "Rd" for "Road"


def typo(rng: Random, s: str) -> str:
    """One character inserted, deleted, replaced or two swapped (never the first letter)."""
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    c = rng.choice("aeilnorstu")
    op = rng.randrange(4)
    if op == 0:
        out = s[:i] + c + s[i + 1:]
    elif op == 1:
        out = s[:i] + s[i + 1:]
    elif op == 2:
        out = s[:i] + c + s[i:]
    else:
        out = s[:i - 1] + s[i] + s[i - 1] + s[i + 1:]
    return out if out != s else s[:i] + s[i + 1:]


@dataclass
class Written:
    """A person as one record shows them, plus the bad values deliberately put in."""

    first: str
    middle: str
    surname: str
    dob: str
    nhs: str
    postcode: str
    # (field, expected reason, raw value) for values famlink should null
    nulled: list[tuple[str, str, str]]
    # the messy profile's KnownAs and former-surname columns ("" in the plain sample)
    preferred: str = ""
    former_surname: str = ""


def write_person(ctx: Ctx, src: str, p: Person, prof: Profile, address: Address | None,
                 *, allow_bad: bool = True) -> Written:
    """One agency's rendering of a person, with that agency's slips (and any bad value owed)."""
    rng = ctx.rng
    first, surname, middle = p.first, p.surname, p.middle
    nulled: list[tuple[str, str, str]] = []
    nicks = _NICK_OF.get(first)
    if nicks and rng.random() < prof.nickname:
        first = rng.choice(nicks)
    if p.birth_surname != p.surname and rng.random() < prof.maiden:
        surname = p.birth_surname
    if rng.random() < prof.typo:
        if rng.random() < 0.5:
            first = typo(rng, first)
        else:
            surname = typo(rng, surname)
    folded = rng.random() < prof.fold
    if folded:
        first, surname, middle = fold_accents(first), fold_accents(surname), fold_accents(middle)
    swapped = rng.random() < prof.swap
    if swapped:
        first, surname = surname, first
    preferred = former = ""
    if ctx.messy is not None:
        first, middle, surname, preferred, former = ctx.messy.names(
            src, p, first, middle, surname, swapped=swapped)
        if folded:
            first, middle, surname = fold_accents(first), fold_accents(middle), fold_accents(
                surname)
            preferred, former = fold_accents(preferred), fold_accents(former)
    if rng.random() < prof.upper:
        first, surname, middle = first.upper(), surname.upper(), middle.upper()
        preferred, former = preferred.upper(), former.upper()

    # date of birth
    dob: date | None = p.dob
    r = rng.random()
    if r < prof.dob_missing:
        dob = None
    elif r < prof.dob_missing + prof.dob_swap and p.dob.day <= 12 and p.dob.day != p.dob.month:
        dob = date(p.dob.year, p.dob.day, p.dob.month)
    elif r < prof.dob_missing + prof.dob_swap + prof.dob_off:
        dob = date.fromordinal(p.dob.toordinal() + rng.choice((-1, 1)))
    if dob is not None and dob > ctx.ref:  # a slip that lands in the future: not this one
        dob = p.dob
    if ctx.messy is not None:
        dob = ctx.messy.dob(p, dob)
    dob_text = fmt_date(dob, prof.date_format)
    if allow_bad and ctx.owe(f"{src}:impossible_dob"):
        y = dob.year if dob else p.dob.year
        m, d = rng.choice(((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)))
        dob_text = fmt_parts(y, m, d, prof.date_format)
        nulled.append(("dob", "unparseable_date", dob_text))
    elif allow_bad and ctx.owe(f"{src}:future_dob"):
        dob_text = fmt_date(date(ctx.ref.year + rng.randrange(1, 4), p.dob.month,
                                 min(p.dob.day, 28)), prof.date_format)
        nulled.append(("dob", "dob_in_future", dob_text))
    if nulled and ctx.messy is not None:  # a bad value owed replaced any slip of the year
        ctx.messy.untag("year_of_birth_digit")

    # NHS number
    nhs = ""
    if rng.random() < prof.nhs_present:
        nhs = p.nhs
        if (allow_bad and rng.random() < prof.nhs_invalid) or (
                allow_bad and prof.nhs_invalid and ctx.owe(f"{src}:invalid_nhs")):
            nhs = nhs[:9] + str((int(nhs[9]) + rng.randrange(1, 10)) % 10)
            nulled.append(("nhs_number", "invalid_nhs_number", nhs))
        if rng.random() < prof.nhs_spaces:
            nhs = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"

    # postcode
    postcode = address.postcode if address else ""
    if postcode:
        r = rng.random()
        if r < prof.pc_variant / 2:
            postcode = postcode.lower()
        elif r < prof.pc_variant:
            postcode = postcode.replace(" ", "")
        if allow_bad and ctx.owe(f"{src}:invalid_postcode"):
            postcode = postcode.replace(" ", "")[:-1] + rng.choice("0123456789")
            nulled.append(("postcode", "invalid_postcode", postcode))
        elif ctx.messy is not None:
            postcode = ctx.messy.postcode(src, postcode)
    return Written(first, middle, surname, dob_text, nhs, postcode, nulled, preferred, former)


def street_line(rng: Random, a: Address, prof: Profile) -> str:
    """The house/flat and street: "Flat 2, 10 High Street", "2/10 High St", "10 High Rd" …"""
    street = a.street(abbreviate=rng.random() < prof.abbreviate)
    if a.flat is None:
        return f"{a.number} {street}"
    style = rng.randrange(3)
    if style == 0:
        return f"Flat {a.flat}, {a.number} {street}"
    if style == 1:
        return f"{a.flat}/{a.number} {street}"
    return f"Flat {a.flat} {a.number} {street}"
