"""The agencies' extracts: who each agency knows, in its own columns, formats, codes and mistakes.

Each :class:`Source` writes its files row by row as clusters arrive and reports to the
:class:`Ctx` what it wrote that the ground truth needs: which true person each record is,
the relationships and addresses the extract holds, the events, and every deliberately bad
value or row (with its line number; the header is line 1).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from random import Random
from typing import IO, Any

from famlink.linkage.sample.names import NICKNAMES, POSTCODE_UNIT_LETTERS
from famlink.linkage.sample.world import (
    Address,
    Cluster,
    Event,
    Family,
    Person,
    age_on,
)

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


# ---------------------------------------------------------------------------------------------
# output files


class CsvOut:
    """A CSV written row by row; ``write`` returns the row's line number (header = 1)."""

    def __init__(self, path: Path, header: list[str], *, delimiter: str = ",",
                 bom: bool = False, crlf: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        self._f: IO[str] = open(path, "w", encoding="utf-8-sig" if bom else "utf-8",  # noqa: SIM115
                                newline="")
        self._w = csv.writer(self._f, delimiter=delimiter,
                             lineterminator="\r\n" if crlf else "\n")
        self._w.writerow(header)
        self.line = 1
        self.rows = 0

    def write(self, row: list[Any]) -> int:
        self._w.writerow(row)
        self.line += 1
        self.rows += 1
        return self.line

    def close(self) -> None:
        self._f.close()


class ParquetOut:
    """A Parquet file written in row groups; every column is text, as agencies export it."""

    BATCH = 50_000

    def __init__(self, path: Path, header: list[str]) -> None:
        import pyarrow as pa

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        self._schema = pa.schema([(c, pa.string()) for c in header])
        self._writer: Any = None
        self._cols: list[list[str | None]] = [[] for _ in header]
        self.line = 1
        self.rows = 0

    def write(self, row: list[Any]) -> int:
        for col, value in zip(self._cols, row, strict=True):
            col.append(None if value in ("", None) else str(value))
        self.line += 1
        self.rows += 1
        if len(self._cols[0]) >= self.BATCH:
            self._flush()
        return self.line

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.path), self._schema, compression="snappy")
        table = pa.Table.from_arrays([pa.array(c, pa.string()) for c in self._cols],
                                     schema=self._schema)
        self._writer.write_table(table)
        self._cols = [[] for _ in self.header]

    def close(self) -> None:
        if self._cols[0] or self._writer is None:
            self._flush()
        self._writer.close()


# ---------------------------------------------------------------------------------------------
# the shared context


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


# ---------------------------------------------------------------------------------------------
# how an agency writes a person


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
    if rng.random() < prof.fold:
        first, surname, middle = fold_accents(first), fold_accents(surname), fold_accents(middle)
    if rng.random() < prof.swap:
        first, surname = surname, first
    if rng.random() < prof.upper:
        first, surname, middle = first.upper(), surname.upper(), middle.upper()

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
    return Written(first, middle, surname, dob_text, nhs, postcode, nulled)


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


# ---------------------------------------------------------------------------------------------
# normalisation the truth uses to decide what an address record proves (mirrors docs/tables.md)

_ABBREV = {"rd": "road", "st": "street", "ave": "avenue", "ln": "lane", "cl": "close",
           "cres": "crescent", "dr": "drive", "gr": "grove", "terr": "terrace", "gdns": "gardens",
           "pl": "place", "ct": "court", "mt": "mount"}


def clean_address(text: str) -> str | None:
    s = fold_accents(text).lower().replace("'", "")
    words = "".join(c if c.isalnum() else " " for c in s).split()
    out = " ".join(_ABBREV.get(w, w) for w in words)
    return out or None


def clean_postcode(text: str) -> str | None:
    s = text.replace(" ", "").upper()
    if len(s) < 5:
        return None
    inward, outward = s[-3:], s[:-3]
    ok = (inward[0].isdigit() and all(c in POSTCODE_UNIT_LETTERS for c in inward[1:])
          and 2 <= len(outward) <= 4 and outward[0].isalpha() and outward[-1].isalnum()
          and any(c.isdigit() for c in outward))
    return f"{outward} {inward}" if ok else None


# ---------------------------------------------------------------------------------------------
# the sources


def _sex(p: Person, codes: tuple[str, str]) -> str:
    return codes[0] if p.sex == "male" else codes[1]


class Source:
    name = ""
    agency = ""
    primary = False

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.seq = 0
        self.files: dict[str, CsvOut | ParquetOut] = {}
        # per cluster: true person id -> this source's main record id for them
        self.rid: dict[str, str] = {}

    def path(self, name: str) -> Path:
        return self.ctx.out / self.name / name

    def emit(self, cluster: Cluster) -> None:
        raise NotImplementedError

    def job(self) -> str:
        raise NotImplementedError

    def owes_rows(self) -> bool:
        """True (once) when this source's round of unusable rows is due."""
        return self.ctx.owe(f"{self.name}:rows")

    def counts(self) -> dict[str, int]:
        return {kind: f.rows for kind, f in self.files.items()}

    def close(self) -> None:
        for f in self.files.values():
            f.close()

    def people_row(self, kind_file: CsvOut | ParquetOut, rid: str, p: Person, row: list[Any],
                   w: Written) -> int:
        line = kind_file.write(row)
        self.ctx.record(self.name, rid, p, line, primary=self.primary)
        for field_, reason, raw in w.nulled:
            self.ctx.error(self.name, "people", kind_file.path, line, "nulled", reason, field_,
                           f"{field_} {raw!r}")
        return line

    def addr(self, p: Person, uprn: str, postcode: str, address: str,
             d_from: date | None = None, d_to: date | None = None) -> None:
        self.ctx.ev.addrs.append((self.name, p.pid, uprn.lstrip("0") or None,
                                  clean_postcode(postcode), clean_address(address),
                                  d_from, d_to))


