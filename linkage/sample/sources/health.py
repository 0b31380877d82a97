"""Health extracts: health visiting and midwifery (primary), GP registrations, adult mental health.
"""

from __future__ import annotations

from datetime import date

from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.dates import age_on
from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.recording import Profile, fmt_date, street_line, write_person
from famlink.linkage.sample.sources.source import Source, sex_code, source_toml
from famlink.linkage.sample.world import Address, Cluster, Person

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
            "people": CsvOut(self.path("hv_clients.csv"), self.people_header(
                             ["ClientID", "NHS_No", "GivenName", "FamilyName", "BirthDate",
                              "Sex", "AddrLine", "PostCode", "ClientType"])),
            "relationships": CsvOut(self.path("hv_links.csv"),
                                    ["ClientID", "LinkedClientID", "LinkType", "LinkStart"]),
            "events": CsvOut(self.path("hv_contacts.csv"),
                             ["ContactID", "ClientID", "ContactDate", "ContactType", "Outcome"]),
        }
        self.ev_seq = 0
        self.some_id = ""

    def person(self, p: Person, client_type: str) -> None:
        rng = self.rng
        a = self.address_of(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"HV{self.seq:07d}"
        self.rid[p.pid] = rid
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, w.nhs, w.first, w.surname, w.dob, sex_code(p, ("1", "2")), address,
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
        return source_toml(
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
            self.path("gp_registrations.csv"), self.people_header(
            ["PATIENT_ID", "NHS_NUMBER", "SURNAME", "FORENAME", "MIDDLE_NAMES", "DOB", "GENDER",
             "ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "POSTCODE", "UPRN", "REG_START", "REG_END",
             "PRACTICE_CODE"]), delimiter="|")}

    def emit(self, cluster: Cluster) -> None:
        rng, ref = self.rng, self.ctx.ref
        since = ref.replace(year=ref.year - 4)
        for p in cluster.persons:
            if rng.random() > 0.93:
                continue
            practice = rng.choice(self.PRACTICES)
            history = [(r.address, r.start, r.end) for r in p.residences
                       if r.end is None or r.end > since]
            if self.ctx.messy is not None:  # a registration never closed on moving away
                history = self.ctx.messy.never_closed(p, history)
            for i, (address, start, end) in enumerate(history):
                self.row(p, address, start, end, practice)
                if i == len(history) - 1 and rng.random() < 0.015:  # duplicate registration
                    self.row(p, address, start, end, rng.choice(self.PRACTICES))

    def row(self, p: Person, a: Address, start: date, end: date | None, practice: str) -> None:
        rng = self.rng
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = f"G{self.seq:08d}"
        line1 = street_line(rng, a, self.PROFILE).upper()
        uprn = a.uprn if rng.random() < 0.9 else ""
        self.people_row(self.files["people"], rid, p,
                        [rid, w.nhs, w.surname, w.first, w.middle, w.dob,
                         sex_code(p, ("M", "F")), line1, a.locality.upper(), a.town.upper(),
                         w.postcode, uprn, fmt_date(start, self.FMT), fmt_date(end, self.FMT),
                         practice], w)
        self.addr(p, uprn, w.postcode, f"{line1} {a.locality} {a.town}", start, end)

    def job(self) -> str:
        return source_toml(self, {
            "people": ("gp_registrations.csv", self.FMT, {
                "record_id": "PATIENT_ID", "first_name": "FORENAME", "middle_names": "MIDDLE_NAMES",
                "surname": "SURNAME", "dob": "DOB", "sex": "GENDER", "nhs_number": "NHS_NUMBER",
                "address": ["ADDRESS_1", "ADDRESS_2", "ADDRESS_3"], "postcode": "POSTCODE",
                "uprn": "UPRN", "address_from": "REG_START", "address_to": "REG_END"},
                {"sex": {"M": "male", "F": "female", "I": "unknown", "U": "unknown"}}),
        }, delimiter="|")


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
            "people": CsvOut(self.path("amh_patients.csv"), self.people_header(
                             ["PatientID", "NHSNumber", "FirstName", "LastName", "DOB",
                              "Gender", "Address1", "Postcode"])),
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
                    a = self.address_of(p)
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
        return source_toml(self, {
            "people": ("amh_patients.csv", self.FMT, {
                "record_id": "PatientID", "first_name": "FirstName", "surname": "LastName",
                "dob": "DOB", "sex": "Gender", "nhs_number": "NHSNumber", "address": "Address1",
                "postcode": "Postcode"}, {"sex": {"Male": "male", "Female": "female"}}),
            "events": ("amh_episodes.csv", self.FMT, {
                "record_id": "PatientID", "event_id": "EpisodeNo", "event_date": "EpisodeDate",
                "event_type": "EpisodeType", "summary": "Notes"},
                {"event_type": self.EVENT_CODES}),
        })
