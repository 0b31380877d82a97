"""Expected flags for one cluster, from the world (what is true) and the extracts (what shows).

A flag is *expected* when the world makes it true. It is *detectable* when the extracts hold
the evidence famlink needs to raise it: a relationship row (any source, either direction) or
address records of the two people at the same address key overlapping each other inside the
co-residence window (UPRN, or postcode + cleaned address resolved to a UPRN the way
docs/tables.md describes; a record without dates counts as current at the reference date).
A shared address does not show that a woman is the mother's *partner*, so a non-birthing
partner is detectable only through a relationship row (partner of a parent, or parent /
step-parent / carer of the child).

The rules (the child's own brothers and sisters are never "adults around" them):

- unrecorded_male_carer / unrecorded_non_birthing_partner: an adult around the child
  (father, partner of the mother or of the father during the window, co-resident with the
  child or the mother during the window), male aged 16+ (resp. a non-male partner of the
  mother), whom no primary source's relationships record as parent / step-parent / carer /
  household member of the child or of the mother's other children, nor as (ex-)partner or
  household member of the child's parent.
- father_not_recorded: no primary relationship gives the child a father, step-parent or a
  male parent / carer / household member, nor the mother a male partner.
- sibling_safeguarding_history: a full or half sibling (through either parent, across
  families) has a cp_plan or looked_after event.
- adult_risk_history: an adult (18+) around the child was a domestic-abuse suspect, or has a
  mental-health admission or detention, or an offence / substance-misuse event other than as
  victim or witness.
- non_mobile_injury: an injury when the child was under ``non_mobile_age_months`` old.
- neglect_without_gcp2: the extracts hold a neglect_concern for the child and no
  gcp2_assessment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from famlink.linkage.sample.context import Evidence
from famlink.linkage.sample.dates import age_in_months, age_on
from famlink.linkage.sample.world import Cluster, Person

INVERSE = {"mother": "child", "father": "child", "parent": "child", "step_parent": "step_child",
           "carer": "cared_for", "child": "parent", "step_child": "step_parent",
           "cared_for": "carer", "partner": "partner", "ex_partner": "ex_partner",
           "sibling": "sibling", "half_sibling": "half_sibling",
           "household_member": "household_member", "other": "other"}
DIRECT = ("mother", "father", "parent", "step_parent", "carer", "household_member")
KNOWN_TO_PARENT = ("partner", "ex_partner", "household_member")
RISK = ("mental_health_admission", "mental_health_detention", "substance_misuse", "offence")

ROLE_ORDER = ["mother", "father", "partner_of_mother", "partner_of_parent", "co_resident",
              "co_resident_with_mother"]
FLAG_COLUMNS = ["flag_type", "child_true_person_id", "adult_true_person_id", "detectable",
                "why", "family_id"]


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None,
              lo: date, hi: date) -> bool:
    start = max(a_from, b_from, lo)
    end = min(a_to or hi, b_to or hi, hi)
    return start <= end


class ClusterTruth:
    def __init__(self, cluster: Cluster, ev: Evidence, ref: date, window_start: date,
                 non_mobile_months: int = 6) -> None:
        self.c = cluster
        self.ev = ev
        self.ref = ref
        self.ws = window_start
        self.nm = non_mobile_months
        self.person = {p.pid: p for p in cluster.persons}
        self.mother: dict[str, Person] = {}
        self.father: dict[str, Person | None] = {}
        self.family_of: dict[str, str] = {}
        self.children_of: dict[str, list[Person]] = {}
        self.partners: dict[str, list[tuple[Person, date, date | None]]] = {}
        for fam in cluster.families:
            for k in fam.children:
                self.mother[k.pid] = fam.mother
                self.father[k.pid] = fam.father_of[k.pid]
                self.family_of[k.pid] = fam.fid
                self.children_of.setdefault(fam.mother.pid, []).append(k)
                f = fam.father_of[k.pid]
                if f is not None:
                    self.children_of.setdefault(f.pid, []).append(k)
            for p, s, e, _ in fam.partners:
                self.partners.setdefault(fam.mother.pid, []).append((p, s, e))
                self.partners.setdefault(p.pid, []).append((fam.mother, s, e))
        # evidence, as edges "b is a's rel" both ways (all sources / primary only)
        self.edges: set[tuple[str, str, str]] = set()
        self.prim: set[tuple[str, str, str]] = set()
        for _src, primary, a, b, rel in ev.rels:
            for edge in ((a, b, rel), (b, a, INVERSE[rel])):
                self.edges.add(edge)
                if primary:
                    self.prim.add(edge)
        self.events_in_extracts: set[tuple[str, str]] = {(pid, et) for _s, pid, et, _r, _d
                                                          in ev.events}
        self.risk_in_extracts: set[tuple[str, str, str]] = {(pid, et, role) for _s, pid, et, role, _d
                                                            in ev.events}
        self._addr = self._address_periods()

    # -- evidence helpers ------------------------------------------------------------------------

    def _address_periods(self) -> dict[str, list[tuple[str, date, date]]]:
        lookup: dict[tuple[str, str], str] = {}
        for _s, _pid, uprn, pc, ac, _f, _t in self.ev.addrs:
            if uprn and pc and ac:
                lookup.setdefault((pc, ac), uprn)
        out: dict[str, list[tuple[str, date, date]]] = {}
        for _s, pid, uprn, pc, ac, d_from, d_to in self.ev.addrs:
            key = uprn or (lookup.get((pc, ac)) if pc and ac else None)
            key = f"uprn:{key}" if key else (f"addr:{pc}|{ac}" if pc and ac else None)
            if key is None:
                continue
            eff_from = d_from or d_to or self.ref
            eff_to = d_to or self.ref
            if eff_to >= self.ws and eff_from <= self.ref:
                out.setdefault(pid, []).append((key, eff_from, eff_to))
        return out

    def ev_coresident(self, x: str, y: str) -> bool:
        for kx, fx, tx in self._addr.get(x, ()):
            for ky, fy, ty in self._addr.get(y, ()):
                if kx == ky and _overlaps(fx, tx, fy, ty, self.ws, self.ref):
                    return True
        return False

    def ev_parents(self, child: str) -> list[str]:
        return sorted(b for a, b, rel in self.edges
                      if a == child and rel in ("mother", "father", "parent"))

    def evidenced_around(self, child: str, adult: str) -> bool:
        if any((child, adult, rel) in self.edges for rel in DIRECT):
            return True
        parents = self.ev_parents(child)
        if any((p, adult, "partner") in self.edges for p in parents):
            return True
        if self.ev_coresident(child, adult):
            return True
        mothers = [p for p in parents if self.person[p].sex == "female"]
        return any(self.ev_coresident(m, adult) for m in mothers)

    def primary_known(self, child: Person, adult: str) -> bool:
        mother = self.mother[child.pid]
        targets = [child.pid, *(k.pid for k in self.children_of.get(mother.pid, ()))]
        if any((t, adult, rel) in self.prim for t in targets for rel in DIRECT):
            return True
        father = self.father[child.pid]
        parents = [mother.pid] + ([father.pid] if father is not None else [])
        return any((p, adult, rel) in self.prim for p in parents for rel in KNOWN_TO_PARENT)

    # -- the world ------------------------------------------------------------------------------

    def world_coresident(self, x: Person, y: Person) -> bool:
        for rx in x.residences:
            for ry in y.residences:
                if rx.address is ry.address and _overlaps(rx.start, rx.end, ry.start, ry.end,
                                                          self.ws, self.ref):
                    return True
        return False

    def siblings(self, child: Person) -> list[tuple[Person, str]]:
        out: dict[str, tuple[Person, str]] = {}
        mother, father = self.mother[child.pid], self.father[child.pid]
        for parent in (mother, father):
            if parent is None:
                continue
            for k in self.children_of.get(parent.pid, ()):
                if k is child or k.pid in out:
                    continue
                full = self.mother[k.pid] is mother and self.father[k.pid] is father
                out[k.pid] = (k, "sibling" if full else "half_sibling")
        return list(out.values())

    def around(self, child: Person) -> dict[str, list[str]]:
        """Adults around the child in the world: pid -> roles (sorted)."""
        roles: dict[str, list[str]] = {}
        mother, father = self.mother[child.pid], self.father[child.pid]
        sibs = {s.pid for s, _ in self.siblings(child)}

        def add(p: Person, role: str) -> None:
            if p is child or p.pid in sibs:
                return
            roles.setdefault(p.pid, [])
            if role not in roles[p.pid]:
                roles[p.pid].append(role)

        add(mother, "mother")
        if father is not None:
            add(father, "father")
        for parent, role in ((mother, "partner_of_mother"), (father, "partner_of_parent")):
            if parent is None:
                continue
            for partner, s, e in self.partners.get(parent.pid, ()):
                if partner is not mother and partner is not father and (
                        s <= self.ref and (e is None or e >= self.ws)):
                    add(partner, role)
        for p in self.c.persons:
            if p is child or p.pid in sibs:
                continue
            if self.world_coresident(child, p):
                add(p, "co_resident")
            elif p is not mother and self.world_coresident(mother, p):
                add(p, "co_resident_with_mother")
        return {k: sorted(v, key=ROLE_ORDER.index) for k, v in roles.items()}

    # -- the flags ---------------------------------------------------------------------------------

    def flags(self) -> Iterator[list[str]]:
        ref = self.ref
        for fam in self.c.families:
            for child in fam.children:
                if age_on(child.dob, ref) >= 18 or not self.ev.in_primary.get(child.pid):
                    continue
                yield from self._child_flags(child, fam.fid)

    def _child_flags(self, child: Person, fid: str) -> Iterator[list[str]]:
        ref, cid = self.ref, child.pid
        mother = self.mother[cid]
        around = self.around(child)
        world_events = [e for e in self.c.events]
        for adult_id, roles in around.items():
            adult = self.person[adult_id]
            detectable = self.evidenced_around(cid, adult_id)
            known = self.primary_known(child, adult_id)
            why = "; ".join(roles)
            if adult.sex == "male" and age_on(adult.dob, ref) >= 16 and not known:
                yield ["unrecorded_male_carer", cid, adult_id, _b(detectable),
                       f"{why}; not in csc/hv relationships", fid]
            is_partner = any(p is adult and s <= ref and (e is None or e >= self.ws)
                             for p, s, e in self.partners.get(mother.pid, ()))
            if adult.sex != "male" and is_partner and not known:
                # an address shared with a woman does not show she is the mother's partner:
                # a relationship row must (partner of the mother, or a parent of the child)
                as_partner = any((p, adult_id, "partner") in self.edges
                                 for p in self.ev_parents(cid)) or any(
                    (cid, adult_id, rel) in self.edges for rel in ("parent", "step_parent",
                                                                    "carer"))
                yield ["unrecorded_non_birthing_partner", cid, adult_id, _b(as_partner),
                       f"{why}; not in csc/hv relationships", fid]
            if age_on(adult.dob, ref) >= 18:
                risk_events = [e for e in world_events if e.person is adult and (
                    (e.etype == "domestic_abuse" and e.role == "suspect")
                    or (e.etype in RISK and e.role not in ("victim", "witness")))]
                risks = sorted({e.etype + (f" ({e.role})" if e.role != "subject" else "")
                                for e in risk_events})
                if risks:
                    shown = any((adult_id, e.etype, e.role) in self.risk_in_extracts
                                for e in risk_events)
                    yield ["adult_risk_history", cid, adult_id, _b(shown and detectable),
                           f"{why}: {', '.join(risks)}", fid]
        # father_not_recorded
        has_father = any(
            a == cid and (rel in ("father", "step_parent") or (
                rel in ("parent", "carer", "household_member")
                and self.person[b].sex == "male"))
            for a, b, rel in self.prim) or any(
            a == mother.pid and rel == "partner" and self.person[b].sex == "male"
            for a, b, rel in self.prim)
        if not has_father:
            yield ["father_not_recorded", cid, "", "true",
                   "no father, step-parent or male carer in csc/hv relationships", fid]
        # sibling_safeguarding_history
        hits = []
        detect = False
        for sib, kind in self.siblings(child):
            plans = sorted({e.etype for e in world_events if e.person is sib
                            and e.etype in ("cp_plan", "looked_after")})
            if not plans:
                continue
            hits.append(f"{kind} {sib.pid}: {', '.join(plans)}")
            in_extract = any((sib.pid, p) in self.events_in_extracts for p in plans)
            linked = ((cid, sib.pid, "sibling") in self.edges
                      or (cid, sib.pid, "half_sibling") in self.edges
                      or bool(set(self.ev_parents(cid)) & set(self.ev_parents(sib.pid))))
            detect = detect or (in_extract and linked)
        if hits:
            yield ["sibling_safeguarding_history", cid, "", _b(detect), "; ".join(hits), fid]
        # non_mobile_injury
        injuries = [e for e in world_events if e.person is child and e.etype == "injury"
                    and age_in_months(child.dob, e.when.date()) < self.nm]
        if injuries:
            shown = (cid, "injury") in self.events_in_extracts
            yield ["non_mobile_injury", cid, "", _b(shown),
                   f"injury on {injuries[0].when.date().isoformat()} at "
                   f"{(injuries[0].when.date() - child.dob).days} days old", fid]
        # neglect_without_gcp2 (as the records show it)
        if (cid, "neglect_concern") in self.events_in_extracts and (
                cid, "gcp2_assessment") not in self.events_in_extracts:
            yield ["neglect_without_gcp2", cid, "", "true",
                   "neglect_concern recorded, no gcp2_assessment", fid]


def _b(v: bool) -> str:
    return "true" if v else "false"
