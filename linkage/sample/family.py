"""One family: children's births (twins, half siblings), the mother, the birth fathers who live in,
leave or never live with her, a new partner (some of them women), grandparents, an uncle or a
lodger, and the true relationships between them all.

Where each person lives is only planned here (``Person.stays``); :mod:`homes` makes it dated.
Every draw comes from ``world.rng`` in a fixed order: reordering these steps changes the sample.
"""

from __future__ import annotations

import itertools
from datetime import date

from famlink.linkage.sample.dates import DAY, age_on, years_before
from famlink.linkage.sample.world import Family, Person, Rel, World

#: None for a family of its own, or ``("A", None, left)`` / ``("B", man, left)`` for the two
#: families of a man who left family A on ``left`` and fathered family B's children
Shared = tuple[str, Person | None, date] | None


def build_family(world: World, persons: list[Person], rels: list[Rel],
                 pairs: list[tuple[str, Person, Person]], shared: Shared) -> Family:
    """A new family; its people, true relationships and special pairs are appended to the lists."""
    rng = world.rng
    fid = world.new_family_id()
    births = _birth_dates(world, shared)
    twin_at = rng.randrange(len(births)) if rng.random() < 0.08 else None

    mother_age_first = rng.randrange(17, 35)
    mother_dob = years_before(births[0], mother_age_first) - rng.randrange(365) * DAY
    mother = world.person(sex="female", dob=mother_dob, role="mother", fid=fid)
    persons.append(mother)
    fam = Family(fid, mother, [], {}, [], [], [], [])

    married_to = _fathers_and_children(world, fam, births, twin_at, mother_age_first, shared,
                                       persons, rels, pairs)
    married_to = _new_partner(world, fam, married_to, persons, rels)
    if married_to is not None:
        mother.surname = married_to.surname
    _wider_household(world, fam, persons, rels)
    _sibling_truth(fam, rels)
    mother.stays.append(("family", fid, None, None))
    return fam


def _birth_dates(world: World, shared: Shared) -> list[date]:
    """The children's dates of birth, oldest first (twins share one)."""
    rng, ref = world.rng, world.ref
    n = rng.choices((1, 2, 3, 4, 5), weights=(34, 31, 20, 10, 5))[0]
    if shared and shared[0] == "A":
        youngest = shared[2] - rng.randrange(40, 1800) * DAY
    elif shared and shared[0] == "B":
        youngest = world.date_between(shared[2] + 300 * DAY, ref - 2 * DAY)
        if rng.random() < 0.5:
            youngest = world.date_between(max(youngest, ref - 364 * DAY), ref - 2 * DAY)
    elif rng.random() < 0.42:
        youngest = ref - rng.randrange(3, 365) * DAY
    else:
        youngest = ref - rng.randrange(366, 13 * 365) * DAY
    births = [youngest]
    for _ in range(n - 1):
        nxt = births[-1] - rng.randrange(420, 1900) * DAY
        if age_on(nxt, ref) >= 18:
            break
        if shared and shared[0] == "B" and nxt < shared[2] + 280 * DAY:
            break
        births.append(nxt)
    births.reverse()  # oldest first
    return births


def _fathers_and_children(world: World, fam: Family, births: list[date], twin_at: int | None,
                          mother_age_first: int, shared: Shared, persons: list[Person],
                          rels: list[Rel], pairs: list[tuple[str, Person, Person]]) -> Person | None:
    """One birth father, or two (half siblings), each with his children; the man the mother
    married, if one of them."""
    rng = world.rng
    segments: list[list[date]]
    if shared:  # the shared man fathers all of family A's and all of family B's children
        segments = [births]
    elif len(births) >= 2 and rng.random() < 0.38:
        k = rng.randrange(1, len(births))
        segments = [births[:k], births[k:]]
    else:
        segments = [births]

    married_to: Person | None = None
    prev_end: date | None = None
    for si, seg in enumerate(segments):
        if shared and shared[0] == "B":
            father = shared[1]
            assert father is not None
            father.families.append(fam.fid)
            father.role = "father"
        else:
            f_age = max(17, mother_age_first + rng.randrange(-3, 9)) + round(
                (seg[0] - births[0]).days / 365.25)
            f_dob = years_before(seg[0], f_age) - rng.randrange(365) * DAY
            father = world.person(sex="male", dob=f_dob, role="father", fid=fam.fid)
            persons.append(father)
        fam.fathers.append(father)
        next_seg = segments[si + 1] if si + 1 < len(segments) else None
        p_start, p_end, lives = _partnership(world, seg, next_seg, prev_end, shared)
        prev_end = p_end or seg[-1]
        fam.partners.append((father, p_start, p_end, lives))
        _plan_father_stays(world, fam.fid, father, p_start, p_end, lives, shared)
        if lives and rng.random() < 0.35 and married_to is None:
            married_to = father
        _children_of(world, fam, father, seg, births, twin_at, persons, rels, pairs)
        rels.append(Rel(fam.mother, father, "partner" if p_end is None else "ex_partner",
                        p_start, p_end))
    return married_to