def _current_address(p: Person) -> Address:
    return p.current().address


# -- children's social care ----------------------------------------------------------------


class CSC(Source):
    name, agency, primary = "csc", "Children's social care", True
    FMT = "%d/%m/%Y"
    PROFILE = Profile(FMT, maiden=0.15, nhs_present=0.55, nhs_invalid=0.004, dob_missing=0.02)
    REL_CODES = {"MOT": "mother", "FAT": "father", "SFA": "step_parent", "SMO": "step_parent",
                 "PAR": "partner", "EXP": "ex_partner", "SIB": "sibling", "HSB": "half_sibling",
                 "HHM": "household_member", "CAR": "carer", "GMO": "other", "GFA": "other",
                 "CHI": "child"}
    EVENT_CODES = {"REF": "referral", "ASS": "assessment", "CIN": "cin_plan", "CPP": "cp_plan",
                   "LAC": "looked_after", "NEG": "neglect_concern", "GCP2": "gcp2_assessment"}
    EVENT_OF = {v: k for k, v in EVENT_CODES.items()}
    ETHNICITY = ("WBRI", "WBRI", "WBRI", "WOTH", "APKN", "AIND", "BAFR", "BCRB", "MWBC", "NOBT")

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": CsvOut(self.path("csc_people.csv"),
                             ["PersonID", "Forename", "Surname", "DateOfBirth", "Gender",
                              "NHSNumber", "Address", "PostCode", "UPRN", "Ethnicity"]),
            "relationships": CsvOut(self.path("csc_relationships.csv"),
                                    ["PersonID", "RelatedPersonID", "RelationshipCode",
                                     "StartDate", "EndDate"]),
            "events": CsvOut(self.path("csc_events.csv"),
                             ["EpisodeID", "PersonID", "EpisodeType", "StartDate", "Notes"]),
        }
        self.ev_seq = 0
        self.last_ids: list[str] = []

    def new_id(self) -> str:
        self.seq += 1
        return str(1_000_000 + self.seq * 3 + self.rng.randrange(3))

    def person(self, p: Person) -> None:
        rng = self.rng
        a = _current_address(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        rid = self.new_id()
        self.rid[p.pid] = rid
        uprn = a.uprn if rng.random() < 0.8 else ""
        address = f"{street_line(rng, a, self.PROFILE)}, {a.locality}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, w.first, w.surname, w.dob, _sex(p, ("M", "F")) if rng.random()
                         > 0.01 else "U", w.nhs, address, w.postcode, uprn,
                         rng.choice(self.ETHNICITY)], w)
        self.addr(p, uprn, w.postcode, address)
        self.last_ids.append(rid)
        if rng.random() < 0.02:  # the same person opened twice
            w2 = write_person(self.ctx, self.name, p, self.PROFILE, a, allow_bad=False)
            rid2 = self.new_id()
            self.people_row(self.files["people"], rid2, p,
                            [rid2, w2.first, w2.surname, w2.dob, _sex(p, ("M", "F")), "",
                             address, w2.postcode, uprn, ""], w2)
            self.addr(p, uprn, w2.postcode, address)

    def relate(self, a: Person, b: Person, code: str, start: date | None = None,
               end: date | None = None) -> None:
        if a.pid not in self.rid or b.pid not in self.rid:
            return
        self.files["relationships"].write([self.rid[a.pid], self.rid[b.pid], code,
                                           fmt_date(start, self.FMT), fmt_date(end, self.FMT)])
        self.ctx.rel(self.name, True, a, b, self.REL_CODES[code])

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        self.rid = {}
        for fam in cluster.families:
            if not fam.flags.get("csc_known"):
                continue
            kids = [k for k in fam.children if age_on(k.dob, ref) < 18]
            self.person(fam.mother)
            for k in kids:
                self.person(k)
            for father in fam.fathers:
                if father.pid not in self.rid and rng.random() < 0.6:
                    self.person(father)
            partners = [(p, s, e, lives) for p, s, e, lives in fam.partners
                        if p not in fam.fathers]
            for p, _s, e, lives in partners:
                if (e is None or e >= self.ctx.window_start) and rng.random() < (
                        0.5 if lives else 0.25):
                    self.person(p)
            for o in fam.others:
                lives_with = any(r.address is fam.addresses[-1].address for r in o.residences)
                if rng.random() < (0.45 if lives_with else 0.2):
                    self.person(o)
            # relationships, as the social worker recorded them
            for k in kids:
                self.relate(k, fam.mother, "MOT", k.dob)
                f = fam.father_of[k.pid]
                if f is not None:
                    self.relate(k, f, "FAT", k.dob)
            for p, s, e, _lives in partners:
                if p.pid not in self.rid:
                    continue
                if rng.random() < 0.5:
                    self.relate(fam.mother, p, "PAR", s, e)
                else:
                    for k in kids:
                        self.relate(k, p, "SFA" if p.sex == "male" else "SMO", s, e)
            for o in fam.others:
                if o.pid not in self.rid:
                    continue
                lives_with = any(r.address is fam.addresses[-1].address for r in o.residences)
                for k in kids:
                    code = "HHM" if lives_with else ("GMO" if o.sex == "female" else "GFA")
                    self.relate(k, o, code)
            for i, x in enumerate(kids):
                for y in kids[i + 1:]:
                    if rng.random() < 0.25:
                        same = fam.father_of[x.pid] is fam.father_of[y.pid]
                        self.relate(x, y, "SIB" if same else "HSB")
        # events of the people this agency holds
        for ev in cluster.events:
            if ev.source == "csc" and ev.person.pid in self.rid:
                self.write_event(ev)
        if self.last_ids and self.owes_rows():
            self.inject()

    def write_event(self, ev: Event) -> int:
        self.ev_seq += 1
        line = self.files["events"].write([f"EP{self.ev_seq:07d}", self.rid[ev.person.pid],
                                           self.EVENT_OF[ev.etype],
                                           fmt_date(ev.when.date(), self.FMT), ev.detail])
        self.ctx.event(self.name, ev.person, ev.etype, ev.role, ev.when.date())
        return line

    def inject(self) -> None:
        """Rows famlink must quarantine (or map to `other`)."""
        ctx = self.ctx
        people, rels, events = (self.files["people"], self.files["relationships"],
                                self.files["events"])
        line = people.write(["", "Kayden", "Marsh", "14/07/2019", "M", "", "", "", "", ""])
        ctx.record(self.name, "", None, line, "missing_record_id")
        ctx.error(self.name, "people", people.path, line, "quarantine", "missing_record_id",
                  detail="people row without a PersonID")
        if self.last_ids:
            known = self.last_ids[-1]
            line = rels.write([known, "9999999", "FAT", "", ""])
            ctx.error(self.name, "relationships", rels.path, line, "quarantine",
                      "unknown_related_record_id",
                      detail="RelatedPersonID 9999999 is in no people row")
            line = rels.write([known, "", "MOT", "", ""])
            ctx.error(self.name, "relationships", rels.path, line, "quarantine",
                      "missing_related_record_id", detail="RelatedPersonID blank")
            self.ev_seq += 1
            line = events.write([f"EP{self.ev_seq:07d}", known, "EHA",
                                 fmt_date(ctx.ref.replace(day=1), self.FMT),
                                 "Early help assessment"])
            ctx.error(self.name, "events", events.path, line, "unmapped", "unmapped_code",
                      "event_type", "EpisodeType 'EHA' has no mapping: becomes other")
            self.ev_seq += 1
            line = events.write([f"EP{self.ev_seq:07d}", known, "REF", "", "Referral, no date"])
            ctx.error(self.name, "events", events.path, line, "quarantine",
                      "missing_event_date", detail="StartDate blank")
        self.last_ids = self.last_ids[-5:]

    def job(self) -> str:
        return _source_toml(
            self, {
                "people": ("csc_people.csv", self.FMT, {
                    "record_id": "PersonID", "first_name": "Forename", "surname": "Surname",
                    "dob": "DateOfBirth", "sex": "Gender", "nhs_number": "NHSNumber",
                    "address": "Address", "postcode": "PostCode", "uprn": "UPRN"},
                    {"sex": {"M": "male", "F": "female", "U": "unknown"}}),
                "relationships": ("csc_relationships.csv", self.FMT, {
                    "record_id": "PersonID", "related_record_id": "RelatedPersonID",
                    "relationship": "RelationshipCode", "start_date": "StartDate",
                    "end_date": "EndDate"}, {"relationship": self.REL_CODES}),
                "events": ("csc_events.csv", self.FMT, {
                    "record_id": "PersonID", "event_id": "EpisodeID", "event_date": "StartDate",
                    "event_type": "EpisodeType", "summary": "Notes"},
                    {"event_type": self.EVENT_CODES}),
            })


