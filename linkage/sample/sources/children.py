"""Children's services' extracts: children's social care (the primary source) and education."""

from __future__ import annotations

from datetime import date

from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.dates import age_on
from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.recording import Profile, Written, fmt_date, street_line, write_person
from famlink.linkage.sample.sources.source import Source, current_address, sex_code, source_toml
from famlink.linkage.sample.world import Cluster, Event, Person

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
            "people": CsvOut(self.path("csc_people.csv"), self.people_header(
                             ["PersonID", "Forename", "Surname", "DateOfBirth", "Gender",
                              "NHSNumber", "Address", "PostCode", "UPRN", "Ethnicity"])),
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
        a = self.address_of(p)
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        rid = self.new_id()
        self.rid[p.pid] = rid
        uprn = a.uprn if rng.random() < 0.8 else ""
        address = f"{street_line(rng, a, self.PROFILE)}, {a.locality}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, w.first, w.surname, w.dob, sex_code(p, ("M", "F")) if rng.random()
                         > 0.01 else "U", w.nhs, address, w.postcode, uprn,
                         rng.choice(self.ETHNICITY)], w)
        self.addr(p, uprn, w.postcode, address)
        self.last_ids.append(rid)
        if rng.random() < 0.02:  # the same person opened twice
            w2 = write_person(self.ctx, self.name, p, self.PROFILE, a, allow_bad=False)
            rid2 = self.new_id()
            self.people_row(self.files["people"], rid2, p,
                            [rid2, w2.first, w2.surname, w2.dob, sex_code(p, ("M", "F")), "",
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
        return source_toml(
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
            "people": CsvOut(self.path("education_pupils_contacts.csv"), self.people_header(
                             ["RowID", "RowType", "UPN", "PupilRowID", "ContactRelationship",
                              "ContactPriority", "LegalForename", "LegalSurname", "DOB",
                              "Gender", "Address", "Postcode", "School"]), bom=True, crlf=True),
            "events": CsvOut(self.path("education_send.csv"),
                             ["PupilRowID", "NeedType", "StartDate", "Notes"]),
        }

    def row(self, p: Person, row_type: str, pupil_rid: str, rel: str, priority: str,
            school: str, pupil: Person | None = None) -> str:
        rng, messy = self.rng, self.ctx.messy
        a = current_address(p)
        if messy is not None and pupil is not None:
            a = messy.contact_address(p, a, current_address(pupil))
        w = write_person(self.ctx, self.name, p, self.PROFILE, a)
        self.seq += 1
        rid = str(500_000 + self.seq)
        upn = f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randrange(10**12):012d}" if (
            row_type == "Pupil") else ""
        dob = w.dob if row_type == "Pupil" or rng.random() < 0.15 else ""
        if messy is not None:  # the school's own UPN for the pupil; no contact's date of birth
            upn = messy.identifier(self.name, "upn", p) if row_type == "Pupil" else ""
            dob = w.dob if row_type == "Pupil" else ""
            if not dob:
                messy.untag("year_of_birth_digit")
        address = f"{street_line(rng, a, self.PROFILE)}, {a.town}"
        self.people_row(self.files["people"], rid, p,
                        [rid, row_type, upn, pupil_rid, rel, priority, w.first, w.surname,
                         dob, sex_code(p, ("M", "F")), address, w.postcode, school],
                        w if dob else Written(w.first, w.middle, w.surname, "", "",
                                              w.postcode, [n for n in w.nulled
                                                           if n[0] != "dob"],
                                              w.preferred, w.former_surname))
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
                    self.row(c, "Contact", rid, rel, str(i + 1), school, pupil=k)
                    self.ctx.rel(self.name, False, k, c, self.REL_CODES[rel])
        for ev in cluster.events:
            if ev.source == "education" and ev.person.pid in pupils:
                self.files["events"].write([pupils[ev.person.pid],
                                            "EHCP" if ev.detail == "EHCP" else "SENK",
                                            fmt_date(ev.when.date(), self.FMT), ev.detail])
                self.ctx.event(self.name, ev.person, ev.etype, ev.role, ev.when.date())

    def job(self) -> str:
        return source_toml(self, {
            "people": ("education_pupils_contacts.csv", self.FMT, {
                "record_id": "RowID", "first_name": "LegalForename", "surname": "LegalSurname",
                "dob": "DOB", "sex": "Gender", "address": "Address", "postcode": "Postcode",
                "relationship_to": "PupilRowID", "relationship": "ContactRelationship"},
                {"sex": {"M": "male", "F": "female"}, "relationship": self.REL_CODES}),
            "events": ("education_send.csv", self.FMT, {
                "record_id": "PupilRowID", "event_date": "StartDate", "event_type": "NeedType",
                "summary": "Notes"}, {"event_type": {"EHCP": "send", "SENK": "send"}}),
        })
