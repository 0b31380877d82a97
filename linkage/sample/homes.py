"""Where people live over time: a family's homes, and each person's dated residences."""

from __future__ import annotations

from datetime import date

from famlink.linkage.sample.dates import DAY, years_before
from famlink.linkage.sample.world import Family, Person, Residence, World


def family_homes(world: World, fam: Family) -> None:
    """The family home over time: a few moves, the last within the past few years."""
    rng, ref = world.rng, world.ref
    n_moves = rng.choices((0, 1, 2), weights=(48, 36, 16))[0]
    dates = sorted(world.date_between(ref - 1600 * DAY, ref - 10 * DAY) for _ in range(n_moves))
    homes: list[Residence] = []
    oldest = min(k.dob for k in fam.children)
    start = max(years_before(fam.mother.dob, -16), oldest - rng.randrange(30, 1500) * DAY)
    if dates and dates[0] <= start:
        start = dates[0] - 400 * DAY
    for d in [*dates, None]:
        homes.append(Residence(world.new_address(), start, d))
        if d is not None:
            start = d
    fam.addresses = homes


def resolve_stays(world: World, person: Person, families: list[Family]) -> None:
    """Turn a person's plans (with the family / on their own) into dated residences."""
    by_fid = {f.fid: f for f in families}
    earliest = person.dob
    res: list[Residence] = []
    stays = sorted(person.stays, key=lambda s: (s[-2] or date.min) if s[0] == "family"
                   else (s[1] or date.min))
    for stay in stays:
        if stay[0] == "own":
            start, end = stay[1] or earliest, stay[2]
            if end is not None and end <= start:
                continue
            res.append(Residence(world.new_address(), start, end))
        else:
            _, fid, start, end = stay
            start = start or earliest
            for home in by_fid[fid].addresses:
                s = max(start, home.start)
                e = min(x for x in (end, home.end) if x is not None) if (
                    end is not None or home.end is not None) else None
                if e is not None and e <= s:
                    continue
                res.append(Residence(home.address, s, e))
    res.sort(key=lambda r: r.start)
    # make the timeline contiguous: trim overlaps, close gaps
    clean: list[Residence] = []
    for r in res:
        if clean:
            prev = clean[-1]
            if prev.end is None or prev.end > r.start:
                prev.end = r.start
            if prev.end <= prev.start:
                clean.pop()
        clean.append(r)
    if not clean:
        clean = [Residence(world.new_address(), earliest, None)]
    if clean[0].start > earliest:  # where they lived before (their parents' home)
        clean.insert(0, Residence(world.new_address(), earliest, clean[0].start))
    if clean[-1].end is not None:
        clean.append(Residence(world.new_address(), clean[-1].end, None))
    person.residences = clean
    person.stays = []