def _partnership(world: World, seg: list[date], next_seg: list[date] | None,
                 prev_end: date | None, shared: Shared) -> tuple[date, date | None, bool]:
    """When a father was the mother's partner (end None: still is), and whether he lived
    with the family."""
    rng, ref = world.rng, world.ref
    p_start = seg[0] - rng.randrange(300, 1400) * DAY
    if prev_end is not None:
        p_start = max(p_start, prev_end + 30 * DAY)
        p_start = min(p_start, seg[0] - 100 * DAY)
    p_end: date | None
    if shared and shared[0] == "A":
        status, p_end = "left", shared[2]
    elif next_seg is not None:
        status = "left"
        nxt_start = next_seg[0] - 290 * DAY
        p_end = world.date_between(seg[-1] + 20 * DAY, max(seg[-1] + 20 * DAY, nxt_start))
    else:
        status = rng.choices(("resident", "left", "never"), weights=(50, 36, 14))[0]
        if shared and shared[0] == "B" and rng.random() < 0.6:
            status = "resident"
        if status == "left":
            p_end = world.date_between(seg[-1] - 150 * DAY, ref - 15 * DAY)
            p_end = max(p_end, p_start + 200 * DAY)
            if p_end >= ref:
                status, p_end = "resident", None
        elif status == "never":
            p_end = world.date_between(seg[-1], seg[-1] + 400 * DAY)
            if p_end >= ref:
                p_end = None
        else:
            p_end = None
    if shared and shared[0] == "B":
        p_start = max(p_start, shared[2] - 200 * DAY)
    return p_start, p_end, status in ("resident", "left")


def _plan_father_stays(world: World, fid: str, father: Person, p_start: date,
                       p_end: date | None, lives: bool, shared: Shared) -> None:
    """On his own, then (if he lived with them) with the family, then on his own again."""
    if lives:
        move_in = p_start + world.rng.randrange(0, 120) * DAY
        if shared and shared[0] == "B":
            move_in = max(move_in, shared[2] + 10 * DAY)
        if p_end is not None and move_in >= p_end:
            move_in = p_start
        if not father.stays:
            father.stays.append(("own", None, move_in))
        father.stays.append(("family", fid, move_in, p_end))
        if p_end is not None:
            father.stays.append(("own", p_end, None))
    elif not father.stays:
        father.stays.append(("own", None, None))


def _children_of(world: World, fam: Family, father: Person, seg: list[date], births: list[date],
                 twin_at: int | None, persons: list[Person], rels: list[Rel],
                 pairs: list[tuple[str, Person, Person]]) -> None:
    """The children born on ``seg``'s dates to the mother and ``father``: surnames, a son named
    after his father, twins with names that cannot be mistaken for each other."""
    rng, mother = world.rng, fam.mother
    same_name_done = False
    for b in seg:
        n_here = 2 if twin_at is not None and births.index(b) == twin_at else 1
        twins: list[Person] = []
        for _ in range(n_here):
            sex = rng.choice(("male", "female"))
            kid_surname = father.surname if rng.random() < 0.7 else mother.surname
            if kid_surname != father.surname and rng.random() < 0.15:
                kid_surname = f"{mother.surname}-{father.surname}"
            if twins:
                kid_surname = twins[0].surname
            first = None
            if (sex == "male" and not same_name_done and not twins
                    and rng.random() < 0.14):
                first, same_name_done = father.first, True
            elif twins:
                first = world.first_name(sex, avoid=(twins[0].first,))
            child = world.person(sex=sex, dob=b, role="child", fid=fam.fid,
                                 surname=kid_surname, first=first)
            if first == father.first:
                child.middle = father.middle if rng.random() < 0.5 else child.middle
                child.surname = child.birth_surname = father.surname
                pairs.append(("father_son_same_name", father, child))
            twins.append(child)
            fam.children.append(child)
            persons.append(child)
            fam.father_of[child.pid] = father
            child.stays.append(("family", fam.fid, b, None))
            rels.append(Rel(child, mother, "mother", b))
            rels.append(Rel(child, father, "father", b))
        if len(twins) == 2:
            pairs.append(("twins", twins[0], twins[1]))


