"""The housing extract: tenancies, with their lead tenants and occupants."""

from __future__ import annotations

from datetime import date

from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.dates import age_on
from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.recording import Profile, fmt_date, write_person
from famlink.linkage.sample.sources.source import Source, sex_code, source_toml
from famlink.linkage.sample.world import Address, Cluster, Family, Person

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
            self.path("housing_tenancies.csv"), self.people_header(
            ["TenancyRef", "PersonNo", "LeadTenant", "Forenames", "Surname", "DateOfBirth",
             "Gender", "AddressLine1", "AddressLine2", "Town", "PostCode", "UPRN",
             "TenancyStart", "TenancyEnd", "OccupantFrom", "OccupantTo", "RelationshipToLead",
             "LeadPersonNo"]))}
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
            if self.ctx.messy is not None and p is not lead:  # moved out, never recorded
                o_to = self.ctx.messy.occupant_to(o_to, end)
            code = "" if p is lead else self.code(fam, lead, p)
            self.people_row(self.files["people"], rid, p,
                            [tref, rid, "Y" if p is lead else "N", forenames, w.surname, w.dob,
                             sex_code(p, ("M", "F")), l1, l2, a.town, w.postcode, a.uprn,
                             fmt_date(t_start, self.FMT), fmt_date(end, self.FMT),
                             fmt_date(o_from, self.FMT), fmt_date(o_to, self.FMT), code,
                             "" if p is lead else lead_no], w)
            self.addr(p, a.uprn, w.postcode, f"{l1} {l2} {a.town}", o_from, o_to)
            if p is not lead:
                self.ctx.rel(self.name, False, lead, p, self.REL_CODES[code])

    def job(self) -> str:
        return source_toml(self, {
            "people": ("housing_tenancies.csv", self.FMT, {
                "record_id": "PersonNo", "first_name": "Forenames", "surname": "Surname",
                "dob": "DateOfBirth", "sex": "Gender",
                "address": ["AddressLine1", "AddressLine2", "Town"], "postcode": "PostCode",
                "uprn": "UPRN", "address_from": "OccupantFrom", "address_to": "OccupantTo",
                "relationship_to": "LeadPersonNo", "relationship": "RelationshipToLead"},
                {"sex": {"M": "male", "F": "female"}, "relationship": self.REL_CODES}),
        })
