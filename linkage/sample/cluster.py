"""The synthetic world behind the sample data: people, families, homes and life events.

A *cluster* is one family, or two families that share a man (he fathered children in both).
Everything the ground truth needs about a cluster lives in its :class:`Cluster`, so the
generator can build one cluster, write its rows to every agency's extract, work out its
expected flags and then forget it — memory stays flat however many families are asked for.

All randomness comes from the one ``random.Random`` handed in; nothing iterates a set.
"""

from __future__ import annotations

from famlink.linkage.sample.dates import DAY
from famlink.linkage.sample.family import build_family
from famlink.linkage.sample.homes import family_homes, resolve_stays
from famlink.linkage.sample.life_events import family_events, unrelated_person
from famlink.linkage.sample.world import Cluster, Event, Person, Rel, World


def build_cluster(world: World, index: int, *, allow_two: bool = True) -> Cluster:
    """One family, or (about one in nine) two families sharing a man."""
    rng = world.rng
    persons: list[Person] = []
    rels: list[Rel] = []
    events: list[Event] = []
    pairs: list[tuple[str, Person, Person]] = []
    if rng.random() < 0.11 and allow_two:
        left = world.date_between(world.ref - 2900 * DAY, world.ref - 700 * DAY)
        fam_a = build_family(world, persons, rels, pairs, shared=("A", None, left))
        man = fam_a.fathers[0]
        fam_b = build_family(world, persons, rels, pairs, shared=("B", man, left))
        families = [fam_a, fam_b]
    else:
        families = [build_family(world, persons, rels, pairs, shared=None)]
    for fam in families:
        family_homes(world, fam)
    for person in persons:
        resolve_stays(world, person, families)
    for fam in families:
        family_events(world, fam, events)
    # unrelated adults: other people in the same extracts (some share a family member's name)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        persons.append(unrelated_person(world, persons, events))
    return Cluster(index, families, persons, rels, events, pairs)
