"""Calendar arithmetic for the synthetic world: ages, and the same day some years or months before.
"""

from __future__ import annotations

from datetime import date, timedelta

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
