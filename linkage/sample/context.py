"""What the sources share while one cluster is written: the random generator, the dates, the
truth files, the deliberate errors still owed, and the :class:`Evidence` the extracts hold.

Each source reports here what it wrote that the ground truth needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING

from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.world import Person

if TYPE_CHECKING:
    from famlink.linkage.sample.messy import Messy


@dataclass
class Evidence:
    """What one cluster's extracts hold (by true person), for the expected flags."""

    # (source, is_primary, a_pid, b_pid, canonical relationship): "b is a's relationship"
    rels: list[tuple[str, bool, str, str, str]] = field(default_factory=list)
    # (source, pid, uprn, postcode, address_clean, date_from, date_to)
    addrs: list[tuple[str, str, str | None, str | None, str | None, date | None, date | None]] = (
        field(default_factory=list))
    # (source, pid, event_type, role, date)
    events: list[tuple[str, str, str, str, date]] = field(default_factory=list)
    in_primary: dict[str, bool] = field(default_factory=dict)


@dataclass
class Ctx:
    rng: Random
    ref: date
    window_start: date
    out: Path
    records: CsvOut
    errors: CsvOut
    ev: Evidence = field(default_factory=Evidence)
    # deliberate errors still owed: "<source>:<kind>" -> due (set in the first cluster and then
    # periodically; each is paid by the next row that can carry it)
    pending: dict[str, bool] = field(default_factory=dict)
    # the messy noise profile (``famlink sample-data --messy``); None for the plain sample
    messy: Messy | None = None

    def owe(self, kind: str) -> bool:
        """True (once) when a forced injection of this kind is due."""
        if self.pending.get(kind):
            self.pending[kind] = False
            return True
        return False

    def record(self, source: str, record_id: str, person: Person | None, line: int,
               quarantine: str = "", primary: bool = False) -> None:
        if record_id and person is not None and not quarantine:
            self.records.write([source, record_id, person.pid, line])
        if person is not None and primary and not quarantine:
            self.ev.in_primary[person.pid] = True

    def error(self, source: str, kind: str, path: Path, line: int, what: str, expected: str,
              field_: str = "", detail: str = "") -> None:
        self.errors.write([source, kind, path.relative_to(self.out).as_posix(), line, what,
                           expected, field_, detail])

    def rel(self, source: str, primary: bool, a: Person, b: Person, rel: str) -> None:
        self.ev.rels.append((source, primary, a.pid, b.pid, rel))

    def event(self, source: str, person: Person, etype: str, role: str, when: date) -> None:
        self.ev.events.append((source, person.pid, etype, role, when))
