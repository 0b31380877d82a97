"""Life events the agencies record: domestic abuse, offending, mental health, children's social
care, health visiting, special educational needs — and the unrelated people in the same extracts.
"""

from __future__ import annotations

from datetime import timedelta

from famlink.linkage.sample.dates import DAY, age_on, years_before
from famlink.linkage.sample.world import Event, Family, Person, Residence, World


def family_events(world: World, fam: Family, events: list[Event]) -> None:
    """The events of one family's people, appended to ``events`` (and ``fam.flags``: whether
    there is domestic abuse, whether children's social care knows the family)."""
    _domestic_abuse(world, fam, events)
    for adult in [fam.mother, *(p for p, *_ in fam.partners), *fam.others]:
        _adult_events(world, adult, events)
    _childrens_social_care(world, fam, events)
    _health_visiting(world, fam.children, events)
    _special_educational_needs(world, fam.children, events)


def _domestic_abuse(world: World, fam: Family, events: list[Event]) -> None:
    """Police incidents, the abuser a (recent) partner of the mother; children present."""
    rng, ref = world.rng, world.ref
    five_years = ref - 1826 * DAY
    men = [p for p, s, e, _ in fam.partners if (e is None or e > five_years)]
    kids = fam.children
    da = bool(men) and rng.random() < 0.24
    fam.flags["da"] = da
    if da:
        abuser = men[-1]
        p_start, p_end = next((s, e) for p, s, e, _ in fam.partners if p is abuser)
        reversed_roles = rng.random() < 0.12
        for _ in range(rng.randrange(1, 4)):
            d = world.date_between(max(p_start, five_years), min(p_end or ref, ref) - DAY)
            when = world.when(d)
            inc = world.incident_ref(when)
            sus, vic = (fam.mother, abuser) if reversed_roles else (abuser, fam.mother)
            events.append(Event(sus, "domestic_abuse", when, "police", "suspect", inc,
                                "Domestic incident, verbal and physical"))
            events.append(Event(vic, "domestic_abuse", when, "police", "victim", inc,
                                "Domestic incident, verbal and physical"))
            for kid in kids:
                if kid.dob < d and rng.random() < 0.7:
                    events.append(Event(kid, "domestic_abuse", when, "police",
                                        "child_present", inc, "Child present at incident"))


def _adult_events(world: World, adult: Person, events: list[Event]) -> None:
    """Offending, substance misuse and mental health of one adult (some are only witnesses or
    victims of something unrelated: not a risk)."""
    rng, ref = world.rng, world.ref
    if age_on(adult.dob, ref) < 18:
        return
    male = adult.sex == "male"
    if rng.random() < (0.13 if male else 0.04):
        offence_probation = rng.random() < 0.7
        for _ in range(rng.randrange(1, 3)):
            d = world.date_between(ref - 3000 * DAY, ref - 5 * DAY)
            when = world.when(d)
            kind = rng.choice(("offence", "offence", "substance_misuse"))
            events.append(Event(adult, kind, when, "police", "suspect",
                                world.incident_ref(when),
                                "Assault" if kind == "offence" else "Possession"))
        if offence_probation:
            d = world.date_between(ref - 2500 * DAY, ref - 20 * DAY)
            events.append(Event(adult, "offence", world.when(d), "probation", "subject",
                                detail="Community order supervised"))
            if rng.random() < 0.5:
                d2 = world.date_between(d, ref - 2 * DAY)
                events.append(Event(adult, "substance_misuse", world.when(d2),
                                    "probation", "subject",
                                    detail="Alcohol/drug treatment requirement"))
    if rng.random() < 0.06:  # a witness or a victim of something unrelated: not a risk
        d = world.date_between(ref - 2000 * DAY, ref - 5 * DAY)
        when = world.when(d)
        role = rng.choice(("witness", "victim"))
        events.append(Event(adult, "offence", when, "police", role,
                            world.incident_ref(when), "Theft from motor vehicle"))
    mh = rng.random()
    if mh < (0.2 if not male else 0.1):
        d = world.date_between(ref - 2500 * DAY, ref - 30 * DAY)
        events.append(Event(adult, "mental_health_referral", world.when(d), "amh",
                            "subject", detail="Referral from GP: low mood"))
        if mh < (0.06 if not male else 0.04):
            kind = "mental_health_admission" if mh < 0.04 else "mental_health_detention"
            d2 = world.date_between(d + DAY, ref - 2 * DAY)
            events.append(Event(adult, kind, world.when(d2), "amh", "subject",
                                detail="Informal admission" if kind.endswith("admission")
                                else "Detained under s.2 MHA"))