# -- health visiting / midwifery --------------------------------------------------------------


class HV(Source):
    name, agency, primary = "hv", "Health visiting and midwifery", True
    FMT = "%Y-%m-%d"
    PROFILE = Profile(FMT, maiden=0.08, nhs_present=0.93, nhs_spaces=0.1, nhs_invalid=0.004,
                      typo=0.025)
    REL_CODES = {"MOTHER": "mother", "FATHER": "father", "PARTNER": "partner",
                 "OTHER_PARENT": "parent", "BABY": "child", "CHILD": "child",
                 "HOUSEHOLD": "household_member"}
    EVENT_CODES = {"BIRTH": "birth", "INJ": "injury", "DNA": "missed_appointment",
                   "GCP2": "gcp2_assessment"}
    EVENT_OF = {v: k for k, v in EVENT_CODES.items()}

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": CsvOut(self.path("hv_clients.csv"),
                             ["ClientID", "NHS_No", "GivenName", "FamilyName", "BirthDate",
                              "Sex", "AddrLine", "PostCode", "ClientType"]),
            "relationships": CsvOut(self.path("hv_links.csv"),
                                    ["ClientID", "LinkedClientID", "LinkType", "LinkStart"]),
            "events": CsvOut(self.path("hv_contacts.csv"),
                             ["ContactID", "ClientID", "ContactDate", "ContactType", "Outcome"]),
        }
        self.ev_seq = 0
        self.some_id = ""

    def person(self, p: Person, client_type: str) -> None:
        rng = self.rng
        a = _current_address(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"HV{self.seq:07d}"
        self.rid[p.pid] = rid
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, w.nhs, w.first, w.surname, w.dob, _sex(p, ("1", "2")), address,
                         w.postcode, client_type], w)
        self.addr(p, "", w.postcode, address)
        self.some_id = rid

    def relate(self, a: Person, b: Person, code: str, start: date | None = None) -> None:
        if a.pid in self.rid and b.pid in self.rid:
            self.files["relationships"].write([self.rid[a.pid], self.rid[b.pid], code,
                                               fmt_date(start, self.FMT)])
            self.ctx.rel(self.name, True, a, b, self.REL_CODES[code])

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        self.rid = {}
        for fam in cluster.families:
            babies = [k for k in fam.children if age_on(k.dob, ref) < 5]
            if not babies or rng.random() > 0.92:
                continue
            self.person(fam.mother, "MOTHER")
            for k in babies:
                self.person(k, "CHILD")
                if rng.random() < 0.75:
                    self.relate(k, fam.mother, "MOTHER", k.dob)
                else:
                    self.relate(fam.mother, k, "BABY" if age_on(k.dob, ref) < 1 else "CHILD",
                                k.dob)
            for father in fam.fathers:
                his = [k for k in babies if fam.father_of[k.pid] is father]
                lives = any(p is father and lv for p, _, e, lv in fam.partners if e is None)
                if his and rng.random() < (0.45 if lives else 0.12):
                    if father.pid not in self.rid:
                        self.person(father, "FATHER")
                    for k in his:
                        self.relate(k, father, "FATHER", k.dob)
            for p, s, e, lives in fam.partners:
                if p in fam.fathers or not (e is None or e >= self.ctx.window_start):
                    continue
                if rng.random() < (0.3 if lives else 0.1):
                    self.person(p, "PARTNER")
                    if p.sex == "female" and rng.random() < 0.5:
                        for k in babies:
                            self.relate(k, p, "OTHER_PARENT")
                    else:
                        self.relate(fam.mother, p, "PARTNER", s)
        for ev in cluster.events:
            if ev.source == "hv" and ev.person.pid in self.rid:
                self.ev_seq += 1
                self.files["events"].write([f"C{self.ev_seq:08d}", self.rid[ev.person.pid],
                                            fmt_date(ev.when.date(), self.FMT),
                                            self.EVENT_OF[ev.etype], ev.detail])
                self.ctx.event(self.name, ev.person, ev.etype, ev.role, ev.when.date())
        if self.some_id and self.owes_rows():
            ctx = self.ctx
            rels, events = self.files["relationships"], self.files["events"]
            line = rels.write([self.some_id, self.some_id, "", ""])
            ctx.error(self.name, "relationships", rels.path, line, "quarantine",
                      "missing_relationship", detail="LinkType blank")
            self.ev_seq += 1
            line = events.write([f"C{self.ev_seq:08d}", self.some_id, "2025-13-45", "DNA",
                                 "Not brought"])
            ctx.error(self.name, "events", events.path, line, "quarantine",
                      "unparseable_event_date", detail="ContactDate '2025-13-45'")

    def job(self) -> str:
        return _source_toml(
            self, {
                "people": ("hv_clients.csv", self.FMT, {
                    "record_id": "ClientID", "first_name": "GivenName",
                    "surname": "FamilyName", "dob": "BirthDate", "sex": "Sex",
                    "nhs_number": "NHS_No", "address": "AddrLine", "postcode": "PostCode"},
                    {"sex": {"1": "male", "2": "female", "9": "unknown"}}),
                "relationships": ("hv_links.csv", self.FMT, {
                    "record_id": "ClientID", "related_record_id": "LinkedClientID",
                    "relationship": "LinkType", "start_date": "LinkStart"},
                    {"relationship": self.REL_CODES}),
                "events": ("hv_contacts.csv", self.FMT, {
                    "record_id": "ClientID", "event_id": "ContactID",
                    "event_date": "ContactDate", "event_type": "ContactType",
                    "summary": "Outcome"}, {"event_type": self.EVENT_CODES}),
            })