def _new_partner(world: World, fam: Family, married_to: Person | None, persons: list[Person],
                 rels: list[Rel]) -> Person | None:
    """Some mothers whose last partner left have a new one (some of them women), who may live
    with the family and be the children's step-parent; the man the mother married, if any."""
    rng, ref, mother = world.rng, world.ref, fam.mother
    _, _, last_end, _ = fam.partners[-1]
    if last_end is not None and rng.random() < 0.7 and last_end < ref - 40 * DAY:
        p_start = world.date_between(last_end + 30 * DAY, ref - 20 * DAY)
        sex = "female" if rng.random() < 0.3 else "male"
        age = max(18, age_on(mother.dob, ref) + rng.randrange(-6, 10))
        partner = world.person(sex=sex, dob=years_before(ref, age) - rng.randrange(365) * DAY,
                               role="partner", fid=fam.fid)
        persons.append(partner)
        p_end = None
        if rng.random() < 0.12:
            p_end = world.date_between(max(p_start + 60 * DAY, world.window_start),
                                       ref - 5 * DAY)
        lives = rng.random() < (0.85 if sex == "female" else 0.72)
        fam.partners.append((partner, p_start, p_end, lives))
        rels.append(Rel(mother, partner, "partner" if p_end is None else "ex_partner",
                        p_start, p_end))
        if lives:
            move_in = world.date_between(p_start, min(ref - 3 * DAY, p_start + 300 * DAY))
            if p_end is not None and move_in >= p_end:
                move_in = p_start
            partner.stays += [("own", None, move_in), ("family", fam.fid, move_in, p_end)]
            if p_end is not None:
                partner.stays.append(("own", p_end, None))
            for child in fam.children:
                if child.dob < (p_end or ref):
                    rels.append(Rel(child, partner, "step_parent", max(move_in, child.dob),
                                    p_end))
            if sex == "male" and married_to is None and rng.random() < 0.25:
                married_to = partner
        else:
            partner.stays.append(("own", None, None))
    return married_to


def _wider_household(world: World, fam: Family, persons: list[Person], rels: list[Rel]) -> None:
    """Grandparents (some living with the family), an uncle or a lodger, in some households."""
    rng, ref, mother = world.rng, world.ref, fam.mother
    roll = rng.random()
    if roll < 0.2:
        gm_dob = years_before(mother.dob, rng.randrange(18, 36)) - rng.randrange(365) * DAY
        gm = world.person(sex="female", dob=gm_dob, role="grandmother", fid=fam.fid,
                          surname=mother.birth_surname)
        persons.append(gm)
        fam.others.append(gm)
        co_resident = rng.random() < 0.4
        since = world.date_between(world.ref - 2000 * DAY, ref - 30 * DAY)
        gm.stays += ([("own", None, since), ("family", fam.fid, since, None)]
                     if co_resident else [("own", None, None)])
        for child in fam.children:
            rels.append(Rel(child, gm, "other", detail="grandmother"))
        rels.append(Rel(mother, gm, "mother"))
        if co_resident and rng.random() < 0.45:
            gf = world.person(sex="male", dob=gm_dob - rng.randrange(0, 2500) * DAY,
                              role="grandfather", fid=fam.fid, surname=mother.birth_surname)
            persons.append(gf)
            fam.others.append(gf)
            gf.stays += [("own", None, since), ("family", fam.fid, since, None)]
            rels.append(Rel(mother, gf, "father"))
            rels.append(Rel(gm, gf, "partner"))
            for child in fam.children:
                rels.append(Rel(child, gf, "other", detail="grandfather"))
    elif roll < 0.26:
        uncle = rng.random() < 0.5
        age = rng.randrange(19, 45)
        man = world.person(sex="male", dob=years_before(ref, age) - rng.randrange(365) * DAY,
                           role="uncle" if uncle else "lodger", fid=fam.fid,
                           surname=mother.birth_surname if uncle else None)
        persons.append(man)
        fam.others.append(man)
        since = world.date_between(world.window_start - 500 * DAY, ref - 30 * DAY)
        until = None if rng.random() < 0.8 else world.date_between(
            max(since + 30 * DAY, world.window_start + 30 * DAY), ref - 5 * DAY)
        man.stays += [("own", None, since), ("family", fam.fid, since, until)]
        if until is not None:
            man.stays.append(("own", until, None))
        rels.append(Rel(mother, man, "sibling" if uncle else "household_member", since,
                        until))


def _sibling_truth(fam: Family, rels: list[Rel]) -> None:
    """Full or half siblings among the mother's children, both ways."""
    for x, y in itertools.combinations(fam.children, 2):
        kind = "sibling" if fam.father_of[x.pid] is fam.father_of[y.pid] else "half_sibling"
        rels.append(Rel(x, y, kind))
        rels.append(Rel(y, x, kind))