def _childrens_social_care(world: World, fam: Family, events: list[Event]) -> None:
    """Referrals, assessments and plans, more likely with domestic abuse or a mother's admission;
    some neglect concerns, some followed by a Graded Care Profile 2 assessment."""
    rng, ref = world.rng, world.ref
    kids = fam.children
    da = fam.flags["da"]
    mother_mh = any(e.person is fam.mother and e.etype in (
        "mental_health_admission", "mental_health_detention") for e in events)
    csc = rng.random() < 0.3 + (0.45 if da else 0) + (0.2 if mother_mh else 0)
    fam.flags["csc_known"] = csc
    if csc:
        oldest = kids[0].dob
        ref_date = world.date_between(max(oldest + 30 * DAY, ref - 2200 * DAY), ref - 40 * DAY)
        seen = [k for k in kids if k.dob < ref_date]
        if not seen:
            seen = [kids[0]]
            ref_date = kids[0].dob + DAY
        outcome = rng.choices(("none", "cin", "cp", "cp_lac"), weights=(30, 32, 28, 10))[0]
        for kid in seen:
            events.append(Event(kid, "referral", world.when(ref_date), "csc",
                                detail="Referral received"))
            d = ref_date + rng.randrange(5, 40) * DAY
            if d < ref:
                events.append(Event(kid, "assessment", world.when(d), "csc",
                                    detail="Child and family assessment"))
            plan = ref_date + rng.randrange(45, 120) * DAY
            if plan < ref and outcome == "cin":
                events.append(Event(kid, "cin_plan", world.when(plan), "csc",
                                    detail="Child in need plan"))
            if plan < ref and outcome in ("cp", "cp_lac"):
                events.append(Event(kid, "cp_plan", world.when(plan), "csc",
                                    detail="Child protection plan: "
                                    + rng.choice(("neglect", "emotional abuse",
                                                  "physical abuse"))))
                lac = plan + rng.randrange(60, 400) * DAY
                if outcome == "cp_lac" and lac < ref:
                    events.append(Event(kid, "looked_after", world.when(lac), "csc",
                                        detail="Accommodated, s.20"))
        if rng.random() < 0.26:
            kid = rng.choice(kids)
            d = world.date_between(max(kid.dob + 30 * DAY, ref - 1500 * DAY), ref - 10 * DAY)
            events.append(Event(kid, "neglect_concern", world.when(d), "csc",
                                detail="Home conditions poor; child unkempt"))
            if rng.random() < 0.5:
                d2 = world.date_between(d + 10 * DAY, d + 90 * DAY)
                if d2 < ref:
                    src = "hv" if age_on(kid.dob, ref) < 5 and rng.random() < 0.3 else "csc"
                    events.append(Event(kid, "gcp2_assessment", world.when(d2), src,
                                        detail="Graded Care Profile 2 completed"))


def _health_visiting(world: World, kids: list[Person], events: list[Event]) -> None:
    """Births, injuries (some to babies not yet mobile) and missed appointments of under-fives."""
    rng, ref = world.rng, world.ref
    for kid in kids:
        if age_on(kid.dob, ref) >= 5:
            continue
        events.append(Event(kid, "birth", world.when(kid.dob), "hv", detail="Birth notified"))
        days_old = (ref - kid.dob).days
        r = rng.random()
        if days_old > 25 and r < 0.24:
            hi = min(days_old - 1, 150)
            d = kid.dob + rng.randrange(20, max(21, hi)) * DAY
            events.append(Event(kid, "injury", world.when(d), "hv",
                                detail=rng.choice(("Bruise to cheek noted",
                                                   "Bruising to upper arm",
                                                   "Mark on forehead, mother says fall"))))
        elif days_old > 230 and r < 0.34:  # a toddler's bump: not a non-mobile injury
            d = kid.dob + rng.randrange(220, min(days_old, 1500)) * DAY
            events.append(Event(kid, "injury", world.when(d), "hv",
                                detail="Graze to knee, fell in park"))
        if rng.random() < 0.2:
            d = world.date_between(kid.dob + 20 * DAY, ref - DAY)
            events.append(Event(kid, "missed_appointment", world.when(d), "hv",
                                detail="Not brought to 1-year review"))


def _special_educational_needs(world: World, kids: list[Person], events: list[Event]) -> None:
    """An EHCP or SEN support for some school-age children."""
    rng, ref = world.rng, world.ref
    for kid in kids:
        if 5 <= age_on(kid.dob, ref) and rng.random() < 0.12:
            d = world.date_between(years_before(kid.dob, -5), ref - DAY)
            events.append(Event(kid, "send", world.when(d), "education",
                                detail=rng.choice(("EHCP", "SEN support"))))


def unrelated_person(world: World, persons: list[Person], events: list[Event]) -> Person:
    """Someone in the extracts with no tie to the family — sometimes a namesake."""
    rng, ref = world.rng, world.ref
    sex = rng.choice(("male", "female"))
    dob = years_before(ref, rng.randrange(18, 70)) - rng.randrange(365) * DAY
    namesake = next((p for p in persons if p.sex == sex and age_on(p.dob, ref) >= 18), None)
    if namesake is not None and rng.random() < 0.35:
        person = world.person(sex=sex, dob=dob, role="unrelated", fid="",
                              surname=namesake.surname, first=namesake.first)
    else:
        person = world.person(sex=sex, dob=dob, role="unrelated", fid="")
    start = world.date_between(ref - 4000 * DAY, ref - 100 * DAY)
    person.residences = [Residence(world.new_address(), start, None)]
    r = rng.random()
    if r < 0.35:
        when = world.when(world.date_between(ref - 2000 * DAY, ref - 3 * DAY))
        events.append(Event(person, "offence", when, "police", "suspect",
                            world.incident_ref(when), "Shoplifting"))
        if rng.random() < 0.4:
            order = min(when + timedelta(days=60), world.when(ref - DAY))
            events.append(Event(person, "offence", order, "probation",
                                detail="Suspended sentence order"))
    elif r < 0.5:
        when = world.when(world.date_between(ref - 2000 * DAY, ref - 3 * DAY))
        events.append(Event(person, "mental_health_referral", when, "amh",
                            detail="Referral from GP"))
    return person