# -- GP registrations --------------------------------------------------------------------------


class GP(Source):
    name, agency, primary = "gp", "GP registrations", False
    FMT = "%Y%m%d"
    PROFILE = Profile(FMT, maiden=0.3, upper=1.0, fold=1.0, nhs_present=0.97,
                      nhs_invalid=0.003, typo=0.02, nickname=0.01, dob_missing=0.003)
    PRACTICES = ("B86001", "B86003", "B86010", "B83002", "B87008", "B85011", "B82005")

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {"people": CsvOut(
            self.path("gp_registrations.csv"),
            ["PATIENT_ID", "NHS_NUMBER", "SURNAME", "FORENAME", "MIDDLE_NAMES", "DOB", "GENDER",
             "ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "POSTCODE", "UPRN", "REG_START", "REG_END",
             "PRACTICE_CODE"], delimiter="|")}

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        since = ref.replace(year=ref.year - 4)
        for p in cluster.persons:
            if rng.random() > 0.93:
                continue
            practice = rng.choice(self.PRACTICES)
            history = [r for r in p.residences if r.end is None or r.end > since]
            for i, res in enumerate(history):
                self.row(p, res.address, res.start, res.end, practice)
                if i == len(history) - 1 and rng.random() < 0.015:  # duplicate registration
                    self.row(p, res.address, res.start, res.end, rng.choice(self.PRACTICES))

    def row(self, p: Person, a: Address, start: date, end: date | None, practice: str) -> None:
        rng = self.rng
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"G{self.seq:08d}"
        line1 = street_line(rng, a, self.PROFILE).upper()
        uprn = a.uprn if rng.random() < 0.9 else ""
        self.people_row(self.files["people"], rid, p,
                        [rid, w.nhs, w.surname, w.first, w.middle, w.dob,
                         _sex(p, ("M", "F")), line1, a.locality.upper(), a.town.upper(),
                         w.postcode, uprn, fmt_date(start, self.FMT), fmt_date(end, self.FMT),
                         practice], w)
        self.addr(p, uprn, w.postcode, f"{line1} {a.locality} {a.town}", start, end)

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("gp_registrations.csv", self.FMT, {
                "record_id": "PATIENT_ID", "first_name": "FORENAME", "middle_names": "MIDDLE_NAMES",
                "surname": "SURNAME", "dob": "DOB", "sex": "GENDER", "nhs_number": "NHS_NUMBER",
                "address": ["ADDRESS_1", "ADDRESS_2", "ADDRESS_3"], "postcode": "POSTCODE",
                "uprn": "UPRN", "address_from": "REG_START", "address_to": "REG_END"},
                {"sex": {"M": "male", "F": "female", "I": "unknown", "U": "unknown"}}),
        }, delimiter="|")


# -- police ---------------------------------------------------------------------------------


