"""From pairwise links to persons: clustering that respects cannot-link constraints.

Splink's connected components join two records whenever a chain of links joins them, so one
weak record (a man's record with no date of birth) can chain a father and his same-named son
into one person. famlink keeps Splink's clustering and then rebuilds any cluster that holds a
pair of records known to be different people, leaving out the weakest links between them.
Clusters are small, so this Python runs per offending cluster only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence

RecordKey = tuple[str, str]  # (source, record_id)

# Match weights (log2 Bayes factors) within which an unanchored record's links to two
# different people count as equally good: 3 bits is a likelihood ratio of 8.
AMBIGUITY_MARGIN = 3.0


def record_key_text(key: RecordKey) -> str:
    return f"{key[0]}:{key[1]}"


def person_id_for(members: Iterable[RecordKey]) -> str:
    """A person's id: ``P`` + 12 hex digits of SHA-256 of its smallest ``source:record_id``.

    Stable across runs while that record stays in the person.

    >>> person_id_for([("hv", "H2"), ("csc", "C9")])
    'P85aff9071b67'
    """
    smallest = min(record_key_text(k) for k in members)
    return "P" + hashlib.sha256(smallest.encode("utf-8")).hexdigest()[:12]


def split_conflicting_clusters(
    clusters: Mapping[str, Sequence[RecordKey]],
    links: Iterable[tuple[RecordKey, RecordKey, float]],
    cannot_link: Iterable[tuple[RecordKey, RecordKey]],
    *,
    unanchored: Collection[RecordKey] = (),
) -> dict[str, list[list[RecordKey]]]:
    """Re-cluster clusters that contain a cannot-link pair; return their parts.

    ``links`` are the above-threshold pairwise links with their match weight, ``clusters``
    maps a cluster id to its records. Each offending cluster is rebuilt from its links,
    strongest first, skipping any link that would put a cannot-link pair in one part — so
    the weakest links between the two people are the ones left out (constrained
    single-linkage, Kruskal-style). Only clusters holding a cannot-link pair are returned.

    ``unanchored`` records carry nothing that tells two such people apart (no date of birth,
    no NHS number). One that links above the threshold into two of the resulting parts,
    about as strongly into each (within :data:`AMBIGUITY_MARGIN`), could belong to either,
    so it is given to neither: it becomes a person of its own,
    rather than putting one man's police record on his son's history.

    >>> a, b, c = ("s", "a"), ("s", "b"), ("s", "c")
    >>> split_conflicting_clusters({"k": [a, b, c]}, [(a, c, 12.0), (b, c, 4.0)], [(a, b)])
    {'k': [[('s', 'a'), ('s', 'c')], [('s', 'b')]]}
    """
    cluster_of = {rec: cid for cid, recs in clusters.items() for rec in recs}
    apart: dict[RecordKey, set[RecordKey]] = {}
    offending: set[str] = set()
    for x, y in cannot_link:
        cid = cluster_of.get(x)
        if x != y and cid is not None and cid == cluster_of.get(y):
            offending.add(cid)
            apart.setdefault(x, set()).add(y)
            apart.setdefault(y, set()).add(x)
    if not offending:
        return {}

    links_by_cluster: dict[str, list[tuple[float, RecordKey, RecordKey]]] = {c: [] for c in offending}
    for x, y, weight in links:
        cid = cluster_of.get(x)
        if cid in offending and cluster_of.get(y) == cid:
            links_by_cluster[cid].append((float(weight), min(x, y), max(x, y)))

    result: dict[str, list[list[RecordKey]]] = {}
    for cid in sorted(offending):
        parts: dict[RecordKey, set[RecordKey]] = {rec: {rec} for rec in clusters[cid]}
        part_of: dict[RecordKey, RecordKey] = {rec: rec for rec in clusters[cid]}
        # Strongest first; ties broken by the records so the result never depends on order.
        for _, x, y in sorted(links_by_cluster[cid], key=lambda t: (-t[0], t[1], t[2])):
            px, py = part_of[x], part_of[y]
            if px == py:
                continue
            small, large = sorted((px, py), key=lambda p: (len(parts[p]), p))
            if any(apart.get(rec, set()) & parts[large] for rec in parts[small]):
                continue
            parts[large] |= parts.pop(small)
            for rec in parts[large]:
                part_of[rec] = large
        ambiguous = set()
        for rec in sorted(set(unanchored) & set(clusters[cid])):
            best: dict[RecordKey, float] = {}  # strongest link from rec into each part
            for weight, x, y in links_by_cluster[cid]:
                if rec in (x, y):
                    other_part = part_of[y if x == rec else x]
                    best[other_part] = max(weight, best.get(other_part, weight))
            own = best.get(part_of[rec], float("-inf"))
            # Only a part the record could belong to makes it ambiguous: a father's undated
            # contact row is not torn between him and the son it names as his child.
            rivals = [
                w for p, w in best.items()
                if p != part_of[rec] and not (apart.get(rec, set()) & parts[p])
            ]
            if any(w >= own - AMBIGUITY_MARGIN for w in rivals):
                ambiguous.add(rec)
        for rec in ambiguous:
            parts[part_of[rec]].discard(rec)
        groups = [members for members in parts.values() if members] + [{rec} for rec in ambiguous]
        result[cid] = sorted(sorted(members) for members in groups)
    return result
