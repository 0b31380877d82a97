"""Redaction for views shared beyond the core team: initials for names, age bands for dates
of birth, and known names and dates of birth scrubbed from machine-written text.

Agency free text (chronology summaries) is not scrubbed but dropped: it can name people who
are in no extract, and no list of known names can catch those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

WITHHELD_SUMMARY = "[summary withheld in the redacted view]"
WITHHELD_DOB = "[date of birth]"
NAME_MARK = "[name]"
ADDRESS_MARK = "[address]"
_POSTCODE = r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b"

_AGE_BANDS = (
    (1, "under 1"),
    (5, "1–4"),
    (10, "5–9"),
    (16, "10–15"),
    (18, "16–17"),
    (25, "18–24"),
    (35, "25–34"),
    (50, "35–49"),
    (65, "50–64"),
)


def age_band(age_years: int | None) -> str:
    """The age band shown instead of a date of birth.

    >>> age_band(0), age_band(17), age_band(40), age_band(None)
    ('under 1', '16–17', '35–49', 'age unknown')
    """
    if age_years is None or age_years < 0:
        return "age unknown"
    for upper, label in _AGE_BANDS:
        if age_years < upper:
            return label
    return "65+"


def initials(*parts: str | None) -> str:
    """Initials of a name, one per part: the first letter or digit of each.

    >>> initials("Chloé", "O'Brien-Kowalczyk")
    'C.O.'
    >>> initials("<img src=x>", None)
    'I.'
    """
    out = []
    for part in parts:
        if not part:
            continue
        letter = next((ch for ch in part if ch.isalnum()), None)
        if letter:
            out.append(letter.upper() + ".")
    return "".join(out) or "?"


def _dob_forms(dob: date) -> set[str]:
    return {
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
        f"{dob.day}/{dob.month}/{dob.year}",
        dob.strftime("%d-%m-%Y"),
        dob.strftime("%Y%m%d"),
        f"{dob.day} {dob.strftime('%B')} {dob.year}",
        f"{dob.day} {dob.strftime('%b')} {dob.year}",
    }


class Scrubber:
    """Replace known names, dates of birth and addresses in machine-written text.

    Names are matched as whole words, case-insensitively; each name part becomes its initial.
    Known addresses, postcodes and UPRNs (``places``) and anything shaped like a UK postcode
    become ``[address]``.
    """

    def __init__(
        self,
        names: Iterable[str | None],
        dobs: Iterable[str | date | None],
        places: Iterable[str | None] = (),
    ) -> None:
        parts: dict[str, str] = {}
        for name in names:
            if not name:
                continue
            words = name.split()
            for token in [*words, *(part for w in words for part in w.split("-"))]:
                token = token.strip()
                if len(token) >= 2:
                    parts.setdefault(token.casefold(), initials(token))
        self._names = parts
        forms: set[str] = set()
        for dob in dobs:
            if isinstance(dob, date):
                forms |= _dob_forms(dob)
            elif dob and dob.strip():
                forms.add(dob.strip())
        self._dobs = sorted(forms, key=len, reverse=True)
        known_places = sorted(
            {p.strip() for p in places if p and len(p.strip()) >= 3}, key=len, reverse=True
        )
        self._place_re = re.compile(
            "|".join(
                [r"(?<!\w)(?:" + "|".join(re.escape(p) for p in known_places) + r")(?!\w)"]
                * bool(known_places)
                + [_POSTCODE]
            ),
            re.IGNORECASE,
        )
        alternatives = sorted(parts, key=len, reverse=True)
        self._name_re = (
            re.compile(
                r"(?<!\w)(" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)",
                re.IGNORECASE,
            )
            if alternatives
            else None
        )

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        for form in self._dobs:
            text = text.replace(form, WITHHELD_DOB)
        text = self._place_re.sub(ADDRESS_MARK, text)
        if self._name_re is not None:
            text = self._name_re.sub(
                lambda m: self._names.get(m.group(0).casefold(), NAME_MARK), text
            )
        return text