class Police(Source):
    name, agency, primary = "police", "Police", False
    FMT = "%d/%m/%Y"
    PROFILE = Profile(FMT, maiden=0.3, upper=0.25, fold=0.6, nhs_present=0.04, typo=0.05,
                      nickname=0.1, swap=0.02, dob_missing=0.08, dob_swap=0.02)
    ASSOC_CODES = {"PARTNER": "partner", "EX-PARTNER": "ex_partner", "FATHER": "father",
                   "MOTHER": "mother", "CHILD": "child", "ASSOCIATE": "other",
                   "HOUSEHOLD": "household_member"}
    TYPE_CODES = {"DA": "domestic_abuse", "VIOL": "offence", "THEFT": "offence",
                  "DRUGS": "substance_misuse", "CFW": "other"}
    ROLE_CODES = {"VIC": "victim", "SUS": "suspect", "WIT": "witness", "CHP": "child_present",
                  "RP": "other"}
    ROLE_OF = {v: k for k, v in ROLE_CODES.items()}

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": CsvOut(self.path("police_nominals.csv"),
                             ["NominalRef", "Surname", "Forename", "DOB", "Sex", "NHSNo",
                              "HomeAddress", "Postcode", "PNCId"]),
            "relationships": CsvOut(self.path("police_associations.csv"),
                                    ["NominalRef", "AssociateRef", "AssociationType",
                                     "DateRecorded"]),
            "events": CsvOut(self.path("police_incidents.csv"),
                             ["IncidentRef", "NominalRef", "IncidentDateTime", "IncidentType",
                              "InvolvementRole", "Summary"]),
        }
        self.recent: list[list[str]] = []

    def person(self, p: Person) -> None:
        rng = self.rng
        a = _current_address(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"N{self.seq:07d}"
        self.rid[p.pid] = rid
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        pnc = (f"{p.dob.year % 100 + 0:02d}/{rng.randrange(10**6):06d}"
               f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}" if age_on(p.dob, self.ctx.ref) >= 18
               and rng.random() < 0.5 else "")
        sex = "Male" if p.sex == "male" else "Female"
        row = [rid, w.surname, w.first, w.dob, sex, w.nhs, address, w.postcode, pnc]
        self.people_row(self.files["people"], rid, p, row, w)
        self.addr(p, "", w.postcode, address)
        self.recent = [row, *self.recent[:3]]
        if rng.random() < 0.04:  # a second nominal for the same person
            w2 = write_person(self.ctx, self.name, p, self.PROFILE, a, allow_bad=False)
            self.seq += 1
            rid2 = f"N{self.seq:07d}"
            self.people_row(self.files["people"], rid2, p,
                            [rid2, w2.surname, w2.first, w2.dob, sex, "", address,
                             w2.postcode, ""], w2)
            self.addr(p, "", w2.postcode, address)

    def associate(self, a: Person, b: Person, code: str, when: datetime) -> None:
        if a.pid in self.rid and b.pid in self.rid:
            self.files["relationships"].write([self.rid[a.pid], self.rid[b.pid], code,
                                               fmt_datetime(when)])
            self.ctx.rel(self.name, False, a, b, self.ASSOC_CODES[code])

    def emit(self, cluster: Cluster) -> None:
        self.rid = {}
        pairs_done: set[tuple[str, str]] = set()
        evs = [e for e in cluster.events if e.source == "police"]
        for e in evs:
            if e.person.pid not in self.rid:
                self.person(e.person)
        # associations from domestic incidents: the couple, and the children with their father
        for fam in cluster.families:
            da = [e for e in evs if e.etype == "domestic_abuse" and e.role == "suspect"]
            for e in da:
                other = next((x.person for x in evs if x.incident == e.incident
                              and x.role == "victim"), None)
                if other is None or (e.person.pid, other.pid) in pairs_done:
                    continue
                if fam.mother is not e.person and fam.mother is not other:
                    continue
                pairs_done.add((e.person.pid, other.pid))
                still = any(p in (e.person, other) and end is None
                            for p, _, end, _ in fam.partners)
                self.associate(e.person, other, "PARTNER" if still else "EX-PARTNER", e.when)
                for x in evs:
                    if x.incident == e.incident and x.role == "child_present":
                        f = fam.father_of.get(x.person.pid)
                        if f is not None and f.pid in self.rid and self.rng.random() < 0.5:
                            self.associate(x.person, f, "FATHER", e.when)
        for e in evs:
            code = {"domestic_abuse": "DA", "substance_misuse": "DRUGS"}.get(
                e.etype, "VIOL" if "ssault" in e.detail else "THEFT")
            self.files["events"].write([e.incident, self.rid[e.person.pid],
                                        fmt_datetime(e.when), code, self.ROLE_OF[e.role],
                                        e.detail])
            self.ctx.event(self.name, e.person, e.etype, e.role, e.when.date())
        if self.recent and self.owes_rows():
            ctx = self.ctx
            people, events = self.files["people"], self.files["events"]
            dup = list(self.recent[-1])
            victim = self.recent[0]
            row = [dup[0], victim[1], victim[2], victim[3], victim[4], "", victim[6],
                   victim[7], ""]
            line = people.write(row)
            ctx.record(self.name, dup[0], None, line, "duplicate_record_id")
            ctx.error(self.name, "people", people.path, line, "quarantine",
                      "duplicate_record_id", detail=f"NominalRef {dup[0]} used twice")
            when = datetime(ctx.ref.year, ctx.ref.month, 1, 23, 10)
            line = events.write([f"WY/{when.year}/9{self.seq:06d}", "N9999999",
                                 fmt_datetime(when), "CFW", "RP", "Concern for welfare"])
            ctx.error(self.name, "events", events.path, line, "quarantine",
                      "unknown_record_id", detail="NominalRef N9999999 is in no people row")

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("police_nominals.csv", self.FMT, {
                "record_id": "NominalRef", "first_name": "Forename", "surname": "Surname",
                "dob": "DOB", "sex": "Sex", "nhs_number": "NHSNo", "address": "HomeAddress",
                "postcode": "Postcode"},
                {"sex": {"Male": "male", "Female": "female", "Unknown": "unknown"}}),
            "relationships": ("police_associations.csv", self.FMT, {
                "record_id": "NominalRef", "related_record_id": "AssociateRef",
                "relationship": "AssociationType", "start_date": "DateRecorded"},
                {"relationship": self.ASSOC_CODES}),
            "events": ("police_incidents.csv", "%d/%m/%Y %H:%M", {
                "record_id": "NominalRef", "event_id": "IncidentRef",
                "event_date": "IncidentDateTime", "event_type": "IncidentType",
                "role": "InvolvementRole", "summary": "Summary"},
                {"event_type": self.TYPE_CODES, "role": self.ROLE_CODES}),
        })


