"""One exception hierarchy for famlink.

Every error a user can cause (a wrong job file, a bad extract, a missing output folder)
is a :class:`FamlinkError`. The CLI turns it into a short message and exit code 1 —
never a traceback. Subclasses carry where the problem is: file, row, column.
"""

from __future__ import annotations


class FamlinkError(Exception):
    """A problem the user can fix. ``str(err)`` is the message shown to them."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = f"{': '.join([', '.join(where), self.message]) if where else self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class JobFileError(FamlinkError):
    """The job file is wrong: missing key, unknown field, mapped column not in the extract."""


class InputDataError(FamlinkError):
    """An extract cannot be read at all (not a CSV, unreadable, ragged beyond repair)."""


class ReconciliationError(FamlinkError):
    """Rows read do not equal rows used plus rows quarantined: something was lost."""


class OutputError(FamlinkError):
    """The output folder or database is missing, from another version, or incomplete."""
