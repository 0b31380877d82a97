"""Clustering respects cannot-link pairs: twins and same-named fathers and sons with
different NHS numbers are never one person, however a weak record chains them."""

from famlink.linkage.clusters import person_id_for, split_conflicting_clusters

FATHER, SON, BRIDGE, OTHER = ("police", "1"), ("hv", "2"), ("housing", "3"), ("gp", "4")


def test_a_weak_bridge_record_is_cut_away_from_one_side() -> None:
    # The undated housing record links strongly to the father and weakly to the son.
    links = [(FATHER, BRIDGE, 11.0), (BRIDGE, SON, 4.5), (SON, OTHER, 20.0)]
    parts = split_conflicting_clusters({"c1": [FATHER, SON, BRIDGE, OTHER]}, links, [(FATHER, SON)])
    assert {frozenset(part) for part in parts["c1"]} == {
        frozenset([FATHER, BRIDGE]),
        frozenset([SON, OTHER]),
    }


def test_clusters_without_conflicts_are_left_alone() -> None:
    parts = split_conflicting_clusters(
        {"c1": [FATHER, BRIDGE], "c2": [SON]}, [(FATHER, BRIDGE, 9.0)], [(FATHER, SON)]
    )
    assert parts == {}


def test_every_conflicting_pair_ends_in_different_parts() -> None:
    a, b, c, d = ("s", "a"), ("s", "b"), ("s", "c"), ("s", "d")
    links = [(a, b, 5.0), (b, c, 7.0), (c, d, 6.0), (a, d, 3.5)]
    parts = split_conflicting_clusters({"k": [a, b, c, d]}, links, [(a, c), (b, d)])
    part_of = {rec: i for i, part in enumerate(parts["k"]) for rec in part}
    assert part_of[a] != part_of[c]
    assert part_of[b] != part_of[d]


def test_twins_linked_to_each_other_everywhere_come_apart_into_two_people() -> None:
    # Each twin's own records agree strongly (+30); every cross-twin link is weaker (+10).
    emma = [("csc", "e"), ("police", "e"), ("housing", "e")]
    laura = [("csc", "l"), ("gp", "l"), ("housing", "l")]
    links = [(x, y, 30.0) for group in (emma, laura) for x in group for y in group if x < y]
    links += [(x, y, 10.0) for x in emma for y in laura]
    parts = split_conflicting_clusters(
        {"k": emma + laura}, links, [(("csc", "e"), ("csc", "l"))]
    )
    assert {frozenset(p) for p in parts["k"]} == {frozenset(emma), frozenset(laura)}


def test_person_ids_depend_only_on_the_smallest_member() -> None:
    assert person_id_for([("hv", "2"), ("csc", "9")]) == person_id_for([("csc", "9"), ("zz", "1")])
    assert person_id_for([("hv", "2")]) != person_id_for([("hv", "3")])
    assert person_id_for([("hv", "2")]).startswith("P") and len(person_id_for([("hv", "2")])) == 13


def test_an_undated_record_that_fits_father_and_son_equally_is_given_to_neither() -> None:
    father, son, undated = ("gp", "f"), ("gp", "s"), ("police", "u")
    links = [(father, undated, 10.0), (son, undated, 9.0)]
    parts = split_conflicting_clusters(
        {"k": [father, son, undated]}, links, [(father, son)], unanchored=[undated]
    )
    assert sorted(parts["k"]) == [[father], [son], [undated]]


def test_an_undated_record_clearly_closer_to_one_person_stays_with_them() -> None:
    father, son, undated = ("gp", "f"), ("gp", "s"), ("police", "u")
    links = [(father, undated, 15.0), (son, undated, 4.0)]
    parts = split_conflicting_clusters(
        {"k": [father, son, undated]}, links, [(father, son)], unanchored=[undated]
    )
    assert {frozenset(p) for p in parts["k"]} == {frozenset([father, undated]), frozenset([son])}


def test_an_undated_father_row_is_not_torn_between_him_and_the_son_it_names() -> None:
    # The education contact row says "father of the son"; it cannot be the son, so its
    # equally strong link to the son's records is no reason to leave it unattached.
    father, son, contact = ("gp", "f"), ("gp", "s"), ("education", "c")
    links = [(father, contact, 10.0), (son, contact, 10.0)]
    parts = split_conflicting_clusters(
        {"k": [father, son, contact]},
        links,
        [(father, son), (contact, son)],
        unanchored=[contact],
    )
    assert {frozenset(p) for p in parts["k"]} == {frozenset([father, contact]), frozenset([son])}
