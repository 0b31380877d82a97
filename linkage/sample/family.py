"""One family: children's births (twins, half siblings), the mother, the birth fathers who live in,
leave or never live with her, a new partner (some of them women), grandparents, an uncle or a
lodger, and the true relationships between them all.

Where each person lives is only planned here (``Person.stays``); :mod:`homes` makes it dated.
"""

from __future__ import annotations

import itertools
from datetime import date

from famlink.linkage.sample.dates import DAY, age_on, years_before
from famlink.linkage.sample.world import Family, Person, Rel, World


def build_family(world: World, persons: list[Person], rels: list[Rel],
                 pairs: list[tuple[str, Person, Person]],
                 shared: tuple[str, Person | None, date] | None) -> Family:
    """A new family; its people, true relationships and special pairs are appended to the lists.

    ``shared`` is None for a family of its own, or ``("A", None, left)`` / ``("B", man, left)``
    for the two families of a man who left family A on ``left`` and fathered family B's children.
    """
    rng, ref = world.rng, world.ref
    fid = world.new_family_id()

    # -- birth dates of the children, youngest first -------------------------------------
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
    twin_at = rng.randrange(len(births)) if rng.random() < 0.08 else None

    # -- mother ----------------------------------------------------------------------------
    mother_age_first = rng.randrange(17, 35)
    mother_dob = years_before(births[0], mother_age_first) - rng.randrange(365) * DAY
    mother = world.person(sex="female", dob=mother_dob, role="mother", fid=fid)
    persons.append(mother)

    # -- fathers: one, or two (half siblings) ---------------------------------------------
    segments: list[list[date]]
    if shared:  # the shared man fathers all of family A's and all of family B's children
        segments = [births]
    elif len(births) >= 2 and rng.random() < 0.38:
        k = rng.randrange(1, len(births))
        segments = [births[:k], births[k:]]
    else:
        segments = [births]

    children: list[Person] = []
    father_of: dict[str, Person | None] = {}
    fathers: list[Person] = []
    partners: list[tuple[Person, date, date | None, bool]] = []
    others: list[Person] = []
    married_to: Person | None = None
    prev_end: date | None = None
    for si, seg in enumerate(segments):
        latest = si == len(segments) - 1
        if shared and shared[0] == "B":
            father = shared[1]
            assert father is not None
            father.families.append(fid)
            father.role = "father"
        else:
            f_age = max(17, mother_age_first + rng.randrange(-3, 9)) + round(
                (seg[0] - births[0]).days / 365.25)
            f_dob = years_before(seg[0], f_age) - rng.randrange(365) * DAY
            father = world.person(sex="male", dob=f_dob, role="father", fid=fid)
            persons.append(father)
        fathers.append(father)
        p_start = seg[0] - rng.randrange(300, 1400) * DAY
        if prev_end is not None:
            p_start = max(p_start, prev_end + 30 * DAY)
            p_start = min(p_start, seg[0] - 100 * DAY)
        if shared and shared[0] == "A":
            status, p_end = "left", shared[2]
        elif not latest:
            status = "left"
            nxt_start = segments[si + 1][0] - 290 * DAY
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
        prev_end = p_end or seg[-1]
        lives = status in ("resident", "left")
        if shared and shared[0] == "B":
            p_start = max(p_start, shared[2] - 200 * DAY)
        partners.append((father, p_start, p_end, lives))
        if lives:
            move_in = p_start + rng.randrange(0, 120) * DAY
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
        if lives and rng.random() < 0.35 and married_to is None:
            married_to = father

        # the children of this father
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
                child = world.person(sex=sex, dob=b, role="child", fid=fid,
                                    surname=kid_surname, first=first)
                if first == father.first:
                    child.middle = father.middle if rng.random() < 0.5 else child.middle
                    kid_surname = father.surname
                    child.surname = child.birth_surname = father.surname
                    pairs.append(("father_son_same_name", father, child))
                twins.append(child)
                children.append(child)
                persons.append(child)
                father_of[child.pid] = father
                child.stays.append(("family", fid, b, None))
                rels.append(Rel(child, mother, "mother", b))
                rels.append(Rel(child, father, "father", b))
            if len(twins) == 2:
                pairs.append(("twins", twins[0], twins[1]))
        rels.append(Rel(mother, father, "partner" if p_end is None else "ex_partner",
                        p_start, p_end))

    # -- a new partner of the mother (some women) ---------------------------------------
    _, _, last_end, _ = partners[-1]
    if last_end is not None and rng.random() < 0.7 and last_end < ref - 40 * DAY:
        p_start = world.date_between(last_end + 30 * DAY, ref - 20 * DAY)
        sex = "female" if rng.random() < 0.3 else "male"
        age = max(18, age_on(mother.dob, ref) + rng.randrange(-6, 10))
        partner = world.person(sex=sex, dob=years_before(ref, age) - rng.randrange(365) * DAY,
                              role="partner", fid=fid)
        persons.append(partner)
        p_end = None
        if rng.random() < 0.12:
            p_end = world.date_between(max(p_start + 60 * DAY, world.window_start),
                                      ref - 5 * DAY)
        lives = rng.random() < (0.85 if sex == "female" else 0.72)
        partners.append((partner, p_start, p_end, lives))
        rels.append(Rel(mother, partner, "partner" if p_end is None else "ex_partner",
                        p_start, p_end))
        if lives:
            move_in = world.date_between(p_start, min(ref - 3 * DAY, p_start + 300 * DAY))
            if p_end is not None and move_in >= p_end:
                move_in = p_start
            partner.stays += [("own", None, move_in), ("family", fid, move_in, p_end)]
            if p_end is not None:
                partner.stays.append(("own", p_end, None))
            for child in children:
                if child.dob < (p_end or ref):
                    rels.append(Rel(child, partner, "step_parent", max(move_in, child.dob),
                                    p_end))
            if sex == "male" and married_to is None and rng.random() < 0.25:
                married_to = partner
        else:
            partner.stays.append(("own", None, None))
    if married_to is not None:
        mother.surname = married_to.surname

    # -- grandparents, an uncle or a lodger (some households) -----------------------------
    roll = rng.random()
    if roll < 0.2:
        gm_dob = years_before(mother.dob, rng.randrange(18, 36)) - rng.randrange(365) * DAY
        gm = world.person(sex="female", dob=gm_dob, role="grandmother", fid=fid,
                         surname=mother.birth_surname)
        persons.append(gm)
        others.append(gm)
        co_resident = rng.random() < 0.4
        since = world.date_between(world.ref - 2000 * DAY, ref - 30 * DAY)
        gm.stays += ([("own", None, since), ("family", fid, since, None)]
                     if co_resident else [("own", None, None)])
        for child in children:
            rels.append(Rel(child, gm, "other", detail="grandmother"))
        rels.append(Rel(mother, gm, "mother"))
        if co_resident and rng.random() < 0.45:
            gf = world.person(sex="male", dob=gm_dob - rng.randrange(0, 2500) * DAY,
                             role="grandfather", fid=fid, surname=mother.birth_surname)
            persons.append(gf)
            others.append(gf)
            gf.stays += [("own", None, since), ("family", fid, since, None)]
            rels.append(Rel(mother, gf, "father"))
            rels.append(Rel(gm, gf, "partner"))
            for child in children:
                rels.append(Rel(child, gf, "other", detail="grandfather"))
    elif roll < 0.26:
        uncle = rng.random() < 0.5
        age = rng.randrange(19, 45)
        man = world.person(sex="male", dob=years_before(ref, age) - rng.randrange(365) * DAY,
                          role="uncle" if uncle else "lodger", fid=fid,
                          surname=mother.birth_surname if uncle else None)
        persons.append(man)
        others.append(man)
        since = world.date_between(world.window_start - 500 * DAY, ref - 30 * DAY)
        until = None if rng.random() < 0.8 else world.date_between(
            max(since + 30 * DAY, world.window_start + 30 * DAY), ref - 5 * DAY)
        man.stays += [("own", None, since), ("family", fid, since, until)]
        if until is not None:
            man.stays.append(("own", until, None))
        rels.append(Rel(mother, man, "sibling" if uncle else "household_member", since,
                        until))

    # sibling truth (full / half) among the mother's children
    for x, y in itertools.combinations(children, 2):
        kind = "sibling" if father_of[x.pid] is father_of[y.pid] else "half_sibling"
        rels.append(Rel(x, y, kind))
        rels.append(Rel(y, x, kind))
    mother.stays.append(("family", fid, None, None))
    return Family(fid, mother, children, father_of, fathers, partners, others, [])