# -- housing ----------------------------------------------------------------------------------


class Housing(Source):
    name, agency, primary = "housing", "Housing", False
    FMT = "%d.%m.%Y"
    PROFILE = Profile(FMT, maiden=0.1, typo=0.03, dob_missing=0.05, nickname=0.06)
    REL_CODES = {"SON": "child", "DAUGHTER": "child", "PARTNER": "partner",
                 "SPOUSE": "partner", "STEPSON": "household_member",
                 "STEPDAUGHTER": "household_member", "MOTHER": "parent", "FATHER": "parent",
                 "BROTHER": "sibling", "SISTER": "sibling", "LODGER": "household_member",
                 "OTHER": "other"}
    TITLES = {"male": ("Mr",), "female": ("Mrs", "Miss", "Ms")}

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {"people": CsvOut(
            self.path("housing_tenancies.csv"),
            ["TenancyRef", "PersonNo", "LeadTenant", "Forenames", "Surname", "DateOfBirth",
             "Gender", "AddressLine1", "AddressLine2", "Town", "PostCode", "UPRN",
             "TenancyStart", "TenancyEnd", "OccupantFrom", "OccupantTo", "RelationshipToLead",
             "LeadPersonNo"])}
        self.tenancy_seq = 0

    def code(self, fam: Family, lead: Person, occ: Person) -> str:
        son = "SON" if occ.sex == "male" else "DAUGHTER"
        if occ in fam.children:
            if lead is fam.mother or fam.father_of.get(occ.pid) is lead:
                return son
            return "STEPSON" if occ.sex == "male" else "STEPDAUGHTER"
        if lead is fam.mother:
            if any(p is occ for p, *_ in fam.partners):
                return "SPOUSE" if occ.surname == lead.surname and occ.sex == "male" else "PARTNER"
            return {"grandmother": "MOTHER", "grandfather": "FATHER", "uncle": "BROTHER",
                    "lodger": "LODGER"}.get(occ.role, "OTHER")
        if occ is fam.mother:
            return "PARTNER"
        return "LODGER" if occ.role == "lodger" else "OTHER"

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        six_years = ref.replace(year=ref.year - 6)
        for fam in cluster.families:
            if rng.random() > 0.38:
                continue
            for home in fam.addresses:
                if (home.end is not None and home.end < six_years) or rng.random() > 0.8:
                    continue
                self.tenancy(cluster, fam, home.address, home.start, home.end)
        if self.owes_rows():
            ctx = self.ctx
            people = self.files["people"]
            self.tenancy_seq += 1
            rid = f"TEN{self.tenancy_seq:06d}/1"
            line = people.write([rid[:-2], rid, "Y", "", "", "", "", "Garage 4", "",
                                 "Leeds", "", "", fmt_date(ref.replace(day=1), self.FMT), "",
                                 "", "", "", ""])
            ctx.record(self.name, rid, None, line, "no_identifying_fields")
            ctx.error(self.name, "people", people.path, line, "quarantine",
                      "no_identifying_fields", detail="no name, no NHS number, no date of birth")

    def tenancy(self, cluster: Cluster, fam: Family, a: Address, start: date,
                end: date | None) -> None:
        rng = self.rng
        self.tenancy_seq += 1
        tref = f"TEN{self.tenancy_seq:06d}"
        # everyone living there during the tenancy
        occupants: list[tuple[Person, date, date | None]] = []
        for p in cluster.persons:
            for r in p.residences:
                if r.address is a:
                    occupants.append((p, r.start, r.end))
        if not occupants:
            return
        lead = fam.mother
        men = [p for p, s, e in occupants if p in (x for x, *_ in fam.partners) and s <= start]
        if men and rng.random() < 0.2:
            lead = men[0]
        if all(p is not lead for p, *_ in occupants):
            return
        lead_no = f"{tref}/1"
        n = 1
        t_start = start if start.year >= 1995 else start.replace(year=1995)
        ordered = sorted(occupants, key=lambda o: (o[0] is not lead, o[1], o[0].pid))
        for p, s, e in ordered:
            if p is lead:
                rid = lead_no
            else:
                hidden_man = p.sex == "male" and age_on(p.dob, self.ctx.ref) >= 18
                if rng.random() > (0.62 if hidden_man else 0.9):
                    continue
                n += 1
                rid = f"{tref}/{n}"
            w = write_person(self.ctx, self.name, p, self.PROFILE, a)
            forenames = w.first
            if age_on(p.dob, self.ctx.ref) >= 18 and rng.random() < 0.3:
                forenames = f"{rng.choice(self.TITLES[p.sex])} {forenames}"
            if a.flat is not None:
                l1, l2 = f"Flat {a.flat}", f"{a.number} {a.street(rng.random() < 0.3)}"
            else:
                l1, l2 = f"{a.number} {a.street(rng.random() < 0.3)}", a.locality
            o_from = max(s, start)
            o_to = e if end is None or (e is not None and e < end) else end
            code = "" if p is lead else self.code(fam, lead, p)
            self.people_row(self.files["people"], rid, p,
                            [tref, rid, "Y" if p is lead else "N", forenames, w.surname, w.dob,
                             _sex(p, ("M", "F")), l1, l2, a.town, w.postcode, a.uprn,
                             fmt_date(t_start, self.FMT), fmt_date(end, self.FMT),
                             fmt_date(o_from, self.FMT), fmt_date(o_to, self.FMT), code,
                             "" if p is lead else lead_no], w)
            self.addr(p, a.uprn, w.postcode, f"{l1} {l2} {a.town}", o_from, o_to)
            if p is not lead:
                self.ctx.rel(self.name, False, lead, p, self.REL_CODES[code])

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("housing_tenancies.csv", self.FMT, {
                "record_id": "PersonNo", "first_name": "Forenames", "surname": "Surname",
                "dob": "DateOfBirth", "sex": "Gender",
                "address": ["AddressLine1", "AddressLine2", "Town"], "postcode": "PostCode",
                "uprn": "UPRN", "address_from": "OccupantFrom", "address_to": "OccupantTo",
                "relationship_to": "LeadPersonNo", "relationship": "RelationshipToLead"},
                {"sex": {"M": "male", "F": "female"}, "relationship": self.REL_CODES}),
        })


