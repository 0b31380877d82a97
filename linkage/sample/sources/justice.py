"""Criminal justice extracts: police nominals, associations and incidents; probation (Parquet)."""

from __future__ import annotations

from datetime import datetime

from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.dates import age_on
from famlink.linkage.sample.files import CsvOut, ParquetOut
from famlink.linkage.sample.recording import (
    Profile,
    fmt_date,
    fmt_datetime,
    street_line,
    write_person,
)
from famlink.linkage.sample.sources.source import Source, sex_code, source_toml
from famlink.linkage.sample.world import Cluster, Person

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
            "people": CsvOut(self.path("police_nominals.csv"), self.people_header(
                             ["NominalRef", "Surname", "Forename", "DOB", "Sex", "NHSNo",
                              "HomeAddress", "Postcode", "PNCId"])),
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
        a = self.address_of(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"N{self.seq:07d}"
        self.rid[p.pid] = rid
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        pnc = (f"{p.dob.year % 100 + 0:02d}/{rng.randrange(10**6):06d}"
               f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}" if age_on(p.dob, self.ctx.ref) >= 18
               and rng.random() < 0.5 else "")
        if self.ctx.messy is not None:  # the person's one PNC id, as probation holds it too
            pnc = self.ctx.messy.identifier(self.name, "pnc_id", p)
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
        return source_toml(self, {
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


# -- probation (Parquet) ------------------------------------------------------------------------


class Probation(Source):
    name, agency, primary = "probation", "Probation", False
    FMT = "%Y-%m-%d"
    PROFILE = Profile(FMT, maiden=0.3, nhs_present=0.05, typo=0.03, nickname=0.1)

    def __init__(self, ctx: Ctx) -> None:
        super().__init__(ctx)
        self.files = {
            "people": ParquetOut(self.path("probation_cases.parquet"), self.people_header(
                                 ["CRN", "FirstName", "Surname", "DateOfBirth", "Gender",
                                  "NHSNumber", "Address", "Postcode"])),
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
                a = self.address_of(p)
                w = write_person(self.ctx, self.name, p, self.PROFILE, a, allow_bad=False)
                self.seq += 1
                rid = f"{'XABCDEFGH'[self.seq // 1_000_000 % 9]}{self.seq % 1_000_000:06d}"
                self.rid[p.pid] = rid
                address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
                self.people_row(self.files["people"], rid, p,
                                [rid, w.first, w.surname, w.dob, sex_code(p, ("M", "F")), w.nhs,
                                 address, w.postcode], w)
                self.addr(p, "", w.postcode, address)
            self.ev_seq += 1
            self.files["events"].write([self.rid[p.pid], f"E{self.ev_seq:07d}",
                                        fmt_date(ev.when.date(), self.FMT),
                                        "OFF" if ev.etype == "offence" else "SUB", ev.detail])
            self.ctx.event(self.name, p, ev.etype, ev.role, ev.when.date())

    def job(self) -> str:
        return source_toml(self, {
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