# -- education ---------------------------------------------------------------------------------


class Education(Source):
    name, agency, primary = "education", "Education", False
    FMT = "%d-%b-%Y"
    PROFILE = Profile(FMT, maiden=0.05, typo=0.02, nickname=0.08, dob_missing=0.0)
    REL_CODES = {"Mother": "mother", "Father": "father", "Step-father": "step_parent",
                 "Step-mother": "step_parent", "Parent": "parent", "Carer": "carer",
                 "Grandparent": "other", "Other": "other"}
    SCHOOLS = ("St Mary's CE Primary", "Park View Academy", "Hillside Primary",
               "Moorlands High School", "Beckfield Primary", "Oakwood Academy",
               "Holy Family RC Primary", "Brookside Community School")

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": CsvOut(self.path("education_pupils_contacts.csv"),
                             ["RowID", "RowType", "UPN", "PupilRowID", "ContactRelationship",
                              "ContactPriority", "LegalForename", "LegalSurname", "DOB",
                              "Gender", "Address", "Postcode", "School"], bom=True, crlf=True),
            "events": CsvOut(self.path("education_send.csv"),
                             ["PupilRowID", "NeedType", "StartDate", "Notes"]),
        }

    def row(self, p: Person, row_type: str, pupil_rid: str, rel: str, priority: str,
            school: str) -> str:
        rng = self.rng
        a = _current_address(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = str(500_000 + self.seq)
        upn = f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randrange(10**12):012d}" if (
            row_type == "Pupil") else ""
        dob = w.dob if row_type == "Pupil" or rng.random() < 0.15 else ""
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, row_type, upn, pupil_rid, rel, priority, w.first, w.surname,
                         dob, _sex(p, ("M", "F")), address, w.postcode, school],
                        w if dob else Written(w.first, w.middle, w.surname, "", "",
                                              w.postcode, [n for n in w.nulled
                                                           if n[0] != "dob"]))
        self.addr(p, "", w.postcode, address)
        return rid

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        pupils: dict[str, str] = {}
        for fam in cluster.families:
            school = rng.choice(self.SCHOOLS)
            resident_partners = [p for p, s, e, lives in fam.partners
                                 if lives and e is None and p not in fam.fathers]
            for k in fam.children:
                if not 4 <= age_on(k.dob, ref) < 18 or rng.random() > 0.95:
                    continue
                rid = self.row(k, "Pupil", "", "", "", school)
                pupils[k.pid] = rid
                contacts: list[tuple[Person, str]] = []
                if rng.random() < 0.97:
                    contacts.append((fam.mother, "Mother"))
                father = fam.father_of[k.pid]
                f_lives = father is not None and any(
                    p is father and lives and e is None for p, _, e, lives in fam.partners)
                if father is not None and rng.random() < (0.7 if f_lives else 0.3):
                    contacts.append((father, "Father"))
                elif resident_partners and rng.random() < 0.45:
                    p = resident_partners[0]
                    contacts.append((p, "Step-father" if p.sex == "male" else "Parent"))
                elif fam.others and rng.random() < 0.4:
                    contacts.append((fam.others[0], "Grandparent" if fam.others[0].role.startswith(
                        "grand") else "Other"))
                for i, (c, rel) in enumerate(contacts[:2]):
                    self.row(c, "Contact", rid, rel, str(i + 1), school)
                    self.ctx.rel(self.name, False, k, c, self.REL_CODES[rel])
        for ev in cluster.events:
            if ev.source == "education" and ev.person.pid in pupils:
                self.files["events"].write([pupils[ev.person.pid],
                                            "EHCP" if ev.detail == "EHCP" else "SENK",
                                            fmt_date(ev.when.date(), self.FMT), ev.detail])
                self.ctx.event(self.name, ev.person, ev.etype, ev.role, ev.when.date())

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("education_pupils_contacts.csv", self.FMT, {
                "record_id": "RowID", "first_name": "LegalForename", "surname": "LegalSurname",
                "dob": "DOB", "sex": "Gender", "address": "Address", "postcode": "Postcode",
                "relationship_to": "PupilRowID", "relationship": "ContactRelationship"},
                {"sex": {"M": "male", "F": "female"}, "relationship": self.REL_CODES}),
            "events": ("education_send.csv", self.FMT, {
                "record_id": "PupilRowID", "event_date": "StartDate", "event_type": "NeedType",
                "summary": "Notes"}, {"event_type": {"EHCP": "send", "SENK": "send"}}),
        })


# -- adult mental health ------------------------------------------------------------------------


class AMH(Source):
    name, agency, primary = "amh", "Adult mental health", False
    FMT = "%m/%d/%Y"
    PROFILE = Profile(FMT, maiden=0.3, nhs_present=0.95, nhs_spaces=0.35, nhs_invalid=0.005)
    EVENT_CODES = {"REF": "mental_health_referral", "ADM": "mental_health_admission",
                   "S2": "mental_health_detention", "S3": "mental_health_detention",
                   "S136": "mental_health_detention"}

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": CsvOut(self.path("amh_patients.csv"),
                             ["PatientID", "NHSNumber", "FirstName", "LastName", "DOB",
                              "Gender", "Address1", "Postcode"]),
            "events": CsvOut(self.path("amh_episodes.csv"),
                             ["EpisodeNo", "PatientID", "EpisodeDate", "EpisodeType", "Notes"]),
        }
        self.ev_seq = 0

    def emit(self, cluster: Cluster) -> None:
        rng = self.rng
        self.rid = {}
        for ev in cluster.events:
            if ev.source != "amh":
                continue
            p = ev.person
            if p.pid not in self.rid:
                for _ in range(2 if rng.random() < 0.03 else 1):
                    a = _current_address(p)
                    w = write_person(self.ctx, self.name, p, self.PROFILE, a)
                    self.seq += 1
                    rid = f"RX{self.seq:06d}"
                    self.rid.setdefault(p.pid, rid)
                    address = f"{street_line(rng, a, self.PROFILE)}, {a.locality}, {a.town}"
                    self.people_row(self.files["people"], rid, p,
                                    [rid, w.nhs, w.first, w.surname, w.dob,
                                     "Male" if p.sex == "male" else "Female", address,
                                     w.postcode], w)
                    self.addr(p, "", w.postcode, address)
            self.ev_seq += 1
            code = {"mental_health_referral": "REF", "mental_health_admission": "ADM"}.get(
                ev.etype, rng.choice(("S2", "S3", "S136")))
            self.files["events"].write([str(self.ev_seq), self.rid[p.pid],
                                        fmt_date(ev.when.date(), self.FMT), code, ev.detail])
            self.ctx.event(self.name, p, ev.etype, ev.role, ev.when.date())

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("amh_patients.csv", self.FMT, {
                "record_id": "PatientID", "first_name": "FirstName", "surname": "LastName",
                "dob": "DOB", "sex": "Gender", "nhs_number": "NHSNumber", "address": "Address1",
                "postcode": "Postcode"}, {"sex": {"Male": "male", "Female": "female"}}),
            "events": ("amh_episodes.csv", self.FMT, {
                "record_id": "PatientID", "event_id": "EpisodeNo", "event_date": "EpisodeDate",
                "event_type": "EpisodeType", "summary": "Notes"},
                {"event_type": self.EVENT_CODES}),
        })


# -- probation (Parquet) ------------------------------------------------------------------------


class Probation(Source):
    name, agency, primary = "probation", "Probation", False
    FMT = "%Y-%m-%d"
    PROFILE = Profile(FMT, maiden=0.3, nhs_present=0.05, typo=0.03, nickname=0.1)

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": ParquetOut(self.path("probation_cases.parquet"),
                                 ["CRN", "FirstName", "Surname", "DateOfBirth", "Gender",
                                  "NHSNumber", "Address", "Postcode"]),
            "events": ParquetOut(self.path("probation_events.parquet"),
                                 ["CRN", "EventID", "EventDate", "EventType", "Detail"]),
        }
        self.ev_seq = 0

    def emit(self, cluster: Cluster) -> None:
        rng = self.rng
        self.rid = {}
        for ev in cluster.events:
            if ev.source != "probation":
                continue
            p = ev.person
            if p.pid not in self.rid:
                a = _current_address(p)
                w = write_person(self.ctx, self.name, p, self.PROFILE, a, allow_bad=False)
                self.seq += 1
                rid = f"{'XABCDEFGH'[self.seq // 1_000_000 % 9]}{self.seq % 1_000_000:06d}"
                self.rid[p.pid] = rid
                address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
                self.people_row(self.files["people"], rid, p,
                                [rid, w.first, w.surname, w.dob, _sex(p, ("M", "F")), w.nhs,
                                 address, w.postcode], w)
                self.addr(p, "", w.postcode, address)
            self.ev_seq += 1
            self.files["events"].write([self.rid[p.pid], f"E{self.ev_seq:07d}",
                                        fmt_date(ev.when.date(), self.FMT),
                                        "OFF" if ev.etype == "offence" else "SUB", ev.detail])
            self.ctx.event(self.name, p, ev.etype, ev.role, ev.when.date())

    def job(self) -> str:
        return _source_toml(self, {
            "people": ("probation_cases.parquet", self.FMT, {
                "record_id": "CRN", "first_name": "FirstName", "surname": "Surname",
                "dob": "DateOfBirth", "sex": "Gender", "nhs_number": "NHSNumber",
                "address": "Address", "postcode": "Postcode"},
                {"sex": {"M": "male", "F": "female"}}),
            "events": ("probation_events.parquet", self.FMT, {
                "record_id": "CRN", "event_id": "EventID", "event_date": "EventDate",
                "event_type": "EventType", "summary": "Detail"},
                {"event_type": {"OFF": "offence", "SUB": "substance_misuse"}}),
        })


SOURCES: tuple[type[Source], ...] = (CSC, HV, GP, Police, Housing, Education, AMH, Probation)


# ---------------------------------------------------------------------------------------------
# job-file text


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _toml_value(k)


def _source_toml(src: Source, files: dict[str, tuple[str, str, dict[str, Any],
                                                      dict[str, dict[str, str]]]],
                 delimiter: str = ",") -> str:
    lines = ["[[sources]]", f"name = {_toml_value(src.name)}",
             f"agency = {_toml_value(src.agency)}", f"primary = {_toml_value(src.primary)}"]
    for kind, (fname, fmt, columns, codes) in files.items():
        lines += ["", f"  [sources.{kind}]", f"  path = {_toml_value(f'{src.name}/{fname}')}"]
        if fname.endswith(".csv") and delimiter != ",":
            lines.append(f"  delimiter = {_toml_value(delimiter)}")
        lines.append(f"  date_format = {_toml_value(fmt)}")
        lines.append(f"    [sources.{kind}.columns]")
        lines += [f"    {k} = {_toml_value(v)}" for k, v in columns.items()]
        for fld, mapping in codes.items():
            lines.append(f"    [sources.{kind}.codes.{fld}]")
            lines += [f"    {_toml_key(c)} = {_toml_value(v)}" for c, v in mapping.items()]
    return "\n".join(lines) + "\n"
